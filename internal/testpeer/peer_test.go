package testpeer_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
)

// These tests show the peer is right: against real tlsflow (and
// crypto/tls) endpoints, every flow completes and data goes both ways.

var (
	ca       = pki.MustNewCA("testpeer CA", pki.ECDSAP256)
	ecdsaSrv = ca.MustServer(pki.ECDSAP256, "localhost")
	rsaSrv   = ca.MustServer(pki.RSA2048, "localhost")
	client   = ca.MustClient(pki.ECDSAP256, "testpeer client")
)

func flowCert(l *pki.Leaf) tlsflow.Certificate {
	return tlsflow.Certificate{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}
}

// echoServer runs a tlsflow server on conn that echoes what it reads
// until EOF; the channel gets its handshake error and the server.
type served struct {
	conn *tlsflow.Conn
	err  error
}

func echoServer(conn net.Conn, cfg *tlsflow.Config) <-chan served {
	done := make(chan served, 1)
	go func() {
		s := tlsflow.Server(conn, cfg)
		err := s.Handshake()
		if err == nil {
			io.Copy(s, s)
		}
		done <- served{s, err}
	}()
	return done
}

func serverConfig(leaf *pki.Leaf) *tlsflow.Config {
	return &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(leaf)}}
}

func ping(t *testing.T, p *testpeer.Peer) {
	t.Helper()
	if err := p.WriteApplicationData([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got, err := p.ReadFull(4)
	if err != nil || string(got) != "ping" {
		t.Fatalf("echo = %q, %v; want ping", got, err)
	}
}

func TestClient12CompletesAgainstTlsflowServer(t *testing.T) {
	for _, leaf := range []*pki.Leaf{ecdsaSrv, rsaSrv} {
		a, b := testpeer.Loopback(t, 10*time.Second)
		done := echoServer(b, serverConfig(leaf))
		p := testpeer.New(a, testpeer.Client)
		if err := p.ClientHandshake12(&testpeer.ClientOptions{ServerName: "localhost"}); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		ping(t, p)
		if !p.ExtendedMaster || p.Ticket12 == nil || len(p.Ticket12.Ticket) == 0 {
			t.Errorf("EMS %v, ticket %v: want both", p.ExtendedMaster, p.Ticket12)
		}
		a.Close()
		if s := <-done; s.err != nil {
			t.Fatal(s.err)
		}
	}
}

func TestClient12ResumesWithTicketAndSessionID(t *testing.T) {
	cfg := serverConfig(ecdsaSrv)
	for _, byTicket := range []bool{true, false} {
		a, b := testpeer.Loopback(t, 10*time.Second)
		done := echoServer(b, cfg)
		p := testpeer.New(a, testpeer.Client)
		o := &testpeer.ClientOptions{ServerName: "localhost", NoTicketRequest: !byTicket}
		if err := p.ClientHandshake12(o); err != nil {
			t.Fatalf("first handshake: %v", err)
		}
		sess := p.Session12()
		a.Close()
		<-done

		a, b = testpeer.Loopback(t, 10*time.Second)
		done = echoServer(b, cfg)
		p = testpeer.New(a, testpeer.Client)
		o.Resume12 = sess
		if err := p.ClientHandshake12(o); err != nil {
			t.Fatalf("resumption (ticket %v): %v", byTicket, err)
		}
		ping(t, p)
		if !p.DidResume {
			t.Errorf("ticket %v: not resumed", byTicket)
		}
		a.Close()
		if s := <-done; s.err != nil || !s.conn.ConnectionState().DidResume {
			t.Fatalf("server: %v, resumed %v", s.err, s.conn.ConnectionState().DidResume)
		}
	}
}

func TestClient12RSAKeyExchange(t *testing.T) {
	a, b := testpeer.Loopback(t, 10*time.Second)
	cfg := serverConfig(rsaSrv)
	cfg.CipherSuites = []uint16{suites.TLS_RSA_WITH_AES_128_GCM_SHA256}
	done := echoServer(b, cfg)
	p := testpeer.New(a, testpeer.Client)
	if err := p.ClientHandshake12(&testpeer.ClientOptions{CipherSuites: cfg.CipherSuites}); err != nil {
		t.Fatal(err)
	}
	ping(t, p)
	a.Close()
	if s := <-done; s.err != nil {
		t.Fatal(s.err)
	}
}

func TestClientsAuthenticateWithACertificate(t *testing.T) {
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		a, b := testpeer.Loopback(t, 10*time.Second)
		cfg := serverConfig(ecdsaSrv)
		cfg.ClientAuth, cfg.ClientCAs = tlsflow.RequireAndVerifyClientCert, ca.Pool
		done := echoServer(b, cfg)
		p := testpeer.New(a, testpeer.Client)
		o := &testpeer.ClientOptions{Chain: client.Chain, Signer: client.Key}
		var err error
		if v == tlsflow.VersionTLS12 {
			err = p.ClientHandshake12(o)
		} else {
			err = p.ClientHandshake13(o)
		}
		if err != nil {
			t.Fatalf("%x: %v", v, err)
		}
		ping(t, p)
		a.Close()
		if s := <-done; s.err != nil || len(s.conn.ConnectionState().VerifiedChains) == 0 {
			t.Fatalf("%x: server: %v", v, s.err)
		}
	}
}

func TestClient13FullRetryAndResumption(t *testing.T) {
	cfg := serverConfig(ecdsaSrv)
	a, b := testpeer.Loopback(t, 10*time.Second)
	done := echoServer(b, cfg)
	p := testpeer.New(a, testpeer.Client)
	// No key share: the server must ask again (RFC 8446 §4.1.4).
	if err := p.ClientHandshake13(&testpeer.ClientOptions{ServerName: "localhost", KeyShares: []uint16{}}); err != nil {
		t.Fatal(err)
	}
	if p.HelloRetry == nil {
		t.Error("no HelloRetryRequest")
	}
	ping(t, p)
	if len(p.Tickets13) == 0 {
		t.Fatal("no ticket")
	}
	ticket := p.Tickets13[0]
	a.Close()
	<-done

	for _, retry := range []bool{false, true} {
		a, b = testpeer.Loopback(t, 10*time.Second)
		done = echoServer(b, cfg)
		p = testpeer.New(a, testpeer.Client)
		o := &testpeer.ClientOptions{ServerName: "localhost", PSK: ticket.Offer()}
		if retry {
			o.KeyShares = []uint16{}
		}
		if err := p.ClientHandshake13(o); err != nil {
			t.Fatalf("resumption (retry %v): %v", retry, err)
		}
		ping(t, p)
		if !p.DidResume || (p.HelloRetry != nil) != retry {
			t.Errorf("retry %v: resumed %v, HelloRetryRequest %v", retry, p.DidResume, p.HelloRetry != nil)
		}
		a.Close()
		if s := <-done; s.err != nil || !s.conn.ConnectionState().DidResume {
			t.Fatalf("server: %v", s.err)
		}
	}
}

func TestClient13KeyUpdate(t *testing.T) {
	a, b := testpeer.Loopback(t, 10*time.Second)
	done := echoServer(b, serverConfig(ecdsaSrv))
	p := testpeer.New(a, testpeer.Client)
	if err := p.ClientHandshake13(nil); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := p.KeyUpdate(true); err != nil {
			t.Fatal(err)
		}
		ping(t, p)
	}
	a.Close()
	<-done
}

// dialed runs a client handshake over conn in the background and then
// echoes one message back through it.
func dialed(conn net.Conn, hs func(net.Conn) (io.ReadWriter, error)) <-chan error {
	done := make(chan error, 1)
	go func() {
		c, err := hs(conn)
		if err == nil {
			buf := make([]byte, 4)
			if _, err = io.ReadFull(c, buf); err == nil {
				_, err = c.Write(buf)
			}
			if err == nil {
				_, err = c.Read(buf) // for the close or a ticket
				if err == io.EOF {
					err = nil
				}
			}
		}
		done <- err
	}()
	return done
}

func tlsflowClient(cfg *tlsflow.Config) func(net.Conn) (io.ReadWriter, error) {
	return func(conn net.Conn) (io.ReadWriter, error) {
		c := tlsflow.Client(conn, cfg)
		return c, c.Handshake()
	}
}

func goClient(cfg *tls.Config) func(net.Conn) (io.ReadWriter, error) {
	return func(conn net.Conn) (io.ReadWriter, error) {
		c := tls.Client(conn, cfg)
		return c, c.Handshake()
	}
}

func serverPing(t *testing.T, p *testpeer.Peer) {
	t.Helper()
	if err := p.WriteApplicationData([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	got, err := p.ReadFull(4)
	if err != nil || string(got) != "pong" {
		t.Fatalf("echo = %q, %v; want pong", got, err)
	}
}

func TestServersCompleteAgainstTlsflowAndCryptoTLS(t *testing.T) {
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	clients := map[string]func(v uint16) func(net.Conn) (io.ReadWriter, error){
		"tlsflow": func(v uint16) func(net.Conn) (io.ReadWriter, error) {
			return tlsflowClient(&tlsflow.Config{RootCAs: ca.Pool, ServerName: "localhost", MaxVersion: v,
				Certificates: []tlsflow.Certificate{flowCert(client)}})
		},
		"crypto/tls": func(v uint16) func(net.Conn) (io.ReadWriter, error) {
			return goClient(&tls.Config{RootCAs: roots, ServerName: "localhost", MaxVersion: v,
				Certificates: []tls.Certificate{{Certificate: client.Chain, PrivateKey: client.Key}}})
		},
	}
	type flow struct {
		name    string
		version uint16
		leaf    *pki.Leaf
		opts    testpeer.ServerOptions
	}
	flows := []flow{
		{"TLS 1.2 ECDSA", tlsflow.VersionTLS12, ecdsaSrv, testpeer.ServerOptions{}},
		{"TLS 1.2 RSA, client certificate, ticket", tlsflow.VersionTLS12, rsaSrv, testpeer.ServerOptions{
			RequestClientCert: true, Ticket12: &wire.NewSessionTicket{LifetimeHint: 60, Ticket: []byte("a ticket")}}},
		{"TLS 1.3", tlsflow.VersionTLS13, ecdsaSrv, testpeer.ServerOptions{}},
		{"TLS 1.3 RSA, HelloRetryRequest with cookie, client certificate", tlsflow.VersionTLS13, rsaSrv, testpeer.ServerOptions{
			HelloRetry: true, Group: suites.GroupP256, Cookie: []byte("a cookie"), RequestClientCert: true}},
	}
	for _, f := range flows {
		for name, mk := range clients {
			t.Run(f.name+"/"+name, func(t *testing.T) {
				a, b := testpeer.Loopback(t, 10*time.Second)
				done := dialed(a, mk(f.version))
				p := testpeer.New(b, testpeer.Server)
				o := f.opts
				o.Chain, o.Signer = f.leaf.Chain, f.leaf.Key
				var err error
				if f.version == tlsflow.VersionTLS12 {
					err = p.ServerHandshake12(&o)
				} else {
					err = p.ServerHandshake13(&o)
				}
				if err != nil {
					t.Fatalf("handshake: %v (client: %v)", err, <-done)
				}
				if o.RequestClientCert && len(p.PeerCertificates) == 0 {
					t.Error("the client sent no certificate")
				}
				if f.version == tlsflow.VersionTLS13 {
					err := p.SendNewSessionTicket13(&wire.NewSessionTicket13{Lifetime: 60, Nonce: []byte{1}, Ticket: []byte("t")})
					if err != nil {
						t.Fatal(err)
					}
				}
				serverPing(t, p)
				p.Close()
				if err := <-done; err != nil {
					t.Fatalf("client: %v", err)
				}
			})
		}
	}
}

func TestServer12RSAKeyExchange(t *testing.T) {
	a, b := testpeer.Loopback(t, 10*time.Second)
	cfg := &tlsflow.Config{RootCAs: ca.Pool, ServerName: "localhost", CipherSuites: []uint16{suites.TLS_RSA_WITH_AES_128_GCM_SHA256}}
	done := dialed(a, tlsflowClient(cfg))
	p := testpeer.New(b, testpeer.Server)
	if err := p.ServerHandshake12(&testpeer.ServerOptions{Chain: rsaSrv.Chain, Signer: rsaSrv.Key}); err != nil {
		t.Fatal(err)
	}
	serverPing(t, p)
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestAlertsAndRecordsAreReported(t *testing.T) {
	a, b := testpeer.Loopback(t, 10*time.Second)
	cli := testpeer.New(a, testpeer.Client)
	srv := testpeer.New(b, testpeer.Server)
	cli.SendAlert(1, 90)
	if _, err := srv.Next(); !testpeer.IsAlert(err, 90) {
		t.Fatalf("Next = %v; want the user_canceled alert", err)
	}
	cli.SendAlert(2, 40)
	if level, desc, err := srv.ExpectAlert(); err != nil || level != 2 || desc != 40 {
		t.Fatalf("ExpectAlert = %d %d %v", level, desc, err)
	}
	a.Close()
	if err := srv.ExpectClosedWithoutAlert(); err != nil {
		t.Fatal(err)
	}
}

func TestForgedCertificatesVerifyWithoutAParsedKey(t *testing.T) {
	issuer := testpeer.Issuer{Cert: ca.Cert, Key: ca.Key}
	for name, spki := range map[string][]byte{
		"RSA-PSS": testpeer.RSAPSSSPKI(), "Ed448": testpeer.Ed448SPKI(), "ML-DSA-65": testpeer.MLDSA65SPKI(),
	} {
		der, err := testpeer.CertWithSPKI(issuer, testpeer.Template("forged", nil, "localhost"), spki)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("%s: parse: %v", name, err)
		}
		if cert.PublicKey != nil || !bytes.Equal(cert.RawSubjectPublicKeyInfo, spki) {
			t.Errorf("%s: PublicKey = %T; want nil, with the SPKI as forged", name, cert.PublicKey)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: "localhost"}); err != nil {
			t.Errorf("%s: the forged certificate does not verify: %v", name, err)
		}
	}
	for _, bits := range []int{8192, 8193} {
		der, err := testpeer.CertWithKey(issuer, testpeer.Template("big", nil, "localhost"), testpeer.FakeRSAKey(bits))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("%d bits: %v", bits, err)
		}
		if got := cert.PublicKey.(interface{ Size() int }); cert.PublicKeyAlgorithm != x509.RSA || got.Size() != (bits+7)/8 {
			t.Errorf("%d bits: key %T of %d bytes", bits, cert.PublicKey, got.Size())
		}
	}
}
