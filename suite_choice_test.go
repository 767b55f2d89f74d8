package tlsflow_test

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// TestServerPicksStrongestSuiteInItsOwnRanking: whatever order the client
// lists its suites in, the server takes the strongest in tlsflow's ranking
// (forward secrecy, then ECDSA, then key strength, then AES-GCM before
// ChaCha20) that its certificate can serve.
func TestServerPicksStrongestSuiteInItsOwnRanking(t *testing.T) {
	c := sharedCerts()
	cases := []struct {
		name   string
		cert   tlsflow.Certificate
		offer  []uint16 // the client's order, weakest first on purpose
		server []uint16 // nil: the server's defaults
		want   uint16
	}{
		{"forward secrecy beats the RSA key exchange", flowCert(c.rsa),
			[]uint16{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
			[]uint16{tlsflow.TLS_RSA_WITH_AES_256_GCM_SHA384, tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
			tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		{"256-bit keys beat 128-bit keys", flowCert(c.ecdsa),
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}, nil,
			tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{"AES-256-GCM beats ChaCha20-Poly1305 on a tie", flowCert(c.rsa),
			[]uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, nil,
			tlsflow.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
		{"ChaCha20 beats AES-128-GCM", flowCert(c.rsa),
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}, nil,
			tlsflow.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
		{"the RSA key exchange is off unless named", flowCert(c.rsa),
			[]uint16{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, nil,
			tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{tc.cert}, CipherSuites: tc.server, MaxVersion: tlsflow.VersionTLS12}
			cli := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", CipherSuites: tc.offer, MaxVersion: tls.VersionTLS12}
			co, so := runPair(t, goClient(cli), tlsflowServer(srv), nil)
			if co.err != nil || so.err != nil {
				t.Fatalf("client: %v; server: %v", co.err, so.err)
			}
			if so.suite != tc.want {
				t.Errorf("server chose %s; want %s", tlsflow.CipherSuiteName(so.suite), tlsflow.CipherSuiteName(tc.want))
			}
		})
	}
}

// TestServerRefusesECDSASuiteForCurveTheClientLacks: in TLS 1.2 the client's
// supported_groups also bounds the curves it verifies (RFC 8422 §5.1); a
// P-256 certificate for a client that lists only X25519 is no common suite.
func TestServerRefusesECDSASuiteForCurveTheClientLacks(t *testing.T) {
	c := sharedCerts()
	srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: tlsflow.VersionTLS12}
	cli := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
		CurvePreferences: []tls.CurveID{tls.X25519}}
	_, so := runPair(t, goClient(cli), tlsflowServer(srv), nil)
	var ae *tlsflow.Error
	if !errors.As(so.err, &ae) || ae.Alert.String() != "handshake_failure" || ae.Step != 2 {
		t.Fatalf("server error = %v; want handshake_failure at step 2", so.err)
	}
}
