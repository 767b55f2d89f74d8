package tlsflow_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// peerConn is one end of a connection under test, tlsflow's or crypto/tls's.
type peerConn interface {
	net.Conn
	Handshake() error
}

// outcome is what a handshake gave one side, in terms both stacks share.
type outcome struct {
	version     uint16
	suite       uint16
	curve       uint16
	alpn        string
	peerCerts   int
	verified    bool
	err         error
	echoedBytes int
}

// endpoint makes one side of a connection from a raw TCP conn.
type endpoint struct {
	name  string
	wrap  func(net.Conn) peerConn
	state func(peerConn) outcome
}

func tlsflowClient(cfg *tlsflow.Config) endpoint {
	return endpoint{"tlsflow client", func(c net.Conn) peerConn { return tlsflow.Client(c, cfg) }, tlsflowState}
}

func tlsflowServer(cfg *tlsflow.Config) endpoint {
	return endpoint{"tlsflow server", func(c net.Conn) peerConn { return tlsflow.Server(c, cfg) }, tlsflowState}
}

func goClient(cfg *tls.Config) endpoint {
	return endpoint{"crypto/tls client", func(c net.Conn) peerConn { return tls.Client(c, cfg) }, goState}
}

func goServer(cfg *tls.Config) endpoint {
	return endpoint{"crypto/tls server", func(c net.Conn) peerConn { return tls.Server(c, cfg) }, goState}
}

func tlsflowState(c peerConn) outcome {
	s := c.(*tlsflow.Conn).ConnectionState()
	return outcome{version: s.Version, suite: s.CipherSuite, curve: uint16(s.CurveID), alpn: s.NegotiatedProtocol,
		peerCerts: len(s.PeerCertificates), verified: len(s.VerifiedChains) > 0}
}

func goState(c peerConn) outcome {
	s := c.(*tls.Conn).ConnectionState()
	return outcome{version: s.Version, suite: s.CipherSuite, curve: uint16(s.CurveID), alpn: s.NegotiatedProtocol,
		peerCerts: len(s.PeerCertificates), verified: len(s.VerifiedChains) > 0}
}

// echoSizes are the payloads each connection echoes: nothing, one byte, a
// full record, and enough for several records.
var echoSizes = []int{0, 1, 16384, 100000}

// runPair connects client and server over loopback TCP, runs the handshake
// on both and then echoes echoSizes from the client through the server.
func runPair(t testing.TB, client, server endpoint, sizes []int) (cli, srv outcome) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan outcome, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- outcome{err: err}
			return
		}
		defer raw.Close()
		raw.SetDeadline(time.Now().Add(30 * time.Second))
		c := server.wrap(raw)
		if err := c.Handshake(); err != nil {
			done <- outcome{err: err}
			return
		}
		o := server.state(c)
		o.err = echoServe(c, sizes)
		c.Close()
		done <- o
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(30 * time.Second))
	c := client.wrap(raw)
	if err := c.Handshake(); err != nil {
		cli = outcome{err: err}
		raw.Close() // unblock the server if it still waits for us
	} else {
		cli = client.state(c)
		cli.echoedBytes, cli.err = echoClient(c, sizes)
		c.Close()
	}
	return cli, <-done
}

func echoServe(c net.Conn, sizes []int) error {
	buf := make([]byte, 0)
	for _, n := range sizes {
		if n == 0 {
			continue
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			return fmt.Errorf("server reading %d bytes: %w", n, err)
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return fmt.Errorf("server echoing %d bytes: %w", n, err)
		}
	}
	return nil
}

func echoClient(c net.Conn, sizes []int) (int, error) {
	total := 0
	for _, n := range sizes {
		if _, err := c.Write(nil); err != nil {
			return total, fmt.Errorf("client empty write: %w", err)
		}
		if n == 0 {
			continue
		}
		want := make([]byte, n)
		rand.Read(want)
		var wg sync.WaitGroup
		var werr error
		wg.Add(1)
		go func() { defer wg.Done(); _, werr = c.Write(want) }()
		got := make([]byte, n)
		_, rerr := io.ReadFull(c, got)
		wg.Wait()
		if werr != nil {
			return total, fmt.Errorf("client writing %d bytes: %w", n, werr)
		}
		if rerr != nil {
			return total, fmt.Errorf("client reading the %d-byte echo: %w", n, rerr)
		}
		if !bytes.Equal(got, want) {
			return total, fmt.Errorf("the %d-byte echo differs from what was sent", n)
		}
		total += n
	}
	return total, nil
}

// requirePeer skips a test whose external program is missing — except in
// CI (CI=true), where a missing peer is a failure: ./test.sh installs them.
func requirePeer(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; ./test.sh installs it", program)
		}
		t.Skipf("%s is not installed (run ./test.sh to install it)", program)
	}
	return path
}

// pki is the shared set of test certificates.
type testCerts struct {
	ca, otherCA             *pki.Authority
	rsa, ecdsa, ed25519     *pki.Leaf
	client, clientFromOther *pki.Leaf
}

var (
	certsOnce sync.Once
	certs     testCerts
)

func sharedCerts() *testCerts {
	certsOnce.Do(func() {
		certs.ca = pki.MustNewCA("tlsflow test CA", pki.ECDSAP256)
		certs.otherCA = pki.MustNewCA("some other CA", pki.ECDSAP256)
		certs.rsa = certs.ca.MustServer(pki.RSA2048, "localhost", "127.0.0.1")
		certs.ecdsa = certs.ca.MustServer(pki.ECDSAP256, "localhost", "127.0.0.1")
		certs.ed25519 = certs.ca.MustServer(pki.Ed25519, "localhost", "127.0.0.1")
		certs.client = certs.ca.MustClient(pki.ECDSAP256, "test client")
		certs.clientFromOther = certs.otherCA.MustClient(pki.ECDSAP256, "stranger")
	})
	return &certs
}

func flowCert(l *pki.Leaf) tlsflow.Certificate {
	return tlsflow.Certificate{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}
}

func goCert(l *pki.Leaf) tls.Certificate {
	return tls.Certificate{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}
}

var _ = x509.Certificate{}

// must returns what a wire Marshal built, and panics if it failed: the
// messages these tests build always marshal.
func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
