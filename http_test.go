package tlsflow_test

// net/http over tlsflow, with nothing from crypto/tls on the tlsflow side:
// HTTP/1.1 through NewListener and Dialer, HTTP/2 chosen by ALPN
// (RFC 7301) and served with golang.org/x/net/http2, and curl (OpenSSL and
// nghttp2) as an independent client for both.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/tlsflow/tlsflow"
)

// httpBodySize is the POST body each test sends and gets echoed back: big
// enough for many TLS records and, over HTTP/2, for flow control updates.
const httpBodySize = 1 << 20

// seenRequest is what the handler saw of one request.
type seenRequest struct {
	method     string
	path       string
	protoMajor int
	bodyLen    int
	tlsVersion uint16 // of the tlsflow connection that carried it
	alpn       string
}

// recordingHandler answers GET with a line naming the protocol and TLS
// version it saw, echoes POST bodies, and keeps a record of every request.
type recordingHandler struct {
	mu   sync.Mutex
	seen []seenRequest
}

type tlsflowConnKey struct{}

func (h *recordingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, _ := r.Context().Value(tlsflowConnKey{}).(*tlsflow.Conn)
	s := seenRequest{method: r.Method, path: r.URL.Path, protoMajor: r.ProtoMajor}
	if conn != nil {
		st := conn.ConnectionState()
		s.tlsVersion, s.alpn = st.Version, st.NegotiatedProtocol
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 2*httpBodySize))
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.bodyLen = len(body)
	h.mu.Lock()
	h.seen = append(h.seen, s)
	h.mu.Unlock()
	if r.Method == http.MethodPost {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
		return
	}
	fmt.Fprintf(w, "hello over %s and %s\n", r.Proto, tlsflow.VersionName(s.tlsVersion))
}

// helloBody is the handler's answer to a GET over HTTP/major and TLS version.
func helloBody(major int, version uint16) string {
	proto := "HTTP/1.1"
	if major == 2 {
		proto = "HTTP/2.0"
	}
	return fmt.Sprintf("hello over %s and %s\n", proto, tlsflow.VersionName(version))
}

// last returns the request seen most recently.
func (h *recordingHandler) last(t testing.TB) seenRequest {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.seen) == 0 {
		t.Fatal("the handler saw no request")
	}
	return h.seen[len(h.seen)-1]
}

func (h *recordingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.seen)
}

// connQueue is a net.Listener fed by hand: the accept loop hands it the
// connections that negotiated HTTP/1.1, for an http.Server to serve.
type connQueue struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error   { q.once.Do(func() { close(q.done) }); return nil }
func (q *connQueue) Addr() net.Addr { return q.addr }

// startHTTPServer serves h over tlsflow on a loopback port and returns its
// address. Each connection's handshake runs first; one that negotiated
// "h2" goes to an HTTP/2 server, any other to an HTTP/1.1 http.Server. Both
// put the *tlsflow.Conn in the request context for the handler.
func startHTTPServer(t *testing.T, cfg *tlsflow.Config, h http.Handler) string {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := tlsflow.NewListener(inner, cfg)
	queue := &connQueue{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	h1 := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, tlsflowConnKey{}, c)
		},
	}
	h2 := &http2.Server{}

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		h2open = map[net.Conn]bool{}
	)
	wg.Add(2)
	go func() { defer wg.Done(); h1.Serve(queue) }()
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn := c.(*tlsflow.Conn)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := conn.HandshakeContext(ctx)
				cancel()
				if err != nil {
					conn.Close()
					return
				}
				if conn.ConnectionState().NegotiatedProtocol != "h2" {
					select {
					case queue.conns <- conn:
					case <-queue.done:
						conn.Close()
					}
					return
				}
				mu.Lock()
				h2open[conn] = true
				mu.Unlock()
				h2.ServeConn(conn, &http2.ServeConnOpts{
					Context:    context.WithValue(context.Background(), tlsflowConnKey{}, conn),
					Handler:    h,
					BaseConfig: h1,
				})
				mu.Lock()
				delete(h2open, conn)
				mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		h1.Close()
		mu.Lock()
		for c := range h2open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// httpServerConfig is a tlsflow server offering h2 and http/1.1 (RFC 7301:
// the server picks, in its own order of preference).
func httpServerConfig() *tlsflow.Config {
	c := sharedCerts()
	return &tlsflow.Config{
		Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)},
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// dialRecorder dials tlsflow connections for an HTTP client and keeps them,
// so the test can look at what each handshake negotiated.
type dialRecorder struct {
	dialer tlsflow.Dialer
	mu     sync.Mutex
	conns  []*tlsflow.Conn
}

func newDialRecorder(cfg *tlsflow.Config) *dialRecorder {
	return &dialRecorder{dialer: tlsflow.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}}
}

func (d *dialRecorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conns = append(d.conns, c.(*tlsflow.Conn))
	d.mu.Unlock()
	return c, nil
}

func (d *dialRecorder) dialed() []*tlsflow.Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*tlsflow.Conn(nil), d.conns...)
}

func httpClientConfig(maxVersion uint16, alpn ...string) *tlsflow.Config {
	return &tlsflow.Config{
		RootCAs:    sharedCerts().ca.Pool,
		ServerName: "localhost",
		MaxVersion: maxVersion,
		NextProtos: alpn,
	}
}

// checkGetAndPost sends a GET and a POST of httpBodySize random bytes, and
// checks what the handler saw and what came back.
func checkGetAndPost(t *testing.T, client *http.Client, base string, h *recordingHandler, wantMajor int, wantVersion uint16) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/hello", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET /hello: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET /hello: reading the body: %v", err)
	}
	wantBody := helloBody(wantMajor, wantVersion)
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != wantMajor || string(body) != wantBody {
		t.Fatalf("GET /hello: client got %s %s %q, want 200 over HTTP/%d with %q",
			resp.Proto, resp.Status, body, wantMajor, wantBody)
	}
	got := h.last(t)
	if got.method != http.MethodGet || got.path != "/hello" || got.protoMajor != wantMajor || got.tlsVersion != wantVersion {
		t.Fatalf("GET /hello: handler saw %+v, want GET /hello over HTTP/%d and %s",
			got, wantMajor, tlsflow.VersionName(wantVersion))
	}

	payload := make([]byte, httpBodySize)
	rand.Read(payload)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/echo", bytes.NewReader(payload))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("POST /echo with %d bytes: %v", len(payload), err)
	}
	echo, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("POST /echo: reading the %d-byte echo: %v", len(payload), err)
	}
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != wantMajor {
		t.Fatalf("POST /echo: client got %s %s, want 200 over HTTP/%d", resp.Proto, resp.Status, wantMajor)
	}
	if !bytes.Equal(echo, payload) {
		t.Fatalf("POST /echo: the echo (%d bytes) differs from the %d bytes sent", len(echo), len(payload))
	}
	got = h.last(t)
	if got.method != http.MethodPost || got.bodyLen != len(payload) || got.protoMajor != wantMajor || got.tlsVersion != wantVersion {
		t.Fatalf("POST /echo: handler saw %+v, want POST of %d bytes over HTTP/%d and %s",
			got, len(payload), wantMajor, tlsflow.VersionName(wantVersion))
	}
}

var httpVersions = []struct {
	name    string
	version uint16
}{
	{"TLS 1.3", tlsflow.VersionTLS13},
	{"TLS 1.2", tlsflow.VersionTLS12},
}

func TestHTTP1OverTlsflowListenerAndDialer(t *testing.T) {
	for _, v := range httpVersions {
		t.Run(v.name, func(t *testing.T) {
			h := &recordingHandler{}
			addr := startHTTPServer(t, httpServerConfig(), h)
			// Offering only http/1.1 keeps the server on its HTTP/1.1 path
			// although it prefers h2.
			d := newDialRecorder(httpClientConfig(v.version, "http/1.1"))
			tr := &http.Transport{DialTLSContext: d.dial}
			defer tr.CloseIdleConnections()
			checkGetAndPost(t, &http.Client{Transport: tr}, "https://"+addr, h, 1, v.version)

			conns := d.dialed()
			if len(conns) == 0 {
				t.Fatal("the transport dialed no tlsflow connection")
			}
			st := conns[0].ConnectionState()
			if st.Version != v.version || st.NegotiatedProtocol != "http/1.1" || len(st.VerifiedChains) == 0 {
				t.Fatalf("client connection: %s, ALPN %q, %d verified chains; want %s, http/1.1, a verified chain",
					tlsflow.VersionName(st.Version), st.NegotiatedProtocol, len(st.VerifiedChains), v.name)
			}
		})
	}
}

// TestHTTP1WithoutALPN protects the plain case: a client that sends no ALPN
// extension at all gets HTTP/1.1 from a server that offers h2.
func TestHTTP1WithoutALPN(t *testing.T) {
	h := &recordingHandler{}
	addr := startHTTPServer(t, httpServerConfig(), h)
	d := newDialRecorder(httpClientConfig(0))
	tr := &http.Transport{DialTLSContext: d.dial}
	defer tr.CloseIdleConnections()
	checkGetAndPost(t, &http.Client{Transport: tr}, "https://"+addr, h, 1, tlsflow.VersionTLS13)
	if p := d.dialed()[0].ConnectionState().NegotiatedProtocol; p != "" {
		t.Fatalf("negotiated protocol %q without ALPN offered, want none", p)
	}
}

func TestHTTP2NegotiatedByALPN(t *testing.T) {
	for _, v := range httpVersions {
		t.Run(v.name, func(t *testing.T) {
			h := &recordingHandler{}
			addr := startHTTPServer(t, httpServerConfig(), h)
			d := newDialRecorder(httpClientConfig(v.version, "h2"))
			tr := &http2.Transport{
				// The *tls.Config that x/net/http2 passes is for crypto/tls
				// dialers; tlsflow's own Config is in d.
				DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
					return d.dial(ctx, network, addr)
				},
			}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			checkGetAndPost(t, client, "https://"+addr, h, 2, v.version)

			// HTTP/2 multiplexes: concurrent requests share the one connection.
			const parallel = 8
			errs := make(chan error, parallel)
			for i := 0; i < parallel; i++ {
				go func() {
					resp, err := client.Get(fmt.Sprintf("https://%s/parallel/%d", addr, i))
					if err != nil {
						errs <- err
						return
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.ProtoMajor != 2 {
						err = fmt.Errorf("response over %s, want HTTP/2", resp.Proto)
					}
					errs <- err
				}()
			}
			for i := 0; i < parallel; i++ {
				if err := <-errs; err != nil {
					t.Fatalf("parallel GET: %v", err)
				}
			}
			if n := h.count(); n != 2+parallel {
				t.Fatalf("handler saw %d requests, want %d", n, 2+parallel)
			}

			conns := d.dialed()
			if len(conns) != 1 {
				t.Fatalf("the HTTP/2 transport dialed %d connections, want 1 for all requests", len(conns))
			}
			st := conns[0].ConnectionState()
			if st.Version != v.version || st.NegotiatedProtocol != "h2" {
				t.Fatalf("client connection: %s with ALPN %q, want %s with h2",
					tlsflow.VersionName(st.Version), st.NegotiatedProtocol, v.name)
			}
			if got := h.last(t); got.alpn != "h2" {
				t.Fatalf("server connection negotiated %q, want h2", got.alpn)
			}
		})
	}
}

// TestCurlAgainstTlsflowHTTPServer has curl (OpenSSL for TLS, nghttp2 for
// HTTP/2) fetch from the tlsflow server, choosing the HTTP and TLS versions.
func TestCurlAgainstTlsflowHTTPServer(t *testing.T) {
	curl := requirePeer(t, "curl")
	h := &recordingHandler{}
	addr := startHTTPServer(t, httpServerConfig(), h)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	caFile := writeTempFile(t, dir, "ca.pem", sharedCerts().ca.CertPEM())
	payload := make([]byte, httpBodySize)
	rand.Read(payload)
	postFile := writeTempFile(t, dir, "post.bin", payload)

	cases := []struct {
		name        string
		args        []string
		post        bool
		wantHTTP    string // curl's %{http_version}
		wantVersion uint16
	}{
		{"HTTP/2 over TLS 1.3", []string{"--http2"}, false, "2", tlsflow.VersionTLS13},
		{"HTTP/1.1 over TLS 1.3", []string{"--http1.1"}, false, "1.1", tlsflow.VersionTLS13},
		{"HTTP/2 over TLS 1.2", []string{"--http2", "--tlsv1.2", "--tls-max", "1.2"}, false, "2", tlsflow.VersionTLS12},
		{"HTTP/1.1 over TLS 1.2", []string{"--http1.1", "--tlsv1.2", "--tls-max", "1.2"}, false, "1.1", tlsflow.VersionTLS12},
		{"HTTP/2 POST of 1 MB", []string{"--http2"}, true, "2", tlsflow.VersionTLS13},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := filepath.Join(t.TempDir(), "body")
			args := append([]string{"-sS", "--max-time", "20", "--cacert", caFile,
				"--resolve", "localhost:" + port + ":127.0.0.1", "-o", out, "-w", "%{http_version}"}, tc.args...)
			path := "/hello"
			if tc.post {
				path = "/echo"
				args = append(args, "--data-binary", "@"+postFile, "-H", "Content-Type: application/octet-stream")
			}
			args = append(args, "https://localhost:"+port+path)
			p := startPeer(t, ctx, nil, curl, args...)
			if err := p.wait(); err != nil {
				t.Fatalf("%s: %v\n%s", p.command, err, p.output())
			}
			if got := strings.TrimSpace(p.output()); got != tc.wantHTTP {
				t.Fatalf("%s: http_version %q, want %q", p.command, got, tc.wantHTTP)
			}
			body, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			wantMajor := 1
			if tc.wantHTTP == "2" {
				wantMajor = 2
			}
			got := h.last(t)
			if tc.post {
				if !bytes.Equal(body, payload) {
					t.Fatalf("%s: the echo (%d bytes) differs from the %d bytes posted", p.command, len(body), len(payload))
				}
				if got.method != http.MethodPost || got.bodyLen != len(payload) {
					t.Fatalf("handler saw %+v, want a POST of %d bytes", got, len(payload))
				}
			} else {
				want := helloBody(wantMajor, tc.wantVersion)
				if string(body) != want {
					t.Fatalf("%s: body %q, want %q", p.command, body, want)
				}
			}
			if got.protoMajor != wantMajor || got.tlsVersion != tc.wantVersion {
				t.Fatalf("handler saw HTTP/%d over %s, want HTTP/%d over %s", got.protoMajor,
					tlsflow.VersionName(got.tlsVersion), wantMajor, tlsflow.VersionName(tc.wantVersion))
			}
		})
	}
}

// TestReadAbortedByADeadlineCanBeResumed does what net/http's HTTP/1.1
// server does between two requests on a kept-alive connection: a Read
// pending in the background is ended by a read deadline in the past, the
// deadline is cleared, and the next request is read from the same Conn.
func TestReadAbortedByADeadlineCanBeResumed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client := tlsflow.Client(raw, httpClientConfig(0))
	defer client.Close()
	srvRaw := <-accepted
	if srvRaw == nil {
		t.Fatal("accept failed")
	}
	server := tlsflow.Server(srvRaw, httpServerConfig())
	defer server.Close()
	srvRaw.SetDeadline(time.Now().Add(10 * time.Second))
	raw.SetDeadline(time.Now().Add(10 * time.Second))

	handshake := make(chan error, 1)
	go func() { handshake <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-handshake; err != nil {
		t.Fatalf("server handshake: %v", err)
	}

	pending := make(chan error, 1)
	go func() {
		_, err := server.Read(make([]byte, 1))
		pending <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the Read block on the socket
	server.SetReadDeadline(time.Unix(1, 0))
	err = <-pending
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("the aborted Read returned %v, want a timeout", err)
	}
	server.SetReadDeadline(time.Now().Add(10 * time.Second))

	const next = "GET /next HTTP/1.1\r\n"
	if _, err := client.Write([]byte(next)); err != nil {
		t.Fatalf("client write: %v", err)
	}
	got := make([]byte, len(next))
	if _, err := io.ReadFull(server, got); err != nil || string(got) != next {
		t.Fatalf("Read after the aborted one: %q, %v; want %q", got, err, next)
	}
}
