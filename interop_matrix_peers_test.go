package tlsflow_test

// The peers of the interop matrix (interop_matrix_test.go): how to run each
// one's server and client for a case, what the tlsflow client sends to its
// server, and what its output must show.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// matrixPeer is one TLS implementation with its server and client.
type matrixPeer struct {
	name string
	// version describes the peer's version for the table, best effort:
	// "" if it cannot tell.
	version func() string
	// refuses, if set, returns why the peer cannot run a case ("" if it
	// can): the cell is then "n/a" with that reason. No peer needs it
	// today: each one is made to accept the RSA key exchange (Python names
	// the suite, Server.java lifts the TLS_RSA_* ban of recent JDK 17
	// updates: 17.0.21 has it, 17.0.15 not).
	refuses func(c matrixRow) string
	server  *matrixServer
	client  *matrixClient
}

// matrixServer is a peer's server, which the tlsflow client connects to.
type matrixServer struct {
	programs []string // needed on the machine (requirePeer)
	// start starts the server for r.c, and returns where it listens.
	start func(r *matrixRun) (*peerProcess, string, error)
	// exchange is what the tlsflow client sends on each connection, and
	// text the server's answer must contain.
	exchange func(r *matrixRun) (send []byte, want string)
	// check checks the server's output once the tlsflow client is done.
	check func(r *matrixRun, srv *peerProcess) error
}

// matrixClient is a peer's client, which connects to the tlsflow server,
// sends r.payload as a line on each connection and expects it reversed.
type matrixClient struct {
	programs []string
	// start starts the client for r.c against the tlsflow server at addr.
	start func(r *matrixRun, addr string) (*peerProcess, error)
	// firstConnectionEmpty: when resuming, the first connection only
	// fetches the session and carries no data.
	firstConnectionEmpty bool
	// check checks the client's output once it has exited with status 0.
	check func(r *matrixRun, cli *peerProcess) error
}

func matrixPeers() []*matrixPeer {
	return []*matrixPeer{gnutlsPeer(), nssPeer(), javaPeer(), pythonPeer(), nodePeer()}
}

// matrixEnv is what every cell shares: certificate files, and the NSS
// databases and Java classes, made once on first use.
type matrixEnv struct {
	dir      string
	files    *opensslFiles // PEM files: the CA, full chains and keys
	testdata string        // testdata/interop, absolute

	nssOnce sync.Once
	nssDBs  map[*pki.Leaf]string // "sql:" database holding the CA and the leaf with its key
	nssErr  error

	javaOnce    sync.Once
	javaClasses string
	javaErr     error
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	testdata, err := filepath.Abs(filepath.Join("testdata", "interop"))
	if err != nil {
		t.Fatal(err)
	}
	return &matrixEnv{dir: t.TempDir(), files: writeOpenSSLFiles(t, sharedCerts()), testdata: testdata}
}

// --- GnuTLS: gnutls-serv and gnutls-cli (Debian gnutls-bin) ---

func gnutlsPeer() *matrixPeer {
	return &matrixPeer{
		name: "GnuTLS",
		version: func() string {
			return firstLine(commandOutput("gnutls-cli", "--version"))
		},
		server: &matrixServer{
			programs: []string{"gnutls-serv"},
			start: func(r *matrixRun) (*peerProcess, string, error) {
				f := r.env.files
				// gnutls-serv binds every address and prints no port for -p 0:
				// give it one, and look for the result of binding on IPv4.
				ready := regexp.MustCompile(`(?m)^Echo Server listening on IPv4 \S+ port \d+\.\.\.(.*)\n`)
				return startOnFreePort(r, ready, "done", "gnutls-serv", func(port int) []string {
					args := []string{"--echo", "-p", strconv.Itoa(port), "--priority", gnutlsPriority(r.c),
						"--x509certfile", f.certFile[r.c.cert], "--x509keyfile", f.keyFile[r.c.cert],
						"--x509cafile", f.caFile}
					if r.c.clientCert {
						return append(args, "--require-client-cert", "--verify-client-cert")
					}
					return append(args, "--disable-client-cert")
				})
			},
			exchange: func(r *matrixRun) ([]byte, string) {
				line := r.payload + "\n"
				return []byte(line), line // --echo sends everything back
			},
			check: func(r *matrixRun, srv *peerProcess) error {
				want := []string{`- Description: \(TLS` + regexp.QuoteMeta(r.c.versionFlag()) + `-X\.509\)`}
				if r.c.clientCert {
					want = append(want, `- Status: The certificate is trusted\.`)
				}
				if r.c.resume {
					want = append(want, `\*\*\* This is a resumed session`)
				}
				return waitForAll(r.ctx, srv, want...)
			},
		},
		client: &matrixClient{
			programs: []string{"gnutls-cli"},
			start: func(r *matrixRun, addr string) (*peerProcess, error) {
				f := r.env.files
				host, port, _ := net.SplitHostPort(addr)
				args := []string{host, "-p", port, "--sni-hostname", "localhost", "--verify-hostname", "localhost",
					"--x509cafile", f.caFile, "--priority", gnutlsPriority(r.c)}
				if r.c.clientCert {
					args = append(args, "--x509certfile", f.certFile[f.client], "--x509keyfile", f.keyFile[f.client])
				}
				if r.c.resume {
					args = append(args, "--resume")
				}
				if r.c.resume && r.c.version == tlsflow.VersionTLS13 {
					// The ticket comes after the handshake. Without this,
					// gnutls-cli waits a round trip and 100 ms for it, then
					// goes on with a session it cannot resume: on a busy
					// machine the tlsflow server can be slower than that.
					args = append(args, "--waitresumption")
				}
				// The line on stdin; at its end gnutls-cli closes its side
				// and waits for the server's answer and close_notify.
				return r.startWithLine("gnutls-cli", args...), nil
			},
			firstConnectionEmpty: true, // --resume: connect, disconnect, resume
			check: func(r *matrixRun, cli *peerProcess) error {
				out := cli.output()
				if !strings.Contains(out, reverse(r.payload)) {
					return fmt.Errorf("printed no answer from the tlsflow server")
				}
				want := []string{`- Status: The certificate is trusted\.`,
					`- Description: \(TLS` + regexp.QuoteMeta(r.c.versionFlag()) + `-X\.509\)`}
				if r.c.clientCert {
					want = append(want, `- Successfully sent \d+ certificate\(s\) to server\.`)
				}
				if r.c.resume {
					want = append(want, `\*\*\* This is a resumed session`)
				}
				return waitForAll(r.ctx, cli, want...)
			},
		},
	}
}

// gnutlsPriority enables the case's version and suite and nothing else.
func gnutlsPriority(c matrixRow) string {
	return "NORMAL:-VERS-ALL:+VERS-TLS" + c.versionFlag() + ":" + c.gnutls
}

// --- NSS: selfserv and tstclnt (Debian libnss3-tools) ---

// nssStats matches the session cache statistics selfserv and tstclnt print
// after each handshake. They count from the program's start, so the
// connection that resumes is the one that raises hits or stateless resumes.
var nssStats = regexp.MustCompile(`(\d+) cache hits; \d+ cache misses, \d+ cache not reusable\s+(\d+) stateless resumes`)

func nssPeer() *matrixPeer {
	return &matrixPeer{
		name: "NSS",
		version: func() string {
			// The tools print no version; Debian's package says it.
			if v := commandOutput("dpkg-query", "-W", "-f", "${Version}", "libnss3"); v != "" {
				if _, afterEpoch, ok := strings.Cut(v, ":"); ok { // "2:3.87.1-1+deb12u4"
					v = afterEpoch
				}
				return "NSS " + v + " (Debian libnss3)"
			}
			return "NSS (version unknown)"
		},
		server: &matrixServer{
			programs: []string{"selfserv", "certutil", "pk12util", "openssl"},
			start: func(r *matrixRun) (*peerProcess, string, error) {
				db, err := r.env.nssDB(r.c.cert)
				if err != nil {
					return nil, "", err
				}
				return startOnFreePort(r, regexp.MustCompile(`selfserv: About to call accept\.()`), "", "selfserv", func(port int) []string {
					args := []string{"-d", db, "-n", nssNickname(r.env, r.c.cert), "-p", strconv.Itoa(port), "-v",
						"-V", nssVersion(r.c) + ":" + nssVersion(r.c), "-c", nssSuite(r.c)}
					if r.c.clientCert {
						args = append(args, "-r", "-r") // twice: request and require
					}
					if r.c.version == tlsflow.VersionTLS13 {
						// TLS 1.3 resumes by ticket only, and selfserv sends
						// none without -u. TLS 1.2 resumes by session ID.
						args = append(args, "-u")
					}
					return args
				})
			},
			exchange: func(r *matrixRun) ([]byte, string) {
				// selfserv answers an HTTP request with an HTTP response that
				// quotes it; it reads at most 10 KiB of request.
				req := "GET /" + r.payload[:8000] + " HTTP/1.0\r\n\r\n"
				return []byte(req), req
			},
			check: func(r *matrixRun, srv *peerProcess) error {
				stats, err := waitForCount(r.ctx, srv, nssStats, r.c.connections())
				if err != nil {
					return err
				}
				if err := checkNSSResumption(stats, r.c); err != nil {
					return err
				}
				want := []string{fmt.Sprintf(`SSL version 3\.%d using`, r.c.version&0xff)}
				if r.c.version == tlsflow.VersionTLS12 {
					kex := "ECDHE"
					if r.c.rsaKeyExchange() {
						kex = "RSA"
					}
					want = append(want, `Key Exchange: \d+-bit `+kex)
				}
				if r.c.clientCert {
					want = append(want, `-- SSL3: Certificate Validated\.`)
				}
				return waitForAll(r.ctx, srv, want...)
			},
		},
		client: &matrixClient{
			programs: []string{"tstclnt", "certutil", "pk12util", "openssl"},
			start: func(r *matrixRun, addr string) (*peerProcess, error) {
				db, err := r.env.nssDB(r.env.files.client)
				if err != nil {
					return nil, err
				}
				// -A: tstclnt opens the file anew for each connection (-L).
				// (Nor would it see the end of a pipe on stdin: poll gives
				// it POLLHUP without POLLIN, and it waits for POLLIN.)
				req := writeTempFile(r.t, r.t.TempDir(), "request", []byte(r.payload+"\n"))
				_, port, _ := net.SplitHostPort(addr)
				args := []string{"-4", "-h", "localhost", "-p", port, "-d", db,
					"-V", nssVersion(r.c) + ":" + nssVersion(r.c), "-A", req}
				if r.c.clientCert {
					args = append(args, "-n", nssNickname(r.env, r.env.files.client))
				}
				if r.c.resume {
					// -L: connect again, with the session cache of the first
					// connection (no -u: TLS 1.2 resumes by session ID).
					// Without -c: NSS 3.87's tstclnt frees its -c string after
					// the first connection and aborts in the second ("free():
					// invalid pointer"); the tlsflow server pins the suite.
					args = append(args, "-L", "2")
				} else {
					args = append(args, "-c", nssSuite(r.c))
				}
				return r.start(nil, "tstclnt", args...), nil
			},
			check: func(r *matrixRun, cli *peerProcess) error {
				out := cli.output()
				if n := strings.Count(out, reverse(r.payload)); n != r.c.connections() {
					return fmt.Errorf("printed the tlsflow server's answer %d times; want %d", n, r.c.connections())
				}
				stats, err := waitForCount(r.ctx, cli, nssStats, r.c.connections())
				if err != nil {
					return err
				}
				return checkNSSResumption(stats, r.c)
			},
		},
	}
}

// checkNSSResumption checks NSS's statistics after each connection: no
// resumption on the first, one on the second when the case resumes.
func checkNSSResumption(stats [][]string, c matrixRow) error {
	resumed := func(m []string) int {
		hits, _ := strconv.Atoi(m[1])
		stateless, _ := strconv.Atoi(m[2])
		return hits + stateless
	}
	if resumed(stats[0]) != 0 {
		return fmt.Errorf("reports a resumption on the first connection: %q", stats[0][0])
	}
	if c.resume && resumed(stats[1]) == 0 {
		return fmt.Errorf("reports no resumption on the second connection: %q", stats[1][0])
	}
	return nil
}

// nssVersion is NSS's name for the case's version, as -V takes it.
func nssVersion(c matrixRow) string { return "tls" + c.versionFlag() }

// nssSuite names the case's suite for -c by its code point.
func nssSuite(c matrixRow) string { return fmt.Sprintf(":%04X", c.suite) }

// nssNickname is the name a leaf has in its NSS database.
func nssNickname(e *matrixEnv, l *pki.Leaf) string {
	switch l {
	case e.files.rsa:
		return "rsa"
	case e.files.ecdsa:
		return "ecdsa"
	}
	return "client"
}

// nssDB returns the NSS database holding the CA and l with its key, made
// on first use. One database per leaf: NSS gives certificates with one
// subject (both server certificates are CN=localhost) one nickname.
func (e *matrixEnv) nssDB(l *pki.Leaf) (string, error) {
	e.nssOnce.Do(func() {
		e.nssDBs = make(map[*pki.Leaf]string)
		for _, leaf := range []*pki.Leaf{e.files.rsa, e.files.ecdsa, e.files.client} {
			db, err := e.makeNSSDB(leaf)
			if err != nil {
				e.nssErr = fmt.Errorf("making the NSS database for %s: %w", nssNickname(e, leaf), err)
				return
			}
			e.nssDBs[leaf] = db
		}
	})
	return e.nssDBs[l], e.nssErr
}

func (e *matrixEnv) makeNSSDB(l *pki.Leaf) (string, error) {
	nick := nssNickname(e, l)
	dir := filepath.Join(e.dir, "nss-"+nick)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	db := "sql:" + dir
	p12 := filepath.Join(e.dir, nick+".p12")
	for _, cmd := range [][]string{
		{"certutil", "-N", "-d", db, "--empty-password"},
		{"certutil", "-A", "-d", db, "-n", "tlsflow test CA", "-t", "CT,C,C", "-i", e.files.caFile},
		{"openssl", "pkcs12", "-export", "-in", e.files.certFile[l], "-inkey", e.files.keyFile[l],
			"-name", nick, "-out", p12, "-passout", "pass:"},
		{"pk12util", "-i", p12, "-d", db, "-W", ""},
	} {
		if err := runTool(cmd...); err != nil {
			return "", err
		}
	}
	return db, nil
}

// --- Java 17 JSSE: testdata/interop/Server.java and Client.java ---

// javaFlags make a short-lived JVM cheaper: the C1 compiler only, and the
// serial collector. They halve the CPU time of a run.
var javaFlags = []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"}

func javaPeer() *matrixPeer {
	return &matrixPeer{
		name: "Java",
		version: func() string {
			return firstLine(commandOutput("java", "-version"))
		},
		server: &matrixServer{
			programs: []string{"java", "javac"},
			start: func(r *matrixRun) (*peerProcess, string, error) {
				classes, err := r.env.javaProgram()
				if err != nil {
					return nil, "", err
				}
				args := append(append([]string{}, javaFlags...), "-cp", classes, "Server")
				return startScriptServer(r, "java", append(args, scriptServerArgs(r, tlsflow.CipherSuiteName(r.c.suite))...))
			},
			exchange: reversedLine,
			check:    checkScriptServer,
		},
		client: &matrixClient{
			programs: []string{"java", "javac"},
			start: func(r *matrixRun, addr string) (*peerProcess, error) {
				classes, err := r.env.javaProgram()
				if err != nil {
					return nil, err
				}
				args := append(append([]string{}, javaFlags...), "-cp", classes, "Client")
				return startScriptClient(r, addr, "java", append(args, scriptClientArgs(r, tlsflow.CipherSuiteName(r.c.suite))...)), nil
			},
			check: checkScriptClient,
		},
	}
}

// javaProgram compiles Server.java and Client.java, once, and returns the
// class directory.
func (e *matrixEnv) javaProgram() (string, error) {
	e.javaOnce.Do(func() {
		e.javaClasses = filepath.Join(e.dir, "java")
		args := []string{"javac", "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-d", e.javaClasses,
			filepath.Join(e.testdata, "Server.java"), filepath.Join(e.testdata, "Client.java")}
		e.javaErr = runTool(args...)
	})
	return e.javaClasses, e.javaErr
}

// --- Python ssl: testdata/interop/peer.py ---

func pythonPeer() *matrixPeer {
	return &matrixPeer{
		name: "Python",
		version: func() string {
			return commandOutput("python3", "-c", "import sys, ssl; print('Python', sys.version.split()[0], 'with', ssl.OPENSSL_VERSION)")
		},
		server: &matrixServer{
			programs: []string{"python3"},
			start: func(r *matrixRun) (*peerProcess, string, error) {
				args := []string{filepath.Join(r.env.testdata, "peer.py"), "server"}
				return startScriptServer(r, "python3", append(args, scriptServerArgs(r, r.c.openssl)...))
			},
			exchange: reversedLine,
			check:    checkScriptServer,
		},
		client: &matrixClient{
			programs: []string{"python3"},
			start: func(r *matrixRun, addr string) (*peerProcess, error) {
				args := []string{filepath.Join(r.env.testdata, "peer.py"), "client"}
				return startScriptClient(r, addr, "python3", append(args, scriptClientArgs(r, r.c.openssl)...)), nil
			},
			check: checkScriptClient,
		},
	}
}

// --- Node tls: testdata/interop/peer.js ---

func nodePeer() *matrixPeer {
	return &matrixPeer{
		name: "Node",
		version: func() string {
			return commandOutput("node", "-p", "'Node ' + process.version + ' with OpenSSL ' + process.versions.openssl")
		},
		server: &matrixServer{
			programs: []string{"node"},
			start: func(r *matrixRun) (*peerProcess, string, error) {
				args := []string{filepath.Join(r.env.testdata, "peer.js"), "server"}
				return startScriptServer(r, "node", append(args, scriptServerArgs(r, r.c.openssl)...))
			},
			exchange: reversedLine,
			check:    checkScriptServer,
		},
		client: &matrixClient{
			programs: []string{"node"},
			start: func(r *matrixRun, addr string) (*peerProcess, error) {
				args := []string{filepath.Join(r.env.testdata, "peer.js"), "client"}
				return startScriptClient(r, addr, "node", append(args, scriptClientArgs(r, r.c.openssl)...)), nil
			},
			check: checkScriptClient,
		},
	}
}

// --- The test programs' common ground (Java, Python, Node) ---

// scriptServerArgs are a test program's server flags for r.c.
func scriptServerArgs(r *matrixRun, suite string) []string {
	f := r.env.files
	args := []string{"--version", r.c.versionFlag(), "--suite", suite,
		"--cert", f.certFile[r.c.cert], "--key", f.keyFile[r.c.cert], "--ca", f.caFile,
		"--connections", strconv.Itoa(r.c.connections())}
	if r.c.clientCert {
		args = append(args, "--client-auth")
	}
	return args
}

// scriptClientArgs are a test program's client flags for r.c, all but
// --port (startScriptClient adds it).
func scriptClientArgs(r *matrixRun, suite string) []string {
	f := r.env.files
	args := []string{"--version", r.c.versionFlag(), "--suite", suite, "--ca", f.caFile,
		"--connections", strconv.Itoa(r.c.connections())}
	if r.c.clientCert {
		args = append(args, "--cert", f.certFile[f.client], "--key", f.keyFile[f.client])
	}
	return args
}

var listeningLine = regexp.MustCompile(`(?m)^LISTENING (\d+)$`)

// startScriptServer starts a test program's server, which listens on a
// port the kernel picks and prints it.
func startScriptServer(r *matrixRun, program string, args []string) (*peerProcess, string, error) {
	srv := r.start(nil, program, args...)
	m, err := srv.waitFor(r.ctx, listeningLine)
	if err != nil {
		return nil, "", err
	}
	return srv, "127.0.0.1:" + m[1], nil
}

// startScriptClient starts a test program's client, the line on its stdin.
func startScriptClient(r *matrixRun, addr, program string, args []string) *peerProcess {
	_, port, _ := net.SplitHostPort(addr)
	return r.startWithLine(program, append(args, "--port", port)...)
}

// reversedLine is what the test programs' servers answer.
func reversedLine(r *matrixRun) ([]byte, string) {
	return []byte(r.payload + "\n"), reverse(r.payload) + "\n"
}

// connectionLine is what a test program prints after each handshake.
var connectionLine = regexp.MustCompile(`(?m)^CONNECTION (\d+) protocol=(\S+) suite=(\S+) resumed=(\S+) peer=(.*)$`)

func checkScriptServer(r *matrixRun, srv *peerProcess) error {
	if err := srv.wait(); err != nil {
		return fmt.Errorf("exited with %v", err)
	}
	wantPeer := "none"
	if r.c.clientCert {
		wantPeer = r.env.files.client.Cert.Subject.CommonName
	}
	return checkScriptOutput(r, srv.output(), wantPeer, "ECHOED ")
}

func checkScriptClient(r *matrixRun, cli *peerProcess) error {
	return checkScriptOutput(r, cli.output(), "localhost", "ECHO ok ")
}

// checkScriptOutput checks a test program's report of each connection:
// version, suite, resumption, and on the first the peer's certificate
// subject, which must contain wantPeer ("none": no certificate); and a line
// starting with done after each.
func checkScriptOutput(r *matrixRun, out, wantPeer, done string) error {
	conns := connectionLine.FindAllStringSubmatch(out, -1)
	if len(conns) != r.c.connections() {
		return fmt.Errorf("reported %d connections; want %d", len(conns), r.c.connections())
	}
	suites := []string{tlsflow.CipherSuiteName(r.c.suite), r.c.openssl} // JSSE and Node print one, Python the other
	for i, m := range conns {
		wantResumed := r.c.resume && i == 1
		switch {
		case m[2] != "TLSv"+r.c.versionFlag():
			return fmt.Errorf("connection %d: protocol %s; want TLSv%s", i+1, m[2], r.c.versionFlag())
		case m[3] != suites[0] && m[3] != suites[1]:
			return fmt.Errorf("connection %d: suite %s; want %s", i+1, m[3], suites[0])
		case strings.ToLower(m[4]) != strconv.FormatBool(wantResumed):
			return fmt.Errorf("connection %d: resumed=%s; want %v", i+1, m[4], wantResumed)
		}
		// A resumed session may not carry the peer's certificate (Node's
		// client reports none): look at the first connection only.
		if i == 0 && !strings.Contains(m[5], wantPeer) {
			return fmt.Errorf("connection %d: peer %q; want %q", i+1, m[5], wantPeer)
		}
	}
	doneLines := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(done))
	if n := len(doneLines.FindAllString(out, -1)); n != r.c.connections() {
		return fmt.Errorf("printed %d %q lines; want %d", n, done, r.c.connections())
	}
	return nil
}

// --- Helpers ---

// startOnFreePort starts a server that must be told its port (gnutls-serv
// prints no port for -p 0; selfserv refuses 0) on a port that was free a
// moment ago, and waits until ready matches its output with ready's first
// group equal to ok. Another process may take the port in between: then
// the server fails, and it is tried again on another.
func startOnFreePort(r *matrixRun, ready *regexp.Regexp, ok, program string, args func(port int) []string) (*peerProcess, string, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		ctx, cancel := context.WithCancel(r.ctx)
		srv := r.startContext(ctx, nil, program, args(port)...)
		m, err := srv.waitFor(ctx, ready)
		if err == nil && m[1] == ok {
			r.t.Cleanup(cancel)
			return srv, "127.0.0.1:" + strconv.Itoa(port), nil
		}
		cancel()
		srv.wait()
		lastErr = err
		if err == nil {
			lastErr = fmt.Errorf("%s: %q", srv.command, m[0])
		}
		if r.ctx.Err() != nil {
			break
		}
	}
	return nil, "", lastErr
}

// waitForAll waits until the peer has printed a match for each pattern.
func waitForAll(ctx context.Context, p *peerProcess, patterns ...string) error {
	for _, pat := range patterns {
		if _, err := p.waitFor(ctx, regexp.MustCompile(pat)); err != nil {
			return err
		}
	}
	return nil
}

// waitForCount waits until re matches the peer's output n times, and
// returns the first n matches.
func waitForCount(ctx context.Context, p *peerProcess, re *regexp.Regexp, n int) ([][]string, error) {
	for {
		out, changed := p.out.snapshot()
		if m := re.FindAllStringSubmatch(out, n); len(m) == n {
			return m, nil
		}
		select {
		case <-changed:
		case <-p.exited:
			if m := re.FindAllStringSubmatch(p.output(), n); len(m) == n {
				return m, nil
			}
			return nil, fmt.Errorf("%s exited (%v) having printed %q %d times; want %d",
				p.command, p.waitErr, re, len(re.FindAllString(p.output(), -1)), n)
		case <-ctx.Done():
			return nil, fmt.Errorf("%s printed %q %d times in time; want %d: %w",
				p.command, re, len(re.FindAllString(p.output(), -1)), n, ctx.Err())
		}
	}
}

// runTool runs a setup command and returns its output with any failure.
func runTool(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", commandLine(args[0], args[1:]), err, out)
	}
	return nil
}

// commandOutput runs a command for its (trimmed) output, "" if it fails.
func commandOutput(program string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, program, args...).CombinedOutput()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
