package tlsflow_test

// Process-level 0-RTT interop (RFC 8446 §2.3, §4.2.10) with OpenSSL 3 and
// GnuTLS, both directions. Every case connects twice: the first connection
// brings a ticket that allows early data, the second resumes it and sends
// early data. What proves that the data travelled as 0-RTT, and not after
// the handshake, is the side that read it:
//
//   - tlsflow server: ReadEarlyData returns it, and Read returns only what
//     the client sent after the handshake.
//   - openssl s_server -early_data: it prints "Early data received:" only
//     when SSL_read_early_data returned bytes; the tlsflow client never
//     sends the same bytes again when they were accepted, so they appear
//     once, before what was sent after the handshake. (OpenSSL 3.0 writes
//     the bytes straight to its stdout and the header through a buffer, so
//     the header may follow them: their order proves nothing.) -early_data
//     cannot be combined with -rev or -www (s_server refuses), hence its
//     plain mode: what it reads goes to its stdout, what is typed into its
//     stdin goes to the client.
//   - gnutls-serv --earlydata: it prints nothing about early data, but its
//     debug log (-d 5) has "decrypted early data with length: N" for each
//     0-RTT record it decrypted (3.7.9 and GnuTLS's master). Its --echo
//     loop drops what gnutls_record_recv_early_data returns up to GnuTLS
//     3.8.9 (a positive return was not taken for data: GnuTLS commit
//     54c06a9cd, "serv: fix detection of early data reception", first in
//     3.8.10), so Debian's 3.7.9 never echoes early data and a later one
//     does; the test accepts both.
//
// Neither s_client nor gnutls-cli resends rejected early data, and
// gnutls-cli prints nothing about its fate; s_client prints "Early data
// was accepted" or "... rejected". Subtests are named
// direction/peer/outcome; a failing one logs each peer's command line and
// output, and the tlsflow side's notes on resumption and early data.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/trace"
)

// earlyMax is the tlsflow servers' MaxEarlyData: their tickets carry it as
// max_early_data_size.
const earlyMax = 4096

// opensslServerEarlyCase is one second connection of the tlsflow client to
// s_server, with early data written if the cached ticket allows it.
type opensslServerEarlyCase struct {
	name    string
	args    []string // s_server's, besides -tls1_3 and the certificate
	another bool     // the ticket comes from another s_server process
	sent    bool     // WriteEarlyData sends (the ticket allows 0-RTT data)
	resumed bool
	// accepted: s_server reads the early data and prints it after
	// "Early data received:"; otherwise the client resends it with Write,
	// and s_server prints that copy only.
	accepted bool
	says     string // what s_server must print about early data, if anything
	bug      string // a known tlsflow bug the case runs into (opensslKnownBugs13)
}

var opensslServerEarlyCases = []opensslServerEarlyCase{
	// s_server -early_data reads 0-RTT data (its tickets allow 16384 bytes).
	{name: "accepted", args: []string{"-early_data"}, sent: true, resumed: true, accepted: true},
	// -max_early_data alone: the tickets allow 0-RTT data, but s_server
	// does not call SSL_read_early_data, so OpenSSL resumes and refuses
	// the early data. The client goes on with its handshake keys; the
	// server skips the 0-RTT records.
	{name: "rejected-resumed", args: []string{"-max_early_data", "16384"}, sent: true, resumed: true},
	// The ticket is another s_server's: this one cannot resume it, makes a
	// full handshake, and rejects the early data that came with it.
	{name: "rejected-not-resumed", args: []string{"-early_data"}, another: true, sent: true,
		says: "Early data was rejected"},
	// s_server takes P-256 only, for which the client's first ClientHello
	// has no key share: after its HelloRetryRequest the early data is
	// rejected (RFC 8446 §4.1.2: the second ClientHello has no
	// early_data), and the session still resumes. -no_anti_replay:
	// OpenSSL's single-use tickets would be used up by the first
	// ClientHello, and the second would make a full handshake.
	{name: "rejected-hello-retry", args: []string{"-early_data", "-no_anti_replay", "-groups", "P-256"}, sent: true, resumed: true,
		says: "Early data was rejected"},
	// Plain s_server: its tickets allow no early data, so the client sends
	// none (ErrNoEarlyData) and writes it after the handshake.
	{name: "ticket-without-early-data", resumed: true},
}

// opensslClientEarlyCase is one second connection of s_client to the
// tlsflow server, with its -early_data file.
type opensslClientEarlyCase struct {
	name string
	read bool // the tlsflow server calls ReadEarlyData (and answers with 0.5-RTT data)
	// hrr: s_client's key share is for P-256, and the tlsflow server takes
	// X25519 only: it asks again with a HelloRetryRequest, and skips the
	// early data.
	hrr bool
}

func (c opensslClientEarlyCase) accepted() bool { return c.read && !c.hrr }

var opensslClientEarlyCases = []opensslClientEarlyCase{
	{name: "accepted", read: true},
	{name: "rejected-not-read"},
	{name: "rejected-hello-retry", read: true, hrr: true},
}

func TestInteropOpenSSLEarlyData(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	f := writeOpenSSLFiles(t, sharedCerts())
	for _, tc := range opensslServerEarlyCases {
		t.Run("tlsflow-client/openssl-s_server/"+tc.name, func(t *testing.T) {
			testOpenSSLServerEarlyData(t, openssl, f, tc)
		})
	}
	for _, tc := range opensslClientEarlyCases {
		t.Run("openssl-s_client/tlsflow-server/"+tc.name, func(t *testing.T) {
			testOpenSSLClientEarlyData(t, openssl, f, tc)
		})
	}
}

// testOpenSSLServerEarlyData connects the tlsflow client twice, with one
// ClientSessionCache, to s_server in its plain mode: the first connection
// gets a ticket, the second tries 0-RTT with it.
func testOpenSSLServerEarlyData(t *testing.T, openssl string, f *opensslFiles, tc opensslServerEarlyCase) {
	if tc.bug != "" {
		skipKnownBug(t, tc.bug)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	notes := newEarlyNotes(t, "tlsflow client")
	cfg := earlyClientConfig(f, notes)
	args := append([]string{"s_server", "-tls1_3", "-cert", f.certFile[f.ecdsa], "-key", f.keyFile[f.ecdsa]}, tc.args...)
	stdin := stdinPipe(t)
	srv, addr := startOpenSSLServerFor(t, ctx, openssl, stdin, 2-btoi(tc.another), args...)
	ticketFromOpenSSLServer(t, ctx, cfg, srv, addr, stdin)
	if tc.another {
		stdin.close()
		srv.wait()
		stdin = stdinPipe(t)
		srv, addr = startOpenSSLServerFor(t, ctx, openssl, stdin, 1, args...)
	}

	notes.begin()
	conn := dialTLSFlow(t, ctx, addr, cfg)
	early := typedLine(300) + "\n"
	n, err := conn.WriteEarlyData([]byte(early))
	if tc.sent && (err != nil || n != len(early)) {
		t.Fatalf("connection 2: WriteEarlyData = %d, %v; want %d bytes sent as 0-RTT (the ticket allows it)", n, err, len(early))
	}
	if !tc.sent && !errors.Is(err, tlsflow.ErrNoEarlyData) {
		t.Fatalf("connection 2: WriteEarlyData = %d, %v; want ErrNoEarlyData (the ticket allows no 0-RTT data)", n, err)
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("connection 2: tlsflow client handshake: %v", err)
	}
	if st := conn.ConnectionState(); st.DidResume != tc.resumed || st.EarlyDataAccepted != tc.accepted {
		t.Fatalf("connection 2: DidResume %v, EarlyDataAccepted %v; want %v, %v", st.DidResume, st.EarlyDataAccepted, tc.resumed, tc.accepted)
	}
	if !tc.accepted {
		if _, err := conn.Write([]byte(early)); err != nil {
			t.Fatalf("connection 2: resending the early data with Write: %v", err)
		}
	}
	late := exchangeWithOpenSSLServer(t, ctx, conn, srv, stdin)
	conn.Close()
	stdin.close()
	if err := srv.wait(); err != nil {
		t.Errorf("%s exited with %v", srv.command, err)
	}

	out := srv.output()
	if n := strings.Count(out, early); n != 1 {
		t.Errorf("s_server printed our early data %d times; want once", n)
	} else if strings.Index(out, early) > strings.Index(out, late) {
		t.Errorf("s_server printed our early data after the line we wrote after it")
	}
	received, ended := strings.Contains(out, "Early data received:"), strings.Contains(out, "End of early data")
	if received != tc.accepted || ended != tc.accepted {
		t.Errorf("s_server reports early data received: %v, its end: %v; want %v", received, ended, tc.accepted)
	}
	if tc.says != "" && !strings.Contains(out, tc.says) {
		t.Errorf("s_server output lacks %q", tc.says)
	}
	if reused := strings.Contains(out, "Reused session-id"); reused != tc.resumed {
		t.Errorf("s_server reports the session reused: %v; want %v", reused, tc.resumed)
	}
}

// testOpenSSLClientEarlyData runs s_client twice against one tlsflow server
// Config: -sess_out keeps the first session, -sess_in resumes it with
// -early_data.
func testOpenSSLClientEarlyData(t *testing.T, openssl string, f *opensslFiles, tc opensslClientEarlyCase) {
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	notes := newEarlyNotes(t, "tlsflow server")
	cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(f.ecdsa)}, MaxEarlyData: earlyMax, Trace: notes.hook}
	base := []string{"s_client", "-tls1_3", "-servername", "localhost", "-CAfile", f.caFile,
		"-verify_hostname", "localhost", "-verify_return_error", "-ign_eof", "-nocommands"}
	if tc.hrr {
		cfg.CurvePreferences = []tlsflow.CurveID{tlsflow.X25519}
		base = append(base, "-groups", "P-256:X25519") // a key share for the first only
	}
	dir := t.TempDir()
	sessFile := filepath.Join(dir, "sess.pem")
	early := typedLine(3000) + "\n"
	earlyFile := writeTempFile(t, dir, "early", []byte(early))

	// Connection 1: a full handshake; once s_client has printed our reply
	// it has read the ticket that came before it, and written it out.
	notes.begin()
	stdin := stdinPipe(t)
	cli, raw := startOpenSSLClient(t, ctx, openssl, stdin.r, append(base, "-sess_out", sessFile)...)
	conn := tlsflow.Server(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("connection 1: tlsflow server handshake: %v", err)
	}
	line := typedLine(100)
	stdin.write(t, line)
	echoReversed(t, conn, line)
	if err := waitForText(ctx, cli, reverse(line)); err != nil {
		t.Fatalf("connection 1: %v", err)
	}
	conn.Close()
	stdin.close()
	if err := cli.wait(); err != nil {
		t.Fatalf("connection 1: %s exited with %v", cli.command, err)
	}
	// s_client prints the session it keeps, with the ticket's limit.
	if want := "Max Early Data: " + strconv.Itoa(earlyMax); !strings.Contains(cli.output(), want) {
		t.Fatalf("connection 1: s_client output lacks %q: the ticket does not allow early data", want)
	}

	// Connection 2: s_client sends the file as early data.
	notes.begin()
	stdin = stdinPipe(t)
	cli, raw = startOpenSSLClient(t, ctx, openssl, stdin.r, append(base, "-sess_in", sessFile, "-early_data", earlyFile)...)
	conn = tlsflow.Server(raw, cfg)
	defer conn.Close()
	halfRTT := "0.5-RTT " + randomLetters(64)
	if tc.read {
		got, err := readEarlyData(conn, len(early), func() error {
			_, err := conn.Write([]byte(halfRTT + "\n"))
			return err
		})
		if err != nil {
			t.Fatalf("connection 2: ReadEarlyData after %d bytes: %v", len(got), err)
		}
		want := "" // skipped after a HelloRetryRequest
		if tc.accepted() {
			want = early
		}
		if string(got) != want {
			t.Fatalf("connection 2: ReadEarlyData returned %d bytes %.40q…; want %d of s_client's -early_data file", len(got), got, len(want))
		}
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("connection 2: tlsflow server handshake: %v", err)
	}
	if st := conn.ConnectionState(); !st.DidResume || st.EarlyDataAccepted != tc.accepted() {
		t.Fatalf("connection 2: tlsflow server DidResume %v, EarlyDataAccepted %v; want a resumption, early data accepted %v",
			st.DidResume, st.EarlyDataAccepted, tc.accepted())
	}
	// Read returns only what was typed after the handshake: the early data
	// went to ReadEarlyData, or was skipped.
	line = typedLine(100)
	stdin.write(t, line)
	echoReversed(t, conn, line)
	if err := waitForText(ctx, cli, reverse(line)); err != nil {
		t.Fatalf("connection 2: %v", err)
	}
	conn.Close()
	stdin.close()
	if err := cli.wait(); err != nil {
		t.Errorf("connection 2: %s exited with %v", cli.command, err)
	}
	out := cli.output()
	want := []string{"Reused, TLSv1.3", "Early data was rejected"}
	if tc.accepted() {
		want = []string{"Reused, TLSv1.3", "Early data was accepted", halfRTT}
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("connection 2: s_client output lacks %q", w)
		}
	}
}

func TestInteropGnuTLSEarlyData(t *testing.T) {
	f := writeOpenSSLFiles(t, sharedCerts())
	const priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3"

	// gnutls-cli --resume connects, waits for a ticket (--waitresumption),
	// disconnects, and resumes with the --earlydata file as 0-RTT data;
	// then it sends what it reads on stdin.
	t.Run("gnutls-cli/tlsflow-server/accepted", func(t *testing.T) {
		gnutlsCLI := requirePeer(t, "gnutls-cli")
		ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
		defer cancel()
		notes := newEarlyNotes(t, "tlsflow server")
		cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(f.ecdsa)}, MaxEarlyData: earlyMax, Trace: notes.hook}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		early := randomLetters(3000) + "\n"
		earlyFile := writeTempFile(t, t.TempDir(), "early", []byte(early))
		stdin := stdinPipe(t)
		cli := startPeer(t, ctx, stdin.r, gnutlsCLI, "127.0.0.1", "-p", port, "--sni-hostname", "localhost",
			"--verify-hostname", "localhost", "--x509cafile", f.caFile, "--priority", priority,
			"--resume", "--waitresumption", "--earlydata", earlyFile)
		closeParentsCopy(stdin.r)

		// Connection 1: the handshake and its tickets; gnutls-cli leaves
		// without sending anything.
		notes.begin()
		raw, err := acceptPeer(ctx, ln, cli)
		if err != nil {
			t.Fatalf("connection 1: %v", err)
		}
		deadline, _ := ctx.Deadline()
		raw.SetDeadline(deadline)
		conn := tlsflow.Server(raw, cfg)
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("connection 1: tlsflow server handshake: %v", err)
		}
		if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("connection 1: tlsflow server read %d bytes (%v); want gnutls-cli to leave", n, err)
		}
		conn.Close()

		// Connection 2: the resumption with early data.
		notes.begin()
		raw, err = acceptPeer(ctx, ln, cli)
		if err != nil {
			t.Fatalf("connection 2: %v", err)
		}
		raw.SetDeadline(deadline)
		conn = tlsflow.Server(raw, cfg)
		defer conn.Close()
		got, err := readEarlyData(conn, len(early), nil)
		if err != nil {
			t.Fatalf("connection 2: ReadEarlyData after %d bytes: %v", len(got), err)
		}
		if string(got) != early {
			t.Fatalf("connection 2: ReadEarlyData returned %d bytes %.40q…; want gnutls-cli's %d-byte --earlydata file", len(got), got, len(early))
		}
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("connection 2: tlsflow server handshake: %v", err)
		}
		if st := conn.ConnectionState(); !st.DidResume || !st.EarlyDataAccepted {
			t.Fatalf("connection 2: tlsflow server DidResume %v, EarlyDataAccepted %v; want both", st.DidResume, st.EarlyDataAccepted)
		}
		line := randomLetters(100)
		stdin.write(t, line)
		echoReversed(t, conn, line)
		if err := waitForText(ctx, cli, reverse(line)); err != nil {
			t.Fatalf("connection 2: %v", err)
		}
		conn.Close()
		stdin.close()
		if err := cli.wait(); err != nil {
			t.Errorf("%s exited with %v", cli.command, err)
		}
		if !strings.Contains(cli.output(), "*** This is a resumed session") {
			t.Errorf("gnutls-cli does not report a resumed session")
		}
	})

	// gnutls-serv --earlydata --echo; see the file comment for why the
	// early data may or may not come back.
	t.Run("tlsflow-client/gnutls-serv/accepted", func(t *testing.T) {
		gnutlsServ := requirePeer(t, "gnutls-serv")
		ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
		defer cancel()
		notes := newEarlyNotes(t, "tlsflow client")
		cfg := earlyClientConfig(f, notes)
		srv, addr := startGnuTLSServer(t, ctx, gnutlsServ, "--echo", "--earlydata", "-d", "5", "--priority", priority,
			"--disable-client-cert", "--x509certfile", f.certFile[f.ecdsa], "--x509keyfile", f.keyFile[f.ecdsa])

		// Connection 1: the echo of a line comes after the tickets.
		notes.begin()
		conn := dialTLSFlow(t, ctx, addr, cfg)
		if _, err := conn.WriteEarlyData([]byte("x")); !errors.Is(err, tlsflow.ErrNoEarlyData) {
			t.Fatalf("connection 1: WriteEarlyData without a session = %v; want ErrNoEarlyData", err)
		}
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("connection 1: tlsflow client handshake: %v", err)
		}
		line := randomLetters(100)
		if _, err := conn.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
		if got, err := bufio.NewReader(conn).ReadString('\n'); err != nil || got != line+"\n" {
			t.Fatalf("connection 1: tlsflow client read %q (%v); want gnutls-serv's echo", got, err)
		}
		conn.Close()

		// Connection 2: early data, then a line after the handshake.
		notes.begin()
		conn = dialTLSFlow(t, ctx, addr, cfg)
		early := randomLetters(300) + "\n"
		if n, err := conn.WriteEarlyData([]byte(early)); err != nil || n != len(early) {
			t.Fatalf("connection 2: WriteEarlyData = %d, %v; want %d bytes sent as 0-RTT", n, err, len(early))
		}
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("connection 2: tlsflow client handshake: %v", err)
		}
		if st := conn.ConnectionState(); !st.DidResume || !st.EarlyDataAccepted {
			t.Fatalf("connection 2: DidResume %v, EarlyDataAccepted %v; want both (gnutls-serv --earlydata)", st.DidResume, st.EarlyDataAccepted)
		}
		late := randomLetters(100) + "\n"
		if _, err := conn.Write([]byte(late)); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		got, err := r.ReadString('\n')
		if err == nil && got == early {
			got, err = r.ReadString('\n') // a gnutls-serv that echoes early data
		}
		if err != nil || got != late {
			t.Fatalf("connection 2: tlsflow client read %.40q… (%v); want the echo of the line sent after the handshake", got, err)
		}
		conn.Close()

		// What gnutls-serv decrypted with the early traffic key: logged
		// (on stderr, unbuffered) before the client's EndOfEarlyData.
		if _, err := srv.waitFor(ctx, regexp.MustCompile(`END OF EARLY DATA \(5\) was received`)); err != nil {
			t.Fatal(err)
		}
		var decrypted int
		for _, m := range earlyRecordLog.FindAllStringSubmatch(srv.output(), -1) {
			n, _ := strconv.Atoi(m[1])
			decrypted += n
		}
		if decrypted != len(early) {
			t.Errorf("gnutls-serv's debug log shows %d bytes of early data decrypted; want our %d", decrypted, len(early))
		}
	})
}

// earlyRecordLog is gnutls-serv's debug line (-d 5) for a 0-RTT record it
// decrypted.
var earlyRecordLog = regexp.MustCompile(`REC\[[^]]*\]: decrypted early data with length: (\d+), in epoch`)

// earlyClientConfig is a tlsflow client that trusts the test CA and keeps
// its sessions, so that a second connection may send early data.
func earlyClientConfig(f *opensslFiles, notes *earlyNotes) *tlsflow.Config {
	return &tlsflow.Config{RootCAs: f.ca.Pool, ServerName: "localhost",
		ClientSessionCache: tlsflow.NewLRUClientSessionCache(4), Trace: notes.hook}
}

// startOpenSSLServerFor runs s_server for n connections on a port the
// kernel picks, and returns its address once it listens.
func startOpenSSLServerFor(t *testing.T, ctx context.Context, openssl string, stdin *peerStdin, n int, args ...string) (*peerProcess, string) {
	t.Helper()
	args = append(args, "-accept", "127.0.0.1:0", "-naccept", strconv.Itoa(n))
	srv := startPeer(t, ctx, stdin.r, openssl, args...)
	closeParentsCopy(stdin.r)
	m, err := srv.waitFor(ctx, acceptLine)
	if err != nil {
		t.Fatal(err)
	}
	return srv, m[1]
}

// dialTLSFlow connects a tlsflow client; the connection's deadline is ctx's.
func dialTLSFlow(t *testing.T, ctx context.Context, addr string, cfg *tlsflow.Config) *tlsflow.Conn {
	t.Helper()
	raw, err := dialContext(ctx, addr)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	conn := tlsflow.Client(raw, cfg)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// ticketFromOpenSSLServer is the first connection to a plain s_server: a
// full handshake (no session yet, so WriteEarlyData has nothing to send
// early), and a line typed into s_server, which the client reads after
// the tickets s_server sent first.
func ticketFromOpenSSLServer(t *testing.T, ctx context.Context, cfg *tlsflow.Config, srv *peerProcess, addr string, stdin *peerStdin) {
	t.Helper()
	conn := dialTLSFlow(t, ctx, addr, cfg)
	if _, err := conn.WriteEarlyData([]byte("x")); !errors.Is(err, tlsflow.ErrNoEarlyData) {
		t.Fatalf("connection 1: WriteEarlyData without a session = %v; want ErrNoEarlyData", err)
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("connection 1: tlsflow client handshake with %s: %v", srv.command, err)
	}
	line := typedLine(100)
	stdin.write(t, line)
	if got, err := bufio.NewReader(conn).ReadString('\n'); err != nil || strings.TrimSpace(got) != line {
		t.Fatalf("connection 1: tlsflow client read %q (%v); want the line typed into s_server", got, err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("connection 1: tlsflow client Close: %v", err)
	}
}

// exchangeWithOpenSSLServer sends a line after the handshake and waits for
// s_server to print it, then has a line typed into s_server and reads it:
// the connection carries data both ways after its 0-RTT part. It returns
// the line sent.
func exchangeWithOpenSSLServer(t *testing.T, ctx context.Context, conn *tlsflow.Conn, srv *peerProcess, stdin *peerStdin) string {
	t.Helper()
	late := typedLine(100) + "\n"
	if _, err := conn.Write([]byte(late)); err != nil {
		t.Fatalf("connection 2: tlsflow client writing after the handshake: %v", err)
	}
	if err := waitForText(ctx, srv, strings.TrimSuffix(late, "\n")); err != nil {
		t.Fatalf("connection 2: %v", err)
	}
	line := typedLine(100)
	stdin.write(t, line)
	if got, err := bufio.NewReader(conn).ReadString('\n'); err != nil || strings.TrimSpace(got) != line {
		t.Fatalf("connection 2: tlsflow client read %q (%v); want the line typed into s_server", got, err)
	}
	return late
}

// readEarlyData reads a server's early data until ReadEarlyData says it is
// over; answer, if not nil, writes 0.5-RTT data once want bytes are in.
func readEarlyData(conn *tlsflow.Conn, want int, answer func() error) ([]byte, error) {
	var got []byte
	buf := make([]byte, 1024)
	for {
		n, err := conn.ReadEarlyData(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		if answer != nil && len(got) >= want {
			if err := answer(); err != nil {
				return got, err
			}
			answer = nil
		}
	}
}

// earlyNotes records, through Config.Trace, the tlsflow side's notes on
// resumption and early data for each connection, and logs them if the
// test fails: they say why early data was not offered, sent or read.
type earlyNotes struct {
	mu    sync.Mutex
	conns [][]string
}

func newEarlyNotes(t *testing.T, who string) *earlyNotes {
	n := &earlyNotes{}
	t.Cleanup(func() {
		if t.Failed() {
			n.mu.Lock()
			defer n.mu.Unlock()
			for i, c := range n.conns {
				t.Logf("%s, connection %d: %s", who, i+1, strings.Join(c, "; "))
			}
		}
	})
	return n
}

func (n *earlyNotes) begin() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.conns = append(n.conns, nil)
}

func (n *earlyNotes) hook(e trace.Event) {
	if e.Kind != trace.KindNote || !(strings.HasPrefix(e.Message, "early data") || strings.HasPrefix(e.Message, "resumption")) {
		return
	}
	line := string(e.Direction) + " " + e.Message
	for _, f := range e.Fields {
		line += " " + f.Name + "=" + f.Value
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.conns) == 0 {
		n.conns = append(n.conns, nil)
	}
	n.conns[len(n.conns)-1] = append(n.conns[len(n.conns)-1], line)
}
