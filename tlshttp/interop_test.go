package tlshttp_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// TestCurlAgainstServer has curl (OpenSSL, nghttp2) fetch from the tlshttp
// server with each HTTP version it can ask for, over TLS 1.3 and 1.2.
func TestCurlAgainstServer(t *testing.T) {
	curl := requirePeer(t, "curl")
	ts := startServer(t, serverConfig(), stateHandler(), nil)
	_, port, _ := net.SplitHostPort(ts.addr)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, caFile, sharedCerts().ca.CertPEM())
	for _, tc := range []struct {
		name string
		args []string
		want string // the first words of the handler's line
	}{
		{"HTTP/2 over TLS 1.3", []string{"--http2"}, "HTTP/2.0 over TLS 1.3"},
		{"HTTP/1.1 over TLS 1.3", []string{"--http1.1"}, "HTTP/1.1 over TLS 1.3"},
		{"HTTP/2 over TLS 1.2", []string{"--http2", "--tls-max", "1.2"}, "HTTP/2.0 over TLS 1.2"},
		{"HTTP/1.1 over TLS 1.2", []string{"--http1.1", "--tls-max", "1.2"}, "HTTP/1.1 over TLS 1.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			args := append([]string{"-sS", "--max-time", "15", "--cacert", caFile,
				"--resolve", "localhost:" + port + ":127.0.0.1"}, tc.args...)
			args = append(args, ts.url+"/")
			out, err := exec.CommandContext(ctx, curl, args...).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), tc.want) || !strings.Contains(string(out), `SNI "localhost"`) {
				t.Fatalf("curl %s: %v\n%s\nwant a line starting %q", strings.Join(args, " "), err, out, tc.want)
			}
		})
	}
	t.Run("plain http:// to the TLS port", func(t *testing.T) {
		out, err := exec.Command(curl, "-sS", "--max-time", "15", "--http0.9", "http://"+ts.addr+"/").CombinedOutput()
		if err != nil || string(out) != "Client sent an HTTP request to an HTTPS server.\n" {
			t.Fatalf("curl http://%s/: %v\n%q\nwant net/http's 400 text", ts.addr, err, out)
		}
	})
}

// requireChromium returns the path of a Chromium: missing, it fails the
// test in CI and skips it elsewhere.
func requireChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return requirePeer(t, "chromium")
}

// chromiumDOM loads url in headless Chromium and returns the page's DOM.
func chromiumDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--ignore-certificate-errors", "--dump-dom", url}
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// pageHandler answers with an HTML page naming the protocols.
func pageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><p id=\"seen\">%s</p></body></html>", describe(r.Proto, r.TLS))
	})
}

// TestChromiumAgainstServer loads a page from the tlshttp server in
// headless Chromium: HTTP/2 by default; and from a server whose only
// suites are the RSA key exchange, HTTP/1.1 (Chromium refuses HTTP/2 over
// them, ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY, so h2 must not be chosen).
func TestChromiumAgainstServer(t *testing.T) {
	chromium := requireChromium(t)
	t.Run("HTTP/2", func(t *testing.T) {
		ts := startServer(t, serverConfig(), pageHandler(), nil)
		dom := chromiumDOM(t, chromium, "https://"+ts.addr+"/")
		if !strings.Contains(dom, `HTTP/2.0 over TLS 1.3`) {
			t.Fatalf("Chromium's page:\n%s\nwant the handler's line for HTTP/2.0 over TLS 1.3", dom)
		}
	})
	t.Run("RSA key exchange only", func(t *testing.T) {
		ts := startServer(t, rsaServerConfig(rsaKex...), pageHandler(), nil)
		dom := chromiumDOM(t, chromium, "https://"+ts.addr+"/")
		if strings.Contains(ts.logged(), "no cipher suite in common") {
			t.Skip("this Chromium does not offer the RSA key exchange any more")
		}
		want := fmt.Sprintf("HTTP/1.1 over TLS 1.2, %s", tlsflow.CipherSuiteName(tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256))
		if !strings.Contains(dom, want) && !strings.Contains(dom, "HTTP/1.1 over TLS 1.2, TLS_RSA_WITH_AES_256_GCM_SHA384") {
			t.Fatalf("Chromium's page:\n%s\nwant the handler's line for HTTP/1.1 over TLS 1.2 with the RSA key exchange", dom)
		}
	})
}
