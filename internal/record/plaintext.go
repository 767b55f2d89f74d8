package record

import "github.com/tlsflow/tlsflow/alert"

// plaintext is the null protection in force before the first key change
// (TLS_NULL_WITH_NULL_NULL, RFC 5246 §6.1; RFC 8446 §5.1 before ServerHello).
type plaintext struct {
	version13 bool
}

// Plaintext returns the Cipher of an unprotected connection; its MaxFragment
// is MaxPlaintext (2^14). version13 adds the TLS 1.3 rules on record contents
// (RFC 8446 §5, §5.1): an alert record holds exactly one alert, and a
// change_cipher_spec record is the single byte 0x01.
func Plaintext(version13 bool) Cipher { return plaintext{version13: version13} }

func (p plaintext) Seal(dst []byte, typ ContentType, version uint16, payload []byte) ([]byte, error) {
	if len(payload) > MaxPlaintext {
		return dst, errPayloadTooLong(len(payload))
	}
	dst = appendHeader(dst, typ, version, len(payload))
	return append(dst, payload...), nil
}

func (p plaintext) Open(hdr []byte, fragment []byte) (ContentType, []byte, error) {
	if err := checkHeader(hdr, fragment); err != nil {
		return 0, nil, err
	}
	if len(fragment) > MaxPlaintext {
		return 0, nil, errorf(alert.RecordOverflow, ErrRecordOverflow,
			"plaintext record of %d bytes exceeds 2^14", len(fragment))
	}
	typ := ContentType(hdr[0])
	if p.version13 {
		if err := checkContent13(typ, fragment); err != nil {
			return 0, nil, err
		}
	}
	return typ, fragment, nil
}

func (p plaintext) MaxFragment() int { return MaxPlaintext }

// Sequence is always 0: unprotected records use no sequence number, and the
// first protected record of every epoch has sequence number 0 (RFC 8446 §5.3).
func (p plaintext) Sequence() uint64 { return 0 }
