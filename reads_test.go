package tlsflow_test

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// readCountingConn counts the Read calls made on a connection.
type readCountingConn struct {
	net.Conn
	reads atomic.Int64
}

func (c *readCountingConn) Read(b []byte) (int, error) {
	c.reads.Add(1)
	return c.Conn.Read(b)
}

// TestHandshakeReadsEachFlightOnce: during a handshake each side reads a
// flight of the peer in one Read call, the first one included (the record
// reader takes its buffer before the header instead of reading the header
// alone first). Over net.Pipe a Read returns at most one Write, and each
// side writes a flight in one Write, so the counts are exact: TLS 1.3, the
// client reads the server's one flight, the server the ClientHello and the
// client's Finished flight; TLS 1.2 (ECDHE), two flights each way.
func TestHandshakeReadsEachFlightOnce(t *testing.T) {
	c := sharedCerts()
	for _, tc := range []struct {
		name         string
		version      uint16
		client, serv int64
	}{
		{"TLS1.3", tlsflow.VersionTLS13, 1, 2},
		{"TLS1.2", tlsflow.VersionTLS12, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			ca, cb := &readCountingConn{Conn: a}, &readCountingConn{Conn: b}
			cli := tlsflow.Client(ca, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tc.version,
				SessionTicketsDisabled: true})
			srv := tlsflow.Server(cb, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, SessionTicketsDisabled: true})
			done := make(chan error, 1)
			go func() { done <- srv.Handshake() }()
			if err := cli.Handshake(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := ca.reads.Load(); got != tc.client {
				t.Errorf("the client made %d Read calls in the handshake; want %d (one per flight of the server)", got, tc.client)
			}
			if got := cb.reads.Load(); got != tc.serv {
				t.Errorf("the server made %d Read calls in the handshake; want %d (one per flight of the client)", got, tc.serv)
			}
			a.Close() // not cli.Close: a close_notify into net.Pipe waits for a reader
			b.Close()
		})
	}
}
