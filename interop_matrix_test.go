package tlsflow_test

// Process-level interop matrix: tlsflow against GnuTLS (gnutls-serv,
// gnutls-cli), NSS (selfserv, tstclnt), Java 17 JSSE, Python's ssl module and
// Node's tls module, in both directions: the peer's server against the
// tlsflow client, and the peer's client against the tlsflow server. Each
// peer is described in interop_matrix_peers_test.go; the Java, Python and
// Node peers are small programs in testdata/interop.
//
// The rows are TLS 1.2 and TLS 1.3 × key exchange and cipher (the RSA key
// exchange, ECDHE-RSA, ECDHE-ECDSA, ChaCha20-Poly1305 — TLS 1.3 has no RSA
// key exchange) × with or without a client certificate the server requires,
// plus a second connection that resumes the first one's session. Redundant
// combinations are pruned: ChaCha20 differs from AES-GCM only in the record
// layer, so it runs without a client certificate, and resumption runs with
// ECDHE-ECDSA only.
//
// Both ends are pinned to the row's version and suite where the peer lets
// itself be pinned (Python cannot restrict TLS 1.3 suites, so there the
// tlsflow end alone decides). On every connection the client sends a line
// and checks the server's answer (the line reversed by tlsflow and by the
// test programs; echoed by gnutls-serv; quoted in an HTTP response by
// selfserv); the tlsflow end checks the version, the suite, DidResume and
// the verified peer certificate, and the peer's output is checked for what
// the peer reports (a resumed session, a verified client certificate).
//
// TestInteropMatrix ends by logging the whole matrix as a Markdown table
// (ok / FAIL / n/a, with reasons as notes), and writes it to the file named
// by TLSFLOW_MATRIX_OUT if set, for docs/CONFORMANCE.md.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// matrixTimeout bounds one cell. It is generous: on a busy 2-core machine
// a JVM can take tens of seconds to start and handshake. A hung peer fails
// the cell and is killed.
const matrixTimeout = 90 * time.Second

// matrixConcurrency is how many cells run at once.
const matrixConcurrency = 6

// matrixPayload is the length of the line a client sends: more than one
// TLS record (16384 bytes), so that both directions span several. (But
// to selfserv, which reads at most 10 KiB of request.)
const matrixPayload = 20000

// matrixRow is one row of the matrix.
type matrixRow struct {
	version uint16
	kex     string    // key exchange (and cipher) for the row's label
	suite   uint16    // the one suite both ends enable
	openssl string    // the suite's OpenSSL name (Python and Node take it for TLS 1.2)
	gnutls  string    // GnuTLS priority items that enable just this suite
	cert    *pki.Leaf // the server's certificate
	// clientCert: the server requires and verifies a client certificate,
	// and the client has one.
	clientCert bool
	// resume: the client connects twice, and the second connection
	// resumes the first one's session.
	resume bool
}

// rsaKeyExchange: the case's suite uses the RSA key exchange.
func (c matrixRow) rsaKeyExchange() bool {
	return strings.HasPrefix(tlsflow.CipherSuiteName(c.suite), "TLS_RSA_")
}

func (c matrixRow) connections() int {
	if c.resume {
		return 2
	}
	return 1
}

// versionFlag is the version as "1.2" or "1.3", which most peers take.
func (c matrixRow) versionFlag() string {
	return strings.TrimPrefix(tlsflow.VersionName(c.version), "TLS ")
}

// name is the case's part of a subtest name.
func (c matrixRow) name() string {
	n := "TLS" + c.versionFlag() + "/" + strings.ReplaceAll(c.kex, " ", "-")
	if c.clientCert {
		n += "/client-cert"
	}
	if c.resume {
		n += "/resumed"
	}
	return n
}

// label is the case's row label in the table.
func (c matrixRow) label() string {
	l := tlsflow.VersionName(c.version) + " " + c.kex + " (" + tlsflow.CipherSuiteName(c.suite) + ")"
	if c.clientCert {
		l += ", client cert"
	}
	if c.resume {
		l += ", resumed"
	}
	return l
}

// matrixRows lists the rows, in the table's order.
func matrixRows(certs *testCerts) []matrixRow {
	type kex struct {
		version                uint16
		kex                    string
		suite                  uint16
		openssl, gnutls        string
		cert                   *pki.Leaf
		clientCertToo, resumed bool
	}
	const v12, v13 = tlsflow.VersionTLS12, tlsflow.VersionTLS13
	kexes := []kex{
		{v12, "RSA key exchange", tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256",
			"-KX-ALL:+RSA:-CIPHER-ALL:+AES-128-GCM", certs.rsa, true, false},
		{v12, "ECDHE-RSA", tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256",
			"-KX-ALL:+ECDHE-RSA:-CIPHER-ALL:+AES-128-GCM", certs.rsa, true, false},
		{v12, "ECDHE-ECDSA", tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384",
			"-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+AES-256-GCM", certs.ecdsa, true, true},
		{v12, "ChaCha20-Poly1305", tlsflow.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305",
			"-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+CHACHA20-POLY1305", certs.ecdsa, false, false},
		// TLS 1.3 suites name no key exchange: the certificate makes the row.
		{v13, "ECDHE-RSA", tlsflow.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256",
			"-CIPHER-ALL:+AES-128-GCM", certs.rsa, true, false},
		{v13, "ECDHE-ECDSA", tlsflow.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384",
			"-CIPHER-ALL:+AES-256-GCM", certs.ecdsa, true, true},
		{v13, "ChaCha20-Poly1305", tlsflow.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256",
			"-CIPHER-ALL:+CHACHA20-POLY1305", certs.ecdsa, false, false},
	}
	var out []matrixRow
	for _, k := range kexes {
		c := matrixRow{version: k.version, kex: k.kex, suite: k.suite, openssl: k.openssl, gnutls: k.gnutls, cert: k.cert}
		out = append(out, c)
		if k.clientCertToo {
			c.clientCert = true
			out = append(out, c)
		}
		if k.resumed {
			for _, cc := range []bool{false, true} {
				c.clientCert, c.resume = cc, true
				out = append(out, c)
			}
		}
	}
	return out
}

// matrixColumn is one column: a peer, as server or as client.
type matrixColumn struct {
	peer         *matrixPeer
	peerIsServer bool
}

func (col matrixColumn) name() string {
	if col.peerIsServer {
		return col.peer.name + " server"
	}
	return col.peer.name + " client"
}

// programs are what the column runs, each checked with requirePeer.
func (col matrixColumn) programs() []string {
	if col.peerIsServer {
		return col.peer.server.programs
	}
	return col.peer.client.programs
}

// matrixRun is one cell being run: a case against a column.
type matrixRun struct {
	t       *testing.T
	ctx     context.Context
	env     *matrixEnv
	c       matrixRow
	payload string // the line (without its "\n") each client connection sends

	peers []*peerProcess // the peer processes started, for the table's notes
}

// start starts a peer process for the cell (see startPeer).
func (r *matrixRun) start(stdin io.Reader, program string, args ...string) *peerProcess {
	return r.startContext(r.ctx, stdin, program, args...)
}

// startWithLine starts a client peer with the cell's line on its stdin. The
// line comes from a file, which the process reads itself: with an
// io.Reader, exec would copy it through a pipe from a goroutine, which may
// still be running when the process has exited (startPeer's WaitDelay
// then fails the Wait on a busy machine).
func (r *matrixRun) startWithLine(program string, args ...string) *peerProcess {
	path := writeTempFile(r.t, r.t.TempDir(), "line", []byte(r.payload+"\n"))
	f, err := os.Open(path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close() // the child has its own copy
	return r.start(f, program, args...)
}

func (r *matrixRun) startContext(ctx context.Context, stdin io.Reader, program string, args ...string) *peerProcess {
	p := startPeer(r.t, ctx, stdin, program, args...)
	r.peers = append(r.peers, p)
	return p
}

func TestInteropMatrix(t *testing.T) {
	env := newMatrixEnv(t)
	cases := matrixRows(env.files.testCerts)
	var columns []matrixColumn
	for _, p := range matrixPeers() {
		columns = append(columns, matrixColumn{p, true}, matrixColumn{p, false})
	}
	table := newMatrixTable(cases, columns)
	// The cells run matrixConcurrency at a time, not -test.parallel's
	// GOMAXPROCS: they mostly wait, for a JVM to start or a peer to answer.
	// Each worker runs its cells one after the other as subtests (t.Run may
	// be called from several goroutines), Java and the others interleaved.
	t.Run("cell", func(t *testing.T) {
		cells := make(chan func(), len(cases)*len(columns))
		for _, c := range cases {
			for _, col := range columns {
				cells <- func() {
					t.Run(strings.ReplaceAll(col.name(), " ", "-")+"/"+c.name(), func(t *testing.T) {
						runMatrixCell(t, env, table, col, c)
					})
				}
			}
		}
		close(cells)
		var wg sync.WaitGroup
		for range matrixConcurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for run := range cells {
					run()
				}
			}()
		}
		wg.Wait()
	})

	versions := make(map[string]string)
	for _, col := range columns {
		if col.peerIsServer {
			versions[col.peer.name] = col.peer.version()
			if versions[col.peer.name] == "" {
				versions[col.peer.name] = "version unknown (not installed?)"
			}
		}
	}
	report := table.render(versions)
	t.Logf("interop matrix:\n%s", report)
	if out := os.Getenv("TLSFLOW_MATRIX_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			t.Errorf("writing the matrix to TLSFLOW_MATRIX_OUT: %v", err)
		}
	}
}

// runMatrixCell runs one cell and records its result in the table.
func runMatrixCell(t *testing.T, env *matrixEnv, table *matrixTable, col matrixColumn, c matrixRow) {
	result := matrixResult{status: matrixOK}
	// Recorded whichever way the test ends: t.Skip and t.Fatal (in
	// requirePeer, or a helper that cannot start a peer) end it through
	// runtime.Goexit.
	defer func() {
		if t.Failed() && result.status != matrixFail {
			if result.note == "" {
				result.note = "the test stopped early; see its log"
			}
			result.status = matrixFail
		}
		table.set(c, col, result)
	}()
	for _, prog := range col.programs() {
		if _, err := exec.LookPath(prog); err != nil {
			// Skipped here, a failure in CI (see requirePeer).
			result = matrixResult{matrixSkipped, prog + " is not installed"}
		}
		requirePeer(t, prog)
	}
	if col.peer.refuses != nil {
		if reason := col.peer.refuses(c); reason != "" {
			result = matrixResult{matrixNA, reason}
			t.Skip(reason)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), matrixTimeout)
	defer cancel()
	r := &matrixRun{t: t, ctx: ctx, env: env, c: c, payload: randomLetters(matrixPayload)}
	var err error
	if col.peerIsServer {
		err = runAgainstPeerServer(r, col.peer.server)
	} else {
		err = runAgainstPeerClient(r, col.peer.client)
	}
	if err != nil {
		t.Errorf("%s against tlsflow, %s: %v", col.name(), c.label(), err)
		// The table names a peer by its program: its command line,
		// temporary paths and all, is in the test log.
		note := err.Error()
		for _, p := range r.peers {
			note = strings.ReplaceAll(note, p.command, strings.Fields(p.command)[0])
		}
		result = matrixResult{matrixFail, note}
	}
}

// runAgainstPeerServer starts the peer's server and connects the tlsflow
// client to it, once or (resume) twice with one session cache.
func runAgainstPeerServer(r *matrixRun, s *matrixServer) error {
	srv, addr, err := s.start(r)
	if err != nil {
		return err
	}
	cfg := &tlsflow.Config{
		RootCAs: r.env.files.ca.Pool, ServerName: "localhost",
		MinVersion: r.c.version, MaxVersion: r.c.version,
		CipherSuites: []uint16{r.c.suite},
	}
	if r.c.clientCert {
		cfg.Certificates = []tlsflow.Certificate{flowCert(r.env.files.client)}
	}
	if r.c.resume {
		cfg.ClientSessionCache = tlsflow.NewLRUClientSessionCache(1)
	}
	for i := 1; i <= r.c.connections(); i++ {
		if err := matrixClientConn(r, s, cfg, addr, i); err != nil {
			return fmt.Errorf("connection %d to %s: %w", i, srv.command, err)
		}
	}
	if err := s.check(r, srv); err != nil {
		return fmt.Errorf("%s: %w", srv.command, err)
	}
	return nil
}

// matrixClientConn is the tlsflow client's connection number i.
func matrixClientConn(r *matrixRun, s *matrixServer, cfg *tlsflow.Config, addr string, i int) error {
	raw, err := (&net.Dialer{}).DialContext(r.ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer raw.Close()
	deadline, _ := r.ctx.Deadline()
	raw.SetDeadline(deadline)
	conn := tlsflow.Client(raw, cfg)
	if err := conn.HandshakeContext(r.ctx); err != nil {
		return fmt.Errorf("tlsflow client handshake: %w", err)
	}
	if err := checkMatrixState(conn.ConnectionState(), r.c, i, true); err != nil {
		return fmt.Errorf("tlsflow client: %w", err)
	}
	send, want := s.exchange(r)
	if _, err := conn.Write(send); err != nil {
		return fmt.Errorf("tlsflow client writing %d bytes: %w", len(send), err)
	}
	if err := readUntil(conn, want); err != nil {
		return fmt.Errorf("tlsflow client waiting for the %d-byte answer: %w", len(want), err)
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("tlsflow client Close: %w", err)
	}
	return nil
}

// runAgainstPeerClient runs the peer's client against the tlsflow server,
// which reads a line on each connection and answers it reversed.
func runAgainstPeerClient(r *matrixRun, cl *matrixClient) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	cfg := &tlsflow.Config{
		Certificates: []tlsflow.Certificate{flowCert(r.c.cert)},
		MinVersion:   r.c.version, MaxVersion: r.c.version,
		CipherSuites: []uint16{r.c.suite},
		// Not the servers' default 10 s: a slow peer (a JVM starting on a
		// busy machine) is no attack here; r.ctx bounds the handshake.
		HandshakeTimeout: -1,
	}
	if r.c.clientCert {
		cfg.ClientAuth = tlsflow.RequireAndVerifyClientCert
		cfg.ClientCAs = r.env.files.ca.Pool
	}
	cli, err := cl.start(r, ln.Addr().String())
	if err != nil {
		return err
	}
	for i := 1; i <= r.c.connections(); i++ {
		// A client that connects once only to get a session (gnutls-cli
		// --resume) sends nothing on its first connection.
		mayBeEmpty := r.c.resume && i == 1 && cl.firstConnectionEmpty
		if err := matrixServerConn(r, ln, cli, cfg, i, mayBeEmpty); err != nil {
			return fmt.Errorf("connection %d from %s: %w", i, cli.command, err)
		}
	}
	if err := cli.wait(); err != nil {
		return fmt.Errorf("%s exited with %v", cli.command, err)
	}
	if err := cl.check(r, cli); err != nil {
		return fmt.Errorf("%s: %w", cli.command, err)
	}
	return nil
}

// matrixServerConn is the tlsflow server's connection number i.
func matrixServerConn(r *matrixRun, ln net.Listener, cli *peerProcess, cfg *tlsflow.Config, i int, mayBeEmpty bool) error {
	raw, err := acceptPeer(r.ctx, ln, cli)
	if err != nil {
		return err
	}
	defer raw.Close()
	deadline, _ := r.ctx.Deadline()
	raw.SetDeadline(deadline)
	conn := tlsflow.Server(raw, cfg)
	if err := conn.HandshakeContext(r.ctx); err != nil {
		return fmt.Errorf("tlsflow server handshake: %w", err)
	}
	if err := checkMatrixState(conn.ConnectionState(), r.c, i, r.c.clientCert); err != nil {
		return fmt.Errorf("tlsflow server: %w", err)
	}
	line, err := bufio.NewReaderSize(conn, 4096).ReadString('\n')
	if mayBeEmpty && line == "" && errors.Is(err, io.EOF) {
		conn.Close() // the client may be gone already: no error to check
		return nil
	}
	if err != nil {
		return fmt.Errorf("tlsflow server reading a line: read %d bytes, then %w", len(line), err)
	}
	if want := r.payload + "\n"; line != want {
		return fmt.Errorf("tlsflow server read %d bytes %.40q…; want the %d-byte line %.40q…", len(line), line, len(want), want)
	}
	if _, err := conn.Write([]byte(reverse(r.payload) + "\n")); err != nil {
		return fmt.Errorf("tlsflow server writing the %d-byte answer: %w", len(r.payload)+1, err)
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("tlsflow server Close: %w", err)
	}
	return nil
}

// checkMatrixState checks what the tlsflow end negotiated on connection i.
// wantPeerCert: the peer authenticated with a certificate, which must
// verify (checked on full handshakes: a resumed one carries no certificates).
func checkMatrixState(s tlsflow.ConnectionState, c matrixRow, i int, wantPeerCert bool) error {
	var problems []string
	if s.Version != c.version || s.CipherSuite != c.suite {
		problems = append(problems, fmt.Sprintf("negotiated %s %s; want %s %s",
			tlsflow.VersionName(s.Version), tlsflow.CipherSuiteName(s.CipherSuite),
			tlsflow.VersionName(c.version), tlsflow.CipherSuiteName(c.suite)))
	}
	if want := c.resume && i == 2; s.DidResume != want {
		problems = append(problems, fmt.Sprintf("DidResume is %v; want %v", s.DidResume, want))
	}
	if wantPeerCert && !s.DidResume && len(s.VerifiedChains) == 0 {
		problems = append(problems, fmt.Sprintf("no verified peer certificate (%d received)", len(s.PeerCertificates)))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// readUntil reads from c until what it read contains want.
func readUntil(c net.Conn, want string) error {
	var got []byte
	buf := make([]byte, 32*1024)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if len(got) >= len(want) && strings.Contains(string(got), want) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %d bytes %.60q…, then %w", len(got), got, err)
		}
	}
}

// acceptPeer accepts the next connection from the peer's client, unless
// the client exits first or ctx ends.
func acceptPeer(ctx context.Context, ln net.Listener, p *peerProcess) (net.Conn, error) {
	type accepted struct {
		conn net.Conn
		err  error
	}
	tl := ln.(*net.TCPListener)
	tl.SetDeadline(time.Time{})
	ch := make(chan accepted, 1)
	go func() {
		c, err := tl.Accept()
		ch <- accepted{c, err}
	}()
	select {
	case a := <-ch:
		return a.conn, a.err
	case <-p.exited:
	case <-ctx.Done():
	}
	// A client that connected and then exited at once (after a failed
	// handshake) may still be in the backlog: look there briefly.
	tl.SetDeadline(time.Now().Add(100 * time.Millisecond))
	if a := <-ch; a.err == nil {
		return a.conn, nil
	}
	select {
	case <-p.exited:
		return nil, fmt.Errorf("%s exited (%v) without connecting", p.command, p.waitErr)
	default:
		return nil, fmt.Errorf("%s did not connect in time: %w", p.command, ctx.Err())
	}
}

// Cell results.
const (
	matrixOK      = "ok"
	matrixFail    = "FAIL"
	matrixNA      = "n/a"
	matrixSkipped = "skipped"
)

type matrixResult struct {
	status string
	note   string // why: a failure's error, the reason for n/a or a skip
}

// matrixTable collects the cells' results as the parallel subtests finish.
type matrixTable struct {
	cases   []matrixRow
	columns []matrixColumn
	mu      sync.Mutex
	cells   map[string]matrixResult // by cellKey
}

func newMatrixTable(cases []matrixRow, columns []matrixColumn) *matrixTable {
	return &matrixTable{cases: cases, columns: columns, cells: make(map[string]matrixResult)}
}

func cellKey(c matrixRow, col matrixColumn) string { return col.name() + "|" + c.name() }

func (m *matrixTable) set(c matrixRow, col matrixColumn, r matrixResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cells[cellKey(c, col)] = r
}

// render draws the table in Markdown: one row per case, one column per
// peer and direction, and numbered notes for every cell that is not "ok".
// Equal notes share a number.
func (m *matrixTable) render(versions map[string]string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("Interop matrix (go test -run TestInteropMatrix). \"X server\": the peer's TLS server against\n")
	b.WriteString("the tlsflow client; \"X client\": the peer's TLS client against the tlsflow server.\n\n")
	var names []string
	for name := range versions {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "- %s: %s\n", name, versions[name])
	}
	b.WriteString("\n| case |")
	for _, col := range m.columns {
		b.WriteString(" " + col.name() + " |")
	}
	b.WriteString("\n|---|")
	for range m.columns {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	noteIDs := map[string]int{}
	var notes []string
	counts := map[string]int{}
	for _, c := range m.cases {
		b.WriteString("| " + c.label() + " |")
		for _, col := range m.columns {
			r, ok := m.cells[cellKey(c, col)]
			if !ok { // filtered out by -run
				counts["not run"]++
				b.WriteString(" — |")
				continue
			}
			counts[r.status]++
			cell := r.status
			if r.note != "" {
				note := r.status + ": " + oneLine(r.note)
				id, seen := noteIDs[note]
				if !seen {
					notes = append(notes, note)
					id = len(notes)
					noteIDs[note] = id
				}
				cell = fmt.Sprintf("%s [%d]", r.status, id)
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%d ok, %d FAIL, %d n/a, %d skipped", counts[matrixOK], counts[matrixFail], counts[matrixNA], counts[matrixSkipped])
	if n := counts["not run"]; n > 0 {
		fmt.Fprintf(&b, ", %d not run (—: filtered out by -run)", n)
	}
	b.WriteString(".\n")
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for i, n := range notes {
			fmt.Fprintf(&b, "%d. %s\n", i+1, n)
		}
	}
	return b.String()
}

// oneLine keeps a note on one table line, and short: a failure's full
// text (with the peer's output) is in the test log.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
