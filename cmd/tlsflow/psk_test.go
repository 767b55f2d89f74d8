package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The external PSK of these tests, as --psk takes it; another key under
// the same identity, for a client that holds the wrong one.
var (
	testPSK      = sha256.Sum256([]byte("tlsflow cmd test PSK"))
	testPSKHex   = hex.EncodeToString(testPSK[:])
	otherPSK     = sha256.Sum256([]byte("another key"))
	otherPSKHex  = hex.EncodeToString(otherPSK[:])
	testPSKFlags = []string{"--psk-identity", "device-17", "--psk", testPSKHex}
)

// TestConnectAndServeWithAnExternalPSK: serve holding only a PSK makes no
// certificate; connect with the same key gets in over TLS 1.3 with a
// SHA-256 suite, no certificate crosses the wire, and both summaries name
// the key (the page, the visitor's line, connect's authentication row).
// Reconnecting resumes the session the key authenticated.
func TestConnectAndServeWithAnExternalPSK(t *testing.T) {
	t.Parallel()
	s := startServe(t, testPSKFlags...)
	s.waitFor(t, `openssl s_client -psk_identity device-17 -psk "\$PSK" -connect localhost:\d+\n`)
	wantOutput(t, "serve", s.output(), `External pre-shared key \(PSK\): identity "device-17", used with SHA-256\n`,
		`No certificate: only clients holding the key get in\.\n`, `Listening on`,
		`Try, with the hex key of --psk in PSK:\n  tlsflow connect --psk-identity device-17 --psk "\$PSK" --http localhost:\d+\n`)
	if s.caFile != "" || strings.Contains(s.output(), "Making a CA") || strings.Contains(s.output(), testPSKHex) {
		t.Fatalf("serve with a PSK alone made a certificate, or printed the key:\n%s", s.output())
	}

	r := runCLI(t, nil, append([]string{"connect", "--http"}, append(testPSKFlags, "localhost:"+s.port)...)...)
	if r.code != 0 {
		t.Fatalf("connect with the PSK failed\n%s\n--- serve:\n%s", r, s.output())
	}
	wantOutput(t, "connect", r.stdout, `client: external PSK offered`, `client → server ClientHello`,
		`pre-shared key:\s+1 identity`, `client: external PSK accepted — step 2\n\s+PSK identity:\s+device-17\n`, `server → client Finished`,
		`version:\s+TLS 1\.3\n`, `cipher suite:\s+TLS_(AES_128_GCM|CHACHA20_POLY1305)_SHA256\n`,
		`authentication:\s+external pre-shared key \(PSK\) "device-17"\n`, `verified:\s+yes: the server's Finished proves it holds the key\n`,
		`< HTTP/1\.1 200 OK`, `<th>Authentication</th><td>external pre-shared key \(PSK\) &#34;device-17&#34;</td>`,
		`<th>Client certificate</th><td>none</td>`)
	if strings.Contains(r.stdout, "Certificate (") || strings.Contains(r.stdout, "server certificate:") {
		t.Errorf("a certificate crossed the wire, or the summary names one:\n%s", r.stdout)
	}
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: TLS 1\.3, TLS_\w+_SHA256, X25519MLKEM768, ALPN http/1\.1, PSK "device-17"\n`)

	r = runCLI(t, nil, append([]string{"connect", "--trace", "none", "--reconnect"}, append(testPSKFlags, "localhost:"+s.port)...)...)
	if r.code != 0 {
		t.Fatalf("connect --reconnect with the PSK failed\n%s", r)
	}
	wantOutput(t, "connect --reconnect", r.stdout, `authentication:\s+external pre-shared key \(PSK\) "device-17"\n`,
		`Connecting again`, `resumed:\s+yes\n`, `authentication:\s+a session the external pre-shared key \(PSK\) "device-17" authenticated, resumed\n`)
}

// TestExternalPSKFailuresAreExplained: each way a PSK handshake fails is
// told with its cause and a fix in the commands' flags, on both sides: the
// wrong key (the server's binder check, decrypt_error), an identity the
// server does not know, a client without a PSK at a server that has
// nothing else, and a PSK-only connect at a server that has no PSK.
func TestExternalPSKFailuresAreExplained(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		args        []string
		client, srv []string
	}{
		{"the wrong key", []string{"--psk-identity", "device-17", "--psk", otherPSKHex},
			[]string{`alert: decrypt_error \(received from the server\)`, `cause: the server refused with the alert decrypt_error: a signature, Finished or PSK binder from us did not verify there`,
				`fix:   the server holds another key under --psk-identity "device-17": the binder made with our --psk does not verify there`},
			[]string{`step:  1, ClientHello\n  alert: decrypt_error \(sent to the client\)\n  cause: the client's PSK binder does not verify: it holds another key under the identity it offered\n  fix:   give the client the key of --psk\n`}},
		{"an unknown identity", []string{"--psk-identity", "device-18", "--psk", testPSKHex},
			[]string{`alert: handshake_failure \(received from the server\)`, `fix:   the server took neither our pre-shared key nor anything else we offered: check that it knows --psk-identity "device-18"`},
			[]string{`step:  3, Certificate\n  alert: handshake_failure \(sent to the client\)\n  cause: the client offered no pre-shared key this server holds, and with --psk alone the server has no certificate to show instead\n` +
				`  fix:   connect with the identity "device-17" and the same key \(tlsflow connect --psk-identity`}},
		{"no PSK at all", []string{"--insecure"},
			[]string{`alert: handshake_failure \(received from the server\)`},
			[]string{`step:  3, Certificate\n  alert: handshake_failure \(sent to the client\)\n  cause: the client offered no pre-shared key this server holds`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startServe(t, testPSKFlags...) // one each: its output tells of this client alone
			r := runCLI(t, nil, append(append([]string{"connect", "--trace", "none"}, tt.args...), "localhost:"+s.port)...)
			if r.code != 1 {
				t.Fatalf("want exit status 1\n%s", r)
			}
			wantOutput(t, "stderr", r.stderr, tt.client...)
			if strings.Contains(r.stdout+r.stderr, testPSKHex) || strings.Contains(r.stdout+r.stderr, otherPSKHex) {
				t.Errorf("the key is in the output:\n%s", r)
			}
			s.waitFor(t, `visitor 127\.0\.0\.1:\d+: handshake FAILED\n  `+strings.Join(tt.srv, ""))
		})
	}

	// A server with a certificate and no PSK: connect, which has no way to
	// check a certificate, refuses it; given the CA, it takes the certificate.
	c := sharedCerts(t)
	certServer := startTLSServer(t, serverConfig(c))
	r := runCLI(t, nil, append([]string{"connect", "--trace", "none"}, append(testPSKFlags, certServer)...)...)
	if r.code != 1 {
		t.Fatalf("a PSK-only connect took a certificate handshake\n%s", r)
	}
	wantOutput(t, "stderr", r.stderr, `step:  2, ServerHello`, `alert: handshake_failure \(sent to the server\)`,
		`cause: the server did not select our pre-shared key "device-17", and without --servername or --ca connect has no way to check a certificate instead`,
		`fix:   check that the server holds this --psk-identity`)
	r = runCLI(t, nil, append([]string{"connect", "--trace", "none", "--ca", c.caFile}, append(testPSKFlags, certServer)...)...)
	if r.code != 0 {
		t.Fatalf("connect --psk --ca to a certificate server failed\n%s", r)
	}
	wantOutput(t, "connect", r.stdout, `server certificate:\s+CN=localhost`, `verified:\s+yes, up to`)
	if strings.Contains(r.stdout, "authentication:") {
		t.Errorf("a certificate handshake is said to be a PSK's:\n%s", r.stdout)
	}
}

// TestServeWithAPSKAndACertificate: serve given both takes each client by
// what it offers: the key, or the certificate for a client without it.
func TestServeWithAPSKAndACertificate(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	s := startServe(t, append([]string{"--cert", c.serverCert, "--key", c.key}, testPSKFlags...)...)
	r := runCLI(t, nil, append([]string{"connect", "--trace", "none", "--http"}, append(testPSKFlags, s.addr)...)...)
	if r.code != 0 {
		t.Fatalf("connect with the PSK failed\n%s", r)
	}
	wantOutput(t, "connect with the PSK", r.stdout, `authentication:\s+external pre-shared key \(PSK\) "device-17"`,
		`<th>Authentication</th><td>external pre-shared key`)
	r = runCLI(t, nil, "connect", "--trace", "none", "--http", "--ca", c.caFile, s.addr)
	if r.code != 0 {
		t.Fatalf("connect with the CA failed\n%s", r)
	}
	wantOutput(t, "connect with the CA", r.stdout, `server certificate:\s+CN=localhost`,
		`<th>Authentication</th><td>the server certificate \(no pre-shared key\)</td>`)
}

// TestConnectExternalPSKAgainstOpenSSL: connect with --psk-identity and
// --psk at `openssl s_server -psk_identity -psk -nocert -tls1_3 -www`,
// which knows the key and has no certificate; and serve with the same
// flags answering `openssl s_client -psk_identity -psk`.
func TestConnectExternalPSKAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	openssl := requirePeer(t, "openssl")
	t.Run("connect/openssl-s_server", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := []string{"-psk_identity", "device-17", "-psk", testPSKHex, "-nocert", "-tls1_3", "-www", "-naccept", "1"}
		addr, output := startOpenSSLServer(t, ctx, openssl, args...)
		r := runCLI(t, nil, append([]string{"connect", "--http"}, append(testPSKFlags, addr)...)...)
		if r.code != 0 {
			t.Fatalf("connect to openssl s_server %s failed\n%s\n--- openssl:\n%s", strings.Join(args, " "), r, output())
		}
		wantOutput(t, "connect", r.stdout, `client: external PSK accepted`, `version:\s+TLS 1\.3\n`, `cipher suite:\s+TLS_\w+_SHA256\n`,
			`authentication:\s+external pre-shared key \(PSK\) "device-17"\n`, `< HTTP/1\.0 200 ok`, `s_server`)
		if strings.Contains(r.stdout, "server → client Certificate") {
			t.Errorf("s_server -nocert sent a Certificate:\n%s", r.stdout)
		}
	})
	t.Run("openssl-s_client/serve", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, testPSKFlags...)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := []string{"s_client", "-psk_identity", "device-17", "-psk", testPSKHex, "-connect", s.addr, "-ign_eof", "-nocommands"}
		cmd := exec.CommandContext(ctx, openssl, args...)
		cmd.Stdin = strings.NewReader("GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\nConnection: close\r\n\r\n")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s\n--- serve:\n%s", strings.Join(args, " "), err, out, s.output())
		}
		wantOutput(t, "openssl s_client", string(out), `no peer certificate available`, `Reused, TLSv1\.3, Cipher is TLS_\w+_SHA256`,
			`HTTP/1\.1 200 OK`, `Protocol version:\s+TLS 1\.3`, `Authentication:\s+external pre-shared key \(PSK\) "device-17"`,
			`server: external PSK accepted`)
		s.waitFor(t, `visitor 127\.0\.0\.1:\d+: TLS 1\.3, TLS_\w+_SHA256, \w+, PSK "device-17"\n`)
	})
}

// pskUsageMistakes are the ways --psk-identity and --psk can be wrong; each
// is refused before anything happens, without repeating the key
// (TestMistakesOnTheCommandLineExitWithStatus2).
var pskUsageMistakes = []struct {
	name string
	args []string
	want string
}{
	{"psk without identity", []string{"connect", "--psk", testPSKHex, "x:1"}, "--psk-identity and --psk go together"},
	{"identity without psk", []string{"serve", "--addr", "127.0.0.1:0", "--psk-identity", "device-17"}, "--psk-identity and --psk go together"},
	{"psk not hex", []string{"connect", "--psk-identity", "a", "--psk", "0x" + testPSKHex, "x:1"}, "--psk must be hex digits (0-9, a-f), as openssl's -psk; character 2 is not one"},
	{"psk of odd length", []string{"connect", "--psk-identity", "a", "--psk", testPSKHex[1:], "x:1"}, "--psk has 63 hex digits, an odd number"},
	{"psk too short", []string{"serve", "--addr", "127.0.0.1:0", "--psk-identity", "a", "--psk", "00112233445566778899aabbccddee"}, "--psk is 15 bytes long; use at least 16 random bytes"},
	{"psk too long", []string{"connect", "--psk-identity", "a", "--psk", strings.Repeat("ab", 513), "x:1"}, "--psk is 513 bytes long; at most 512"},
	{"psk with TLS 1.2", []string{"connect", "--tls1.2", "--psk-identity", "a", "--psk", testPSKHex, "x:1"}, "--psk needs TLS 1.3"},
	{"psk with SHA-384 suites only", []string{"serve", "--addr", "127.0.0.1:0", "--suites", "TLS_AES_256_GCM_SHA384", "--psk-identity", "a", "--psk", testPSKHex}, "--suites names no TLS 1.3 suite of SHA-256"},
	{"psk alone with client-auth", []string{"serve", "--addr", "127.0.0.1:0", "--client-auth", "require", "--psk-identity", "a", "--psk", testPSKHex}, "with --psk alone there is none"},
	{"psk mistake in German", []string{"connect", "--lang", "de", "--psk", testPSKHex, "x:1"}, "--psk-identity und --psk gehören zusammen"},
}
