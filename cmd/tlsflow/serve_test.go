package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// serveProcess is `tlsflow serve` running for one test.
type serveProcess struct {
	addr       string // 127.0.0.1:port
	port       string
	caFile     string // the CA it made, "" with --cert
	clientCert string // with --client-auth: the client certificate it made
	clientKey  string

	mu     sync.Mutex
	out    strings.Builder
	cond   *sync.Cond
	exited bool
}

func (s *serveProcess) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// waitFor waits until the output matches re (at most 10 s).
func (s *serveProcess) waitFor(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.AfterFunc(10*time.Second, func() { s.mu.Lock(); s.exited = true; s.cond.Broadcast(); s.mu.Unlock() })
	defer deadline.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if m := rx.FindStringSubmatch(s.out.String()); m != nil {
			return m
		}
		if s.exited {
			t.Fatalf("serve printed no %q:\n%s", re, s.out.String())
		}
		s.cond.Wait()
	}
}

// startServe runs `tlsflow serve --addr 127.0.0.1:0 args...` until the
// test ends, then stops it with SIGINT and checks that it stopped cleanly
// and removed the files it made.
func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = cliEnv()
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveProcess{}
	s.cond = sync.NewCond(&s.mu)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.cond.Broadcast()
			s.mu.Unlock()
		}
		s.mu.Lock()
		s.exited = true
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	t.Cleanup(func() {
		defer cancel()
		cmd.Process.Signal(syscall.SIGINT)
		<-copied
		err := cmd.Wait()
		if err != nil {
			t.Errorf("serve did not stop cleanly on SIGINT: %v\n%s", err, s.output())
		}
		if !strings.Contains(s.output(), "Stopped.") && !strings.Contains(s.output(), "Beendet.") {
			t.Errorf("serve did not say it stopped:\n%s", s.output())
		}
		if s.caFile != "" {
			if _, err := os.Stat(s.caFile); !os.IsNotExist(err) {
				t.Errorf("serve left %s behind (stat: %v)", s.caFile, err)
			}
		}
	})
	m := s.waitFor(t, `(?:Listening on|Lausche auf) (127\.0\.0\.1:(\d+))`) // --lang de: German
	s.addr, s.port = m[1], m[2]
	if m := regexp.MustCompile(`CA for clients to trust: (\S+)`).FindStringSubmatch(s.output()); m != nil {
		s.caFile = m[1]
	}
	if m := regexp.MustCompile(`Client certificate: (\S+), key (\S+)`).FindStringSubmatch(s.output()); m != nil {
		s.clientCert, s.clientKey = m[1], m[2]
	}
	return s
}

// fetch GETs the page with a tlsflow client.
func fetch(t *testing.T, s *serveProcess, cfg *tlsflow.Config, accept string) string {
	t.Helper()
	d := &tlsflow.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialTLSContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, s.addr)
		},
	}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, "https://localhost:"+s.port+"/", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET from serve: %v\n%s", err, s.output())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET from serve: %s, %v\n%s", resp.Status, err, body)
	}
	return string(body)
}

func serveClientConfig(t *testing.T, s *serveProcess) *tlsflow.Config {
	t.Helper()
	pool, err := loadCertPool(s.caFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tlsflow.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}}
}

func TestServeMakesACertificateAndPrintsItsFingerprint(t *testing.T) {
	t.Parallel()
	s := startServe(t)
	wantOutput(t, "serve", s.output(), `Making a CA and a server certificate for localhost, 127\.0\.0\.1, ::1`,
		`\(key pair: RSA-2048 …\)`, `SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}`, `CA for clients to trust: `, `Listening on`)
	if s.caFile == "" {
		t.Fatal("serve named no CA file")
	}
}

func TestServePageShowsTheVisitorsHandshake(t *testing.T) {
	t.Parallel()
	s := startServe(t)
	cfg := serveClientConfig(t, s)
	cfg.ClientSessionCache = tlsflow.NewLRUClientSessionCache(1)

	text := fetch(t, s, cfg, "text/plain")
	wantOutput(t, "plain page", text, `Your TLS handshake with tlsflow`,
		`Protocol version:\s+TLS 1\.3`, `Cipher suite:\s+TLS_AES_`, `Key exchange group:\s+X25519MLKEM768`,
		`ALPN:\s+http/1\.1`, `Server name \(SNI\):\s+localhost`, `Session resumed:\s+no`, `Client certificate:\s+none`,
		`Handshake messages:`, `step 1  client → server  ClientHello`, `step 3  server → client  Certificate`,
		`step 7  client → server  Finished`,
		`The handshake as the server saw it:`, `client → server ClientHello`, `server verified Finished`)

	// A new connection resumes: the page shows it, and no Certificate.
	text = fetch(t, s, cfg, "text/plain;q=0.9, text/html;q=0.5")
	wantOutput(t, "plain page of the resumed connection", text, `Session resumed:\s+yes`, `Handshake messages:`,
		`ClientHello`, `session resumption accepted`)
	if strings.Contains(text, "server → client  Certificate") {
		t.Errorf("the resumed handshake lists a Certificate:\n%s", text)
	}

	html := fetch(t, s, serveClientConfig(t, s), "")
	wantOutput(t, "HTML page", html, `<!DOCTYPE html>`, `<th>Protocol version</th><td>TLS 1\.3</td>`,
		`<th>Session resumed</th><td>no</td>`, `<code>step 1  client → server  ClientHello</code>`, `<pre>`, `client → server ClientHello`)

	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: TLS 1\.3, TLS_AES_\w+, X25519MLKEM768, ALPN http/1\.1, SNI localhost\n`)
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: .*, resumed\n`)
}

func TestServeAnswersCurl(t *testing.T) {
	t.Parallel()
	curl := requirePeer(t, "curl")
	s := startServe(t, "--key-type", "ecdsa")
	for _, tt := range []struct {
		name  string
		flags []string
		want  []string
	}{
		{"HTTP/2", nil, []string{`ALPN:\s+h2`, `HTTP:\s+HTTP/2\.0`}},
		{"HTTP/1.1 over TLS 1.2", []string{"--http1.1", "--tlsv1.2", "--tls-max", "1.2"}, []string{`Protocol version:\s+TLS 1\.2`, `ALPN:\s+http/1\.1`, `HTTP:\s+HTTP/1\.1`, `Step 7 — Finished`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-sS", "--max-time", "10", "--cacert", s.caFile,
				"--resolve", "localhost:" + s.port + ":127.0.0.1", "-H", "Accept: text/plain"}, tt.flags...)
			args = append(args, "https://localhost:"+s.port+"/")
			out, err := exec.Command(curl, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			wantOutput(t, "page for curl", string(out), append([]string{`Your TLS handshake with tlsflow`}, tt.want...)...)
		})
	}
}

func TestServeClientAuthShowsTheClientCertificate(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--client-auth", "require", "--key-type", "ecdsa")
	if s.clientCert == "" {
		t.Fatalf("serve --client-auth require made no client certificate:\n%s", s.output())
	}
	r := runCLI(t, nil, "connect", "--trace", "none", "--ca", s.caFile, "--cert", s.clientCert, "--key", s.clientKey,
		"--http", "localhost:"+s.port)
	if r.code != 0 {
		t.Fatalf("connect with the client certificate failed\n%s\n--- serve:\n%s", r, s.output())
	}
	wantOutput(t, "page", r.stdout, `<th>Client certificate</th><td>CN=tlsflow serve visitor</td>`,
		`client → server Certificate`, `client → server CertificateVerify`)

	r = runCLI(t, nil, "connect", "--trace", "none", "--ca", s.caFile, "localhost:"+s.port)
	if r.code != 1 {
		t.Fatalf("connect without a client certificate: want exit status 1\n%s", r)
	}
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: handshake FAILED\n\s+step:\s+\d, Certificate`)
}

func TestServeTracePrintsEachVisitorsHandshake(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	s := startServe(t, "--cert", c.serverCert, "--key", c.key, "--trace", "text", "--tls1.2")
	wantOutput(t, "serve", s.output(), `Server certificate: CN=localhost`, `SHA-256 fingerprint: `+fingerprint(c.server.Chain[0]))
	cfg := &tlsflow.Config{RootCAs: c.ca.Pool}
	conn, err := tlsflow.Dial("tcp", s.addr, cfg)
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, s.output())
	}
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\nConnection: close\r\n\r\n")
	io.Copy(io.Discard, conn)
	conn.Close()
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: TLS 1\.2, TLS_ECDHE_ECDSA_\w+, x25519\n`+
		`(?s:.*)Step 1 — ClientHello(?s:.*)client → server ClientHello(?s:.*)server → client ServerKeyExchange(?s:.*)server: handshake complete`)
	s.waitFor(t, `(?s)Step 8 — Application protocols.*client → server application data`)
}

func TestAcceptHeaderChoosesThePage(t *testing.T) {
	for _, tt := range []struct {
		accept string
		plain  bool
	}{
		{"", false},
		{"*/*", false},
		{"text/plain", true},
		{"text/html", false},
		{"text/html,application/xhtml+xml,*/*;q=0.8", false},
		{"text/plain, text/html", false},
		{"text/plain;q=1, text/html;q=0.5", true},
		{"text/*;q=0.3, text/plain", true},
		{"text/plain;q=0, */*", false},
		{"application/json", false},
	} {
		if got := prefersPlainText(tt.accept); got != tt.plain {
			t.Errorf("prefersPlainText(%q) = %v, want %v", tt.accept, got, tt.plain)
		}
	}
}

// TestServeTellsHowEachVisitorLeft: a curl that closes an HTTP/2
// connection without close_notify has not failed a handshake; a curl that
// does not trust the CA, and a plain HTTP request, are told with their
// cause and a fix that names what to give curl.
func TestServeTellsHowEachVisitorLeft(t *testing.T) {
	t.Parallel()
	curl := requirePeer(t, "curl")
	s := startServe(t, "--key-type", "ecdsa", "--trace", "text")
	url := "https://localhost:" + s.port + "/"
	resolve := "localhost:" + s.port + ":127.0.0.1"

	out, err := exec.Command(curl, "-sS", "--max-time", "10", "--http2", "--cacert", s.caFile, "--resolve", resolve, "-o", "/dev/null", url).CombinedOutput()
	if err != nil {
		t.Fatalf("curl --http2: %v\n%s", err, out)
	}
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: TLS 1\.3, .*ALPN h2`)
	s.waitFor(t, `(?s)TLS 1\.3 · Application data\n.*server → client alert close_notify|server: connection ended at step 8`)
	if m := regexp.MustCompile(`(?m)^.*handshake FAILED.*$`).FindString(s.output()); m != "" {
		t.Fatalf("a completed HTTP/2 visit is shown as a failed handshake: %q\n%s", m, s.output())
	}

	exec.Command(curl, "-sS", "--max-time", "10", "--resolve", resolve, "-o", "/dev/null", url).Run()
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: handshake FAILED\n  step:  \d, [^\n]+\n  alert: [^\n]+\n  cause: [^\n]+\n  fix:   [^\n]*curl --cacert `+regexp.QuoteMeta(s.caFile))

	exec.Command(curl, "-sS", "--max-time", "10", "-o", "/dev/null", "http://127.0.0.1:"+s.port+"/").Run()
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: handshake FAILED\n  step:  1, ClientHello\n  alert: none: a peer that does not speak TLS would not read one\n`+
		`  cause: the client sent a plain HTTP request \("GET /"…\) to this TLS port\n  fix:   open https://…, not http://…\n`)
}

// TestServeClientAuthPrintsLinesThatWork runs the curl line serve prints
// with --client-auth require, as printed.
func TestServeClientAuthPrintsLinesThatWork(t *testing.T) {
	t.Parallel()
	curl := requirePeer(t, "curl")
	s := startServe(t, "--client-auth", "require", "--key-type", "ecdsa")
	line := s.waitFor(t, `\n  (curl [^\n]+)\n`)[1]
	if !strings.Contains(line, "--cert "+s.clientCert) || !strings.Contains(line, "--key "+s.clientKey) {
		t.Fatalf("the curl line lacks the client certificate serve made: %s", line)
	}
	args := append(strings.Fields(line)[1:], "-sS", "--max-time", "10", "-H", "Accept: text/plain")
	out, err := exec.Command(curl, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s\n--- serve:\n%s", line, err, out, s.output())
	}
	wantOutput(t, "page", string(out), `Client certificate:\s+CN=tlsflow serve visitor`)
}
