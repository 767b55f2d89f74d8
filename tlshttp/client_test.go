package tlshttp_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// TestTransportAgainstCryptoTLSServer has the tlshttp client fetch from
// net/http's own TLS server (crypto/tls), over HTTP/2 and HTTP/1.1, and
// checks resp.TLS.
func TestTransportAgainstCryptoTLSServer(t *testing.T) {
	srv := httptest.NewUnstartedServer(stateHandler())
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{goCert(sharedCerts().ecdsa)}}
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "https://localhost:" + port + "/"

	for _, tc := range []struct {
		name  string
		alpn  []string
		major int
	}{
		{"HTTP/2", nil, 2},
		{"HTTP/1.1", []string{"http/1.1"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTransport(&tlsflow.Config{NextProtos: tc.alpn}, nil)
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			resp, body := get(t, client, url)
			if resp.ProtoMajor != tc.major || !strings.HasPrefix(body, fmt.Sprintf("HTTP/%d", tc.major)) {
				t.Fatalf("response over %s, server saw %q; want HTTP/%d", resp.Proto, body, tc.major)
			}
			// httptest's server offers only "h2" with EnableHTTP2, and
			// crypto/tls then goes on without ALPN for a client that
			// offers only "http/1.1".
			wantALPN := map[int]string{1: "", 2: "h2"}[tc.major]
			checkResponseTLS(t, resp, tls.VersionTLS13, wantALPN)
			checkEcho(t, client, url+"echo")
		})
	}
}

// checkResponseTLS checks resp.TLS against what the handshake must have
// given: version, ALPN, SNI, a verified chain.
func checkResponseTLS(t *testing.T, resp *http.Response, version uint16, alpn string) {
	t.Helper()
	st := resp.TLS
	if st == nil {
		t.Fatal("resp.TLS is nil")
	}
	if st.Version != version || st.NegotiatedProtocol != alpn || !st.HandshakeComplete || st.ServerName != "localhost" ||
		len(st.PeerCertificates) == 0 || len(st.VerifiedChains) == 0 || st.CipherSuite == 0 || st.CurveID == 0 {
		t.Fatalf("resp.TLS: %s, ALPN %q, SNI %q, complete %v, %d certificates, %d verified chains, suite %#04x, curve %v; want %s, %q, localhost, a verified chain",
			tls.VersionName(st.Version), st.NegotiatedProtocol, st.ServerName, st.HandshakeComplete, len(st.PeerCertificates),
			len(st.VerifiedChains), st.CipherSuite, st.CurveID, tls.VersionName(version), alpn)
	}
}

// TestTransportAgainstTlshttpServer: tlsflow on both sides, both HTTP
// versions and both TLS versions.
func TestTransportAgainstTlshttpServer(t *testing.T) {
	ts := startServer(t, serverConfig(), stateHandler(), nil)
	for _, tc := range []struct {
		name    string
		alpn    []string
		version uint16
		major   int
	}{
		{"HTTP/2 over TLS 1.3", nil, tlsflow.VersionTLS13, 2},
		{"HTTP/1.1 over TLS 1.3", []string{"http/1.1"}, tlsflow.VersionTLS13, 1},
		{"HTTP/2 over TLS 1.2", nil, tlsflow.VersionTLS12, 2},
		{"HTTP/1.1 over TLS 1.2", []string{"http/1.1"}, tlsflow.VersionTLS12, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTransport(&tlsflow.Config{NextProtos: tc.alpn, MaxVersion: tc.version}, nil)
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			resp, body := get(t, client, ts.url+"/")
			alpn := map[int]string{1: "http/1.1", 2: "h2"}[tc.major]
			if resp.ProtoMajor != tc.major || !strings.Contains(body, fmt.Sprintf("ALPN %q", alpn)) {
				t.Fatalf("response over %s, server saw %q; want HTTP/%d", resp.Proto, body, tc.major)
			}
			checkResponseTLS(t, resp, tc.version, alpn)
			checkEcho(t, client, ts.url+"/echo")
		})
	}
}

// TestTransportReusesConnections counts TCP dials: sequential HTTP/1.1
// requests share one connection, concurrent HTTP/2 requests share one, and
// a server that answers HTTP/1.1 to an offer of h2 costs no second dial
// (the first connection goes on to the HTTP/1.1 transport).
func TestTransportReusesConnections(t *testing.T) {
	both := startServer(t, serverConfig(), stateHandler(), nil)
	h1only := serverConfig()
	h1only.NextProtos = []string{"http/1.1"}
	onlyHTTP1 := startServer(t, h1only, stateHandler(), nil)

	t.Run("HTTP/1.1 sequential", func(t *testing.T) {
		var dc dialCounter
		tr := newTransport(&tlsflow.Config{NextProtos: []string{"http/1.1"}}, &dc)
		defer tr.CloseIdleConnections()
		for range 5 {
			get(t, &http.Client{Transport: tr}, both.url+"/")
		}
		if n := dc.n.Load(); n != 1 {
			t.Fatalf("5 requests dialed %d connections, want 1", n)
		}
	})
	t.Run("HTTP/2 concurrent", func(t *testing.T) {
		var dc dialCounter
		tr := newTransport(nil, &dc)
		defer tr.CloseIdleConnections()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				resp, err := (&http.Client{Transport: tr}).Get(both.url + "/")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.ProtoMajor != 2 {
					t.Errorf("response over %s, want HTTP/2", resp.Proto)
				}
			})
		}
		wg.Wait()
		if n := dc.n.Load(); n != 1 {
			t.Fatalf("8 concurrent HTTP/2 requests dialed %d connections, want 1", n)
		}
	})
	t.Run("server chooses HTTP/1.1", func(t *testing.T) {
		var dc dialCounter
		tr := newTransport(nil, &dc)
		defer tr.CloseIdleConnections()
		for range 5 {
			resp, _ := get(t, &http.Client{Transport: tr}, onlyHTTP1.url+"/")
			checkResponseTLS(t, resp, tlsflow.VersionTLS13, "http/1.1")
		}
		if n := dc.n.Load(); n != 1 {
			t.Fatalf("5 requests to an HTTP/1.1 server dialed %d connections, want 1", n)
		}
	})
}

// TestTransportTraceSeesTheHandshake checks the httptrace hooks a
// crypto/tls user relies on: TLSHandshakeStart, TLSHandshakeDone with the
// state, and GotConn, for both HTTP versions.
func TestTransportTraceSeesTheHandshake(t *testing.T) {
	ts := startServer(t, serverConfig(), stateHandler(), nil)
	for _, alpn := range [][]string{nil, {"http/1.1"}} {
		tr := newTransport(&tlsflow.Config{NextProtos: alpn}, nil)
		var events []string
		trace := &httptrace.ClientTrace{
			TLSHandshakeStart: func() { events = append(events, "start") },
			TLSHandshakeDone: func(st tls.ConnectionState, err error) {
				events = append(events, fmt.Sprintf("done %s %q %v", tls.VersionName(st.Version), st.NegotiatedProtocol, err))
			},
			GotConn: func(info httptrace.GotConnInfo) {
				events = append(events, fmt.Sprintf("got conn reused=%v", info.Reused))
			},
		}
		for range 2 {
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, ts.url+"/", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		tr.CloseIdleConnections()
		want := `[start done TLS 1.3 "h2" <nil> got conn reused=false got conn reused=true]`
		if alpn != nil {
			want = `[start done TLS 1.3 "http/1.1" <nil> got conn reused=false got conn reused=true]`
		}
		if got := fmt.Sprint(events); got != want {
			t.Fatalf("trace events\n  %s\nwant\n  %s", got, want)
		}
	}
}

// connectProxy is an HTTP proxy that only tunnels (CONNECT), for tests:
// it records the targets, and with user set requires Basic credentials.
type connectProxy struct {
	ln         net.Listener
	user, pass string
	// established is the answer that opens a tunnel; empty means a
	// plain "200 Connection established".
	established string
	mu          sync.Mutex
	targets     []string
	wg          sync.WaitGroup
}

func startConnectProxy(t *testing.T, user, pass string) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{ln: ln, user: user, pass: pass}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.serve(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *connectProxy) url() *url.URL {
	u := &url.URL{Scheme: "http", Host: p.ln.Addr().String()}
	if p.user != "" {
		u.User = url.UserPassword(p.user, p.pass)
	}
	return u
}

func (p *connectProxy) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if p.user != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
		if req.Header.Get("Proxy-Authorization") != want {
			io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
			return
		}
	}
	p.mu.Lock()
	p.targets = append(p.targets, req.Host)
	p.mu.Unlock()
	upstream, err := net.Dial("tcp", strings.Replace(req.Host, "localhost", "127.0.0.1", 1))
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer upstream.Close()
	answer := p.established
	if answer == "" {
		answer = "HTTP/1.1 200 Connection established\r\n\r\n"
	}
	io.WriteString(c, answer)
	done := make(chan struct{}, 2)
	go func() { io.Copy(upstream, br); done <- struct{}{} }()
	go func() { io.Copy(c, upstream); done <- struct{}{} }()
	<-done
}

func (p *connectProxy) tunnels() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

// TestTransportThroughConnectProxy: with a proxy set, the TLS to the
// origin is still tlsflow's, inside the CONNECT tunnel (http.Transport
// would run crypto/tls there), for HTTP/2 and HTTP/1.1, with the proxy's
// credentials from its URL; the server sees the request and resp.TLS is
// the origin's.
func TestTransportThroughConnectProxy(t *testing.T) {
	ts := startServer(t, serverConfig(), stateHandler(), nil)
	_, port, _ := net.SplitHostPort(ts.addr)
	for _, tc := range []struct {
		name       string
		alpn       []string
		user, pass string
		major      int
	}{
		{"HTTP/2", nil, "", "", 2},
		{"HTTP/1.1", []string{"http/1.1"}, "", "", 1},
		{"HTTP/2 with proxy credentials", nil, "alice", "s3cret", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := startConnectProxy(t, tc.user, tc.pass)
			var dc dialCounter
			tr := newTransport(&tlsflow.Config{NextProtos: tc.alpn}, &dc)
			tr.Base.Proxy = http.ProxyURL(proxy.url())
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			for range 3 {
				resp, body := get(t, client, ts.url+"/")
				alpn := map[int]string{1: "http/1.1", 2: "h2"}[tc.major]
				if resp.ProtoMajor != tc.major || !strings.Contains(body, fmt.Sprintf("ALPN %q", alpn)) {
					t.Fatalf("through the proxy: response over %s, server saw %q; want HTTP/%d", resp.Proto, body, tc.major)
				}
				checkResponseTLS(t, resp, tlsflow.VersionTLS13, alpn)
			}
			if got := proxy.tunnels(); fmt.Sprint(got) != "[localhost:"+port+"]" {
				t.Fatalf("the proxy tunnelled to %v, want one tunnel to localhost:%s for 3 requests", got, port)
			}
			if n := dc.n.Load(); n != 1 {
				t.Fatalf("3 requests dialed %d connections, want 1 (to the proxy)", n)
			}
		})
	}

	t.Run("proxy announcing a body in its 200", func(t *testing.T) {
		// Go's own HTTP server answers CONNECT with Transfer-Encoding:
		// chunked; RFC 9110 §9.3.6 says the client MUST ignore it. The
		// transport once read that "body" and waited for the tunnel to end.
		proxy := startConnectProxy(t, "", "")
		proxy.established = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		tr := newTransport(nil, nil)
		tr.Base.Proxy = http.ProxyURL(proxy.url())
		defer tr.CloseIdleConnections()
		resp, _ := get(t, &http.Client{Transport: tr, Timeout: 5 * time.Second}, ts.url+"/")
		checkResponseTLS(t, resp, tlsflow.VersionTLS13, "h2")
	})
	t.Run("proxy refuses", func(t *testing.T) {
		proxy := startConnectProxy(t, "alice", "s3cret")
		tr := newTransport(nil, nil)
		tr.Base.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.ln.Addr().String()}) // no credentials
		_, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(ts.url + "/")
		if err == nil || !strings.Contains(err.Error(), "407") || !strings.Contains(err.Error(), "proxyconnect") {
			t.Fatalf("through a proxy that wants credentials: %v, want a proxyconnect error naming 407", err)
		}
	})
}
