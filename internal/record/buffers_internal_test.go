package record

import (
	"bytes"
	"io"
	"testing"
)

// stallReader returns data, then a timeout error, the way a connection
// behaves when a read deadline passes in the middle of a record.
type stallReader struct{ data []byte }

func (s *stallReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, timeoutError{}
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

type timeoutError struct{}

func (timeoutError) Error() string { return "i/o timeout" }
func (timeoutError) Timeout() bool { return true }

func TestReaderHoldsNoBufferOnceReleased(t *testing.T) {
	stream := []byte{byte(ApplicationData), 3, 3, 0, 5, 'h', 'e', 'l', 'l', 'o'}
	r := NewReader(bytes.NewReader(stream))
	if r.buf != nil {
		t.Fatal("a new Reader holds a record buffer before any record arrived")
	}
	_, payload, err := r.ReadRecord()
	if err != nil || string(payload) != "hello" {
		t.Fatalf("ReadRecord = %q, %v", payload, err)
	}
	buf := r.buf
	r.Release()
	if r.buf != nil {
		t.Fatal("Release kept the record buffer")
	}
	if got := (*buf)[:len(stream)]; !bytes.Equal(got, make([]byte, len(stream))) {
		t.Fatalf("the released buffer still holds the plaintext %q", got)
	}
	if _, _, err := r.ReadRecord(); err != io.EOF {
		t.Fatalf("after the last record: %v, want io.EOF", err)
	}
}

func TestReaderKeepsBufferOfPartlyReadRecord(t *testing.T) {
	r := NewReader(&stallReader{data: []byte{byte(ApplicationData), 3, 3, 0, 5, 'h', 'e'}})
	if _, _, err := r.ReadRecord(); err == nil {
		t.Fatal("a stalled record was returned")
	}
	r.Release()
	if r.buf == nil {
		t.Fatal("Release dropped the buffer of a record read only in part: its first bytes are lost")
	}
}

func TestReaderKeepsBufferWithRecordsReadAhead(t *testing.T) {
	one := []byte{byte(ApplicationData), 3, 3, 0, 3, 'o', 'n', 'e'}
	two := []byte{byte(ApplicationData), 3, 3, 0, 3, 't', 'w', 'o'}
	r := NewReader(bytes.NewReader(append(append([]byte{}, one...), two...)))
	if _, payload, err := r.ReadRecord(); err != nil || string(payload) != "one" {
		t.Fatalf("first record: %q, %v", payload, err)
	}
	r.Release()
	if r.buf == nil {
		t.Fatal("Release dropped a buffer holding the next record, read ahead with the first")
	}
	if _, payload, err := r.ReadRecord(); err != nil || string(payload) != "two" {
		t.Fatalf("second record: %q, %v", payload, err)
	}
	r.Release()
	if r.buf != nil {
		t.Fatal("Release kept the buffer once every record was returned")
	}
}

// Records that arrive together cost one read call for the header of the
// first (the Reader is idle, it has no buffer yet) and one for everything
// after it, not a header and a fragment each.
func TestReaderReadsRecordsThatCameTogetherInTwoCalls(t *testing.T) {
	record := append([]byte{byte(ApplicationData), 3, 3, 0x20, 0}, make([]byte, 1<<13)...)
	counter := &countingReader{r: bytes.NewReader(append(append([]byte{}, record...), record...))}
	r := NewReader(counter)
	for i := range 2 {
		if _, payload, err := r.ReadRecord(); err != nil || len(payload) != 1<<13 {
			t.Fatalf("record %d: %d bytes, %v", i, len(payload), err)
		}
	}
	if counter.calls != 2 {
		t.Fatalf("two 8 KiB records that arrived together took %d read calls, want 2", counter.calls)
	}
}

// An idle Reader, blocked waiting for the next record, holds no buffer.
func TestReaderWaitsWithoutBuffer(t *testing.T) {
	r := NewReader(&stallReader{})
	if _, _, err := r.ReadRecord(); err == nil {
		t.Fatal("a record came from nowhere")
	}
	if r.buf != nil {
		t.Fatal("a Reader waiting for a header took a buffer")
	}
}

type countingReader struct {
	r     io.Reader
	calls int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.calls++
	return c.r.Read(p)
}

func TestWriterHoldsNoBufferAfterFlush(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	if err := w.WriteRecord(Handshake, []byte{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if w.Buffered() != 9 {
		t.Fatalf("Buffered = %d, want 9", w.Buffered())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.buf != nil || w.Buffered() != 0 {
		t.Fatal("the Writer keeps a buffer after Flush")
	}
	if out.Len() != 9 {
		t.Fatalf("wrote %d bytes, want 9", out.Len())
	}
}

func TestPoolRefusesGrownBuffers(t *testing.T) {
	big := make([]byte, 0, 4*pooledBufferCap)
	putBuffer(&big)
	for range 10 {
		if b := getBuffer(); cap(*b) != pooledBufferCap {
			t.Fatalf("the pool handed out a buffer of capacity %d", cap(*b))
		}
	}
}
