package wire

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// The builder must write exactly what cryptobyte.Builder writes for the
// same calls: the parsers, and every peer, read it with that grammar.
func FuzzBuilderMatchesCryptobyte(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte("hello"), uint16(7))
	f.Add([]byte{}, []byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, a, c []byte, v uint16) {
		if len(a) > 255 || len(c) > 1<<16-1 {
			return
		}
		ours := newBuilder(0)
		ours.AddUint8(byte(v))
		ours.AddUint16LengthPrefixed(func(b *builder) {
			b.AddUint16(v)
			b.AddUint8LengthPrefixed(func(b *builder) { b.AddBytes(a) })
			b.AddUint24LengthPrefixed(func(b *builder) {
				b.AddUint32(uint32(v) << 9)
				b.AddUint24(uint32(v) * 3)
			})
		})
		ours.AddUint24LengthPrefixed(func(b *builder) { b.AddBytes(c) })

		var theirs cryptobyte.Builder
		theirs.AddUint8(byte(v))
		theirs.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(v)
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(a) })
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint32(uint32(v) << 9)
				b.AddUint24(uint32(v) * 3)
			})
		})
		theirs.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })

		got, err := ours.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		want := theirs.BytesOrPanic()
		if !bytes.Equal(got, want) {
			t.Fatalf("builder wrote\n% x\ncryptobyte writes\n% x", got, want)
		}
	})
}

func TestBuilderRefusesOverlongVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  func(*builder)
	}{
		{"uint8 prefix, 256 bytes", func(b *builder) {
			b.AddUint8LengthPrefixed(func(b *builder) { b.AddBytes(make([]byte, 256)) })
		}},
		{"uint16 prefix, 65536 bytes", func(b *builder) {
			b.AddUint16LengthPrefixed(func(b *builder) { b.AddBytes(make([]byte, 1<<16)) })
		}},
		{"uint24 prefix, 2^24 bytes", func(b *builder) {
			b.AddUint24LengthPrefixed(func(b *builder) { b.AddBytes(make([]byte, 1<<24)) })
		}},
		{"inner overflow inside a valid outer vector", func(b *builder) {
			b.AddUint24LengthPrefixed(func(b *builder) {
				b.AddUint8LengthPrefixed(func(b *builder) { b.AddBytes(make([]byte, 300)) })
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder(0)
			tc.add(b)
			out, err := b.Bytes()
			if err == nil || !strings.Contains(err.Error(), "exceeds") {
				t.Fatalf("Bytes() = %d bytes, %v; want an overflow error", len(out), err)
			}
		})
	}
}

func TestBuilderAcceptsVectorsAtTheirLimit(t *testing.T) {
	b := newBuilder(0)
	b.AddUint8LengthPrefixed(func(b *builder) { b.AddBytes(make([]byte, 255)) })
	b.AddUint16LengthPrefixed(func(b *builder) { b.AddBytes(make([]byte, 1<<16-1)) })
	out, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != 0xff || out[256] != 0xff || out[257] != 0xff || len(out) != 1+255+2+1<<16-1 {
		t.Fatalf("wrong prefixes: % x ... (length %d)", out[:3], len(out))
	}
}
