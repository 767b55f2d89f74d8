package tlsflow_test

// crypto/tls's Config fields and small methods under tlsflow (issue 11):
// ClientAuthType.String, the deprecated fields that still mean something
// (SessionTicketKey, NameToCertificate), those accepted and ignored,
// Conn.VerifyHostname, the ConnectionState flags, the handshake's context
// in the certificate callbacks, and the ClientHello's extensions and
// point formats in ClientHelloInfo.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
)

// TestClientAuthTypeString: the names crypto/tls gives, out-of-range
// values included.
func TestClientAuthTypeString(t *testing.T) {
	for i := range 7 {
		got, want := tlsflow.ClientAuthType(i).String(), tls.ClientAuthType(i).String()
		if got != want {
			t.Errorf("ClientAuthType(%d).String() = %q; crypto/tls says %q", i, got, want)
		}
	}
	if got := tlsflow.RequireAndVerifyClientCert.String(); got != "RequireAndVerifyClientCert" {
		t.Errorf("RequireAndVerifyClientCert.String() = %q", got)
	}
}

// TestSessionTicketKeySharedByServers: two servers, separate Configs with
// the same SessionTicketKey, resume each other's sessions in both versions
// (a ticket from the first opens at the second), and a different key does
// not. SetSessionTicketKeys takes precedence over the field.
func TestSessionTicketKeySharedByServers(t *testing.T) {
	c := sharedCerts()
	key := [32]byte{1, 2, 3}
	server := func(k [32]byte) *tlsflow.Config {
		return &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, SessionTicketKey: k}
	}
	overridden := server(key)
	if err := overridden.SetSessionTicketKeys([][32]byte{{9}}); err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		for _, tc := range []struct {
			name   string
			second *tlsflow.Config
			resume bool
		}{
			{"same key", server(key), true},
			{"other key", server([32]byte{4, 5, 6}), false},
			{"same key, SetSessionTicketKeys called", overridden, false},
		} {
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v,
					ClientSessionCache: tlsflow.NewLRUClientSessionCache(1)}
				first, _ := connPair(t, cli, server(key))
				readTicket(first)
				again, _ := connPair(t, cli, tc.second)
				if got := again.ConnectionState().DidResume; got != tc.resume {
					t.Errorf("DidResume = %v; want %v", got, tc.resume)
				}
			})
		}
	}
}

// readTicket lets a TLS 1.3 client read the server's NewSessionTicket,
// which arrives after the handshake: a read that times out at once.
func readTicket(c *tlsflow.Conn) {
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	c.Read(make([]byte, 1))
	c.SetReadDeadline(time.Time{})
}

// TestBuildNameToCertificate: each certificate under its DNS names, or its
// common name when it has none, pointing into Certificates.
func TestBuildNameToCertificate(t *testing.T) {
	ca := sharedCerts().ca
	withSANs := flowCert(ca.MustIssue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"a.example", "www.a.example"}, CommonName: "cn.example"}))
	wildcard := flowCert(ca.MustIssue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"*.b.example"}}))
	cnOnly := flowCert(ca.MustIssue(pki.LeafOptions{KeyType: pki.ECDSAP256, CommonName: "c.example"}))
	cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{withSANs, wildcard, cnOnly, {Certificate: [][]byte{{1, 2, 3}}}}}
	cfg.BuildNameToCertificate()
	want := map[string]*tlsflow.Certificate{
		"a.example": &cfg.Certificates[0], "www.a.example": &cfg.Certificates[0],
		"*.b.example": &cfg.Certificates[1], "c.example": &cfg.Certificates[2],
	}
	if len(cfg.NameToCertificate) != len(want) {
		t.Errorf("NameToCertificate has %d names; want %d: %v", len(cfg.NameToCertificate), len(want), mapKeys(cfg.NameToCertificate))
	}
	for name, cert := range want {
		if cfg.NameToCertificate[name] != cert {
			t.Errorf("NameToCertificate[%q] is not the certificate for it", name)
		}
	}
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestServerPicksCertificateByNameToCertificate: a server with
// NameToCertificate serves the certificate it maps the requested name to
// (exact, in any case, then the wildcard for the first label) and falls
// back to Certificates for other names; GetCertificate is asked first.
func TestServerPicksCertificateByNameToCertificate(t *testing.T) {
	c := sharedCerts()
	www := flowCert(c.ca.MustServer(pki.ECDSAP256, "www.example.com"))
	wild := flowCert(c.ca.MustServer(pki.ECDSAP256, "*.example.org"))
	fromCallback := flowCert(c.ca.MustServer(pki.ECDSAP256, "www.example.com"))
	for _, tc := range []struct {
		name, serverName string
		callback         bool
		want             *tlsflow.Certificate
	}{
		{"exact name", "www.example.com", false, &www},
		{"name in another case", "WWW.Example.COM", false, &www},
		{"wildcard", "api.example.org", false, &wild},
		{"no entry: Certificates", "localhost", false, nil},
		{"GetCertificate first", "www.example.com", true, &fromCallback},
		{"GetCertificate without an answer", "api.example.org", true, &wild},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)},
				NameToCertificate: map[string]*tlsflow.Certificate{"www.example.com": &www, "*.example.org": &wild}}
			if tc.callback {
				srv.GetCertificate = func(chi *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
					if chi.ServerName == "www.example.com" {
						return &fromCallback, nil
					}
					return nil, nil
				}
			}
			cli, _ := connPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: tc.serverName}, srv)
			got := cli.ConnectionState().PeerCertificates[0].Raw
			want := c.ecdsa.Chain[0]
			if tc.want != nil {
				want = tc.want.Certificate[0]
			}
			if !slices.Equal(got, want) {
				t.Errorf("the server sent the certificate for %v; want the one for %v", parse(t, got).DNSNames, parse(t, want).DNSNames)
			}
		})
	}
}

func parse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestVerifyHostname: after a handshake that verified the server, the
// client checks further names against its certificate (names and IP
// addresses); a server connection, an unfinished handshake and an
// unverified chain (InsecureSkipVerify) are errors, as in crypto/tls.
func TestVerifyHostname(t *testing.T) {
	c := sharedCerts()
	srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}
	cli, srv := connPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}, srvCfg)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if err := cli.VerifyHostname(host); err != nil {
			t.Errorf("VerifyHostname(%q) = %v; the certificate is for it", host, err)
		}
	}
	var he x509.HostnameError
	if err := cli.VerifyHostname("example.com"); !errors.As(err, &he) {
		t.Errorf("VerifyHostname(example.com) = %v; want an x509.HostnameError", err)
	}
	if err := srv.VerifyHostname("localhost"); err == nil {
		t.Error("VerifyHostname on a server connection succeeded")
	}
	if err := tlsflow.Client(nopConn{}, &tlsflow.Config{ServerName: "localhost"}).VerifyHostname("localhost"); err == nil {
		t.Error("VerifyHostname before the handshake succeeded")
	}
	insecure, _ := connPair(t, &tlsflow.Config{InsecureSkipVerify: true}, srvCfg)
	if err := insecure.VerifyHostname("localhost"); err == nil {
		t.Error("VerifyHostname succeeded on a chain InsecureSkipVerify did not verify")
	}
}

// TestConnectionStateCompatibilityFlags: NegotiatedProtocolIsMutual is
// always true (deprecated in crypto/tls), ECHAccepted false until tlsflow
// has ECH.
func TestConnectionStateCompatibilityFlags(t *testing.T) {
	c := sharedCerts()
	for _, v := range versions {
		cli, srv := connPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v, NextProtos: []string{"h2"}},
			&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, NextProtos: []string{"h2"}})
		for side, cs := range map[string]tlsflow.ConnectionState{"client": cli.ConnectionState(), "server": srv.ConnectionState()} {
			if !cs.NegotiatedProtocolIsMutual || cs.ECHAccepted {
				t.Errorf("%s %s: NegotiatedProtocolIsMutual %v, ECHAccepted %v; want true, false",
					v.name, side, cs.NegotiatedProtocolIsMutual, cs.ECHAccepted)
			}
		}
	}
}

// TestIgnoredConfigFieldsChangeNothing: PreferServerCipherSuites and
// DynamicRecordSizingDisabled are accepted and, either way, the server
// chooses the suite by its ranking and writes full records from the first
// byte (the first record after the handshake carries 16 KiB).
func TestIgnoredConfigFieldsChangeNothing(t *testing.T) {
	c := sharedCerts()
	for _, set := range []bool{false, true} {
		a, b := testpeer.Loopback(t, 10*time.Second)
		rec := &writeRecorder{Conn: b}
		srv := tlsflow.Server(rec, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)},
			PreferServerCipherSuites: set, DynamicRecordSizingDisabled: set})
		cli := tlsflow.Client(a, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12,
			CipherSuites: []uint16{tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}})
		done := make(chan error, 1)
		go func() {
			if err := srv.Handshake(); err != nil {
				done <- err
				return
			}
			rec.start()
			_, err := srv.Write(make([]byte, 40000))
			done <- err
		}()
		if _, err := cli.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := cli.ConnectionState().CipherSuite; got != tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
			t.Errorf("fields set %v: suite %s; want the server's first choice, AES-256-GCM", set, tlsflow.CipherSuiteName(got))
		}
		if first := rec.first(); first < 16384 {
			t.Errorf("fields set %v: the first record written after the handshake is %d bytes; want a full one", set, first)
		}
		cli.Close()
		srv.Close()
	}
}

// writeRecorder records the size of the first Write after start.
type writeRecorder struct {
	net.Conn
	mu       sync.Mutex
	started  bool
	firstLen int
}

func (w *writeRecorder) start() { w.mu.Lock(); w.started = true; w.mu.Unlock() }

func (w *writeRecorder) first() int { w.mu.Lock(); defer w.mu.Unlock(); return w.firstLen }

func (w *writeRecorder) Write(b []byte) (int, error) {
	w.mu.Lock()
	if w.started && w.firstLen == 0 {
		w.firstLen = len(b)
	}
	w.mu.Unlock()
	return w.Conn.Write(b)
}

type ctxKey struct{}

// TestCallbacksSeeTheHandshakeContext: GetCertificate and
// GetClientCertificate get the context given to HandshakeContext
// (ClientHelloInfo.Context, CertificateRequestInfo.Context); a hand-made
// info has context.Background.
func TestCallbacksSeeTheHandshakeContext(t *testing.T) {
	c := sharedCerts()
	for _, v := range versions {
		var srvSaw, cliSaw any
		srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, ClientAuth: tlsflow.RequireAnyClientCert,
			GetCertificate: func(chi *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
				srvSaw = chi.Context().Value(ctxKey{})
				return nil, nil
			}}
		client := flowCert(c.client)
		cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v,
			GetClientCertificate: func(cri *tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
				cliSaw = cri.Context().Value(ctxKey{})
				return &client, nil
			}}
		a, b := testpeer.Loopback(t, 10*time.Second)
		done := make(chan error, 1)
		go func() {
			done <- tlsflow.Server(b, srv).HandshakeContext(context.WithValue(context.Background(), ctxKey{}, "server"))
		}()
		err := tlsflow.Client(a, cli).HandshakeContext(context.WithValue(context.Background(), ctxKey{}, "client"))
		if srvErr := <-done; err != nil || srvErr != nil {
			t.Fatalf("%s: handshake: client %v, server %v", v.name, err, srvErr)
		}
		if srvSaw != "server" || cliSaw != "client" {
			t.Errorf("%s: GetCertificate saw %v, GetClientCertificate %v; want the handshake's context values server, client",
				v.name, srvSaw, cliSaw)
		}
	}
	if (&tlsflow.ClientHelloInfo{}).Context() != context.Background() || (&tlsflow.CertificateRequestInfo{}).Context() != context.Background() {
		t.Error("a hand-made ClientHelloInfo or CertificateRequestInfo has a context other than context.Background")
	}
}

// TestClientHelloInfoExtensionsAndPoints: GetCertificate sees the
// ClientHello's extension types in the order sent, unknown ones included,
// and its ec_point_formats.
func TestClientHelloInfoExtensionsAndPoints(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			var seen *tlsflow.ClientHelloInfo
			cfg := tlsflowServerConfig(v.v)
			cfg.GetCertificate = func(chi *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
				seen = chi
				return nil, nil
			}
			var sent []uint16
			p, done := hostileClient(t, cfg, nil)
			mutate := testpeer.MutateType(func(ch *wire.ClientHello) {
				ch.Extensions = append(wire.Extensions{{Type: 0xfafa}}, ch.Extensions...)
				putExtension(&ch.Extensions, wire.ExtECPointFormats, must(wire.ECPointFormats{0, 1, 2}.Marshal()))
				for _, e := range ch.Extensions {
					sent = append(sent, uint16(e.Type))
				}
			})
			flowErr := clientHandshake(p, v.v, &testpeer.ClientOptions{ServerName: "localhost", Script: testpeer.Script{Mutate: mutate}})
			if err := victimErr(t, done); err != nil || flowErr != nil {
				t.Fatalf("handshake: server %v, client %v", err, flowErr)
			}
			if seen == nil {
				t.Fatal("GetCertificate was not called")
			}
			if !slices.Equal(seen.Extensions, sent) {
				t.Errorf("Extensions = %#04x; the client sent %#04x", seen.Extensions, sent)
			}
			if !slices.Equal(seen.SupportedPoints, []uint8{0, 1, 2}) {
				t.Errorf("SupportedPoints = %v; the client sent [0 1 2]", seen.SupportedPoints)
			}
		})
	}
}
