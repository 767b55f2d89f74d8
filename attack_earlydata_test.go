package tlsflow_test

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// Attacks on 0-RTT (RFC 8446 §4.2.10, §8) from the hostile client: a
// copy of a first flight sent again, more early data than the ticket
// allows, early data after a HelloRetryRequest, under another ALPN
// protocol, or from a ClientHello that is not fresh. In each, the server
// application must not get a byte of early data it should not read.

// earlyServerConfig is a tlsflow server whose tickets allow 1 KiB of
// 0-RTT, tracing its notes into notes.
func earlyServerConfig(notes *traceNotes) *tlsflow.Config {
	cfg := tlsflowServerConfig(0)
	cfg.MaxEarlyData = 1024
	cfg.NextProtos = []string{"h2", "http/1.1"}
	cfg.Trace = notes.hook
	return cfg
}

// traceNotes collects the trace's notes.
type traceNotes struct {
	mu    sync.Mutex
	notes []string
}

func (n *traceNotes) hook(e trace.Event) {
	if e.Kind != trace.KindNote {
		return
	}
	line := e.Message
	for _, f := range e.Fields {
		line += " " + f.Name + "=" + f.Value
	}
	n.mu.Lock()
	n.notes = append(n.notes, line)
	n.mu.Unlock()
}

func (n *traceNotes) has(substr string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.notes {
		if strings.Contains(l, substr) {
			return true
		}
	}
	return false
}

// readEarlyVictim reads the early data into got, then completes the
// handshake and writes, so that the hostile client can finish.
func readEarlyVictim(got *[]byte) victimRun {
	return func(c *tlsflow.Conn) error {
		buf := make([]byte, 4096)
		for {
			n, err := c.ReadEarlyData(buf)
			*got = append(*got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		return handshakeAndWrite(c)
	}
}

// earlyTicket gets a ticket of cfg's server with a testpeer handshake
// that offered alpn.
func earlyTicket(t *testing.T, cfg *tlsflow.Config, alpn string) testpeer.Ticket13 {
	t.Helper()
	p, done := hostileClient(t, cfg, handshakeAndWrite)
	o := &testpeer.ClientOptions{ServerName: "localhost"}
	o.Mutate = testpeer.MutateType(func(ch *wire.ClientHello) {
		testpeer.SetExtension(ch, wire.ExtALPN, &wire.ALPN{alpn})
	})
	err := p.ClientHandshake13(o)
	if err == nil {
		_, err = p.ReadApplicationData()
	}
	if verr := victimErr(t, done); err != nil || verr != nil || len(p.Tickets13) == 0 {
		t.Fatalf("getting a ticket: %v (server: %v)", err, verr)
	}
	return p.Tickets13[0]
}

// earlyOptions offer ticket with early data records, under alpn.
func earlyOptions(ticket testpeer.Ticket13, alpn string, records ...[]byte) *testpeer.ClientOptions {
	o := &testpeer.ClientOptions{ServerName: "localhost", PSK: ticket.Offer(), EarlyData: records, EarlySuite: ticket.Suite}
	o.Mutate = testpeer.MutateType(func(ch *wire.ClientHello) {
		testpeer.SetExtension(ch, wire.ExtALPN, &wire.ALPN{alpn})
	})
	return o
}

// TestEarlyDataFromTheHostileClientIsRead is the control for the attacks
// below: the testpeer client's 0-RTT, done right, is read.
func TestEarlyDataFromTheHostileClientIsRead(t *testing.T) {
	notes := new(traceNotes)
	cfg := earlyServerConfig(notes)
	ticket := earlyTicket(t, cfg, "http/1.1")
	var got []byte
	p, done := hostileClient(t, cfg, readEarlyVictim(&got))
	err := p.ClientHandshake13(earlyOptions(ticket, "http/1.1", []byte("GET / ")))
	if err == nil {
		_, err = p.ReadApplicationData()
	}
	if verr := victimErr(t, done); err != nil || verr != nil {
		t.Fatalf("client %v, server %v", err, verr)
	}
	if !p.EarlyDataAccepted || string(got) != "GET / " {
		t.Fatalf("accepted %v, the server read %q", p.EarlyDataAccepted, got)
	}
}

// recordingConn keeps what is written before the first read: a client's
// first flight.
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	read   bool
	flight []byte
}

func (c *recordingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if !c.read {
		c.flight = append(c.flight, b...)
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *recordingConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	c.read = true
	c.mu.Unlock()
	return c.Conn.Read(b)
}

// TestReplayedEarlyDataIsNotReadTwice: an attacker copies a client's
// first flight (ClientHello and early data), whose early data the server
// read, and sends it again on a new connection. The binder is in the
// server's replay memory: the copy's early data is not read (RFC 8446
// §8.2), and the handshake, which the attacker cannot finish, fails.
func TestReplayedEarlyDataIsNotReadTwice(t *testing.T) {
	notes := new(traceNotes)
	cfg := earlyServerConfig(notes)
	ticket := earlyTicket(t, cfg, "http/1.1")

	a, b := testpeer.Loopback(t, attackTimeout)
	rec := &recordingConn{Conn: a}
	var first []byte
	done := runVictim(tlsflow.Server(b, cfg), readEarlyVictim(&first))
	p := testpeer.New(rec, testpeer.Client)
	err := p.ClientHandshake13(earlyOptions(ticket, "http/1.1", []byte("POST /pay")))
	if err == nil {
		_, err = p.ReadApplicationData()
	}
	if verr := victimErr(t, done); err != nil || verr != nil || string(first) != "POST /pay" {
		t.Fatalf("original: client %v, server %v, read %q", err, verr, first)
	}

	a2, b2 := testpeer.Loopback(t, attackTimeout)
	var second []byte
	done = runVictim(tlsflow.Server(b2, cfg), readEarlyVictim(&second))
	if _, err := a2.Write(rec.flight); err != nil {
		t.Fatal(err)
	}
	if cw, ok := a2.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite() // the attacker has nothing more to send
	}
	verr := victimErr(t, done)
	a2.Close()
	if len(second) != 0 {
		t.Fatalf("the server read %q from the copy", second)
	}
	if verr == nil {
		t.Fatal("the copy's handshake completed")
	}
	if !notes.has("early data rejected reason=this ClientHello was seen before") {
		t.Errorf("no note that the copy was refused as a replay; notes: %q", notes.notes)
	}
}

// TestEarlyDataOverTheTicketsLimitIsUnexpectedMessage: 1,600 bytes of
// early data where the ticket allows 1,024 end the handshake with
// unexpected_message (RFC 8446 §4.2.10), and the application is not
// handed the excess.
func TestEarlyDataOverTheTicketsLimitIsUnexpectedMessage(t *testing.T) {
	cfg := earlyServerConfig(new(traceNotes))
	ticket := earlyTicket(t, cfg, "http/1.1")
	var got []byte
	p, done := hostileClient(t, cfg, readEarlyVictim(&got))
	big := bytes.Repeat([]byte{'x'}, 800)
	_ = p.ClientHandshake13(earlyOptions(ticket, "http/1.1", big, big))
	wantVictimAlert(t, "server", done, sent(alert.UnexpectedMessage, 1, "early data", "max_early_data_size"))
	if len(got) > 1024 {
		t.Fatalf("the application was handed %d bytes of early data", len(got))
	}
}

// wantResumedWithoutEarlyData runs the hostile client with o against cfg's
// server and checks the handshake completed, resumed, with none of the
// early data read; it returns the peer for more checks.
func wantResumedWithoutEarlyData(t *testing.T, cfg *tlsflow.Config, o *testpeer.ClientOptions) *testpeer.Peer {
	t.Helper()
	var got []byte
	p, done := hostileClient(t, cfg, readEarlyVictim(&got))
	err := p.ClientHandshake13(o)
	if err == nil {
		_, err = p.ReadApplicationData()
	}
	if verr := victimErr(t, done); err != nil || verr != nil {
		t.Fatalf("client %v, server %v; want a completed handshake without early data", err, verr)
	}
	if !p.DidResume || p.EarlyDataAccepted || len(got) != 0 {
		t.Fatalf("resumed %v, accepted %v, the server read %q", p.DidResume, p.EarlyDataAccepted, got)
	}
	return p
}

// TestEarlyDataAfterHelloRetryRequestIsNotRead: a client that sends early
// data and gets a HelloRetryRequest has lost it (RFC 8446 §4.1.2, §4.2.10):
// the server skips those records, resumes the session with the second
// ClientHello, and reads none of it.
func TestEarlyDataAfterHelloRetryRequestIsNotRead(t *testing.T) {
	cfg := earlyServerConfig(new(traceNotes))
	ticket := earlyTicket(t, cfg, "http/1.1")
	o := retryOptions()
	o.PSK, o.EarlyData, o.EarlySuite = ticket.Offer(), [][]byte{[]byte("GET /lost")}, ticket.Suite
	if p := wantResumedWithoutEarlyData(t, cfg, o); p.HelloRetry == nil {
		t.Fatal("no HelloRetryRequest")
	}
}

// TestEarlyDataUnderAnotherALPNIsNotRead: a ticket from an http/1.1
// connection, offered with early data for h2, which the server selects:
// the early data was meant for another protocol and is not read (RFC 8446
// §4.2.10); the handshake goes on in 1-RTT.
func TestEarlyDataUnderAnotherALPNIsNotRead(t *testing.T) {
	notes := new(traceNotes)
	cfg := earlyServerConfig(notes)
	ticket := earlyTicket(t, cfg, "http/1.1")
	wantResumedWithoutEarlyData(t, cfg, earlyOptions(ticket, "h2", []byte("PRI * HTTP/2.0")))
	if !notes.has("the ALPN protocol differs from the ticket's") {
		t.Errorf("no note on the ALPN protocol; notes: %q", notes.notes)
	}
}

// TestEarlyDataOfAStaleClientHelloIsNotRead: a ClientHello whose ticket
// age is a minute behind the server's clock (made long ago and held back)
// fails the freshness check (RFC 8446 §8.3): resumed, but no early data.
func TestEarlyDataOfAStaleClientHelloIsNotRead(t *testing.T) {
	notes := new(traceNotes)
	cfg := earlyServerConfig(notes)
	ticket := earlyTicket(t, cfg, "http/1.1")
	o := earlyOptions(ticket, "http/1.1", []byte("GET /old"))
	o.PSK.ObfuscatedTicketAge -= 60_000 // claims to have been sent a minute ago
	wantResumedWithoutEarlyData(t, cfg, o)
	if !notes.has("the ClientHello is not fresh") {
		t.Errorf("no note on freshness; notes: %q", notes.notes)
	}
}

// TestTrickledEarlyDataIsBoundedByTheHandshakeTimeout: a client that
// sends its early data a byte at a time, slowly, cannot hold the server
// past Config.HandshakeTimeout, which counts from the handshake's start
// across ReadEarlyData's pauses (each of which alone is short).
func TestTrickledEarlyDataIsBoundedByTheHandshakeTimeout(t *testing.T) {
	cfg := earlyServerConfig(new(traceNotes))
	ticket := earlyTicket(t, cfg, "http/1.1")
	slow := cfg.Clone()
	slow.HandshakeTimeout = 500 * time.Millisecond
	var got []byte
	p, done := hostileClient(t, slow, readEarlyVictim(&got))
	o := earlyOptions(ticket, "http/1.1")
	for range 20 {
		o.EarlyData = append(o.EarlyData, []byte("x"))
	}
	o.EarlyDataPace = 100 * time.Millisecond // 2 s in all, each gap far below the timeout
	start := time.Now()
	go p.ClientHandshake13(o)
	verr := victimErr(t, done)
	if elapsed := time.Since(start); verr == nil || elapsed > 1500*time.Millisecond {
		t.Fatalf("the server ended after %v with %v; want a timeout near 500ms", elapsed, verr)
	}
	if !strings.Contains(verr.Error(), "timed out") {
		t.Errorf("the server's error %q does not say it timed out", verr)
	}
}

// TestClientRefusesATLS12ServerAfterEarlyData: a client sent 0-RTT data
// under a session of a TLS 1.3 server; the server (or a man in the
// middle) answers with a TLS 1.2 ServerHello. RFC 8446 Appendix D.3: the
// client "MUST fail a connection" then; it says protocol_version, and its
// advice is not to widen the version range.
func TestClientRefusesATLS12ServerAfterEarlyData(t *testing.T) {
	cli, srv := earlyConfigs()
	earlyRound(t, cli, srv, "GET /a", "")
	c := sharedCerts()
	p, done := hostileServer(t, cli, func(conn *tlsflow.Conn) error {
		if _, err := conn.WriteEarlyData([]byte("GET /b")); err != nil {
			return err
		}
		return conn.Handshake()
	})
	_ = p.ServerHandshake12(&testpeer.ServerOptions{Chain: c.ecdsa.Chain, Signer: c.ecdsa.Key})
	ae := wantVictimAlert(t, "client", done, sent(alert.ProtocolVersion, 2, "ServerHello", "0-RTT", "Appendix D.3"))
	if ae != nil && (strings.Contains(ae.Hint, "widen") || !strings.Contains(ae.Hint, "without early data")) {
		t.Errorf("the advice %q does not fit", ae.Hint)
	}
}
