package tlshttp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/tlshttp"
)

// earlySeen is what the handler saw of one request.
type earlySeen struct {
	method            string
	header, early     bool // Early-Data: 1; tlshttp.EarlyData
	handshakeComplete bool // r.TLS, when the handler ran
}

// earlyServer serves every request with a line saying what the handler
// saw, and records it.
func earlyServer(t *testing.T) (*testServer, chan earlySeen) {
	t.Helper()
	seen := make(chan earlySeen, 10)
	cfg := serverConfig()
	cfg.MaxEarlyData = 4096
	ts := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := earlySeen{method: r.Method, header: r.Header.Get("Early-Data") == "1", early: tlshttp.EarlyData(r),
			handshakeComplete: r.TLS != nil && r.TLS.HandshakeComplete}
		seen <- s
		fmt.Fprintf(w, "%s early=%v complete=%v\n", r.Method, s.early, s.handshakeComplete)
	}), nil)
	return ts, seen
}

// earlyClient is a tlsflow client connection to ts that sends a request
// as 0-RTT data when the session cache holds a ticket that allows it.
type earlyClient struct {
	t    *testing.T
	conn *tlsflow.Conn
	resp *bufio.Reader
}

func dialEarly(t *testing.T, ts *testServer, cache tlsflow.ClientSessionCache) *earlyClient {
	t.Helper()
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := tlsflow.Client(raw, &tlsflow.Config{RootCAs: caPool(), ServerName: "localhost", ClientSessionCache: cache,
		NextProtos: []string{"http/1.1"}})
	t.Cleanup(func() { conn.Close() })
	return &earlyClient{t: t, conn: conn, resp: bufio.NewReader(conn)}
}

func requestLine(method string, close bool) string {
	req := method + " /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
	if close {
		req += "Connection: close\r\n"
	}
	return req + "\r\n"
}

// first sends req as early data if it can, calls beforeFinished if it
// did (the client's Finished has not been sent yet then), completes the
// handshake, and sends req after it if the server refused the early data.
func (c *earlyClient) first(req string, beforeFinished func()) (accepted bool) {
	c.t.Helper()
	_, err := c.conn.WriteEarlyData([]byte(req))
	switch {
	case err == nil:
		beforeFinished()
	case err != tlsflow.ErrNoEarlyData:
		c.t.Fatal(err)
	}
	if err := c.conn.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	accepted = c.conn.ConnectionState().EarlyDataAccepted
	if !accepted {
		io.WriteString(c.conn, req)
	}
	return accepted
}

// response reads one response: its status and body.
func (c *earlyClient) response() (int, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.resp, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEarlyRequestsOverHTTP1: on a resumed connection, a GET sent as 0-RTT
// data reaches the handler before the handshake completes, marked
// Early-Data: 1 (RFC 8470 §5.1) and by tlshttp.EarlyData; a POST sent so is
// held back until the client's Finished has come (RFC 8470 §5.2), and
// reaches the handler unmarked, with r.TLS saying the handshake completed.
// A first connection (no ticket) is never early.
//
// The early GET's client holds its Finished until the handler has run, so
// that the handshake cannot complete first; the early POST's client sends
// it at once, and net/http's background read may take it in before the
// request reaches tlshttp or after: either way the handler must see a
// completed handshake.
func TestEarlyRequestsOverHTTP1(t *testing.T) {
	ts, seen := earlyServer(t)
	cache := tlsflow.NewLRUClientSessionCache(4)
	never := func() { t.Fatal("early data sent on a first connection") }

	c := dialEarly(t, ts, cache)
	accepted := c.first(requestLine("GET", true), never)
	status, body := c.response()
	first := <-seen
	if status != 200 || accepted || first.header || first.early || !first.handshakeComplete {
		t.Fatalf("first connection: %d %q, accepted %v, seen %+v; want a plain 1-RTT request", status, body, accepted, first)
	}

	var get earlySeen
	c = dialEarly(t, ts, cache)
	accepted = c.first(requestLine("GET", true), func() { get = <-seen })
	status, body = c.response()
	if status != 200 || !accepted || !get.header || !get.early || get.handshakeComplete {
		t.Fatalf("early GET: %d %q, accepted %v, seen %+v; want it served early and marked", status, body, accepted, get)
	}

	c = dialEarly(t, ts, cache)
	accepted = c.first(requestLine("POST", true), func() {})
	status, body = c.response()
	post := <-seen
	if status != 200 || !accepted || post.header || post.early || !post.handshakeComplete {
		t.Fatalf("early POST: %d %q, accepted %v, seen %+v; want it held until the handshake completed", status, body, accepted, post)
	}
	if !strings.HasPrefix(body, "POST early=false complete=true") {
		t.Errorf("early POST answered %q", body)
	}
}

// TestRequestAfterEarlyRequest: net/http takes r.TLS once per connection,
// before the handshake of a connection that began with early data has
// completed. A second request on that connection, sent after the
// handshake, must reach the handler with r.TLS saying it completed, and
// unmarked.
func TestRequestAfterEarlyRequest(t *testing.T) {
	ts, seen := earlyServer(t)
	cache := tlsflow.NewLRUClientSessionCache(4)

	c := dialEarly(t, ts, cache)
	c.first(requestLine("GET", true), func() { t.Fatal("early data sent on a first connection") })
	c.response()
	<-seen

	var get earlySeen
	c = dialEarly(t, ts, cache)
	if !c.first(requestLine("GET", false), func() { get = <-seen }) {
		t.Fatal("early data refused on a resumed connection")
	}
	if status, body := c.response(); status != 200 || !get.early || get.handshakeComplete {
		t.Fatalf("early GET: %d %q, seen %+v; want it served early", status, body, get)
	}
	io.WriteString(c.conn, requestLine("GET", true))
	status, body := c.response()
	next := <-seen
	if status != 200 || next.header || next.early || !next.handshakeComplete {
		t.Fatalf("GET after the handshake on the same connection: %d %q, seen %+v; want r.TLS complete and no early marks", status, body, next)
	}
}

// TestOpenSSLEarlyRequestThenMore: openssl s_client resumes with a GET as
// 0-RTT data (-early_data) on a keep-alive connection and sends a second
// GET after the handshake. The first reaches the handler early and marked;
// the second, on the same connection, after the handshake, unmarked and
// with r.TLS saying it completed. (net/http stops its background read with
// a deadline after the first request, while the handshake may still wait
// for s_client's Finished: that must not end the connection.)
func TestOpenSSLEarlyRequestThenMore(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	ts, seen := earlyServer(t)
	dir := t.TempDir()
	caFile, sessFile, earlyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "sess.pem"), filepath.Join(dir, "early.txt")
	writeFile(t, caFile, sharedCerts().ca.CertPEM())
	writeFile(t, earlyFile, []byte(requestLine("GET", false)))
	base := []string{"s_client", "-tls1_3", "-connect", ts.addr, "-servername", "localhost", "-CAfile", caFile,
		"-verify_return_error", "-alpn", "http/1.1", "-ign_eof"}
	sClient := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, openssl, append(base, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(append(base, args...), " "), err, out)
		}
		return string(out)
	}

	out := sClient(requestLine("GET", true), "-sess_out", sessFile)
	if first := <-seen; first.early || !first.handshakeComplete || !strings.Contains(out, "GET early=false complete=true") {
		t.Fatalf("first connection: seen %+v; s_client printed:\n%s", first, out)
	}

	out = sClient(requestLine("GET", true), "-sess_in", sessFile, "-early_data", earlyFile)
	get, next := <-seen, <-seen
	if !strings.Contains(out, "Early data was accepted") {
		t.Fatalf("s_client's early data was not accepted:\n%s", out)
	}
	if !get.early || !get.header || get.handshakeComplete {
		t.Errorf("the early GET reached the handler as %+v; want early, marked, before the handshake completed", get)
	}
	if next.early || next.header || !next.handshakeComplete {
		t.Errorf("the GET after the handshake reached the handler as %+v; want it unmarked, the handshake complete", next)
	}
	if !strings.Contains(out, "GET early=true complete=false") || !strings.Contains(out, "GET early=false complete=true") {
		t.Errorf("s_client did not get both answers:\n%s", out)
	}
}
