package record_test

import (
	"bytes"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
)

// Once the version is known, a record with another legacy_record_version
// is refused with protocol_version; before it, any 3.x passes (the first
// ClientHello may say TLS 1.0, RFC 8446 §5.1).
func TestReaderChecksRecordVersionOnceSet(t *testing.T) {
	data := []byte("x")
	for _, tc := range []struct {
		name    string
		set     uint16
		version uint16
		ok      bool
	}{
		{"any 3.x before the version is known", 0, 0x03ff, true},
		{"the negotiated version", 0x0303, 0x0303, true},
		{"TLS 1.0 after TLS 1.2 was negotiated", 0x0303, 0x0301, false},
		{"3.255 after the version is known", 0x0303, 0x03ff, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := record.NewReader(bytes.NewReader(rec(record.Handshake, tc.version, data)))
			if tc.set != 0 {
				r.SetVersion(tc.set)
			}
			_, _, err := r.ReadRecord()
			if tc.ok {
				if err != nil {
					t.Fatalf("ReadRecord = %v, want the record", err)
				}
				return
			}
			wantAlert(t, err, alert.ProtocolVersion, record.ErrMalformedRecord)
		})
	}
}

// During the handshake an empty application_data record is refused at
// once (unexpected_message) rather than skipped.
func TestReaderRefusesEmptyApplicationDataWhenAsked(t *testing.T) {
	stream := concat(rec(record.ApplicationData, 0x0303, nil), rec(record.Handshake, 0x0303, []byte("x")))
	r := record.NewReader(bytes.NewReader(stream))
	r.RefuseEmptyApplicationData(true)
	_, _, err := r.ReadRecord()
	wantAlert(t, err, alert.UnexpectedMessage, record.ErrUnexpectedRecord)

	r = record.NewReader(bytes.NewReader(stream))
	if typ, _, err := r.ReadRecord(); err != nil || typ != record.Handshake {
		t.Fatalf("by default: %s, %v; want the empty record skipped and the handshake record read", typ, err)
	}
}
