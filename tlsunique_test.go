package tlsflow_test

import (
	"bytes"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// tlsUniquePair runs one handshake between client and server over loopback TCP and
// returns each side's tls-unique and whether the connection resumed.
func tlsUniquePair(t *testing.T, client, server endpoint) (cli, srv []byte, resumed bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		unique []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer raw.Close()
		raw.SetDeadline(time.Now().Add(10 * time.Second))
		c := server.wrap(raw)
		err = c.Handshake()
		u, _ := tlsUniqueOf(c)
		done <- result{u, err}
		// Let the client read a TLS 1.3 ticket before the connection goes.
		c.Write([]byte{0})
		c.Close()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := client.wrap(raw)
	if err := c.Handshake(); err != nil {
		t.Fatalf("%s: handshake: %v", client.name, err)
	}
	cli, resumed = tlsUniqueOf(c)
	c.Read(make([]byte, 1))
	c.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("%s: handshake: %v", server.name, r.err)
	}
	return cli, r.unique, resumed
}

func tlsUniqueOf(c peerConn) ([]byte, bool) {
	switch c := c.(type) {
	case *tlsflow.Conn:
		s := c.ConnectionState()
		return s.TLSUnique, s.DidResume
	case *tls.Conn:
		s := c.ConnectionState()
		return s.TLSUnique, s.DidResume
	}
	return nil, false
}

// crypto/tls computes tls-unique independently (RFC 5929 §3.1); both ends of
// every TLS 1.2 connection must agree with it, full and resumed, whichever
// side tlsflow plays, and a resumed connection has a value of its own.
func TestTLSUniqueIsTheFirstFinishedOfTLS12(t *testing.T) {
	c := sharedCerts()
	goServerCfg := &tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}, MaxVersion: tls.VersionTLS12}
	goClientCfg := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
		ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	flowServerCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: tlsflow.VersionTLS12}
	flowClientCfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12,
		ClientSessionCache: tlsflow.NewLRUClientSessionCache(4)}
	for _, tc := range []struct {
		name           string
		client, server endpoint
	}{
		{"tlsflow client", tlsflowClient(flowClientCfg), goServer(goServerCfg)},
		{"tlsflow server", goClient(goClientCfg), tlsflowServer(flowServerCfg)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first []byte
			for i, wantResumed := range []bool{false, true} {
				cli, srv, resumed := tlsUniquePair(t, tc.client, tc.server)
				if resumed != wantResumed {
					t.Fatalf("connection %d: resumed %v, want %v", i+1, resumed, wantResumed)
				}
				if len(cli) != 12 || !bytes.Equal(cli, srv) {
					t.Fatalf("connection %d (resumed %v): client tls-unique %x, server %x; want the same 12 bytes",
						i+1, resumed, cli, srv)
				}
				if bytes.Equal(cli, first) {
					t.Fatalf("connection %d: tls-unique %x repeats the first connection's", i+1, cli)
				}
				first = cli
			}
		})
	}
}

// RFC 5929 defines tls-unique for TLS 1.2 and earlier only; TLS 1.3 has the
// exporter (RFC 9266) instead.
func TestTLSUniqueIsNilInTLS13(t *testing.T) {
	c := sharedCerts()
	cli, srv, _ := tlsUniquePair(t,
		tlsflowClient(&tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}),
		tlsflowServer(&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}))
	if cli != nil || srv != nil {
		t.Fatalf("TLS 1.3 tls-unique: client %x, server %x; want nil", cli, srv)
	}
}
