package tlsflow_test

import (
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// TestGetConfigForClientServesVirtualHosts: a server whose Config has only
// GetConfigForClient serves two hosts with different certificates,
// versions and application protocols, chosen by the ClientHello's
// server_name; crypto/tls clients see each host's own.
func TestGetConfigForClientServesVirtualHosts(t *testing.T) {
	c := sharedCerts()
	a := c.ca.MustServer(pki.ECDSAP256, "a.example")
	b := c.ca.MustServer(pki.RSA2048, "b.example")
	hosts := map[string]*tlsflow.Config{
		"a.example": {Certificates: []tlsflow.Certificate{flowCert(a)}, MaxVersion: tlsflow.VersionTLS12, NextProtos: []string{"a-proto"}},
		"b.example": {Certificates: []tlsflow.Certificate{flowCert(b)}, NextProtos: []string{"b-proto"}},
	}
	srv := &tlsflow.Config{GetConfigForClient: func(info *tlsflow.ClientHelloInfo) (*tlsflow.Config, error) {
		if cfg, ok := hosts[info.ServerName]; ok {
			return cfg, nil
		}
		return nil, errors.New("no such host: " + info.ServerName)
	}}
	for name, want := range map[string]struct {
		version uint16
		alpn    string
	}{"a.example": {tlsflow.VersionTLS12, "a-proto"}, "b.example": {tlsflow.VersionTLS13, "b-proto"}} {
		t.Run(name, func(t *testing.T) {
			var got tls.ConnectionState
			cli := goClient(&tls.Config{RootCAs: c.ca.Pool, ServerName: name, NextProtos: []string{"a-proto", "b-proto"},
				VerifyConnection: func(cs tls.ConnectionState) error { got = cs; return nil }})
			co, so := runPair(t, cli, tlsflowServer(srv), []int{100})
			if co.err != nil || so.err != nil {
				t.Fatalf("client: %v; server: %v", co.err, so.err)
			}
			if co.version != want.version || co.alpn != want.alpn || got.PeerCertificates[0].VerifyHostname(name) != nil {
				t.Errorf("got %#x, ALPN %q, certificate for %v; want %#x, %q and %s's certificate",
					co.version, co.alpn, got.PeerCertificates[0].DNSNames, want.version, want.alpn, name)
			}
		})
	}
	t.Run("unknown host", func(t *testing.T) {
		co, so := runPair(t, goClient(&tls.Config{RootCAs: c.ca.Pool, ServerName: "c.example"}), tlsflowServer(srv), nil)
		if co.err == nil || !strings.Contains(co.err.Error(), "internal error") {
			t.Errorf("client error %v; want an internal_error alert", co.err)
		}
		if so.err == nil || !strings.Contains(so.err.Error(), "no such host: c.example") {
			t.Errorf("server error %v; want the callback's error in it", so.err)
		}
	})
}

// TestGetConfigForClientSeesTheFirstClientHello: the callback is called
// once, with the first ClientHello, even when a HelloRetryRequest brings a
// second; GetCertificate then sees the second, marked HelloRetryRequest;
// both sides report the HelloRetryRequest in ConnectionState, against
// crypto/tls in both directions.
func TestGetConfigForClientSeesTheFirstClientHello(t *testing.T) {
	c := sharedCerts()
	var calls atomic.Int32
	var first, cert tlsflow.ClientHelloInfo
	inner := &tlsflow.Config{
		CurvePreferences: []tlsflow.CurveID{tlsflow.CurveP256}, // the clients' first key shares are X25519's
		GetCertificate: func(info *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
			cert = *info
			fc := flowCert(c.ecdsa)
			return &fc, nil
		},
	}
	srv := &tlsflow.Config{GetConfigForClient: func(info *tlsflow.ClientHelloInfo) (*tlsflow.Config, error) {
		calls.Add(1)
		first = *info
		if info.Context() == nil || info.Conn == nil {
			t.Error("ClientHelloInfo without Context or Conn")
		}
		return inner, nil
	}}
	var goHRR bool
	cli := goClient(&tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", NextProtos: []string{"x"},
		VerifyConnection: func(cs tls.ConnectionState) error { goHRR = cs.HelloRetryRequest; return nil }})
	var flowHRR bool
	server := tlsflowServer(srv)
	server.state = func(pc peerConn) outcome {
		flowHRR = pc.(*tlsflow.Conn).ConnectionState().HelloRetryRequest
		return tlsflowState(pc)
	}
	co, so := runPair(t, cli, server, []int{1})
	if co.err != nil || so.err != nil {
		t.Fatalf("client: %v; server: %v", co.err, so.err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("GetConfigForClient called %d times; want once", n)
	}
	if first.HelloRetryRequest || first.ServerName != "localhost" || !slices.Equal(first.SupportedProtos, []string{"x"}) ||
		!slices.Contains(first.SupportedVersions, tlsflow.VersionTLS13) || !slices.Contains(first.SupportedVersions, tlsflow.VersionTLS12) {
		t.Errorf("GetConfigForClient saw %+v; want the first ClientHello of a TLS 1.2/1.3 client for localhost offering x", first)
	}
	if !cert.HelloRetryRequest || !slices.Contains(cert.SupportedVersions, tlsflow.VersionTLS13) {
		t.Errorf("GetCertificate saw HelloRetryRequest %v, versions %#x; want the second ClientHello's", cert.HelloRetryRequest, cert.SupportedVersions)
	}
	if !flowHRR || !goHRR {
		t.Errorf("ConnectionState.HelloRetryRequest: tlsflow server %v, crypto/tls client %v; want both true", flowHRR, goHRR)
	}

	// The other direction: tlsflow's client is asked for a second
	// ClientHello by crypto/tls.
	var goSrvHRR bool
	goSrv := goServer(&tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}, CurvePreferences: []tls.CurveID{tls.CurveP256},
		VerifyConnection: func(cs tls.ConnectionState) error { goSrvHRR = cs.HelloRetryRequest; return nil }})
	var flowCliHRR bool
	client := tlsflowClient(&tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"})
	client.state = func(pc peerConn) outcome {
		flowCliHRR = pc.(*tlsflow.Conn).ConnectionState().HelloRetryRequest
		return tlsflowState(pc)
	}
	if co, so := runPair(t, client, goSrv, []int{1}); co.err != nil || so.err != nil {
		t.Fatalf("client: %v; server: %v", co.err, so.err)
	}
	if !flowCliHRR || !goSrvHRR {
		t.Errorf("ConnectionState.HelloRetryRequest: tlsflow client %v, crypto/tls server %v; want both true", flowCliHRR, goSrvHRR)
	}
	// And without a retry it stays false.
	if cs := handshakeState(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}, inner.Clone()); cs.HelloRetryRequest {
		t.Error("ConnectionState.HelloRetryRequest true without a retry")
	}
}

// handshakeState runs a tlsflow pair and returns the client's state. The
// server config's CurvePreferences are reset, so no retry is needed.
func handshakeState(t *testing.T, cli, srv *tlsflow.Config) tlsflow.ConnectionState {
	t.Helper()
	srv.CurvePreferences = nil
	cc, _ := flowPair(t, cli, srv)
	return cc.ConnectionState()
}

// TestGetConfigForClientReturnsABadConfig: a Config the callback returns
// that cannot serve is a configuration error at the server, answered with
// internal_error, whose message names the callback.
func TestGetConfigForClientReturnsABadConfig(t *testing.T) {
	c := sharedCerts()
	srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)},
		GetConfigForClient: func(*tlsflow.ClientHelloInfo) (*tlsflow.Config, error) {
			return &tlsflow.Config{}, nil // no certificate
		}}
	cliErr, srvErr := handshakePair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}, srv)
	var sent tlsflow.AlertError
	if !errors.As(cliErr, &sent) || sent != tlsflow.AlertError(80) {
		t.Errorf("client error %v; want internal_error", cliErr)
	}
	if srvErr == nil || !strings.Contains(srvErr.Error(), "GetConfigForClient") {
		t.Errorf("server error %v; want it to name GetConfigForClient", srvErr)
	}
}

// TestGetConfigForClientSessions: tickets made under a Config the callback
// returns are sealed with the original Config's keys unless the returned
// one has keys of its own (as in crypto/tls), so a Config built afresh for
// every connection still resumes; a returned Config with its own key does
// not open the original's tickets.
func TestGetConfigForClientSessions(t *testing.T) {
	c := sharedCerts()
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			fresh := func(*tlsflow.ClientHelloInfo) (*tlsflow.Config, error) {
				return &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: v.v}, nil
			}
			srv := &tlsflow.Config{GetConfigForClient: fresh}
			cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v,
				ClientSessionCache: tlsflow.NewLRUClientSessionCache(4)}
			if got := resumedConnections(t, cli, srv, 3); !slices.Equal(got, []bool{false, true, true}) {
				t.Errorf("a fresh Config per connection: resumed %v; want the second and third to resume", got)
			}

			own := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: v.v, SessionTicketKey: [32]byte{1}}
			srv2 := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: v.v}
			useOwn := false
			srv2.GetConfigForClient = func(*tlsflow.ClientHelloInfo) (*tlsflow.Config, error) {
				if useOwn {
					return own, nil
				}
				return nil, nil
			}
			cli2 := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v,
				ClientSessionCache: tlsflow.NewLRUClientSessionCache(4)}
			resumedConnections(t, cli2, srv2, 1) // a session under srv2's own keys
			useOwn = true
			got := resumedConnections(t, cli2, srv2, 2)
			if got[0] {
				t.Error("a Config with its own SessionTicketKey opened a ticket sealed with the original's keys")
			}
			if !got[1] {
				t.Errorf("resumed %v; want the second connection under the returned Config's own key to resume", got)
			}
		})
	}
}

// resumedConnections runs n connections between tlsflow peers, each
// exchanging a byte so the client has its tickets, and returns whether
// each resumed.
func resumedConnections(t *testing.T, cli, srv *tlsflow.Config, n int) []bool {
	t.Helper()
	var out []bool
	for range n {
		cc, sc := flowPair(t, cli, srv)
		go sc.Write([]byte{1})
		if _, err := cc.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		out = append(out, cc.ConnectionState().DidResume)
	}
	return out
}

// TestGetConfigForClientSessionUnderStricterRules: the attack crypto/tls
// warns of (a session made under one Config, resumed under a sibling that
// would not have accepted the client) does not work in tlsflow. A session
// whose client certificate was verified against one authority is offered
// to a connection the callback gives a Config trusting another: the
// server does not resume it, runs a full handshake and refuses the
// client's certificate, in both versions.
func TestGetConfigForClientSessionUnderStricterRules(t *testing.T) {
	c := sharedCerts()
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			lenient := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: v.v,
				ClientAuth: tlsflow.RequireAndVerifyClientCert, ClientCAs: c.ca.Pool}
			strict := lenient.Clone()
			strict.ClientCAs = c.otherCA.Pool
			var current atomic.Pointer[tlsflow.Config]
			current.Store(lenient)
			srv := lenient.Clone()
			srv.GetConfigForClient = func(*tlsflow.ClientHelloInfo) (*tlsflow.Config, error) { return current.Load(), nil }
			cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v,
				Certificates: []tlsflow.Certificate{flowCert(c.client)}, ClientSessionCache: tlsflow.NewLRUClientSessionCache(4)}
			if got := resumedConnections(t, cli, srv, 2); !got[1] {
				t.Fatalf("resumed %v under the lenient Config; want the second connection to resume", got)
			}
			current.Store(strict)
			cliErr, srvErr := handshakePair(t, cli, srv)
			if srvErr == nil {
				t.Fatal("the server accepted the connection: the session (or the client's certificate) passed a Config that trusts another authority")
			}
			var e *tlsflow.Error
			if !errors.As(srvErr, &e) || e.Step != 5 {
				t.Errorf("server error %v; want the client's certificate refused in a full handshake (step 5)", srvErr)
			}
			_ = cliErr
		})
	}
}
