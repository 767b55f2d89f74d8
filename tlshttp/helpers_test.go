package tlshttp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/tlshttp"
)

// testCerts are made once for the package: a CA, server certificates for
// localhost and 127.0.0.1 (ECDSA, and RSA for the RSA key exchange), and a
// client certificate.
type testCerts struct {
	ca                 *pki.Authority
	ecdsa, rsa, client *pki.Leaf
}

var (
	certsOnce sync.Once
	certs     testCerts
)

func sharedCerts() *testCerts {
	certsOnce.Do(func() {
		certs.ca = pki.MustNewCA("tlshttp test CA", pki.ECDSAP256)
		certs.ecdsa = certs.ca.MustServer(pki.ECDSAP256, "localhost", "127.0.0.1")
		certs.rsa = certs.ca.MustServer(pki.RSA2048, "localhost", "127.0.0.1")
		certs.client = certs.ca.MustClient(pki.ECDSAP256, "tlshttp test client")
	})
	return &certs
}

func flowCert(l *pki.Leaf) tlsflow.Certificate {
	return tlsflow.Certificate{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}
}

func goCert(l *pki.Leaf) tls.Certificate {
	return tls.Certificate{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}
}

func serverConfig() *tlsflow.Config {
	return &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(sharedCerts().ecdsa)}}
}

// testServer is a tlshttp server on a loopback port.
type testServer struct {
	srv    *http.Server
	addr   string // 127.0.0.1:port
	url    string // https://localhost:port
	served chan error
	log    *strings.Builder
	logMu  *sync.Mutex
}

// startServer serves h with tlshttp.Serve until the test ends; edit, if
// set, changes the http.Server first.
func startServer(t *testing.T, config *tlsflow.Config, h http.Handler, edit func(*http.Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String(), served: make(chan error, 1), log: &strings.Builder{}, logMu: &sync.Mutex{}}
	_, port, _ := net.SplitHostPort(ts.addr)
	ts.url = "https://localhost:" + port
	ts.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(lockedWriter{ts}, "", 0)}
	if edit != nil {
		edit(ts.srv)
	}
	go func() { ts.served <- tlshttp.Serve(ts.srv, ln, config) }()
	t.Cleanup(func() {
		ts.srv.Close()
		select {
		case err := <-ts.served:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logged())
		}
	})
	return ts
}

type lockedWriter struct{ ts *testServer }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.ts.logMu.Lock()
	defer w.ts.logMu.Unlock()
	return w.ts.log.Write(b)
}

func (ts *testServer) logged() string {
	ts.logMu.Lock()
	defer ts.logMu.Unlock()
	return ts.log.String()
}

// loggedEventually waits (up to 5 s) for the log to contain every one of
// parts and returns it: the server logs a failed handshake after the
// alert it sent, so the client may know of the failure first.
func (ts *testServer) loggedEventually(parts ...string) string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		log := ts.logged()
		complete := true
		for _, p := range parts {
			complete = complete && strings.Contains(log, p)
		}
		if complete || time.Now().After(deadline) {
			return log
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stateHandler answers GET with a line describing the request and its
// r.TLS, and echoes POST bodies.
func stateHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			io.Copy(w, r.Body)
			return
		}
		fmt.Fprintln(w, describe(r.Proto, r.TLS))
	})
}

// describe renders what a test checks of a request or response.
func describe(proto string, st *tls.ConnectionState) string {
	if st == nil {
		return proto + " without TLS state"
	}
	return fmt.Sprintf("%s over %s, %s, ALPN %q, SNI %q, complete %v, %d peer certificates",
		proto, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol,
		st.ServerName, st.HandshakeComplete, len(st.PeerCertificates))
}

func caPool() *x509.CertPool { return sharedCerts().ca.Pool }

// goTransport is a crypto/tls client for the given HTTP major version.
func goTransport(major int, maxVersion uint16) http.RoundTripper {
	tc := &tls.Config{RootCAs: caPool(), MaxVersion: maxVersion}
	if major == 2 {
		return &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}
	}
	tc.NextProtos = []string{"http/1.1"}
	return &http.Transport{TLSClientConfig: tc, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
}

// get fetches url and returns the response and its body, failing the test
// on an error.
func get(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp, string(body)
}

// dialCounter counts the TCP connections a transport opens.
type dialCounter struct{ n atomic.Int32 }

func (d *dialCounter) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	return (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
}

// newTransport is a tlshttp client trusting the test CA; base's dials are
// counted by dc when set.
func newTransport(config *tlsflow.Config, dc *dialCounter) *tlshttp.Transport {
	if config == nil {
		config = &tlsflow.Config{}
	}
	config.RootCAs = caPool()
	base := &http.Transport{}
	if dc != nil {
		base.DialContext = dc.DialContext
	}
	return &tlshttp.Transport{Config: config, Base: base}
}

// requirePeer returns the path of an external program, which a test talks
// to. Missing, it fails the test in CI (CI set) and skips it elsewhere.
func requirePeer(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; ./test.sh installs it", program)
		}
		t.Skipf("%s is not installed (run ./test.sh to install it)", program)
	}
	return path
}

var _ = http2.NextProtoTLS

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
