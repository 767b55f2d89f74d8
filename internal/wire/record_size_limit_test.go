package wire

import "testing"

// TestRecordSizeLimit: RFC 8449 §4's uint16, 64 at least
// (illegal_parameter below), nothing after it.
func TestRecordSizeLimit(t *testing.T) {
	var l RecordSizeLimit
	if err := l.Unmarshal([]byte{0x40, 0x01}); err != nil || l != 1<<14+1 {
		t.Fatalf("Unmarshal(4001) = %d, %v", l, err)
	}
	if raw := must(RecordSizeLimit(64).Marshal()); string(raw) != "\x00\x40" {
		t.Fatalf("Marshal(64) = %x", raw)
	}
	wantIllegalParameter(t, l.Unmarshal([]byte{0x00, 0x3f}), "record_size_limit extension", "RecordSizeLimit below 64 (RFC 8449 §4)")
	for _, bad := range [][]byte{{0x01}, {0x40, 0x00, 0x00}, nil} {
		if err := l.Unmarshal(bad); err == nil {
			t.Errorf("Unmarshal(%x) accepted", bad)
		}
	}
}
