package record_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/tlsflow/tlsflow/internal/record"
)

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func TestWriterFragmentsAtMaxPlaintext(t *testing.T) {
	var out countingWriter
	w := record.NewWriter(&out)
	payload := bytes.Repeat([]byte("0123456789"), 4000) // 40000 bytes: 16384 + 16384 + 7232
	if err := w.WriteRecord(record.ApplicationData, payload); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(record.Alert, []byte{1, 0}); err != nil {
		t.Fatal(err)
	}
	if w.Buffered() != 40000+2+4*record.HeaderLen {
		t.Errorf("Buffered() = %d, want %d", w.Buffered(), 40000+2+4*record.HeaderLen)
	}
	if out.writes != 0 {
		t.Fatalf("records reached the stream before Flush")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.writes != 1 || w.Buffered() != 0 {
		t.Errorf("Flush made %d writes and left %d bytes; want 1 write, 0 left", out.writes, w.Buffered())
	}

	r := record.NewReader(&out.Buffer)
	var sizes []int
	var got []byte
	for {
		typ, p, err := r.ReadRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p))
		if typ == record.ApplicationData {
			got = append(got, p...)
		}
	}
	if want := []int{16384, 16384, 7232, 2}; !equalInts(sizes, want) {
		t.Errorf("record sizes %v, want %v", sizes, want)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("reassembled application data differs from what was written")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriterRefusesEmptyRecords(t *testing.T) {
	w := record.NewWriter(io.Discard)
	for _, typ := range []record.ContentType{record.Handshake, record.Alert, record.ChangeCipherSpec, record.ApplicationData} {
		if err := w.WriteRecord(typ, nil); err == nil {
			t.Errorf("wrote an empty %s record", typ)
		}
	}
	if w.Buffered() != 0 {
		t.Errorf("refused records left %d bytes buffered", w.Buffered())
	}
}

func TestWriterVersion(t *testing.T) {
	var out bytes.Buffer
	w := record.NewWriter(&out)
	w.WriteRecord(record.Handshake, []byte{1, 0, 0, 0})
	w.SetVersion(0x0301) // e.g. an initial ClientHello
	w.WriteRecord(record.Handshake, []byte{1, 0, 0, 0})
	w.SetCipher(record.NewAEAD13(newGCM(t, make([]byte, 16)), make([]byte, 12), 0))
	w.WriteRecord(record.Handshake, []byte{20, 0, 0, 0})
	w.Flush()
	b := out.Bytes()
	if got := [][]byte{b[1:3], b[10:12], b[19:21]}; !bytes.Equal(bytes.Join(got, nil), []byte{3, 3, 3, 1, 3, 3}) {
		t.Errorf("record versions %x, want 0303 (default), 0301 (SetVersion), 0303 (TLS 1.3 always)", got)
	}
}

// Records written with each cipher read back through a Reader with the
// twin cipher.
func TestWriterReaderRoundTrip(t *testing.T) {
	key16, key32 := bytes.Repeat([]byte{0x11}, 16), bytes.Repeat([]byte{0x22}, 32)
	pairs := []struct {
		name string
		new  func() record.Cipher
	}{
		{"plaintext", func() record.Cipher { return record.Plaintext(false) }},
		{"TLS 1.2 AES-GCM", func() record.Cipher { return record.NewAEAD12(newGCM(t, key16), []byte{1, 2, 3, 4}, true) }},
		{"TLS 1.2 ChaCha20-Poly1305", func() record.Cipher { return record.NewAEAD12(newChaCha(t, key32), make([]byte, 12), false) }},
		{"TLS 1.3 AES-GCM padded", func() record.Cipher { return record.NewAEAD13(newGCM(t, key16), make([]byte, 12), 512) }},
		{"TLS 1.3 ChaCha20-Poly1305", func() record.Cipher { return record.NewAEAD13(newChaCha(t, key32), make([]byte, 12), 0) }},
	}
	payloads := []struct {
		typ  record.ContentType
		data []byte
	}{
		{record.Handshake, bytes.Repeat([]byte{0xaa}, 20000)},
		{record.Alert, []byte{1, 0}},
		{record.ApplicationData, []byte("hello")},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			var stream bytes.Buffer
			w := record.NewWriter(&stream)
			w.SetCipher(p.new())
			for _, pl := range payloads {
				if err := w.WriteRecord(pl.typ, pl.data); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r := record.NewReader(&stream)
			r.SetCipher(p.new())
			for _, pl := range payloads {
				var got []byte
				for len(got) < len(pl.data) {
					typ, payload, err := r.ReadRecord()
					if err != nil || typ != pl.typ {
						t.Fatalf("ReadRecord = %s, %v; want %s", typ, err, pl.typ)
					}
					got = append(got, payload...)
				}
				if !bytes.Equal(got, pl.data) {
					t.Errorf("%s payload differs after the round trip", pl.typ)
				}
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriterFlushError(t *testing.T) {
	w := record.NewWriter(failingWriter{})
	w.WriteRecord(record.Alert, []byte{2, 40})
	if err := w.Flush(); err == nil {
		t.Errorf("Flush hid the write error")
	}
	if w.Buffered() != 0 {
		t.Errorf("a failed Flush kept %d bytes to send again", w.Buffered())
	}
}
