package tlshttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/tlsflow/tlsflow"
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
