package tlsflow

// What crypto/tls has and tlsflow keeps for code that switches: names,
// deprecated fields that still mean something, and small methods. See
// docs/SWITCHING.md and docs/CRYPTO_TLS.md.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/tlsflow/tlsflow/internal/session"
)

// String returns the constant's name, as crypto/tls does
// ("RequireAndVerifyClientCert"), or "ClientAuthType(n)".
func (i ClientAuthType) String() string {
	switch i {
	case NoClientCert:
		return "NoClientCert"
	case RequestClientCert:
		return "RequestClientCert"
	case RequireAnyClientCert:
		return "RequireAnyClientCert"
	case VerifyClientCertIfGiven:
		return "VerifyClientCertIfGiven"
	case RequireAndVerifyClientCert:
		return "RequireAndVerifyClientCert"
	}
	return "ClientAuthType(" + strconv.Itoa(int(i)) + ")"
}

// Context returns the context of the handshake the ClientHello belongs to:
// the one given to Conn.HandshakeContext (context.Background for Handshake,
// Read and Write), bounded by Config.HandshakeTimeout when that applies.
// A ClientHelloInfo made by hand has context.Background.
func (chi *ClientHelloInfo) Context() context.Context {
	if chi.ctx == nil {
		return context.Background()
	}
	return chi.ctx
}

// Context returns the context of the handshake the CertificateRequest
// belongs to, as ClientHelloInfo.Context does.
func (cri *CertificateRequestInfo) Context() context.Context {
	if cri.ctx == nil {
		return context.Background()
	}
	return cri.ctx
}

// VerifyHostname checks that the server's certificate is valid for host, as
// crypto/x509's Certificate.VerifyHostname judges it (a DNS name, a
// wildcard, or an IP address). It is for clients, after a handshake that
// verified the server's chain: with InsecureSkipVerify there is no
// verified chain and it fails, as in crypto/tls, since a name on a
// certificate nobody checked proves nothing.
func (c *Conn) VerifyHostname(host string) error {
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	switch {
	case !c.isClient:
		return errors.New("tlsflow: VerifyHostname is for clients; this is a server connection")
	case !c.handshakeDone.Load() || c.state == nil:
		return errors.New("tlsflow: VerifyHostname before the handshake completed")
	case len(c.state.VerifiedChains) == 0 || len(c.state.PeerCertificates) == 0:
		return errors.New("tlsflow: VerifyHostname: the server's chain was not verified (InsecureSkipVerify)")
	}
	return c.state.PeerCertificates[0].VerifyHostname(host)
}

// BuildNameToCertificate fills NameToCertificate from Certificates: each
// certificate under every DNS name it holds (its subject alternative
// names), or under its subject's common name when it has none. A later
// certificate with the same name replaces an earlier one; certificates
// whose leaf does not parse are skipped.
//
// Deprecated: see NameToCertificate. A server picks the certificate from
// Certificates by the requested name and by what the client supports.
func (c *Config) BuildNameToCertificate() {
	c.NameToCertificate = make(map[string]*Certificate)
	for i := range c.Certificates {
		cert := &c.Certificates[i]
		leaf, err := cert.leaf()
		if err != nil {
			continue
		}
		if len(leaf.DNSNames) == 0 && leaf.Subject.CommonName != "" {
			c.NameToCertificate[leaf.Subject.CommonName] = cert
		}
		for _, name := range leaf.DNSNames {
			c.NameToCertificate[name] = cert
		}
	}
}

// pickCertificate is the server's certificate callback: GetCertificate,
// then NameToCertificate; nil without error leaves the choice to
// Certificates.
func (c *Config) pickCertificate(chi *ClientHelloInfo) (*Certificate, error) {
	if c.GetCertificate != nil {
		if cert, err := c.GetCertificate(chi); cert != nil || err != nil {
			return cert, err
		}
	}
	return c.certificateForName(chi.ServerName), nil
}

// certificateForName looks name up in NameToCertificate: as it is, in
// lower case, then as a wildcard for its first label ("*.example.com"
// for "www.example.com").
func (c *Config) certificateForName(name string) *Certificate {
	if c.NameToCertificate == nil || name == "" {
		return nil
	}
	name = strings.ToLower(name)
	if cert, ok := c.NameToCertificate[name]; ok {
		return cert
	}
	if _, rest, found := strings.Cut(name, "."); found {
		return c.NameToCertificate["*."+rest]
	}
	return c.NameToCertificate["*"]
}

// legacyTicketKeys are a Config's ticket keys made from SessionTicketKey,
// once, on the first server handshake that needs them.
type legacyTicketKeys struct {
	once sync.Once
	keys *session.Keys
}

// ticketKeys returns the keys a server seals and opens tickets with: those
// given to SetSessionTicketKeys, else the deprecated SessionTicketKey when
// it is set, else the automatic, rotating keys.
func (c *Config) ticketKeys(s *serverSessions) *session.Keys {
	if s.keysSet.Load() || c.SessionTicketKey == ([32]byte{}) {
		return s.tickets
	}
	c.legacyTickets.once.Do(func() {
		keys := new(session.Keys)
		if err := keys.Set([][32]byte{c.SessionTicketKey}, c.now()); err == nil {
			c.legacyTickets.keys = keys
		}
	})
	if c.legacyTickets.keys == nil {
		return s.tickets // cannot happen: a 32-byte key always derives
	}
	return c.legacyTickets.keys
}

// versionRangeError explains MinVersion and MaxVersion that leave no
// version tlsflow implements (lo > hi, as Config.versions resolved them).
// It starts with crypto/tls's words for the same error, which code written
// for it may look for.
func (c *Config) versionRangeError(lo, hi uint16) error {
	const same = "tls: no supported versions satisfy MinVersion and MaxVersion: "
	switch {
	case c.MaxVersion != 0 && c.MaxVersion < VersionTLS12:
		return fmt.Errorf(same+"MaxVersion is %s, and tlsflow implements TLS 1.2 and 1.3; TLS 1.0 and 1.1 are deprecated (RFC 8996)",
			VersionName(c.MaxVersion))
	case hi < maxSupportedVersion:
		return fmt.Errorf(same+"MinVersion %s is above MaxVersion %s", VersionName(lo), VersionName(hi))
	}
	return fmt.Errorf(same+"MinVersion %s is above the highest version tlsflow implements (%s)", VersionName(lo), VersionName(hi))
}

// ownTicketKeys reports whether the application chose this Config's ticket
// keys (SetSessionTicketKeys or SessionTicketKey) rather than leaving them
// automatic.
func (c *Config) ownTicketKeys() bool {
	return c.SessionTicketKey != [32]byte{} || c.serverSessions().keysSet.Load()
}

// RenegotiationSupport is crypto/tls's setting for renegotiation: a TLS 1.2
// server asking its client, after the handshake, for a new one on the same
// connection (a HelloRequest). tlsflow accepts the setting and never
// renegotiates (Config.Renegotiation).
type RenegotiationSupport int

const (
	// RenegotiateNever refuses renegotiation; tlsflow always does.
	RenegotiateNever RenegotiationSupport = iota
	// RenegotiateOnceAsClient would let a server renegotiate once; tlsflow
	// refuses even so, and says why.
	RenegotiateOnceAsClient
	// RenegotiateFreelyAsClient would let a server renegotiate at will;
	// tlsflow refuses even so, and says why.
	RenegotiateFreelyAsClient
)
