package tlsflow_test

// Process-level resumption interop with OpenSSL 3, TLS 1.3 and TLS 1.2:
//
//   - openssl s_client against the tlsflow server: a first s_client saves
//     its session with -sess_out, a second offers it with -sess_in. The
//     second must print "Reused, TLSv1.x", and the tlsflow server (one
//     Config for both connections, so one set of ticket keys and one
//     session-ID cache) must report DidResume.
//   - the tlsflow client against openssl s_server -naccept 2 (one process,
//     so one session cache for both connections): two connections with one
//     ClientSessionCache; the second must report DidResume, and s_server
//     must count one session cache hit.
//
// TLS 1.3 resumes by ticket (pre_shared_key, RFC 8446 §2.2), for every suite
// as the binder and the resumption PSK use the suite's hash. TLS 1.2 resumes
// by ticket (RFC 5077) when both sides want tickets, and by session ID (RFC
// 5246 §7.4.1.2) otherwise: tickets off on the server, not asked for by the
// client, or both. Both peers are pinned to the version; OpenSSL to one
// suite. Besides what each peer says, the tlsflow side's trace shows how:
// which NewSessionTickets went by, that the resumed handshake carried no
// Certificate, and the route its "resumption accepted" note names.
// Subtests are named peer/direction/version/suite/route; a failing one logs
// the command line and output of each openssl process it ran, and the
// tlsflow side's trace of both connections.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// resumeRoute is who wants tickets in a resumption test; it decides how the
// session is kept and offered.
type resumeRoute struct {
	name          string
	serverTickets bool // the server issues tickets (tlsflow: !SessionTicketsDisabled; s_server: no -no_ticket)
	clientTickets bool // the client asks for them (tlsflow: !SessionTicketsDisabled; s_client: no -no_ticket)
}

// tickets: a ticket only when the client asks and the server gives (RFC
// 5077 §3.2); otherwise a TLS 1.2 server keeps the session under its ID.
func (r resumeRoute) tickets() bool { return r.serverTickets && r.clientTickets }

var (
	routeTickets = resumeRoute{"tickets", true, true}
	routes12     = []resumeRoute{
		routeTickets,
		{"session-id/no-tickets-either-side", false, false},
		{"session-id/server-tickets-disabled", false, true},
		{"session-id/client-asks-no-ticket", true, false},
	}
)

// opensslResumeCase is one version, suite and route.
type opensslResumeCase struct {
	version uint16
	suite   uint16
	openssl string    // OpenSSL's name for the suite: -cipher or -ciphersuites, and what it prints
	cert    *pki.Leaf // the server certificate the suite needs
	route   resumeRoute
}

func opensslResumeCases(c *testCerts) []opensslResumeCase {
	var out []opensslResumeCase
	for _, s := range opensslSuites13 {
		out = append(out, opensslResumeCase{tlsflow.VersionTLS13, s, tlsflow.CipherSuiteName(s), c.ecdsa, routeTickets})
	}
	// A SHA-256 and a SHA-384 suite: the abbreviated handshake's Finished
	// uses the suite's PRF hash.
	suites12 := []opensslResumeCase{
		{tlsflow.VersionTLS12, tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", c.ecdsa, resumeRoute{}},
		{tlsflow.VersionTLS12, tlsflow.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", c.rsa, resumeRoute{}},
	}
	for _, s := range suites12 {
		for _, r := range routes12 {
			s.route = r
			out = append(out, s)
		}
	}
	return out
}

// versionName is how OpenSSL prints the version.
func (c opensslResumeCase) versionName() string {
	if c.version == tlsflow.VersionTLS13 {
		return "TLSv1.3"
	}
	return "TLSv1.2"
}

func (c opensslResumeCase) name() string {
	return c.versionName() + "/" + c.openssl + "/" + c.route.name
}

// versionArgs pins openssl to the case's version and suite.
func (c opensslResumeCase) versionArgs() []string {
	if c.version == tlsflow.VersionTLS13 {
		return []string{"-tls1_3", "-ciphersuites", c.openssl}
	}
	return []string{"-tls1_2", "-cipher", c.openssl}
}

// resumedBy is what the tlsflow side's "resumption accepted" note must say.
func (c opensslResumeCase) resumedBy(server bool) string {
	switch {
	case c.version == tlsflow.VersionTLS13 && server:
		return "mode=psk_dhe_ke" // the tlsflow default: a fresh key exchange with the PSK
	case c.version == tlsflow.VersionTLS13:
		return "version=TLS 1.3"
	case c.route.tickets():
		return "by=session ticket"
	}
	return "by=session ID"
}

func TestInteropOpenSSLResumption(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	files := writeOpenSSLFiles(t, sharedCerts())
	for _, tc := range opensslResumeCases(files.testCerts) {
		t.Run("openssl-s_client/tlsflow-server/"+tc.name(), func(t *testing.T) {
			t.Parallel()
			testOpenSSLClientResumes(t, openssl, files, tc)
		})
		t.Run("openssl-s_server/tlsflow-client/"+tc.name(), func(t *testing.T) {
			t.Parallel()
			testOpenSSLServerResumes(t, openssl, files, tc)
		})
	}
}

// testOpenSSLClientResumes runs s_client twice against one tlsflow server
// Config: -sess_out saves the first session, -sess_in offers it again.
func testOpenSSLClientResumes(t *testing.T, openssl string, f *opensslFiles, tc opensslResumeCase) {
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	log := newResumptionLog(t, "tlsflow server")
	cfg := &tlsflow.Config{
		Certificates:           []tlsflow.Certificate{flowCert(tc.cert)},
		MinVersion:             tc.version,
		MaxVersion:             tc.version,
		SessionTicketsDisabled: !tc.route.serverTickets,
		Trace:                  log.hook,
	}
	sessFile := filepath.Join(t.TempDir(), "sess.pem")

	for i, sessArg := range []string{"-sess_out", "-sess_in"} {
		resumed := i == 1
		args := append([]string{"s_client"}, tc.versionArgs()...)
		args = append(args, "-servername", "localhost",
			"-CAfile", f.caFile, "-verify_hostname", "localhost", "-verify_return_error",
			// -ign_eof: s_client leaves when the server closes, not when
			// stdin ends. -nocommands: what is typed is data.
			"-ign_eof", "-nocommands", sessArg, sessFile)
		if !tc.route.clientTickets {
			args = append(args, "-no_ticket")
		}
		// stdin stays open until the exchange is over: s_client must not
		// leave before it has taken in a TLS 1.3 ticket, which comes after
		// the handshake.
		stdin := stdinPipe(t)
		log.begin()
		cli, raw := startOpenSSLClient(t, ctx, openssl, stdin.r, args...)
		conn := tlsflow.Server(raw, cfg)
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("connection %d: tlsflow server handshake: %v", i+1, err)
		}
		checkResumeState(t, i, "tlsflow server", conn.ConnectionState(), tc, false)

		// The ticket, if any, went out with or right after the handshake:
		// once s_client prints our reply it has read it, and -sess_out has
		// written the session.
		line := randomLetters(2000)
		stdin.write(t, line)
		got, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || got != line+"\n" {
			t.Fatalf("connection %d: tlsflow server read %d bytes (%v); want s_client's %d-byte line", i+1, len(got), err, len(line)+1)
		}
		if _, err := conn.Write([]byte(reverse(line) + "\n")); err != nil {
			t.Fatalf("connection %d: tlsflow server writing: %v", i+1, err)
		}
		if err := waitForText(ctx, cli, reverse(line)); err != nil {
			t.Fatalf("connection %d: s_client did not print the tlsflow server's reply: %v", i+1, err)
		}
		if err := conn.Close(); err != nil {
			t.Errorf("connection %d: tlsflow server Close: %v", i+1, err)
		}
		if err := cli.wait(); err != nil {
			t.Errorf("connection %d: %s exited with %v", i+1, cli.command, err)
		}

		out := cli.output()
		want := []string{"Verify return code: 0 (ok)"}
		if resumed {
			want = append(want, "Reused, "+tc.versionName()+", Cipher is "+tc.openssl)
		} else {
			want = append(want, "New, "+tc.versionName()+", Cipher is "+tc.openssl)
		}
		if tc.version == tlsflow.VersionTLS13 {
			// Printed by s_client's new-session callback, which also writes -sess_out.
			want = append(want, "Post-Handshake New Session Ticket arrived")
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("connection %d: s_client output lacks %q", i+1, w)
			}
		}
		// In TLS 1.2 s_client prints the session after the handshake; it
		// has a lifetime hint if, and only if, it came with a ticket.
		if tc.version == tlsflow.VersionTLS12 && !resumed {
			if hint := strings.Contains(out, "TLS session ticket lifetime hint:"); hint != tc.route.tickets() {
				t.Errorf("connection %d: s_client's session has a ticket: %v; want %v", i+1, hint, tc.route.tickets())
			}
		}
		if !resumed {
			if pem, err := os.ReadFile(sessFile); err != nil || !strings.Contains(string(pem), "-----BEGIN SSL SESSION PARAMETERS-----") {
				t.Fatalf("s_client -sess_out wrote no session to %s (%v): the second connection cannot resume", sessFile, err)
			}
		}
	}
	log.check(tc)
}

// testOpenSSLServerResumes connects the tlsflow client twice, with one
// ClientSessionCache, to one s_server -rev that accepts two connections.
func testOpenSSLServerResumes(t *testing.T, openssl string, f *opensslFiles, tc opensslResumeCase) {
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	args := append([]string{"s_server", "-rev", "-accept", "127.0.0.1:0", "-naccept", "2"}, tc.versionArgs()...)
	args = append(args, "-cert", f.certFile[tc.cert], "-key", f.keyFile[tc.cert])
	if !tc.route.serverTickets {
		args = append(args, "-no_ticket")
	}
	srv := startPeer(t, ctx, nil, openssl, args...)
	m, err := srv.waitFor(ctx, acceptLine)
	if err != nil {
		t.Fatal(err)
	}

	log := newResumptionLog(t, "tlsflow client")
	cfg := &tlsflow.Config{
		RootCAs:                f.ca.Pool,
		ServerName:             "localhost",
		MinVersion:             tc.version,
		MaxVersion:             tc.version,
		ClientSessionCache:     tlsflow.NewLRUClientSessionCache(4),
		SessionTicketsDisabled: !tc.route.clientTickets,
		Trace:                  log.hook,
	}
	for i := 0; i < 2; i++ {
		log.begin()
		raw, err := dialContext(ctx, m[1])
		if err != nil {
			t.Fatalf("connection %d: dialing %s: %v", i+1, srv.command, err)
		}
		conn := tlsflow.Client(raw, cfg)
		if err := conn.HandshakeContext(ctx); err != nil {
			conn.Close()
			t.Fatalf("connection %d: tlsflow client handshake: %v", i+1, err)
		}
		checkResumeState(t, i, "tlsflow client", conn.ConnectionState(), tc, true)
		// s_server sends its TLS 1.3 tickets right after the handshake, so
		// the client has read them, and cached the session, once it has
		// read the reply.
		line := randomLetters(2000)
		if _, err := conn.Write([]byte(line + "\n")); err != nil {
			t.Fatalf("connection %d: tlsflow client writing: %v", i+1, err)
		}
		got, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || got != reverse(line)+"\n" {
			t.Fatalf("connection %d: tlsflow client read %d bytes (%v); want s_server -rev's %d-byte reply", i+1, len(got), err, len(line)+1)
		}
		if err := conn.Close(); err != nil {
			t.Errorf("connection %d: tlsflow client Close: %v", i+1, err)
		}
	}
	if err := srv.wait(); err != nil {
		t.Errorf("%s exited with %v", srv.command, err)
	}
	log.check(tc)

	// s_server -rev prints no "Reused" line; its session statistics, on
	// exit, count the hit. A ticket is opened, not looked up, so only a
	// session ID leaves an item in the cache.
	out := srv.output()
	wantItems := btoi(!tc.route.tickets())
	if tc.version == tlsflow.VersionTLS13 {
		wantItems = 0 // OpenSSL's TLS 1.3 tickets are stateless by default
	}
	for _, s := range []struct {
		stat string
		want int
	}{{"session cache hits", 1}, {"session cache misses", 0}, {"items in the session cache", wantItems}} {
		if got, ok := opensslStat(out, s.stat); !ok || got != s.want {
			t.Errorf("s_server reports %d %s (found: %v); want %d", got, s.stat, ok, s.want)
		}
	}
	if !strings.Contains(out, "Protocol version: "+tc.versionName()) || !strings.Contains(out, "Ciphersuite: "+tc.openssl) {
		t.Errorf("s_server output lacks %s and %s", tc.versionName(), tc.openssl)
	}
}

// dialContext opens a TCP connection whose deadline is ctx's.
func dialContext(ctx context.Context, addr string) (net.Conn, error) {
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	return raw, nil
}

// opensslStat reads one of the counters s_server prints on exit, as
// "   1 session cache hits".
func opensslStat(out, name string) (int, bool) {
	m := regexp.MustCompile(`(?m)^\s*(\d+) ` + regexp.QuoteMeta(name) + `$`).FindStringSubmatch(out)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// checkResumeState checks what the tlsflow side of connection i (0 or 1)
// negotiated: the pinned version, the case's suite (a resumed session keeps
// its suite), DidResume only on the second. A client still knows the
// server's verified chain when it resumes: it came with the session.
func checkResumeState(t *testing.T, i int, who string, s tlsflow.ConnectionState, tc opensslResumeCase, wantPeer bool) {
	t.Helper()
	if s.Version != tc.version || s.CipherSuite != tc.suite {
		t.Errorf("connection %d: %s negotiated %s, %s; want %s, %s", i+1, who,
			tlsflow.VersionName(s.Version), tlsflow.CipherSuiteName(s.CipherSuite),
			tlsflow.VersionName(tc.version), tlsflow.CipherSuiteName(tc.suite))
	}
	if s.DidResume != (i == 1) {
		t.Errorf("connection %d: %s DidResume = %v; want %v", i+1, who, s.DidResume, i == 1)
	}
	if gotPeer := len(s.PeerCertificates) > 0 && len(s.VerifiedChains) > 0; gotPeer != wantPeer {
		t.Errorf("connection %d: %s has a verified peer certificate: %v (%d certificates, %d chains); want %v",
			i+1, who, gotPeer, len(s.PeerCertificates), len(s.VerifiedChains), wantPeer)
	}
}

// resumptionLog records, through Config.Trace, the handshake messages and
// resumption notes of each connection in turn. Both connections of a test
// share a Config, so its one hook writes to the connection begin last
// started. The hook runs on whichever goroutine reads or writes.
type resumptionLog struct {
	t     *testing.T
	who   string // "tlsflow server", "tlsflow client"
	mu    sync.Mutex
	conns [][]string // "sent Certificate", "resumption accepted by=session ID"
}

func newResumptionLog(t *testing.T, who string) *resumptionLog {
	l := &resumptionLog{t: t, who: who}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s trace:\n%s", who, l)
		}
	})
	return l
}

func (l *resumptionLog) begin() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns = append(l.conns, nil)
}

func (l *resumptionLog) hook(e trace.Event) {
	var line string
	switch {
	case e.Kind == trace.KindMessage:
		line = string(e.Direction) + " " + e.Message
	case e.Kind == trace.KindNote && strings.HasPrefix(e.Message, "resumption "):
		line = e.Message
		for _, f := range e.Fields {
			line += " " + f.Name + "=" + f.Value
		}
	default:
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.conns); n > 0 {
		l.conns[n-1] = append(l.conns[n-1], line)
	}
}

// lines returns connection i's lines that are, or start with, the words in prefix.
func (l *resumptionLog) lines(i int, prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	if i < len(l.conns) {
		for _, s := range l.conns[i] {
			if s == prefix || strings.HasPrefix(s, prefix+" ") {
				out = append(out, s)
			}
		}
	}
	return out
}

func (l *resumptionLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for i, c := range l.conns {
		fmt.Fprintf(&b, "  connection %d: %s\n", i+1, strings.Join(c, ", "))
	}
	return b.String()
}

// check reads the story of both connections in the trace: a full handshake
// with a certificate, and a NewSessionTicket exactly when the route has
// tickets (a TLS 1.2 server sends one only to a client that asked, RFC 5077
// §3.2, §3.3); then
// a resumption the tlsflow side accepted by the expected route, without a
// certificate.
func (l *resumptionLog) check(tc opensslResumeCase) {
	t := l.t
	t.Helper()
	server := l.who == "tlsflow server"
	certificate, ticket := "received Certificate", "received NewSessionTicket"
	if server {
		certificate, ticket = "sent Certificate", "sent NewSessionTicket"
	}
	if got := l.lines(0, "resumption accepted"); len(got) > 0 {
		t.Errorf("connection 1: %s notes %q on a first connection", l.who, got)
	}
	if n := len(l.lines(0, certificate)); n != 1 {
		t.Errorf("connection 1: %s trace has %d %q in the full handshake; want 1", l.who, n, certificate)
	}
	wantTicket := tc.version == tlsflow.VersionTLS13 || tc.route.tickets()
	if got := len(l.lines(0, ticket)) > 0; got != wantTicket {
		t.Errorf("connection 1: %s trace has %q: %v; want %v (server tickets %v, client asks %v)",
			l.who, ticket, got, wantTicket, tc.route.serverTickets, tc.route.clientTickets)
	}
	accepted := l.lines(1, "resumption accepted")
	if len(accepted) != 1 || !strings.Contains(accepted[0], tc.resumedBy(server)) {
		t.Errorf("connection 2: %s notes %q (rejections: %q); want one \"resumption accepted\" with %s",
			l.who, accepted, l.lines(1, "resumption rejected"), tc.resumedBy(server))
	}
	if got := l.lines(1, certificate); len(got) > 0 {
		t.Errorf("connection 2: %s trace has %q in a resumed handshake", l.who, got)
	}
}
