package handshake

import (
	"bytes"
	"slices"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Resuming a session skips the steps that authenticate the peer: whatever
// that authentication established must still hold, under the rules in
// force now. Each side decides that in one function, for both versions;
// the rest of the engine only carries out the decision.
//
// A session may be used now, under this configuration, for this name, in
// this version, with this suite and extended master secret, and with its
// peer's chain still acceptable (or, for a session an external PSK
// authenticated, with that PSK still configured). The session lives session.MaxLifetime from
// the full handshake that authenticated the peer (CreatedAt), however often
// its ticket is renewed.

// serverResumption is the server's decision on a session a ClientHello offers.
type serverResumption struct {
	peer   *PeerCertificates // the session's client chain, checked again; nil if it has none
	reject string            // why the handshake goes on in full instead, or "" to resume
}

// mayResume decides whether the server resumes sess (nil: no session of
// ours) for the ClientHello being answered, in version; for TLS 1.3 suite
// is the suite chosen for this handshake. A non-nil error aborts the
// handshake: RFC 7627 §5.3 leaves no fallback when the client drops the
// extended master secret its session was made with.
func (s *Server) mayResume(sess *session.State, version uint16, suite *suites.Suite) (serverResumption, error) {
	reject := func(why string) (serverResumption, error) { return serverResumption{reject: why}, nil }
	now := s.cfg.now()
	switch {
	case sess == nil:
		return reject("not a session of this server (or its ticket key has been retired)")
	case sess.Version != version:
		return reject("the session is " + suites.VersionName(sess.Version) + ", this handshake " + suites.VersionName(version))
	case sess.Expired(now):
		return reject("the session has expired (7 days after its full handshake)")
	case sess.ServerName != s.info.ServerName:
		// RFC 6066 §3: "A server that implements this extension MUST NOT
		// accept the request to resume the session if the server_name
		// extension contains a different name." TLS 1.3 no longer asks
		// it, but allows it (RFC 8446 §4.6.1: "if a server implementation
		// declines all PSK identities with different SNI values, these two
		// values are always the same"): one rule for both versions.
		return reject("the session was made for server name " + quoteName(sess.ServerName) + ", this ClientHello asks for " + quoteName(s.info.ServerName))
	case sess.ExternalPSKIdentity != nil && !s.stillHasExternal(sess.ExternalPSKIdentity):
		return reject("the session was authenticated by external PSK " + printableIdentity(sess.ExternalPSKIdentity) + ", which this server no longer has")
	case s.cfg.ClientAuth.requires() && len(sess.PeerCertificates) == 0 && sess.PeerRawPublicKey == nil && sess.ExternalPSKIdentity == nil:
		return reject("this server now requires a client certificate, and the session has none")
	}
	if sess.ExternalPSKIdentity == nil {
		if why := s.serverMayResumeCertTypes(sess); why != "" {
			return reject(why)
		}
	}
	if version == suites.VersionTLS13 {
		// RFC 8446 §4.2.11: a PSK is used only with a suite of its hash.
		if ps := suites.Lookup(sess.CipherSuite); ps == nil || ps.Hash != suite.Hash {
			return reject("the session's hash does not match the chosen cipher suite " + suite.Name)
		}
	} else {
		if !contains(s.hello.CipherSuites, sess.CipherSuite) || !contains(s.cfg.CipherSuites, sess.CipherSuite) {
			return reject("the session's cipher suite " + suites.Name(sess.CipherSuite) + " is no longer offered or enabled")
		}
		ems, _ := s.hello.Extensions.Empty(wire.ExtExtendedMasterSecret) // malformed: refused before
		switch {
		case sess.ExtendedMaster && !ems:
			// RFC 7627 §5.3: "If the original session used the
			// "extended_master_secret" extension but the new ClientHello
			// does not contain it, the server MUST abort the abbreviated
			// handshake."
			return serverResumption{}, alert.Errorf(alert.HandshakeFailure, 1, "ClientHello",
				"the client resumes a session made with the extended master secret without offering it (RFC 7627 §5.3)")
		case !sess.ExtendedMaster && ems:
			// "... the server MUST NOT perform the abbreviated handshake.
			// Instead, it SHOULD continue with a full handshake".
			return reject("the session was made without the extended master secret, which the client now offers (RFC 7627 §5.3)")
		}
	}
	if sess.PeerRawPublicKey != nil { // verified again by serverMayResumeCertTypes
		return serverResumption{peer: &PeerCertificates{RawPublicKey: sess.PeerRawPublicKey}}, nil
	}
	if len(sess.PeerCertificates) == 0 {
		return serverResumption{}, nil
	}
	// The client's chain is checked again, as a new one would be: the
	// ClientCAs or the policy may have changed, a certificate expired.
	certs, err := s.peerChain(sess.PeerCertificates, 1, "the session's client certificate")
	if err != nil {
		return reject(err.Error())
	}
	peer, err := s.cfg.VerifyPeer(certs)
	if err != nil {
		return reject("the session's client certificate no longer verifies: " + err.Error())
	}
	return serverResumption{peer: peer}, nil
}

// mayResume decides whether the client offers sess (the cached session,
// nil if none) in a ClientHello offering version and the cipher suites
// offered. It returns the session's server chain as it stands under the
// current configuration, or why the session is not offered.
//
// The session cache is keyed by server name and may be shared between
// configurations, or be the application's own: a session is offered only
// for the name it was made for, and only if its server's chain passes what
// this configuration would ask of it now. If the chain was verified against
// the same trust anchors, its certificates must still be valid and the
// leaf valid for the name; otherwise (another RootCAs, or a session from a
// configuration that did not verify) the chain is verified again in full.
// A configuration that verifies nothing (InsecureSkipVerify) checks nothing.
func (c *Client) mayResume(sess *session.State, version uint16, offered []uint16) (*PeerCertificates, string) {
	now := c.cfg.now()
	switch {
	case sess == nil:
		return nil, "no session"
	case sess.Version != version:
		return nil, "the session is " + suites.VersionName(sess.Version)
	case len(sess.Ticket) > 0 && c.cfg.TicketsDisabled:
		return nil, "session tickets are disabled"
	case sess.Expired(now):
		return nil, "the session has expired"
	case sess.ServerName != c.cfg.ServerName:
		return nil, "the session was made for server name " + quoteName(sess.ServerName)
	case sess.ExternalPSKIdentity != nil:
		// An external PSK authenticated the server: the session stands as
		// long as this configuration still holds that PSK.
		if !slices.ContainsFunc(c.cfg.ExternalPSKs, func(p *ExternalPSK) bool { return bytes.Equal(p.Identity, sess.ExternalPSKIdentity) }) {
			return nil, "the session was authenticated by external PSK " + printableIdentity(sess.ExternalPSKIdentity) + ", which this configuration no longer has"
		}
		if !offersSuiteFor(sess, version, offered) {
			return nil, "no cipher suite offered now fits the session's " + suites.Name(sess.CipherSuite)
		}
		return &PeerCertificates{}, ""
	case c.cfg.ExternalPSKOnly:
		return nil, "the session was authenticated by a certificate, which this client (no server name) cannot check"
	case !offersSuiteFor(sess, version, offered):
		return nil, "no cipher suite offered now fits the session's " + suites.Name(sess.CipherSuite)
	}
	if why := c.clientMayResumeCertTypes(sess); why != "" {
		return nil, why
	}
	if sess.PeerRawPublicKey != nil {
		return &PeerCertificates{RawPublicKey: sess.PeerRawPublicKey}, ""
	}
	if len(sess.Certificates) == 0 {
		return nil, "the session has no server certificate"
	}
	peer := &PeerCertificates{Certificates: sess.Certificates, VerifiedChains: sess.VerifiedChains}
	if c.cfg.TrustAnchors == nil {
		return peer, "" // InsecureSkipVerify: a full handshake would check nothing either
	}
	if sess.VerifiedUnder == c.cfg.TrustAnchors && len(sess.VerifiedChains) > 0 {
		if why := stillValid(sess, c.cfg.ServerName, now); why != "" {
			return nil, why
		}
		return peer, ""
	}
	verified, err := c.cfg.VerifyPeer(sess.Certificates)
	if err != nil {
		return nil, "the session's server certificate does not verify under this configuration: " + err.Error()
	}
	return verified, ""
}

// offersSuiteFor reports whether a suite offered now can resume sess: its
// own suite in TLS 1.2 (RFC 5246 §7.4.1.2), one of the same hash in TLS 1.3
// (RFC 8446 §4.2.11).
func offersSuiteFor(sess *session.State, version uint16, offered []uint16) bool {
	if version == suites.VersionTLS12 {
		return contains(offered, sess.CipherSuite)
	}
	ps := suites.Lookup(sess.CipherSuite)
	if ps == nil {
		return false
	}
	for _, id := range offered {
		if s := suites.Lookup(id); s != nil && s.Version == suites.VersionTLS13 && s.Hash == ps.Hash {
			return true
		}
	}
	return false
}

// stillValid checks what may have changed since a chain was verified
// against the same trust anchors: time (every certificate of some verified
// chain valid now) and, with a cache the application supplies, the name.
func stillValid(sess *session.State, serverName string, now time.Time) string {
	if serverName != "" {
		if err := sess.Certificates[0].VerifyHostname(serverName); err != nil {
			return "the session's server certificate is not valid for " + serverName
		}
	}
	for _, chain := range sess.VerifiedChains {
		valid := true
		for _, cert := range chain {
			if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
				valid = false
				break
			}
		}
		if valid {
			return ""
		}
	}
	return "a certificate of the session's server chain has expired (or is not yet valid)"
}

func quoteName(name string) string {
	if name == "" {
		return "(none)"
	}
	return `"` + name + `"`
}
