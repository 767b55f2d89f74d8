package tlsflow

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/tlsflow/tlsflow/internal/handshake"
)

// ExternalPSK is a TLS 1.3 pre-shared key agreed outside TLS (RFC 8446
// §2.2, §4.2.11): a client offers it, a server that holds the same key
// accepts it, and the key authenticates both sides in place of
// certificates — none is sent, none is asked for. What crypto/tls has
// never offered, and IoT fleets, test rigs and closed systems use: OpenSSL's
// -psk, GnuTLS's PSK credentials.
//
// By default the handshake still runs ECDHE with the PSK (psk_dhe_ke), so
// a key stolen later does not decrypt earlier connections; WithoutECDHE
// allows psk_ke, without it.
type ExternalPSK struct {
	// Identity names the key on the wire, in the clear (RFC 8446 §4.2.11:
	// PskIdentity, 1 to 65535 bytes; with Import, the external_identity).
	Identity []byte
	// Key is the secret, at least 16 bytes (RFC 9257 §6: a PSK needs at
	// least 128 bits of entropy).
	Key []byte
	// Hash is the hash the key is used with: crypto.SHA256 (the default
	// when zero, as RFC 8446 §4.2.11 says) or crypto.SHA384. Only TLS 1.3
	// suites of this hash are negotiated with it (TLS_AES_128_GCM_SHA256
	// and TLS_CHACHA20_POLY1305_SHA256, or TLS_AES_256_GCM_SHA384); a
	// server holding it picks such a suite. With Import it is the hash of
	// the import.
	Hash crypto.Hash
	// Import uses the key through the PSK importer of RFC 9258 instead of
	// directly: one imported key per TLS 1.3 hash is derived from Key and
	// offered under an ImportedIdentity, so the same provisioned key serves
	// suites of both hashes without being used with two. Both sides must
	// import (the binder label differs, RFC 9258 §5.2).
	Import bool
	// Context is the ImportedIdentity's context (Import only): what the key
	// is bound to, e.g. the peers' roles (RFC 9258 §5.1, Appendix A).
	Context []byte
	// WithoutECDHE allows psk_ke with this key (RFC 8446 §4.2.9): a client
	// offers it, a server uses it when offered. No forward secrecy.
	WithoutECDHE bool
}

// minPSKKey is the shortest Key accepted: 128 bits.
const minPSKKey = 16

// check refuses a PSK that cannot be used as configured.
func (p *ExternalPSK) check() error {
	switch {
	case len(p.Identity) == 0 || len(p.Identity) > 1<<16-1:
		return fmt.Errorf("an ExternalPSK identity must have 1 to 65535 bytes, not %d", len(p.Identity))
	case len(p.Key) < minPSKKey:
		return fmt.Errorf("the ExternalPSK %q has a %d-byte key; use at least %d random bytes (RFC 9257 §6)", p.Identity, len(p.Key), minPSKKey)
	case p.Hash != 0 && p.Hash != crypto.SHA256 && p.Hash != crypto.SHA384:
		return fmt.Errorf("the ExternalPSK %q has hash %v; TLS 1.3 suites use SHA-256 or SHA-384", p.Identity, p.Hash)
	case len(p.Context) > 0 && !p.Import:
		return fmt.Errorf("the ExternalPSK %q has a Context but no Import: the context belongs to an imported PSK's identity", p.Identity)
	}
	return nil
}

func (p *ExternalPSK) engine() *handshake.ExternalPSK {
	return &handshake.ExternalPSK{Identity: p.Identity, Key: p.Key, Hash: p.Hash, Import: p.Import, Context: p.Context,
		WithoutECDHE: p.WithoutECDHE}
}

// externalPSKs resolves Config.ExternalPSKs and GetExternalPSK for the
// engine. A client's PSKs must fit its pre_shared_key within the limits
// policy (an imported PSK is offered once per TLS 1.3 hash, and a session
// to resume may come first); they need TLS 1.3.
func (c *Config) externalPSKs(hc *handshake.Config, isClient bool) error {
	if len(c.ExternalPSKs) == 0 && (isClient || c.GetExternalPSK == nil) {
		return nil
	}
	if hc.MaxVersion < VersionTLS13 {
		return errors.New("ExternalPSKs need TLS 1.3 (tlsflow has no TLS 1.2 PSK cipher suites), but MaxVersion is TLS 1.2")
	}
	offers := 0
	for i := range c.ExternalPSKs {
		p := &c.ExternalPSKs[i]
		if err := p.check(); err != nil {
			return err
		}
		hc.ExternalPSKs = append(hc.ExternalPSKs, p.engine())
		offers++
		if p.Import {
			offers++
		}
	}
	if max := c.limitPolicy().PSKIdentities - 1; isClient && offers > max {
		return fmt.Errorf("ExternalPSKs would offer %d PSK identities, more than the %d a ClientHello may carry with a session to resume", offers, max)
	}
	if get := c.GetExternalPSK; get != nil && !isClient {
		hc.LookupExternalPSK = func(identity []byte) (*handshake.ExternalPSK, error) {
			p, err := get(identity)
			if err != nil || p == nil {
				return nil, err
			}
			if err := p.check(); err != nil {
				return nil, fmt.Errorf("GetExternalPSK: %w", err)
			}
			return p.engine(), nil
		}
	}
	return nil
}
