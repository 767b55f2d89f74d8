package tlshttp_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/tlshttp"
)

// TestGoClientGetsRequestTLS has net/http's client (crypto/tls) fetch from
// the tlshttp server over both HTTP versions and both TLS versions, and
// checks the r.TLS the handler saw and the echo of a 1 MiB POST.
func TestGoClientGetsRequestTLS(t *testing.T) {
	ts := startServer(t, serverConfig(), stateHandler(), nil)
	for _, tc := range []struct {
		name    string
		major   int
		version uint16
		want    string
	}{
		{"HTTP/1.1 over TLS 1.3", 1, tls.VersionTLS13, `HTTP/1.1 over TLS 1.3, TLS_AES_256_GCM_SHA384, ALPN "http/1.1", SNI "localhost", complete true, 0 peer certificates`},
		{"HTTP/2 over TLS 1.3", 2, tls.VersionTLS13, `HTTP/2.0 over TLS 1.3, TLS_AES_256_GCM_SHA384, ALPN "h2", SNI "localhost", complete true, 0 peer certificates`},
		{"HTTP/1.1 over TLS 1.2", 1, tls.VersionTLS12, `HTTP/1.1 over TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, ALPN "http/1.1", SNI "localhost", complete true, 0 peer certificates`},
		{"HTTP/2 over TLS 1.2", 2, tls.VersionTLS12, `HTTP/2.0 over TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, ALPN "h2", SNI "localhost", complete true, 0 peer certificates`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := goTransport(tc.major, tc.version)
			defer tr.(*http.Transport).CloseIdleConnections()
			client := &http.Client{Transport: tr}
			resp, body := get(t, client, ts.url+"/")
			if got := strings.TrimSpace(body); got != tc.want {
				t.Fatalf("the handler saw\n  %s\nwant\n  %s", got, tc.want)
			}
			if resp.ProtoMajor != tc.major {
				t.Fatalf("response over %s, want HTTP/%d", resp.Proto, tc.major)
			}
			checkEcho(t, client, ts.url+"/echo")
		})
	}
}

// checkEcho posts 1 MiB (many records, and HTTP/2 flow control) and
// checks the echo.
func checkEcho(t *testing.T, client *http.Client, url string) {
	t.Helper()
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	echo, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(echo, payload) {
		t.Fatalf("POST %s: echo of %d bytes (%v), want the %d bytes sent", url, len(echo), err, len(payload))
	}
}

// TestRequestTLSHasClientCertificate checks that client authentication
// reaches the handler: r.TLS carries the verified client chain.
func TestRequestTLSHasClientCertificate(t *testing.T) {
	config := serverConfig()
	config.ClientAuth = tlsflow.RequireAndVerifyClientCert
	config.ClientCAs = caPool()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "no verified client certificate in r.TLS", http.StatusForbidden)
			return
		}
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	})
	ts := startServer(t, config, h, nil)
	for _, major := range []int{1, 2} {
		tr := goTransport(major, 0).(*http.Transport)
		tr.TLSClientConfig.Certificates = []tls.Certificate{goCert(sharedCerts().client)}
		resp, body := get(t, &http.Client{Transport: tr}, ts.url+"/")
		tr.CloseIdleConnections()
		if resp.StatusCode != http.StatusOK || body != "tlshttp test client" || resp.ProtoMajor != major {
			t.Fatalf("HTTP/%d: %s %q over %s, want 200 naming the client certificate", major, resp.Status, body, resp.Proto)
		}
	}
}

// TestXNetHTTP2ClientAgainstServer has x/net/http2's own client (with
// crypto/tls) talk to the server.
func TestXNetHTTP2ClientAgainstServer(t *testing.T) {
	ts := startServer(t, serverConfig(), stateHandler(), nil)
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool()}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	_, body := get(t, client, ts.url+"/")
	want := `HTTP/2.0 over TLS 1.3, TLS_AES_256_GCM_SHA384, ALPN "h2", SNI "localhost", complete true, 0 peer certificates`
	if got := strings.TrimSpace(body); got != want {
		t.Fatalf("the handler saw\n  %s\nwant\n  %s", got, want)
	}
	checkEcho(t, client, ts.url+"/echo")
}

// TestPlainHTTPGetsBadRequest sends plain HTTP to the TLS port, as a
// browser does for http://host:443/: the answer is net/http's 400 text.
func TestPlainHTTPGetsBadRequest(t *testing.T) {
	ts := startServer(t, serverConfig(), stateHandler(), nil)
	const want = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"

	t.Run("raw bytes", func(t *testing.T) {
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n")
		got, err := io.ReadAll(conn)
		if err != nil || string(got) != want {
			t.Fatalf("answer %q (%v), want %q", got, err, want)
		}
	})
	t.Run("net/http client", func(t *testing.T) {
		resp, err := http.Get("http://" + ts.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || string(body) != "Client sent an HTTP request to an HTTPS server.\n" {
			t.Fatalf("got %s %q, want 400 with net/http's text", resp.Status, body)
		}
	})
	t.Run("TLS still served", func(t *testing.T) {
		_, body := get(t, &http.Client{Transport: goTransport(2, 0)}, ts.url+"/")
		if !strings.HasPrefix(body, "HTTP/2.0 over TLS 1.3") {
			t.Fatalf("after plain HTTP, a TLS client got %q", body)
		}
	})
	if log := ts.loggedEventually("client sent an HTTP request to an HTTPS server"); !strings.Contains(log, "client sent an HTTP request to an HTTPS server") {
		t.Fatalf("the server log does not say what happened:\n%s", log)
	}
}

// TestServeTLSConvertsTLSConfig ports srv.ServeTLS(ln, certFile, keyFile)
// with a crypto/tls TLSConfig: its settings (here MaxVersion and the
// client certificate policy) apply.
func TestServeTLSConvertsTLSConfig(t *testing.T) {
	dir := t.TempDir()
	c := sharedCerts()
	certFile, keyFile := dir+"/cert.pem", dir+"/key.pem"
	writeFile(t, certFile, c.ecdsa.ChainPEM())
	writeFile(t, keyFile, c.ecdsa.KeyPEM())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: stateHandler(), TLSConfig: &tls.Config{
		MaxVersion: tls.VersionTLS12,
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  caPool(),
	}}
	served := make(chan error, 1)
	go func() { served <- tlshttp.ServeTLS(srv, ln, certFile, keyFile) }()
	defer func() {
		srv.Close()
		if err := <-served; err != http.ErrServerClosed {
			t.Errorf("ServeTLS returned %v, want http.ErrServerClosed", err)
		}
	}()
	tr := goTransport(2, 0).(*http.Transport)
	tr.TLSClientConfig.Certificates = []tls.Certificate{goCert(c.client)}
	defer tr.CloseIdleConnections()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_, body := get(t, &http.Client{Transport: tr}, "https://localhost:"+port+"/")
	want := `HTTP/2.0 over TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, ALPN "h2", SNI "localhost", complete true, 2 peer certificates`
	if got := strings.TrimSpace(body); got != want {
		t.Fatalf("the handler saw\n  %s\nwant\n  %s", got, want)
	}

	t.Run("GetConfigForClient", func(t *testing.T) {
		// The crypto/tls Config the callback returns is converted too:
		// its version limit and its certificate's OCSP staple apply.
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		stapled := goCert(c.ecdsa)
		stapled.OCSPStaple = []byte("a staple")
		var asked atomic.Value
		srv := &http.Server{Handler: stateHandler(), TLSConfig: &tls.Config{
			GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
				asked.Store(hello.ServerName)
				return &tls.Config{Certificates: []tls.Certificate{stapled}, MaxVersion: tls.VersionTLS12}, nil
			}}}
		served := make(chan error, 1)
		go func() { served <- tlshttp.ServeTLS(srv, ln, certFile, keyFile) }()
		defer func() { srv.Close(); <-served }()
		tr := goTransport(1, 0).(*http.Transport)
		defer tr.CloseIdleConnections()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		resp, body := get(t, &http.Client{Transport: tr}, "https://localhost:"+port+"/")
		if !strings.HasPrefix(body, "HTTP/1.1 over TLS 1.2") || string(resp.TLS.OCSPResponse) != "a staple" || asked.Load() != "localhost" {
			t.Fatalf("the handler saw %q, the client got OCSP response %q, the callback saw %v; want TLS 1.2 and the returned Config's staple",
				body, resp.TLS.OCSPResponse, asked.Load())
		}
	})
	t.Run("unsupported field", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		srv := &http.Server{TLSConfig: &tls.Config{
			WrapSession: func(tls.ConnectionState, *tls.SessionState) ([]byte, error) { return nil, nil }}}
		err := tlshttp.ServeTLS(srv, ln, certFile, keyFile)
		if err == nil || !strings.Contains(err.Error(), "WrapSession") {
			t.Fatalf("ServeTLS with WrapSession: %v, want an error naming it", err)
		}
	})
}
