package main

// End-to-end tests run the tlsflow binary, built once in TestMain, as a
// user would: against in-process peers and real programs (openssl, curl),
// checking what it prints and its exit status.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

var (
	binary  string // the tlsflow command under test
	testDir string // files shared by the tests: PEM files of testCerts
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tlsflow-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDir = dir
	binary = filepath.Join(dir, "tlsflow")
	build := exec.Command(goTool(), "build", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the tlsflow command: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// cliResult is what one run of the command printed and how it exited.
type cliResult struct {
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit status %d\n--- stdout:\n%s\n--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// cliEnv is the environment of every run: English, no colour, no key log,
// plus extra.
func cliEnv(extra ...string) []string {
	env := append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=", "LC_MESSAGES=", "NO_COLOR=1", "SSLKEYLOGFILE=")
	return append(env, extra...)
}

// runCLI runs the command to its end (at most 30 s).
func runCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = cliEnv()
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("running tlsflow %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("tlsflow %s did not finish in time\n%s", strings.Join(args, " "), r)
	}
	return r
}

// wantOutput fails unless out matches every pattern, in order.
func wantOutput(t *testing.T, what, out string, patterns ...string) {
	t.Helper()
	rest := out
	for _, p := range patterns {
		loc := regexp.MustCompile(p).FindStringIndex(rest)
		if loc == nil {
			t.Fatalf("%s lacks %q (in order):\n%s", what, p, out)
		}
		rest = rest[loc[1]:]
	}
}

// requirePeer finds an external program; in CI (CI set) a missing one
// fails the test, as ./test.sh installs it.
func requirePeer(t *testing.T, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; ./test.sh installs it", program)
		}
		t.Skipf("%s is not installed (run ./test.sh to install it)", program)
	}
	return path
}

// testCerts are made once: a CA, a server certificate for localhost and
// 127.0.0.1, a client certificate, and a second CA that trusts neither.
type testCerts struct {
	ca, otherCA         *pki.Authority
	server, client      *pki.Leaf
	caFile, otherCAFile string
	serverCert, key     string // PEM files of server
	clientCert, ckey    string // PEM files of client
}

var (
	certsOnce sync.Once
	certs     testCerts
)

func sharedCerts(t *testing.T) *testCerts {
	t.Helper()
	certsOnce.Do(func() {
		c := &certs
		c.ca = pki.MustNewCA("tlsflow cmd test CA", pki.ECDSAP256)
		c.otherCA = pki.MustNewCA("tlsflow cmd test other CA", pki.ECDSAP256)
		c.server = c.ca.MustServer(pki.ECDSAP256, "localhost", "127.0.0.1")
		c.client = c.ca.MustClient(pki.ECDSAP256, "cmd test client")
		files := map[*string][]byte{
			&c.caFile: c.ca.CertPEM(), &c.otherCAFile: c.otherCA.CertPEM(),
			&c.serverCert: c.server.ChainPEM(), &c.key: c.server.KeyPEM(),
			&c.clientCert: c.client.ChainPEM(), &c.ckey: c.client.KeyPEM(),
		}
		i := 0
		for p, data := range files {
			i++
			*p = filepath.Join(testDir, fmt.Sprintf("cert%d.pem", i))
			if err := os.WriteFile(*p, data, 0o600); err != nil {
				panic(err)
			}
		}
	})
	return &certs
}

func (c *testCerts) serverCertificate() tlsflow.Certificate {
	return tlsflow.Certificate{Certificate: c.server.Chain, PrivateKey: c.server.Key, Leaf: c.server.Cert}
}

// startTLSServer runs a tlsflow HTTPS server for one test. Its page says
// who the client is and which protocol ALPN chose.
func startTLSServer(t *testing.T, cfg *tlsflow.Config) string {
	t.Helper()
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who := "anonymous"
			if c, ok := r.Context().Value(connKey{}).(*tlsflow.Conn); ok {
				if st := c.ConnectionState(); len(st.PeerCertificates) > 0 {
					who = st.PeerCertificates[0].Subject.CommonName
				}
			}
			fmt.Fprintf(w, "hello from the test server, %s\n", who)
		}),
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func serverConfig(c *testCerts) *tlsflow.Config {
	return &tlsflow.Config{Certificates: []tlsflow.Certificate{c.serverCertificate()}}
}

func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"demo", "connect", "serve", "view", "bench"} {
		for _, flag := range []string{"--help", "-h"} {
			t.Run(cmd+flag, func(t *testing.T) {
				t.Parallel()
				r := runCLI(t, nil, cmd, flag)
				if r.code != 0 {
					t.Fatalf("tlsflow %s %s: want exit status 0\n%s", cmd, flag, r)
				}
				wantOutput(t, "help", r.stdout, "Usage: tlsflow "+cmd, "Examples:", "Flags:")
			})
		}
	}
	t.Run("help", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, nil, "help")
		if r.code != 0 {
			t.Fatalf("tlsflow help: want exit status 0\n%s", r)
		}
		wantOutput(t, "usage", r.stdout, "tlsflow demo", "tlsflow connect", "tlsflow serve")
	})
}

func TestMistakesOnTheCommandLineExitWithStatus2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "Usage"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"connect without address", []string{"connect"}, "connect wants one address"},
		{"connect with two addresses", []string{"connect", "a:1", "b:2"}, "connect wants one address"},
		{"both versions", []string{"connect", "--tls1.2", "--tls1.3", "x:1"}, "exclude each other"},
		{"unknown suite", []string{"connect", "--suites", "TLS_RC4", "x:1"}, `unknown cipher suite "TLS_RC4"`},
		{"unknown group", []string{"connect", "--groups", "x448", "x:1"}, `unknown group "x448"`},
		{"unknown trace format", []string{"connect", "--trace", "xml", "x:1"}, `--trace "xml"`},
		{"unknown starttls", []string{"connect", "--starttls", "smtp", "x:1"}, "only ftp"},
		{"cert without key", []string{"connect", "--cert", "c.pem", "x:1"}, "go together"},
		{"unknown flag", []string{"demo", "--frobnicate"}, "frobnicate"},
		{"unknown flow", []string{"demo", "--flow", "tls11"}, `unknown --flow "tls11"`},
		{"suite in TLS 1.3", []string{"demo", "--flow", "tls13", "--suite", "rsa"}, "TLS 1.3"},
		{"RSA in tls12", []string{"demo", "--flow", "tls12", "--suite", "rsa"}, "--flow seed"},
		{"unknown tamper", []string{"demo", "--tamper", "Alert"}, `unknown --tamper "Alert"`},
		{"tamper of a message TLS 1.3 lacks", []string{"demo", "--flow", "tls13", "--tamper", "ServerKeyExchange"}, "has no ServerKeyExchange"},
		{"tamper of a message the seed lacks", []string{"demo", "--flow", "seed", "--tamper", "ServerKeyExchange"}, "RSA key exchange"},
		{"tamper with two connections", []string{"demo", "--flow", "resume", "--tamper", "ClientHello"}, "one connection"},
		{"serve with an argument", []string{"serve", "extra"}, "takes no arguments"},
		{"serve client-auth", []string{"serve", "--client-auth", "maybe"}, `--client-auth "maybe"`},
		{"TLS 1.3 with only TLS 1.2 suites", []string{"connect", "--tls1.3", "--suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "127.0.0.1:1"},
			"--suites names no TLS 1.3 suite"},
		{"TLS 1.2 with only TLS 1.3 suites", []string{"serve", "--tls1.2", "--suites", "TLS_AES_128_GCM_SHA256"}, "--suites names no TLS 1.2 suite"},
		{"unknown language", []string{"demo", "--lang", "fr"}, `--lang "fr": want en or de`},
		{"unknown language for connect", []string{"connect", "--lang", "xx", "127.0.0.1:1"}, `--lang "xx"`},
		{"secrets without a key log", []string{"connect", "--secrets", "127.0.0.1:1"}, "--secrets shows the secrets the key log gets"},
		{"view of an unknown flow", []string{"view", "--addr", "127.0.0.1:0", "--flow", "tls11"}, `unknown --flow "tls11"`},
		{"bench with an argument", []string{"bench", "extra"}, "bench takes no arguments"},
		{"serve on a port in use", []string{"serve", "--addr", busyPort(t)}, "the port is in use"},
	}
	tests = append(append(append(tests, pskUsageMistakes...), phaUsageMistakes...), earlyDataUsageMistakes(t)...)
	for _, tt := range tests {
		if len(tt.args) > 0 && tt.args[0] == "serve" && !slices.Contains(tt.args, "--addr") {
			// Not serve's default port, which another serve may hold:
			// these mistakes are about the flags.
			tt.args = append(slices.Clone(tt.args), "--addr", "127.0.0.1:0")
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, tt.args...)
			if r.code != 2 {
				t.Fatalf("want exit status 2\n%s", r)
			}
			if !strings.Contains(r.stderr+r.stdout, tt.want) {
				t.Fatalf("output lacks %q\n%s", tt.want, r)
			}
			// Refused before anything happens: no key made, no
			// connection announced, no help above the error, which is
			// the only line (the last, after the list of commands).
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if tt.name != "no command" && (r.stdout != "" || !strings.Contains(lines[len(lines)-1], tt.want) ||
				tt.name != "unknown command" && len(lines) != 1) {
				t.Errorf("the mistake is not the only thing printed:\n%s", r)
			}
			if i := slices.Index(tt.args, "--psk"); i >= 0 && len(tt.args[i+1]) >= 32 && strings.Contains(r.stderr, tt.args[i+1][2:]) {
				t.Errorf("the refusal repeats the key:\n%s", r)
			}
		})
	}
}

// busyPort returns an address something listens on until the test ends.
func busyPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestHelpMentionsOnlyFlagsThatExist: every --flag in a command's help is
// one of its flags, or, in an example line of another command, that
// command's (curl's own are curl's business).
func TestHelpMentionsOnlyFlagsThatExist(t *testing.T) {
	t.Parallel()
	commands := []string{"demo", "connect", "serve", "view", "bench"}
	defined := map[string]map[string]bool{}
	helps := map[string]string{}
	for _, cmd := range commands {
		r := runCLI(t, nil, cmd, "--help")
		helps[cmd] = r.stdout
		_, flags, ok := strings.Cut(r.stdout, "\nFlags:\n")
		if !ok {
			t.Fatalf("tlsflow %s --help has no Flags section:\n%s", cmd, r.stdout)
		}
		defined[cmd] = map[string]bool{"help": true}
		for _, m := range regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(flags, -1) {
			defined[cmd][m[1]] = true
		}
	}
	flag := regexp.MustCompile(`(?:^|[\s(])--([a-z0-9.-]*[a-z0-9])`)
	for _, cmd := range commands {
		for line := range strings.Lines(helps[cmd]) { // the flags' own words too
			of := cmd
			if m := regexp.MustCompile(`\btlsflow ([a-z]+)\b`).FindStringSubmatch(line); m != nil && defined[m[1]] != nil {
				of = m[1]
			} else if f := strings.Fields(line); len(f) > 0 && f[0] == "curl" {
				continue
			}
			for _, m := range flag.FindAllStringSubmatch(line, -1) {
				if !defined[of][m[1]] {
					t.Errorf("tlsflow %s --help mentions --%s, which tlsflow %s does not have: %q", cmd, m[1], of, strings.TrimSpace(line))
				}
			}
		}
	}
}

func TestParseFlagsTakesFlagsAfterTheAddress(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantX   bool
	}{
		{[]string{"host:1", "--x"}, []string{"host:1"}, true},
		{[]string{"--x", "host:1"}, []string{"host:1"}, true},
		{[]string{"a", "b", "--x"}, []string{"a", "b"}, true},
		{[]string{"--", "--x"}, []string{"--x"}, false},
		{[]string{"a", "--", "--x"}, []string{"a", "--x"}, false},
	}
	for _, tt := range tests {
		fs := newFlagSet("t", "", &bytes.Buffer{})
		x := fs.Bool("x", false, "")
		pos, err := parseFlags(fs, tt.args)
		if err != nil || *x != tt.wantX || strings.Join(pos, " ") != strings.Join(tt.wantPos, " ") {
			t.Errorf("parseFlags(%q) = %q, x=%v, %v; want %q, x=%v", tt.args, pos, *x, err, tt.wantPos, tt.wantX)
		}
	}
}

func TestSuiteAndGroupNames(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint16
	}{
		{"TLS_AES_128_GCM_SHA256", tlsflow.TLS_AES_128_GCM_SHA256},
		{"tls_chacha20_poly1305_sha256", tlsflow.TLS_CHACHA20_POLY1305_SHA256},
		{"ECDHE_RSA_WITH_AES_128_GCM_SHA256", tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		{"0x009c", tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256},
	} {
		ids, err := parseSuites([]string{tt.in})
		if err != nil || len(ids) != 1 || ids[0] != tt.want {
			t.Errorf("parseSuites(%q) = %x, %v; want %x", tt.in, ids, err, tt.want)
		}
	}
	for _, bad := range []string{"TLS_RSA_WITH_RC4_128_SHA", "0x0005", "5", ""} {
		if _, err := parseSuites([]string{bad}); err == nil {
			t.Errorf("parseSuites(%q) accepted it", bad)
		}
	}
	for in, want := range map[string]tlsflow.CurveID{"X25519MLKEM768": tlsflow.X25519MLKEM768, "P-256": tlsflow.CurveP256, "secp384r1": tlsflow.CurveP384, "X25519": tlsflow.X25519} {
		ids, err := parseGroups([]string{in})
		if err != nil || len(ids) != 1 || ids[0] != want {
			t.Errorf("parseGroups(%q) = %v, %v; want %v", in, ids, err, want)
		}
	}
}

func TestWithPortAddsTheProtocolsDefault(t *testing.T) {
	for _, tt := range []struct{ in, starttls, want string }{
		{"example.com", "", "example.com:443"},
		{"example.com:8443", "", "example.com:8443"},
		{"ftp.example.org", "ftp", "ftp.example.org:21"},
		{"::1", "", "[::1]:443"},
		{"[::1]:9", "", "[::1]:9"},
	} {
		if got := withPort(tt.in, tt.starttls); got != tt.want {
			t.Errorf("withPort(%q, %q) = %q, want %q", tt.in, tt.starttls, got, tt.want)
		}
	}
}
