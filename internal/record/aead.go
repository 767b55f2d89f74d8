package record

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/tlsflow/tlsflow/alert"
)

// sequence is a 64-bit record sequence number that refuses to wrap: RFC 5246
// §6.1 says it may not exceed 2^64-1, and RFC 8446 §5.3 says an endpoint that
// would need to wrap it must rekey or close. The last usable value is 2^64-1.
type sequence struct {
	next      uint64
	exhausted bool
}

func (s *sequence) current() (uint64, error) {
	if s.exhausted {
		return 0, errorf(alert.InternalError, ErrSequenceExhausted,
			"all 2^64 sequence numbers of this key are used; rekey or close")
	}
	return s.next, nil
}

func (s *sequence) advance() {
	if s.next == math.MaxUint64 {
		s.exhausted = true
		return
	}
	s.next++
}

// nonceXORSequence writes iv XOR the sequence number left-padded to the IV
// length (RFC 8446 §5.3; RFC 7905 §2 uses the same construction in TLS 1.2).
func nonceXORSequence(nonce, iv []byte, seq uint64) {
	copy(nonce, iv)
	for i := 0; i < 8; i++ {
		nonce[len(nonce)-1-i] ^= byte(seq >> (8 * i))
	}
}

func errBadRecordMAC(version string) error {
	// Deliberately no detail: whether the record was short, the tag wrong or
	// the key mismatched, the peer and the log see the same failure.
	return errorf(alert.BadRecordMAC, ErrBadRecordMAC, "%s record failed authentication", version)
}

// aead12 is TLS 1.2 AEAD record protection (RFC 5246 §6.2.3.3).
type aead12 struct {
	aead     cipher.AEAD
	iv       []byte // 4-byte salt (explicit) or 12-byte IV
	explicit bool
	seq      sequence
	nonce    [12]byte
	aad      [13]byte
}

const explicitNonceLen = 8 // RFC 5288 §3: GenericAEADCipher.nonce_explicit

// NewAEAD12 returns TLS 1.2 AEAD protection (RFC 5246 §6.2.3.3), whose
// additional data is
//
//	additional_data = seq_num + TLSCompressed.type +
//	                  TLSCompressed.version + TLSCompressed.length;
//
// With explicitNonce (AES-GCM, RFC 5288 §3) iv is the 4-byte implicit salt,
// and each record starts with an 8-byte explicit nonce; we send the sequence
// number there, which can never repeat under one key. Without it
// (ChaCha20-Poly1305, RFC 7905 §2) iv is 12 bytes and the nonce is iv XOR the
// padded sequence number, with nothing extra in the record.
//
// The AEAD must take 12-byte nonces; a mismatched iv length is a programming
// error and panics.
func NewAEAD12(aead cipher.AEAD, iv []byte, explicitNonce bool) Cipher {
	wantIV := 12
	if explicitNonce {
		wantIV = 4
	}
	if aead.NonceSize() != 12 || len(iv) != wantIV {
		panic(fmt.Sprintf("record: NewAEAD12 with a %d-byte nonce AEAD and a %d-byte IV (explicit nonce %v)",
			aead.NonceSize(), len(iv), explicitNonce))
	}
	return &aead12{aead: aead, iv: append([]byte(nil), iv...), explicit: explicitNonce}
}

func (c *aead12) MaxFragment() int { return MaxCiphertext12 }

func (c *aead12) Sequence() uint64 { return c.seq.next }

// additionalData fills c.aad for one record.
func (c *aead12) additionalData(seq uint64, typ ContentType, version uint16, length int) []byte {
	binary.BigEndian.PutUint64(c.aad[0:8], seq)
	c.aad[8] = byte(typ)
	binary.BigEndian.PutUint16(c.aad[9:11], version)
	binary.BigEndian.PutUint16(c.aad[11:13], uint16(length))
	return c.aad[:]
}

func (c *aead12) Seal(dst []byte, typ ContentType, version uint16, payload []byte) ([]byte, error) {
	if len(payload) > MaxPlaintext {
		return dst, errPayloadTooLong(len(payload))
	}
	seq, err := c.seq.current()
	if err != nil {
		return dst, err
	}
	length := len(payload) + c.aead.Overhead()
	if c.explicit {
		length += explicitNonceLen
	}
	out := appendHeader(dst, typ, version, length)
	if c.explicit {
		copy(c.nonce[:4], c.iv)
		binary.BigEndian.PutUint64(c.nonce[4:], seq)
		out = append(out, c.nonce[4:]...)
	} else {
		nonceXORSequence(c.nonce[:], c.iv, seq)
	}
	out = c.aead.Seal(out, c.nonce[:], payload, c.additionalData(seq, typ, version, len(payload)))
	c.seq.advance()
	return out, nil
}

func (c *aead12) Open(hdr []byte, fragment []byte) (ContentType, []byte, error) {
	if err := checkHeader(hdr, fragment); err != nil {
		return 0, nil, err
	}
	if len(fragment) > MaxCiphertext12 {
		return 0, nil, errorf(alert.RecordOverflow, ErrRecordOverflow,
			"TLS 1.2 record of %d bytes exceeds 2^14+2048", len(fragment))
	}
	seq, err := c.seq.current()
	if err != nil {
		return 0, nil, err
	}
	ciphertext := fragment
	if c.explicit {
		if len(fragment) < explicitNonceLen {
			return 0, nil, errBadRecordMAC("TLS 1.2")
		}
		copy(c.nonce[:4], c.iv)
		copy(c.nonce[4:], fragment[:explicitNonceLen])
		ciphertext = fragment[explicitNonceLen:]
	} else {
		nonceXORSequence(c.nonce[:], c.iv, seq)
	}
	if len(ciphertext) < c.aead.Overhead() {
		return 0, nil, errBadRecordMAC("TLS 1.2")
	}
	plainLen := len(ciphertext) - c.aead.Overhead()
	if plainLen > MaxPlaintext {
		return 0, nil, errorf(alert.RecordOverflow, ErrRecordOverflow,
			"TLS 1.2 record would decrypt to %d bytes, more than 2^14", plainLen)
	}
	typ := ContentType(hdr[0])
	version := binary.BigEndian.Uint16(hdr[1:3])
	plain, err := c.aead.Open(ciphertext[:0], c.nonce[:], ciphertext, c.additionalData(seq, typ, version, plainLen))
	if err != nil {
		return 0, nil, errBadRecordMAC("TLS 1.2")
	}
	c.seq.advance()
	return typ, plain, nil
}

// aead13 is TLS 1.3 record protection (RFC 8446 §5.2–5.4).
type aead13 struct {
	aead  cipher.AEAD
	iv    [12]byte
	padTo int
	seq   sequence
	nonce [12]byte
}

// legacyRecordVersion13 is the legacy_record_version of every record a TLS
// 1.3 implementation protects (RFC 8446 §5.1, §5.2).
const legacyRecordVersion13 = 0x0303

// NewAEAD13 returns TLS 1.3 record protection (RFC 8446 §5.2–5.3):
//
//	struct {
//	    opaque content[TLSPlaintext.length];
//	    ContentType type;
//	    uint8 zeros[length_of_padding];
//	} TLSInnerPlaintext;
//
// sealed with additional_data = the record header and nonce = iv XOR the
// padded sequence number. The outer record is always application_data with
// legacy_record_version 0x0303, whatever Seal is given. Open strips the
// padding, refuses a record with no content type (unexpected_message, §5.4),
// one longer than 2^14+1 inside (record_overflow), and a protected
// change_cipher_spec (§5); it passes an unprotected change_cipher_spec
// record through for the handshake to judge (§5: it may arrive until the
// peer's Finished).
//
// padTo > 0 pads every inner plaintext to a multiple of padTo bytes, hiding
// the exact length (§5.4), but never beyond 2^14+1. iv must be 12 bytes, as
// must the AEAD's nonce; anything else is a programming error and panics.
func NewAEAD13(aead cipher.AEAD, iv []byte, padTo int) Cipher {
	if aead.NonceSize() != 12 || len(iv) != 12 {
		panic(fmt.Sprintf("record: NewAEAD13 with a %d-byte nonce AEAD and a %d-byte IV", aead.NonceSize(), len(iv)))
	}
	c := &aead13{aead: aead, padTo: max(padTo, 0)}
	copy(c.iv[:], iv)
	return c
}

func (c *aead13) MaxFragment() int { return MaxCiphertext13 }

func (c *aead13) Sequence() uint64 { return c.seq.next }

// innerLen is the TLSInnerPlaintext length for n content bytes: content,
// type, and padding up to a multiple of padTo, capped at 2^14+1.
func (c *aead13) innerLen(n int) int {
	inner := n + 1
	if c.padTo > 0 {
		if rem := inner % c.padTo; rem != 0 {
			inner += c.padTo - rem
		}
	}
	return min(inner, MaxPlaintext+1)
}

func (c *aead13) Seal(dst []byte, typ ContentType, _ uint16, payload []byte) ([]byte, error) {
	if len(payload) > MaxPlaintext {
		return dst, errPayloadTooLong(len(payload))
	}
	seq, err := c.seq.current()
	if err != nil {
		return dst, err
	}
	inner := c.innerLen(len(payload))
	overhead := c.aead.Overhead()

	// Lay out header and TLSInnerPlaintext in dst, then seal in place: the
	// ciphertext overwrites the inner plaintext and the tag fills the room
	// reserved after it, so nothing is allocated beyond dst's growth.
	start := len(dst)
	out := slices.Grow(dst, HeaderLen+inner+overhead)
	out = appendHeader(out, ApplicationData, legacyRecordVersion13, inner+overhead)
	hdr := out[start : start+HeaderLen]
	body := len(out)
	out = append(out, payload...)
	out = append(out, byte(typ))
	out = out[:body+inner]
	clear(out[body+len(payload)+1:]) // zeros[length_of_padding]

	nonceXORSequence(c.nonce[:], c.iv[:], seq)
	sealed := c.aead.Seal(out[body:body], c.nonce[:], out[body:], hdr)
	c.seq.advance()
	return out[:body+len(sealed)], nil
}

func (c *aead13) Open(hdr []byte, fragment []byte) (ContentType, []byte, error) {
	if err := checkHeader(hdr, fragment); err != nil {
		return 0, nil, err
	}
	switch outer := ContentType(hdr[0]); outer {
	case ApplicationData:
	case ChangeCipherSpec:
		// Never protected (§5); the handshake decides whether it may come now.
		if err := checkContent13(outer, fragment); err != nil {
			return 0, nil, err
		}
		return ChangeCipherSpec, fragment, nil
	default:
		return 0, nil, errorf(alert.UnexpectedMessage, ErrUnexpectedRecord,
			"unprotected %s record after TLS 1.3 protection started (RFC 8446 §5)", outer)
	}
	if len(fragment) > MaxCiphertext13 {
		return 0, nil, errorf(alert.RecordOverflow, ErrRecordOverflow,
			"TLS 1.3 record of %d bytes exceeds 2^14+256 (RFC 8446 §5.2)", len(fragment))
	}
	seq, err := c.seq.current()
	if err != nil {
		return 0, nil, err
	}
	if len(fragment) < c.aead.Overhead() {
		return 0, nil, errBadRecordMAC("TLS 1.3")
	}
	if inner := len(fragment) - c.aead.Overhead(); inner > MaxPlaintext+1 {
		return 0, nil, errorf(alert.RecordOverflow, ErrRecordOverflow,
			"TLS 1.3 record would decrypt to %d bytes, more than 2^14+1 (RFC 8446 §5.4)", inner)
	}
	nonceXORSequence(c.nonce[:], c.iv[:], seq)
	plain, err := c.aead.Open(fragment[:0], c.nonce[:], fragment, hdr)
	if err != nil {
		return 0, nil, errBadRecordMAC("TLS 1.3")
	}
	c.seq.advance()

	// §5.4: the content type is the last non-zero byte; zeros after it are padding.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, errorf(alert.UnexpectedMessage, ErrEmptyInnerPlaintext,
			"TLS 1.3 record of %d bytes decrypted to padding only, with no content type (RFC 8446 §5.4)", len(plain))
	}
	typ, content := ContentType(plain[i]), plain[:i]
	if typ == ChangeCipherSpec {
		return 0, nil, errorf(alert.UnexpectedMessage, ErrUnexpectedRecord,
			"protected change_cipher_spec record (RFC 8446 §5)")
	}
	if err := checkContent13(typ, content); err != nil {
		return 0, nil, err
	}
	return typ, content, nil
}
