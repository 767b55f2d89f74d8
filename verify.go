package tlsflow

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsflow/tlsflow/internal/handshake"
)

// verifyServer checks the server's chain as the course note's step 5 asks:
// a chain to RootCAs, the host name from ServerName, the validity period at
// Config.Time, and the serverAuth extended key usage. The engine has
// parsed the chain and held it to the limits policy.
func (c *Conn) verifyServer(certs []*x509.Certificate) (*handshake.PeerCertificates, error) {
	peer := &handshake.PeerCertificates{Certificates: certs}
	if !c.config.InsecureSkipVerify {
		opts := x509.VerifyOptions{
			Roots:       c.config.RootCAs,
			CurrentTime: c.config.now(),
			DNSName:     strings.TrimSuffix(strings.TrimPrefix(c.serverName(), "["), "]"),
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		chains, err := verifyChain(certs, opts)
		if err != nil {
			return nil, &CertificateVerificationError{UnverifiedCertificates: certs, Err: explainHostname(err)}
		}
		peer.VerifiedChains = chains
	}
	if err := c.callVerifyPeerCertificate(peer); err != nil {
		return nil, err
	}
	return peer, nil
}

// verifyClient checks a client's chain as ClientAuth says: against
// ClientCAs, with the clientAuth extended key usage.
func (c *Conn) verifyClient(certs []*x509.Certificate) (*handshake.PeerCertificates, error) {
	return c.verifyClientAs(c.config.ClientAuth, certs)
}

// verifyClientAs checks a client's chain as auth says (a post-handshake
// request has its own).
func (c *Conn) verifyClientAs(auth ClientAuthType, certs []*x509.Certificate) (*handshake.PeerCertificates, error) {
	peer := &handshake.PeerCertificates{Certificates: certs}
	if auth == VerifyClientCertIfGiven || auth == RequireAndVerifyClientCert {
		opts := x509.VerifyOptions{
			Roots:       c.config.ClientCAs,
			CurrentTime: c.config.now(),
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if opts.Roots == nil {
			opts.Roots = x509.NewCertPool() // never fall back to the system pool for clients
		}
		chains, err := verifyChain(certs, opts)
		if err != nil {
			return nil, &CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
		}
		peer.VerifiedChains = chains
	}
	if err := c.callVerifyPeerCertificate(peer); err != nil {
		return nil, err
	}
	return peer, nil
}

// callVerifyPeerCertificate hands the chain, as the peer sent it, and the
// verified chains to Config.VerifyPeerCertificate.
func (c *Conn) callVerifyPeerCertificate(peer *handshake.PeerCertificates) error {
	if c.config.VerifyPeerCertificate == nil {
		return nil
	}
	raw := make([][]byte, len(peer.Certificates))
	for i, cert := range peer.Certificates {
		raw[i] = cert.Raw
	}
	return c.config.VerifyPeerCertificate(raw, peer.VerifiedChains)
}

// trustAnchors names what a client's verification trusts, for
// handshake.Config.TrustAnchors: its RootCAs pool (nil meaning the
// system's), or nothing with InsecureSkipVerify. Two Configs with the same
// pool verify a chain the same way, so a session verified under one is
// resumed under the other without a new verification.
func (c *Config) trustAnchors() any {
	if c.InsecureSkipVerify {
		return nil
	}
	return rootsAnchor{c.RootCAs}
}

type rootsAnchor struct{ roots *x509.CertPool }

// verifyChain verifies certs[0] with the rest of the chain as intermediates.
//
// Self-issued certificates (issuer = subject) are left out of the first try.
// Nearly always such a certificate is the peer's root, which RFC 8446
// §4.4.2 lets it send or omit: if it is a trust anchor, x509 finds it among
// the roots, and offered as an intermediate as well it only makes x509 check
// the leaf's signature a second time against the same key, an eighth of a
// TLS 1.3 ECDSA handshake. Leaving certificates out can only lose chains,
// never make a wrong one: when the first try fails, the second one has the
// whole chain, so a chain that needs a self-issued certificate (a key
// rollover, RFC 5280 §6.1) verifies as before, and a chain that does not
// verify fails with the same error.
func verifyChain(certs []*x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
	opts.Intermediates = x509.NewCertPool()
	var selfIssued []*x509.Certificate
	for _, cert := range certs[1:] {
		if bytes.Equal(cert.RawSubject, cert.RawIssuer) {
			selfIssued = append(selfIssued, cert)
			continue
		}
		opts.Intermediates.AddCert(cert)
	}
	chains, err := certs[0].Verify(opts)
	if err == nil || len(selfIssued) == 0 {
		return chains, err
	}
	for _, cert := range selfIssued {
		opts.Intermediates.AddCert(cert)
	}
	return certs[0].Verify(opts)
}

// hostnameError says in plain words which names a certificate covers and
// which one was asked for, keeping the x509 error reachable.
type hostnameError struct{ x509.HostnameError }

func (e hostnameError) Error() string {
	// A copy: the certificate is shared between connections (certcache.go),
	// and appending to its DNSNames would write into it.
	names := slices.Clone(e.Certificate.DNSNames)
	for _, ip := range e.Certificate.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return fmt.Sprintf("the certificate names no host, you asked for %s", e.Host)
	}
	return fmt.Sprintf("the certificate is for %s, you asked for %s", strings.Join(names, ", "), e.Host)
}

func (e hostnameError) Unwrap() error { return e.HostnameError }

func explainHostname(err error) error {
	var h x509.HostnameError
	if errors.As(err, &h) {
		return hostnameError{h}
	}
	return err
}
