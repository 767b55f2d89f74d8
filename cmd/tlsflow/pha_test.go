package main

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// phaWords is what serve's page and console say of an answered
// post-handshake CertificateRequest.
const phaWords = `the server asked for a certificate \(post-handshake CertificateRequest, RFC 8446 §4\.6\.2\); `

// TestServePostHandshakeAuthAsksWhenThePathIsRequested: serve with
// --post-handshake-auth asks no certificate in the handshake; a request for
// the path makes it send a CertificateRequest after it (step 8), which
// connect, given --cert and --key, answers; the page, the visitor's line
// and connect's summary say what was sent, verified against the CA serve
// made. Other paths ask nothing.
func TestServePostHandshakeAuthAsksWhenThePathIsRequested(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--post-handshake-auth", "/secret", "--key-type", "ecdsa")
	wantOutput(t, "serve", s.output(), `Requests for /secret ask for a client certificate after the handshake: verified against the client CAs\n`)
	if s.clientCert == "" {
		t.Fatalf("serve --post-handshake-auth made no client certificate to try it with:\n%s", s.output())
	}
	args := []string{"connect", "--ca", s.caFile, "--cert", s.clientCert, "--key", s.clientKey, "--http"}

	r := runCLI(t, nil, append(args, "localhost:"+s.port)...)
	if r.code != 0 {
		t.Fatalf("connect --http / failed\n%s", r)
	}
	if strings.Contains(r.stdout, "CertificateRequest") || strings.Contains(r.stdout, "After the handshake</th>") {
		t.Fatalf("a request for / was asked for a certificate:\n%s", r.stdout)
	}

	r = runCLI(t, nil, append(args, "--path", "/secret", "localhost:"+s.port)...)
	if r.code != 0 {
		t.Fatalf("connect --http --path /secret failed\n%s\n--- serve:\n%s", r, s.output())
	}
	wantOutput(t, "connect", r.stdout, `client: handshake complete`, `resumed:\s+no\n`, `> GET /secret HTTP/1\.1\n`,
		`server → client CertificateRequest \(\d+ bytes\) — step 8\n`, `client → server Certificate \(\d+ bytes\) — step 8\n`,
		`client → server CertificateVerify \(\d+ bytes\) — step 8\n`, `client → server Finished \(\d+ bytes\) — step 8\n`,
		`< HTTP/1\.1 200 OK`, `<th>Client certificate</th><td>CN=tlsflow serve visitor</td>`,
		`<th>After the handshake</th><td>`+phaWords+`the client sent CN=tlsflow serve visitor \(verified\)</td>`,
		`<code>step 8  server → client  CertificateRequest</code>`,
		`after the handshake:\s+the server asked for our certificate \(post-handshake CertificateRequest, RFC 8446 §4\.6\.2\); we sent CN=tlsflow serve visitor and proved we hold its key\n`)
	if m := regexp.MustCompile(`CertificateRequest \(\d+ bytes\) — step 3`).FindString(r.stdout); m != "" {
		t.Errorf("the handshake asked for a certificate too (%q); want only the request after it", m)
	}
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: GET /secret: `+phaWords+`the client sent CN=tlsflow serve visitor \(verified\)\n`)
}

// TestServePostHandshakeAuthWhereItCannotAsk: where the exchange is not
// allowed serve does not start it and the page says why: a client that
// did not offer it (connect without --cert), TLS 1.2, HTTP/2 (curl's
// default; 505). Where it fails, the connection ends and serve explains.
func TestServePostHandshakeAuthWhereItCannotAsk(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--post-handshake-auth", "/secret", "--key-type", "ecdsa")
	secret := "localhost:" + s.port
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no certificate to offer", []string{"--ca", s.caFile}, `not asked: the client did not offer post-handshake authentication \(no post_handshake_auth in its ClientHello`},
		{"TLS 1.2", []string{"--ca", s.caFile, "--tls1.2", "--cert", s.clientCert, "--key", s.clientKey}, `not asked: TLS 1\.2 has no post-handshake authentication`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append(append([]string{"connect", "--trace", "none", "--http", "--path", "/secret"}, tt.args...), secret)...)
			if r.code != 0 {
				t.Fatalf("connect failed\n%s", r)
			}
			wantOutput(t, "page", r.stdout, `< HTTP/1\.1 200 OK`, `<th>After the handshake</th><td>`+tt.want)
			if strings.Contains(r.stdout, "after the handshake:") {
				t.Errorf("connect says it was asked:\n%s", r.stdout)
			}
		})
	}
	t.Run("HTTP/2", func(t *testing.T) {
		curl := requirePeer(t, "curl")
		out, err := exec.Command(curl, "-sS", "--max-time", "10", "--http2", "--cacert", s.caFile, "--cert", s.clientCert, "--key", s.clientKey,
			"-H", "Accept: text/plain", "-w", "status %{http_code} over HTTP/%{http_version}\n", "https://"+secret+"/secret").CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v\n%s", err, out)
		}
		wantOutput(t, "curl", string(out), `After the handshake: not asked: HTTP/2 forbids a CertificateRequest after the handshake \(RFC 8740\)`,
			`status 505 over HTTP/2\n`)
		if strings.Contains(string(out), "server → client CertificateRequest") {
			t.Errorf("a CertificateRequest went out over HTTP/2:\n%s", out)
		}
	})
	t.Run("a certificate from a CA serve does not know", func(t *testing.T) {
		c := sharedCerts(t)
		r := runCLI(t, nil, "connect", "--trace", "none", "--ca", s.caFile, "--cert", c.clientCert, "--key", c.ckey, "--http", "--path", "/secret", secret)
		if r.code != 1 {
			t.Fatalf("want exit status 1\n%s", r)
		}
		wantOutput(t, "connect", r.stderr, `alert: unknown_ca \(received from the server\)`)
		s.waitFor(t, `visitor 127\.0\.0\.1:\d+: GET /secret: post-handshake authentication FAILED\n  step:  8, Certificate\n  alert: unknown_ca \(sent to the client\)\n`+
			`  cause: the client certificate was issued by [^\n]*CN=tlsflow cmd test CA[^\n]*, which this server does not accept\n`)
	})
}

// TestServePostHandshakeAuthDefaults: with its own --cert and no
// --client-ca serve takes any certificate the client proves it holds,
// unverified; with --client-ca it verifies against those CAs.
func TestServePostHandshakeAuthDefaults(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	for _, tt := range []struct {
		name        string
		flags       []string
		mode, state string
	}{
		{"no client CAs", nil, `any certificate, not verified \(no --client-ca\)`, `not verified: serve has no --client-ca`},
		{"client CAs", []string{"--client-ca", c.caFile}, `verified against the client CAs`, `verified`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startServe(t, append([]string{"--cert", c.serverCert, "--key", c.key, "--post-handshake-auth", "/who"}, tt.flags...)...)
			wantOutput(t, "serve", s.output(), `Requests for /who ask for a client certificate after the handshake: `+tt.mode+`\n`)
			if s.clientCert != "" {
				t.Errorf("serve with its own --cert made a client certificate:\n%s", s.output())
			}
			r := runCLI(t, nil, "connect", "--trace", "none", "--ca", c.caFile, "--cert", c.clientCert, "--key", c.ckey, "--http", "--path", "/who", s.addr)
			if r.code != 0 {
				t.Fatalf("connect failed\n%s\n--- serve:\n%s", r, s.output())
			}
			wantOutput(t, "page", r.stdout, `<th>After the handshake</th><td>`+phaWords+`the client sent CN=cmd test client \(`+tt.state+`\)</td>`)
		})
	}
}

// TestServePostHandshakeAuthPrintsLinesThatWork runs the lines serve
// prints for the path, as printed: curl over HTTP/1.1 and connect, each
// with the client certificate serve made.
func TestServePostHandshakeAuthPrintsLinesThatWork(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--post-handshake-auth", "/secret", "--key-type", "ecdsa")
	s.waitFor(t, `\n  tlsflow connect [^\n]+ --path /secret [^\n]+\n`)
	for _, m := range regexp.MustCompile(`(?m)^  ((curl|tlsflow) [^\n]+/secret[^\n]*)$`).FindAllStringSubmatch(s.output(), -1) {
		fields := strings.Fields(m[1])
		var out string
		if fields[0] == "curl" {
			curl := requirePeer(t, "curl")
			b, err := exec.Command(curl, append(fields[1:], "-sS", "--max-time", "10", "-H", "Accept: text/plain")...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", m[1], err, b)
			}
			out = string(b)
		} else {
			r := runCLI(t, nil, fields[1:]...)
			if r.code != 0 {
				t.Fatalf("%s failed\n%s", m[1], r)
			}
			out = strings.ReplaceAll(r.stdout, "<th>After the handshake</th><td>", "After the handshake: ")
		}
		wantOutput(t, m[1], out, `After the handshake: `+phaWords+`the client sent CN=tlsflow serve visitor \(verified\)`)
	}
}

// TestServePostHandshakeAuthAgainstOpenSSL: openssl s_client -enable_pha,
// with serve's client certificate, requests /secret over its stdin; serve
// asks after the handshake, s_client answers, and the page shows the
// verified certificate.
func TestServePostHandshakeAuthAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	openssl := requirePeer(t, "openssl")
	s := startServe(t, "--post-handshake-auth", "/secret", "--key-type", "ecdsa")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"s_client", "-tls1_3", "-enable_pha", "-cert", s.clientCert, "-key", s.clientKey, "-CAfile", s.caFile,
		"-connect", s.addr, "-servername", "localhost", "-verify_return_error", "-ign_eof", "-nocommands"}
	cmd := exec.CommandContext(ctx, openssl, args...)
	// Connection: close: serve closes after the answer, and s_client, which
	// ignores the end of its stdin (-ign_eof), then exits.
	cmd.Stdin = strings.NewReader("GET /secret HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\nConnection: close\r\n\r\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s\n--- serve:\n%s", strings.Join(args, " "), err, out, s.output())
	}
	wantOutput(t, "openssl s_client", string(out), `HTTP/1\.1 200 OK`, `Client certificate:\s+CN=tlsflow serve visitor\n`,
		`After the handshake: `+phaWords+`the client sent CN=tlsflow serve visitor \(verified\)\n`,
		`step 8  server → client  CertificateRequest`, `step 8  client → server  Certificate\n`)
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: GET /secret: `+phaWords+`the client sent CN=tlsflow serve visitor \(verified\)\n`)
}

// phaUsageMistakes are the ways --post-handshake-auth and --path can be
// wrong (TestMistakesOnTheCommandLineExitWithStatus2).
var phaUsageMistakes = []struct {
	name string
	args []string
	want string
}{
	{"post-handshake-auth without a slash", []string{"serve", "--addr", "127.0.0.1:0", "--post-handshake-auth", "secret"}, `--post-handshake-auth "secret": want a path such as /secret`},
	{"post-handshake-auth with TLS 1.2", []string{"serve", "--addr", "127.0.0.1:0", "--tls1.2", "--post-handshake-auth", "/secret"}, "--post-handshake-auth needs TLS 1.3"},
	{"path without http", []string{"connect", "--path", "/secret", "x:1"}, "--path names what --http gets: add --http"},
	{"path with a space", []string{"connect", "--http", "--path", "/a b", "x:1"}, `--path "/a b": want a path such as /secret, beginning with / and without spaces`},
}
