package certcomp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"runtime"
	"testing"

	"github.com/andybalholm/brotli"
)

// TestRoundTrip: each algorithm gives back the body, cached the second
// time (the same slice).
func TestRoundTrip(t *testing.T) {
	body := bytes.Repeat([]byte("a certificate chain, repetitive as DER is. "), 200)
	for _, alg := range Algorithms {
		c, err := Compress(alg, body)
		if err != nil || len(c) >= len(body)/4 {
			t.Fatalf("%s: %d bytes, %v", Name(alg), len(c), err)
		}
		again, _ := Compress(alg, body)
		if &again[0] != &c[0] {
			t.Errorf("%s: the second compression was not cached", Name(alg))
		}
		back, err := Decompress(alg, c, len(body))
		if err != nil || !bytes.Equal(back, body) {
			t.Fatalf("%s: decompressed %d bytes, %v", Name(alg), len(back), err)
		}
		if _, err := Decompress(alg, c, len(body)-1); !errors.Is(err, ErrLength) {
			t.Errorf("%s: a declared length one short gave %v; want ErrLength", Name(alg), err)
		}
		if _, err := Decompress(alg, c, len(body)+1); !errors.Is(err, ErrLength) {
			t.Errorf("%s: a declared length one long gave %v; want ErrLength", Name(alg), err)
		}
	}
}

// TestBombsStopAtTheDeclaredLength: 8 MiB of zeros compress to a few KiB;
// declared as 1,000 bytes, decompression stops after 1,001 and fails (zstd
// earlier still: the frame's window is larger than the declared length),
// in little time and memory.
func TestBombsStopAtTheDeclaredLength(t *testing.T) {
	bomb := make([]byte, 8<<20)
	for _, alg := range Algorithms {
		c, err := Compress(alg, bomb)
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(1, func() {
			if _, err := Decompress(alg, c, 1000); err == nil {
				t.Errorf("%s: a bomb decompressed", Name(alg))
			}
		})
		var before, after runtimeMem
		before.read()
		Decompress(alg, c, 1000)
		after.read()
		if grew := after.total - before.total; grew > 5<<20 {
			t.Errorf("%s: decompressing a bomb declared as 1,000 bytes allocated %d bytes (%v allocations)", Name(alg), grew, allocs)
		}
	}
}

// TestBrotliWindowOver4MiBIsRefused: a stream whose header asks for a
// 16 MiB window is refused before the reader allocates it.
func TestBrotliWindowOver4MiBIsRefused(t *testing.T) {
	var buf bytes.Buffer
	w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: 5, LGWin: 24})
	w.Write(bytes.Repeat([]byte("x"), 1000))
	w.Close()
	if got := brotliWindowBits(buf.Bytes()); got != 24 {
		t.Fatalf("window bits %d, want 24", got)
	}
	if _, err := Decompress(2, buf.Bytes(), 1000); err == nil {
		t.Error("a 16 MiB window was accepted")
	}
	buf.Reset()
	w = brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: 5, LGWin: 22})
	w.Write(bytes.Repeat([]byte("x"), 1000))
	w.Close()
	if _, err := Decompress(2, buf.Bytes(), 1000); err != nil {
		t.Errorf("a 4 MiB window: %v", err)
	}
}

// TestGarbageIsAnError: random bytes do not decompress.
func TestGarbageIsAnError(t *testing.T) {
	junk := make([]byte, 300)
	rand.Read(junk)
	for _, alg := range Algorithms {
		if _, err := Decompress(alg, junk, 1000); err == nil {
			t.Errorf("%s: random bytes decompressed", Name(alg))
		}
	}
	if _, err := Decompress(99, []byte{1}, 10); err == nil {
		t.Error("an unknown algorithm decompressed")
	}
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}
