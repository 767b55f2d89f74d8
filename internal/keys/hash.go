package keys

import (
	"crypto"
	"hash"

	"github.com/tlsflow/tlsflow/provider"
)

// Hash is a suite's hash together with the provider that computes it. The
// transcript, HMAC (hmac.go), the TLS 1.2 PRF, HKDF and Finished are
// constructions built here on its New, so a provider supplies only the
// primitives (internal tests and the hostile peer leave Provider nil: the
// standard library's).
type Hash struct {
	crypto.Hash
	Provider provider.Provider
}

// Std is h computed by the standard library.
func Std(h crypto.Hash) Hash { return Hash{Hash: h} }

// New returns a new hash from the provider (it shadows crypto.Hash.New).
func (h Hash) New() hash.Hash { return provider.OrStdlib(h.Provider).NewHash(h.Hash) }
