package testpeer

import (
	"net"
	"testing"
	"time"
)

// Loopback returns the two ends of a loopback TCP connection, with a
// deadline timeout from now so that no test hangs, closed when the test
// ends: a hostile peer on one end, tlsflow on the other.
func Loopback(t testing.TB, timeout time.Duration) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b = <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	deadline := time.Now().Add(timeout)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}
