package tlsflow_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// Config.CipherSuites as a crypto/tls user writes it (issue 11).

// hardening12 is a common hardening list: TLS 1.2 ECDHE AEAD suites only.
var hardening12 = []uint16{
	tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tlsflow.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
}

// TestTLS12OnlySuiteListKeepsTLS13: a list naming only TLS 1.2 suites keeps
// the TLS 1.3 defaults (crypto/tls's semantics), both directions against
// crypto/tls, which then negotiates TLS 1.3; and the TLS 1.2 choice is
// still restricted to the list.
func TestTLS12OnlySuiteListKeepsTLS13(t *testing.T) {
	c := sharedCerts()
	cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", CipherSuites: hardening12}
	srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, CipherSuites: hardening12}
	for _, tc := range []struct {
		name           string
		client, server endpoint
		version        uint16
	}{
		{"tlsflow client", tlsflowClient(cli), goServer(&tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}}), tls.VersionTLS13},
		{"tlsflow server", goClient(&tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}), tlsflowServer(srv), tls.VersionTLS13},
		{"TLS 1.2 peer, tlsflow client", tlsflowClient(cli),
			goServer(&tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}, MaxVersion: tls.VersionTLS12}), tls.VersionTLS12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			co, so := runPair(t, tc.client, tc.server, []int{1})
			if co.err != nil || so.err != nil || co.version != tc.version {
				t.Fatalf("client %v (%s), server %v; want %s", co.err, tlsflow.VersionName(co.version), so.err, tlsflow.VersionName(tc.version))
			}
			if co.version == tls.VersionTLS12 && !slices.Contains(hardening12, co.suite) {
				t.Errorf("TLS 1.2 suite %s; want one of the list", tlsflow.CipherSuiteName(co.suite))
			}
		})
	}
}

// TestTLS13OnlySuiteListOffersNoTLS12: a list naming only TLS 1.3 suites
// leaves TLS 1.2 without a suite: a tlsflow client does not offer TLS 1.2
// (a TLS 1.2-only server refuses it), and a tlsflow server does not accept
// it; the TLS 1.3 suite is the one named.
func TestTLS13OnlySuiteListOffersNoTLS12(t *testing.T) {
	c := sharedCerts()
	only := []uint16{tlsflow.TLS_CHACHA20_POLY1305_SHA256}
	co, so := runPair(t, tlsflowClient(&tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", CipherSuites: only}),
		goServer(&tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}}), []int{1})
	if co.err != nil || so.err != nil || co.suite != tlsflow.TLS_CHACHA20_POLY1305_SHA256 {
		t.Fatalf("client %v, server %v, suite %s; want TLS_CHACHA20_POLY1305_SHA256", co.err, so.err, tlsflow.CipherSuiteName(co.suite))
	}
	co, _ = runPair(t, tlsflowClient(&tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", CipherSuites: only}),
		goServer(&tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}, MaxVersion: tls.VersionTLS12}), []int{1})
	wantAlert(t, co.err, "protocol_version")
	_, so = runPair(t, goClient(&tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12}),
		tlsflowServer(&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, CipherSuites: only}), []int{1})
	wantAlert(t, so.err, "protocol_version")
}

// TestContradictorySuitesAndVersionsAreAConfigurationError: settings that
// leave the version asked for without a suite of the list fail before any
// byte is sent, saying what to change.
func TestContradictorySuitesAndVersionsAreAConfigurationError(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *tlsflow.Config
		want string
	}{
		{"MinVersion TLS 1.3 with only TLS 1.2 suites", &tlsflow.Config{MinVersion: tlsflow.VersionTLS13, CipherSuites: hardening12}, "only TLS 1.2 suites"},
		{"MaxVersion TLS 1.2 with only TLS 1.3 suites", &tlsflow.Config{MaxVersion: tlsflow.VersionTLS12,
			CipherSuites: []uint16{tlsflow.TLS_AES_128_GCM_SHA256}}, "no TLS 1.2 suite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.InsecureSkipVerify = true
			a, b := net.Pipe()
			defer b.Close()
			sent := make(chan int, 1)
			go func() { n, _ := io.Copy(io.Discard, b); sent <- int(n) }()
			err := tlsflow.Client(a, cfg).Handshake()
			a.Close()
			var e *tlsflow.Error
			if !errors.As(err, &e) || !e.Local || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Handshake = %v; want a configuration error saying %q", err, tc.want)
			}
			if n := <-sent; n != 0 {
				t.Errorf("%d bytes went out before the configuration error", n)
			}
		})
	}
}
