package handshake

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
)

// peerChain is where a peer's certificate chain enters tlsflow: from a
// Certificate message, or from a session being resumed. Before anything is
// verified it enforces the limits policy (how many certificates, how many
// bytes, how large an RSA modulus: verifying a signature with a 128 Kbit
// modulus costs seconds, so the size is checked before any signature is)
// and that the leaf's key is one tlsflow can use. crypto/x509 parses an
// RSASSA-PSS, Ed448 or ML-DSA key without an error and leaves PublicKey
// nil: such a chain may well verify, but its holder can prove nothing to
// us, so it is refused here, in both versions and on both sides, and no
// later step has to remember that a key may be missing.
//
// What the policy then says about the chain (trust, names, usages) is
// Config.VerifyPeer's to decide.
func (b *base) peerChain(raw [][]byte, step int, what string) ([]*x509.Certificate, error) {
	lim := b.cfg.limits()
	if len(raw) == 0 {
		return nil, alert.Errorf(alert.BadCertificate, step, "Certificate", "%s rejected: the chain is empty", what)
	}
	if len(raw) > lim.ChainCertificates {
		return nil, alert.Errorf(alert.BadCertificate, step, "Certificate",
			"%s rejected: a chain of %d certificates, more than the limit of %d", what, len(raw), lim.ChainCertificates)
	}
	total := 0
	for _, der := range raw {
		total += len(der)
	}
	if total > lim.ChainBytes {
		return nil, alert.Errorf(alert.BadCertificate, step, "Certificate",
			"%s rejected: a chain of %d bytes, more than the limit of %d", what, total, lim.ChainBytes)
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, der := range raw {
		cert, err := b.cfg.parseCertificate(der)
		if err != nil {
			return nil, alert.Errorf(alert.BadCertificate, step, "Certificate",
				"%s rejected: certificate %d of the chain does not parse: %w", what, i, err)
		}
		if err := rsaSizeAllowed(cert.PublicKey, lim); err != nil {
			return nil, alert.Errorf(alert.UnsupportedCertificate, step, "Certificate",
				"%s rejected: certificate %d of the chain: %w", what, i, err)
		}
		certs[i] = cert
	}
	if !usableKey(certs[0].PublicKey) {
		return nil, alert.Errorf(alert.UnsupportedCertificate, step, "Certificate",
			"%s rejected: its key (%s) is of a kind tlsflow cannot verify signatures with", what, certs[0].PublicKeyAlgorithm)
	}
	return certs, nil
}

// rsaSizeAllowed refuses an RSA modulus above the policy's RSABits.
func rsaSizeAllowed(pub crypto.PublicKey, lim *limits.Policy) error {
	if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() > lim.RSABits {
		return fmt.Errorf("an RSA key of %d bits, more than the limit of %d", k.N.BitLen(), lim.RSABits)
	}
	return nil
}

// usableKey reports whether a peer's leaf key is one tlsflow verifies
// signatures with (internal/signature) or encrypts to (the RSA key
// exchange).
func usableKey(pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k != nil
	case *ecdsa.PublicKey:
		return k != nil
	case ed25519.PublicKey:
		return len(k) == ed25519.PublicKeySize
	}
	return false
}
