package tlsflow_test

import (
	"testing"

	"github.com/tlsflow/tlsflow"
)

// TestHTTP2IsNotChosenOverTheRSAKeyExchange: HTTP/2 over TLS 1.2 needs an
// ephemeral key exchange (RFC 9113 §9.2.2; the TLS_RSA_* suites are on its
// block list): a server that chose the RSA key exchange answers "h2,
// http/1.1" with http/1.1 (browsers would refuse h2 there), and with ECDHE
// still with h2.
func TestHTTP2IsNotChosenOverTheRSAKeyExchange(t *testing.T) {
	c := sharedCerts()
	for _, tc := range []struct {
		suite uint16
		want  string
	}{
		{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, "http/1.1"},
		{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "h2"},
	} {
		t.Run(tlsflow.CipherSuiteName(tc.suite), func(t *testing.T) {
			protos := []string{"h2", "http/1.1"}
			co, so := runPair(t,
				tlsflowClient(&tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12,
					CipherSuites: []uint16{tc.suite}, NextProtos: protos}),
				tlsflowServer(&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.rsa)},
					CipherSuites: []uint16{tc.suite}, NextProtos: protos}), []int{1})
			if co.err != nil || so.err != nil || co.alpn != tc.want {
				t.Fatalf("client %v, server %v, ALPN %q; want %q", co.err, so.err, co.alpn, tc.want)
			}
		})
	}
}
