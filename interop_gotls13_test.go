package tlsflow_test

// In-process interop with Go's crypto/tls for TLS 1.3, both directions:
// every suite × group (including X25519MLKEM768) × certificate type ×
// client-auth mode, each connection echoing 0, 1, 16384 and 100000 bytes.

import (
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

type case13 struct {
	suite uint16
	group tlsflow.CurveID
	cert  *pki.Leaf
}

func matrix13() []case13 {
	c := sharedCerts()
	var out []case13
	for _, suite := range []uint16{tlsflow.TLS_AES_128_GCM_SHA256, tlsflow.TLS_AES_256_GCM_SHA384, tlsflow.TLS_CHACHA20_POLY1305_SHA256} {
		for _, g := range []tlsflow.CurveID{tlsflow.X25519MLKEM768, tlsflow.X25519, tlsflow.CurveP256, tlsflow.CurveP384} {
			for _, cert := range []*pki.Leaf{c.rsa, c.ecdsa, c.ed25519} {
				out = append(out, case13{suite, g, cert})
			}
		}
	}
	return out
}

func TestInteropGoTLS13Matrix(t *testing.T) {
	c := sharedCerts()
	for _, m := range matrix13() {
		for _, auth := range clientAuthCases() {
			m, auth := m, auth
			name := fmt.Sprintf("%s/%s/%s/%s", tlsflow.CipherSuiteName(m.suite), m.group, m.cert.Cert.PublicKeyAlgorithm, auth.name)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				t.Run("tlsflow-client/go-server", func(t *testing.T) {
					// crypto/tls picks TLS 1.3 suites itself; the client offers one.
					srvCfg := &tls.Config{
						Certificates:     []tls.Certificate{goCert(m.cert)},
						CurvePreferences: []tls.CurveID{tls.CurveID(m.group)},
						ClientAuth:       auth.goMode, ClientCAs: c.ca.Pool,
					}
					cliCfg := &tlsflow.Config{
						RootCAs: c.ca.Pool, ServerName: "localhost",
						CipherSuites: []uint16{m.suite}, CurvePreferences: []tlsflow.CurveID{m.group},
					}
					if auth.clientCert != nil {
						cliCfg.Certificates = []tlsflow.Certificate{flowCert(auth.clientCert)}
					}
					cli, srv := runPair(t, tlsflowClient(cliCfg), goServer(srvCfg), echoSizes)
					check13(t, m, auth, cli, srv)
				})
				t.Run("go-client/tlsflow-server", func(t *testing.T) {
					srvCfg := &tlsflow.Config{
						Certificates: []tlsflow.Certificate{flowCert(m.cert)},
						CipherSuites: []uint16{m.suite}, CurvePreferences: []tlsflow.CurveID{m.group},
						ClientAuth: auth.flowMode, ClientCAs: c.ca.Pool,
					}
					cliCfg := &tls.Config{
						RootCAs: c.ca.Pool, ServerName: "localhost",
						CurvePreferences: []tls.CurveID{tls.CurveID(m.group)},
					}
					if auth.clientCert != nil {
						cliCfg.Certificates = []tls.Certificate{goCert(auth.clientCert)}
					}
					cli, srv := runPair(t, goClient(cliCfg), tlsflowServer(srvCfg), echoSizes)
					check13(t, m, auth, cli, srv)
				})
			})
		}
	}
}

func check13(t *testing.T, m case13, auth clientAuthCase, cli, srv outcome) {
	t.Helper()
	if auth.wantFail {
		if srv.err == nil {
			t.Fatalf("server accepted the connection; want a failed handshake (client error: %v)", cli.err)
		}
		return
	}
	if cli.err != nil || srv.err != nil {
		t.Fatalf("client error: %v\nserver error: %v", cli.err, srv.err)
	}
	for _, o := range []outcome{cli, srv} {
		if o.version != tls.VersionTLS13 || o.suite != m.suite || o.curve != uint16(m.group) {
			t.Errorf("negotiated version %#x suite %s group %#x; want TLS 1.3, %s, %s",
				o.version, tlsflow.CipherSuiteName(o.suite), o.curve, tlsflow.CipherSuiteName(m.suite), m.group)
		}
	}
	if cli.peerCerts == 0 || !cli.verified {
		t.Errorf("client saw %d server certificates (verified %v); want a verified chain", cli.peerCerts, cli.verified)
	}
	if got := srv.peerCerts > 0; got != auth.wantPeer {
		t.Errorf("server saw a client certificate: %v; want %v", got, auth.wantPeer)
	}
	if want := sum(echoSizes); cli.echoedBytes != want {
		t.Errorf("echoed %d bytes; want %d", cli.echoedBytes, want)
	}
}
