package tlsflow_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// didResume reports DidResume from either stack's connection.
func didResume(c peerConn) bool {
	switch c := c.(type) {
	case *tlsflow.Conn:
		return c.ConnectionState().DidResume
	case *tls.Conn:
		return c.ConnectionState().DidResume
	}
	return false
}

// resumeTwice runs two connections between fresh wrappers of the same
// configs and returns DidResume as each side saw it on the second one.
func resumeTwice(t *testing.T, client, server endpoint) (cli, srv bool) {
	t.Helper()
	for i := 0; i < 2; i++ {
		var cr, sr bool
		client2, server2 := client, server
		client2.state = func(c peerConn) outcome { cr = didResume(c); return client.state(c) }
		server2.state = func(c peerConn) outcome { sr = didResume(c); return server.state(c) }
		co, so := runPair(t, client2, server2, []int{1, 20000})
		if co.err != nil || so.err != nil {
			t.Fatalf("connection %d: client: %v; server: %v", i+1, co.err, so.err)
		}
		if i == 0 && (cr || sr) {
			t.Fatalf("the first connection claims resumption (client %v, server %v)", cr, sr)
		}
		cli, srv = cr, sr
	}
	return cli, srv
}

// TestResumption: a second connection resumes the first one's session, in
// both versions, with tickets and (TLS 1.2) session IDs, against crypto/tls
// in both directions and between tlsflow peers; DidResume is true on both ends.
func TestResumption(t *testing.T) {
	c := sharedCerts()
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		for _, tickets := range []bool{true, false} {
			if !tickets && v == tlsflow.VersionTLS13 {
				continue // TLS 1.3 resumes by ticket only
			}
			name := fmt.Sprintf("%s/tickets=%v", tlsflow.VersionName(v), tickets)
			flowSrv := func() *tlsflow.Config {
				return &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: v, SessionTicketsDisabled: !tickets}
			}
			flowCli := func() *tlsflow.Config {
				return &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v,
					ClientSessionCache: tlsflow.NewLRUClientSessionCache(4), SessionTicketsDisabled: !tickets}
			}
			t.Run(name+"/tlsflow-client/tlsflow-server", func(t *testing.T) {
				cli, srv := resumeTwice(t, tlsflowClient(flowCli()), tlsflowServer(flowSrv()))
				if !cli || !srv {
					t.Errorf("DidResume client %v, server %v; want both", cli, srv)
				}
			})
			t.Run(name+"/tlsflow-client/go-server", func(t *testing.T) {
				srvCfg := &tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}, MaxVersion: v, SessionTicketsDisabled: !tickets}
				cli, srv := resumeTwice(t, tlsflowClient(flowCli()), goServer(srvCfg))
				if !tickets {
					// crypto/tls servers resume by ticket only: no resumption, and no harm.
					if cli || srv {
						t.Errorf("DidResume client %v, server %v without tickets; crypto/tls has no session-ID cache", cli, srv)
					}
					return
				}
				if !cli || !srv {
					t.Errorf("DidResume client %v, server %v; want both", cli, srv)
				}
			})
			if !tickets {
				continue // crypto/tls clients need tickets
			}
			t.Run(name+"/go-client/tlsflow-server", func(t *testing.T) {
				cliCfg := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v,
					ClientSessionCache: tls.NewLRUClientSessionCache(4)}
				cli, srv := resumeTwice(t, goClient(cliCfg), tlsflowServer(flowSrv()))
				if !cli || !srv {
					t.Errorf("DidResume client %v, server %v; want both", cli, srv)
				}
			})
		}
	}
}

// TestResumptionPSKOnlyMode: with ResumptionWithoutECDHE on both sides the
// resumed TLS 1.3 handshake uses psk_ke (no key exchange group); if only
// the client allows it, the server keeps psk_dhe_ke.
func TestResumptionPSKOnlyMode(t *testing.T) {
	c := sharedCerts()
	for _, serverAllows := range []bool{true, false} {
		t.Run(fmt.Sprintf("server-allows=%v", serverAllows), func(t *testing.T) {
			srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, ResumptionWithoutECDHE: serverAllows}
			cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost",
				ClientSessionCache: tlsflow.NewLRUClientSessionCache(4), ResumptionWithoutECDHE: true}
			var group tlsflow.CurveID
			client := tlsflowClient(cli)
			state := client.state
			client.state = func(p peerConn) outcome {
				group = p.(*tlsflow.Conn).ConnectionState().CurveID
				return state(p)
			}
			cr, sr := resumeTwice(t, client, tlsflowServer(srv))
			if !cr || !sr {
				t.Fatalf("DidResume client %v, server %v; want both", cr, sr)
			}
			if pskOnly := group == 0; pskOnly != serverAllows {
				t.Errorf("resumed with group %v (psk_ke: %v); want psk_ke %v", group, pskOnly, serverAllows)
			}
		})
	}
}

// TestBadBinderIsDecryptError: a ClientHello whose PSK binder was changed
// in transit is refused with decrypt_error (RFC 8446 §4.2.11), not quietly
// downgraded to a full handshake.
func TestBadBinderIsDecryptError(t *testing.T) {
	c := sharedCerts()
	srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}
	cliCfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: tlsflow.NewLRUClientSessionCache(4)}
	if co, so := runPair(t, tlsflowClient(cliCfg), tlsflowServer(srvCfg), []int{1}); co.err != nil || so.err != nil {
		t.Fatalf("first connection: %v / %v", co.err, so.err)
	}
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer conn.Close()
		srvErr <- conn.(*tlsflow.Conn).Handshake()
	}()
	// The binder is the last thing in the ClientHello: flip the record's last byte.
	addr := tamperFirstRecord(t, ln, func(rec []byte) { rec[len(rec)-1] ^= 1 })
	conn, err := tlsflow.Dial("tcp", addr, cliCfg)
	if err == nil {
		conn.Close()
	}
	var ae *tlsflow.Error
	if err := <-srvErr; !errors.As(err, &ae) || ae.Alert.String() != "decrypt_error" {
		t.Fatalf("server error = %v; want decrypt_error for the bad binder", err)
	}
}

// TestClonedServerConfigResumesTheOriginalsTickets: Config.Clone shares the
// server's ticket keys and session cache, as crypto/tls's Clone shares its
// ticket keys, so a clone made per listener still resumes.
func TestClonedServerConfigResumesTheOriginalsTickets(t *testing.T) {
	c := sharedCerts()
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		t.Run(tlsflow.VersionName(v), func(t *testing.T) {
			original := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: v}
			cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: tlsflow.NewLRUClientSessionCache(4)}
			if co, so := runPair(t, tlsflowClient(cli), tlsflowServer(original), []int{1}); co.err != nil || so.err != nil {
				t.Fatalf("first connection: %v / %v", co.err, so.err)
			}
			var resumed bool
			server := tlsflowServer(original.Clone())
			state := server.state
			server.state = func(p peerConn) outcome { resumed = didResume(p); return state(p) }
			if co, so := runPair(t, tlsflowClient(cli), server, []int{1}); co.err != nil || so.err != nil {
				t.Fatalf("second connection: %v / %v", co.err, so.err)
			}
			if !resumed {
				t.Error("the clone did not resume the original's session")
			}
		})
	}
}
