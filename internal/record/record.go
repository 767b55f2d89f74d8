// Package record is the TLS record layer: record framing, record protection
// with AEAD ciphers (RFC 5246 §6.2 with RFC 5288 and RFC 7905 for TLS 1.2,
// RFC 8446 §5 for TLS 1.3), and the reassembly of handshake messages from
// handshake records.
//
// A Cipher protects the records of one direction and owns its sequence
// number. A Reader and a Writer frame records on a stream and switch ciphers
// when the handshake tells them to; a HandshakeBuffer turns the payloads of
// handshake records back into whole messages.
//
// Every error the layer reports on received data is an *Error carrying the
// alert the caller should send.
package record

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tlsflow/tlsflow/alert"
)

// ContentType is the record type (RFC 8446 §5.1, RFC 5246 §6.2.1).
type ContentType uint8

const (
	ChangeCipherSpec ContentType = 20
	Alert            ContentType = 21
	Handshake        ContentType = 22
	ApplicationData  ContentType = 23
)

func (t ContentType) known() bool { return t >= ChangeCipherSpec && t <= ApplicationData }

// String returns the RFC's name for the type, e.g. "application_data".
func (t ContentType) String() string {
	switch t {
	case ChangeCipherSpec:
		return "change_cipher_spec"
	case Alert:
		return "alert"
	case Handshake:
		return "handshake"
	case ApplicationData:
		return "application_data"
	}
	return "content_type(" + strconv.Itoa(int(t)) + ")"
}

const (
	// HeaderLen is the length of the record header: type(1), legacy_record_version(2), length(2).
	HeaderLen = 5
	// MaxPlaintext bounds TLSPlaintext.length (RFC 8446 §5.1, RFC 5246 §6.2.1).
	MaxPlaintext = 1 << 14
	// MaxCiphertext12 bounds TLSCiphertext.length in TLS 1.2 (RFC 5246 §6.2.3).
	MaxCiphertext12 = MaxPlaintext + 2048
	// MaxCiphertext13 bounds TLSCiphertext.length in TLS 1.3 (RFC 8446 §5.2).
	MaxCiphertext13 = MaxPlaintext + 256
)

// Cipher protects or unprotects the records of one direction, owning the
// sequence number. It is not safe for concurrent use; each direction has its
// own Cipher and its own goroutine.
type Cipher interface {
	// Seal appends one complete record (5-byte header + protected fragment) to
	// dst. payload must be <= MaxPlaintext. version is the record header's
	// legacy_record_version. On error dst is returned unchanged.
	Seal(dst []byte, typ ContentType, version uint16, payload []byte) ([]byte, error)
	// Open unprotects one record: hdr is its 5-byte header, fragment its body
	// (decrypted in place where possible). Returns the real content type (TLS
	// 1.3 inner type) and the plaintext.
	Open(hdr []byte, fragment []byte) (ContentType, []byte, error)
	// MaxFragment is the largest acceptable record body for this cipher
	// (record_overflow above it).
	MaxFragment() int
	// Sequence is the next sequence number (for key-update decisions and tests).
	Sequence() uint64
}

// protected is a Cipher that protects records; expansion is how many bytes
// its protection adds to a record's plaintext (in TLS 1.3 to the
// TLSInnerPlaintext, content type included), for the record size limit.
type protected interface{ expansion() int }

func (c *aead12) expansion() int {
	if c.explicit {
		return c.aead.Overhead() + explicitNonceLen
	}
	return c.aead.Overhead()
}

func (c *aead13) expansion() int { return c.aead.Overhead() }

// Error is a failure of the record layer. Alert is the alert to send before
// closing the connection; errors.Is tells the kinds apart (ErrBadRecordMAC...).
type Error struct {
	Alert  alert.Alert
	Reason string
	// Header is the record header that was read, for ErrNotTLS.
	Header [HeaderLen]byte
	kind   error // one of the Err* values below, or nil
}

func (e *Error) Error() string { return "record: " + e.Reason }

// Unwrap returns the kind of failure, for errors.Is.
func (e *Error) Unwrap() error { return e.kind }

// Kinds of record-layer failure, for errors.Is. The *Error returned says
// which alert goes with each.
var (
	// ErrBadRecordMAC: a record failed authentication (bad_record_mac).
	ErrBadRecordMAC = errors.New("bad record MAC")
	// ErrRecordOverflow: a record longer than the protocol allows (record_overflow).
	ErrRecordOverflow = errors.New("record overflow")
	// ErrSequenceExhausted: the 64-bit sequence number would wrap; the
	// connection must rekey or close (RFC 8446 §5.3, RFC 5246 §6.1).
	ErrSequenceExhausted = errors.New("sequence number exhausted")
	// ErrEmptyInnerPlaintext: a TLS 1.3 record decrypted to padding only,
	// with no content type (unexpected_message, RFC 8446 §5.4).
	ErrEmptyInnerPlaintext = errors.New("TLS 1.3 inner plaintext has no content type")
	// ErrUnexpectedRecord: a record of a type that may not appear there
	// (unexpected_message, RFC 8446 §5).
	ErrUnexpectedRecord = errors.New("unexpected record")
	// ErrMalformedRecord: a record header or body that does not parse (decode_error).
	ErrMalformedRecord = errors.New("malformed record")
	// ErrNotTLS: the first bytes from the peer are not a TLS record at all
	// (an SSL 2.0 ClientHello, plaintext HTTP...).
	ErrNotTLS = errors.New("peer does not speak TLS")
	// ErrHandshakeTooLarge: a handshake message declares a length above the
	// limit for its type (illegal_parameter).
	ErrHandshakeTooLarge = errors.New("handshake message too large")
)

func errorf(a alert.Alert, kind error, format string, args ...any) *Error {
	return &Error{Alert: a, Reason: fmt.Sprintf(format, args...), kind: kind}
}

// checkHeader checks that hdr is a 5-byte header whose length field matches
// fragment, as Open expects from its caller.
func checkHeader(hdr, fragment []byte) error {
	if len(hdr) != HeaderLen {
		return errorf(alert.InternalError, nil, "record header of %d bytes, want %d", len(hdr), HeaderLen)
	}
	if n := int(hdr[3])<<8 | int(hdr[4]); n != len(fragment) {
		return errorf(alert.InternalError, nil, "record header says %d bytes, fragment has %d", n, len(fragment))
	}
	return nil
}

// appendHeader appends a record header: type, legacy_record_version, length.
func appendHeader(dst []byte, typ ContentType, version uint16, length int) []byte {
	return append(dst, byte(typ), byte(version>>8), byte(version), byte(length>>8), byte(length))
}

func errPayloadTooLong(n int) error {
	return errorf(alert.InternalError, nil, "cannot seal a %d-byte payload: the limit is 2^14", n)
}

// checkContent13 applies the per-type rules RFC 8446 §5 sets for what one
// record may carry, protected or not.
func checkContent13(typ ContentType, content []byte) error {
	if len(content) == 0 && typ != ApplicationData {
		// §5.4: "Implementations MUST NOT send Handshake and Alert
		// records that have a zero-length TLSInnerPlaintext.content; if
		// such a message is received, the receiving implementation MUST
		// terminate the connection with an unexpected_message alert."
		return errorf(alert.UnexpectedMessage, ErrUnexpectedRecord,
			"empty %s record (RFC 8446 §5.4: only application data may be empty)", typ)
	}
	switch typ {
	case Alert:
		// §5.1: alerts are neither fragmented nor coalesced.
		if len(content) != 2 {
			return errorf(alert.DecodeError, ErrMalformedRecord,
				"TLS 1.3 alert record of %d bytes: it must hold exactly one 2-byte alert (RFC 8446 §5.1)", len(content))
		}
	case ChangeCipherSpec:
		// §5: the compatibility change_cipher_spec is the single byte 0x01.
		if len(content) != 1 || content[0] != 1 {
			return errorf(alert.UnexpectedMessage, ErrUnexpectedRecord,
				"TLS 1.3 change_cipher_spec record is %x, not the single byte 01 (RFC 8446 §5)", content)
		}
	}
	return nil
}
