package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

func TestConnectShowsTheHandshakeAndTheResult(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	addr := startTLSServer(t, serverConfig(c))
	tests := []struct {
		name    string
		flags   []string
		version string
		trace   []string
	}{
		{"TLS 1.3", nil, "TLS 1.3", []string{`client → server ClientHello`, `server → client ServerHello`, `client verified Finished`}},
		{"TLS 1.2", []string{"--tls1.2"}, "TLS 1.2", []string{`Step 1 — ClientHello`, `server → client ServerKeyExchange`, `Step 7 — Finished`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, append(append([]string{"connect"}, tt.flags...), "--ca", c.caFile, addr)...)
			if r.code != 0 {
				t.Fatalf("connect failed\n%s", r)
			}
			want := append(tt.trace, `Connected to `+regexp.QuoteMeta(addr),
				`version:\s+`+tt.version, `server certificate:\s+CN=localhost`, `verified:\s+yes`)
			wantOutput(t, "connect output", r.stdout, want...)
		})
	}
}

// TestConnectSummarySaysWhatWasSent: to an IP address no server name is
// sent (RFC 6066 §3), though the certificate is checked against it; the
// RSA key exchange uses no group, and a TLS 1.3 summary has no extended
// master secret to speak of.
func TestConnectSummarySaysWhatWasSent(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	rsa := c.ca.MustServer(pki.RSA2048, "localhost", "127.0.0.1")
	suites := []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}
	addr := startTLSServer(t, &tlsflow.Config{Certificates: []tlsflow.Certificate{{Certificate: rsa.Chain, PrivateKey: rsa.Key}},
		CipherSuites: suites, MaxVersion: tlsflow.VersionTLS12})
	r := runCLI(t, nil, "connect", "--ca", c.caFile, "--tls1.2", "--suites", "TLS_RSA_WITH_AES_128_GCM_SHA256", addr)
	if r.code != 0 {
		t.Fatalf("connect failed\n%s", r)
	}
	wantOutput(t, "connect", r.stdout, `group:\s+none: RSA key transport`,
		`server name \(SNI\):\s+none sent \(127\.0\.0\.1 is an IP address; the certificate was checked against it\)`)

	r = runCLI(t, nil, "connect", "--ca", c.caFile, "--servername", "localhost", startTLSServer(t, serverConfig(c)))
	if r.code != 0 {
		t.Fatalf("connect failed\n%s", r)
	}
	wantOutput(t, "connect", r.stdout, `extended master secret \(RFC 7627\): n/a`, `server name \(SNI\):\s+localhost\n`)
}

func TestConnectHTTPPrintsTheResponse(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	cfg := serverConfig(c)
	cfg.NextProtos = []string{"h2", "http/1.1"}
	addr := startTLSServer(t, cfg)
	r := runCLI(t, nil, "connect", "--ca", c.caFile, "--trace", "none", "--http", addr)
	if r.code != 0 {
		t.Fatalf("connect --http failed\n%s", r)
	}
	wantOutput(t, "connect --http", r.stdout, `ALPN:\s+http/1.1`, `> GET / HTTP/1.1`, `< HTTP/1.1 200 OK`, `hello from the test server, anonymous`)
}

func TestConnectReconnectShowsResumption(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	addr := startTLSServer(t, serverConfig(c))
	for _, version := range []string{"--tls1.2", "--tls1.3"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "connect", version, "--ca", c.caFile, "--reconnect", addr)
			if r.code != 0 {
				t.Fatalf("connect --reconnect failed\n%s", r)
			}
			wantOutput(t, "connect --reconnect", r.stdout,
				`server → client Certificate`, `resumed:\s+no`,
				`Connecting again`, `session resumption accepted`, `resumed:\s+yes`,
				`not sent again`, `Resumed: the server sent no Certificate`)
			second := r.stdout[strings.Index(r.stdout, "Connecting again"):]
			if strings.Contains(second, "server → client Certificate") {
				t.Errorf("the resumed handshake shows a Certificate:\n%s", second)
			}
		})
	}
}

// TestConnectFailingExitsWithTheDiagnosis: each way a connection fails is
// told once (no "tlsflow: … tlsflow:" line after it), with the step, how
// it ended (a peer that closed TCP sent no close_notify), the cause in
// words and a fix that names connect's flags.
func TestConnectFailingExitsWithTheDiagnosis(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	addr := startTLSServer(t, serverConfig(c))
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"server certificate from a CA not trusted", []string{"--ca", c.otherCAFile, addr},
			[]string{`step:  3, Certificate`, `alert: unknown_ca \(sent to the server\)`, `cause: the server certificate does not lead to a CA this client trusts`,
				`fix:   trust the CA that issued it with --ca FILE`}},
		{"server name the certificate lacks", []string{"--ca", c.caFile, "--servername", "example.com", addr},
			[]string{`step:  3, Certificate`, `alert: (bad_certificate|certificate_unknown) \(sent to the server\)`,
				`cause: the server certificate is for localhost, 127.0.0.1, not for example.com`, `fix:   connect with --servername set to a name the certificate covers`}},
		{"nobody listening", []string{"--ca", c.caFile, closedPort(t)},
			[]string{`step:  0, TCP`, `alert: none: there was no TCP connection`, `cause: nothing accepts TCP connections at 127\.0\.0\.1:\d+ \(connection refused\)`,
				`fix:   check the host and the port`}},
		{"the server closes TCP after the ClientHello", []string{rawServer(t, func(net.Conn) {})},
			[]string{`step:  1, after ClientHello`, `alert: none: the server closed TCP without one`,
				`cause: the server closed the TCP connection without a TLS alert`, `fix:   the server refused our ClientHello without saying why: .*?--tls1\.2.*?--servername.*?; we sent no server name \(SNI\), since the address is an IP address`}},
		{"the server resets the connection", []string{rawServer(t, func(c net.Conn) { c.(*net.TCPConn).SetLinger(0) })},
			[]string{`step:  1, after ClientHello`, `alert: none: the TCP connection was reset`, `cause: the TCP connection was reset \(RST\)`, `fix:   the server refused our ClientHello`}},
		{"the server answers with random bytes", []string{rawServer(t, func(c net.Conn) { c.Write([]byte{0x9c, 0xa9, 0x3f, 0x76, 0xcf, 1, 2}) })},
			[]string{`step:  1, after ClientHello`, `alert: none: a peer that does not speak TLS would not read one`,
				`cause: the server sent bytes that are not a TLS record \(9c a9 3f 76 cf\)`, `fix:   another binary protocol answers on this port`}},
		{"the server speaks SSH", []string{rawServer(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n") })},
			[]string{`cause: the server speaks SSH \("SSH-2"…\), not TLS`, `fix:   this is an SSH port`}},
		{"the server speaks plain HTTP", []string{rawServer(t, func(c net.Conn) { io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n") })},
			[]string{`cause: the server answered in plain HTTP \("HTTP/"…\), not TLS`, `fix:   this port speaks HTTP without TLS`}},
		{"the server does not answer", []string{"--timeout", "500ms", rawServer(t, func(net.Conn) { time.Sleep(2 * time.Second) })},
			[]string{`step:  1, after ClientHello`, `alert: none: no answer came`, `cause: the server sent no answer within 500ms`,
				`fix:   a TLS server answers ClientHello at once: .*--timeout waits longer`}},
		{"a malformed ServerHello", []string{rawServer(t, func(c net.Conn) {
			c.Write([]byte{22, 3, 3, 0, 8, 2, 0, 0, 4, 3, 3, 0, 0}) // a ServerHello of four bytes
		})},
			[]string{`step:  2, ServerHello`, `alert: decode_error \(sent to the server\)`, `cause: a ServerHello from the server breaks the protocol \(decode_error\)`,
				`fix:   the server is not a conformant TLS implementation, or something on the way changed the bytes`, `detail \(tlsflow's words\): `}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, append([]string{"connect", "--trace", "none"}, tt.args...)...)
			if r.code != 1 {
				t.Fatalf("want exit status 1\n%s", r)
			}
			wantOutput(t, "stderr", r.stderr, append([]string{`Connection to \S+ failed:\n`}, tt.want...)...)
			if strings.Contains(r.stderr, "tlsflow:") || strings.Count(r.stderr, "cause:") != 1 {
				t.Errorf("the failure is not told exactly once:\n%s", r)
			}
		})
	}
	// With the trace, the failure shows as one headline in it, then the
	// diagnosis, once.
	r := runCLI(t, nil, "connect", rawServer(t, func(net.Conn) {}))
	wantOutput(t, "connect", r.stdout, `(?m)^  client: handshake FAILED at step 1, after ClientHello: the server closed TCP without an alert\n\z`)
	if strings.Contains(r.stdout, "close_notify") || strings.Count(r.stdout+r.stderr, "cause") != 1 {
		t.Errorf("a server that just closed TCP is shown with close_notify, or the failure is told more than once:\n%s", r)
	}
}

// rawServer accepts one connection on loopback, reads the ClientHello and
// answers with answer, then closes; it returns the address.
func rawServer(t *testing.T, answer func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Read(make([]byte, 8192))
		answer(c)
		time.Sleep(100 * time.Millisecond) // let the client read it before the close
	}()
	return ln.Addr().String()
}

// closedPort returns an address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestConnectOptionsReachTheHandshake(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	cfg := serverConfig(c)
	cfg.NextProtos = []string{"h2", "http/1.1"}
	addr := startTLSServer(t, cfg)
	r := runCLI(t, nil, "connect", "--ca", c.caFile, "--trace", "none",
		"--suites", "TLS_CHACHA20_POLY1305_SHA256", "--groups", "secp384r1", "--alpn", "h2", addr)
	if r.code != 0 {
		t.Fatalf("connect failed\n%s", r)
	}
	wantOutput(t, "connect", r.stdout, `cipher suite:\s+TLS_CHACHA20_POLY1305_SHA256`, `group:\s+secp384r1`, `ALPN:\s+h2`)

	r = runCLI(t, nil, "connect", "--ca", c.caFile, "--trace", "none", "--tls1.2",
		"--suites", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "--servername", "localhost", addr)
	if r.code != 0 {
		t.Fatalf("connect failed\n%s", r)
	}
	wantOutput(t, "connect", r.stdout, `version:\s+TLS 1.2`, `cipher suite:\s+TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384`, `server name \(SNI\):\s+localhost`)
}

func TestConnectWithAClientCertificate(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	cfg := serverConfig(c)
	cfg.ClientAuth = tlsflow.RequireAndVerifyClientCert
	cfg.ClientCAs = c.ca.Pool
	addr := startTLSServer(t, cfg)

	r := runCLI(t, nil, "connect", "--ca", c.caFile, "--cert", c.clientCert, "--key", c.ckey, "--http", addr)
	if r.code != 0 {
		t.Fatalf("connect with a client certificate failed\n%s", r)
	}
	wantOutput(t, "connect", r.stdout, `server → client CertificateRequest`, `client → server Certificate`,
		`client → server CertificateVerify`, `hello from the test server, cmd test client`)

	// In TLS 1.3 the client's handshake is over before the server judges
	// its certificate: connect waits for the verdict, with or without --http.
	r = runCLI(t, nil, "connect", "--ca", c.caFile, "--trace", "none", addr)
	if r.code != 1 {
		t.Fatalf("connect without the certificate the server requires: want exit status 1\n%s", r)
	}
	wantOutput(t, "stderr", r.stderr, `alert: certificate_required \(received from the server\)`,
		`fix:   the server wants a client certificate: give one with --cert and --key \(it accepts certificates from: .*tlsflow cmd test CA`)
}

func TestConnectJSONTraceIsOneEventPerLine(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	addr := startTLSServer(t, serverConfig(c))
	r := runCLI(t, nil, "connect", "--ca", c.caFile, "--trace", "json", addr)
	if r.code != 0 {
		t.Fatalf("connect --trace json failed\n%s", r)
	}
	kinds := map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e struct {
			Kind    string `json:"kind"`
			Side    string `json:"side"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("stdout line %d is not JSON (%v): %q", i+1, err, line)
		}
		if e.Side != "client" {
			t.Errorf("line %d: side %q, want client", i+1, e.Side)
		}
		kinds[e.Kind]++
	}
	for _, k := range []string{"connect", "message", "keys", "verified", "handshake_done"} {
		if kinds[k] == 0 {
			t.Errorf("no %q event in the JSON trace (kinds: %v)", k, kinds)
		}
	}
	wantOutput(t, "stderr", r.stderr, `Connected to`, `version:\s+TLS 1.3`)
}

func TestConnectWritesTheKeyLog(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	addr := startTLSServer(t, serverConfig(c))
	dir := t.TempDir()

	flagFile := filepath.Join(dir, "flag.log")
	r := runCLI(t, nil, "connect", "--ca", c.caFile, "--trace", "none", "--keylog", flagFile, addr)
	if r.code != 0 {
		t.Fatalf("connect --keylog failed\n%s", r)
	}
	checkKeyLog(t, flagFile, "", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
		"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0")

	// SSLKEYLOGFILE is appended to, as browsers do.
	envFile := filepath.Join(dir, "env.log")
	const earlier = "# an earlier session\n"
	if err := os.WriteFile(envFile, []byte(earlier), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, cliEnv("SSLKEYLOGFILE="+envFile), "connect", "--tls1.2", "--ca", c.caFile, "--trace", "none", addr)
	if r.code != 0 {
		t.Fatalf("connect with SSLKEYLOGFILE failed\n%s", r)
	}
	checkKeyLog(t, envFile, earlier, "CLIENT_RANDOM")
}

// TestConnectShowsSecretsOnlyWithAKeyLog: --secrets prints the derived
// secrets in the trace, and only when a key log is configured; the secret
// shown is the one the key log holds.
func TestConnectShowsSecretsOnlyWithAKeyLog(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	addr := startTLSServer(t, serverConfig(c))
	keylog := filepath.Join(t.TempDir(), "keys.log")
	r := runCLI(t, nil, "connect", "--ca", c.caFile, "--lang", "en", "--secrets", "--keylog", keylog, addr)
	if r.code != 0 {
		t.Fatalf("connect --secrets failed\n%s", r)
	}
	data, err := os.ReadFile(keylog)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} ([0-9a-f]+)$`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("no CLIENT_TRAFFIC_SECRET_0 in the key log:\n%s", data)
	}
	if !strings.Contains(r.stdout, m[1]) {
		t.Errorf("the trace does not show the client traffic secret %s:\n%s", m[1], r.stdout)
	}
	// Without a key log there is nothing to show: a mistake on the
	// command line, refused before connecting.
	r = runCLI(t, nil, "connect", "--ca", c.caFile, "--lang", "en", "--secrets", addr)
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "--secrets shows the secrets the key log gets: give --keylog FILE") {
		t.Errorf("connect --secrets without a key log: want exit status 2 and the reason, before connecting\n%s", r)
	}
}

func checkKeyLog(t *testing.T, path, prefix string, labels ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, prefix) {
		t.Errorf("key log %s lost what was in it before:\n%s", path, text)
	}
	line := regexp.MustCompile(`(?m)^([A-Z_0-9]+) [0-9a-f]{64} [0-9a-f]{64,}$`)
	found := map[string]bool{}
	for _, m := range line.FindAllStringSubmatch(text, -1) {
		found[m[1]] = true
	}
	for _, l := range labels {
		if !found[l] {
			t.Errorf("key log %s has no %s line:\n%s", path, l, text)
		}
	}
}

// TestConnectAgainstOpenSSL connects to `openssl s_server -www`, which
// answers GET / with a status page, in both versions, and resumes.
func TestConnectAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	openssl := requirePeer(t, "openssl")
	c := sharedCerts(t)
	for _, version := range []string{"--tls1.2", "--tls1.3"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			addr, output := startOpenSSLServer(t, ctx, openssl, "-cert", c.serverCert, "-key", c.key, "-www", "-naccept", "2")
			r := runCLI(t, nil, "connect", version, "--ca", c.caFile, "--servername", "localhost", "--http", "--reconnect", addr)
			if r.code != 0 {
				t.Fatalf("connect to openssl s_server failed\n%s\n--- openssl:\n%s", r, output())
			}
			wantOutput(t, "connect", r.stdout, `version:\s+TLS 1\.[23]`, `< HTTP/1.0 200 ok`, `s_server`,
				`Connecting again`, `resumed:\s+yes`, `< HTTP/1.0 200 ok`)
		})
	}
}

// startOpenSSLServer runs openssl s_server on a port it picks and returns
// its address and a function returning what it printed.
func startOpenSSLServer(t *testing.T, ctx context.Context, openssl string, args ...string) (string, func() string) {
	t.Helper()
	args = append([]string{"s_server", "-accept", "127.0.0.1:0"}, args...)
	cmd := exec.CommandContext(ctx, openssl, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	stdin, err := cmd.StdinPipe() // held open: s_server ends at EOF on stdin
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting openssl %s: %v", strings.Join(args, " "), err)
	}
	var out strings.Builder
	accept := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if a, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
				accept <- a
			}
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		<-done
		cmd.Wait()
	})
	select {
	case a := <-accept:
		return a, func() string { <-done; return out.String() }
	case <-done:
		t.Fatalf("openssl %s exited before listening", strings.Join(args, " "))
	case <-ctx.Done():
		t.Fatalf("openssl %s did not listen in time", strings.Join(args, " "))
	}
	return "", nil
}

// TestConnectStartTLSFTP logs in to an FTP server over AUTH TLS and lists /.
// The server is a small one made here: what matters is the command's use of
// package ftps, which has its own tests against vsftpd.
func TestConnectStartTLSFTP(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	addr := startFTPServer(t, serverConfig(c))
	r := runCLI(t, nil, "connect", "--starttls", "ftp", "--ca", c.caFile, addr)
	if r.code != 0 {
		t.Fatalf("connect --starttls ftp failed\n%s", r)
	}
	wantOutput(t, "connect --starttls ftp", r.stdout,
		`ftp > AUTH TLS`, `client → server ClientHello`, `Control connection protected`, `version:\s+TLS 1.3`,
		`ftp > USER anonymous`, `ftp > PASS \*\*\*`, `ftp > LIST /`, `session resumption accepted`,
		`Listing of /`, `readme.txt`)
	if strings.Contains(r.stdout, "anonymous@") {
		t.Errorf("the password reached the output:\n%s", r.stdout)
	}
}

// startFTPServer serves one FTP control connection with AUTH TLS (RFC
// 4217): USER, PASS, PBSZ, PROT, EPSV, LIST over a TLS data connection, QUIT.
func startFTPServer(t *testing.T, cfg *tlsflow.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		if err := serveFTP(conn, cfg); err != nil {
			t.Errorf("FTP server: %v", err)
		}
	}()
	return ln.Addr().String()
}

func serveFTP(conn net.Conn, cfg *tlsflow.Config) error {
	var rw io.ReadWriter = conn
	r := bufio.NewReader(rw)
	reply := func(format string, args ...any) error {
		_, err := fmt.Fprintf(rw, format+"\r\n", args...)
		return err
	}
	reply("220 test FTP server")
	var data net.Listener
	defer func() {
		if data != nil {
			data.Close()
		}
	}()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading a command: %w", err)
		}
		cmd, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(cmd) {
		case "AUTH":
			reply("234 AUTH TLS accepted")
			tc := tlsflow.Server(conn, cfg)
			if err := tc.Handshake(); err != nil {
				return err
			}
			rw = tc
			r = bufio.NewReader(tc)
		case "USER":
			reply("331 password please")
		case "PASS":
			reply("230 logged in")
		case "PBSZ", "PROT":
			reply("200 ok")
		case "EPSV":
			if data, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return err
			}
			reply("229 Entering Extended Passive Mode (|||%d|)", data.Addr().(*net.TCPAddr).Port)
		case "LIST":
			if data == nil {
				reply("425 no data connection")
				continue
			}
			reply("150 listing follows")
			dc, err := data.Accept()
			if err != nil {
				return err
			}
			dc.SetDeadline(time.Now().Add(10 * time.Second))
			tdc := tlsflow.Server(dc, cfg)
			_, err = io.WriteString(tdc, "-rw-r--r-- 1 ftp ftp 16 Jan 01 00:00 readme.txt\r\n")
			tdc.Close()
			if err != nil {
				return fmt.Errorf("data connection: %w", err)
			}
			reply("226 done")
		case "QUIT":
			reply("221 bye")
			return nil
		default:
			reply("502 %s not implemented", strconv.Quote(cmd))
		}
	}
}
