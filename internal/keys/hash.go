package keys

import (
	"crypto"
	"hash"

	"github.com/tlsflow/tlsflow/provider"
)

// Hash is a suite's hash together with the provider that computes it. The
// transcript, the TLS 1.2 PRF, HKDF and Finished are constructions built
// here on its New and its HMAC, so a provider supplies only the primitives
// (internal tests and the hostile peer leave Provider nil: the standard
// library's).
type Hash struct {
	crypto.Hash
	Provider provider.Provider
}

// Std is h computed by the standard library.
func Std(h crypto.Hash) Hash { return Hash{Hash: h} }

// New returns a new hash from the provider (it shadows crypto.Hash.New).
func (h Hash) New() hash.Hash { return provider.OrStdlib(h.Provider).NewHash(h.Hash) }

// HMAC returns the provider's HMAC with this hash, keyed with key.
func (h Hash) HMAC(key []byte) hash.Hash { return provider.OrStdlib(h.Provider).NewHMAC(h.Hash, key) }
