package tlsflow_test

import (
	"errors"
	"fmt"
	"io"
	"log"

	tls "github.com/tlsflow/tlsflow" // was: "crypto/tls"
	"github.com/tlsflow/tlsflow/pki"
)

// Code written for crypto/tls, with only the import line changed
// (docs/SWITCHING.md).
func Example_switching() {
	ca := pki.MustNewCA("example CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.ECDSAP256, "localhost")
	cert, err := tls.X509KeyPair(leaf.ChainPEM(), leaf.KeyPEM())
	if err != nil {
		log.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		ClientAuth:   tls.VerifyClientCertIfGiven,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "hello\n")
	}()

	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "localhost", RootCAs: ca.Pool})
	var verr *tls.CertificateVerificationError
	var alert tls.AlertError
	switch {
	case errors.As(err, &verr):
		log.Fatalf("the server's certificate: %v", verr.Err)
	case errors.As(err, &alert):
		log.Fatalf("alert %d: %v", alert, err)
	case err != nil:
		log.Fatal(err)
	}
	defer conn.Close()
	line, err := io.ReadAll(conn)
	if err != nil {
		log.Fatal(err)
	}
	state := conn.ConnectionState()
	fmt.Printf("%s%s, %s\n", line, tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite))
	// Output:
	// hello
	// TLS 1.3, TLS_AES_256_GCM_SHA384
}
