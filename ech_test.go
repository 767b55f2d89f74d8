package tlsflow_test

// Encrypted Client Hello (draft-ietf-tls-esni-25) against Go's crypto/tls,
// which has both an ECH client and an ECH server, in both directions:
// acceptance, acceptance after a HelloRetryRequest, rejection with retry
// configurations and the retry that uses them, and GREASE.

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// echSetup is a client-facing server "public.example" hiding
// "secret.example", its ECH key, and one it does not have.
type echSetup struct {
	ca             *pki.Authority
	secret, public *pki.Leaf
	key, otherKey  tlsflow.EncryptedClientHelloKey
	list           []byte // the ECHConfigList for key
	otherList      []byte // for otherKey: same config_id, another key
}

var (
	echOnce sync.Once
	echEnv  echSetup
)

func echFixture(t testing.TB) *echSetup {
	echOnce.Do(func() {
		e := &echEnv
		e.ca = pki.MustNewCA("ECH test CA", pki.ECDSAP256)
		e.secret = e.ca.MustServer(pki.ECDSAP256, "secret.example")
		e.public = e.ca.MustServer(pki.ECDSAP256, "public.example")
		var err error
		if e.key, err = tlsflow.NewECHConfig(7, "public.example"); err != nil {
			panic(err)
		}
		if e.otherKey, err = tlsflow.NewECHConfig(7, "public.example"); err != nil {
			panic(err)
		}
		e.list = must(tlsflow.MarshalECHConfigList(e.key.Config))
		e.otherList = must(tlsflow.MarshalECHConfigList(e.otherKey.Config))
	})
	return &echEnv
}

func (e *echSetup) goKeys(keys ...tlsflow.EncryptedClientHelloKey) []tls.EncryptedClientHelloKey {
	var out []tls.EncryptedClientHelloKey
	for _, k := range keys {
		out = append(out, tls.EncryptedClientHelloKey{Config: k.Config, PrivateKey: k.PrivateKey, SendAsRetry: k.SendAsRetry})
	}
	return out
}

// echPair runs the handshake of client and server over loopback TCP
// and one byte of application data each way if both succeed.
func echPair(t *testing.T, client, server func(net.Conn) peerConn) (cli, srv peerConn, cliErr, srvErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		raw.SetDeadline(time.Now().Add(20 * time.Second))
		srv = server(raw)
		err = srv.Handshake()
		if err == nil {
			var b [1]byte
			if _, err = srv.Read(b[:]); err == nil {
				_, err = srv.Write(b[:])
			}
		}
		if err != nil {
			raw.Close()
		}
		done <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	cli = client(raw)
	cliErr = cli.Handshake()
	if cliErr == nil {
		var b [1]byte
		if _, cliErr = cli.Write([]byte{'x'}); cliErr == nil {
			_, cliErr = cli.Read(b[:])
		}
	} else {
		raw.Close()
	}
	srvErr = <-done
	return cli, srv, cliErr, srvErr
}

func (e *echSetup) flowServer(keys ...tlsflow.EncryptedClientHelloKey) func(net.Conn) peerConn {
	cfg := &tlsflow.Config{
		Certificates:             []tlsflow.Certificate{flowCert(e.secret), flowCert(e.public)},
		EncryptedClientHelloKeys: keys,
		CurvePreferences:         []tlsflow.CurveID{tlsflow.CurveP256},
	}
	return func(c net.Conn) peerConn { return tlsflow.Server(c, cfg) }
}

func (e *echSetup) goServer(keys ...tlsflow.EncryptedClientHelloKey) func(net.Conn) peerConn {
	cfg := &tls.Config{
		Certificates:             []tls.Certificate{goCert(e.secret), goCert(e.public)},
		EncryptedClientHelloKeys: e.goKeys(keys...),
		CurvePreferences:         []tls.CurveID{tls.CurveP256},
	}
	return func(c net.Conn) peerConn { return tls.Server(c, cfg) }
}

func (e *echSetup) flowClient(list []byte, curves ...tlsflow.CurveID) func(net.Conn) peerConn {
	cfg := &tlsflow.Config{RootCAs: e.ca.Pool, ServerName: "secret.example",
		EncryptedClientHelloConfigList: list, CurvePreferences: curves, NextProtos: []string{"h2", "http/1.1"}}
	return func(c net.Conn) peerConn { return tlsflow.Client(c, cfg) }
}

func (e *echSetup) goClient(list []byte, curves ...tls.CurveID) func(net.Conn) peerConn {
	cfg := &tls.Config{RootCAs: e.ca.Pool, ServerName: "secret.example",
		EncryptedClientHelloConfigList: list, CurvePreferences: curves, NextProtos: []string{"h2", "http/1.1"}}
	return func(c net.Conn) peerConn { return tls.Client(c, cfg) }
}

// echState reads ECHAccepted, ServerName and the leaf of either stack.
func echState(c peerConn) (accepted bool, serverName, leaf string) {
	accepted, serverName, leaf, _ = echStateHRR(c)
	return
}

func echStateHRR(c peerConn) (accepted bool, serverName, leaf string, hrr bool) {
	switch c := c.(type) {
	case *tlsflow.Conn:
		s := c.ConnectionState()
		if len(s.PeerCertificates) > 0 {
			leaf = s.PeerCertificates[0].DNSNames[0]
		}
		return s.ECHAccepted, s.ServerName, leaf, s.HelloRetryRequest
	case *tls.Conn:
		s := c.ConnectionState()
		if len(s.PeerCertificates) > 0 {
			leaf = s.PeerCertificates[0].DNSNames[0]
		}
		return s.ECHAccepted, s.ServerName, leaf, s.HelloRetryRequest
	}
	return false, "", "", false
}

type echPeers struct {
	name           string
	client, server func(e *echSetup, list []byte, hrr bool, keys ...tlsflow.EncryptedClientHelloKey) (func(net.Conn) peerConn, func(net.Conn) peerConn)
}

func echDirections() []echPeers {
	flowCli := func(e *echSetup, list []byte, hrr bool) func(net.Conn) peerConn {
		if hrr {
			return e.flowClient(list, tlsflow.X25519, tlsflow.CurveP256)
		}
		return e.flowClient(list, tlsflow.CurveP256)
	}
	goCli := func(e *echSetup, list []byte, hrr bool) func(net.Conn) peerConn {
		if hrr {
			return e.goClient(list, tls.X25519, tls.CurveP256)
		}
		return e.goClient(list, tls.CurveP256)
	}
	return []echPeers{
		{name: "tlsflow-client/go-server", client: func(e *echSetup, list []byte, hrr bool, keys ...tlsflow.EncryptedClientHelloKey) (func(net.Conn) peerConn, func(net.Conn) peerConn) {
			return flowCli(e, list, hrr), e.goServer(keys...)
		}},
		{name: "go-client/tlsflow-server", client: func(e *echSetup, list []byte, hrr bool, keys ...tlsflow.EncryptedClientHelloKey) (func(net.Conn) peerConn, func(net.Conn) peerConn) {
			return goCli(e, list, hrr), e.flowServer(keys...)
		}},
		{name: "tlsflow-client/tlsflow-server", client: func(e *echSetup, list []byte, hrr bool, keys ...tlsflow.EncryptedClientHelloKey) (func(net.Conn) peerConn, func(net.Conn) peerConn) {
			return flowCli(e, list, hrr), e.flowServer(keys...)
		}},
	}
}

func TestECHAcceptedBothDirections(t *testing.T) {
	e := echFixture(t)
	for _, d := range echDirections() {
		for _, hrr := range []bool{false, true} {
			name := d.name
			if hrr {
				name += "/HelloRetryRequest"
			}
			t.Run(name, func(t *testing.T) {
				client, server := d.client(e, e.list, hrr, e.key)
				cli, srv, cliErr, srvErr := echPair(t, client, server)
				if cliErr != nil || srvErr != nil {
					t.Fatalf("client: %v; server: %v", cliErr, srvErr)
				}
				accepted, _, leaf, sawHRR := echStateHRR(cli)
				if !accepted || leaf != "secret.example" || sawHRR != hrr {
					t.Errorf("client: ECHAccepted %v, server certificate for %q, HelloRetryRequest %v; want true, secret.example, %v", accepted, leaf, sawHRR, hrr)
				}
				accepted, name, _ := echState(srv)
				if !accepted || name != "secret.example" {
					t.Errorf("server: ECHAccepted %v, ServerName %q; want true, secret.example (the inner hello's)", accepted, name)
				}
			})
		}
	}
}

// A client whose configuration the server no longer has: the server
// completes the outer handshake as public.example, the client checks that,
// ends with ech_required, and hands the retry configurations to the
// application; a second connection with them is accepted.
func TestECHRejectedThenRetryBothDirections(t *testing.T) {
	e := echFixture(t)
	for _, d := range echDirections() {
		t.Run(d.name, func(t *testing.T) {
			client, server := d.client(e, e.otherList, false, e.key)
			_, _, cliErr, srvErr := echPair(t, client, server)
			retry := rejectionRetry(t, cliErr)
			if !bytes.Equal(retry, e.list) {
				t.Fatalf("RetryConfigList %x, want the server's list %x", retry, e.list)
			}
			if srvErr == nil {
				t.Errorf("the server's handshake succeeded; want it to end with the client's ech_required")
			}
			client, server = d.client(e, retry, false, e.key)
			cli, _, cliErr, srvErr := echPair(t, client, server)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("retry: client: %v; server: %v", cliErr, srvErr)
			}
			if accepted, _, _ := echState(cli); !accepted {
				t.Errorf("retry: ECH not accepted")
			}
		})
	}
}

// rejectionRetry takes the retry configurations out of either stack's
// rejection error.
func rejectionRetry(t *testing.T, err error) []byte {
	t.Helper()
	var flow *tlsflow.ECHRejectionError
	var gotls *tls.ECHRejectionError
	switch {
	case errors.As(err, &flow):
		return flow.RetryConfigList
	case errors.As(err, &gotls):
		return gotls.RetryConfigList
	}
	t.Fatalf("client error %v, want an ECHRejectionError", err)
	return nil
}

// A server whose certificate is not valid for the public name: the client
// must not take its retry configurations (draft-ietf-tls-esni-25 §6.1.7).
func TestECHRejectionNeedsThePublicNamesCertificate(t *testing.T) {
	e := echFixture(t)
	cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(e.secret)}, EncryptedClientHelloKeys: []tlsflow.EncryptedClientHelloKey{e.key}}
	_, _, cliErr, _ := echPair(t, e.flowClient(e.otherList), func(c net.Conn) peerConn { return tlsflow.Server(c, cfg) })
	var rejection *tlsflow.ECHRejectionError
	var verr *tlsflow.CertificateVerificationError
	if errors.As(cliErr, &rejection) || !errors.As(cliErr, &verr) {
		t.Fatalf("client error %v; want a CertificateVerificationError for public.example, not a rejection", cliErr)
	}
}

// GREASE ECH: to a server without ECH, and to one with ECH keys (which
// tries the fake offer, fails, and sends retry configurations the client
// must check and ignore).
func TestECHGreaseIsIgnored(t *testing.T) {
	e := echFixture(t)
	cfg := &tlsflow.Config{RootCAs: e.ca.Pool, ServerName: "secret.example", EncryptedClientHelloGREASE: true}
	client := func(c net.Conn) peerConn { return tlsflow.Client(c, cfg) }
	for name, server := range map[string]func(net.Conn) peerConn{
		"go-server-without-ECH":   e.goServer(),
		"go-server-with-ECH":      e.goServer(e.key),
		"tlsflow-server-with-ECH": e.flowServer(e.key),
	} {
		t.Run(name, func(t *testing.T) {
			cli, _, cliErr, srvErr := echPair(t, client, server)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client: %v; server: %v", cliErr, srvErr)
			}
			if accepted, _, leaf := echState(cli); accepted || leaf != "secret.example" {
				t.Errorf("ECHAccepted %v, certificate for %q; want false, secret.example", accepted, leaf)
			}
		})
	}
}

// The trace shows both ClientHellos of step 1: the outer one as the
// network sees it (the public name), and the inner one the server reads
// (the real name), on both sides, in English and German.
func TestECHTraceShowsBothClientHellos(t *testing.T) {
	e := echFixture(t)
	for _, lang := range []string{"en", "de"} {
		t.Run(lang, func(t *testing.T) {
			var cliOut, srvOut bytes.Buffer
			cli := &tlsflow.Config{RootCAs: e.ca.Pool, ServerName: "secret.example", EncryptedClientHelloConfigList: e.list,
				Trace: trace.NewRenderer(&cliOut, trace.Options{Lang: lang})}
			srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(e.secret), flowCert(e.public)},
				EncryptedClientHelloKeys: []tlsflow.EncryptedClientHelloKey{e.key}, Trace: trace.NewRenderer(&srvOut, trace.Options{Lang: lang})}
			_, _, cliErr, srvErr := echPair(t, func(c net.Conn) peerConn { return tlsflow.Client(c, cli) },
				func(c net.Conn) peerConn { return tlsflow.Server(c, srv) })
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client: %v; server: %v", cliErr, srvErr)
			}
			for side, out := range map[string]string{"client": cliOut.String(), "server": srvOut.String()} {
				outerAt := strings.Index(out, "public.example")
				innerAt := strings.Index(out, "ClientHelloInner")
				if outerAt < 0 || innerAt < 0 || !strings.Contains(out[innerAt:], "secret.example") ||
					!strings.Contains(out, "config_id 7") {
					t.Errorf("%s trace lacks the outer ClientHello (public.example, config_id 7) or the inner one after it (secret.example):\n%s", side, out)
				}
			}
		})
	}
}

// Malformed configurations are the application's mistake, told before
// anything is sent: a client's ECHConfigList that does not parse, a
// server key whose config does not parse or whose private key is not the
// config's.
func TestECHRefusesMalformedConfiguration(t *testing.T) {
	e := echFixture(t)
	for name, list := range map[string][]byte{
		"empty":            {},
		"length too long":  {0, 9, 0xfe, 0x0d, 0, 1},
		"contents cut":     append([]byte(nil), e.list[:len(e.list)-3]...),
		"trailing garbage": append(append([]byte(nil), e.list...), 1),
	} {
		t.Run("client/"+name, func(t *testing.T) {
			cfg := &tlsflow.Config{RootCAs: e.ca.Pool, ServerName: "secret.example", EncryptedClientHelloConfigList: list}
			_, _, cliErr, _ := echPair(t, func(c net.Conn) peerConn { return tlsflow.Client(c, cfg) }, e.flowServer(e.key))
			if cliErr == nil || !strings.Contains(cliErr.Error(), "EncryptedClientHelloConfigList") {
				t.Errorf("client error %v; want one naming EncryptedClientHelloConfigList", cliErr)
			}
		})
	}
	wrongKey := e.key
	wrongKey.PrivateKey = e.otherKey.PrivateKey
	for name, key := range map[string]tlsflow.EncryptedClientHelloKey{
		"config cut":         {Config: e.key.Config[:10], PrivateKey: e.key.PrivateKey},
		"not the config key": wrongKey,
		"private key short":  {Config: e.key.Config, PrivateKey: e.key.PrivateKey[:5]},
	} {
		t.Run("server/"+name, func(t *testing.T) {
			_, _, _, srvErr := echPair(t, e.flowClient(e.list), e.flowServer(key))
			if srvErr == nil || !strings.Contains(srvErr.Error(), "EncryptedClientHelloKeys[0]") {
				t.Errorf("server error %v; want one naming EncryptedClientHelloKeys[0]", srvErr)
			}
		})
	}
}

// ECH with resumption and 0-RTT: the second connection resumes the first
// one's session inside the inner hello (the outer one carries a GREASE
// pre_shared_key, draft-ietf-tls-esni-25 §6.1.2) and sends early data,
// which the server reads; resumption with crypto/tls's ECH server too.
func TestECHResumptionAndEarlyData(t *testing.T) {
	e := echFixture(t)
	t.Run("tlsflow-server/0-RTT", func(t *testing.T) {
		srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(e.secret), flowCert(e.public)},
			EncryptedClientHelloKeys: []tlsflow.EncryptedClientHelloKey{e.key}, MaxEarlyData: 1024}
		cache := tlsflow.NewLRUClientSessionCache(4)
		for i := 0; i < 2; i++ {
			var early []byte
			cliCfg := &tlsflow.Config{RootCAs: e.ca.Pool, ServerName: "secret.example", EncryptedClientHelloConfigList: e.list, ClientSessionCache: cache}
			cli, srv, cliErr, srvErr := echPair(t, func(c net.Conn) peerConn {
				tc := tlsflow.Client(c, cliCfg)
				if i == 1 {
					if _, err := tc.WriteEarlyData([]byte("early")); err != nil {
						t.Errorf("WriteEarlyData: %v", err)
					}
				}
				return tc
			}, func(c net.Conn) peerConn {
				tc := tlsflow.Server(c, srvCfg)
				buf := make([]byte, 64)
				for {
					n, err := tc.ReadEarlyData(buf)
					early = append(early, buf[:n]...)
					if err != nil {
						break
					}
				}
				return tc
			})
			if cliErr != nil || srvErr != nil {
				t.Fatalf("connection %d: client %v; server %v", i, cliErr, srvErr)
			}
			cs, ss := cli.(*tlsflow.Conn).ConnectionState(), srv.(*tlsflow.Conn).ConnectionState()
			if !cs.ECHAccepted || !ss.ECHAccepted || cs.DidResume != (i == 1) {
				t.Errorf("connection %d: ECH accepted %v/%v, resumed %v", i, cs.ECHAccepted, ss.ECHAccepted, cs.DidResume)
			}
			if i == 1 && (!cs.EarlyDataAccepted || string(early) != "early") {
				t.Errorf("second connection: early data accepted %v, server read %q; want the 5 bytes", cs.EarlyDataAccepted, early)
			}
		}
	})
	t.Run("go-server/resumption", func(t *testing.T) {
		cache := tlsflow.NewLRUClientSessionCache(4)
		server := e.goServer(e.key)
		for i := 0; i < 2; i++ {
			cliCfg := &tlsflow.Config{RootCAs: e.ca.Pool, ServerName: "secret.example", EncryptedClientHelloConfigList: e.list,
				ClientSessionCache: cache, CurvePreferences: []tlsflow.CurveID{tlsflow.CurveP256}}
			cli, _, cliErr, srvErr := echPair(t, func(c net.Conn) peerConn { return tlsflow.Client(c, cliCfg) }, server)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("connection %d: client %v; server %v", i, cliErr, srvErr)
			}
			if cs := cli.(*tlsflow.Conn).ConnectionState(); !cs.ECHAccepted || cs.DidResume != (i == 1) {
				t.Errorf("connection %d: ECH accepted %v, resumed %v", i, cs.ECHAccepted, cs.DidResume)
			}
		}
	})
}
