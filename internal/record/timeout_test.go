package record

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// stutterReader hands out one byte per call and a timeout between bytes,
// as a connection whose read deadline keeps passing mid-record would.
type stutterReader struct {
	data  []byte
	pause bool
}

func (s *stutterReader) Read(p []byte) (int, error) {
	if s.pause = !s.pause; s.pause {
		return 0, timeoutErr{}
	}
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	p[0] = s.data[0]
	s.data = s.data[1:]
	return 1, nil
}

// TestReadDeadlineMidRecordLosesNothing: a timeout is returned, not kept;
// the bytes read before it stay, and the next calls finish the record.
func TestReadDeadlineMidRecordLosesNothing(t *testing.T) {
	rec := []byte{23, 3, 3, 0, 5, 'h', 'e', 'l', 'l', 'o'}
	r := NewReader(&stutterReader{data: rec})
	timeouts := 0
	for {
		typ, payload, err := r.ReadRecord()
		var te timeoutErr
		if errors.As(err, &te) {
			timeouts++
			continue
		}
		if err != nil {
			t.Fatalf("ReadRecord after %d timeouts: %v", timeouts, err)
		}
		if typ != ApplicationData || !bytes.Equal(payload, []byte("hello")) {
			t.Fatalf("got %v %q; want application_data \"hello\"", typ, payload)
		}
		break
	}
	if timeouts != len(rec) {
		t.Errorf("saw %d timeouts; want one per byte (%d)", timeouts, len(rec))
	}
	if _, _, err := r.ReadRecord(); !errors.Is(err, io.EOF) && !errors.As(err, new(timeoutErr)) {
		t.Errorf("after the record: %v; want EOF (or a timeout)", err)
	}
}
