package tlshttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/tlshttp"
	"github.com/tlsflow/tlsflow/trace"
)

// phaServer serves "/" (describe's line) and "/secret", which asks for a
// verified client certificate after the handshake (none is asked in it)
// and answers with its subject: 403 when the client has none to show, 505
// over HTTP/2. requests counts the post-handshake CertificateRequests the
// server sent; errs has RequestClientCertificate's errors.
func phaServer(t *testing.T) (ts *testServer, requests *atomic.Int32, errs chan error) {
	t.Helper()
	requests, errs = new(atomic.Int32), make(chan error, 10)
	cfg := serverConfig()
	cfg.ClientCAs = caPool()
	cfg.Trace = func(e trace.Event) {
		if e.Kind == trace.KindMessage && e.Direction == trace.Sent && e.Message == "CertificateRequest" && e.Step == 8 {
			requests.Add(1)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/", stateHandler())
	mux.HandleFunc("/secret", func(w http.ResponseWriter, r *http.Request) {
		err := tlshttp.RequestClientCertificate(r, tlsflow.RequireAndVerifyClientCert)
		if err != nil {
			errs <- err
		}
		switch {
		case errors.Is(err, tlshttp.ErrHTTP2PostHandshakeAuth):
			http.Error(w, err.Error(), http.StatusHTTPVersionNotSupported)
		case err != nil:
			http.Error(w, err.Error(), http.StatusForbidden)
		default:
			fmt.Fprintf(w, "hello %s, %d verified chain(s)\n", r.TLS.PeerCertificates[0].Subject.CommonName, len(r.TLS.VerifiedChains))
		}
	})
	return startServer(t, cfg, mux, nil), requests, errs
}

// TestRequestClientCertificateOverHTTP1: a page that needs a certificate
// asks for one after the handshake; the client's real certificate, from
// the CA in ClientCAs, reaches the handler verified; later requests on the
// same connection have it in r.TLS and are not asked again.
func TestRequestClientCertificateOverHTTP1(t *testing.T) {
	ts, requests, _ := phaServer(t)
	var dials dialCounter
	tr := newTransport(&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(sharedCerts().client)}, NextProtos: []string{"http/1.1"}}, &dials)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	if _, body := get(t, client, ts.url+"/"); !strings.Contains(body, "HTTP/1.1 over TLS 1.3") || !strings.Contains(body, "0 peer certificates") {
		t.Fatalf("before /secret the handler saw %q; want TLS 1.3 over HTTP/1.1 without a client certificate", body)
	}
	for i := 1; i <= 2; i++ {
		resp, body := get(t, client, ts.url+"/secret")
		if resp.StatusCode != http.StatusOK || body != "hello tlshttp test client, 1 verified chain(s)\n" {
			t.Fatalf("GET /secret #%d: %s %q; want 200 and the client's name, verified", i, resp.Status, body)
		}
	}
	if _, body := get(t, client, ts.url+"/"); !strings.Contains(body, fmt.Sprintf("%d peer certificates", len(sharedCerts().client.Chain))) {
		t.Errorf("after /secret a request on the connection saw %q; want its client certificate in r.TLS", body)
	}
	if n, d := requests.Load(), dials.n.Load(); n != 1 || d != 1 {
		t.Errorf("%d post-handshake CertificateRequests over %d connections; want one, on one connection", n, d)
	}
}

// TestRequestClientCertificateWithoutOne: a client that has no
// certificate for the server (its callback returns none) is refused with
// 403 by the handler (tlsflow.ErrNoClientCertificate), and its connection
// goes on; a client without any certificate source does not offer
// post-handshake authentication and is not asked.
func TestRequestClientCertificateWithoutOne(t *testing.T) {
	ts, requests, _ := phaServer(t)
	none := func(*tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
		return &tlsflow.Certificate{}, nil
	}
	var dials dialCounter
	tr := newTransport(&tlsflow.Config{GetClientCertificate: none, NextProtos: []string{"http/1.1"}}, &dials)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	resp, body := get(t, client, ts.url+"/secret")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, tlsflow.ErrNoClientCertificate.Error()) {
		t.Fatalf("GET /secret without a certificate: %s %q; want 403 for ErrNoClientCertificate", resp.Status, body)
	}
	if _, body := get(t, client, ts.url+"/"); !strings.Contains(body, "0 peer certificates") || dials.n.Load() != 1 {
		t.Errorf("after the refusal: %q over %d connections; want the same connection to go on", body, dials.n.Load())
	}

	plain := newTransport(&tlsflow.Config{NextProtos: []string{"http/1.1"}}, nil)
	defer plain.CloseIdleConnections()
	resp, body = get(t, &http.Client{Transport: plain}, ts.url+"/secret")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "post_handshake_auth") {
		t.Errorf("GET /secret from a client that did not offer: %s %q; want 403 saying it did not offer post_handshake_auth", resp.Status, body)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d post-handshake CertificateRequests; want one, to the client that offered", n)
	}
}

// TestRequestClientCertificateRefusedOverHTTP2: HTTP/2 forbids the
// exchange (RFC 8740), so a request over it gets ErrHTTP2PostHandshakeAuth
// and nothing goes to the client, though it offered.
func TestRequestClientCertificateRefusedOverHTTP2(t *testing.T) {
	ts, requests, _ := phaServer(t)
	tr := newTransport(&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(sharedCerts().client)}}, nil)
	defer tr.CloseIdleConnections()
	resp, body := get(t, &http.Client{Transport: tr}, ts.url+"/secret")
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusHTTPVersionNotSupported || !strings.Contains(body, "RFC 8740") {
		t.Fatalf("GET /secret: %s %s %q; want HTTP/2 and 505 for ErrHTTP2PostHandshakeAuth", resp.Proto, resp.Status, body)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d CertificateRequests went over HTTP/2; want none", n)
	}
}

// TestRequestClientCertificateNeedsTlshttp: a request from another server
// has no tlshttp connection to ask on.
func TestRequestClientCertificateNeedsTlshttp(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	if err := tlshttp.RequestClientCertificate(r, tlsflow.RequestClientCert); err == nil || !strings.Contains(err.Error(), "served by tlshttp") {
		t.Errorf("RequestClientCertificate on a request not from tlshttp: %v; want an error saying so", err)
	}
}

// TestRequestClientCertificateFromAnotherCA: a chain from a CA the server
// does not trust ends the connection with unknown_ca, and the handler gets
// that alert, not the cancellation net/http gives the request of a failed
// connection.
func TestRequestClientCertificateFromAnotherCA(t *testing.T) {
	ts, _, errs := phaServer(t)
	other := pki.MustNewCA("some other CA", pki.ECDSAP256).MustClient(pki.ECDSAP256, "stranger")
	tr := newTransport(&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(other)}, NextProtos: []string{"http/1.1"}}, nil)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.url+"/secret", nil)
	if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /secret with a stranger's certificate: %s; want the connection ended", resp.Status)
	}
	var sent tlsflow.AlertError
	if err := <-errs; !errors.As(err, &sent) || sent != tlsflow.AlertError(48) {
		t.Fatalf("RequestClientCertificate: %v; want the unknown_ca alert it sent", err)
	}
}
