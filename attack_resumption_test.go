package tlsflow_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
)

// Attacks on resumption: a session is a shortcut past authentication, so
// it may only be taken where the full handshake would have succeeded.

// serveTLS runs a tlsflow server on loopback until the test ends; each
// connection runs handle (by default: handshake, write one byte, so that
// a TLS 1.3 client has its tickets, then read until the client leaves).
func serveTLS(t *testing.T, cfg *tlsflow.Config, handle func(*tlsflow.Conn)) string {
	t.Helper()
	if handle == nil {
		handle = func(c *tlsflow.Conn) {
			if c.Handshake() == nil {
				c.Write([]byte("x"))
				io.Copy(io.Discard, c)
			}
		}
	}
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(attackTimeout))
				handle(conn.(*tlsflow.Conn))
			}()
		}
	}()
	return ln.Addr().String()
}

// dialAndRead connects, reads the server's one byte (and with it a TLS
// 1.3 server's tickets) and closes. It returns what the client saw.
func dialAndRead(t *testing.T, addr string, cfg *tlsflow.Config) (tlsflow.ConnectionState, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), attackTimeout)
	defer cancel()
	nc, err := (&tlsflow.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return tlsflow.ConnectionState{}, err
	}
	c := nc.(*tlsflow.Conn)
	defer c.Close()
	c.SetDeadline(time.Now().Add(attackTimeout))
	state := c.ConnectionState()
	_, err = io.ReadFull(c, make([]byte, 1))
	return state, err
}

var (
	untrustedOnce       sync.Once
	untrustedSelfSigned tlsflow.Certificate
)

// selfSignedCert is a self-signed certificate for localhost that no
// RootCAs of these tests trusts.
func selfSignedCert(t *testing.T) tlsflow.Certificate {
	untrustedOnce.Do(func() {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := testpeer.Template("localhost", nil, "localhost")
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			panic(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		untrustedSelfSigned = tlsflow.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	})
	return untrustedSelfSigned
}

// TestSessionOfAnUnverifiedConnectionIsNotResumedByAStrictClient: a
// session is as trustworthy as the handshake that made it. One made with
// InsecureSkipVerify, with a server no RootCAs trusts, must not let a
// client that verifies (same ClientSessionCache, same ServerName) skip
// its verification: it does a full handshake, which fails with
// unknown_ca (RFC 5246 §7.4.2, RFC 8446 §4.6.1: the resumed connection
// inherits the original's authentication).
func TestSessionOfAnUnverifiedConnectionIsNotResumedByAStrictClient(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			addr := serveTLS(t, &tlsflow.Config{Certificates: []tlsflow.Certificate{selfSignedCert(t)}, MaxVersion: v.v}, nil)
			cache := tlsflow.NewLRUClientSessionCache(4)
			lax := &tlsflow.Config{InsecureSkipVerify: true, ServerName: "localhost", ClientSessionCache: cache, MaxVersion: v.v}
			if _, err := dialAndRead(t, addr, lax); err != nil {
				t.Fatalf("InsecureSkipVerify connection: %v", err)
			}
			strict := tlsflowClientConfig(v.v)
			strict.ClientSessionCache = cache
			state, err := dialAndRead(t, addr, strict)
			if err == nil {
				t.Fatalf("the strict client connected to an untrusted server (resumed: %v); want a full handshake failing with unknown_ca", state.DidResume)
			}
			checkAlert(t, "strict client", err, sent(alert.UnknownCA, 3, "Certificate"))
		})
	}
}

// TestSessionIsNotResumedPastItsCertificatesExpiry: a session made while
// the server's certificate was valid is not resumed once the client's
// clock (Config.Time) is past the certificate's NotAfter, even though the
// session's own lifetime has not run out: the full handshake that
// replaces it fails with certificate_expired.
func TestSessionIsNotResumedPastItsCertificatesExpiry(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			addr := serveTLS(t, tlsflowServerConfig(v.v), nil) // the shared leaf expires in 24 hours
			cfg := tlsflowClientConfig(v.v)
			cfg.ClientSessionCache = tlsflow.NewLRUClientSessionCache(4)
			if _, err := dialAndRead(t, addr, cfg); err != nil {
				t.Fatalf("first connection: %v", err)
			}
			later := cfg.Clone()
			later.Time = func() time.Time { return time.Now().Add(36 * time.Hour) }
			state, err := dialAndRead(t, addr, later)
			if err == nil {
				t.Fatalf("connected 36 h later, past the certificate's NotAfter (resumed: %v); want certificate_expired", state.DidResume)
			}
			checkAlert(t, "client 36 h later", err, sent(alert.CertificateExpired, 3, "Certificate"))
		})
	}
}

// anyHostCache is a faulty (or hostile) ClientSessionCache: whatever the
// key, it returns the last session stored.
type anyHostCache struct {
	mu   sync.Mutex
	last *tlsflow.ClientSessionState
}

func (c *anyHostCache) Get(string) (*tlsflow.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.last != nil
}

func (c *anyHostCache) Put(_ string, cs *tlsflow.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs != nil {
		c.last = cs
	}
}

var (
	aOnlyOnce sync.Once
	aOnly     *pki.Leaf
)

// TestSessionForAnotherHostIsNotResumed: a ClientSessionCache that hands
// out a session made with "a.example" for "b.example" must not make the
// client skip verifying b.example: the session's certificate is not valid
// for the name now asked for (RFC 6125), so the client does not offer it
// and the full handshake fails on the name (bad_certificate).
func TestSessionForAnotherHostIsNotResumed(t *testing.T) {
	aOnlyOnce.Do(func() { aOnly = sharedCerts().ca.MustServer(pki.ECDSAP256, "a.example") })
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			addr := serveTLS(t, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(aOnly)}, MaxVersion: v.v}, nil)
			cache := &anyHostCache{}
			a := &tlsflow.Config{RootCAs: sharedCerts().ca.Pool, ServerName: "a.example", ClientSessionCache: cache, MaxVersion: v.v}
			if _, err := dialAndRead(t, addr, a); err != nil {
				t.Fatalf("connection to a.example: %v", err)
			}
			b := a.Clone()
			b.ServerName = "b.example"
			state, err := dialAndRead(t, addr, b)
			if err == nil {
				t.Fatalf("connected to b.example with a.example's certificate (resumed: %v); want no resumption and bad_certificate", state.DidResume)
			}
			checkAlert(t, "client for b.example", err, sent(alert.BadCertificate, 3, "Certificate"))

			// Against a server that would take any session: nothing of
			// a.example's is even offered.
			p, done := hostileServer(t, b, nil)
			if err := p.ExpectClientHello(); err != nil {
				t.Fatalf("no ClientHello: %v (client: %v)", err, victimErr(t, done))
			}
			if ticket := offeredTicket(t, p.ClientHello, v.v); len(ticket) != 0 {
				t.Errorf("the client for b.example offers a.example's session (%d-byte ticket)", len(ticket))
			}
			if v.v == tlsflow.VersionTLS12 && len(p.ClientHello.SessionID) != 0 && !p.ClientHello.Extensions.Has(wire.ExtSupportedVersions) {
				t.Errorf("the client for b.example offers a session ID")
			}
		})
	}
}

// TestResumedTLS12ClientRunsVerifyConnection: Config.VerifyConnection is
// the application's last word on every connection, resumed ones
// included; it runs with DidResume true, and its error ends the handshake
// with bad_certificate.
func TestResumedTLS12ClientRunsVerifyConnection(t *testing.T) {
	addr := serveTLS(t, tlsflowServerConfig(tlsflow.VersionTLS12), nil)
	var mu sync.Mutex
	var calls []bool // DidResume of each call
	veto := false
	cfg := tlsflowClientConfig(tlsflow.VersionTLS12)
	cfg.ClientSessionCache = tlsflow.NewLRUClientSessionCache(4)
	cfg.VerifyConnection = func(cs tlsflow.ConnectionState) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, cs.DidResume)
		if veto && cs.DidResume {
			return errors.New("vetoed by the application")
		}
		return nil
	}
	if _, err := dialAndRead(t, addr, cfg); err != nil {
		t.Fatalf("full handshake: %v", err)
	}
	state, err := dialAndRead(t, addr, cfg)
	if err != nil || !state.DidResume {
		t.Fatalf("second connection: %v, resumed %v; want a resumption", err, state.DidResume)
	}
	mu.Lock()
	if len(calls) != 2 || !calls[1] {
		t.Errorf("VerifyConnection calls (DidResume of each): %v; want [false true]", calls)
	}
	veto = true
	mu.Unlock()
	state, err = dialAndRead(t, addr, cfg)
	if err == nil {
		t.Fatalf("VerifyConnection vetoed the resumed connection, but it completed (resumed: %v)", state.DidResume)
	}
	checkAlert(t, "client", err, sent(alert.BadCertificate, anyStep, ""))
}

// fakeClock is a Config.Time both sides share.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestRenewedTicketKeepsTheOriginalAuthenticationTime: a ticket issued on
// a resumed connection renews access, not authentication: its lifetime
// (7 days, RFC 8446 §4.6.1) still counts from the full handshake. Full
// handshake at t0, resumption at t0+6d (the server renews the ticket),
// and at t0+8d the client must do a full handshake again.
func TestRenewedTicketKeepsTheOriginalAuthenticationTime(t *testing.T) {
	leaf := sharedCerts().ca.MustIssue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"localhost"},
		NotAfter: time.Now().Add(30 * 24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Now()}
			srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(leaf)}, Time: clock.Now, MaxVersion: v.v}
			if err := srv.SetSessionTicketKeys([][32]byte{{1, 2, 3}}); err != nil {
				t.Fatal(err)
			}
			addr := serveTLS(t, srv, nil)
			cli := tlsflowClientConfig(v.v)
			cli.Time, cli.ClientSessionCache = clock.Now, tlsflow.NewLRUClientSessionCache(4)
			if _, err := dialAndRead(t, addr, cli); err != nil {
				t.Fatalf("full handshake at t0: %v", err)
			}
			clock.Advance(6 * 24 * time.Hour)
			state, err := dialAndRead(t, addr, cli)
			if err != nil || !state.DidResume {
				t.Fatalf("at t0+6d: %v, resumed %v; want a resumption (the session is 6 days old)", err, state.DidResume)
			}
			clock.Advance(2 * 24 * time.Hour)
			state, err = dialAndRead(t, addr, cli)
			if err != nil {
				t.Fatalf("at t0+8d: %v", err)
			}
			if state.DidResume {
				t.Errorf("at t0+8d the connection resumed a session authenticated at t0 (8 days ago, through a ticket renewed at t0+6d); want a full handshake")
			}
		})
	}
}

// TestRenewedTicketCarriesTheOriginalTime: the ticket a server issues on
// a resumed connection holds the time of the full handshake, not of the
// resumption (RFC 8446 §4.6.1: a ticket's lifetime bounds the use of the
// original authentication). Opened with the server's ticket key.
func TestRenewedTicketCarriesTheOriginalTime(t *testing.T) {
	key := [32]byte{4, 5, 6}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Now()}
			t0 := clock.Now()
			srv := tlsflowServerConfig(v.v)
			srv.Time = clock.Now
			if err := srv.SetSessionTicketKeys([][32]byte{key}); err != nil {
				t.Fatal(err)
			}
			p, done := hostileClient(t, srv, handshakeAndWrite)
			err := clientHandshake(p, v.v, nil)
			if err == nil && v.v == tlsflow.VersionTLS13 {
				_, err = p.ReadApplicationData()
			}
			if verr := victimErr(t, done); err != nil || verr != nil {
				t.Fatalf("full handshake at t0: %v (server: %v)", err, verr)
			}
			o := &testpeer.ClientOptions{}
			if v.v == tlsflow.VersionTLS12 {
				o.Resume12 = p.Session12()
			} else {
				o.PSK = p.Tickets13[0].Offer()
			}
			clock.Advance(6 * 24 * time.Hour)
			p, done = hostileClient(t, srv, handshakeAndWrite)
			err = clientHandshake(p, v.v, o)
			if err == nil && v.v == tlsflow.VersionTLS13 {
				_, err = p.ReadApplicationData()
			}
			if verr := victimErr(t, done); err != nil || verr != nil || !p.DidResume {
				t.Fatalf("resumption at t0+6d: %v (server: %v, resumed %v)", err, verr, p.DidResume)
			}
			var renewed []byte
			switch {
			case v.v == tlsflow.VersionTLS12 && p.Ticket12 != nil:
				renewed = p.Ticket12.Ticket
			case v.v == tlsflow.VersionTLS13 && len(p.Tickets13) > 0:
				renewed = p.Tickets13[0].Ticket
			}
			if len(renewed) == 0 {
				return // no renewal, nothing to check
			}
			var keys session.Keys
			keys.Set([][32]byte{key}, clock.Now())
			st := keys.Open(renewed, clock.Now())
			if st == nil {
				t.Fatal("the renewed ticket does not open with the server's key")
			}
			if st.CreatedAt.Unix() != t0.Unix() {
				t.Errorf("the ticket renewed at t0+6d says it was created %v after t0; want t0, the time of the full handshake",
					st.CreatedAt.Sub(t0.Truncate(time.Second)))
			}
		})
	}
}

var (
	abOnce sync.Once
	abLeaf *pki.Leaf
)

// TestServerDoesNotResumeASessionUnderAnotherName: a session established
// for server_name "a.example" and offered in a ClientHello for
// "b.example" is not resumed, even though the certificate covers both:
// "the server MUST NOT accept the request to resume the session if the
// server_name extension contains a different name" (RFC 6066 §3); the
// server does a full handshake. By ticket and session ID in TLS 1.2, by
// PSK in TLS 1.3.
func TestServerDoesNotResumeASessionUnderAnotherName(t *testing.T) {
	abOnce.Do(func() { abLeaf = sharedCerts().ca.MustServer(pki.ECDSAP256, "a.example", "b.example") })
	cases := []struct {
		name    string
		v       uint16
		noTicks bool
	}{
		{"TLS1.2/ticket", tlsflow.VersionTLS12, false},
		{"TLS1.2/session ID", tlsflow.VersionTLS12, true},
		{"TLS1.3", tlsflow.VersionTLS13, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(abLeaf)}, MaxVersion: c.v}
			p, done := hostileClient(t, cfg, handshakeAndWrite)
			o := &testpeer.ClientOptions{ServerName: "a.example", NoTicketRequest: c.noTicks}
			err := clientHandshake(p, c.v, o)
			if err == nil && c.v == tlsflow.VersionTLS13 {
				_, err = p.ReadApplicationData()
			}
			if verr := victimErr(t, done); err != nil || verr != nil {
				t.Fatalf("session for a.example: %v (server: %v)", err, verr)
			}
			o.ServerName = "b.example"
			if c.v == tlsflow.VersionTLS12 {
				o.Resume12 = p.Session12()
			} else if len(p.Tickets13) > 0 {
				o.PSK = p.Tickets13[0].Offer()
			} else {
				t.Fatal("no ticket for a.example")
			}
			var state tlsflow.ConnectionState
			p, done = hostileClient(t, cfg, func(c *tlsflow.Conn) error {
				err := handshakeAndWrite(c)
				state = c.ConnectionState()
				return err
			})
			err = clientHandshake(p, c.v, o)
			if verr := victimErr(t, done); err != nil || verr != nil {
				t.Fatalf("offer under b.example: hostile client %v, server %v; want a full handshake", err, verr)
			}
			if p.DidResume || state.DidResume {
				t.Errorf("the server resumed a.example's session for a ClientHello naming b.example; want a full handshake")
			}
		})
	}
}

// TestServerAbortsResumptionWithoutExtendedMasterSecret: a TLS 1.2
// session made with the extended master secret, offered (by ticket or
// session ID) in a ClientHello without extended_master_secret, is an
// attack or a broken client: "the server MUST abort the abbreviated
// handshake" (RFC 7627 §5.3) with handshake_failure; it does not fall
// back to a full handshake.
func TestServerAbortsResumptionWithoutExtendedMasterSecret(t *testing.T) {
	for _, byID := range []bool{false, true} {
		name := map[bool]string{false: "ticket", true: "session ID"}[byID]
		t.Run(name, func(t *testing.T) {
			cfg := tlsflowServerConfig(tlsflow.VersionTLS12)
			p, done := hostileClient(t, cfg, nil)
			o := &testpeer.ClientOptions{NoTicketRequest: byID}
			if err := p.ClientHandshake12(o); err != nil || !p.ExtendedMaster {
				t.Fatalf("session with EMS: %v (EMS %v, server %v)", err, p.ExtendedMaster, victimErr(t, done))
			}
			victimErr(t, done)
			o.Resume12, o.NoExtendedMasterSecret = p.Session12(), true
			p, done = hostileClient(t, cfg, nil)
			flowErr := p.ClientHandshake12(o)
			wantVictimAlert(t, "server", done, sent(alert.HandshakeFailure, anyStep, ""))
			wantPeerAlert(t, p, flowErr, alert.HandshakeFailure)
		})
	}
}

// plantTicket12 seals a TLS 1.2 session with the server's ticket key, as
// the server itself would have: the way to a session tlsflow never makes
// (one without the extended master secret).
func plantTicket12(t *testing.T, key [32]byte, ems bool) *testpeer.Session12 {
	t.Helper()
	var k session.Keys
	if err := k.Set([][32]byte{key}, time.Now()); err != nil {
		t.Fatal(err)
	}
	master := testpeer.Random(48)
	suite := suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	ticket, err := k.Seal(&session.State{Version: tlsflow.VersionTLS12, CipherSuite: suite, Group: suites.GroupX25519,
		Secret: master, ExtendedMaster: ems, CreatedAt: time.Now()}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &testpeer.Session12{Suite: suite, Master: master, EMS: ems, Ticket: ticket}
}

// TestSessionWithoutExtendedMasterSecretIsNotResumedWithIt: a session
// made without the extended master secret, offered in a ClientHello that
// has it, gets a full handshake (RFC 7627 §5.3: "MUST NOT perform the
// abbreviated handshake ... SHOULD continue with a full handshake"). The
// session is planted with the server's ticket key; one planted with the
// extended master secret resumes, which shows the planting works.
func TestSessionWithoutExtendedMasterSecretIsNotResumedWithIt(t *testing.T) {
	key := [32]byte{7, 7, 7}
	for _, ems := range []bool{true, false} {
		name := map[bool]string{true: "planted with EMS resumes", false: "planted without EMS gets a full handshake"}[ems]
		t.Run(name, func(t *testing.T) {
			cfg := tlsflowServerConfig(tlsflow.VersionTLS12)
			if err := cfg.SetSessionTicketKeys([][32]byte{key}); err != nil {
				t.Fatal(err)
			}
			p, done := hostileClient(t, cfg, nil)
			err := p.ClientHandshake12(&testpeer.ClientOptions{Resume12: plantTicket12(t, key, ems)})
			if verr := victimErr(t, done); err != nil || verr != nil {
				t.Fatalf("hostile client %v, server %v", err, verr)
			}
			if p.DidResume != ems {
				t.Errorf("resumed = %v; want %v", p.DidResume, ems)
			}
		})
	}
}

// TestTLS12SessionEndedByAFatalAlertIsNotResumed: "an error ... [causes]
// the connection ... to be terminated ... [and] any session identifier
// ... MUST be invalidated, preventing the failed session from being
// used to establish new connections" (RFC 5246 §7.2.2). After a fatal
// alert, received or sent, the next connection with the same
// ClientSessionCache does a full handshake.
func TestTLS12SessionEndedByAFatalAlertIsNotResumed(t *testing.T) {
	cases := []struct {
		name  string
		serve func(c *tlsflow.Conn)
	}{
		{"the server sends a fatal alert", func(c *tlsflow.Conn) {
			if c.Handshake() == nil {
				tlsflow.SendAlert(c, 2, byte(alert.InternalError))
			}
		}},
		{"the client sends a fatal alert", func(c *tlsflow.Conn) {
			if c.Handshake() == nil {
				// A Finished after the handshake: the client answers unexpected_message.
				tlsflow.SendHandshakeRecord(c, []byte{byte(wire.TypeFinished), 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
				io.Copy(io.Discard, c)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := tlsflowServerConfig(tlsflow.VersionTLS12)
			addr := serveTLS(t, cfg, c.serve)
			cli := tlsflowClientConfig(tlsflow.VersionTLS12)
			cli.ClientSessionCache = tlsflow.NewLRUClientSessionCache(4)
			_, err := dialAndRead(t, addr, cli)
			var ae *tlsflow.Error
			if !errors.As(err, &ae) || ae.Alert == alert.CloseNotify {
				t.Fatalf("first connection ended with %v; want a fatal alert", err)
			}
			addr2 := serveTLS(t, cfg, nil)
			state, err := dialAndRead(t, addr2, cli)
			if err != nil {
				t.Fatalf("second connection: %v", err)
			}
			if state.DidResume {
				t.Errorf("the session of a connection that ended with a fatal alert (%v) was resumed; want a full handshake", ae.Alert)
			}
		})
	}
}
