package record_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/record"
)

// rec builds an unprotected record.
func rec(typ record.ContentType, version uint16, body []byte) []byte {
	return append([]byte{byte(typ), byte(version >> 8), byte(version), byte(len(body) >> 8), byte(len(body))}, body...)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestReaderReadsRecordsInOrder(t *testing.T) {
	stream := concat(
		rec(record.Handshake, 0x0301, []byte{1, 0, 0, 0}), // a ClientHello record may say TLS 1.0
		rec(record.ChangeCipherSpec, 0x0303, []byte{1}),
		rec(record.Alert, 0x0303, []byte{1, 0}),
		rec(record.ApplicationData, 0x0300, []byte("data")),
	)
	r := record.NewReader(bytes.NewReader(stream))
	want := []struct {
		typ  record.ContentType
		body string
	}{
		{record.Handshake, "\x01\x00\x00\x00"},
		{record.ChangeCipherSpec, "\x01"},
		{record.Alert, "\x01\x00"},
		{record.ApplicationData, "data"},
	}
	for i, w := range want {
		typ, payload, err := r.ReadRecord()
		if err != nil || typ != w.typ || string(payload) != w.body {
			t.Fatalf("record %d: %s %x %v, want %s %x", i, typ, payload, err, w.typ, w.body)
		}
	}
	if _, _, err := r.ReadRecord(); err != io.EOF {
		t.Errorf("at the end of the stream: %v, want io.EOF", err)
	}
}

func TestReaderRefusesBadHeaders(t *testing.T) {
	handshake := rec(record.Handshake, 0x0303, []byte{1, 0, 0, 0})
	tests := []struct {
		name   string
		stream []byte
		alert  alert.Alert
		kind   error
		says   string // the error message must mention this
	}{
		{"SSL 2.0 ClientHello", []byte{0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15}, alert.ProtocolVersion, record.ErrNotTLS, "SSL 2.0"},
		{"plaintext HTTP", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), alert.DecodeError, record.ErrNotTLS, "plaintext"},
		{"binary junk first", []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05}, alert.DecodeError, record.ErrNotTLS, "not a TLS record"},
		{"unknown type after the first record", concat(handshake, rec(24, 0x0303, []byte{1})), alert.UnexpectedMessage, record.ErrUnexpectedRecord, "unknown record type 24"},
		{"major version 2 after the first record", concat(handshake, rec(record.Handshake, 0x0203, []byte{1})), alert.DecodeError, record.ErrMalformedRecord, "not 3.x"},
		{"plaintext record over 2^14", rec(record.ApplicationData, 0x0303, make([]byte, record.MaxPlaintext+1)), alert.RecordOverflow, record.ErrRecordOverflow, "exceeds"},
		{"empty handshake record", rec(record.Handshake, 0x0303, nil), alert.UnexpectedMessage, record.ErrUnexpectedRecord, "empty handshake"},
		{"empty alert record", rec(record.Alert, 0x0303, nil), alert.UnexpectedMessage, record.ErrUnexpectedRecord, "empty alert"},
		{"empty change_cipher_spec record", rec(record.ChangeCipherSpec, 0x0303, nil), alert.UnexpectedMessage, record.ErrUnexpectedRecord, "empty change_cipher_spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record.NewReader(bytes.NewReader(tt.stream))
			var err error
			for i := 0; i < 3 && err == nil; i++ {
				_, _, err = r.ReadRecord()
			}
			wantAlert(t, err, tt.alert, tt.kind)
			if err != nil && !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if _, _, again := r.ReadRecord(); again != err {
				t.Errorf("the error is not sticky: next call returned %v", again)
			}
		})
	}
}

// The header length is checked against the current cipher's MaxFragment
// before the body is read: record_overflow, RFC 8446 §5.2 / RFC 5246 §6.2.3.
func TestReaderRecordOverflowPerCipher(t *testing.T) {
	tests := []struct {
		name   string
		cipher record.Cipher
		limit  int
	}{
		{"plaintext", record.Plaintext(true), record.MaxPlaintext},
		{"TLS 1.2 AEAD", record.NewAEAD12(newGCM(t, make([]byte, 16)), make([]byte, 4), true), record.MaxCiphertext12},
		{"TLS 1.3 AEAD", record.NewAEAD13(newGCM(t, make([]byte, 16)), make([]byte, 12), 0), record.MaxCiphertext13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Only the header is supplied: the length alone must trigger the error.
			hdr := []byte{23, 3, 3, byte((tt.limit + 1) >> 8), byte(tt.limit + 1)}
			r := record.NewReader(bytes.NewReader(hdr))
			r.SetCipher(tt.cipher)
			_, _, err := r.ReadRecord()
			wantAlert(t, err, alert.RecordOverflow, record.ErrRecordOverflow)

			// At the limit the header is fine; the stream then ends inside the record.
			hdr = []byte{23, 3, 3, byte(tt.limit >> 8), byte(tt.limit)}
			r = record.NewReader(bytes.NewReader(hdr))
			r.SetCipher(tt.cipher)
			if _, _, err := r.ReadRecord(); err != io.ErrUnexpectedEOF {
				t.Errorf("record of exactly %d bytes, truncated: %v, want io.ErrUnexpectedEOF", tt.limit, err)
			}
		})
	}
}

func TestReaderTruncatedStreams(t *testing.T) {
	full := rec(record.Handshake, 0x0303, []byte{1, 0, 0, 0})
	for n := 0; n < len(full); n++ {
		r := record.NewReader(bytes.NewReader(full[:n]))
		_, _, err := r.ReadRecord()
		want := io.ErrUnexpectedEOF
		if n == 0 {
			want = io.EOF // a clean end between records
		}
		if err != want {
			t.Errorf("stream cut after %d bytes: %v, want %v", n, err, want)
		}
	}
}

func TestReaderEmptyApplicationDataRecords(t *testing.T) {
	empty := rec(record.ApplicationData, 0x0303, nil)
	data := rec(record.ApplicationData, 0x0303, []byte("x"))
	warning := rec(record.Alert, 0x0303, []byte{1, byte(alert.UserCanceled)})
	max := limits.Default.EmptyRecords

	// The limit of empty records between data records is fine, and the
	// count starts again after data.
	stream := concat(bytes.Repeat(empty, max), data, bytes.Repeat(empty, max), data)
	r := record.NewReader(bytes.NewReader(stream))
	for i := 0; i < 2; i++ {
		if typ, payload, err := r.ReadRecord(); err != nil || typ != record.ApplicationData || string(payload) != "x" {
			t.Fatalf("read %d: %s %q %v, want the data record after %d empty ones", i, typ, payload, err, max)
		}
	}

	// One more is an error.
	r = record.NewReader(bytes.NewReader(concat(bytes.Repeat(empty, max+1), data)))
	_, _, err := r.ReadRecord()
	wantAlert(t, err, alert.UnexpectedMessage, record.ErrUnexpectedRecord)

	// A record that is not application data (here a warning alert) does
	// not start the count again: the limit is per data record, not per
	// run, or a peer could interleave alerts to send empty records forever.
	r = record.NewReader(bytes.NewReader(concat(bytes.Repeat(empty, max), warning, empty, data)))
	if typ, _, err := r.ReadRecord(); err != nil || typ != record.Alert {
		t.Fatalf("first record: %s, %v; want the alert", typ, err)
	}
	_, _, err = r.ReadRecord()
	wantAlert(t, err, alert.UnexpectedMessage, record.ErrUnexpectedRecord)
}

// An authentication failure does not break the Reader: the record was read
// whole and the sequence number did not move, so the next genuine record
// opens (a TLS 1.3 server skipping rejected 0-RTT data relies on this).
func TestReaderReadsOnAfterBadRecordMAC(t *testing.T) {
	good := unhex(s3ClientAppDataRecord)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	r := record.NewReader(bytes.NewReader(concat(bad, good)))
	r.SetCipher(record.NewAEAD13(newGCM(t, unhex(s3ClientAppKey)), unhex(s3ClientAppIV), 0))
	_, _, err := r.ReadRecord()
	wantAlert(t, err, alert.BadRecordMAC, record.ErrBadRecordMAC)
	typ, payload, err := r.ReadRecord()
	if err != nil || typ != record.ApplicationData || !bytes.Equal(payload, unhex(s3ClientAppDataPayload)) {
		t.Errorf("after the bad record: %s %x %v, want the genuine record", typ, payload, err)
	}
}

// A TLS 1.3 Reader with protection on still returns the unprotected
// compatibility change_cipher_spec (RFC 8446 §5), and then reads on.
func TestReaderTLS13ChangeCipherSpecThenProtected(t *testing.T) {
	stream := concat(unhex(s7ChangeCipherSpecRecord), unhex(s3ClientAppDataRecord))
	r := record.NewReader(bytes.NewReader(stream))
	r.SetCipher(record.NewAEAD13(newGCM(t, unhex(s3ClientAppKey)), unhex(s3ClientAppIV), 0))
	if typ, payload, err := r.ReadRecord(); err != nil || typ != record.ChangeCipherSpec || !bytes.Equal(payload, []byte{1}) {
		t.Fatalf("first record: %s %x %v, want change_cipher_spec 01", typ, payload, err)
	}
	if typ, payload, err := r.ReadRecord(); err != nil || typ != record.ApplicationData || !bytes.Equal(payload, unhex(s3ClientAppDataPayload)) {
		t.Fatalf("second record: %s %x %v, want the RFC 8448 application data", typ, payload, err)
	}
}

func TestPlaintext13ContentRules(t *testing.T) {
	tests := []struct {
		name  string
		rec   []byte
		alert alert.Alert
	}{
		{"two alerts in one record", rec(record.Alert, 0x0303, []byte{1, 0, 2, 40}), alert.DecodeError},
		{"half an alert", rec(record.Alert, 0x0303, []byte{2}), alert.DecodeError},
		{"change_cipher_spec of value 2", rec(record.ChangeCipherSpec, 0x0303, []byte{2}), alert.UnexpectedMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record.NewReader(bytes.NewReader(tt.rec))
			r.SetCipher(record.Plaintext(true))
			_, _, err := r.ReadRecord()
			wantAlert(t, err, tt.alert, nil)

			// TLS 1.2 leaves these to the layers above.
			r = record.NewReader(bytes.NewReader(tt.rec))
			if _, _, err := r.ReadRecord(); err != nil {
				t.Errorf("Plaintext(false) refused it: %v", err)
			}
		})
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestReaderPassesIOErrorsThrough(t *testing.T) {
	boom := errors.New("connection reset")
	_, _, err := record.NewReader(errReader{boom}).ReadRecord()
	if err != boom {
		t.Errorf("ReadRecord = %v, want the reader's own error", err)
	}
}
