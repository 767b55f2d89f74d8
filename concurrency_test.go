//go:build !race

// The race detector allows about 8,000 live goroutines, fewer than this
// test needs, so it runs without -race: test.sh runs it separately.

package tlsflow_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// concurrentConns is how many connections TestTenThousandConnections holds at once.
const concurrentConns = 10000

// TestMain lets this test binary also be the client process of
// TestTenThousandConnections: one process cannot hold both ends of 10,000
// connections within a 20,000 file descriptor limit.
func TestMain(m *testing.M) {
	if os.Getenv("TLSFLOW_CHILD") == "clients" {
		os.Exit(runClients())
	}
	os.Exit(m.Run())
}

// runClients opens TLSFLOW_CONNS connections to TLSFLOW_ADDR, echoes one
// byte on each, reports "ready N" when all are open, and closes them all
// when its stdin closes.
func runClients() int {
	n, _ := strconv.Atoi(os.Getenv("TLSFLOW_CONNS"))
	pool := x509.NewCertPool()
	block, _ := pem.Decode([]byte(os.Getenv("TLSFLOW_CA")))
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		fmt.Println("bad CA:", err)
		return 1
	}
	pool.AddCert(ca)
	cfg := &tlsflow.Config{RootCAs: pool, ServerName: "localhost", CurvePreferences: []tlsflow.CurveID{tlsflow.X25519}}
	conns := make([]*tlsflow.Conn, n)
	var failed atomic.Int32
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			d := &tlsflow.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 30 * time.Second}}
			c, err := d.DialContext(context.Background(), "tcp", os.Getenv("TLSFLOW_ADDR"))
			if err != nil {
				if failed.Add(1) == 1 {
					fmt.Println("dial:", err)
				}
				return
			}
			conn := c.(*tlsflow.Conn)
			// The echo lands in its own buffer, primed with another value,
			// so a read that fails or returns the wrong byte shows.
			sent, echoed := []byte{byte(i)}, []byte{^byte(i)}
			_, err = conn.Write(sent)
			if err == nil {
				_, err = io.ReadFull(conn, echoed)
			}
			if err != nil || echoed[0] != sent[0] {
				if failed.Add(1) == 1 {
					fmt.Printf("echo on connection %d: sent %d, got %d, error %v\n", i, sent[0], echoed[0], err)
				}
			}
			conns[i] = conn
		}(i)
	}
	wg.Wait()
	fmt.Printf("ready %d failed %d\n", n-int(failed.Load()), failed.Load())
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return 0
}

// TestTenThousandConnections: 10,000 concurrent TLS 1.3 connections on
// loopback all complete their handshake and echo, and once they are closed
// no goroutine and no file descriptor of the server is left behind.
func TestTenThousandConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	c := sharedCerts()
	goroutinesBefore := runtime.NumGoroutine()
	fdsBefore := openFDs(t)

	srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, SessionTicketsDisabled: true}
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	var echoed atomic.Int32
	var serving sync.WaitGroup
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			serving.Add(1)
			go func() {
				defer serving.Done()
				defer conn.Close()
				b := make([]byte, 1)
				if _, err := io.ReadFull(conn, b); err != nil {
					return
				}
				if _, err := conn.Write(b); err != nil {
					return
				}
				echoed.Add(1)
				io.Copy(io.Discard, conn) // hold the connection until the client closes it
			}()
		}
	}()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "TLSFLOW_CHILD=clients", "TLSFLOW_ADDR="+ln.Addr().String(),
		"TLSFLOW_CONNS="+strconv.Itoa(concurrentConns), "TLSFLOW_CA="+string(c.ca.CertPEM()))
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	report := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		report <- strings.TrimSpace(line)
		io.Copy(io.Discard, stdout)
	}()
	var line string
	select {
	case line = <-report:
	case <-time.After(4 * time.Minute):
		child.Process.Kill()
		t.Fatalf("the clients did not finish in 4 minutes (%d echoed)", echoed.Load())
	}
	want := fmt.Sprintf("ready %d failed 0", concurrentConns)
	if line != want {
		t.Errorf("clients report %q; want %q", line, want)
	}
	// A client can read its echo a moment before the server's Write
	// returns and counts it.
	for wait := time.Now().Add(5 * time.Second); echoed.Load() < concurrentConns && time.Now().Before(wait); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := echoed.Load(); got != concurrentConns {
		t.Errorf("the server echoed on %d connections; want %d", got, concurrentConns)
	}
	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Errorf("client process: %v", err)
	}
	ln.Close()
	serving.Wait()

	// Nothing may be left: poll briefly, runtime goroutines settle late.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutinesBefore+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutinesBefore+2 {
		t.Errorf("%d goroutines after the test, %d before: leaked", g, goroutinesBefore)
	}
	if fds := openFDs(t); fds > fdsBefore+2 {
		t.Errorf("%d open file descriptors after the test, %d before: leaked", fds, fdsBefore)
	}
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting file descriptors: %v", err)
	}
	return len(entries)
}
