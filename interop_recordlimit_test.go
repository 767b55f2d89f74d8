package tlsflow_test

// Process-level interop of the record size limit (RFC 8449) with NSS and
// GnuTLS, each as server and as client, in TLS 1.2 and TLS 1.3. The tlsflow
// end's connection is watched (recordWatch): the protected records each
// side writes must stay within the limit the other advertised, plus the
// protection; the data must arrive intact; and the tlsflow end's trace
// must show the limits it negotiated. The peer's records are checked
// against tlsflow's limit with more data than one record of that size can
// carry, so they show that the peer got and honoured tlsflow's extension.
//
// What each peer lets a test set:
//
//   - NSS 3.87 (selfserv, tstclnt): no option sets a limit. The library
//     always advertises record_size_limit, with the protocol's limit
//     (16384, 16385 in TLS 1.3) unless the application sets
//     SSL_RECORD_SIZE_LIMIT, which the tools never do (ssl.h: "NSS always
//     advertises the record size limit extension"), and keeps within the
//     peer's limit. So tlsflow's small limit is tested in both roles, but
//     NSS's limit only as the protocol's: that tlsflow keeps within a
//     small NSS limit needs an NSS application the tools are not.
//   - GnuTLS 3.7.9: gnutls-serv --recordsize N advertises N (N+1 in TLS
//     1.3, counting the content type); gnutls-cli --recordsize N advertises
//     N the same way (512 to 4096, and as max_fragment_length too) and
//     never writes a larger record itself. Without the option both
//     advertise the protocol's limit, and gnutls-cli always offers it.
//     GnuTLS takes a limit below 512 only with %ALLOW_SMALL_RECORDS in its
//     priority string, although RFC 8449 §4 allows 64: otherwise a GnuTLS
//     server ignores a smaller offer (it answers without the extension, so
//     nothing is negotiated), and a GnuTLS client refuses a smaller answer
//     with illegal_parameter. So a tlsflow server whose RecordSizeLimit is
//     below 512 fails the handshake with every GnuTLS client that keeps
//     the default priority. Both behaviours have a case here.
//   - OpenSSL 3.0: not tested, it does not implement RFC 8449. Its
//     record-size options are -max_send_frag and -split_send_frag (how it
//     fragments its own writes, nothing negotiated) and -maxfraglen (RFC
//     6066 max_fragment_length); its tls1.h names no extension 28. Offered
//     a limit of 64, s_server (3.0.19) answers without the extension and
//     writes a 3000-byte answer in one record, which the tlsflow client
//     then takes.
//
// Every case pins AES-128-GCM, whose expansion recordExpansion counts.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/trace"
)

// recordLimitCase is one version of the record size limit cases, with its
// AES-128-GCM suite (the certificate is ECDSA).
type recordLimitCase struct {
	version uint16
	suite   uint16
}

var recordLimitCases = []recordLimitCase{
	{tlsflow.VersionTLS12, tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	{tlsflow.VersionTLS13, tlsflow.TLS_AES_128_GCM_SHA256},
}

func (c recordLimitCase) name() string { return tlsflow.VersionName(c.version) }

// flag is the version as the peers' options write it: "1.2", "1.3".
func (c recordLimitCase) flag() string { return "1." + strconv.Itoa(int(c.version&0xff)-1) }

// protocolLimit is the limit an endpoint that sets none advertises (RFC
// 8449 §4): 2^14, and in TLS 1.3 one more for the content type.
func (c recordLimitCase) protocolLimit() int {
	if c.version == tlsflow.VersionTLS13 {
		return 1<<14 + 1
	}
	return 1 << 14
}

// recordExpansion is what AES-128-GCM adds to a protected record beyond
// what RFC 8449 counts: the tag, and in TLS 1.2 the explicit nonce (the
// TLS 1.3 content type byte is within the limit).
func (c recordLimitCase) recordExpansion() int {
	if c.version == tlsflow.VersionTLS13 {
		return 16
	}
	return 16 + 8
}

// The limits the tests set: tlsflow's, below what any peer writes by
// itself, and gnutls-serv's, above it (so that what gnutls-serv echoes
// comes to it in records larger than tlsflow's limit).
const (
	flowRecordLimit = 64
	gnutlsServLimit = 1000
	gnutlsCLILimit  = 512 // gnutls-cli's smallest
)

// recordWatch is the tlsflow end's connection to a peer, with the records
// on the wire tallied in each direction: in, the peer's; out, tlsflow's.
type recordWatch struct {
	net.Conn
	in, out recordTally
}

func watchRecords(c net.Conn, version uint16) *recordWatch {
	tls13 := version == tlsflow.VersionTLS13
	return &recordWatch{Conn: c, in: recordTally{tls13: tls13}, out: recordTally{tls13: tls13}}
}

func (w *recordWatch) Read(b []byte) (int, error) {
	n, err := w.Conn.Read(b)
	w.in.add(b[:n])
	return n, err
}

func (w *recordWatch) Write(b []byte) (int, error) {
	w.out.add(b)
	return w.Conn.Write(b)
}

// checkWithin: the protected records one side wrote stay within limit
// (as RFC 8449 counts it) plus the protection, and they carried at least
// n bytes. With n at least the limit, the largest must be exactly that
// size: both peers and tlsflow fill their records up to the limit they
// got, so a side that ignored the limit, or got another, fails; and one
// that wrote nothing fails too.
func checkWithin(t *testing.T, c recordLimitCase, who string, tally *recordTally, limit, n int) {
	t.Helper()
	most, count := tally.largest()
	bound := limit + c.recordExpansion()
	if most > bound || (n >= limit && most != bound) || count < max(1, n/limit) {
		t.Errorf("%s's protected records: the largest %d bytes, %d records; want %d bytes at most (a limit of %d), that many if its %d bytes exceed one record, and %d records or more",
			who, most, count, bound, limit, n, max(1, n/limit))
	}
}

// limitNotes records, through Config.Trace, the tlsflow end's note on the
// record size limits it negotiated.
type limitNotes struct {
	mu    sync.Mutex
	notes []string // "peer=N own=M", one per negotiation
}

func (l *limitNotes) hook(e trace.Event) {
	if e.Kind != trace.KindNote || e.Message != "record size limit" {
		return
	}
	var fs []string
	for _, f := range e.Fields {
		fs = append(fs, f.Name+"="+f.Value)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes = append(l.notes, strings.Join(fs, " "))
}

// check: one negotiation, with the peer's limit and tlsflow's own.
func (l *limitNotes) check(t *testing.T, who string, peer, own int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	want := "peer=" + strconv.Itoa(peer) + " own=" + strconv.Itoa(own)
	if len(l.notes) != 1 || l.notes[0] != want {
		t.Errorf("%s negotiated record size limits %q; want once %q", who, l.notes, want)
	}
}

// checkNone: no negotiation.
func (l *limitNotes) checkNone(t *testing.T, who string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.notes) != 0 {
		t.Errorf("%s negotiated record size limits %q; want none", who, l.notes)
	}
}

// TestInteropNSSRecordSizeLimit: selfserv and tstclnt keep their records
// within a tlsflow client's and a tlsflow server's limit of 64; they
// advertise the protocol's limit themselves, as the tlsflow end's trace
// shows.
func TestInteropNSSRecordSizeLimit(t *testing.T) {
	env := newMatrixEnv(t)
	f := env.files
	for _, c := range recordLimitCases {
		nssVersion := "tls" + c.flag() + ":tls" + c.flag()
		nssSuite := fmt.Sprintf(":%04X", c.suite)

		t.Run("tlsflow-client/nss-selfserv/"+c.name(), func(t *testing.T) {
			requireNSSTools(t, "selfserv")
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			r := &matrixRun{t: t, ctx: ctx, env: env}
			db, err := env.nssDB(f.ecdsa)
			if err != nil {
				t.Fatal(err)
			}
			_, addr, err := startOnFreePort(r, regexp.MustCompile(`selfserv: About to call accept\.()`), "", "selfserv", func(port int) []string {
				return []string{"-d", db, "-n", nssNickname(env, f.ecdsa), "-p", strconv.Itoa(port), "-v", "-V", nssVersion, "-c", nssSuite}
			})
			if err != nil {
				t.Fatal(err)
			}
			notes := &limitNotes{}
			w, conn := dialWatched(t, ctx, addr, c, notes)
			if err := conn.HandshakeContext(ctx); err != nil {
				t.Fatalf("tlsflow client handshake: %v", err)
			}
			// selfserv answers an HTTP request with a page that quotes it
			// (it reads at most 10 KiB of request).
			req := "GET /" + randomLetters(8000) + " HTTP/1.0\r\n\r\n"
			if _, err := conn.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			if err := readUntil(conn, req); err != nil {
				t.Fatalf("tlsflow client waiting for selfserv to quote the %d-byte request: %v", len(req), err)
			}
			notes.check(t, "tlsflow client", c.protocolLimit(), flowRecordLimit)
			checkWithin(t, c, "selfserv", &w.in, flowRecordLimit, len(req))
			checkWithin(t, c, "the tlsflow client", &w.out, c.protocolLimit(), len(req))
		})

		t.Run("nss-tstclnt/tlsflow-server/"+c.name(), func(t *testing.T) {
			tstclnt := requireNSSTools(t, "tstclnt")
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			db, err := env.nssDB(f.client) // any of them: each trusts the CA
			if err != nil {
				t.Fatal(err)
			}
			ln, port := listenLocal(t)
			line := randomLetters(4000)
			// -A: tstclnt sends the file, then prints what comes back until
			// the server closes.
			req := writeTempFile(t, t.TempDir(), "request", []byte(line+"\n"))
			cli := startPeer(t, ctx, nil, tstclnt, "-4", "-h", "localhost", "-p", port, "-d", db,
				"-V", nssVersion, "-c", nssSuite, "-A", req)
			notes := &limitNotes{}
			w, conn := acceptWatched(t, ctx, ln, cli, c, notes)
			if err := conn.HandshakeContext(ctx); err != nil {
				t.Fatalf("tlsflow server handshake: %v", err)
			}
			echoReversed(t, conn, line)
			conn.Close()
			if err := cli.wait(); err != nil {
				t.Errorf("%s exited with %v", cli.command, err)
			}
			if n := strings.Count(cli.output(), reverse(line)); n != 1 {
				t.Errorf("tstclnt printed the tlsflow server's answer %d times; want once", n)
			}
			notes.check(t, "tlsflow server", c.protocolLimit(), flowRecordLimit)
			checkWithin(t, c, "tstclnt", &w.in, flowRecordLimit, len(line))
			checkWithin(t, c, "the tlsflow server", &w.out, c.protocolLimit(), len(line))
		})
	}
}

// requireNSSTools requires program and what nssDB runs to make its
// databases, and returns program's path.
func requireNSSTools(t *testing.T, program string) string {
	t.Helper()
	for _, p := range []string{"certutil", "pk12util", "openssl"} {
		requirePeer(t, p)
	}
	return requirePeer(t, program)
}

// TestInteropGnuTLSRecordSizeLimit: gnutls-serv and gnutls-cli keep their
// records within a tlsflow client's and a tlsflow server's limit of 64,
// and the tlsflow end keeps its own within theirs (1000 and 512); without
// %ALLOW_SMALL_RECORDS, gnutls-serv ignores the offer of 64 and the
// tlsflow client takes its large records, and gnutls-cli refuses the
// answer of 64.
func TestInteropGnuTLSRecordSizeLimit(t *testing.T) {
	f := writeOpenSSLFiles(t, sharedCerts())
	for _, c := range recordLimitCases {
		priority := "NORMAL:-VERS-ALL:+VERS-TLS" + c.flag() + ":%ALLOW_SMALL_RECORDS"
		// gnutls-serv and gnutls-cli advertise one more in TLS 1.3 than
		// --recordsize says: their limit counts the content type.
		advertised := func(n int) int {
			if c.version == tlsflow.VersionTLS13 {
				return n + 1
			}
			return n
		}

		t.Run("tlsflow-client/gnutls-serv/"+c.name(), func(t *testing.T) {
			gnutlsServ := requirePeer(t, "gnutls-serv")
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			_, addr := startGnuTLSServer(t, ctx, gnutlsServ, "--echo", "--priority", priority,
				"--recordsize", strconv.Itoa(gnutlsServLimit), "--disable-client-cert",
				"--x509certfile", f.certFile[f.ecdsa], "--x509keyfile", f.keyFile[f.ecdsa])
			notes := &limitNotes{}
			w, conn := dialWatched(t, ctx, addr, c, notes)
			if err := conn.HandshakeContext(ctx); err != nil {
				t.Fatalf("tlsflow client handshake: %v", err)
			}
			// --echo sends back each record's data as it comes: tlsflow's
			// records, within gnutls-serv's limit, are larger than its own.
			line := randomLetters(4000) + "\n"
			if _, err := conn.Write([]byte(line)); err != nil {
				t.Fatal(err)
			}
			if err := readUntil(conn, line); err != nil {
				t.Fatalf("tlsflow client waiting for gnutls-serv's echo of %d bytes: %v", len(line), err)
			}
			notes.check(t, "tlsflow client", advertised(gnutlsServLimit), flowRecordLimit)
			checkWithin(t, c, "gnutls-serv", &w.in, flowRecordLimit, len(line))
			checkWithin(t, c, "the tlsflow client", &w.out, advertised(gnutlsServLimit), len(line))
		})

		// Without %ALLOW_SMALL_RECORDS gnutls-serv ignores the offer of 64
		// and answers without the extension: nothing is negotiated, and
		// the tlsflow client takes records of any size (RFC 8449 §4: the
		// limit applies once both sides sent the extension).
		t.Run("tlsflow-client/gnutls-serv/"+c.name()+"/ignored-below-512", func(t *testing.T) {
			gnutlsServ := requirePeer(t, "gnutls-serv")
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			_, addr := startGnuTLSServer(t, ctx, gnutlsServ, "--echo", "--priority", "NORMAL:-VERS-ALL:+VERS-TLS"+c.flag(),
				"--disable-client-cert", "--x509certfile", f.certFile[f.ecdsa], "--x509keyfile", f.keyFile[f.ecdsa])
			notes := &limitNotes{}
			w, conn := dialWatched(t, ctx, addr, c, notes)
			if err := conn.HandshakeContext(ctx); err != nil {
				t.Fatalf("tlsflow client handshake: %v", err)
			}
			line := randomLetters(4000) + "\n"
			if _, err := conn.Write([]byte(line)); err != nil {
				t.Fatal(err)
			}
			if err := readUntil(conn, line); err != nil {
				t.Fatalf("tlsflow client waiting for gnutls-serv's echo of %d bytes: %v", len(line), err)
			}
			notes.checkNone(t, "tlsflow client")
			if most, _ := w.in.largest(); most <= len(line) {
				t.Errorf("gnutls-serv's largest protected record has %d bytes; want the echo of the %d-byte line in one", most, len(line))
			}
		})

		// gnutls-cli sends what each read of its stdin returns with one
		// gnutls_record_send, which writes one record and returns how much
		// of the data it took; gnutls-cli drops the rest (3.7.9, src/cli.c
		// and socket_send_range in src/socket.c; with --verbose it prints
		// "*** Only sent N bytes instead of M."). So of a line longer than
		// one record within tlsflow's limit, only that record's worth
		// arrives: the prefix, and gnutls-cli's message, show the limit
		// honoured, where the whole line would have come in one record (it
		// is shorter than gnutls-cli's own limit).
		t.Run("gnutls-cli/tlsflow-server/"+c.name(), func(t *testing.T) {
			gnutlsCLI := requirePeer(t, "gnutls-cli")
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			ln, port := listenLocal(t)
			// The line on stdin (startWithLine adds its "\n"); at its end
			// gnutls-cli sends close_notify and waits for the answer.
			r := &matrixRun{t: t, ctx: ctx, payload: randomLetters(300)}
			line := r.payload + "\n"
			cli := r.startWithLine(gnutlsCLI, "127.0.0.1", "-p", port, "--sni-hostname", "localhost",
				"--verify-hostname", "localhost", "--x509cafile", f.caFile, "--priority", priority,
				"--recordsize", strconv.Itoa(gnutlsCLILimit), "--verbose")
			notes := &limitNotes{}
			w, conn := acceptWatched(t, ctx, ln, cli, c, notes)
			if err := conn.HandshakeContext(ctx); err != nil {
				t.Fatalf("tlsflow server handshake: %v", err)
			}
			got, err := io.ReadAll(conn)
			sent := flowRecordLimit // what one record within the limit carries
			if c.version == tlsflow.VersionTLS13 {
				sent-- // the content type
			}
			if err != nil || string(got) != line[:sent] {
				t.Errorf("tlsflow server read %d bytes %.20q… (%v); want the first %d of the %d-byte line, then close_notify", len(got), got, err, sent, len(line))
			}
			if want := fmt.Sprintf("*** Only sent %d bytes instead of %d.", sent, len(line)); !strings.Contains(cli.output(), want) {
				t.Errorf("gnutls-cli output lacks %q", want)
			}
			answer := randomLetters(4000)
			if _, err := conn.Write([]byte(answer + "\n")); err != nil {
				t.Fatalf("tlsflow server writing the answer after gnutls-cli's close_notify: %v", err)
			}
			conn.Close()
			if err := cli.wait(); err != nil {
				t.Errorf("%s exited with %v", cli.command, err)
			}
			// --verbose prints each read's data after "- Received[N]: ".
			if printed := gnutlsReceived.ReplaceAllString(cli.output(), ""); !strings.Contains(printed, answer+"\n") {
				t.Errorf("gnutls-cli did not print the tlsflow server's %d-byte answer", len(answer)+1)
			}
			notes.check(t, "tlsflow server", advertised(gnutlsCLILimit), flowRecordLimit)
			checkWithin(t, c, "gnutls-cli", &w.in, flowRecordLimit, len(got))
			checkWithin(t, c, "the tlsflow server", &w.out, advertised(gnutlsCLILimit), len(answer))
		})

		// Without %ALLOW_SMALL_RECORDS gnutls-cli offers the protocol's
		// limit, and refuses the tlsflow server's answer of 64.
		t.Run("gnutls-cli/tlsflow-server/"+c.name()+"/refused-below-512", func(t *testing.T) {
			gnutlsCLI := requirePeer(t, "gnutls-cli")
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			ln, port := listenLocal(t)
			r := &matrixRun{t: t, ctx: ctx, payload: randomLetters(100)}
			cli := r.startWithLine(gnutlsCLI, "127.0.0.1", "-p", port, "--sni-hostname", "localhost",
				"--verify-hostname", "localhost", "--x509cafile", f.caFile, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS"+c.flag())
			notes := &limitNotes{}
			_, conn := acceptWatched(t, ctx, ln, cli, c, notes)
			err := conn.HandshakeContext(ctx)
			var e *tlsflow.Error
			if !errors.As(err, &e) || e.Alert != alert.IllegalParameter || !e.Received {
				t.Errorf("tlsflow server handshake: %v; want illegal_parameter received from gnutls-cli", err)
			}
			cli.wait()
			if want := "*** Fatal error: An illegal parameter has been received."; !strings.Contains(cli.output(), want) {
				t.Errorf("gnutls-cli output lacks %q", want)
			}
			notes.check(t, "tlsflow server", c.protocolLimit(), flowRecordLimit)
		})
	}
}

// gnutlsReceived is what gnutls-cli --verbose prints before the data of
// each read.
var gnutlsReceived = regexp.MustCompile(`- Received\[\d+\]: `)

// dialWatched connects a tlsflow client with a record size limit of 64,
// pinned to c's version and suite, watched; the handshake is the caller's.
func dialWatched(t *testing.T, ctx context.Context, addr string, c recordLimitCase, notes *limitNotes) (*recordWatch, *tlsflow.Conn) {
	t.Helper()
	raw, err := dialContext(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	w := watchRecords(raw, c.version)
	conn := tlsflow.Client(w, &tlsflow.Config{RootCAs: sharedCerts().ca.Pool, ServerName: "localhost",
		MinVersion: c.version, MaxVersion: c.version, CipherSuites: []uint16{c.suite},
		RecordSizeLimit: flowRecordLimit, Trace: notes.hook})
	t.Cleanup(func() { conn.Close() })
	return w, conn
}

// listenLocal listens on a port of 127.0.0.1 that the kernel picks, for a
// peer's client, and returns the port.
func listenLocal(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return ln, port
}

// acceptWatched accepts the connection of the peer's client cli, watched,
// for a tlsflow server with a record size limit of 64, pinned to c's
// version and suite, whose deadline is ctx's; the handshake is the
// caller's.
func acceptWatched(t *testing.T, ctx context.Context, ln net.Listener, cli *peerProcess, c recordLimitCase, notes *limitNotes) (*recordWatch, *tlsflow.Conn) {
	t.Helper()
	raw, err := acceptPeer(ctx, ln, cli)
	if err != nil {
		t.Fatal(err)
	}
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	w := watchRecords(raw, c.version)
	conn := tlsflow.Server(w, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(sharedCerts().ecdsa)},
		MinVersion: c.version, MaxVersion: c.version, CipherSuites: []uint16{c.suite},
		RecordSizeLimit: flowRecordLimit, Trace: notes.hook})
	t.Cleanup(func() { conn.Close() })
	return w, conn
}
