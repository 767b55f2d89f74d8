package tlsflow_test

// Process-level interop of OCSP stapling (RFC 6066 §8; in TLS 1.3 the
// staple rides in the leaf's CertificateEntry, RFC 8446 §4.4.2.1) with
// OpenSSL 3 and GnuTLS, in TLS 1.2 and 1.3, both directions. The
// responses are made by pki and given to the peers as DER files.
//
//   - tlsflow client (Config.OCSP, must-staple of RFC 7633) against
//     `openssl s_server -status_file` and `gnutls-serv --ocsp-response`.
//     A completed handshake must have the file's bytes in
//     ConnectionState.OCSPResponse and, whenever the policy or the
//     certificate calls for a check, the client's "verified OCSP staple"
//     trace event: a check that silently stopped fails the good cases
//     too, not only the bad ones. A refused staple must end the handshake
//     with the case's alert, sent at step 3 and naming the message after
//     which the client judged, and the server must report that alert.
//   - tlsflow server (Certificate.OCSPStaple) against `openssl s_client
//     -status`, which prints the response it got (it judges nothing), and
//     gnutls-cli, which checks a stapled response against its CA file on
//     its own (its --ocsp adds a query to the responder the certificate
//     names, and ours name none): it completes with a good staple, saying
//     so in its "Options:" line, and refuses a revoked one.
//
// Subtests are named peer/direction/version/case; a failing one logs the
// peer's command line and output.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// stapleKind is what a server staples.
type stapleKind int

const (
	noStaple stapleKind = iota
	goodStaple
	revokedStaple
)

func (k stapleKind) String() string { return [...]string{"none", "good", "revoked"}[k] }

// ocspServerCert is a server certificate for localhost from the shared
// CA, with a good and a revoked OCSP response about it, and their files:
// chain and key in PEM, responses in DER.
type ocspServerCert struct {
	leaf              *pki.Leaf
	certFile, keyFile string
	staple            map[stapleKind][]byte
	stapleFile        map[stapleKind]string
}

// ocspFiles are the CA's file and two certificates, one of them
// must-staple (RFC 7633).
type ocspFiles struct {
	ca          *pki.Authority
	caFile      string
	plain, must *ocspServerCert
}

func writeOCSPFiles(t *testing.T) *ocspFiles {
	dir := t.TempDir()
	ca := sharedCerts().ca
	f := &ocspFiles{ca: ca, caFile: writeTempFile(t, dir, "ca.pem", ca.CertPEM())}
	for _, must := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "must-staple"}[must]
		leaf := ca.MustIssue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"localhost"}, MustStaple: must})
		c := &ocspServerCert{
			leaf:     leaf,
			certFile: writeTempFile(t, dir, name+".pem", leaf.ChainPEM()),
			keyFile:  writeTempFile(t, dir, name+".key", leaf.KeyPEM()),
			staple: map[stapleKind][]byte{
				goodStaple:    ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{Status: ocsp.Good}),
				revokedStaple: ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{Status: ocsp.Revoked}),
			},
			stapleFile: map[stapleKind]string{},
		}
		for k, der := range c.staple {
			c.stapleFile[k] = writeTempFile(t, dir, name+"-"+k.String()+".der", der)
		}
		if must {
			f.must = c
		} else {
			f.plain = c
		}
	}
	return f
}

// ocspVersions are the versions tried, with each peer's flag for them.
var ocspVersions = []struct {
	name        string
	v           uint16
	openssl     string // s_server's and s_client's flag
	gnutls      string // --priority
	opensslName string // as s_client prints it: "New, TLSv1.3, Cipher is"
}{
	{"TLS1.2", tlsflow.VersionTLS12, "-tls1_2", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "TLSv1.2"},
	{"TLS1.3", tlsflow.VersionTLS13, "-tls1_3", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "TLSv1.3"},
}

// ocspClientCase is the tlsflow client's policy against a server that
// staples (or not) a response about its (perhaps must-staple) certificate.
type ocspClientCase struct {
	name   string
	policy tlsflow.OCSPPolicy
	must   bool // the server's certificate is must-staple
	staple stapleKind
	want   alert.Alert // the client's alert; 0: the handshake completes
}

// verifies reports whether the client must check the staple: when there
// is one, and the policy or the certificate asks for a check.
func (c ocspClientCase) verifies() bool {
	return c.staple != noStaple && (c.policy != tlsflow.OCSPUnchecked || c.must)
}

var ocspClientCases = []ocspClientCase{
	{"good/verify-if-stapled", tlsflow.OCSPVerifyIfStapled, false, goodStaple, 0},
	{"good/require", tlsflow.OCSPRequire, false, goodStaple, 0},
	{"revoked/verify-if-stapled", tlsflow.OCSPVerifyIfStapled, false, revokedStaple, alert.CertificateRevoked},
	{"revoked/require", tlsflow.OCSPRequire, false, revokedStaple, alert.CertificateRevoked},
	// The default passes even a revoked staple on, unchecked (as crypto/tls).
	{"revoked/unchecked", tlsflow.OCSPUnchecked, false, revokedStaple, 0},
	{"none/require", tlsflow.OCSPRequire, false, noStaple, alert.BadCertificateStatusResponse},
	// With the default policy, the certificate's own demand decides.
	{"must-staple/none/default", tlsflow.OCSPUnchecked, true, noStaple, alert.BadCertificateStatusResponse},
	{"must-staple/good/default", tlsflow.OCSPUnchecked, true, goodStaple, 0},
	{"must-staple/revoked/default", tlsflow.OCSPUnchecked, true, revokedStaple, alert.CertificateRevoked},
}

// stapleChecks counts, through Config.Trace, the client's "verified OCSP
// staple" events.
type stapleChecks struct{ n atomic.Int32 }

func (s *stapleChecks) hook(e trace.Event) {
	if e.Kind == trace.KindVerified && e.Message == "OCSP staple" {
		s.n.Add(1)
	}
}

func ocspClientConfig(f *ocspFiles, policy tlsflow.OCSPPolicy, checks *stapleChecks) *tlsflow.Config {
	return &tlsflow.Config{RootCAs: f.ca.Pool, ServerName: "localhost", OCSP: policy, Trace: checks.hook}
}

// checkOCSPClient checks how the tlsflow client's handshake ended against
// tc: completed in version v with the staple passed on and verified when
// it had to be, or refused with tc.want.
func checkOCSPClient(t *testing.T, conn *tlsflow.Conn, hsErr error, v uint16, tc ocspClientCase, staple []byte, checks *stapleChecks) {
	t.Helper()
	if tc.want != 0 {
		// In TLS 1.2 a staple comes in its own CertificateStatus; a
		// missing one is noticed after Certificate.
		message := "Certificate"
		if v == tlsflow.VersionTLS12 && tc.staple != noStaple {
			message = "CertificateStatus"
		}
		checkAlert(t, "tlsflow client", hsErr, sent(tc.want, 3, message))
		return
	}
	if hsErr != nil {
		t.Fatalf("tlsflow client handshake: %v", hsErr)
	}
	st := conn.ConnectionState()
	if st.Version != v {
		t.Errorf("tlsflow client negotiated %s; want %s", tlsflow.VersionName(st.Version), tlsflow.VersionName(v))
	}
	if !bytes.Equal(st.OCSPResponse, staple) {
		t.Errorf("ConnectionState.OCSPResponse has %d bytes; want the %d of the server's file", len(st.OCSPResponse), len(staple))
	}
	want := int32(0)
	if tc.verifies() {
		want = 1
	}
	if got := checks.n.Load(); got != want {
		t.Errorf("the client's trace has %d \"verified OCSP staple\" events; want %d", got, want)
	}
}

func (f *ocspFiles) cert(must bool) *ocspServerCert {
	if must {
		return f.must
	}
	return f.plain
}

func TestInteropOpenSSLOCSP(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	f := writeOCSPFiles(t)
	for _, ver := range ocspVersions {
		for _, tc := range ocspClientCases {
			t.Run("openssl-s_server/tlsflow-client/"+ver.name+"/"+tc.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
				defer cancel()
				c := f.cert(tc.must)
				args := []string{"s_server", "-rev", ver.openssl, "-cert", c.certFile, "-key", c.keyFile}
				if tc.staple != noStaple {
					args = append(args, "-status_file", c.stapleFile[tc.staple])
				}
				srv, raw := startOpenSSLServer(t, ctx, openssl, nil, args...)
				checks := new(stapleChecks)
				conn := tlsflow.Client(raw, ocspClientConfig(f, tc.policy, checks))
				defer conn.Close()
				hsErr := conn.HandshakeContext(ctx)
				checkOCSPClient(t, conn, hsErr, ver.v, tc, c.staple[tc.staple], checks)
				if tc.want == 0 {
					// s_server -rev answers each line reversed.
					line := randomLetters(200)
					if _, err := conn.Write([]byte(line + "\n")); err != nil {
						t.Fatalf("tlsflow client writing: %v", err)
					}
					got, err := bufio.NewReader(conn).ReadString('\n')
					if err != nil || strings.TrimSpace(got) != reverse(line) {
						t.Fatalf("tlsflow client read %d bytes (%v); want s_server's reversed line", len(got), err)
					}
				}
				conn.Close()
				srv.wait()
				if tc.want != 0 {
					if w := fmt.Sprintf("SSL alert number %d", tc.want); !strings.Contains(srv.output(), w) {
						t.Errorf("s_server output lacks %q", w)
					}
				}
			})
		}
		for _, k := range []stapleKind{goodStaple, revokedStaple} {
			t.Run("openssl-s_client/tlsflow-server/"+ver.name+"/"+k.String(), func(t *testing.T) {
				testOpenSSLClientOCSP(t, openssl, f, ver.openssl, ver.opensslName, k)
			})
		}
	}
}

// testOpenSSLClientOCSP runs `s_client -status` against the tlsflow
// server stapling a response of kind k: s_client prints what it got.
func testOpenSSLClientOCSP(t *testing.T, openssl string, f *ocspFiles, flag, version string, k stapleKind) {
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	line := randomLetters(200)
	cli, raw := startOpenSSLClient(t, ctx, openssl, strings.NewReader(line+"\n"), "s_client", flag, "-status",
		"-CAfile", f.caFile, "-verify_return_error", "-verify_hostname", "localhost", "-servername", "localhost",
		"-ign_eof", "-nocommands")
	cert := flowCert(f.plain.leaf)
	cert.OCSPStaple = f.plain.staple[k]
	conn := tlsflow.Server(raw, &tlsflow.Config{Certificates: []tlsflow.Certificate{cert}})
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("tlsflow server handshake: %v", err)
	}
	echoReversed(t, conn, line)
	conn.Close()
	if err := cli.wait(); err != nil {
		t.Errorf("%s exited with %v", cli.command, err)
	}
	out := cli.output()
	for _, w := range []string{
		"New, " + version + ", Cipher is",
		"Verify return code: 0 (ok)",
		"OCSP Response Status: successful",
		// openssl prints the serial's bytes in upper-case hex.
		fmt.Sprintf("Serial Number: %X", f.plain.leaf.Cert.SerialNumber.Bytes()),
		"Cert Status: " + k.String(),
		reverse(line),
	} {
		if !strings.Contains(out, w) {
			t.Errorf("s_client output lacks %.60q", w)
		}
	}
}

// gnutlsAlertReceived is gnutls-serv's debug line (-d 5) for an alert it
// received: level 2 (fatal) and its number.
var gnutlsAlertReceived = regexp.MustCompile(`Alert\[2\|(\d+)\] - [^\n]* - was received`)

func TestInteropGnuTLSOCSP(t *testing.T) {
	f := writeOCSPFiles(t)
	for _, ver := range ocspVersions {
		for _, tc := range ocspClientCases {
			t.Run("gnutls-serv/tlsflow-client/"+ver.name+"/"+tc.name, func(t *testing.T) {
				gnutlsServ := requirePeer(t, "gnutls-serv")
				ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
				defer cancel()
				c := f.cert(tc.must)
				args := []string{"--echo", "-d", "5", "--disable-client-cert", "--priority", ver.gnutls,
					"--x509certfile", c.certFile, "--x509keyfile", c.keyFile}
				switch tc.staple {
				case goodStaple:
					args = append(args, "--ocsp-response", c.stapleFile[goodStaple])
				case revokedStaple:
					// gnutls-serv refuses to load a revoked response ("The
					// session or certificate has expired") unless told to
					// carry on, and then staples it all the same.
					args = append(args, "--ocsp-response", c.stapleFile[revokedStaple], "--ignore-ocsp-response-errors")
				}
				srv, addr := startGnuTLSServer(t, ctx, gnutlsServ, args...)
				raw, err := dialContext(ctx, addr)
				if err != nil {
					t.Fatalf("dialing %s: %v", srv.command, err)
				}
				checks := new(stapleChecks)
				conn := tlsflow.Client(raw, ocspClientConfig(f, tc.policy, checks))
				defer conn.Close()
				hsErr := conn.HandshakeContext(ctx)
				checkOCSPClient(t, conn, hsErr, ver.v, tc, c.staple[tc.staple], checks)
				if tc.want == 0 {
					line := randomLetters(200)
					if _, err := conn.Write([]byte(line + "\n")); err != nil {
						t.Fatalf("tlsflow client writing: %v", err)
					}
					got, err := bufio.NewReader(conn).ReadString('\n')
					if err != nil || got != line+"\n" {
						t.Fatalf("tlsflow client read %d bytes (%v); want gnutls-serv's echo", len(got), err)
					}
					return
				}
				m, err := srv.waitFor(ctx, gnutlsAlertReceived)
				if err != nil {
					t.Fatalf("gnutls-serv reported no alert: %v", err)
				}
				if m[1] != strconv.Itoa(int(tc.want)) {
					t.Errorf("gnutls-serv received alert %s; want %d (%s)", m[1], tc.want, tc.want)
				}
			})
		}
		for _, k := range []stapleKind{goodStaple, revokedStaple} {
			t.Run("gnutls-cli/tlsflow-server/"+ver.name+"/"+k.String(), func(t *testing.T) {
				testGnuTLSClientOCSP(t, f, ver.name, ver.gnutls, k)
			})
		}
	}
}

// testGnuTLSClientOCSP runs gnutls-cli against the tlsflow server stapling
// a response of kind k. gnutls-cli verifies the staple with the chain: it
// completes with a good one, which it saves (--save-ocsp) and counts as
// checked ("Options: OCSP status request,"), and refuses a revoked one
// with bad_certificate (GnuTLS has no certificate_revoked for this).
// gnutlsStapleChecked is gnutls-cli's list of the session's options when
// it has checked a stapled response (gnutls_ocsp_status_request_is_checked).
var gnutlsStapleChecked = regexp.MustCompile(`(?m)^- Options: .*OCSP status request,`)

func testGnuTLSClientOCSP(t *testing.T, f *ocspFiles, version, priority string, k stapleKind) {
	gnutlsCLI := requirePeer(t, "gnutls-cli")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	saved := filepath.Join(t.TempDir(), "saved.der")
	line := randomLetters(200)
	cli := startPeer(t, ctx, strings.NewReader(line+"\n"), gnutlsCLI, "-p", port, "127.0.0.1",
		"--x509cafile", f.caFile, "--verify-hostname", "localhost", "--priority", priority, "--save-ocsp", saved)
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	cert := flowCert(f.plain.leaf)
	cert.OCSPStaple = f.plain.staple[k]
	conn := tlsflow.Server(raw, &tlsflow.Config{Certificates: []tlsflow.Certificate{cert}})
	defer conn.Close()
	hsErr := conn.HandshakeContext(ctx)
	if k == revokedStaple {
		checkAlert(t, "tlsflow server", hsErr, received(alert.BadCertificate))
		conn.Close()
		if err := cli.wait(); err == nil {
			t.Errorf("%s exited with success; want a failure", cli.command)
		}
		if !strings.Contains(cli.output(), "The certificate chain is revoked") {
			t.Errorf("gnutls-cli does not say the certificate chain is revoked")
		}
		return
	}
	if hsErr != nil {
		t.Fatalf("tlsflow server handshake: %v", hsErr)
	}
	echoReversed(t, conn, line)
	if err := waitForText(ctx, cli, reverse(line)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	cli.wait()
	out := cli.output()
	for _, w := range []string{"Description: (" + version + "-", "Status: The certificate is trusted."} {
		if !strings.Contains(out, w) {
			t.Errorf("gnutls-cli output lacks %q", w)
		}
	}
	if !gnutlsStapleChecked.MatchString(out) {
		t.Errorf("gnutls-cli's Options line lacks \"OCSP status request\": it checked no staple")
	}
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, f.plain.staple[k]) {
		t.Errorf("gnutls-cli saved %d bytes (%v); want the %d-byte staple", len(got), err, len(f.plain.staple[k]))
	}
}
