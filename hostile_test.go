package tlsflow_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// flowPair returns a connected, handshaken tlsflow client and server over loopback TCP.
func flowPair(t *testing.T, cli, srv *tlsflow.Config) (*tlsflow.Conn, *tlsflow.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *tlsflow.Conn, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		s := tlsflow.Server(raw, srv)
		s.Handshake()
		accepted <- s
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tlsflow.Client(raw, cli)
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	return c, s
}

// TestEndlessKeyUpdatesAreRefused: a peer that sends KeyUpdate after
// KeyUpdate with no data between burns our CPU for nothing; after a bounded
// number the connection ends with unexpected_message.
func TestEndlessKeyUpdatesAreRefused(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	go func() {
		for i := 0; i < 40; i++ {
			if cli.KeyUpdate(false) != nil {
				return
			}
		}
		cli.Write([]byte("x"))
	}()
	_, err := io.ReadFull(srv, make([]byte, 1))
	var ae *tlsflow.AlertError
	if !errors.As(err, &ae) || ae.Alert.String() != "unexpected_message" {
		t.Fatalf("server read error = %v; want unexpected_message after too many KeyUpdates", err)
	}
}

// TestKeyUpdatesWithDataBetweenAreFine: the bound counts KeyUpdates without
// application data between them, not KeyUpdates in all.
func TestKeyUpdatesWithDataBetweenAreFine(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < 100; i++ {
			if err := cli.KeyUpdate(false); err != nil {
				errc <- err
				return
			}
			if _, err := cli.Write([]byte{byte(i)}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	buf := make([]byte, 100)
	if _, err := io.ReadFull(srv, buf); err != nil {
		t.Fatalf("server read: %v", err)
	}
	for i, b := range buf {
		if b != byte(i) {
			t.Fatalf("byte %d = %d; data corrupted across key updates", i, b)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
