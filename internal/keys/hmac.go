package keys

import (
	"crypto"
	"crypto/fips140"
	"encoding"
	"fmt"
	"hash"
	"sync"

	"github.com/tlsflow/tlsflow/provider"
)

// HMAC (RFC 2104) for the key schedule, built here on the provider's hash:
//
//	HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m))
//
// where K' is K padded with zeros to the hash's block size (hashed first
// when it is longer), ipad the byte 0x36 and opad 0x5c repeated.
//
// Why not crypto/hmac: RFC 8446 §7.1 keys HMAC with a new secret at every
// node of its tree (early, binder and finished keys, handshake, master and
// traffic secrets: about fifteen keys per side in a handshake), and
// crypto/hmac makes five allocations per key and two more when its state
// is first reused; that was a third of a TLS 1.3 handshake's allocations.
// A rekeyable HMAC keeps its two digests and is handed from one use to the
// next through a pool, so keying it allocates nothing. The work per key is
// the same: one compression of each padded key block, whose results are
// kept as the precomputed intermediate values FIPS 198-1 §6 allows.
//
// With GODEBUG=fips140=on the provider's HMAC is used instead (the
// standard library's module then accounts for every HMAC it computes), and
// so it is for a provider whose hash cannot save and restore its state.

// rekeyable is one HMAC whose key can be replaced. It belongs to one
// goroutine between acquireMAC and releaseMAC.
type rekeyable struct {
	provider     string // the Name of the provider whose NewHash made inner and outer
	inner, outer stateHash
	// innerKeyed and outerKeyed are the digests' states after K'^ipad and
	// K'^opad: as secret as the key. initial is an empty digest's state,
	// whose zero buffer overwrites what the last message left in a digest.
	innerKeyed, outerKeyed, initial []byte
	// pad is where setKey builds K'^ipad and K'^opad: a field, not a
	// local, because the digests' interface methods would move a local
	// to the heap. Zeroed once the key is set.
	pad [maxBlock]byte
}

// stateHash is a hash whose state can be saved and restored, which is
// what the standard library's SHA-2 digests offer.
type stateHash interface {
	hash.Hash
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}

// maxBlock is the largest block size of the hashes TLS uses (SHA-384 and
// SHA-512: 128 bytes).
const maxBlock = 128

// macPools holds released HMACs by hash, so that a key schedule keys one
// that is already allocated.
var macPools = map[crypto.Hash]*sync.Pool{
	crypto.SHA256: new(sync.Pool),
	crypto.SHA384: new(sync.Pool),
	crypto.SHA512: new(sync.Pool),
}

// acquireMAC returns HMAC with h keyed with key, ready to be written to.
// Give it back with releaseMAC when done (an HMAC that is dropped instead
// is only garbage).
func (h Hash) acquireMAC(key []byte) hash.Hash {
	p := provider.OrStdlib(h.Provider)
	pool := macPools[h.Hash]
	if pool == nil || fips140.Enabled() {
		return p.NewHMAC(h.Hash, key)
	}
	m, _ := pool.Get().(*rekeyable)
	if m != nil && m.provider != p.Name() {
		pool.Put(m) // another provider's digests: left for its schedules
		m = nil
	}
	if m == nil {
		if m = newRekeyable(p, h.Hash); m == nil {
			return p.NewHMAC(h.Hash, key)
		}
	}
	m.setKey(key)
	return m
}

// releaseMAC wipes an HMAC from acquireMAC and keeps it for the next key.
// The caller must not use mac afterwards.
func releaseMAC(mac hash.Hash) {
	m, ok := mac.(*rekeyable)
	if !ok {
		return
	}
	m.wipe()
	macPools[m.hashID()].Put(m)
}

func newRekeyable(p provider.Provider, h crypto.Hash) *rekeyable {
	inner, ok1 := p.NewHash(h).(stateHash)
	outer, ok2 := p.NewHash(h).(stateHash)
	if !ok1 || !ok2 || inner.BlockSize() > maxBlock {
		return nil
	}
	initial, err := inner.AppendBinary(nil)
	if err != nil {
		return nil
	}
	size := len(initial)
	return &rekeyable{provider: p.Name(), inner: inner, outer: outer,
		innerKeyed: make([]byte, 0, size), outerKeyed: make([]byte, 0, size), initial: initial}
}

// hashID names m's hash for its pool: the digest sizes of SHA-256, SHA-384
// and SHA-512 differ.
func (m *rekeyable) hashID() crypto.Hash {
	switch m.inner.Size() {
	case 48:
		return crypto.SHA384
	case 64:
		return crypto.SHA512
	}
	return crypto.SHA256
}

// setKey keys m with key and leaves the inner digest ready for the message.
func (m *rekeyable) setKey(key []byte) {
	pad := &m.pad
	block := m.inner.BlockSize()
	if len(key) > block {
		m.outer.Reset()
		m.outer.Write(key)
		m.outer.Sum(pad[:0])
	} else {
		copy(pad[:], key)
	}
	for i := range pad[:block] {
		pad[i] ^= 0x36
	}
	m.innerKeyed = m.keyed(m.inner, pad[:block], m.innerKeyed)
	for i := range pad[:block] {
		pad[i] ^= 0x36 ^ 0x5c
	}
	m.outerKeyed = m.keyed(m.outer, pad[:block], m.outerKeyed)
	clear(pad[:])
}

// keyed hashes one padded key block into d and saves the state in to.
func (m *rekeyable) keyed(d stateHash, padded, to []byte) []byte {
	d.Reset()
	d.Write(padded)
	state, err := d.AppendBinary(to[:0])
	if err != nil {
		panic(fmt.Sprintf("keys: saving an HMAC state: %v", err))
	}
	return state
}

// restore puts a state saved by keyed (or the initial one) back into d;
// those always fit, so a failure is a programming error.
func restore(d stateHash, state []byte) {
	if err := d.UnmarshalBinary(state); err != nil {
		panic(fmt.Sprintf("keys: restoring an HMAC state: %v", err))
	}
}

func (m *rekeyable) Write(p []byte) (int, error) { return m.inner.Write(p) }

// Sum appends HMAC(K, message written since the key or the last Reset).
func (m *rekeyable) Sum(b []byte) []byte {
	n := len(b)
	b = m.inner.Sum(b)
	restore(m.outer, m.outerKeyed)
	m.outer.Write(b[n:])
	return m.outer.Sum(b[:n])
}

// Reset starts a new message under the same key.
func (m *rekeyable) Reset() { restore(m.inner, m.innerKeyed) }

func (m *rekeyable) Size() int      { return m.inner.Size() }
func (m *rekeyable) BlockSize() int { return m.inner.BlockSize() }

// wipe forgets the key and the last message: the saved states are zeroed
// and both digests restored to the empty state, which rewrites their
// buffers.
func (m *rekeyable) wipe() {
	clear(m.innerKeyed)
	clear(m.outerKeyed)
	m.innerKeyed, m.outerKeyed = m.innerKeyed[:0], m.outerKeyed[:0]
	restore(m.inner, m.initial)
	restore(m.outer, m.initial)
}
