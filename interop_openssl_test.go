package tlsflow_test

// Process-level interop with OpenSSL 3 in TLS 1.2: `openssl s_server`
// against the tlsflow client and `openssl s_client` against the tlsflow
// server, for the RSA key exchange and ECDHE with RSA and ECDSA
// certificates, over X25519 and P-256, with and without a client
// certificate the server requires. OpenSSL is pinned to TLS 1.2, one cipher
// suite and the case's group (plus P-256 for the certificates' sake, see
// groupsFlag); tlsflow enables everything it has, so OpenSSL's restriction
// decides what is negotiated. Each subtest is named
// peer/direction/suite/group/client-auth, and a failing one logs the exact
// openssl command line and its output.

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/pki"
)

// opensslTimeout bounds each subtest: a hung peer fails it, and is killed.
const opensslTimeout = 10 * time.Second

// opensslCase is one TLS 1.2 suite and group, under both stacks' names.
type opensslCase struct {
	suite   uint16
	openssl string    // OpenSSL's name for the suite: -cipher, and what it prints
	cert    *pki.Leaf // the server certificate the suite's authentication needs
	group   tlsflow.CurveID
}

// opensslGroup is how OpenSSL names a group: in -groups, and in s_client's
// "Server Temp Key:" line.
type opensslGroup struct{ flag, tempKey string }

var opensslGroups = map[tlsflow.CurveID]opensslGroup{
	tlsflow.X25519:    {"X25519", "Server Temp Key: X25519,"},
	tlsflow.CurveP256: {"P-256", "Server Temp Key: ECDH, prime256v1,"},
}

// groupsFlag is OpenSSL's -groups list for a case: its group first, then
// P-256. In TLS 1.2 the supported groups also bound the curves of ECDSA keys
// (RFC 8422 §5.1, §5.3), and the test certificates are P-256: without it an
// X25519-only s_client rightly rejects a P-256 server certificate, and an
// X25519-only s_server rejects the P-256 client certificate ("wrong curve" —
// OpenSSL applies its own groups to client keys, which the RFC leaves open).
// The case's group still wins: s_server runs with -serverpref, and the
// tlsflow server ranks X25519 before P-256 by default.
func (c opensslCase) groupsFlag() string {
	if c.group == tlsflow.CurveP256 {
		return opensslGroups[c.group].flag
	}
	return opensslGroups[c.group].flag + ":" + opensslGroups[tlsflow.CurveP256].flag
}

func (c opensslCase) name() string {
	if c.group == 0 {
		return c.openssl + "/rsa-kex"
	}
	return c.openssl + "/" + opensslGroups[c.group].flag
}

// opensslCases12 lists the suites under test. The RSA key exchange needs no
// @SECLEVEL override: OpenSSL 3.0 at Debian's default security level (2)
// still negotiates it in TLS 1.2 with a 2048-bit RSA key.
func opensslCases12(c *testCerts) []opensslCase {
	out := []opensslCase{
		{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", c.rsa, 0},
		{tlsflow.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", c.rsa, 0},
	}
	ecdhe := []opensslCase{
		{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", c.rsa, 0},
		{tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", c.ecdsa, 0},
		{tlsflow.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", c.ecdsa, 0},
	}
	for _, s := range ecdhe {
		for _, g := range []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256} {
			s.group = g
			out = append(out, s)
		}
	}
	return out
}

// opensslAuth is the server's client-certificate policy with what the client has.
type opensslAuth struct {
	name       string
	require    bool // the server requires and verifies a client certificate
	clientCert bool // the client has one to send
}

// wantFail: a server that requires a certificate must refuse a client
// without one (RFC 5246 §7.4.6 allows a fatal handshake_failure).
func (a opensslAuth) wantFail() bool { return a.require && !a.clientCert }

var opensslAuthCases = []opensslAuth{
	{"no-client-auth", false, false},
	{"client-cert-required/with-cert", true, true},
	{"client-cert-required/without-cert", true, false},
}

// opensslFiles are the test certificates, and their PEM files for openssl.
type opensslFiles struct {
	*testCerts
	caFile   string
	certFile map[*pki.Leaf]string // full chain, leaf first: openssl -cert takes the leaf
	keyFile  map[*pki.Leaf]string
}

func writeOpenSSLFiles(t *testing.T, c *testCerts) *opensslFiles {
	dir := t.TempDir()
	f := &opensslFiles{
		testCerts: c,
		caFile:    writeTempFile(t, dir, "ca.pem", c.ca.CertPEM()),
		certFile:  map[*pki.Leaf]string{},
		keyFile:   map[*pki.Leaf]string{},
	}
	for name, l := range map[string]*pki.Leaf{"rsa": c.rsa, "ecdsa": c.ecdsa, "client": c.client} {
		f.certFile[l] = writeTempFile(t, dir, name+".pem", l.ChainPEM())
		f.keyFile[l] = writeTempFile(t, dir, name+".key", l.KeyPEM())
	}
	return f
}

func TestInteropOpenSSL12(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	c := sharedCerts()
	files := writeOpenSSLFiles(t, c)
	for _, tc := range opensslCases12(c) {
		for _, auth := range opensslAuthCases {
			name := tc.name() + "/" + auth.name
			t.Run("openssl-s_server/tlsflow-client/"+name, func(t *testing.T) {
				t.Parallel()
				testOpenSSLServer(t, openssl, files, tc, auth)
			})
			t.Run("openssl-s_client/tlsflow-server/"+name, func(t *testing.T) {
				t.Parallel()
				testOpenSSLClient(t, openssl, files, tc, auth)
			})
		}
	}
}

// acceptLine is what s_server prints once it listens; with port 0 it names
// the port the kernel chose, so there is no free-port race.
var acceptLine = regexp.MustCompile(`(?m)^ACCEPT (127\.0\.0\.1:\d+)$`)

// testOpenSSLServer runs `openssl s_server -rev` (it sends every line back
// reversed) and connects the tlsflow client to it.
func testOpenSSLServer(t *testing.T, openssl string, f *opensslFiles, tc opensslCase, auth opensslAuth) {
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	args := []string{"s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev",
		"-tls1_2", "-cipher", tc.openssl,
		"-cert", f.certFile[tc.cert], "-key", f.keyFile[tc.cert], "-CAfile", f.caFile,
		// s_server acts on -servername only with a second certificate to
		// switch to; giving it the same one turns -servername_fatal into a
		// check that the client sent server_name "localhost" (RFC 6066 §3).
		"-servername", "localhost", "-servername_fatal",
		"-cert2", f.certFile[tc.cert], "-key2", f.keyFile[tc.cert],
	}
	if tc.group != 0 {
		args = append(args, "-groups", tc.groupsFlag(), "-serverpref")
	}
	if auth.require {
		args = append(args, "-Verify", "1") // -CAfile above verifies, and names the CA in CertificateRequest
	}
	srv := startPeer(t, ctx, nil, openssl, args...)
	m, err := srv.waitFor(ctx, acceptLine)
	if err != nil {
		t.Fatal(err)
	}

	cfg := &tlsflow.Config{
		RootCAs: f.ca.Pool, ServerName: "localhost",
		// Every suite, the RSA key exchange included: OpenSSL's -cipher chooses.
		CipherSuites: implementedSuiteIDs(),
	}
	if auth.clientCert {
		cfg.Certificates = []tlsflow.Certificate{flowCert(f.client)}
	}
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", m[1])
	if err != nil {
		t.Fatalf("dialing %s: %v", srv.command, err)
	}
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	conn := tlsflow.Client(raw, cfg)
	defer conn.Close()
	hsErr := conn.HandshakeContext(ctx)

	if auth.wantFail() {
		conn.Close()
		srv.wait()
		if out := srv.output(); !strings.Contains(out, "peer did not return a certificate") {
			t.Errorf("s_server did not report the missing client certificate")
		}
		checkRefusal(t, "tlsflow client", hsErr, true)
		return
	}
	if hsErr != nil {
		t.Fatalf("tlsflow client handshake: %v", hsErr)
	}
	checkOpenSSLState(t, "tlsflow client", conn.ConnectionState(), tc, true)

	r := bufio.NewReader(conn)
	for _, line := range []string{"hello from the tlsflow client", randomLetters(12000)} {
		if _, err := conn.Write([]byte(line + "\n")); err != nil {
			t.Fatalf("tlsflow client writing %d bytes: %v", len(line)+1, err)
		}
		got, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("tlsflow client reading the reply to %d bytes: %v", len(line)+1, err)
		}
		if want := reverse(line) + "\n"; got != want {
			t.Fatalf("s_server -rev replied %d bytes %.40q…; want %d bytes %.40q…", len(got), got, len(want), want)
		}
	}
	if err := conn.Close(); err != nil {
		t.Errorf("tlsflow client Close: %v", err)
	}
	if err := srv.wait(); err != nil {
		t.Errorf("%s exited with %v", srv.command, err)
	}
	out := srv.output()
	peer := "No peer certificate"
	if auth.clientCert {
		peer = "Peer certificate: CN = " + f.client.Cert.Subject.CommonName
	}
	for _, w := range []string{"Ciphersuite: " + tc.openssl, `Hostname in TLS extension: "localhost"`, peer} {
		if !strings.Contains(out, w) {
			t.Errorf("s_server output lacks %q", w)
		}
	}
}

// testOpenSSLClient runs `openssl s_client` with a long line on stdin
// against the tlsflow server, which reads the line and replies with it
// reversed. Both directions span several records.
func testOpenSSLClient(t *testing.T, openssl string, f *opensslFiles, tc opensslCase, auth opensslAuth) {
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type accepted struct {
		conn net.Conn
		err  error
	}
	acceptc := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		acceptc <- accepted{c, err}
	}()

	args := []string{"s_client", "-connect", ln.Addr().String(),
		"-tls1_2", "-cipher", tc.openssl, "-servername", "localhost",
		"-CAfile", f.caFile, "-verify_hostname", "localhost", "-verify_return_error",
		// -ign_eof: stdin's end does not end the connection, the server's
		// close_notify does. -nocommands: the payload is data, never a command.
		"-ign_eof", "-nocommands",
	}
	if tc.group != 0 {
		args = append(args, "-groups", tc.groupsFlag())
	}
	if auth.clientCert {
		args = append(args, "-cert", f.certFile[f.client], "-key", f.keyFile[f.client])
	}
	payload := randomLetters(40000)
	cli := startPeer(t, ctx, strings.NewReader(payload+"\n"), openssl, args...)

	var raw net.Conn
	select {
	case a := <-acceptc:
		if a.err != nil {
			t.Fatalf("accepting %s: %v", cli.command, a.err)
		}
		raw = a.conn
	case <-cli.exited:
		t.Fatalf("%s exited (%v) without connecting", cli.command, cli.waitErr)
	case <-ctx.Done():
		t.Fatalf("%s did not connect in time", cli.command)
	}
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)

	cfg := &tlsflow.Config{
		Certificates: []tlsflow.Certificate{flowCert(tc.cert)},
		CipherSuites: implementedSuiteIDs(),
		ClientAuth:   tlsflow.NoClientCert,
		ClientCAs:    f.ca.Pool,
	}
	if auth.require {
		cfg.ClientAuth = tlsflow.RequireAndVerifyClientCert
	}
	conn := tlsflow.Server(raw, cfg)
	defer conn.Close()
	hsErr := conn.HandshakeContext(ctx)

	if auth.wantFail() {
		conn.Close()
		if err := cli.wait(); err == nil {
			t.Errorf("s_client exited with status 0; want a failure")
		}
		if out := cli.output(); !strings.Contains(out, "alert handshake failure") {
			t.Errorf("s_client output reports no handshake_failure alert received")
		}
		checkRefusal(t, "tlsflow server", hsErr, false)
		return
	}
	if hsErr != nil {
		t.Fatalf("tlsflow server handshake: %v", hsErr)
	}
	checkOpenSSLState(t, "tlsflow server", conn.ConnectionState(), tc, auth.clientCert)

	got, err := bufio.NewReaderSize(conn, 4096).ReadString('\n')
	if err != nil {
		t.Fatalf("tlsflow server reading s_client's %d-byte line: read %d bytes, then %v", len(payload)+1, len(got), err)
	}
	if got != payload+"\n" {
		t.Fatalf("tlsflow server read %d bytes %.40q…; want the %d-byte line %.40q…", len(got), got, len(payload)+1, payload)
	}
	reply := reverse(payload)
	if _, err := conn.Write([]byte(reply + "\n")); err != nil {
		t.Fatalf("tlsflow server writing %d bytes: %v", len(reply)+1, err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("tlsflow server Close: %v", err)
	}
	if err := cli.wait(); err != nil {
		t.Errorf("%s exited with %v", cli.command, err)
	}
	out := cli.output()
	if !strings.Contains(out, reply) {
		t.Errorf("s_client output lacks the server's %d-byte reply", len(reply))
	}
	wantOut := []string{"New, TLSv1.2, Cipher is " + tc.openssl, "Verify return code: 0 (ok)"}
	if tc.group != 0 {
		wantOut = append(wantOut, opensslGroups[tc.group].tempKey)
	}
	for _, w := range wantOut {
		if !strings.Contains(out, w) {
			t.Errorf("s_client output lacks %q", w)
		}
	}
	if tc.group == 0 && strings.Contains(out, "Server Temp Key:") {
		t.Errorf("s_client reports an ephemeral key for the RSA key exchange %s", tc.openssl)
	}
}

// checkOpenSSLState checks what tlsflow negotiated with OpenSSL.
func checkOpenSSLState(t *testing.T, who string, s tlsflow.ConnectionState, tc opensslCase, wantPeerCert bool) {
	t.Helper()
	if s.Version != tlsflow.VersionTLS12 || s.CipherSuite != tc.suite || s.CurveID != tc.group {
		t.Errorf("%s negotiated %s, %s, group %v; want TLS 1.2, %s, group %v", who,
			tlsflow.VersionName(s.Version), tlsflow.CipherSuiteName(s.CipherSuite), s.CurveID,
			tlsflow.CipherSuiteName(tc.suite), tc.group)
	}
	gotPeer := len(s.PeerCertificates) > 0 && len(s.VerifiedChains) > 0
	if gotPeer != wantPeerCert {
		t.Errorf("%s has a verified peer certificate: %v (%d certificates, %d chains); want %v",
			who, gotPeer, len(s.PeerCertificates), len(s.VerifiedChains), wantPeerCert)
	}
	if who == "tlsflow server" && s.ServerName != "localhost" {
		t.Errorf("%s saw server_name %q; want \"localhost\"", who, s.ServerName)
	}
}

// checkRefusal checks the tlsflow side's error when the server refused a
// client without a certificate: an AlertError that names the step, with
// handshake_failure sent by the tlsflow server or received by the tlsflow
// client from OpenSSL.
func checkRefusal(t *testing.T, who string, err error, wantReceived bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: handshake succeeded; want a refusal for the missing client certificate", who)
	}
	var ae *tlsflow.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%s: handshake error %q (%T) is no AlertError", who, err, err)
	}
	if ae.Received != wantReceived || ae.Alert != alert.HandshakeFailure {
		t.Errorf("%s: error %q has alert %s (received %v); want handshake_failure (received %v)",
			who, err, ae.Alert, ae.Received, wantReceived)
	}
	if ae.Step < 1 || !strings.Contains(err.Error(), fmt.Sprintf("step %d", ae.Step)) {
		t.Errorf("%s: error %q names no step of the handshake", who, err)
	}
	t.Logf("%s refused as expected: %v", who, err)
}

// randomLetters returns n random lowercase letters: text that s_server -rev
// and s_client pass through untouched, and that cannot appear by chance in
// OpenSSL's own output.
func randomLetters(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	// s_server (without -quiet) reads a line from its stdin that begins
	// with 'q' as its command to end the connection, whatever follows.
	if n > 0 && b[0] == 'q' {
		b[0] = 'x'
	}
	return string(b)
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
