package keys

import (
	"crypto"
	"hash"
)

// typeMessageHash is HandshakeType message_hash (RFC 8446 §4).
const typeMessageHash = 254

// Transcript is the running hash of the handshake messages: handshake_messages
// of RFC 5246 §7.4.9 and Transcript-Hash of RFC 8446 §4.4.1. Messages are
// written whole, with their 4-byte headers, in the order they went over the
// wire.
//
// A client does not know the hash until ServerHello names the cipher suite,
// so until SetHash the Transcript only buffers; SetHash replays the buffer.
// The zero value is ready to use.
type Transcript struct {
	hash Hash
	h    hash.Hash // nil until SetHash
	buf  []byte    // messages so far: always before SetHash, after it only if keep
	keep bool
	sum  *[64]byte // SumTemp's result, made at its first call
}

// Write adds one complete handshake message.
func (t *Transcript) Write(msg []byte) {
	if t.h != nil {
		t.h.Write(msg)
	}
	if t.h == nil || t.keep {
		t.buf = append(t.buf, msg...)
	}
}

// SetHash fixes the hash and hashes what was buffered. The hash cannot change
// afterwards: a second SetHash with another hash panics (the handshake would
// be hashing one transcript two ways); with the same hash it does nothing.
func (t *Transcript) SetHash(h Hash) {
	if t.h != nil {
		if t.hash.Hash != h.Hash {
			panic("keys: Transcript.SetHash: the transcript hash is already set to another hash")
		}
		return
	}
	t.hash = h
	t.h = h.New()
	t.h.Write(t.buf)
	if !t.keep {
		t.buf = nil
	}
}

// Hash returns the hash set by SetHash, or 0 before.
func (t *Transcript) Hash() crypto.Hash { return t.hash.Hash }

// Sum returns the hash of the messages so far without changing the
// transcript, or nil before SetHash.
func (t *Transcript) Sum() []byte {
	if t.h == nil {
		return nil
	}
	return t.h.Sum(nil)
}

// SumTemp is Sum into memory of the transcript's own, overwritten by the
// next SumTemp: for a hash that is used at once and not kept (the input of
// a Finished HMAC, of Derive-Secret, of a signed content), which every
// such use copies. A handshake takes several sums; this way they cost one
// allocation together.
func (t *Transcript) SumTemp() []byte {
	if t.h == nil {
		return nil
	}
	if t.sum == nil {
		t.sum = new([64]byte)
	}
	return t.h.Sum(t.sum[:0])
}

// KeepBuffer(true) keeps the raw messages after SetHash too: a TLS 1.2
// CertificateVerify signs handshake_messages themselves (RFC 5246 §7.4.8),
// possibly with another hash than the PRF's, or whole with Ed25519. Call it
// before SetHash, while the buffer still holds everything; KeepBuffer(false)
// drops the buffer once the hash is set.
func (t *Transcript) KeepBuffer(keep bool) {
	t.keep = keep
	if !keep && t.h != nil {
		t.buf = nil
	}
}

// Buffer returns a copy of the messages buffered so far: all of them before
// SetHash, and after it only if KeepBuffer(true) was called before.
func (t *Transcript) Buffer() []byte {
	return append([]byte(nil), t.buf...)
}

// ReplaceWithMessageHash turns the transcript, which holds ClientHello1, into
// the synthetic message RFC 8446 §4.4.1 puts in its place after a
// HelloRetryRequest:
//
//	Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
//	    Hash(message_hash ||        /* Handshake type */
//	         00 00 Hash.length  ||  /* Handshake message length (bytes) */
//	         Hash(ClientHello1) ||  /* Hash of ClientHello1 */
//	         HelloRetryRequest  || ... || Mn)
//
// The hash must be set (the client learns it from the HelloRetryRequest);
// calling it before SetHash is a programming error and panics.
func (t *Transcript) ReplaceWithMessageHash() {
	if t.h == nil {
		panic("keys: Transcript.ReplaceWithMessageHash before SetHash")
	}
	sum := t.h.Sum(nil)
	msg := make([]byte, 0, 4+len(sum))
	msg = append(msg, typeMessageHash, 0, 0, byte(len(sum)))
	msg = append(msg, sum...)
	t.h.Reset()
	t.h.Write(msg)
	if t.keep {
		t.buf = append(t.buf[:0], msg...)
	}
}

// Clone returns an independent copy. A client needs one to compute a PSK
// binder over the transcript plus a truncated ClientHello (RFC 8446
// §4.2.11.2) without committing the truncated message.
func (t *Transcript) Clone() *Transcript {
	c := &Transcript{hash: t.hash, keep: t.keep, buf: append([]byte(nil), t.buf...)}
	if t.h != nil {
		// Every standard library hash is a hash.Cloner and clones without error.
		cl, ok := t.h.(hash.Cloner)
		if !ok {
			panic("keys: Transcript.Clone: hash cannot be cloned")
		}
		h, err := cl.Clone()
		if err != nil {
			panic("keys: Transcript.Clone: " + err.Error())
		}
		c.h = h
	}
	return c
}
