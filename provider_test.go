package tlsflow_test

import (
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/providertest"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/provider"

	// Linked in so that TLSFLOW_PROVIDER=openssl runs this whole suite on
	// the OpenSSL provider (test.sh does, see there).
	_ "github.com/tlsflow/tlsflow/provider/openssl"
)

// Each provider interoperates with crypto/tls in every case whose
// primitives it routes differently: the RSA key exchange (raw decryption
// and the padding check), ECDHE-RSA (PKCS #1 v1.5 signing), TLS 1.3 with
// RSA-PSS and with ECDSA P-256, and a client signing with its RSA key.
func TestProvidersInteroperateWithCryptoTLS(t *testing.T) {
	c := sharedCerts()
	for _, p := range providertest.All(t) {
		for _, tc := range []struct {
			name    string
			leaf    string
			version uint16
			suite   uint16
		}{
			{"RSA key exchange", "rsa", tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
			{"ECDHE-RSA", "rsa", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
			{"TLS 1.3 RSA-PSS", "rsa", tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256},
			{"TLS 1.3 ECDSA P-256", "ecdsa", tls.VersionTLS13, tls.TLS_CHACHA20_POLY1305_SHA256},
			{"ECDHE-ECDSA", "ecdsa", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		} {
			leaf := c.rsa
			if tc.leaf == "ecdsa" {
				leaf = c.ecdsa
			}
			t.Run(fmt.Sprintf("%s/%s/tlsflow server", p.Name(), tc.name), func(t *testing.T) {
				srv := &tlsflow.Config{Provider: p, Certificates: []tlsflow.Certificate{flowCert(leaf)},
					CipherSuites: []uint16{tc.suite}, MaxVersion: tc.version}
				cli := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tc.version,
					CipherSuites: []uint16{tc.suite}}
				co, so := runPair(t, goClient(cli), tlsflowServer(srv), echoSizes)
				if co.err != nil || so.err != nil || so.suite != tc.suite {
					t.Fatalf("client: %v; server: %v, suite %#04x; want %#04x", co.err, so.err, so.suite, tc.suite)
				}
			})
			t.Run(fmt.Sprintf("%s/%s/tlsflow client with RSA certificate", p.Name(), tc.name), func(t *testing.T) {
				client := c.ca.MustClient(pki.RSA2048, "rsa client")
				srv := &tls.Config{Certificates: []tls.Certificate{goCert(leaf)}, ClientAuth: tls.RequireAndVerifyClientCert,
					ClientCAs: c.ca.Pool, CipherSuites: []uint16{tc.suite}, MaxVersion: tc.version}
				cli := &tlsflow.Config{Provider: p, RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tc.version,
					CipherSuites: []uint16{tc.suite}, Certificates: []tlsflow.Certificate{flowCert(client)}}
				co, so := runPair(t, tlsflowClient(cli), goServer(srv), echoSizes)
				if co.err != nil || so.err != nil || co.suite != tc.suite || so.peerCerts == 0 {
					t.Fatalf("client: %v, suite %#04x; server: %v, %d client certificates", co.err, co.suite, so.err, so.peerCerts)
				}
			})
		}
	}
}

// The process default comes from TLSFLOW_PROVIDER, read at the first
// handshake; a name that is not there, or an OpenSSL without libcrypto,
// fails that handshake on both sides with an error that says so, and is
// never replaced by the standard library. The test runs itself as a child
// with the variable set.
func TestProviderFromTheEnvironment(t *testing.T) {
	if os.Getenv("TLSFLOW_TEST_PROVIDER_CHILD") == "1" {
		c := sharedCerts()
		cliErr, srvErr := handshakePair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
			&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.rsa)}})
		p, err := provider.Default()
		name := "-"
		if err == nil {
			name = p.Name()
		}
		fmt.Printf("client: %v\nserver: %v\ndefault: %s\n", cliErr, srvErr, name)
		return
	}
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"TLSFLOW_PROVIDER=bogus"}, []string{
			`client: tlsflow: step 0, configuration: no crypto provider: TLSFLOW_PROVIDER=bogus: provider: no provider "bogus"`,
			"fix: set TLSFLOW_PROVIDER to stdlib, or to openssl in a program that imports",
			`server: tlsflow: step 0, configuration: no crypto provider: TLSFLOW_PROVIDER=bogus`, "default: -"}},
		{[]string{"TLSFLOW_PROVIDER=openssl", "TLSFLOW_OPENSSL_LIBCRYPTO=libcrypto.so.missing"}, []string{
			"client: tlsflow: step 0, configuration: no crypto provider: TLSFLOW_PROVIDER=openssl: provider: openssl: ",
			"server: tlsflow: step 0, configuration: no crypto provider: TLSFLOW_PROVIDER=openssl", "default: -"}},
		{[]string{"TLSFLOW_PROVIDER=stdlib"}, []string{"client: <nil>", "server: <nil>", "default: stdlib"}},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProviderFromTheEnvironment$")
		cmd.Env = append(append(os.Environ(), "TLSFLOW_TEST_PROVIDER_CHILD=1"), tc.env...)
		out, _ := cmd.CombinedOutput()
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%v: the child said\n%s\nwant a line containing %q", tc.env, out, w)
			}
		}
	}
}
