//go:build unix

package tlsflow_test

// Idle connections: what an established connection costs while nothing
// happens on it, and what holding many of them does to new handshakes.
//
//   BenchmarkIdleConnections/{tlsflow,crypto-tls,plain-tcp}
//     -idle.pairs (2,000) client–server pairs over loopback TCP, both ends
//     in this process. Reports heap-B/pair and stack-B/pair; one op is a
//     one-byte round trip on an idle connection.
//   BenchmarkIdleMany/{tlsflow,crypto-tls,plain-tcp}
//     -idle.many (10,000) pairs held, the client ends in a child process
//     (see below). Reports the heap and stacks of both processes, and the
//     handshake latency p50/p99 of new connections while they are held; one
//     op is one such handshake.
//
// Each end is served as a real server serves it: a goroutine runs the
// handshake, answers one small message each way (so the TLS 1.3 client reads
// its NewSessionTickets) and then stays blocked in Read, with a 16-byte
// buffer, until the peer sends more. Memory is HeapAlloc and StackInuse after
// two runtime.GC() calls, minus the same before the first connection.
// plain-tcp is the same harness without TLS: its per-pair figures are the
// floor (the net.Conn, the goroutines, the harness's own bookkeeping), so
// the TLS stack's own cost is its figure minus plain-tcp's.

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

var (
	idlePairs = flag.Int("idle.pairs", 2000, "client–server pairs BenchmarkIdleConnections holds")
	idleMany  = flag.Int("idle.many", 10000, "client–server pairs BenchmarkIdleMany holds")
)

// idleStacks are the sub-benchmarks of both idle benchmarks.
var idleStacks = []string{"tlsflow", "crypto-tls", "plain-tcp"}

// idlePairStacks adds, for BenchmarkIdleConnections, tlsflow with
// TLS_CHACHA20_POLY1305_SHA256: ChaCha20-Poly1305's state is its 32-byte
// key, where AES-GCM's is an expanded key schedule and a GHASH table, so the
// difference between the two is what the AEAD states cost.
var idlePairStacks = []string{"tlsflow", "tlsflow-chacha20", "crypto-tls", "plain-tcp"}

// idleWantFor is what a stack's idle connections negotiate.
func idleWantFor(stack string) benchWant {
	if stack == "tlsflow-chacha20" {
		w := idleWant
		w.suite = tlsflow.TLS_CHACHA20_POLY1305_SHA256
		return w
	}
	return idleWant
}

// idleWant is what every idle connection negotiates: the first handshake
// case (TLS 1.3, X25519, AES-128-GCM, ECDSA P-256), full handshakes.
var idleWant = benchWant{version: tlsflow.VersionTLS13, suite: tlsflow.TLS_AES_128_GCM_SHA256, group: tlsflow.X25519}

// idleEndpoints returns one stack's client and server. The server issues
// session tickets, as servers do by default; the clients have no session
// cache, so they read the tickets and drop them: every handshake is full.
// cert may be nil for a process that only runs clients.
func idleEndpoints(stack string, roots *x509.CertPool, cert *tlsflow.Certificate) (client, server endpoint) {
	switch stack {
	case "plain-tcp":
		return plainEndpoint, plainEndpoint
	case "tlsflow", "tlsflow-chacha20":
		suites := []uint16{idleWantFor(stack).suite}
		groups := []tlsflow.CurveID{tlsflow.X25519}
		srv := &tlsflow.Config{MinVersion: tlsflow.VersionTLS13, CipherSuites: suites, CurvePreferences: groups}
		if cert != nil {
			srv.Certificates = []tlsflow.Certificate{*cert}
		}
		return tlsflowClient(&tlsflow.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tlsflow.VersionTLS13,
				CipherSuites: suites, CurvePreferences: groups}),
			tlsflowServer(srv)
	default:
		groups := []tls.CurveID{tls.X25519}
		srv := &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: groups}
		if cert != nil {
			srv.Certificates = []tls.Certificate{{Certificate: cert.Certificate, PrivateKey: cert.PrivateKey, Leaf: cert.Leaf}}
		}
		return goClient(&tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS13,
				CurvePreferences: groups}),
			goServer(srv)
	}
}

// plainConn is a TCP connection standing in for a TLS one: no handshake.
type plainConn struct{ net.Conn }

func (plainConn) Handshake() error { return nil }

var plainEndpoint = endpoint{name: "plain TCP", wrap: func(c net.Conn) peerConn { return plainConn{c} }}

// The one small message each way that ends the setup of every pair.
const idleRequest, idleResponse = "ping", "pong"

// idleSet holds idle connection ends and the goroutines blocked on them.
type idleSet struct {
	want    benchWant       // what every connection must negotiate
	raws    []net.Conn      // every raw connection, for close
	clients []peerConn      // the client ends, which ping writes to
	echoes  []chan struct{} // per client end: a byte came back
	wg      sync.WaitGroup
}

// serve starts the goroutine of one server end: the handshake, the first
// request answered, then Read until the connection dies, echoing what comes.
// ready receives the outcome of the setup.
func (s *idleSet) serve(raw net.Conn, server endpoint, ready chan<- error) {
	s.raws = append(s.raws, raw)
	c := server.wrap(raw)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 16)
		err := c.Handshake()
		if err == nil && server.state != nil {
			err = s.want.checkSide("server", c, server.state)
		}
		if err == nil {
			err = readExactly(c, buf, idleRequest, "server")
		}
		if err == nil {
			_, err = c.Write([]byte(idleResponse))
		}
		ready <- err
		if err != nil {
			return
		}
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
}

// readExactly reads len(want) bytes into buf and checks they are want.
func readExactly(c io.Reader, buf []byte, want, who string) error {
	got := buf[:len(want)]
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if string(got) != want {
		return fmt.Errorf("%s read %q, want %q", who, got, want)
	}
	return nil
}

// dial starts the goroutine of one client end: the handshake, the first
// request and its answer (whose Read also takes in the NewSessionTickets),
// then Read until the connection dies, reporting each byte on its echoes.
func (s *idleSet) dial(raw net.Conn, client endpoint, ready chan<- error) {
	s.raws = append(s.raws, raw)
	c := client.wrap(raw)
	echoes := make(chan struct{}, 1)
	s.clients = append(s.clients, c)
	s.echoes = append(s.echoes, echoes)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 16)
		err := c.Handshake()
		if err == nil && client.state != nil {
			err = s.want.checkSide("client", c, client.state)
		}
		if err == nil {
			_, err = c.Write([]byte(idleRequest))
		}
		if err == nil {
			err = readExactly(c, buf, idleResponse, "client")
		}
		ready <- err
		if err != nil {
			return
		}
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			for range n {
				echoes <- struct{}{}
			}
		}
	}()
}

// idleStepTimeout bounds each wait for one connection, so a stuck peer fails
// the benchmark instead of hanging it.
const idleStepTimeout = 20 * time.Second

// awaitReady waits for n setup outcomes on ready.
func awaitReady(ready <-chan error, n int, what string) error {
	timer := time.NewTimer(idleStepTimeout)
	defer timer.Stop()
	for i := 0; i < n; i++ {
		select {
		case err := <-ready:
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		case <-timer.C:
			return fmt.Errorf("%s: no progress for %v (%d of %d ends ready)", what, idleStepTimeout, i, n)
		}
		timer.Reset(idleStepTimeout)
	}
	return nil
}

// ping sends one byte on client end i and waits for its echo.
func (s *idleSet) ping(i int) error {
	if _, err := s.clients[i].Write([]byte{'?'}); err != nil {
		return fmt.Errorf("connection %d: write: %w", i, err)
	}
	select {
	case <-s.echoes[i]:
		return nil
	case <-time.After(idleStepTimeout):
		return fmt.Errorf("connection %d: no echo within %v", i, idleStepTimeout)
	}
}

// alive pings every client end and returns how many answered, with the
// first failure.
func (s *idleSet) alive() (int, error) {
	var first error
	n := 0
	for i := range s.clients {
		if err := s.ping(i); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		n++
	}
	return n, first
}

// close closes every raw connection (no close_notify: the peer is closed
// too) and waits for the goroutines to return.
func (s *idleSet) close() {
	for _, c := range s.raws {
		c.Close()
	}
	s.wg.Wait()
}

// openIdlePairs opens n pairs over loopback TCP, one after the other, both
// ends in this process.
func openIdlePairs(n int, client, server endpoint, want benchWant) (*idleSet, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	s := &idleSet{want: want}
	ready := make(chan error, 2)
	for i := 0; i < n; i++ {
		cRaw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return s, fmt.Errorf("pair %d: %w", i, err)
		}
		sRaw, err := ln.Accept()
		if err != nil {
			cRaw.Close()
			return s, fmt.Errorf("pair %d: %w", i, err)
		}
		s.serve(sRaw, server, ready)
		s.dial(cRaw, client, ready)
		if err := awaitReady(ready, 2, fmt.Sprintf("pair %d", i)); err != nil {
			return s, err
		}
	}
	return s, nil
}

// memInUse collects garbage twice (the second pass frees what the first
// one's finalizers released) and returns the live heap and the goroutine
// stacks.
// prewarmGoroutines makes sure the runtime has n goroutine descriptors to
// reuse. The runtime never frees one: a goroutine that exits leaves its
// descriptor (about 480 bytes) for the next. Without this, whichever stack
// was measured first would pay on its heap for the descriptors of the
// harness's goroutines (two per pair), and the stacks measured after it
// would reuse them for free.
func prewarmGoroutines(n int) {
	base := runtime.NumGoroutine()
	var started, release sync.WaitGroup
	started.Add(n)
	release.Add(1)
	for range n {
		go func() {
			started.Done()
			release.Wait()
		}()
	}
	started.Wait()
	release.Done()
	// The descriptors go back to the free lists as the goroutines exit;
	// give them the moment to.
	for runtime.NumGoroutine() > base {
		runtime.Gosched()
	}
}

func memInUse() (heap, stack int64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc), int64(m.StackInuse)
}

// BenchmarkIdleConnections holds -idle.pairs idle pairs per stack and
// reports heap-B/pair and stack-B/pair, both ends included. One op is a
// one-byte round trip on one of the idle connections, in turn. At the end
// every connection must still answer.
func BenchmarkIdleConnections(b *testing.B) {
	c := sharedCerts()
	cert := flowCert(c.ecdsa)
	for _, stack := range idlePairStacks {
		b.Run(stack, func(b *testing.B) {
			n := *idlePairs
			if n < 1 {
				b.Fatalf("-idle.pairs %d: want at least 1", n)
			}
			client, server := idleEndpoints(stack, c.ca.Pool, &cert)
			heap, stk, set, err := measureIdlePairs(n, client, server, idleWantFor(stack))
			if set != nil {
				defer set.close()
			}
			if err != nil {
				b.Fatalf("%s: %v", stack, err)
			}
			i := 0
			for b.Loop() {
				if err := set.ping(i % n); err != nil {
					b.Fatalf("%s: %v", stack, err)
				}
				i++
			}
			if alive, err := set.alive(); err != nil {
				b.Fatalf("%s: %d of %d idle connections alive at the end: %v", stack, alive, n, err)
			}
			b.ReportMetric(float64(heap)/float64(n), "heap-B/pair")
			b.ReportMetric(float64(stk)/float64(n), "stack-B/pair")
		})
	}
}

// measureIdlePairs opens n idle pairs and returns the heap and stack they
// hold. One pair is opened and closed first, so state each configuration
// makes once (ticket keys, parsed certificates) is not counted per pair.
func measureIdlePairs(n int, client, server endpoint, want benchWant) (heap, stack int64, set *idleSet, err error) {
	warm, err := openIdlePairs(1, client, server, want)
	warm.close()
	if err != nil {
		return 0, 0, nil, fmt.Errorf("warm-up pair: %w", err)
	}
	prewarmGoroutines(2*n + 64)
	heap0, stack0 := memInUse()
	set, err = openIdlePairs(n, client, server, want)
	if err != nil {
		return 0, 0, set, err
	}
	heap1, stack1 := memInUse()
	return heap1 - heap0, stack1 - stack0, set, nil
}

// TestIdleConnectionsStayAlive runs the idle-pair machinery on a few pairs
// per stack under plain `go test`: every pair sets up, negotiates what it
// should, stays alive while idle and answers afterwards.
func TestIdleConnectionsStayAlive(t *testing.T) {
	c := sharedCerts()
	cert := flowCert(c.ecdsa)
	for _, stack := range idlePairStacks {
		t.Run(stack, func(t *testing.T) {
			const n = 8
			client, server := idleEndpoints(stack, c.ca.Pool, &cert)
			heap, _, set, err := measureIdlePairs(n, client, server, idleWantFor(stack))
			if set != nil {
				defer set.close()
			}
			if err != nil {
				t.Fatal(err)
			}
			if stack != "plain-tcp" && heap <= 0 {
				t.Errorf("%d idle TLS pairs hold %d heap bytes, want more than 0", n, heap)
			}
			if alive, err := set.alive(); alive != n || err != nil {
				t.Errorf("%d of %d alive: %v", alive, n, err)
			}
		})
	}
}

// Many idle connections. 10,000 pairs are 20,000 descriptors, and this
// process may open at most RLIMIT_NOFILE (20,000 here, soft and hard, so it
// cannot be raised): the client ends live in a child process, this same
// test binary running TestIdleClientProcess, and only the server ends here.
// That is also the situation being measured: a server holding 10,000 idle
// clients. The child reports its own heap and stacks, which are added.

// The child's environment: "stack n address", and the CA certificate.
const idleChildEnv, idleChildCAEnv = "TLSFLOW_IDLE_CLIENTS", "TLSFLOW_IDLE_CA"

// The child's report lines.
const idleChildReady, idleChildAlive = "idle-clients-ready", "idle-clients-alive"

// idleBaselineHandshakes is how many handshakes BenchmarkIdleMany times
// before any idle connection is held.
const idleBaselineHandshakes = 200

// manyIdle is BenchmarkIdleMany's state for one stack.
type manyIdle struct {
	stack          string
	n              int
	client, server endpoint
	servers        *idleSet
	child          *exec.Cmd
	childIn        io.WriteCloser
	childOut       chan string // the child's stdout, line by line
	childLog       []string    // what it printed, for errors
	lat            net.Listener

	baseline                []time.Duration
	serverHeap, serverStack int64
	clientHeap, clientStack int64
}

// startManyIdle times baseline handshakes, then opens n idle pairs with the
// client ends in a child process, and measures both processes.
func startManyIdle(stack string, n, baseline int) (m *manyIdle, err error) {
	m = &manyIdle{stack: stack, n: n, servers: &idleSet{want: idleWant}}
	if err := checkFDs(n); err != nil {
		return m, err
	}
	c := sharedCerts()
	cert := flowCert(c.ecdsa)
	m.client, m.server = idleEndpoints(stack, c.ca.Pool, &cert)
	if m.lat, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return m, err
	}
	for range baseline {
		d, err := m.handshake()
		if err != nil {
			return m, fmt.Errorf("baseline handshake: %w", err)
		}
		m.baseline = append(m.baseline, d)
	}

	prewarmGoroutines(n + 64) // the server ends' goroutines
	heap0, stack0 := memInUse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return m, err
	}
	defer ln.Close()
	if err := m.startChild(ln.Addr().String(), c.ca.DER); err != nil {
		return m, err
	}
	ready := make(chan error, n)
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(idleStepTimeout))
	for i := 0; i < n; i++ {
		raw, err := ln.Accept()
		if err != nil {
			return m, fmt.Errorf("accepting client %d of %d: %w (child: %s)", i+1, n, err, m.childTail())
		}
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(idleStepTimeout))
		m.servers.serve(raw, m.server, ready)
	}
	if err := awaitReady(ready, n, "server ends"); err != nil {
		return m, err
	}
	line, err := m.childLine(idleChildReady)
	if err != nil {
		return m, err
	}
	if _, err := fmt.Sscanf(line, idleChildReady+" heap=%d stack=%d", &m.clientHeap, &m.clientStack); err != nil {
		return m, fmt.Errorf("child reported %q: %w", line, err)
	}
	heap1, stack1 := memInUse()
	m.serverHeap, m.serverStack = heap1-heap0, stack1-stack0
	return m, nil
}

// checkFDs checks that n connections and some spare fit this process's
// descriptor limit, raising the soft limit to the hard one if needed.
func checkFDs(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	need := uint64(n) + 256
	if lim.Cur >= need {
		return nil
	}
	if lim.Max < need {
		return fmt.Errorf("%d connections need about %d descriptors; RLIMIT_NOFILE allows %d", n, need, lim.Max)
	}
	lim.Cur = lim.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// startChild runs this test binary again as the clients' process.
func (m *manyIdle) startChild(addr string, caDER []byte) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	m.child = exec.Command(exe, "-test.run=^TestIdleClientProcess$", "-test.count=1")
	m.child.Env = append(os.Environ(),
		fmt.Sprintf("%s=%s %d %s", idleChildEnv, m.stack, m.n, addr),
		idleChildCAEnv+"="+base64.StdEncoding.EncodeToString(caDER))
	if m.childIn, err = m.child.StdinPipe(); err != nil {
		return err
	}
	out, err := m.child.StdoutPipe()
	if err != nil {
		return err
	}
	m.child.Stderr = m.child.Stdout // the same pipe: failures show in childTail
	if err := m.child.Start(); err != nil {
		return err
	}
	m.childOut = make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			m.childOut <- sc.Text()
		}
		close(m.childOut)
	}()
	return nil
}

// childLine waits for the child's line that starts with prefix.
func (m *manyIdle) childLine(prefix string) (string, error) {
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case line, ok := <-m.childOut:
			if !ok {
				return "", fmt.Errorf("the client process ended before %q: %s", prefix, m.childTail())
			}
			m.childLog = append(m.childLog, line)
			if strings.HasPrefix(line, prefix) {
				return line, nil
			}
		case <-timeout:
			return "", fmt.Errorf("no %q from the client process: %s", prefix, m.childTail())
		}
	}
}

func (m *manyIdle) childTail() string {
	return strings.Join(m.childLog[max(0, len(m.childLog)-20):], " | ")
}

// handshake times one new connection on its own listener, client and server
// in this process: from the dial until the client has read the server's
// first byte of application data.
func (m *manyIdle) handshake() (time.Duration, error) {
	srvErr := make(chan error, 1)
	go func() {
		raw, err := m.lat.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer raw.Close()
		raw.SetDeadline(time.Now().Add(idleStepTimeout))
		s := m.server.wrap(raw)
		err = s.Handshake()
		if err == nil {
			_, err = s.Write([]byte{0x17})
		}
		if err == nil && m.server.state != nil {
			err = idleWant.checkSide("server", s, m.server.state)
		}
		// Wait for the client to close, so the byte is not lost to a reset.
		if err == nil {
			io.Copy(io.Discard, raw)
		}
		srvErr <- err
	}()
	start := time.Now()
	raw, err := net.Dial("tcp", m.lat.Addr().String())
	if err != nil {
		return 0, err
	}
	raw.SetDeadline(time.Now().Add(idleStepTimeout))
	c := m.client.wrap(raw)
	err = c.Handshake()
	var one [1]byte
	if err == nil {
		_, err = io.ReadFull(c, one[:])
	}
	elapsed := time.Since(start)
	if err == nil && m.client.state != nil {
		err = idleWant.checkSide("client", c, m.client.state)
	}
	raw.Close()
	if serr := <-srvErr; err != nil || serr != nil {
		return 0, fmt.Errorf("client: %v; server: %v", err, serr)
	}
	return elapsed, nil
}

// checkAlive has the child ping every client end through the server ends
// held here.
func (m *manyIdle) checkAlive() error {
	if _, err := io.WriteString(m.childIn, "check\n"); err != nil {
		return err
	}
	line, err := m.childLine(idleChildAlive)
	if err != nil {
		return err
	}
	var alive int
	if _, err := fmt.Sscanf(line, idleChildAlive+" %d", &alive); err != nil || alive != m.n {
		return fmt.Errorf("%d of %d idle connections alive at the end (%q): %s", alive, m.n, line, m.childTail())
	}
	return nil
}

// close ends the child (closing its stdin tells it to exit) and closes the
// server ends.
func (m *manyIdle) close() error {
	var err error
	if m.child != nil && m.child.Process != nil {
		m.childIn.Close()
		done := make(chan error, 1)
		go func() {
			for range m.childOut { // drain, so the child never blocks writing
			}
			done <- m.child.Wait()
		}()
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			m.child.Process.Kill()
			err = fmt.Errorf("the client process did not exit: %v", <-done)
		}
	}
	m.servers.close()
	if m.lat != nil {
		m.lat.Close()
	}
	return err
}

// percentile is the p-quantile (0 < p ≤ 1) of d by the nearest-rank method.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(d))
	return s[min(max(int(math.Ceil(p*float64(len(s))))-1, 0), len(s)-1)]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkIdleMany holds -idle.many idle pairs per stack (server ends here,
// client ends in a child process) and reports the memory of both sides, in
// total and per pair, then times new handshakes while they are held: one op
// is one new connection (dial, handshake, first byte), and p50-ms/p99-ms are
// over all ops. p50-empty-ms/p99-empty-ms are the same before any idle
// connection was opened. At the end every idle connection must answer.
func BenchmarkIdleMany(b *testing.B) {
	for _, stack := range idleStacks {
		b.Run(stack, func(b *testing.B) {
			n := *idleMany
			if n < 1 {
				b.Fatalf("-idle.many %d: want at least 1", n)
			}
			m, err := startManyIdle(stack, n, idleBaselineHandshakes)
			defer func() {
				if err := m.close(); err != nil {
					b.Errorf("%s: %v", stack, err)
				}
			}()
			if err != nil {
				b.Fatalf("%s: %v", stack, err)
			}
			var lat []time.Duration
			for b.Loop() {
				d, err := m.handshake()
				if err != nil {
					b.Fatalf("%s: handshake %d while %d are idle: %v", stack, len(lat)+1, n, err)
				}
				lat = append(lat, d)
			}
			if err := m.checkAlive(); err != nil {
				b.Fatalf("%s: %v", stack, err)
			}
			heap, stk := m.serverHeap+m.clientHeap, m.serverStack+m.clientStack
			b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
			b.ReportMetric(float64(stk)/(1<<20), "stack-MB")
			b.ReportMetric(float64(heap)/float64(n), "heap-B/pair")
			b.ReportMetric(float64(stk)/float64(n), "stack-B/pair")
			b.ReportMetric(millis(percentile(lat, 0.50)), "p50-ms")
			b.ReportMetric(millis(percentile(lat, 0.99)), "p99-ms")
			b.ReportMetric(millis(percentile(m.baseline, 0.50)), "p50-empty-ms")
			b.ReportMetric(millis(percentile(m.baseline, 0.99)), "p99-empty-ms")
		})
	}
}

// TestIdleClientProcess is BenchmarkIdleMany's child process: it dials n
// idle clients to the parent, reports its memory, and pings every client
// when asked. Without the environment variable it is skipped.
func TestIdleClientProcess(t *testing.T) {
	spec := os.Getenv(idleChildEnv)
	if spec == "" {
		t.Skip("only runs as BenchmarkIdleMany's client process")
	}
	f := strings.Fields(spec)
	if len(f) != 3 {
		t.Fatalf("%s=%q: want \"stack n address\"", idleChildEnv, spec)
	}
	stack, addr := f[0], f[2]
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: bad count", idleChildEnv, spec)
	}
	der, err := base64.StdEncoding.DecodeString(os.Getenv(idleChildCAEnv))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if err := checkFDs(n); err != nil {
		t.Fatal(err)
	}
	client, _ := idleEndpoints(stack, roots, nil)

	prewarmGoroutines(n + 64) // the client ends' goroutines
	heap0, stack0 := memInUse()
	set := &idleSet{want: idleWant}
	defer set.close()
	ready := make(chan error, 1)
	for i := 0; i < n; i++ {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("client %d of %d: %v", i+1, n, err)
		}
		set.dial(raw, client, ready)
		if err := awaitReady(ready, 1, fmt.Sprintf("client %d of %d", i+1, n)); err != nil {
			t.Fatal(err)
		}
	}
	heap1, stack1 := memInUse()
	fmt.Printf("%s heap=%d stack=%d\n", idleChildReady, heap1-heap0, stack1-stack0)

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "check" {
			continue
		}
		alive, err := set.alive()
		if err != nil {
			fmt.Printf("first failure: %v\n", err)
		}
		fmt.Printf("%s %d\n", idleChildAlive, alive)
	}
	// Stdin closed: the parent is done.
}

// TestIdleManyWithClientProcess runs BenchmarkIdleMany's machinery with a
// few pairs per stack: the child process connects them all, both sides
// report memory, handshakes complete while they are held, and every pair is
// alive at the end.
func TestIdleManyWithClientProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	for _, stack := range idleStacks {
		t.Run(stack, func(t *testing.T) {
			const n, baseline = 6, 3
			m, err := startManyIdle(stack, n, baseline)
			defer func() {
				if err := m.close(); err != nil {
					t.Error(err)
				}
			}()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if _, err := m.handshake(); err != nil {
					t.Fatalf("handshake %d while %d are idle: %v", i+1, n, err)
				}
			}
			if err := m.checkAlive(); err != nil {
				t.Fatal(err)
			}
			if len(m.baseline) != baseline {
				t.Errorf("%d baseline handshakes, want %d", len(m.baseline), baseline)
			}
			if stack != "plain-tcp" && (m.clientHeap <= 0 || m.serverHeap <= 0) {
				t.Errorf("idle TLS ends hold %d (client process) and %d (server) heap bytes, want more than 0 each",
					m.clientHeap, m.serverHeap)
			}
		})
	}
}
