// Package certcomp compresses and decompresses TLS 1.3 Certificate
// messages (RFC 8879) with zlib, brotli and zstd. Decompression is bounded
// by the length the sender declares, which the caller has checked against
// the limits policy: a compression bomb stops there. Compressed chains are
// cached, since a server sends the same chain to every client.
package certcomp

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/tlsflow/tlsflow/internal/wire"
)

// Algorithms are those implemented, in tlsflow's preference order:
// brotli and zstd compress certificates best (RFC 8879 §7.3 numbers).
var Algorithms = []uint16{wire.CertCompressionBrotli, wire.CertCompressionZstd, wire.CertCompressionZlib}

// Supported reports whether alg is implemented.
func Supported(alg uint16) bool {
	return alg == wire.CertCompressionZlib || alg == wire.CertCompressionBrotli || alg == wire.CertCompressionZstd
}

// Name is alg's name in RFC 8879 §7.3.
func Name(alg uint16) string {
	switch alg {
	case wire.CertCompressionZlib:
		return "zlib"
	case wire.CertCompressionBrotli:
		return "brotli"
	case wire.CertCompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("compression algorithm %d", alg)
}

// Compress returns body compressed with alg.
func Compress(alg uint16, body []byte) ([]byte, error) {
	key := cacheKey{alg, sha256.Sum256(body)}
	if out, ok := cache.get(key); ok {
		return out, nil
	}
	var buf bytes.Buffer
	var w io.WriteCloser
	switch alg {
	case wire.CertCompressionZlib:
		w, _ = zlib.NewWriterLevel(&buf, zlib.BestCompression)
	case wire.CertCompressionBrotli:
		w = brotli.NewWriterLevel(&buf, brotli.BestCompression)
	case wire.CertCompressionZstd:
		// One frame with the content size, and a window no larger than
		// the chain: what a receiver with a small window cap accepts.
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		out := zw.EncodeAll(body, nil)
		zw.Close()
		cache.put(key, out)
		return out, nil
	default:
		return nil, fmt.Errorf("certcomp: %s is not implemented", Name(alg))
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	cache.put(key, out)
	return out, nil
}

// ErrLength: the data does not decompress to the declared length.
var ErrLength = errors.New("certcomp: the data does not decompress to uncompressed_length")

// Decompress returns data decompressed with alg, which must come to
// exactly n bytes: no more than n+1 are ever produced, so a bomb costs at
// most that.
func Decompress(alg uint16, data []byte, n int) ([]byte, error) {
	var r io.Reader
	switch alg {
	case wire.CertCompressionZlib:
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	case wire.CertCompressionBrotli:
		// The reader allocates the stream's window whatever is declared:
		// up to 2^22 bytes (the encoders' default) is taken, the format's
		// 2^24 is not.
		if w := brotliWindowBits(data); w > maxBrotliWindowBits {
			return nil, fmt.Errorf("certcomp: a brotli window of 2^%d bytes, more than the 2^%d accepted", w, maxBrotliWindowBits)
		}
		r = brotli.NewReader(bytes.NewReader(data))
	case wire.CertCompressionZstd:
		// A frame's window, which the decoder allocates, is at most 1 MiB:
		// more than any Certificate the limits policy allows.
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(zstdMaxWindow), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("certcomp: %s is not implemented", Name(alg))
	}
	out := bytes.NewBuffer(make([]byte, 0, n))
	if _, err := io.Copy(out, io.LimitReader(r, int64(n)+1)); err != nil {
		return nil, fmt.Errorf("certcomp: %s: %w", Name(alg), err)
	}
	if out.Len() != n {
		return nil, ErrLength
	}
	return out.Bytes(), nil
}

const (
	maxBrotliWindowBits = 22
	zstdMaxWindow       = 1 << 20
)

// brotliWindowBits reads WBITS from a brotli stream header (RFC 7932 §9.1);
// 0 if there is no header to read.
func brotliWindowBits(data []byte) int {
	if len(data) < 2 {
		return 0
	}
	bits := uint16(data[0]) | uint16(data[1])<<8 // read from the least significant bit
	switch {
	case bits&1 == 0:
		return 16
	case (bits>>1)&7 != 0:
		return 17 + int((bits>>1)&7)
	case (bits>>4)&7 == 1:
		return 30 // the large-window variant, not in RFC 7932
	case (bits>>4)&7 != 0:
		return 8 + int((bits>>4)&7)
	}
	return 17
}

// cache keeps recent compressed chains (a server's certificates, each with
// the extensions its clients ask for): at most cacheSize, the oldest
// forgotten first.
const cacheSize = 64

type cacheKey struct {
	alg  uint16
	body [sha256.Size]byte
}

type chainCache struct {
	mu    sync.Mutex
	m     map[cacheKey][]byte
	order []cacheKey
}

var cache chainCache

func (c *chainCache) get(k cacheKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *chainCache) put(k cacheKey, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[cacheKey][]byte)
	}
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.order) == cacheSize {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = v
	c.order = append(c.order, k)
}
