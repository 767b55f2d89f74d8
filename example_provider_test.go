//go:build cgo

package tlsflow_test

import (
	"fmt"
	"log"
	"net"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/provider/openssl"
)

// A server whose RSA key makes most of a handshake's cost runs on the
// OpenSSL provider: RSA signing in libcrypto, everything else in the
// standard library. Without code changes, TLSFLOW_PROVIDER=openssl does the
// same for every Config without a Provider, in a program that imports
// provider/openssl.
func ExampleConfig_provider() {
	p, err := openssl.New()
	if err != nil {
		log.Fatal(err) // libcrypto.so.3 did not load: no fallback
	}
	ca := pki.MustNewCA("example CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.RSA2048, "localhost")
	server := &tlsflow.Config{
		Provider:     p,
		Certificates: []tlsflow.Certificate{{Certificate: leaf.Chain, PrivateKey: leaf.Key}},
	}
	client := &tlsflow.Config{RootCAs: ca.Pool, ServerName: "localhost"}

	a, b := net.Pipe()
	go tlsflow.Server(b, server).Handshake()
	conn := tlsflow.Client(a, client)
	if err := conn.Handshake(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(tlsflow.VersionName(conn.ConnectionState().Version), "with a server on", p.Name())
	// Output: TLS 1.3 with a server on openssl
}
