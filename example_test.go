package tlsflow_test

// The code blocks of README.md and docs/SWITCHING.md are the bodies of the
// examples in this file and example_switch_test.go, so that each compiles
// and runs (TestDocCodeBlocksAreExamples checks that they stay the same).

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// A server and a client in one program, the client watching its handshake
// (README.md's library example).
func Example() {
	// A certificate (package pki makes them for tests and demos; in
	// production: tlsflow.LoadX509KeyPair("server.pem", "server.key")).
	ca := pki.MustNewCA("example CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.ECDSAP256, "localhost")
	cert, err := tlsflow.X509KeyPair(leaf.ChainPEM(), leaf.KeyPEM())
	if err != nil {
		log.Fatal(err)
	}

	// Server: HTTPS on a loopback port.
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", &tlsflow.Config{Certificates: []tlsflow.Certificate{cert}})
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }))

	// Client: the trace renders every step of the handshake (here into a
	// buffer; os.Stdout shows it all).
	var flow strings.Builder
	conn, err := tlsflow.Dial("tcp", ln.Addr().String(), &tlsflow.Config{
		RootCAs: ca.Pool, ServerName: "localhost",
		Trace: trace.NewRenderer(&flow, trace.Options{Lang: "en"}),
	})
	if err != nil {
		log.Fatal(err) // e.g. "tlsflow: step 3, Certificate: …", and what to change
	}
	defer conn.Close()
	fmt.Println(tlsflow.CipherSuiteName(conn.ConnectionState().CipherSuite))
	for line := range strings.Lines(flow.String()) {
		if line != "\n" && !strings.HasPrefix(line, " ") {
			fmt.Print(line) // the headings of the steps
		}
	}
	// Output:
	// TLS_AES_256_GCM_SHA384
	// Step 0 — TCP connection to the server's port (HTTPS: 443 unless the address says otherwise)
	// Step 1 — ClientHello: the client's algorithms and its random
	// TLS 1.3 · Key exchange: hellos, key shares, handshake keys (RFC 8446 §4.1)
	// TLS 1.3 · Server parameters, encrypted from here on (RFC 8446 §4.3)
	// TLS 1.3 · Authentication: Certificate, CertificateVerify, Finished (RFC 8446 §4.4)
}

// net/http over tlsflow without helpers: the server serves a tlsflow
// listener, the client's transport dials with a tlsflow Dialer
// (docs/SWITCHING.md). Package tlshttp does the same and more.
func Example_netHTTP() {
	ca := pki.MustNewCA("example CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.ECDSAP256, "localhost")
	serverConfig := &tlsflow.Config{Certificates: []tlsflow.Certificate{{Certificate: leaf.Chain, PrivateKey: leaf.Key}}}

	// Server: any net.Listener works with http.Serve; the handshake runs
	// on the connection's first Read.
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ln := tlsflow.NewListener(inner, serverConfig)
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// r.TLS is nil: net/http fills it only for a *crypto/tls.Conn.
		fmt.Fprintf(w, "hello over %s\n", r.Proto)
	}))

	// Client: the transport dials TLS itself (http.Transport.DialTLSContext).
	dialer := &tlsflow.Dialer{Config: &tlsflow.Config{RootCAs: ca.Pool, ServerName: "localhost"}}
	client := &http.Client{Transport: &http.Transport{DialTLSContext: dialer.DialContext}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(body))
	// Output: hello over HTTP/1.1
}
