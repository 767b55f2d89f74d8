package tlsflow_test

// Regression tests for behaviours BoringSSL's test runner (BoGo) found
// wrong; docs/CONFORMANCE.md lists the runner's tests. Each test names the
// behaviour it protects, not the runner test.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// serverErrorThrough runs a tlsflow client against a tlsflow server, with
// the client's first record (its ClientHello) replaced by change, and
// returns the server's handshake error.
func serverErrorThrough(t *testing.T, change func(rec []byte) []byte) error {
	t.Helper()
	c := sharedCerts()
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
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
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		srvErr <- conn.(*tlsflow.Conn).Handshake()
	}()
	raw, err := net.Dial("tcp", tamperFirstRecordFunc(t, ln, change))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	cli := tlsflow.Client(raw, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"})
	go cli.Handshake()
	return <-srvErr
}

// An empty application_data record is legal after the handshake, but
// before it no application data of any length may come: unexpected_message.
func TestEmptyApplicationDataBeforeTheHandshakeIsRefused(t *testing.T) {
	err := serverErrorThrough(t, func(rec []byte) []byte {
		return append([]byte{23, 3, 3, 0, 0}, rec...)
	})
	wantAlert(t, err, "unexpected_message")
}

// Bytes of a next handshake message in the record that completes the
// peer's flight are excess: the peer cannot have sent them before reading
// our answer (a message that spans a flight or a key change, RFC 8446
// §5.1). The server refuses before answering.
func TestHandshakeDataBeyondThePeersFlightIsRefused(t *testing.T) {
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		t.Run(tlsflow.VersionName(v), func(t *testing.T) {
			err := serverErrorThrough(t, func(rec []byte) []byte {
				partial := []byte{16, 0, 0, 32} // the header of a ClientKeyExchange, no body yet
				out := append(append([]byte(nil), rec...), partial...)
				n := len(out) - 5
				out[3], out[4] = byte(n>>8), byte(n)
				return out
			})
			wantAlert(t, err, "unexpected_message")
			if !strings.Contains(err.Error(), "excess handshake data") {
				t.Fatalf("error = %v; want it refused as excess handshake data, before the server answers", err)
			}
		})
	}
}

// Rejected 0-RTT data is skipped only up to one record's worth (2^14
// bytes); more is bad_record_mac.
func TestSkippedEarlyDataIsBoundedToOneRecord(t *testing.T) {
	_, srvErr := handshakeThrough(t, true, fakeEarlyData(2, 8300))
	wantAlert(t, srvErr, "bad_record_mac")
}

// A TLS 1.2 client asked to renegotiate (HelloRequest) ends the
// connection with a fatal no_renegotiation at once, like the server in
// TestRenegotiationIsRefused.
func TestClientRefusesHelloRequestAtOnce(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	tlsflow.SendHandshakeRecord(srv, []byte{0, 0, 0, 0})
	_, err := io.ReadFull(cli, make([]byte, 1))
	wantAlert(t, err, "no_renegotiation")
}

// user_canceled is a closure alert, not an error, in TLS 1.3 as in 1.2
// (RFC 8446 §6.1): a few are skipped and the data after them arrives.
func TestUserCanceledAlertsAreSkippedInTLS13(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	for i := 0; i < 4; i++ {
		tlsflow.SendAlert(cli, 1, 90) // warning user_canceled
	}
	cli.Write([]byte("x"))
	if _, err := io.ReadFull(srv, make([]byte, 1)); err != nil {
		t.Fatalf("Read after 4 user_canceled alerts: %v; want the data", err)
	}
}

// An alert level other than warning(1) or fatal(2) is malformed:
// illegal_parameter, not a fatal alert received.
func TestAlertWithUnknownLevelIsIllegalParameter(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	tlsflow.SendAlert(cli, 0x42, 10)
	_, err := io.ReadFull(srv, make([]byte, 1))
	var ae *tlsflow.Error
	if !errors.As(err, &ae) || ae.Alert != alert.IllegalParameter || ae.Received {
		t.Fatalf("error = %v; want illegal_parameter sent", err)
	}
}

// Several KeyUpdate requests while we are silent get one answer (RFC 8446
// §4.6.3), so a peer cannot make us pile up updates.
func TestKeyUpdateRequestsWhileSilentGetOneAnswer(t *testing.T) {
	c := sharedCerts()
	var answers int
	cliCfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", Trace: func(e trace.Event) {
		if e.Kind == trace.KindMessage && e.Direction == trace.Received && e.Message == "KeyUpdate" {
			answers++
		}
	}}
	cli, srv := flowPair(t, cliCfg, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	for i := 0; i < 5; i++ {
		if err := cli.KeyUpdate(true); err != nil {
			t.Fatal(err)
		}
	}
	cli.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(srv, buf); err != nil {
		t.Fatal(err)
	}
	srv.Write(buf)
	if _, err := io.ReadFull(cli, buf); err != nil {
		t.Fatal(err)
	}
	if answers != 1 {
		t.Fatalf("the server answered 5 KeyUpdate requests with %d KeyUpdates; want 1", answers)
	}
}

// The TLS 1.3 exporter takes an empty label, as crypto/tls does; both
// sides derive the same bytes.
func TestTLS13ExporterWithEmptyLabel(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	cs, ss := cli.ConnectionState(), srv.ConnectionState()
	a, err := cs.ExportKeyingMaterial("", nil, 32)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	b, err := ss.ExportKeyingMaterial("", nil, 32)
	if err != nil || string(a) != string(b) {
		t.Fatalf("server: %x, %v; want the client's %x", b, err, a)
	}
}

// A resumed TLS 1.2 connection reports the group of the handshake that
// made its master secret, on both sides.
func TestTLS12ResumptionKeepsTheCurveID(t *testing.T) {
	c := sharedCerts()
	cliCfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12,
		ClientSessionCache: tlsflow.NewLRUClientSessionCache(4)}
	srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}
	for i, wantResumed := range []bool{false, true} {
		cli, srv := flowPair(t, cliCfg, srvCfg)
		cs, ss := cli.ConnectionState(), srv.ConnectionState()
		if cs.DidResume != wantResumed {
			t.Fatalf("connection %d: resumed %v; want %v", i+1, cs.DidResume, wantResumed)
		}
		if cs.CurveID == 0 || ss.CurveID != cs.CurveID {
			t.Fatalf("connection %d (resumed %v): client CurveID %v, server %v; want the same non-zero group", i+1, cs.DidResume, cs.CurveID, ss.CurveID)
		}
		cli.Close()
		srv.Close()
	}
}

// tamperMessage13 rewrites the first message of type typ from the server.
func tamperMessage13(typ wire.HandshakeType, rewrite func(msg []byte) []byte) func(bool, []byte) []byte {
	done := false
	return func(fromClient bool, msg []byte) []byte {
		if fromClient || done || wire.HandshakeType(msg[0]) != typ {
			return msg
		}
		done = true
		return rewrite(msg)
	}
}

// Engine-level checks of what a TLS 1.3 client accepts from a server.
func TestTLS13ClientRefusesWhatItDidNotAskFor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		typ    wire.HandshakeType
		change func(t *testing.T, msg []byte) []byte
		want   alertWant13
	}{
		{
			// RFC 8446 §4.4.2: the server's entry extensions answer
			// ClientHello extensions; we sent no padding (we do ask for
			// status_request and signed_certificate_timestamp).
			name: "an unrequested extension in a certificate entry", typ: wire.TypeCertificate,
			change: func(t *testing.T, msg []byte) []byte {
				cert := new(wire.Certificate13)
				if err := cert.Unmarshal(msg); err != nil {
					t.Fatal(err)
				}
				cert.Entries[0].Extensions = wire.Extensions{{Type: wire.ExtPadding, Data: []byte{0, 0}}}
				return must(cert.Marshal())
			},
			want: sent13(alert.UnsupportedExtension, 3, "Certificate", "not requested"),
		},
		{
			// RFC 8446 §4.2: an extension answering nothing we offered.
			name: "an ALPN choice without an offer", typ: wire.TypeEncryptedExtensions,
			change: func(t *testing.T, msg []byte) []byte {
				ee := &wire.EncryptedExtensions{}
				alpn := wire.ALPN{"h2"}
				ee.Extensions.Add(wire.ExtALPN, &alpn)
				return must(ee.Marshal())
			},
			want: sent13(alert.UnsupportedExtension, 2, "EncryptedExtensions", "did not offer"),
		},
		{
			// RFC 8446 §4.1.3: legacy_version "MUST be set to 0x0303".
			name: "a ServerHello legacy_version other than TLS 1.2", typ: wire.TypeServerHello,
			change: func(t *testing.T, msg []byte) []byte {
				out := append([]byte(nil), msg...)
				out[4], out[5] = 0x12, 0x34
				return out
			},
			want: sent13(alert.ProtocolVersion, 2, "ServerHello", "legacy_version"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cliCfg, srvCfg := engineConfigs13(false)
			cliErr, _ := runEngines13(t, cliCfg, srvCfg, tamperMessage13(tc.typ, func(msg []byte) []byte { return tc.change(t, msg) }))
			checkAlert13(t, "client", cliErr, tc.want)
		})
	}
}

// A leaf whose Key Usage extension does not allow signing cannot
// authenticate a TLS 1.3 handshake (RFC 8446 §4.4.2.2).
func TestTLS13ClientRefusesALeafThatMayNotSign(t *testing.T) {
	cliCfg, srvCfg := engineConfigs13(false)
	srvCfg.Certificates = []*handshake.Certificate{selfSigned(t, elliptic.P256(), x509.KeyUsageKeyEncipherment)}
	cliErr, _ := runEngines13(t, cliCfg, srvCfg, nil)
	checkAlert13(t, "client", cliErr, sent13(alert.UnsupportedCertificate, 3, "Certificate", "digitalSignature"))
}

// The TLS 1.3 server sends its compatibility ChangeCipherSpec after its
// first flight even when the client's session ID is empty (RFC 8446
// Appendix D.4 ties the server's record to nothing).
func TestTLS13ServerSendsChangeCipherSpecWithoutSessionID(t *testing.T) {
	cliCfg, srvCfg := engineConfigs13(false)
	actions, err := handshake.NewClient(cliCfg).Start()
	if err != nil {
		t.Fatal(err)
	}
	ch := new(wire.ClientHello)
	if err := ch.Unmarshal(actions[0].(handshake.SendMessage).Data); err != nil {
		t.Fatal(err)
	}
	ch.SessionID = nil
	actions, err = handshake.NewServer(srvCfg).HandleMessage(must(ch.Marshal()))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actions {
		if _, ok := a.(handshake.SendChangeCipherSpec); ok {
			return
		}
	}
	t.Fatalf("server flight %v has no ChangeCipherSpec", actions)
}

// A TLS 1.3 client that fails after its compatibility ChangeCipherSpec was
// queued (here: no signature scheme the server accepts fits its key) still
// owes it before the alert: Abort hands it out (RFC 8446 Appendix D.4).
func TestTLS13ClientSendsChangeCipherSpecBeforeItsAlert(t *testing.T) {
	cliCfg, srvCfg := engineConfigs13(true)
	// The server signs and asks for ecdsa_secp256r1_sha256 only; the
	// client insists on its P-384 certificate, which cannot sign that.
	srvCfg.SignatureSchemes = []uint16{0x0403}
	p384 := selfSigned(t, elliptic.P384(), x509.KeyUsageDigitalSignature)
	cliCfg.Certificates = nil
	cliCfg.GetClientCertificate = func(*handshake.CertificateRequestInfo) (*handshake.Certificate, error) { return p384, nil }
	cl := handshake.NewClient(cliCfg)
	sv := handshake.NewServer(srvCfg)
	actions, err := cl.Start()
	if err != nil {
		t.Fatal(err)
	}
	toServer := actions
	var cliErr error
	for round := 0; round < 10 && cliErr == nil && len(toServer) > 0; round++ {
		var toClient []handshake.Action
		for _, a := range toServer {
			var out []handshake.Action
			switch a := a.(type) {
			case handshake.SendMessage:
				out, err = sv.HandleMessage(a.Data)
			case handshake.SendChangeCipherSpec:
				out, err = sv.HandleChangeCipherSpec()
			default:
				continue
			}
			if err != nil {
				t.Fatalf("server: %v", err)
			}
			toClient = append(toClient, out...)
		}
		toServer = nil
		for _, a := range toClient {
			m, ok := a.(handshake.SendMessage)
			if !ok {
				continue
			}
			var out []handshake.Action
			if out, cliErr = cl.HandleMessage(m.Data); cliErr != nil {
				break
			}
			toServer = append(toServer, out...)
		}
	}
	var ae *tlsflow.Error
	if !errors.As(cliErr, &ae) || ae.Alert != alert.HandshakeFailure {
		t.Fatalf("client error = %v; want handshake_failure", cliErr)
	}
	pre := cl.Abort()
	if len(pre) != 1 {
		t.Fatalf("Abort = %v; want exactly the ChangeCipherSpec", pre)
	}
	if _, ok := pre[0].(handshake.SendChangeCipherSpec); !ok {
		t.Fatalf("Abort = %v; want the ChangeCipherSpec", pre)
	}
	if again := cl.Abort(); len(again) != 0 {
		t.Fatalf("second Abort = %v; want nothing (the ChangeCipherSpec goes once)", again)
	}
}

// selfSigned makes an ECDSA certificate for localhost with the given Key
// Usage, for engines that only parse the peer's chain.
func selfSigned(t *testing.T, curve elliptic.Curve, usage x509.KeyUsage) *handshake.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: usage, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &handshake.Certificate{Chain: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// The server acknowledges server_name with an empty extension in a full
// handshake (RFC 6066 §3: ServerHello in TLS 1.2, EncryptedExtensions in
// TLS 1.3), and never when resuming.
func TestServerAcknowledgesServerNameInFullHandshakes(t *testing.T) {
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		t.Run(tlsflow.VersionName(v), func(t *testing.T) {
			var acks []bool
			c := sharedCerts()
			cliCfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v,
				ClientSessionCache: tlsflow.NewLRUClientSessionCache(4),
				Trace: func(e trace.Event) {
					if e.Kind != trace.KindMessage || e.Direction != trace.Received {
						return
					}
					var exts wire.Extensions
					switch e.Message {
					case "ServerHello":
						if v != tlsflow.VersionTLS12 {
							return
						}
						sh := new(wire.ServerHello)
						if sh.Unmarshal(e.Raw) != nil {
							return
						}
						exts = sh.Extensions
					case "EncryptedExtensions":
						ee := new(wire.EncryptedExtensions)
						if ee.Unmarshal(e.Raw) != nil {
							return
						}
						exts = ee.Extensions
					default:
						return
					}
					acks = append(acks, exts.Has(wire.ExtServerName))
				}}
			srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}
			for i := 0; i < 2; i++ {
				cli, srv := flowPair(t, cliCfg, srvCfg)
				if v == tlsflow.VersionTLS13 {
					cli.Write([]byte("x")) // the ticket comes after the handshake
					io.ReadFull(srv, make([]byte, 1))
					srv.Write([]byte("y"))
					io.ReadFull(cli, make([]byte, 1))
				}
				if resumed := cli.ConnectionState().DidResume; resumed != (i == 1) {
					t.Fatalf("connection %d resumed %v", i+1, resumed)
				}
				cli.Close()
				srv.Close()
			}
			if len(acks) != 2 || !acks[0] || acks[1] {
				t.Fatalf("server_name acknowledged in (full, resumed) = %v; want [true false]", acks)
			}
		})
	}
}

// A TLS 1.3 server whose Config.SignatureSchemes holds only PKCS #1 v1.5
// schemes, which TLS 1.3 does not allow in CertificateVerify, still sends a
// well-formed CertificateRequest: signature_algorithms may not be empty
// (RFC 8446 §4.2.3), so it lists those schemes, which RFC 8446 §4.2.3 lets
// appear there. The client then has no scheme to sign with and sends no
// certificate (a client that signs with PKCS #1 v1.5 anyway is refused with
// illegal_parameter, verify13: BoGo's Server-Verify-RSA_PKCS1_*-TLS13).
func TestTLS13CertificateRequestWithOnlyPKCS1SchemesIsWellFormed(t *testing.T) {
	c := sharedCerts()
	srv := &tlsflow.Config{MinVersion: tlsflow.VersionTLS13,
		SignatureSchemes: []tlsflow.SignatureScheme{tlsflow.PKCS1WithSHA256},
		// The server signs its own CertificateVerify with ECDSA.
		Certificates: []tlsflow.Certificate{restricted(c.ecdsa, tlsflow.ECDSAWithP256AndSHA256)},
		ClientAuth:   tlsflow.RequestClientCert}

	cli := clientAt(tlsflow.VersionTLS13)
	cli.Certificates = []tlsflow.Certificate{flowCert(rsaClient())}
	var requested []tlsflow.SignatureScheme
	_, ss, cliErr, srvErr := handshakeStates(t, cli, srv)
	if cliErr != nil || srvErr != nil {
		t.Fatalf("client %v; server %v", cliErr, srvErr)
	}
	if len(ss.PeerCertificates) != 0 {
		t.Errorf("the client sent a certificate it cannot sign for in TLS 1.3")
	}

	// The request lists rsa_pkcs1_sha256, as GetClientCertificate sees.
	cli = clientAt(tlsflow.VersionTLS13)
	cli.GetClientCertificate = func(req *tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
		requested = req.SignatureSchemes
		cert := restricted(rsaClient(), tlsflow.PKCS1WithSHA256)
		return &cert, nil
	}
	cliErr, _ = handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), nil)
	if len(requested) != 1 || requested[0] != tlsflow.PKCS1WithSHA256 {
		t.Errorf("CertificateRequest signature_algorithms = %v, want [rsa_pkcs1_sha256]", requested)
	}
	// tlsflow's client itself will not sign PKCS #1 v1.5 in TLS 1.3.
	checkAlert(t, "client", cliErr, sent(alert.HandshakeFailure, 5, "CertificateVerify", "no signature scheme"))
}
