package tlshttp_test

import (
	"context"
	"crypto/tls"
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
// are the RSA key exchange (HTTP/2 forbids them, RFC 9113 §9.2.2) never
// chooses h2, so a client that wants HTTP/2 gets HTTP/1.1, not a
// connection it must refuse. This is `tlsflow serve --suites TLS_RSA_...`,
// which Chromium refused with ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY.
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
// suite offers h2, but never over the RSA key exchange (the engine's
// choice, RFC 9113 §9.2.2): a client offering only TLS_RSA suites and only
// h2 is refused at the handshake (no_application_protocol, the server log
// saying why), one that also offers http/1.1 gets HTTP/1.1, and a client
// with an ECDHE suite gets HTTP/2.
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
	if !strings.Contains(err.Error(), "no application protocol") {
		t.Errorf("x/net client error %v; want the handshake refused with no_application_protocol", err)
	}
	select {
	case p := <-served:
		t.Fatalf("a request was served over %s on the refused connection", p)
	default:
	}
	if log := ts.loggedEventually("no_application_protocol", "RFC 9113"); !strings.Contains(log, "no_application_protocol") || !strings.Contains(log, "RFC 9113") {
		t.Fatalf("the server log does not say why it refused:\n%s", log)
	}

	h1 := goTransport(2, 0).(*http.Transport)
	h1.TLSClientConfig.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
	defer h1.CloseIdleConnections()
	go func() { <-served }()
	resp, _ = get(t, &http.Client{Transport: h1}, ts.url+"/")
	if resp.ProtoMajor != 1 || resp.TLS.NegotiatedProtocol != "http/1.1" {
		t.Fatalf("a TLS_RSA client offering h2 and http/1.1 got %s (ALPN %q); want HTTP/1.1", resp.Proto, resp.TLS.NegotiatedProtocol)
	}

	ecdhe := goTransport(2, 0).(*http.Transport)
	defer ecdhe.CloseIdleConnections()
	go func() { <-served }()
	resp, _ = get(t, &http.Client{Transport: ecdhe}, ts.url+"/")
	if resp.ProtoMajor != 2 || resp.TLS.CipherSuite != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 {
		t.Fatalf("an ECDHE client got %s over %s, want HTTP/2 over TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			resp.Proto, tls.CipherSuiteName(resp.TLS.CipherSuite))
	}
}
