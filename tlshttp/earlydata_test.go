package tlshttp_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

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

// requestEarly sends one HTTP/1.1 request on a new tlsflow connection to
// ts, as 0-RTT data when the session cache has a ticket that allows it,
// and returns the response's status and body.
func requestEarly(t *testing.T, ts *testServer, cache tlsflow.ClientSessionCache, method string) (status int, body string, accepted bool) {
	t.Helper()
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := tlsflow.Client(raw, &tlsflow.Config{RootCAs: caPool(), ServerName: "localhost", ClientSessionCache: cache,
		NextProtos: []string{"http/1.1"}})
	defer conn.Close()
	req := method + " /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	if _, err := conn.WriteEarlyData([]byte(req)); err != nil && err != tlsflow.ErrNoEarlyData {
		t.Fatal(err)
	}
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	accepted = conn.ConnectionState().EarlyDataAccepted
	if !accepted {
		io.WriteString(conn, req)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), accepted
}

// TestEarlyRequestsOverHTTP1: on a resumed connection, a GET sent as 0-RTT
// data reaches the handler before the handshake completes, marked
// Early-Data: 1 (RFC 8470 §5.1) and by tlshttp.EarlyData; a POST sent so is
// held back until the client's Finished has come (RFC 8470 §5.2), and
// reaches the handler unmarked. A first connection (no ticket) is never
// early.
func TestEarlyRequestsOverHTTP1(t *testing.T) {
	ts, seen := earlyServer(t)
	cache := tlsflow.NewLRUClientSessionCache(4)

	status, body, accepted := requestEarly(t, ts, cache, "GET")
	first := <-seen
	if status != 200 || accepted || first.header || first.early || !first.handshakeComplete {
		t.Fatalf("first connection: %d %q, accepted %v, seen %+v; want a plain 1-RTT request", status, body, accepted, first)
	}

	status, body, accepted = requestEarly(t, ts, cache, "GET")
	get := <-seen
	if status != 200 || !accepted || !get.header || !get.early || get.handshakeComplete {
		t.Fatalf("early GET: %d %q, accepted %v, seen %+v; want it served early and marked", status, body, accepted, get)
	}

	status, body, accepted = requestEarly(t, ts, cache, "POST")
	post := <-seen
	if status != 200 || !accepted || post.header || post.early || !post.handshakeComplete {
		t.Fatalf("early POST: %d %q, accepted %v, seen %+v; want it held until the handshake completed", status, body, accepted, post)
	}
	if !strings.HasPrefix(body, "POST early=false complete=true") {
		t.Errorf("early POST answered %q", body)
	}
}
