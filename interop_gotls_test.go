//go:debug tlsrsakex=1

package tlsflow_test

// In-process interop with Go's crypto/tls, both directions, over the matrix
// of TLS 1.2 suites × certificate types × groups × client-auth modes, each
// connection echoing 0, 1, 16384 and 100000 bytes. crypto/tls accepts the
// RSA key exchange only with GODEBUG tlsrsakex=1, set above.

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

type matrixCase struct {
	suite uint16
	cert  *pki.Leaf
	group tlsflow.CurveID // 0 for the RSA key exchange
}

func matrix12() []matrixCase {
	c := sharedCerts()
	var out []matrixCase
	groups := []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256, tlsflow.CurveP384}
	add := func(suite uint16, certs ...*pki.Leaf) {
		for _, cert := range certs {
			if suite == tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256 || suite == tlsflow.TLS_RSA_WITH_AES_256_GCM_SHA384 {
				out = append(out, matrixCase{suite, cert, 0})
				continue
			}
			for _, g := range groups {
				out = append(out, matrixCase{suite, cert, g})
			}
		}
	}
	add(tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, c.rsa)
	add(tlsflow.TLS_RSA_WITH_AES_256_GCM_SHA384, c.rsa)
	add(tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, c.rsa)
	add(tlsflow.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, c.rsa)
	add(tlsflow.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, c.rsa)
	add(tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, c.ecdsa, c.ed25519)
	add(tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, c.ecdsa, c.ed25519)
	add(tlsflow.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, c.ecdsa, c.ed25519)
	return out
}

// clientAuthCase is one client-auth mode with one client behaviour.
type clientAuthCase struct {
	name       string
	goMode     tls.ClientAuthType
	flowMode   tlsflow.ClientAuthType
	clientCert *pki.Leaf // nil: the client has none
	wantPeer   bool      // the server sees a client certificate
	wantFail   bool      // the handshake must fail
}

func clientAuthCases() []clientAuthCase {
	c := sharedCerts()
	return []clientAuthCase{
		{"none", tls.NoClientCert, tlsflow.NoClientCert, c.client, false, false},
		{"requested/with-cert", tls.VerifyClientCertIfGiven, tlsflow.VerifyClientCertIfGiven, c.client, true, false},
		{"requested/without-cert", tls.VerifyClientCertIfGiven, tlsflow.VerifyClientCertIfGiven, nil, false, false},
		{"required/with-cert", tls.RequireAndVerifyClientCert, tlsflow.RequireAndVerifyClientCert, c.client, true, false},
		{"required/without-cert", tls.RequireAndVerifyClientCert, tlsflow.RequireAndVerifyClientCert, nil, false, true},
		{"required/unaccepted-CA", tls.RequireAndVerifyClientCert, tlsflow.RequireAndVerifyClientCert, c.clientFromOther, false, true},
	}
}

func caseName(m matrixCase, auth string) string {
	g := "rsa-kex"
	if m.group != 0 {
		g = m.group.String()
	}
	return fmt.Sprintf("%s/%s/%s/%s", tlsflow.CipherSuiteName(m.suite), m.cert.Cert.PublicKeyAlgorithm, g, auth)
}

func TestInteropGoTLS12Matrix(t *testing.T) {
	c := sharedCerts()
	for _, m := range matrix12() {
		for _, auth := range clientAuthCases() {
			m, auth := m, auth
			t.Run(caseName(m, auth.name), func(t *testing.T) {
				t.Parallel()
				t.Run("tlsflow-client/go-server", func(t *testing.T) {
					srvCfg := &tls.Config{
						Certificates: []tls.Certificate{goCert(m.cert)},
						CipherSuites: []uint16{m.suite}, MaxVersion: tls.VersionTLS12,
						ClientAuth: auth.goMode, ClientCAs: c.ca.Pool,
					}
					cliCfg := &tlsflow.Config{
						RootCAs: c.ca.Pool, ServerName: "localhost",
						CipherSuites: []uint16{m.suite}, MaxVersion: tlsflow.VersionTLS12,
					}
					if m.group != 0 {
						srvCfg.CurvePreferences = []tls.CurveID{tls.CurveID(m.group)}
						cliCfg.CurvePreferences = clientGroups(m)
					}
					if auth.clientCert != nil {
						cliCfg.Certificates = []tlsflow.Certificate{flowCert(auth.clientCert)}
					}
					cli, srv := runPair(t, tlsflowClient(cliCfg), goServer(srvCfg), echoSizes)
					checkMatrixOutcome(t, m, auth, cli, srv)
				})
				t.Run("go-client/tlsflow-server", func(t *testing.T) {
					srvCfg := &tlsflow.Config{
						Certificates: []tlsflow.Certificate{flowCert(m.cert)},
						CipherSuites: []uint16{m.suite}, MaxVersion: tlsflow.VersionTLS12,
						ClientAuth: auth.flowMode, ClientCAs: c.ca.Pool,
					}
					cliCfg := &tls.Config{
						RootCAs: c.ca.Pool, ServerName: "localhost",
						CipherSuites: []uint16{m.suite}, MaxVersion: tls.VersionTLS12,
					}
					if m.group != 0 {
						srvCfg.CurvePreferences = []tlsflow.CurveID{m.group}
						for _, g := range clientGroups(m) {
							cliCfg.CurvePreferences = append(cliCfg.CurvePreferences, tls.CurveID(g))
						}
					}
					if auth.clientCert != nil {
						cliCfg.Certificates = []tls.Certificate{goCert(auth.clientCert)}
					}
					cli, srv := runPair(t, goClient(cliCfg), tlsflowServer(srvCfg), echoSizes)
					checkMatrixOutcome(t, m, auth, cli, srv)
				})
			})
		}
	}
}

// clientGroups is the case's group, plus the curve of an ECDSA server
// certificate: in TLS 1.2 supported_groups also names the curves the client
// can verify, and a server must not pick an ECDSA suite whose certificate
// curve the client did not list (RFC 8422 §5.1). The server allows only the
// case's group, so that is still the one negotiated.
func clientGroups(m matrixCase) []tlsflow.CurveID {
	groups := []tlsflow.CurveID{m.group}
	if m.cert.Cert.PublicKeyAlgorithm == x509.ECDSA && m.group != tlsflow.CurveP256 {
		groups = append(groups, tlsflow.CurveP256) // the test ECDSA certificate is P-256
	}
	return groups
}

func checkMatrixOutcome(t *testing.T, m matrixCase, auth clientAuthCase, cli, srv outcome) {
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
		if o.version != tls.VersionTLS12 || o.suite != m.suite || o.curve != uint16(m.group) {
			t.Errorf("negotiated version %#x suite %s curve %#x; want TLS 1.2, %s, %#x",
				o.version, tlsflow.CipherSuiteName(o.suite), o.curve, tlsflow.CipherSuiteName(m.suite), uint16(m.group))
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

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}
