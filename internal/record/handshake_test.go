package record_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
)

// msg builds a handshake message: msg_type, uint24 length, body.
func msg(typ byte, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// drain returns every complete message Next gives.
func drain(t *testing.T, b *record.HandshakeBuffer) [][]byte {
	t.Helper()
	var msgs [][]byte
	for {
		m, ok, err := b.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !ok {
			return msgs
		}
		msgs = append(msgs, m)
	}
}

func TestHandshakeBufferReassembly(t *testing.T) {
	hello := msg(2, bytes.Repeat([]byte{0x5a}, 70))
	cert := msg(11, bytes.Repeat([]byte{0xc3}, 40000))
	done := msg(14, nil) // ServerHelloDone has an empty body
	flight := concat(hello, cert, done)

	tests := []struct {
		name      string
		fragments [][]byte
	}{
		{"one record per message", [][]byte{hello, cert, done}},
		{"several messages in one record", [][]byte{concat(hello, cert[:100]), concat(cert[100:], done)}},
		{"a message spanning three records", [][]byte{hello, cert[:2], cert[2:16384], concat(cert[16384:], done)}},
		{"header split across records", [][]byte{hello[:1], hello[1:3], hello[3:], cert, done}},
		{"one byte per record", splitEvery(flight, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b record.HandshakeBuffer
			var got [][]byte
			for _, f := range tt.fragments {
				b.Add(f)
				got = append(got, drain(t, &b)...)
			}
			if len(got) != 3 || !bytes.Equal(got[0], hello) || !bytes.Equal(got[1], cert) || !bytes.Equal(got[2], done) {
				t.Errorf("got %d messages, want ServerHello, Certificate, ServerHelloDone intact", len(got))
			}
			if !b.Empty() {
				t.Errorf("Empty() = false after every message was returned")
			}
		})
	}
}

func splitEvery(b []byte, n int) [][]byte {
	var parts [][]byte
	for len(b) > 0 {
		k := min(n, len(b))
		parts = append(parts, b[:k])
		b = b[k:]
	}
	return parts
}

func TestHandshakeBufferEmptyTracksPartialMessages(t *testing.T) {
	var b record.HandshakeBuffer
	if !b.Empty() {
		t.Fatal("a new buffer is not Empty")
	}
	full := msg(20, make([]byte, 12))
	b.Add(concat(full, full[:3]))
	if m := drain(t, &b); len(m) != 1 {
		t.Fatalf("got %d messages, want 1", len(m))
	}
	if b.Empty() {
		t.Errorf("Empty() = true with 3 bytes of the next message buffered (a key change here must be refused)")
	}
	b.Add(full[3:])
	drain(t, &b)
	if !b.Empty() {
		t.Errorf("Empty() = false after the partial message completed")
	}
}

func TestHandshakeBufferMessagesAreFreshCopies(t *testing.T) {
	var b record.HandshakeBuffer
	fragment := concat(msg(1, []byte("first")), msg(1, []byte("second")))
	b.Add(fragment)
	first, _, _ := b.Next()
	fragment[4] = 'X' // the caller reuses its record buffer
	b.Add(msg(1, []byte("third")))
	second, _, _ := b.Next()
	if string(first[4:]) != "first" || string(second[4:]) != "second" {
		t.Errorf("messages changed under the caller: %q, %q", first[4:], second[4:])
	}
}

func TestHandshakeBufferLimits(t *testing.T) {
	tests := []struct {
		name    string
		header  []byte
		limit   func(uint8) int
		refused bool
	}{
		{"2^24-1 declared", []byte{1, 0xff, 0xff, 0xff}, nil, true},
		{"65536 for a ClientHello is the default limit", []byte{1, 0x01, 0x00, 0x00}, nil, false},
		{"65537 for a ClientHello", []byte{1, 0x01, 0x00, 0x01}, nil, true},
		{"262144 for a Certificate", []byte{11, 0x04, 0x00, 0x00}, nil, false},
		{"262145 for a Certificate", []byte{11, 0x04, 0x00, 0x01}, nil, true},
		{"custom limit", []byte{15, 0x00, 0x01, 0x01}, func(uint8) int { return 256 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b record.HandshakeBuffer
			b.SetLimit(tt.limit)
			b.Add(tt.header)
			m, ok, err := b.Next()
			if !tt.refused {
				if err != nil || ok || m != nil {
					t.Errorf("Next = %x, %v, %v; want to wait for the body", m, ok, err)
				}
				return
			}
			wantAlert(t, err, alert.IllegalParameter, record.ErrHandshakeTooLarge)
			b.Add([]byte{0}) // sticky: later data changes nothing
			if _, _, again := b.Next(); again != err {
				t.Errorf("error not sticky: %v", again)
			}
		})
	}
}

// A hostile header declaring 2^24-1 bytes must cost nothing like 16 MiB.
func TestHandshakeBufferHugeLengthDoesNotAllocate(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var b record.HandshakeBuffer
	b.Add([]byte{1, 0xff, 0xff, 0xff, 0x03, 0x03})
	_, _, err := b.Next()
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("2^24-1 byte ClientHello accepted")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
		t.Errorf("refusing the header allocated %d bytes", grew)
	}
}
