package tlsflow_test

// Diagnostics: when a handshake fails, the tlsflow side's error says at
// which step and in which message, which alert went over the wire and which
// way, what went wrong in plain words, and what to change so that it works.
// The trace's final error event carries the same alert, cause and fix.
// Each case is one cause of failure, against a tlsflow, crypto/tls or
// OpenSSL peer (or a plain TCP one, where the peer is the problem).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// diagWant is what the tlsflow side's error must say.
type diagWant struct {
	alert    alert.Alert
	received bool   // the peer sent the alert
	step     int    // or anyStep where the failure is not tied to a step
	message  string // the message named (exactly), if not empty
	cause    string // a substring of the cause (AlertError.Reason)
	fix      string // a substring of the fix (AlertError.Hint)

}

// diagPeer is the other end of a case: it runs a handshake against the
// tlsflow side under test, configured by cfg, and returns that side's error.
type diagPeer struct {
	name string // who the peer is, and how it is set up
	us   string // the tlsflow side under test: "client" or "server"
	run  func(t *testing.T, cfg *tlsflow.Config) error
}

// inProcessServer is a tlsflow or crypto/tls server, reached through the
// man in the middle via makes (if via is not nil).
func inProcessServer(server endpoint, via func() *mitm) diagPeer {
	return diagPeer{name: server.name, us: "client", run: func(t *testing.T, cfg *tlsflow.Config) error {
		cliErr, _ := handshakeBoth(t, tlsflowClient(cfg), server, newVia(via))
		return cliErr
	}}
}

// inProcessClient is a tlsflow or crypto/tls client.
func inProcessClient(client endpoint, via func() *mitm) diagPeer {
	return diagPeer{name: client.name, us: "server", run: func(t *testing.T, cfg *tlsflow.Config) error {
		_, srvErr := handshakeBoth(t, client, tlsflowServer(cfg), newVia(via))
		return srvErr
	}}
}

func newVia(via func() *mitm) *mitm {
	if via == nil {
		return nil
	}
	return via()
}

// opensslServer is `openssl s_server args...` serving one connection.
func opensslServer(args ...string) diagPeer { return opensslServerPeer(false, args) }

// opensslServerJudgingLate is s_server where the tlsflow client completes
// its handshake before the server judges it (TLS 1.3 client
// authentication): the client's error is what its first Read returns.
func opensslServerJudgingLate(args ...string) diagPeer { return opensslServerPeer(true, args) }

func opensslServerPeer(lateVerdict bool, args []string) diagPeer {
	return diagPeer{name: "openssl s_server " + peerArgs(args), us: "client",
		run: func(t *testing.T, cfg *tlsflow.Config) error {
			openssl := requirePeer(t, "openssl")
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			stdin := stdinPipe(t) // held open: s_server quits when its stdin ends
			_, raw := startOpenSSLServer(t, ctx, openssl, stdin.r, append([]string{"s_server"}, args...)...)
			if !lateVerdict {
				return handshakeOnly(raw, tlsflowClient(cfg))
			}
			conn := tlsflow.Client(raw, cfg)
			defer hangUp(raw)
			if err := conn.HandshakeContext(ctx); err != nil {
				return err
			}
			_, err := conn.Read(make([]byte, 1))
			return err
		}}
}

// opensslClient is `openssl s_client args...`.
func opensslClient(args ...string) diagPeer {
	return diagPeer{name: "openssl s_client " + peerArgs(args), us: "server",
		run: func(t *testing.T, cfg *tlsflow.Config) error {
			openssl := requirePeer(t, "openssl")
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			stdin := stdinPipe(t) // held open: s_client must not quit on stdin's end
			_, raw := startOpenSSLClient(t, ctx, openssl, stdin.r, append([]string{"s_client"}, args...)...)
			return handshakeOnly(raw, tlsflowServer(cfg))
		}}
}

// plainServer is a TCP server that is not TLS, or not any more: serve
// gets its one connection, which is closed when serve returns.
func plainServer(name string, serve func(net.Conn)) diagPeer {
	return diagPeer{name: name, us: "client", run: func(t *testing.T, cfg *tlsflow.Config) error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		served := make(chan struct{})
		go func() {
			defer close(served)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(ioTimeout))
			serve(c)
		}()
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		err = handshakeOnly(raw, tlsflowClient(cfg))
		<-served
		return err
	}}
}

// peerArgs is args as a case name shows them: files by their base name.
func peerArgs(args []string) string {
	short := make([]string, len(args))
	for i, a := range args {
		short[i] = a
		if filepath.IsAbs(a) {
			short[i] = filepath.Base(a)
		}
	}
	return strings.Join(short, " ")
}

// errorEvents records the KindError events of one tlsflow side.
type errorEvents struct {
	mu     sync.Mutex
	events []trace.Event
}

func (l *errorEvents) hook(e trace.Event) {
	if e.Kind != trace.KindError {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *errorEvents) last() (trace.Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return trace.Event{}, false
	}
	return l.events[len(l.events)-1], true
}

func TestDiagnostics(t *testing.T) {
	c := sharedCerts()
	dir := t.TempDir()
	now := time.Now()

	aExample := c.ca.MustServer(pki.ECDSAP256, "a.example")
	expired := c.ca.MustIssue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"localhost"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
	fromOtherCA := c.otherCA.MustServer(pki.ECDSAP256, "localhost")
	clientAuthOnly := c.ca.MustIssue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})

	// The tlsflow side's configurations.
	client := func(change ...func(*tlsflow.Config)) func() *tlsflow.Config {
		return func() *tlsflow.Config {
			cfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}
			for _, f := range change {
				f(cfg)
			}
			return cfg
		}
	}
	server := func(leaf *pki.Leaf, change ...func(*tlsflow.Config)) func() *tlsflow.Config {
		return func() *tlsflow.Config {
			cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(leaf)}}
			for _, f := range change {
				f(cfg)
			}
			return cfg
		}
	}
	maxTLS12 := func(cfg *tlsflow.Config) { cfg.MaxVersion = tlsflow.VersionTLS12 }
	minTLS13 := func(cfg *tlsflow.Config) { cfg.MinVersion = tlsflow.VersionTLS13 }
	requireClientCert := func(cfg *tlsflow.Config) {
		cfg.ClientAuth, cfg.ClientCAs = tlsflow.RequireAndVerifyClientCert, c.ca.Pool
	}
	forceClientCert := func(l *pki.Leaf) func(*tlsflow.Config) {
		return func(cfg *tlsflow.Config) {
			cfg.GetClientCertificate = func(*tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
				cert := flowCert(l)
				return &cert, nil
			}
		}
	}

	// The peers' settings.
	goSrv := func(leaf *pki.Leaf, change ...func(*tls.Config)) endpoint {
		cfg := &tls.Config{Certificates: []tls.Certificate{goCert(leaf)}}
		for _, f := range change {
			f(cfg)
		}
		return goServer(cfg)
	}
	goCli := func(change ...func(*tls.Config)) endpoint {
		cfg := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}
		for _, f := range change {
			f(cfg)
		}
		return goClient(cfg)
	}
	goMaxTLS12 := func(cfg *tls.Config) { cfg.MaxVersion = tls.VersionTLS12 }
	goClientCert := func(l *pki.Leaf) func(*tls.Config) {
		return func(cfg *tls.Config) {
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				cert := goCert(l)
				return &cert, nil
			}
		}
	}
	// sslCert is the -cert and -key arguments of s_server for leaf, in
	// files named for what the certificate is.
	sslCert := func(name string, leaf *pki.Leaf) []string {
		return []string{"-cert", writeTempFile(t, dir, name+".pem", leaf.ChainPEM()),
			"-key", writeTempFile(t, dir, name+".key", leaf.KeyPEM())}
	}
	args := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	list := func(s ...string) []string { return s }
	caFile := writeTempFile(t, dir, "ca.pem", c.ca.CertPEM())

	rsaKex := []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}
	ecdheECDSA := []uint16{tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	flipClientHelloEMS := func() *mitm {
		return newMITM(clientToServer, flipHandshakeByte(wire.TypeClientHello, atExtensionType(wire.ExtExtendedMasterSecret)))
	}
	flipServerRandom := func() *mitm {
		return newMITM(serverToClient, flipHandshakeByte(wire.TypeServerHello, atOffset(randomOffset+3)))
	}
	dropTLS13 := func() *mitm {
		return newMITM(clientToServer, &helloRewrite{change: func(ch *wire.ClientHello) error {
			var vs wire.SupportedVersionsClient
			if _, err := ch.Extensions.Decode(wire.ExtSupportedVersions, &vs); err != nil {
				return err
			}
			var kept wire.SupportedVersionsClient
			for _, v := range vs {
				if v != tlsflow.VersionTLS13 {
					kept = append(kept, v)
				}
			}
			return setExtension(ch, wire.ExtSupportedVersions, must(kept.Marshal()))
		}})
	}

	tests := []struct {
		name   string                 // the cause of failure, and whose view
		config func() *tlsflow.Config // the tlsflow side's
		peer   diagPeer
		want   diagWant
	}{
		// ---- the server's certificate ----
		{
			name:   "host name mismatch",
			config: client(func(cfg *tlsflow.Config) { cfg.ServerName = "b.example" }),
			peer:   inProcessServer(goSrv(aExample), nil),
			want: diagWant{alert: alert.BadCertificate, step: 3, message: "Certificate",
				cause: "the certificate is for a.example, you asked for b.example",
				fix:   "connect with ServerName set to a name the certificate covers (a.example), or give the server a certificate for b.example"},
		},
		{
			name:   "server certificate from an unknown CA",
			config: client(),
			peer:   opensslServer(sslCert("other-ca", fromOtherCA)...),
			want: diagWant{alert: alert.UnknownCA, step: 3, message: "Certificate",
				cause: "certificate signed by unknown authority",
				fix:   "add the CA that issued the server certificate (" + c.otherCA.Cert.Subject.String() + ") to RootCAs"},
		},
		{
			name:   "expired server certificate",
			config: client(maxTLS12),
			peer:   inProcessServer(tlsflowServer(server(expired)()), nil),
			want: diagWant{alert: alert.CertificateExpired, step: 3, message: "Certificate",
				cause: "certificate has expired",
				fix:   "expired on"},
		},
		{
			name:   "expired server certificate, seen by the server",
			config: server(expired),
			peer:   opensslClient("-tls1_2", "-CAfile", caFile, "-verify_return_error"),
			want: diagWant{alert: alert.CertificateExpired, received: true, step: 4, message: "after ServerHelloDone",
				cause: "the peer sent a fatal alert: it finds our certificate expired or not yet valid",
				fix:   "the client finds this server's certificate expired"},
		},
		{
			name:   "server certificate not yet valid (Config.Time in the past)",
			config: client(func(cfg *tlsflow.Config) { cfg.Time = func() time.Time { return now.Add(-48 * time.Hour) } }),
			peer:   inProcessServer(goSrv(c.ecdsa), nil),
			want: diagWant{alert: alert.CertificateExpired, step: 3, message: "Certificate",
				cause: "is not yet valid",
				fix:   "is not valid before"},
		},
		{
			name:   "server certificate without the serverAuth extended key usage",
			config: client(),
			peer:   opensslServer(sslCert("client-auth-only", clientAuthOnly)...),
			want: diagWant{alert: alert.UnsupportedCertificate, step: 3, message: "Certificate",
				cause: "incompatible key usage",
				fix:   "the server certificate needs the serverAuth extended key usage"},
		},

		// ---- versions, cipher suites, groups, protocols ----
		{
			name:   "no common cipher suite, seen by the server",
			config: server(c.ecdsa),
			peer: inProcessClient(goCli(goMaxTLS12, func(cfg *tls.Config) {
				cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
			}), nil),
			want: diagWant{alert: alert.HandshakeFailure, step: 2, message: "ServerHello",
				cause: "no common cipher suite: the client offers 0xc009; this server accepts TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
				fix:   "enable a cipher suite the client offers in Config.CipherSuites"},
		},
		{
			name:   "no common cipher suite, seen by the server (OpenSSL client)",
			config: server(c.ecdsa),
			peer:   opensslClient("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"),
			want: diagWant{alert: alert.HandshakeFailure, step: 2, message: "ServerHello",
				cause: "no common cipher suite: the client offers 0xc009",
				fix:   "enable a cipher suite the client offers in Config.CipherSuites"},
		},
		{
			name:   "no common cipher suite, seen by the client",
			config: client(maxTLS12),
			peer:   opensslServer(args(sslCert("ecdsa", c.ecdsa), list("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"))...),
			want: diagWant{alert: alert.HandshakeFailure, received: true, step: 1, message: "after ClientHello",
				cause: "the peer sent a fatal alert: it could not agree on acceptable security parameters with us",
				fix:   "the server accepts nothing our ClientHello offers"},
		},
		{
			name:   "no common cipher suite, seen by the client (crypto/tls server)",
			config: client(func(cfg *tlsflow.Config) { cfg.CipherSuites = ecdheECDSA }),
			peer:   inProcessServer(goSrv(c.rsa, goMaxTLS12), nil),
			want: diagWant{alert: alert.HandshakeFailure, received: true, step: 1, message: "after ClientHello",
				cause: "the peer sent a fatal alert: it could not agree on acceptable security parameters with us",
				fix:   "compare our versions, cipher suites, groups and signature algorithms"},
		},
		{
			name:   "the client wants the RSA key exchange, which the server has not enabled",
			config: server(c.rsa),
			peer:   opensslClient("-tls1_2", "-cipher", "AES128-GCM-SHA256"),
			want: diagWant{alert: alert.HandshakeFailure, step: 2, message: "ServerHello",
				cause: "no common cipher suite: the client offers TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_EMPTY_RENEGOTIATION_INFO_SCSV;",
				fix:   "the RSA key exchange (TLS_RSA_*) is off unless named there"},
		},
		{
			name: "the client offers only the RSA key exchange, which the server has not enabled",
			// TLS 1.2 only: a list without TLS 1.3 suites keeps TLS 1.3's
			// defaults. This test binary sets tlsrsakex=1 (interop_gotls_test.go),
			// so the server's list leaves the RSA key exchange out itself.
			config: client(func(cfg *tlsflow.Config) { cfg.CipherSuites, cfg.MaxVersion = rsaKex, tlsflow.VersionTLS12 }),
			peer: inProcessServer(goSrv(c.rsa, func(cfg *tls.Config) {
				cfg.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
			}), nil),
			want: diagWant{alert: alert.HandshakeFailure, received: true, step: 1, message: "after ClientHello",
				cause: "the peer sent a fatal alert: it could not agree on acceptable security parameters with us",
				fix:   "we offer only the RSA key exchange"},
		},
		{
			name:   "no common version: the client wants TLS 1.3, the server stops at TLS 1.2",
			config: client(minTLS13),
			peer:   inProcessServer(goSrv(c.ecdsa, goMaxTLS12), nil),
			want: diagWant{alert: alert.ProtocolVersion, received: true, step: 1, message: "after ClientHello",
				cause: "the peer sent a fatal alert: it supports none of the protocol versions we offered",
				fix:   "we offered only TLS 1.3 (MinVersion/MaxVersion)"},
		},
		{
			name:   "no common version: the server stops at TLS 1.2, the client wants TLS 1.3",
			config: server(c.ecdsa, maxTLS12),
			peer:   opensslClient("-tls1_3"),
			want: diagWant{alert: alert.ProtocolVersion, step: 1, message: "ClientHello",
				cause: "no common version: the client offers TLS 1.3",
				fix:   "this side allows TLS 1.2–TLS 1.2 (MinVersion/MaxVersion)"},
		},
		{
			name:   "no common version: the server wants TLS 1.3, the client stops at TLS 1.2",
			config: server(c.ecdsa, minTLS13),
			peer:   inProcessClient(tlsflowClient(client(maxTLS12)()), nil),
			want: diagWant{alert: alert.ProtocolVersion, step: 1, message: "ClientHello",
				cause: "the client offers at most TLS 1.2; this server accepts TLS 1.3–TLS 1.3",
				fix:   "this side allows TLS 1.3–TLS 1.3 (MinVersion/MaxVersion)"},
		},
		{
			name: "no common group (TLS 1.3), seen by the server",
			config: server(c.ecdsa, func(cfg *tlsflow.Config) {
				cfg.CurvePreferences = []tlsflow.CurveID{tlsflow.CurveP384}
			}),
			peer: inProcessClient(goCli(func(cfg *tls.Config) {
				cfg.MinVersion, cfg.CurvePreferences = tls.VersionTLS13, []tls.CurveID{tls.X25519}
			}), nil),
			want: diagWant{alert: alert.HandshakeFailure, step: 2, message: "ServerHello",
				cause: "no common group: the client supports x25519; this server accepts secp384r1",
				fix:   "enable a group both sides accept in Config.CurvePreferences (this side: secp384r1)"},
		},
		{
			name: "no common group (TLS 1.3), seen by the client",
			config: client(minTLS13, func(cfg *tlsflow.Config) {
				cfg.CurvePreferences = []tlsflow.CurveID{tlsflow.X25519}
			}),
			peer: opensslServer(args(sslCert("ecdsa", c.ecdsa), list("-tls1_3", "-groups", "P-384"))...),
			want: diagWant{alert: alert.HandshakeFailure, received: true, step: 1, message: "after ClientHello",
				cause: "the peer sent a fatal alert: it could not agree on acceptable security parameters with us",
				fix:   "the server accepts nothing our ClientHello offers"},
		},
		{
			name:   "no common ALPN protocol, seen by the server",
			config: server(c.ecdsa, func(cfg *tlsflow.Config) { cfg.NextProtos = []string{"h2"} }),
			peer:   opensslClient("-alpn", "http/1.1"),
			want: diagWant{alert: alert.NoApplicationProtocol, step: 2, message: "ServerHello",
				cause: `no common application protocol: the client offers ["http/1.1"], this server speaks ["h2"]`,
				fix:   "add one of the client's protocols to NextProtos"},
		},
		{
			name:   "no common ALPN protocol, seen by the client",
			config: client(func(cfg *tlsflow.Config) { cfg.NextProtos = []string{"h2"} }),
			peer:   inProcessServer(goSrv(c.ecdsa, func(cfg *tls.Config) { cfg.NextProtos = []string{"http/1.1"} }), nil),
			want: diagWant{alert: alert.NoApplicationProtocol, received: true, step: 1, message: "after ClientHello",
				cause: "the peer sent a fatal alert: it speaks none of the application protocols we offered (ALPN)",
				fix:   "the server speaks none of our NextProtos (h2)"},
		},

		// ---- the client's certificate ----
		{
			name:   "missing required client certificate (TLS 1.2), seen by the server",
			config: server(c.ecdsa, requireClientCert),
			peer:   opensslClient("-tls1_2"),
			want: diagWant{alert: alert.HandshakeFailure, step: 5, message: "Certificate",
				cause: "the server requires a client certificate signed by one of: " + c.ca.Cert.Subject.String() + ", and the client sent none",
				fix:   "give the client a certificate issued by one of the CAs in ClientCAs"},
		},
		{
			name:   "missing required client certificate (TLS 1.3), seen by the server",
			config: server(c.ecdsa, requireClientCert),
			peer:   inProcessClient(tlsflowClient(client()()), nil),
			want: diagWant{alert: alert.CertificateRequired, step: 5, message: "Certificate",
				cause: "the server requires a client certificate signed by one of: " + c.ca.Cert.Subject.String() + ", and the client sent none",
				fix:   "give the client a certificate issued by one of the CAs in ClientCAs"},
		},
		{
			name:   "missing required client certificate (TLS 1.3), seen by the client",
			config: client(),
			peer:   opensslServerJudgingLate(args(sslCert("ecdsa", c.ecdsa), list("-tls1_3", "-Verify", "1", "-CAfile", caFile))...),
			want: diagWant{alert: alert.CertificateRequired, received: true, step: 7, message: "after Finished",
				cause: "the peer sent a fatal alert: it requires a certificate from us, and we sent none",
				fix:   "the server requires a client certificate, and this client has no certificate to send"},
		},
		{
			name:   "missing required client certificate (TLS 1.2), seen by the client",
			config: client(maxTLS12),
			peer: inProcessServer(goSrv(c.ecdsa, func(cfg *tls.Config) {
				cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, c.ca.Pool
			}), nil),
			want: diagWant{alert: alert.HandshakeFailure, received: true, step: 7, message: "after Finished",
				cause: "the peer sent a fatal alert: it could not agree on acceptable security parameters with us",
				fix:   "this client has no certificate to send"},
		},
		{
			name:   "client certificate from a CA the server does not accept, seen by the server",
			config: server(c.ecdsa, requireClientCert),
			peer:   inProcessClient(goCli(goClientCert(c.clientFromOther)), nil),
			want: diagWant{alert: alert.UnknownCA, step: 5, message: "Certificate",
				cause: "client certificate rejected",
				fix:   "add the CA that issued the client certificate (" + c.otherCA.Cert.Subject.String() + ") to ClientCAs"},
		},
		{
			name:   "client certificate from a CA the server does not accept, seen by the client",
			config: client(maxTLS12, forceClientCert(c.clientFromOther)),
			peer:   opensslServer(args(sslCert("ecdsa", c.ecdsa), list("-tls1_2", "-Verify", "1", "-verify_return_error", "-CAfile", caFile))...),
			want: diagWant{alert: alert.UnknownCA, received: true, step: 7, message: "after Finished",
				cause: "the peer sent a fatal alert: it does not trust the CA that issued our certificate",
				fix:   "the server does not trust the CA that issued our client certificate"},
		},
		{
			name:   "client certificate without the clientAuth extended key usage",
			config: server(c.ecdsa, requireClientCert),
			peer:   inProcessClient(goCli(goClientCert(c.ecdsa)), nil),
			want: diagWant{alert: alert.UnsupportedCertificate, step: 5, message: "Certificate",
				cause: "incompatible key usage",
				fix:   "the client certificate needs the clientAuth extended key usage"},
		},

		// ---- the path between the peers ----
		{
			name: "tampered handshake: a ClientHello extension changed in transit (Finished mismatch)",
			config: server(c.rsa, maxTLS12, func(cfg *tlsflow.Config) {
				cfg.CipherSuites = rsaKex
			}),
			peer: inProcessClient(tlsflowClient(client(maxTLS12, func(cfg *tlsflow.Config) {
				cfg.CipherSuites = rsaKex
			})()), flipClientHelloEMS),
			want: diagWant{alert: alert.DecryptError, step: 7, message: "Finished",
				cause: "verify_data does not match",
				fix:   "the handshake was changed in transit"},
		},
		{
			name:   "tampered handshake: the ServerHello random changed in transit (TLS 1.2, ECDHE)",
			config: client(maxTLS12),
			peer:   inProcessServer(goSrv(c.ecdsa), flipServerRandom),
			want: diagWant{alert: alert.DecryptError, step: 3, message: "ServerKeyExchange",
				cause: "signature over the ECDHE parameters does not verify",
				fix:   "the messages were changed in transit"},
		},
		{
			name:   "tampered handshake: the ServerHello random changed in transit (TLS 1.3)",
			config: client(),
			peer:   inProcessServer(goSrv(c.ecdsa), flipServerRandom),
			want: diagWant{alert: alert.BadRecordMAC, step: anyStep,
				cause: "record failed authentication",
				fix:   "the two sides derived different keys"},
		},
		{
			name:   "downgrade to TLS 1.2 detected by the ServerHello sentinel",
			config: client(),
			peer:   inProcessServer(goSrv(c.ecdsa), dropTLS13),
			want: diagWant{alert: alert.IllegalParameter, step: 2, message: "ServerHello",
				cause: "downgrade",
				fix:   "find the man in the middle"},
		},
		{
			name:   "the peer is not TLS",
			config: client(),
			peer: plainServer("plain TCP server answering HTTP/1.1 400", func(c net.Conn) {
				_, _ = readRawRecord(c)
				_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			}),
			want: diagWant{alert: alert.DecodeError, step: anyStep,
				cause: `first bytes "HTTP/" are plaintext, not a TLS record`,
				fix:   "the server answered in plain text"},
		},
		{
			name:   "the peer closes the connection during the handshake",
			config: client(),
			peer:   plainServer("TCP server closing after the ClientHello", func(c net.Conn) { _, _ = readRawRecord(c) }),
			want: diagWant{alert: alert.CloseNotify, received: true, step: 1, message: "after ClientHello",
				cause: "the peer closed the connection during the handshake",
				fix:   "the server closed the connection without an alert after our ClientHello"},
		},

		// ---- the configuration ----
		{
			name:   "no ServerName and no InsecureSkipVerify",
			config: client(func(cfg *tlsflow.Config) { cfg.ServerName = "" }),
			peer:   inProcessServer(tlsflowServer(server(c.ecdsa)()), nil),
			want: diagWant{alert: alert.InternalError, step: 0,
				cause: "set ServerName (the host to verify) or InsecureSkipVerify",
				fix:   "set Config.ServerName to the host name"},
		},
		{
			name:   "a server without a certificate",
			config: func() *tlsflow.Config { return &tlsflow.Config{} },
			peer:   inProcessClient(goCli(), nil),
			want: diagWant{alert: alert.InternalError, step: 0,
				cause: "a server needs Certificates, GetCertificate or GetConfigForClient",
				fix:   "give the server a certificate chain and key"},
		},
	}
	for _, tt := range tests {
		who := "tlsflow " + tt.peer.us + " vs " + tt.peer.name
		t.Run(tt.name+"/"+who, func(t *testing.T) {
			t.Parallel()
			var events errorEvents
			cfg := tt.config()
			cfg.Trace = events.hook
			err := tt.peer.run(t, cfg)
			checkDiagnosis(t, who, err, tt.want)
			checkErrorEvent(t, who, err, &events)
		})
	}
}

// checkDiagnosis checks the tlsflow side's error against w.
func checkDiagnosis(t *testing.T, who string, err error, w diagWant) {
	t.Helper()
	var ae *tlsflow.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%s: err = %v; want an AlertError with alert %s", who, err, w.alert)
	}
	dir := map[bool]string{false: "sent", true: "received"}
	if ae.Alert != w.alert || ae.Received != w.received {
		t.Errorf("%s: alert %s %s; want %s %s", who, ae.Alert, dir[ae.Received], w.alert, dir[w.received])
	}
	if w.step != anyStep && ae.Step != w.step {
		t.Errorf("%s: step %d; want %d", who, ae.Step, w.step)
	}
	if w.message != "" && ae.Message != w.message {
		t.Errorf("%s: message %q; want %q", who, ae.Message, w.message)
	}
	if !strings.Contains(ae.Reason, w.cause) {
		t.Errorf("%s: cause %q does not say %q", who, ae.Reason, w.cause)
	}
	if !strings.Contains(ae.Hint, w.fix) {
		t.Errorf("%s: fix %q does not say %q", who, ae.Hint, w.fix)
	}
	if t.Failed() {
		t.Logf("%s: the whole error: %v", who, err)
	}
}

// checkErrorEvent checks that the trace's last error event tells the same
// story as the error.
func checkErrorEvent(t *testing.T, who string, err error, events *errorEvents) {
	t.Helper()
	var ae *tlsflow.Error
	if !errors.As(err, &ae) {
		return
	}
	e, ok := events.last()
	if !ok {
		t.Fatalf("%s: no error event in the trace for %v", who, err)
	}
	alertField := ae.Alert.String() + " (sent)"
	switch {
	case trace.EndOf(err) == trace.EndClosed:
		alertField = "none (the connection just ended)" // not close_notify
	case ae.Received:
		alertField = ae.Alert.String() + " (received)"
	case ae.Local:
		alertField = "none (nothing was sent)"
	}
	want := map[string]string{
		"error": err.Error(),
		"alert": alertField,
		"cause": ae.Reason,
		"fix":   ae.Hint,
		"ended": string(trace.EndOf(err)),
	}
	for name, v := range want {
		if got := e.Field(name); got != v {
			t.Errorf("%s: error event field %q = %q; want %q", who, name, got, v)
		}
	}
	if e.Step != ae.Step || e.Message != ae.Message {
		t.Errorf("%s: error event at step %d, message %q; the error says step %d, %q", who, e.Step, e.Message, ae.Step, ae.Message)
	}
}
