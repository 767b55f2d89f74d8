package tlshttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/tlshttp"
)

// A net/http program ported to tlsflow. The server was
//
//	log.Fatal(srv.ListenAndServeTLS("server.pem", "server.key"))
//
// and the client's transport &http.Transport{TLSClientConfig: tlsConfig}.
// Handlers, srv.TLSConfig (a crypto/tls Config, converted), srv.Shutdown,
// r.TLS and resp.TLS stay as they were.
func ExampleListenAndServeTLS() {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s and %s\n", r.Proto, tlsflow.VersionName(r.TLS.Version))
	})
	srv := &http.Server{Addr: "localhost:8443", Handler: mux}
	go func() {
		if err := tlshttp.ListenAndServeTLS(srv, "server.pem", "server.key"); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx) // waits for HTTP/1.1 and HTTP/2 requests alike
	}()

	client := &http.Client{Transport: &tlshttp.Transport{
		Config: &tlsflow.Config{}, // RootCAs, client certificates, Trace, ...
		Base:   &http.Transport{Proxy: http.ProxyFromEnvironment},
	}}
	resp, err := client.Get("https://localhost:8443/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s%s with %s\n", body, resp.Proto, tlsflow.CipherSuiteName(resp.TLS.CipherSuite))
}

// A page that needs a client certificate, which is asked for only when the
// page is requested: TLS 1.3 post-handshake authentication, over HTTP/1.1
// (HTTP/2 forbids it). The handshake asks for no certificate; the
// client, having one, offers to show it later.
func ExampleRequestClientCertificate() {
	ca := pki.MustNewCA("example CA", pki.ECDSAP256)
	serverLeaf := ca.MustServer(pki.ECDSAP256, "127.0.0.1")
	clientLeaf := ca.MustClient(pki.ECDSAP256, "alice")

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "a page for everyone")
	})
	mux.HandleFunc("/secret", func(w http.ResponseWriter, r *http.Request) {
		err := tlshttp.RequestClientCertificate(r, tlsflow.RequireAndVerifyClientCert)
		switch {
		case errors.Is(err, tlshttp.ErrHTTP2PostHandshakeAuth):
			http.Error(w, "ask again over HTTP/1.1", http.StatusHTTPVersionNotSupported)
		case err != nil:
			http.Error(w, "this page needs a client certificate", http.StatusForbidden)
		default:
			fmt.Fprintf(w, "hello %s\n", r.TLS.PeerCertificates[0].Subject.CommonName)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go tlshttp.Serve(srv, ln, &tlsflow.Config{
		Certificates: []tlsflow.Certificate{{Certificate: serverLeaf.Chain, PrivateKey: serverLeaf.Key}},
		ClientCAs:    ca.Pool, // verifies the certificate asked for after the handshake
	})
	defer srv.Close()

	tr := tlshttp.NewTransport(&tlsflow.Config{
		RootCAs:      ca.Pool,
		Certificates: []tlsflow.Certificate{{Certificate: clientLeaf.Chain, PrivateKey: clientLeaf.Key}},
		NextProtos:   []string{"http/1.1"},
	})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for _, path := range []string{"/", "/secret"} {
		resp, err := client.Get("https://" + ln.Addr().String() + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %s: %s", path, resp.Status, body)
	}
	// Output:
	// / 200 OK: a page for everyone
	// /secret 200 OK: hello alice
}
