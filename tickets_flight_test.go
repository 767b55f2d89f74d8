package tlsflow_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// A TLS 1.3 server's tickets and its handshake never wait for a client
// that does not read (issue 11): over net.Pipe, where a write blocks until
// the other end reads, a client that stops after its Handshake must not
// hold the server's.

// countingConn counts the Write calls on a connection.
type countingConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestTicketsGoWithTheServerFlight: without client authentication the
// tickets go out with the server's first flight, in the same write (RFC
// 8446 §4.6.1 lets the server compute the client's Finished): the server
// writes once in the whole handshake, and the client, which never reads
// after its Handshake, still has its ticket (it read the whole flight).
func TestTicketsGoWithTheServerFlight(t *testing.T) {
	c := sharedCerts()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	counted := &countingConn{Conn: b}
	cache := tlsflow.NewLRUClientSessionCache(1)
	srvDone := make(chan error, 1)
	go func() {
		srvDone <- tlsflow.Server(counted, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}).Handshake()
	}()
	cli := tlsflow.Client(a, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: cache})
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srvDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server's Handshake waits for a client that does not read")
	}
	if n := counted.writes.Load(); n != 1 {
		t.Errorf("the server wrote %d times during the handshake; want 1 (its flight, tickets included)", n)
	}
}

// TestTicketsAfterClientAuthDoNotBlockTheHandshake: with client
// authentication the tickets carry the client's chain and wait for its
// Finished; the server's Handshake returns all the same when the client
// never reads, and the tickets reach a client that does.
func TestTicketsAfterClientAuthDoNotBlockTheHandshake(t *testing.T) {
	c := sharedCerts()
	srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)},
		ClientAuth: tlsflow.RequireAndVerifyClientCert, ClientCAs: c.ca.Pool}
	cliCfg := func(cache tlsflow.ClientSessionCache) *tlsflow.Config {
		return &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: cache,
			Certificates: []tlsflow.Certificate{flowCert(c.client)}}
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srvDone := make(chan error, 1)
	go func() { srvDone <- tlsflow.Server(b, srvCfg).Handshake() }()
	if err := tlsflow.Client(a, cliCfg(nil)).Handshake(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srvDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server's Handshake waits for a client that does not read its tickets")
	}

	// A client that reads gets them, and resumes.
	cache := tlsflow.NewLRUClientSessionCache(1)
	for i, wantResumed := range []bool{false, true} {
		cli, srv := flowPair(t, cliCfg(cache), srvCfg)
		go srv.Write([]byte{1})
		if _, err := cli.Read(make([]byte, 1)); err != nil { // the tickets come before the byte
			t.Fatal(err)
		}
		if got := cli.ConnectionState().DidResume; got != wantResumed {
			t.Fatalf("connection %d: resumed %v; want %v", i, got, wantResumed)
		}
	}
}
