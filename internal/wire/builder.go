package wire

import (
	"fmt"
	"sync"
)

// builder writes the presentation language of RFC 8446 §3 (RFC 5246 §4):
// the marshalling half of this package, as cryptobyte.String is the parsing
// half. Its methods are those of cryptobyte.Builder, but a length-prefixed
// vector is written in place: the prefix is reserved, the continuation
// appends the contents, and the length is filled in when it returns. A
// cryptobyte.Builder allocates a child builder for every prefix, which made
// a third of the allocations of marshalling a handshake.
//
// A vector longer than its prefix can say is an error that Bytes returns;
// everything written after the first error is ignored.
type builder struct {
	buf []byte
	err error
}

// newBuilder returns a builder whose buffer has room for sizeHint bytes.
func newBuilder(sizeHint int) *builder {
	return &builder{buf: make([]byte, 0, sizeHint)}
}

// builders holds builders between messages: every message and extension
// is written on one, and only its buffer outlives the marshalling. A pooled
// builder holds nothing (finish drops its buffer and error).
var builders = sync.Pool{New: func() any { return new(builder) }}

// pooledBuilder is newBuilder from the pool; finish returns it.
func pooledBuilder(sizeHint int) *builder {
	b := builders.Get().(*builder)
	b.buf = make([]byte, 0, sizeHint)
	return b
}

// finish is result, after which b goes back to the pool: the caller must
// not use it again.
func (b *builder) finish(what func() string) ([]byte, error) {
	out, err := b.Bytes()
	if err != nil {
		err = &MarshalError{What: what(), Err: err}
	}
	b.buf, b.err = nil, nil
	builders.Put(b)
	return out, err
}

// Bytes returns what was written, or the first error.
func (b *builder) Bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.buf, nil
}

// result is Bytes with the error saying what was being built.
func (b *builder) result(what string) ([]byte, error) {
	out, err := b.Bytes()
	if err != nil {
		return nil, &MarshalError{What: what, Err: err}
	}
	return out, nil
}

// fail records err as the builder's first error, unless it has one.
func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *builder) AddUint8(v uint8) {
	b.buf = append(b.buf, v)
}

func (b *builder) AddUint16(v uint16) {
	b.buf = append(b.buf, byte(v>>8), byte(v))
}

// AddUint24 writes the low 24 bits of v, as a uint24 is written.
func (b *builder) AddUint24(v uint32) {
	b.buf = append(b.buf, byte(v>>16), byte(v>>8), byte(v))
}

func (b *builder) AddUint32(v uint32) {
	b.buf = append(b.buf, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func (b *builder) AddBytes(v []byte) {
	b.buf = append(b.buf, v...)
}

// AddUint8LengthPrefixed writes opaque/struct vector<0..2^8-1> whose
// contents add writes.
func (b *builder) AddUint8LengthPrefixed(add func(*builder)) { b.addLengthPrefixed(1, add) }

// AddUint16LengthPrefixed writes a vector<0..2^16-1>.
func (b *builder) AddUint16LengthPrefixed(add func(*builder)) { b.addLengthPrefixed(2, add) }

// AddUint24LengthPrefixed writes a vector<0..2^24-1>.
func (b *builder) AddUint24LengthPrefixed(add func(*builder)) { b.addLengthPrefixed(3, add) }

func (b *builder) addLengthPrefixed(prefixLen int, add func(*builder)) {
	start := len(b.buf)
	b.buf = append(b.buf, make([]byte, prefixLen)...)
	add(b)
	n := len(b.buf) - start - prefixLen
	if n >= 1<<(8*prefixLen) {
		b.fail(fmt.Errorf("a vector of %d bytes exceeds its %d-byte length prefix", n, prefixLen))
		return
	}
	for i := prefixLen - 1; i >= 0; i-- {
		b.buf[start+i] = byte(n)
		n >>= 8
	}
}
