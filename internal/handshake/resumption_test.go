package handshake

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
)

// The resumption decisions are tested here case by case, one table per
// side; the attacks that reach them through a connection are in the root
// package (attack_*_test.go).

var resumeNow = time.Now() // the fixtures' certificates are valid around now

const (
	suite12 = suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	suite13 = suites.TLS_AES_128_GCM_SHA256
)

// serverFor returns a server engine answering a ClientHello for name that
// offers suite12 and suite13, with or without extended_master_secret.
func serverFor(name string, ems bool, auth ClientAuth, clientCAs *x509.CertPool) *Server {
	cfg := &Config{
		Time: func() time.Time { return resumeNow }, CipherSuites: []uint16{suite13, suite12},
		SignatureSchemes: signature.Default, ClientAuth: auth,
		VerifyPeer: verifier(clientCAs, x509.ExtKeyUsageClientAuth, ""),
	}
	if auth != VerifyClientCertIfGiven && auth != RequireAndVerifyClientCert {
		cfg.VerifyPeer = func(certs []*x509.Certificate) (*PeerCertificates, error) {
			return &PeerCertificates{Certificates: certs}, nil
		}
	}
	s := NewServer(cfg)
	s.hello = &wire.ClientHello{CipherSuites: []uint16{suite13, suite12}}
	if ems {
		s.hello.Extensions.AddEmpty(wire.ExtExtendedMasterSecret)
	}
	s.info = &ClientHelloInfo{ServerName: name}
	return s
}

func TestServerResumptionDecision(t *testing.T) {
	f := testFixtures()
	otherCA := pki.MustNewCA("another CA", pki.ECDSAP256)
	good12 := func() *session.State {
		return &session.State{Version: suites.VersionTLS12, CipherSuite: suite12, Secret: make([]byte, 48),
			ExtendedMaster: true, CreatedAt: resumeNow.Add(-time.Hour), ServerName: "a.example"}
	}
	with := func(change func(*session.State)) *session.State {
		s := good12()
		change(s)
		return s
	}
	withClient := with(func(s *session.State) { s.PeerCertificates = f.client.Chain })
	for _, tc := range []struct {
		name    string
		sess    *session.State
		version uint16
		suite   uint16 // TLS 1.3: the suite chosen for the handshake
		ems     bool   // the ClientHello offers extended_master_secret
		sni     string
		auth    ClientAuth
		cas     *x509.CertPool
		psk     bool   // the server holds fuzzExternalPSK
		want    string // "" resume, "abort: ..." an alert, else a word of the reason
	}{
		{name: "a good session", sess: good12(), ems: true, sni: "a.example"},
		{name: "no session", sess: nil, ems: true, sni: "a.example", want: "not a session of this server"},
		{name: "another version", sess: with(func(s *session.State) { s.Version = suites.VersionTLS13 }), ems: true, sni: "a.example", want: "TLS 1.3"},
		{name: "seven days after the full handshake", sess: with(func(s *session.State) { s.CreatedAt = resumeNow.Add(-session.MaxLifetime) }), ems: true, sni: "a.example"},
		{name: "a second later", sess: with(func(s *session.State) { s.CreatedAt = resumeNow.Add(-session.MaxLifetime - time.Second) }), ems: true, sni: "a.example", want: "expired"},
		{name: "another server name (RFC 6066 §3)", sess: good12(), ems: true, sni: "b.example", want: "server name"},
		{name: "a name where the session had none", sess: with(func(s *session.State) { s.ServerName = "" }), ems: true, sni: "a.example", want: "server name"},
		{name: "its suite no longer offered", sess: with(func(s *session.State) { s.CipherSuite = suites.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 }), ems: true, sni: "a.example", want: "cipher suite"},
		{name: "EMS session, ClientHello without EMS (RFC 7627 §5.3)", sess: good12(), ems: false, sni: "a.example", want: "abort: handshake_failure"},
		{name: "session without EMS, ClientHello with EMS", sess: with(func(s *session.State) { s.ExtendedMaster = false }), ems: true, sni: "a.example", want: "extended master secret"},
		{name: "neither with EMS", sess: with(func(s *session.State) { s.ExtendedMaster = false }), ems: false, sni: "a.example"},
		{name: "a client certificate now required", sess: good12(), ems: true, sni: "a.example", auth: RequireAnyClientCert, want: "requires a client certificate"},
		{name: "the client chain verifies", sess: withClient, ems: true, sni: "a.example", auth: RequireAndVerifyClientCert, cas: f.ca.Pool},
		{name: "the client chain no longer verifies", sess: withClient, ems: true, sni: "a.example", auth: RequireAndVerifyClientCert, cas: otherCA.Pool, want: "no longer verifies"},
		{name: "the stored chain is over the limits", sess: with(func(s *session.State) { s.PeerCertificates = make([][]byte, limits.Default.ChainCertificates+1) }), ems: true, sni: "a.example", want: "more than the limit"},
		{name: "TLS 1.3, another suite of the same hash (RFC 8446 §4.2.11)", version: suites.VersionTLS13, suite: suites.TLS_CHACHA20_POLY1305_SHA256,
			sess: with(func(s *session.State) { s.Version, s.CipherSuite = suites.VersionTLS13, suite13 }), sni: "a.example"},
		{name: "TLS 1.3, a suite of another hash", version: suites.VersionTLS13, suite: suites.TLS_AES_256_GCM_SHA384,
			sess: with(func(s *session.State) { s.Version, s.CipherSuite = suites.VersionTLS13, suite13 }), sni: "a.example", want: "hash"},
		{name: "TLS 1.3, another server name", version: suites.VersionTLS13, suite: suite13,
			sess: with(func(s *session.State) { s.Version, s.CipherSuite = suites.VersionTLS13, suite13 }), sni: "b.example", want: "server name"},
		{name: "TLS 1.3, an external PSK's session, the PSK still held, client auth required", version: suites.VersionTLS13, suite: suite13,
			sess: with(func(s *session.State) {
				s.Version, s.CipherSuite, s.ExternalPSKIdentity = suites.VersionTLS13, suite13, fuzzExternalPSK.Identity
			}),
			sni: "a.example", auth: RequireAndVerifyClientCert, cas: f.ca.Pool, psk: true},
		{name: "TLS 1.3, an external PSK's session, the PSK gone", version: suites.VersionTLS13, suite: suite13,
			sess: with(func(s *session.State) {
				s.Version, s.CipherSuite, s.ExternalPSKIdentity = suites.VersionTLS13, suite13, fuzzExternalPSK.Identity
			}),
			sni: "a.example", want: "no longer has"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			version := tc.version
			if version == 0 {
				version = suites.VersionTLS12
			}
			s := serverFor(tc.sni, tc.ems, tc.auth, tc.cas)
			if tc.psk {
				s.cfg.ExternalPSKs = []*ExternalPSK{fuzzExternalPSK}
			}
			verdict, err := s.mayResume(tc.sess, version, suites.Lookup(tc.suite))
			switch {
			case strings.HasPrefix(tc.want, "abort: "):
				var ae *alert.Error
				if !errors.As(err, &ae) || ae.Alert.String() != strings.TrimPrefix(tc.want, "abort: ") {
					t.Fatalf("mayResume = %+v, %v; want the handshake aborted with %s", verdict, err, tc.want)
				}
			case err != nil:
				t.Fatalf("mayResume: %v", err)
			case tc.want == "" && verdict.reject != "":
				t.Fatalf("rejected (%s); want the session resumed", verdict.reject)
			case tc.want != "" && !strings.Contains(verdict.reject, tc.want):
				t.Fatalf("reject = %q; want a reason with %q", verdict.reject, tc.want)
			case tc.want == "" && len(tc.sess.PeerCertificates) > 0 && (verdict.peer == nil || len(verdict.peer.Certificates) == 0):
				t.Fatal("resumed a session with a client chain, but returned no peer")
			}
		})
	}
}

// clientFor returns a client engine for name whose verification trusts
// anchors (nil: InsecureSkipVerify) and counts the full verifications.
func clientFor(name string, anchors any, pool *x509.CertPool, verifications *int) *Client {
	v := verifier(pool, x509.ExtKeyUsageServerAuth, name)
	return NewClient(&Config{
		Time: func() time.Time { return resumeNow }, ServerName: name, TrustAnchors: anchors,
		VerifyPeer: func(certs []*x509.Certificate) (*PeerCertificates, error) {
			*verifications++
			return v(certs)
		},
	})
}

func TestClientResumptionDecision(t *testing.T) {
	f := testFixtures()
	leaf := f.ecdsaServer.Cert // valid for serverName, issued by f.ca
	chains := [][]*x509.Certificate{{leaf, f.ca.Cert}}
	otherCA := pki.MustNewCA("another CA", pki.ECDSAP256)
	type anchors struct{ name string }
	ours, theirs := anchors{"ours"}, anchors{"theirs"}
	good := func() *session.State {
		return &session.State{Version: suites.VersionTLS12, CipherSuite: suite12, Secret: make([]byte, 48), Ticket: []byte("t"),
			CreatedAt: resumeNow.Add(-time.Hour), ReceivedAt: resumeNow.Add(-time.Hour), Lifetime: session.MaxLifetime,
			ServerName: serverName, Certificates: []*x509.Certificate{leaf}, VerifiedChains: chains, VerifiedUnder: ours}
	}
	with := func(change func(*session.State)) *session.State {
		s := good()
		change(s)
		return s
	}
	for _, tc := range []struct {
		name     string
		sess     *session.State
		version  uint16
		offered  []uint16
		name2    string // the client's ServerName, if not serverName
		anchors  any    // the client's trust anchors now; nil: InsecureSkipVerify
		pool     *x509.CertPool
		disabled bool      // tickets disabled
		at       time.Time // the client's clock, if not resumeNow
		psk      bool      // the client holds fuzzExternalPSK
		pskOnly  bool      // the client has no server name and only PSKs (Config.ExternalPSKOnly)
		want     string
		verifies int // full verifications expected
	}{
		{name: "same anchors, chain still valid", sess: good(), anchors: ours},
		{name: "no session", sess: nil, anchors: ours, want: "no session"},
		{name: "another version", sess: good(), version: suites.VersionTLS13, anchors: ours, want: "TLS 1.2"},
		{name: "tickets disabled", sess: good(), anchors: ours, disabled: true, want: "disabled"},
		{name: "seven days after its full handshake, though renewed", sess: with(func(s *session.State) {
			s.CreatedAt = resumeNow.Add(-session.MaxLifetime - time.Second)
		}), anchors: ours, want: "expired"},
		{name: "its ticket's lifetime is over", sess: with(func(s *session.State) { s.Lifetime = time.Minute }), anchors: ours, want: "expired"},
		{name: "made for another name", sess: good(), name2: "other.example", anchors: ours, want: "server name"},
		{name: "its suite is not offered", sess: good(), offered: []uint16{suites.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}, anchors: ours, want: "cipher suite"},
		{name: "TLS 1.3, a suite of the same hash is enough", version: suites.VersionTLS13, offered: []uint16{suites.TLS_CHACHA20_POLY1305_SHA256},
			sess: with(func(s *session.State) { s.Version, s.CipherSuite = suites.VersionTLS13, suite13 }), anchors: ours},
		{name: "same anchors, the server certificate expired since", sess: with(func(s *session.State) {
			s.CreatedAt, s.ReceivedAt = leaf.NotAfter.Add(-time.Hour), leaf.NotAfter.Add(-time.Hour)
		}), at: leaf.NotAfter.Add(36 * time.Hour), anchors: ours, want: "expired"},
		{name: "same anchors, a faulty cache gives another host's session", sess: with(func(s *session.State) { s.ServerName = "other.example" }),
			name2: "other.example", anchors: ours, want: "not valid for other.example"},
		{name: "other anchors that trust the chain: verified again", sess: good(), anchors: theirs, pool: f.ca.Pool, verifies: 1},
		{name: "other anchors that do not: not offered", sess: good(), anchors: theirs, pool: otherCA.Pool, verifies: 1, want: "does not verify"},
		{name: "made without verification, now strict: verified again", sess: with(func(s *session.State) { s.VerifiedChains, s.VerifiedUnder = nil, nil }),
			anchors: ours, pool: otherCA.Pool, verifies: 1, want: "does not verify"},
		{name: "InsecureSkipVerify now: nothing to check", sess: with(func(s *session.State) { s.VerifiedChains, s.VerifiedUnder = nil, nil }), anchors: nil},
		{name: "an external PSK's session, the PSK still held", sess: with(func(s *session.State) {
			s.Version, s.CipherSuite, s.ExternalPSKIdentity, s.Certificates, s.VerifiedChains = suites.VersionTLS13, suite13, fuzzExternalPSK.Identity, nil, nil
		}), version: suites.VersionTLS13, anchors: ours, psk: true},
		{name: "an external PSK's session, the PSK gone", sess: with(func(s *session.State) {
			s.Version, s.CipherSuite, s.ExternalPSKIdentity, s.Certificates, s.VerifiedChains = suites.VersionTLS13, suite13, fuzzExternalPSK.Identity, nil, nil
		}), version: suites.VersionTLS13, anchors: ours, want: "no longer has"},
		{name: "a certificate's session for a client that can check only PSKs", sess: with(func(s *session.State) {
			s.ServerName, s.VerifiedChains, s.VerifiedUnder = "", nil, nil
		}), anchors: ours, pool: f.ca.Pool, psk: true, pskOnly: true, want: "cannot check"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			version, offered, name := tc.version, tc.offered, tc.name2
			if version == 0 {
				version = suites.VersionTLS12
			}
			if offered == nil {
				offered = []uint16{suite12, suite13}
			}
			if name == "" {
				name = serverName
			}
			verifications := 0
			c := clientFor(name, tc.anchors, tc.pool, &verifications)
			c.cfg.TicketsDisabled = tc.disabled
			if tc.psk {
				c.cfg.ExternalPSKs = []*ExternalPSK{fuzzExternalPSK}
			}
			if tc.pskOnly {
				c.cfg.ServerName, c.cfg.ExternalPSKOnly = "", true
			}
			if !tc.at.IsZero() {
				c.cfg.Time = func() time.Time { return tc.at }
			}
			peer, why := c.mayResume(tc.sess, version, offered)
			switch {
			case tc.want == "" && why != "":
				t.Fatalf("not offered (%s); want it offered", why)
			case tc.want != "" && !strings.Contains(why, tc.want):
				t.Fatalf("why = %q; want a reason with %q", why, tc.want)
			case tc.want == "" && (peer == nil || len(peer.Certificates) == 0) && tc.sess.ExternalPSKIdentity == nil:
				t.Fatal("offered, but with no server chain to report")
			case verifications != tc.verifies:
				t.Fatalf("%d full verifications; want %d", verifications, tc.verifies)
			}
		})
	}
}
