// A net/http program written for crypto/tls: an HTTPS server and a client
// that reaches it through an HTTP CONNECT proxy, over HTTP/1.1 and HTTP/2.
// TestMechanicalPort runs it as it is, then ported to tlsflow by the edits
// docs/SWITCHING.md lists, and expects the same output.
//
// Usage: netport cert.pem key.pem ca.pem
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"
)

func main() {
	certFile, keyFile, caFile := os.Args[1], os.Args[2], os.Args[3]

	// The server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "server: %s over %s, ALPN %q, SNI %q",
			r.Proto, tls.VersionName(r.TLS.Version), r.TLS.NegotiatedProtocol, r.TLS.ServerName)
	})}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, certFile, keyFile) }()

	// A CONNECT proxy between client and server.
	var tunnels atomic.Int32
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tunnels.Add(1)
		w.WriteHeader(http.StatusOK)
		down, buffered, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		// What the client sent after CONNECT may already be buffered.
		go func() { io.Copy(up, buffered); up.Close() }()
		io.Copy(down, up)
		down.Close()
	})}
	proxyLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go proxy.Serve(proxyLn)
	proxyURL := &url.URL{Scheme: "http", Host: proxyLn.Addr().String()}

	// The client, once with HTTP/1.1 only and once with HTTP/2 too.
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, h2 := range []bool{false, true} {
		var protocols http.Protocols
		protocols.SetHTTP1(true)
		protocols.SetHTTP2(h2)
		cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), Protocols: &protocols}
		tr.TLSClientConfig = cfg
		client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
		for range 2 {
			resp, err := client.Get("https://localhost:" + port + "/")
			if err != nil {
				log.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%s; client: %s over %s, verified %v, resumed %v\n", body, resp.Proto,
				tls.VersionName(resp.TLS.Version), len(resp.TLS.VerifiedChains) > 0, resp.TLS.DidResume)
		}
		tr.CloseIdleConnections()
	}
	fmt.Printf("tunnels through the proxy: %d\n", tunnels.Load())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Printf("shutdown: %v\n", srv.Shutdown(ctx))
	fmt.Printf("serve: %v\n", <-served)
	proxy.Close()
}
