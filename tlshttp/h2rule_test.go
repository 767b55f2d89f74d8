package tlshttp_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/tlsflow/tlsflow"
)

var rsaKex = []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_RSA_WITH_AES_256_GCM_SHA384}

// rsaServerConfig is a TLS 1.2 server with an RSA certificate and the
// given suites.
func rsaServerConfig(suites ...uint16) *tlsflow.Config {
	return &tlsflow.Config{
		Certificates: []tlsflow.Certificate{flowCert(sharedCerts().rsa)},
		MaxVersion:   tlsflow.VersionTLS12,
		CipherSuites: suites,
	}
}

// TestHTTP2NotOfferedOverRSAKeyExchangeOnly: a server whose only suites
// are the RSA key exchange (HTTP/2 forbids them, RFC 9113 §9.2.2) does not
// offer h2, so a client that wants HTTP/2 gets HTTP/1.1, not a connection
// it must refuse. This is `tlsflow serve --suites TLS_RSA_...`, which
// Chromium refused with ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY.
func TestHTTP2NotOfferedOverRSAKeyExchangeOnly(t *testing.T) {
	ts := startServer(t, rsaServerConfig(rsaKex...), stateHandler(), nil)
	tr := goTransport(2, 0).(*http.Transport)
	tr.TLSClientConfig.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	defer tr.CloseIdleConnections()
	resp, body := get(t, &http.Client{Transport: tr}, ts.url+"/")
	want := `HTTP/1.1 over TLS 1.2, TLS_RSA_WITH_AES_128_GCM_SHA256, ALPN "http/1.1", SNI "localhost", complete true, 0 peer certificates`
	if got := strings.TrimSpace(body); got != want || resp.ProtoMajor != 1 {
		t.Fatalf("client got %s, handler saw\n  %s\nwant HTTP/1.1 and\n  %s", resp.Proto, got, want)
	}
}

// TestHTTP2RefusedOverRSAKeyExchange: a server that enables both kinds of
// suite offers h2; a client that offers only the RSA key exchange and h2
// gets both from the engine, and the server refuses to speak HTTP/2 on
// that connection (GOAWAY with INADEQUATE_SECURITY): no request is served
// over it. A client with an ECDHE suite gets HTTP/2.
func TestHTTP2RefusedOverRSAKeyExchange(t *testing.T) {
	served := make(chan string, 10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served <- r.Proto })
	ts := startServer(t, rsaServerConfig(append([]uint16{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, rsaKex...)...), h, nil)

	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(),
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.url+"/", nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("HTTP/2 over TLS_RSA_WITH_AES_128_GCM_SHA256 served a %s", resp.Status)
	}
	// x/net's client reports the GOAWAY, or, when it reads it before its
	// request is under way, that the connection could not be established.
	t.Logf("x/net client: %v", err)
	select {
	case p := <-served:
		t.Fatalf("a request was served over %s on the refused connection", p)
	default:
	}
	if log := ts.logged(); !strings.Contains(log, "refusing HTTP/2") || !strings.Contains(log, "RFC 9113") {
		t.Fatalf("the server log does not say why it refused:\n%s", log)
	}

	// What the server sends, frame by frame: SETTINGS, then GOAWAY with
	// INADEQUATE_SECURITY.
	conn, err := tlsflow.Dial("tcp", ts.addr, &tlsflow.Config{RootCAs: caPool(), ServerName: "localhost",
		CipherSuites: []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, http2.ClientPreface)
	fr := http2.NewFramer(conn, conn)
	fr.WriteSettings()
	var frames []string
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			break
		}
		desc := f.Header().Type.String()
		if g, ok := f.(*http2.GoAwayFrame); ok {
			desc += " " + g.ErrCode.String()
		}
		frames = append(frames, desc)
	}
	if got := fmt.Sprint(frames); got != "[SETTINGS GOAWAY INADEQUATE_SECURITY]" {
		t.Fatalf("the server sent %s, want [SETTINGS GOAWAY INADEQUATE_SECURITY]", got)
	}

	ecdhe := goTransport(2, 0).(*http.Transport)
	defer ecdhe.CloseIdleConnections()
	resp, _ = get(t, &http.Client{Transport: ecdhe}, ts.url+"/")
	if resp.ProtoMajor != 2 || resp.TLS.CipherSuite != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 {
		t.Fatalf("an ECDHE client got %s over %s, want HTTP/2 over TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			resp.Proto, tls.CipherSuiteName(resp.TLS.CipherSuite))
	}
}
