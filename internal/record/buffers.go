package record

import "sync"

// Record buffers are shared through a pool instead of living in each Reader
// and Writer: an idle connection (a Read waiting for the next record, no
// Write under way) then holds no record buffer at all, which is most of
// what a connection would otherwise cost while a server keeps thousands of
// them open. One buffer fits the largest fragment any cipher accepts
// (MaxCiphertext12) or one full sealed record with its header.
const pooledBufferCap = HeaderLen + MaxCiphertext12

var bufferPool = sync.Pool{New: func() any {
	b := make([]byte, 0, pooledBufferCap)
	return &b
}}

// getBuffer returns an empty buffer of capacity pooledBufferCap. The pool
// holds *[]byte so that putting a buffer back does not allocate.
func getBuffer() *[]byte {
	b := bufferPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// putBuffer returns b to the pool. A buffer that grew past the pooled size
// (one Write of many records) is left to the collector instead, so the pool
// never pins a large allocation.
func putBuffer(b *[]byte) {
	if cap(*b) != pooledBufferCap {
		return
	}
	bufferPool.Put(b)
}
