package handshake

import (
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
)

// deriveKeys12 expands the master secret into the key block (RFC 5246 §6.3)
// and builds each direction's AEAD: GCM with the RFC 5288 explicit nonce,
// ChaCha20-Poly1305 with the RFC 7905 XOR nonce.
func (b *base) deriveKeys12(s *suites.Suite, master, clientRandom, serverRandom []byte) (client, server record.Cipher, err error) {
	ck, sk, civ, siv := keys.KeyBlock12(b.hash(s.Hash), master, clientRandom, serverRandom, s.KeyLen(), s.IVLen())
	caead, err := s.NewAEAD(b.cfg.Provider, ck)
	if err != nil {
		return client, server, err
	}
	saead, err := s.NewAEAD(b.cfg.Provider, sk)
	if err != nil {
		return client, server, err
	}
	client = record.NewAEAD12(caead, civ, s.ExplicitNonce())
	server = record.NewAEAD12(saead, siv, s.ExplicitNonce())
	return client, server, nil
}
