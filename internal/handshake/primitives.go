package handshake

import (
	"crypto"

	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/provider"
)

// crypto is the provider of this handshake's primitives: Config.Provider,
// or the standard library's when an engine is driven without one (tests,
// fuzzing). Every primitive the engines use goes through it or through
// hash: key shares, signatures, the RSA key exchange, AEADs, and the
// transcript and key schedule via keys.Hash.
func (b *base) crypto() provider.Provider { return provider.OrStdlib(b.cfg.Provider) }

// hash is a suite's hash computed by the provider.
func (b *base) hash(h crypto.Hash) keys.Hash { return keys.Hash{Hash: h, Provider: b.cfg.Provider} }
