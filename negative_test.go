package tlsflow_test

// Hostile and broken peers against tlsflow's Conn: certificates that must
// be refused, missing or forged client certificates, a man in the middle
// changing bytes in transit, truncated and forged records, obsolete
// protocol versions and no common cipher suite. Each test checks the alert
// on the wire (as the peer received it) and the error the local side gets:
// which alert, sent or received, at which step and in which message.

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
)

// ioTimeout bounds every connection in these tests: a side still blocked
// when it expires has hung, which is a failure in itself.
const ioTimeout = 10 * time.Second

// anyStep skips the step check, for failures not tied to a step of the
// flow (a record that fails its MAC, a broken TCP connection).
const anyStep = -100

// alertWant is the AlertError a side must end with.
type alertWant struct {
	alert    alert.Alert
	received bool
	step     int      // or anyStep
	message  string   // the handshake message named, if not empty
	text     []string // substrings of the error text
}

func sent(a alert.Alert, step int, message string, text ...string) alertWant {
	return alertWant{alert: a, step: step, message: message, text: text}
}

// received is an alert from the peer, wherever it arrived.
func received(a alert.Alert) alertWant { return receivedAt(a, anyStep) }

// receivedAt is an alert from the peer, arriving while this side waits
// after the given step.
func receivedAt(a alert.Alert, step int) alertWant {
	return alertWant{alert: a, received: true, step: step}
}

// checkAlert checks err against w and returns the AlertError (nil if none).
func checkAlert(t *testing.T, who string, err error, w alertWant) *tlsflow.Error {
	t.Helper()
	verb := map[bool]string{false: "sent", true: "received"}
	var ae *tlsflow.Error
	if !errors.As(err, &ae) {
		t.Errorf("%s: err = %v; want alert %s %s", who, err, w.alert, verb[w.received])
		return nil
	}
	if ae.Alert != w.alert || ae.Received != w.received {
		t.Errorf("%s: alert %s %s; want %s %s (%v)", who, ae.Alert, verb[ae.Received], w.alert, verb[w.received], err)
	}
	if w.step != anyStep && ae.Step != w.step {
		t.Errorf("%s: error names step %d; want step %d (%v)", who, ae.Step, w.step, err)
	}
	if w.message != "" && ae.Message != w.message {
		t.Errorf("%s: error names message %q; want %q (%v)", who, ae.Message, w.message, err)
	}
	for _, s := range w.text {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q does not say %q", who, err, s)
		}
	}
	return ae
}

// goAlertNames are alerts as crypto/tls names them in its errors.
var goAlertNames = map[alert.Alert]string{
	alert.HandshakeFailure:   "handshake failure",
	alert.BadCertificate:     "bad certificate",
	alert.CertificateExpired: "expired certificate",
	alert.UnknownCA:          "unknown certificate authority",
	alert.ProtocolVersion:    "protocol version not supported",
}

// checkPeerReceived checks that the peer ep, tlsflow's or crypto/tls's,
// received alert a (a tlsflow peer while waiting after step): the alert on
// the wire is the one the error named.
func checkPeerReceived(t *testing.T, ep endpoint, err error, a alert.Alert, step int) {
	t.Helper()
	if strings.HasPrefix(ep.name, "tlsflow") {
		checkAlert(t, ep.name, err, receivedAt(a, step))
		return
	}
	if err == nil || !strings.Contains(err.Error(), "remote error: tls: "+goAlertNames[a]) {
		t.Errorf("%s: err = %v; want alert %s received", ep.name, err, a)
	}
}

// checkNoHang fails if err is a deadline: the side waited for something
// that never came instead of seeing the failure.
func checkNoHang(t *testing.T, who string, err error) {
	t.Helper()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s hung until the deadline: %v", who, err)
	}
}

// checkCutInsideARecord checks the error of a side whose peer vanished in
// the middle of a record: io.ErrUnexpectedEOF, said in words, and no alert
// claimed sent over a connection that is gone.
func checkCutInsideARecord(t *testing.T, who string, err error) {
	t.Helper()
	checkNoHang(t, who, err)
	var ae *tlsflow.Error
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "inside a record") ||
		(errors.As(err, &ae) && !ae.Received) {
		t.Errorf("%s: err = %v; want the connection ended inside a record, and no alert sent", who, err)
	}
}

// hangUp ends a failed connection politely: our half closed first, then
// whatever the peer still sends drained until it closes too, so the alert we
// sent is never lost to a TCP reset.
func hangUp(raw net.Conn) {
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, raw)
	_ = raw.Close()
}

// handshakeOnly runs the handshake on raw and closes it.
func handshakeOnly(raw net.Conn, ep endpoint) error {
	_ = raw.SetDeadline(time.Now().Add(ioTimeout))
	c := ep.wrap(raw)
	if err := c.Handshake(); err != nil {
		hangUp(raw)
		return err
	}
	_ = c.Close()
	return nil
}

// handshakeBoth runs the handshake between client and server over loopback
// TCP, through via if not nil, and returns each side's error.
func handshakeBoth(t *testing.T, client, server endpoint, via *mitm) (cliErr, srvErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	if via != nil {
		addr = via.start(t, addr)
	}
	srvDone := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			srvDone <- err
			return
		}
		srvDone <- handshakeOnly(raw, server)
	}()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cliErr = handshakeOnly(raw, client)
	select {
	case srvErr = <-srvDone:
	case <-time.After(2 * ioTimeout):
		t.Fatal("the server never finished its handshake")
	}
	return cliErr, srvErr
}

// connectedPair returns two tlsflow Conns that completed their handshake
// through via, for tests of what comes after.
func connectedPair(t *testing.T, cliCfg, srvCfg *tlsflow.Config, via *mitm) (cli, srv *tlsflow.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	if via != nil {
		addr = via.start(t, addr)
	}
	type result struct {
		c   *tlsflow.Conn
		err error
	}
	srvDone := make(chan result, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			srvDone <- result{nil, err}
			return
		}
		_ = raw.SetDeadline(time.Now().Add(ioTimeout))
		c := tlsflow.Server(raw, srvCfg)
		srvDone <- result{c, c.Handshake()}
	}()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(ioTimeout))
	cli = tlsflow.Client(raw, cliCfg)
	cliErr := cli.Handshake()
	r := <-srvDone
	if r.c != nil {
		t.Cleanup(func() { r.c.NetConn().Close() })
	}
	t.Cleanup(func() { raw.Close() })
	if cliErr != nil || r.err != nil {
		t.Fatalf("handshake: client %v, server %v", cliErr, r.err)
	}
	return cli, r.c
}

// Configurations shared by the tests below: a tlsflow client trusting the
// test CA and asking for "localhost", and servers with each kind of key,
// all limited to TLS 1.2, the version these tests are about.

func clientConfig() *tlsflow.Config {
	return &tlsflow.Config{RootCAs: sharedCerts().ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12}
}

func serverConfig(leaf *pki.Leaf) *tlsflow.Config {
	return &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(leaf)}, MaxVersion: tlsflow.VersionTLS12}
}

// rsaKexConfigs are the course note's flow: the RSA key exchange, which
// has no ServerKeyExchange signature, so what a man in the middle changes
// shows only at Finished.
func rsaKexConfigs() (cli, srv *tlsflow.Config) {
	suites := []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}
	cli, srv = clientConfig(), serverConfig(sharedCerts().rsa)
	cli.CipherSuites, srv.CipherSuites = suites, suites
	return cli, srv
}

func TestClientRefusesServerCertificate(t *testing.T) {
	c := sharedCerts()
	now := time.Now()
	expired := c.ca.MustIssue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"localhost"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
	aExample := c.ca.MustServer(pki.ECDSAP256, "a.example")
	isExpired := func(err error) bool {
		var inv x509.CertificateInvalidError
		return errors.As(err, &inv) && inv.Reason == x509.Expired
	}

	tests := []struct {
		name    string
		leaf    *pki.Leaf
		config  func(*tlsflow.Config)
		want    alertWant
		x509Err func(error) bool // finds the crypto/x509 error behind it
	}{
		{
			name:   "wrong host name",
			leaf:   aExample,
			config: func(cfg *tlsflow.Config) { cfg.ServerName = "b.example" },
			want: sent(alert.BadCertificate, 3, "Certificate",
				"the certificate is for a.example, you asked for b.example"),
			x509Err: func(err error) bool { var h x509.HostnameError; return errors.As(err, &h) && h.Host == "b.example" },
		},
		{
			name:    "server certificate expired",
			leaf:    expired,
			config:  func(*tlsflow.Config) {},
			want:    sent(alert.CertificateExpired, 3, "Certificate", "expired"),
			x509Err: isExpired,
		},
		{
			name:    "client clock after NotAfter (Config.Time)",
			leaf:    c.ecdsa,
			config:  func(cfg *tlsflow.Config) { cfg.Time = func() time.Time { return now.Add(30 * 24 * time.Hour) } },
			want:    sent(alert.CertificateExpired, 3, "Certificate", "expired"),
			x509Err: isExpired,
		},
		{
			name:    "unknown CA",
			leaf:    c.ecdsa,
			config:  func(cfg *tlsflow.Config) { cfg.RootCAs = c.otherCA.Pool },
			want:    sent(alert.UnknownCA, 3, "Certificate", "server certificate rejected"),
			x509Err: func(err error) bool { var u x509.UnknownAuthorityError; return errors.As(err, &u) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			servers := []endpoint{
				tlsflowServer(serverConfig(tt.leaf)),
				goServer(&tls.Config{Certificates: []tls.Certificate{goCert(tt.leaf)}, MaxVersion: tls.VersionTLS12}),
			}
			for _, server := range servers {
				t.Run(server.name, func(t *testing.T) {
					cfg := clientConfig()
					tt.config(cfg)
					cliErr, srvErr := handshakeBoth(t, tlsflowClient(cfg), server, nil)
					checkAlert(t, "client", cliErr, tt.want)
					var cve *tlsflow.CertificateVerificationError
					if !errors.As(cliErr, &cve) || len(cve.UnverifiedCertificates) == 0 {
						t.Errorf("client: no CertificateVerificationError with the chain in %v", cliErr)
					}
					if !tt.x509Err(cliErr) {
						t.Errorf("client: the crypto/x509 error is not reachable through %v", cliErr)
					}
					checkPeerReceived(t, server, srvErr, tt.want.alert, 4)
				})
			}
		})
	}
}

func requireClientCert() *tlsflow.Config {
	cfg := serverConfig(sharedCerts().ecdsa)
	cfg.ClientAuth = tlsflow.RequireAndVerifyClientCert
	cfg.ClientCAs = sharedCerts().ca.Pool
	return cfg
}

func TestServerRequiringClientCertificateRefusesClientWithNone(t *testing.T) {
	c := sharedCerts()
	onlyFromOther := clientConfig()
	onlyFromOther.Certificates = []tlsflow.Certificate{flowCert(c.clientFromOther)}
	tests := []struct {
		name   string
		client endpoint
	}{
		{"tlsflow client without certificates", tlsflowClient(clientConfig())},
		// The client will not offer a certificate the server's CA list rules
		// out; it sends none, and the server decides.
		{"tlsflow client holding only a certificate from another CA", tlsflowClient(onlyFromOther)},
		{"crypto/tls client without certificates",
			goClient(&tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cliErr, srvErr := handshakeBoth(t, tt.client, tlsflowServer(requireClientCert()), nil)
			checkAlert(t, "server", srvErr, sent(alert.HandshakeFailure, 5, "Certificate",
				"requires a client certificate", "CN=tlsflow test CA", "the client sent none"))
			checkPeerReceived(t, tt.client, cliErr, alert.HandshakeFailure, 7)
		})
	}
}

func TestServerRefusesClientCertificateFromUnacceptedCA(t *testing.T) {
	c := sharedCerts()
	// Both clients force the stranger's certificate past their own
	// filtering with GetClientCertificate.
	goCfg := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert := goCert(c.clientFromOther)
			return &cert, nil
		}}
	flowCfg := clientConfig()
	flowCfg.GetClientCertificate = func(*tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
		cert := flowCert(c.clientFromOther)
		return &cert, nil
	}
	for _, client := range []endpoint{goClient(goCfg), tlsflowClient(flowCfg)} {
		t.Run(client.name, func(t *testing.T) {
			t.Parallel()
			cliErr, srvErr := handshakeBoth(t, client, tlsflowServer(requireClientCert()), nil)
			checkAlert(t, "server", srvErr, sent(alert.UnknownCA, 5, "Certificate", "client certificate rejected"))
			var cve *tlsflow.CertificateVerificationError
			var unknown x509.UnknownAuthorityError
			if !errors.As(srvErr, &cve) || !errors.As(srvErr, &unknown) {
				t.Errorf("server: CertificateVerificationError and x509.UnknownAuthorityError not reachable through %v", srvErr)
			}
			checkPeerReceived(t, client, cliErr, alert.UnknownCA, 7)
		})
	}
}

func TestNoCommonCipherSuite(t *testing.T) {
	c := sharedCerts()
	rsaKexOnly := clientConfig()
	rsaKexOnly.CipherSuites = []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}
	ecdheRSAOnly := clientConfig()
	ecdheRSAOnly.CipherSuites = []uint16{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	ecdsaServerWithRSAKex := serverConfig(c.ecdsa)
	ecdsaServerWithRSAKex.CipherSuites = []uint16{tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}

	tests := []struct {
		name           string
		client, server endpoint
		serverSays     []string // what each side offers, and why it does not fit
	}{
		{
			name:   "client offers only ECDHE-RSA, server has an ECDSA certificate",
			client: tlsflowClient(ecdheRSAOnly), server: tlsflowServer(serverConfig(c.ecdsa)),
			serverSays: []string{"the client offers TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;",
				"this server accepts TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDSA P-256 certificate"},
		},
		{
			name:   "both enable the RSA key exchange, but the server's certificate is ECDSA",
			client: tlsflowClient(rsaKexOnly), server: tlsflowServer(ecdsaServerWithRSAKex),
			serverSays: []string{"the client offers TLS_RSA_WITH_AES_128_GCM_SHA256;",
				"TLS_RSA_WITH_AES_128_GCM_SHA256 needs an RSA certificate, the server's key is ECDSA P-256"},
		},
		{
			name: "crypto/tls client offers only CBC suites",
			client: goClient(&tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}),
			server:     tlsflowServer(serverConfig(c.ecdsa)),
			serverSays: []string{"the client offers 0xc009, 0xc00a", "this server accepts TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cliErr, srvErr := handshakeBoth(t, tt.client, tt.server, nil)
			checkAlert(t, "server", srvErr, sent(alert.HandshakeFailure, 2, "ServerHello",
				append([]string{"no common cipher suite"}, tt.serverSays...)...))
			checkPeerReceived(t, tt.client, cliErr, alert.HandshakeFailure, 1)
		})
	}
}

// clientHelloRecord is a ClientHello as an old or odd client would send it,
// in a handshake record.
func clientHelloRecord(version uint16, exts wire.Extensions) []byte {
	ch := &wire.ClientHello{Version: version, CompressionMethods: []uint8{0}, Extensions: exts,
		CipherSuites: []uint16{tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0xc009 /* ECDHE_ECDSA_AES_128_CBC_SHA */}}
	_, _ = rand.Read(ch.Random[:])
	msg := must(ch.Marshal())
	return append([]byte{byte(record.Handshake), 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// ssl2ClientHello is an SSL 2.0 CLIENT-HELLO (RFC 6101 Appendix E.2): a
// 2-byte record header with the high bit set, msg_type 1, version 3.1.
func ssl2ClientHello() []byte {
	body := []byte{1, 3, 1, 0, 21, 0, 0, 0, 16}
	for i := 0; i < 7; i++ {
		body = append(body, 0, 0xc0, byte(0x09+i))
	}
	body = append(body, make([]byte, 16)...) // challenge
	return append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...)
}

// rawClient sends bytes to a tlsflow server, closes its half and returns
// what the server answered and the server's error.
func rawClient(t *testing.T, srvCfg *tlsflow.Config, hello []byte) (reply []byte, srvErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvDone := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			srvDone <- err
			return
		}
		srvDone <- handshakeOnly(raw, tlsflowServer(srvCfg))
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := raw.Write(hello); err != nil {
		t.Fatal(err)
	}
	_ = raw.(*net.TCPConn).CloseWrite()
	reply, err = io.ReadAll(raw)
	checkNoHang(t, "raw client", err)
	return reply, <-srvDone
}

func TestServerRefusesObsoleteProtocolVersions(t *testing.T) {
	tls11Only := wire.SupportedVersionsClient{0x0302, 0x0301}
	var withSupportedVersions wire.Extensions
	withSupportedVersions.Add(wire.ExtSupportedVersions, &tls11Only)
	alertRecord := func(a alert.Alert) []byte {
		return []byte{byte(record.Alert), 3, 3, 0, 2, byte(alert.LevelFatal), byte(a)}
	}
	tests := []struct {
		name  string
		hello []byte
		want  alertWant
		reply []byte // the alert record, if one is due
	}{
		{
			name:  "legacy_version TLS 1.1, no supported_versions",
			hello: clientHelloRecord(0x0302, nil),
			want:  sent(alert.ProtocolVersion, 1, "ClientHello", "the client offers at most TLS 1.1"),
			reply: alertRecord(alert.ProtocolVersion),
		},
		{
			name:  "legacy_version TLS 1.0, no supported_versions",
			hello: clientHelloRecord(0x0301, nil),
			want:  sent(alert.ProtocolVersion, 1, "ClientHello", "the client offers at most TLS 1.0"),
			reply: alertRecord(alert.ProtocolVersion),
		},
		{
			name:  "supported_versions lists TLS 1.1 and 1.0 only",
			hello: clientHelloRecord(0x0303, withSupportedVersions),
			want:  sent(alert.ProtocolVersion, 1, "ClientHello", "no common version: the client offers TLS 1.1, TLS 1.0"),
			reply: alertRecord(alert.ProtocolVersion),
		},
		{
			name:  "SSL 2.0 ClientHello",
			hello: ssl2ClientHello(),
			want:  sent(alert.ProtocolVersion, anyStep, "", "SSL 2.0"),
		},
		{
			name:  "plain HTTP",
			hello: []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
			want:  sent(alert.DecodeError, anyStep, "", "plain HTTP"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The server's default versions: refusing old ones must not
			// depend on MaxVersion.
			srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(sharedCerts().ecdsa)}}
			reply, srvErr := rawClient(t, srvCfg, tt.hello)
			checkAlert(t, "server", srvErr, tt.want)
			if tt.reply != nil && string(reply) != string(tt.reply) {
				t.Errorf("server answered % x; want the alert record % x", reply, tt.reply)
			}
			if len(reply) > 0 && reply[0] != byte(record.Alert) {
				t.Errorf("server answered % x; want nothing but an alert", reply)
			}
		})
	}

	t.Run("crypto/tls client limited to TLS 1.0-1.1", func(t *testing.T) {
		t.Parallel()
		cli := goClient(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		cliErr, srvErr := handshakeBoth(t, cli, tlsflowServer(serverConfig(sharedCerts().ecdsa)), nil)
		checkAlert(t, "server", srvErr, sent(alert.ProtocolVersion, 1, "ClientHello", "TLS 1.1"))
		checkPeerReceived(t, cli, cliErr, alert.ProtocolVersion, 1)
	})
}

func TestPeerClosingInsideARecordFailsWithoutHanging(t *testing.T) {
	tests := []struct {
		name string
		dir  direction
		cut  recordEditor
		// victim is the side that reads the cut record.
		victim string
	}{
		{"server flight cut after 10 bytes of its first record", serverToClient,
			cutRecord(record.Handshake, 0, 10), "client"},
		{"client Finished cut after 3 bytes", clientToServer,
			cutRecord(record.Handshake, 2, 3), "server"},
		{"record header cut after 2 bytes", serverToClient,
			cutRecord(record.Handshake, 0, -3), "client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cli, srv := rsaKexConfigs()
			via := newMITM(tt.dir, tt.cut)
			start := time.Now()
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), via)
			if !via.done() {
				t.Fatal("the man in the middle never found the record to cut")
			}
			errs := map[string]error{"client": cliErr, "server": srvErr}
			for who, err := range errs {
				checkNoHang(t, who, err)
				if err == nil {
					t.Errorf("%s: the handshake succeeded over a cut connection", who)
				}
			}
			checkCutInsideARecord(t, tt.victim, errs[tt.victim])
			if d := time.Since(start); d > ioTimeout/2 {
				t.Errorf("took %v to notice", d)
			}
		})
	}
}

// TestManInTheMiddleChangingOneByteFailsTheHandshake changes one byte of a
// plaintext handshake message in transit. TLS 1.2 must never complete
// such a handshake; which check catches it depends on what the byte feeds:
//   - a random feeds the key block, so the two sides derive different keys
//     and the first protected record, the client's Finished, fails its AEAD
//     tag (bad_record_mac) before its verify_data can even be compared;
//   - a byte that keeps the keys equal (turning extended_master_secret into
//     an unknown extension, so both fall back to the RFC 5246 master
//     secret) leaves only the transcript different, and the server's
//     Finished check fails (decrypt_error);
//   - with ECDHE the ServerKeyExchange signature covers both randoms, so a
//     changed random fails there, at step 3.
func TestManInTheMiddleChangingOneByteFailsTheHandshake(t *testing.T) {
	rsaKex := rsaKexConfigs
	ecdhe := func() (*tlsflow.Config, *tlsflow.Config) {
		return clientConfig(), serverConfig(sharedCerts().ecdsa)
	}
	tests := []struct {
		name               string
		configs            func() (cli, srv *tlsflow.Config)
		dir                direction
		flip               *handshakeFlip
		wantServer, wantCl alertWant
	}{
		{
			name: "ClientHello random, RSA key exchange", configs: rsaKex, dir: clientToServer,
			flip: flipHandshakeByte(wire.TypeClientHello, atOffset(randomOffset+5)),
			// The record that fails is the first after the client's
			// ChangeCipherSpec: its Finished (step 7).
			wantServer: sent(alert.BadRecordMAC, 7, "Finished"), wantCl: receivedAt(alert.BadRecordMAC, 7),
		},
		{
			name: "ClientHello extended_master_secret made unrecognisable, RSA key exchange", configs: rsaKex, dir: clientToServer,
			flip:       flipHandshakeByte(wire.TypeClientHello, atExtensionType(wire.ExtExtendedMasterSecret)),
			wantServer: sent(alert.DecryptError, 7, "Finished", "verify_data does not match"),
			wantCl:     receivedAt(alert.DecryptError, 7),
		},
		{
			name: "ServerHello random, RSA key exchange", configs: rsaKex, dir: serverToClient,
			flip:       flipHandshakeByte(wire.TypeServerHello, atOffset(randomOffset)),
			wantServer: sent(alert.BadRecordMAC, 7, "Finished"), wantCl: receivedAt(alert.BadRecordMAC, 7),
		},
		{
			name: "ServerHello random, ECDHE", configs: ecdhe, dir: serverToClient,
			flip:       flipHandshakeByte(wire.TypeServerHello, atOffset(randomOffset+31)),
			wantServer: receivedAt(alert.DecryptError, 4),
			wantCl:     sent(alert.DecryptError, 3, "ServerKeyExchange", "signature over the ECDHE parameters does not verify"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cli, srv := tt.configs()
			via := newMITM(tt.dir, tt.flip)
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), via)
			if !via.done() {
				t.Fatal("the man in the middle never found the byte to change")
			}
			checkAlert(t, "server", srvErr, tt.wantServer)
			checkAlert(t, "client", cliErr, tt.wantCl)
		})
	}

	t.Run("nothing changed", func(t *testing.T) {
		// The relay itself must be transparent, or the failures above
		// would prove nothing.
		t.Parallel()
		cli, srv := rsaKexConfigs()
		via := newMITM(clientToServer, flipHandshakeByte(wire.TypeClientHello, atOffset(-1)))
		cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), via)
		if cliErr != nil || srvErr != nil {
			t.Fatalf("untouched handshake through the relay failed: client %v, server %v", cliErr, srvErr)
		}
	})
}

func TestRecordsAfterTheHandshake(t *testing.T) {
	t.Run("forged application data is bad_record_mac", func(t *testing.T) {
		t.Parallel()
		cliCfg, srvCfg := rsaKexConfigs()
		via := newMITM(clientToServer, flipRecordByte(record.ApplicationData, 0, 17))
		cli, srv := connectedPair(t, cliCfg, srvCfg, via)
		if _, err := cli.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		_, srvErr := srv.Read(make([]byte, 100))
		if !via.done() {
			t.Fatal("the man in the middle never changed the record")
		}
		// After the handshake it is step 8's data that failed, on
		// both sides: a TLS 1.2 server checked the client's Finished
		// before sending its own, so the client knows its handshake was
		// accepted.
		checkAlert(t, "server", srvErr, sent(alert.BadRecordMAC, 8, ""))
		var re *record.Error
		if !errors.As(srvErr, &re) || !errors.Is(srvErr, record.ErrBadRecordMAC) {
			t.Errorf("server: record.ErrBadRecordMAC not reachable through %v", srvErr)
		}
		_, cliErr := cli.Read(make([]byte, 100))
		checkAlert(t, "client", cliErr, alertWant{alert: alert.BadRecordMAC, received: true, step: 8, message: "application data"})
		// The failure is final: the server reads nothing more.
		if _, err := srv.Read(make([]byte, 1)); err == nil {
			t.Error("server: Read succeeded after bad_record_mac")
		}
	})
	t.Run("TLS 1.3: forged application data is step 8 at the server; the client cannot tell it from its Finished", func(t *testing.T) {
		t.Parallel()
		cliCfg, srvCfg := clientConfig(), serverConfig(sharedCerts().ecdsa)
		cliCfg.MaxVersion, srvCfg.MaxVersion = tlsflow.VersionTLS13, tlsflow.VersionTLS13
		// The client's first application_data record carries its
		// Finished, the second its data.
		via := newMITM(clientToServer, flipRecordByte(record.ApplicationData, 1, 17))
		cli, srv := connectedPair(t, cliCfg, srvCfg, via)
		if _, err := cli.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		_, srvErr := srv.Read(make([]byte, 100))
		if !via.done() {
			t.Fatal("the man in the middle never changed the record")
		}
		checkAlert(t, "server", srvErr, sent(alert.BadRecordMAC, 8, ""))
		// A TLS 1.3 server judges the client's Finished after the
		// client may have sent data: a record of ours that failed can be
		// either, and the error says so.
		_, cliErr := cli.Read(make([]byte, 100))
		checkAlert(t, "client", cliErr, alertWant{alert: alert.BadRecordMAC, received: true, step: 8,
			message: "after Finished and application data"})
	})
	t.Run("TLS 1.3: an alert after the server's handshake is about step 8", func(t *testing.T) {
		t.Parallel()
		cliCfg, srvCfg := clientConfig(), serverConfig(sharedCerts().ecdsa)
		cliCfg.MaxVersion, srvCfg.MaxVersion = tlsflow.VersionTLS13, tlsflow.VersionTLS13
		data := make([]byte, 300)
		via := newMITM(serverToClient, &recordOfLengthFlip{n: record.HeaderLen + len(data) + 1 + 16})
		cli, srv := connectedPair(t, cliCfg, srvCfg, via)
		if _, err := srv.Write(data); err != nil {
			t.Fatal(err)
		}
		_, cliErr := io.ReadFull(cli, make([]byte, len(data)))
		if !via.done() {
			t.Fatal("the man in the middle never changed the record")
		}
		checkAlert(t, "client", cliErr, sent(alert.BadRecordMAC, 8, ""))
		// The client checked the server's Finished before sending its
		// own: nothing it says afterwards is about the handshake, even
		// before it sent any data.
		_, srvErr := srv.Read(make([]byte, 1))
		checkAlert(t, "server", srvErr, alertWant{alert: alert.BadRecordMAC, received: true, step: 8, message: "application data"})
	})
	t.Run("application data record cut in the middle", func(t *testing.T) {
		t.Parallel()
		cliCfg, srvCfg := rsaKexConfigs()
		via := newMITM(clientToServer, cutRecord(record.ApplicationData, 0, 20))
		cli, srv := connectedPair(t, cliCfg, srvCfg, via)
		if _, err := cli.Write(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		n, err := srv.Read(make([]byte, 100))
		if n != 0 {
			t.Errorf("server: Read returned %d bytes of a record that never ended", n)
		}
		checkCutInsideARecord(t, "server", err)
	})
	t.Run("TCP closed without close_notify is reported as possible truncation", func(t *testing.T) {
		t.Parallel()
		cliCfg, srvCfg := rsaKexConfigs()
		via := newMITM(clientToServer, cutRecord(record.ApplicationData, 0, 1<<16))
		cli, srv := connectedPair(t, cliCfg, srvCfg, via)
		if _, err := cli.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		if n, err := srv.Read(buf); err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("server: Read = %q, %v; want the whole record before the cut", buf[:n], err)
		}
		_, err := srv.Read(buf)
		checkNoHang(t, "server", err)
		checkAlert(t, "server", err, alertWant{alert: alert.CloseNotify, received: true, step: 8,
			text: []string{"without close_notify"}})
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			t.Errorf("server: err = %v; want io.ErrUnexpectedEOF, not a clean io.EOF", err)
		}
	})
}

// ---- a man in the middle ----
//
// mitm relays one TCP connection between a client and a server, record by
// record, and lets a recordEditor change one direction: flip a byte of a
// chosen handshake message, flip a byte of a protected record, or cut the
// stream inside a record. It is written to be lifted out for the demo's
// --tamper flag: only start, a thin adapter, knows about testing.

// direction names a byte stream through the man in the middle.
type direction int

const (
	clientToServer direction = iota
	serverToClient
)

// recordEditor sees each record of one direction whole, header included,
// in order, and returns the bytes to forward in its place: the record as it
// came or changed, several records held back until now, or nothing yet.
// cut ends the relay right after forwarding, closing both TCP connections
// as a crashed peer or a hostile network would.
type recordEditor interface {
	edit(rec []byte) (forward []byte, cut bool)
	// done reports whether the editor has made its change.
	done() bool
}

type mitm struct {
	dir    direction
	editor recordEditor

	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	closed bool
	wg     sync.WaitGroup
}

func newMITM(dir direction, e recordEditor) *mitm { return &mitm{dir: dir, editor: e} }

// done reports whether the editor made its change.
func (m *mitm) done() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.editor.done()
}

// listen starts relaying the first connection accepted on a loopback port
// to target, and returns the address the client should dial.
func (m *mitm) listen(target string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	m.ln = ln
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		client, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", target)
		if err != nil {
			client.Close()
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed {
			client.Close()
			server.Close()
			return
		}
		m.conns = append(m.conns, client, server)
		var once sync.Once
		stop := func() { once.Do(func() { client.Close(); server.Close() }) }
		m.wg.Add(2)
		go func() { defer m.wg.Done(); m.relay(server, client, m.dir == clientToServer, stop) }()
		go func() { defer m.wg.Done(); m.relay(client, server, m.dir == serverToClient, stop) }()
	}()
	return ln.Addr().String(), nil
}

// close ends the relay and waits for it to stop.
func (m *mitm) close() {
	m.mu.Lock()
	m.closed = true
	if m.ln != nil {
		m.ln.Close()
	}
	for _, c := range m.conns {
		c.Close()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// start is listen for a test, which closes the relay when it ends.
func (m *mitm) start(t *testing.T, target string) string {
	t.Helper()
	addr, err := m.listen(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.close)
	return addr
}

// relay copies records from src to dst, through the editor if edit is set.
func (m *mitm) relay(dst, src net.Conn, edit bool, stop func()) {
	for {
		rec, err := readRawRecord(src)
		if err != nil {
			// Pass on what came and the end of the stream, as a router would.
			_, _ = dst.Write(rec)
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
		out, cut := rec, false
		if edit {
			m.mu.Lock()
			out, cut = m.editor.edit(rec)
			m.mu.Unlock()
		}
		if _, err := dst.Write(out); err != nil || cut {
			stop()
			return
		}
	}
}

// readRawRecord reads one record, header and fragment, in a fresh slice. On
// error it returns the bytes it did read.
func readRawRecord(r io.Reader) ([]byte, error) {
	hdr := make([]byte, record.HeaderLen)
	if n, err := io.ReadFull(r, hdr); err != nil {
		return hdr[:n], err
	}
	rec := make([]byte, record.HeaderLen+(int(hdr[3])<<8|int(hdr[4])))
	copy(rec, hdr)
	n, err := io.ReadFull(r, rec[record.HeaderLen:])
	return rec[:record.HeaderLen+n], err
}

// handshakeFlip XORs 0xff into one byte of the first plaintext handshake
// message of a type: the byte at(msg) says, counted from the start of the
// message's 4-byte header. Records are held back while the message is
// incomplete, so a message spanning records is handled like any other.
type handshakeFlip struct {
	msgType wire.HandshakeType
	at      func(msg []byte) int

	flipped   bool
	encrypted bool     // a ChangeCipherSpec went by: handshake records are opaque from here on
	held      [][]byte // records held back
	stream    []byte   // their handshake bytes, in order
}

// randomOffset is where the random starts in a ClientHello or ServerHello:
// after the message header and the 2-byte version.
const randomOffset = 4 + 2

func flipHandshakeByte(t wire.HandshakeType, at func([]byte) int) *handshakeFlip {
	return &handshakeFlip{msgType: t, at: at}
}

// atOffset is a fixed offset; a negative one matches no byte.
func atOffset(n int) func([]byte) int { return func([]byte) int { return n } }

// atExtensionType finds the first byte of an extension's type in a
// ClientHello or ServerHello, or -1.
func atExtensionType(ext wire.ExtensionType) func([]byte) int {
	return func(msg []byte) int {
		s := cryptobyte.String(msg[4:])
		var sid, exts cryptobyte.String
		if !s.Skip(2+32) || !s.ReadUint8LengthPrefixed(&sid) {
			return -1
		}
		if wire.HandshakeType(msg[0]) == wire.TypeClientHello {
			var suites, compression cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&compression) {
				return -1
			}
		} else if !s.Skip(2 + 1) { // cipher_suite, compression_method
			return -1
		}
		if !s.ReadUint16LengthPrefixed(&exts) {
			return -1
		}
		for !exts.Empty() {
			offset := len(msg) - len(s) - len(exts)
			var typ uint16
			var data cryptobyte.String
			if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
				return -1
			}
			if wire.ExtensionType(typ) == ext {
				return offset
			}
		}
		return -1
	}
}

func (h *handshakeFlip) done() bool { return h.flipped }

func (h *handshakeFlip) edit(rec []byte) ([]byte, bool) {
	typ := record.ContentType(rec[0])
	if typ == record.ChangeCipherSpec {
		h.encrypted = true
	}
	if typ != record.Handshake || h.encrypted || h.flipped {
		return h.release(rec), false
	}
	h.held = append(h.held, rec)
	h.stream = append(h.stream, rec[record.HeaderLen:]...)
	for off := 0; len(h.stream)-off >= 4; {
		n := int(h.stream[off+1])<<16 | int(h.stream[off+2])<<8 | int(h.stream[off+3])
		if len(h.stream)-off < 4+n {
			break
		}
		msg := h.stream[off : off+4+n]
		if wire.HandshakeType(msg[0]) == h.msgType && !h.flipped {
			if i := h.at(msg); i >= 0 && i < len(msg) {
				h.flipAt(off + i)
			}
		}
		if off += 4 + n; off == len(h.stream) {
			return h.release(nil), false
		}
	}
	return nil, false
}

// flipAt changes the byte at position p of the held handshake stream, in
// the held record that carries it.
func (h *handshakeFlip) flipAt(p int) {
	for _, rec := range h.held {
		if body := len(rec) - record.HeaderLen; p >= body {
			p -= body
			continue
		}
		rec[record.HeaderLen+p] ^= 0xff
		h.flipped = true
		return
	}
}

// release returns the held records followed by rec, and holds nothing more.
func (h *handshakeFlip) release(rec []byte) []byte {
	var out []byte
	for _, r := range h.held {
		out = append(out, r...)
	}
	h.held, h.stream = nil, nil
	return append(out, rec...)
}

// recordFlip XORs 0xff into the byte fromEnd bytes before the end of the
// nth record (from 0) of a content type: with fromEnd 17, the last byte of
// ciphertext before a 16-byte AEAD tag.
type recordFlip struct {
	typ          record.ContentType
	nth, fromEnd int
	seen         int
	flipped      bool
}

func flipRecordByte(typ record.ContentType, nth, fromEnd int) *recordFlip {
	return &recordFlip{typ: typ, nth: nth, fromEnd: fromEnd}
}

func (f *recordFlip) done() bool { return f.flipped }

func (f *recordFlip) edit(rec []byte) ([]byte, bool) {
	if record.ContentType(rec[0]) != f.typ {
		return rec, false
	}
	if f.seen++; f.seen-1 == f.nth && len(rec)-f.fromEnd >= record.HeaderLen {
		rec[len(rec)-f.fromEnd] ^= 0xff
		f.flipped = true
	}
	return rec, false
}

// recordOfLengthFlip XORs 0xff into the last byte of ciphertext of the
// first application_data record of n bytes, header included.
type recordOfLengthFlip struct {
	n       int
	flipped bool
}

func (f *recordOfLengthFlip) done() bool { return f.flipped }

func (f *recordOfLengthFlip) edit(rec []byte) ([]byte, bool) {
	if !f.flipped && record.ContentType(rec[0]) == record.ApplicationData && len(rec) == f.n {
		rec[len(rec)-17] ^= 0xff
		f.flipped = true
	}
	return rec, false
}

// recordCut forwards the nth record (from 0) of a content type only up to
// keep bytes of its fragment, then ends the connection. A negative keep
// cuts into the header (-3 keeps 2 of its 5 bytes); a keep beyond the
// fragment forwards the whole record and cuts at the boundary after it.
type recordCut struct {
	typ       record.ContentType
	nth, keep int
	seen      int
	cut       bool
}

func cutRecord(typ record.ContentType, nth, keep int) *recordCut {
	return &recordCut{typ: typ, nth: nth, keep: keep}
}

func (c *recordCut) done() bool { return c.cut }

func (c *recordCut) edit(rec []byte) ([]byte, bool) {
	if record.ContentType(rec[0]) != c.typ {
		return rec, false
	}
	if c.seen++; c.seen-1 != c.nth {
		return rec, false
	}
	c.cut = true
	return rec[:min(len(rec), max(0, record.HeaderLen+c.keep))], true
}
