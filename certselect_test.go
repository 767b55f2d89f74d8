package tlsflow_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/pki"
)

// Certificate selection (certselect.go in internal/handshake): a server
// with several certificates shows each client one it can verify; a client
// answers a CertificateRequest with the first of its certificates that fits.

var (
	p384Once sync.Once
	p384Leaf *pki.Leaf
)

// ecdsaP384Leaf is a server certificate for localhost with a P-384 key,
// from the shared test CA.
func ecdsaP384Leaf() *pki.Leaf {
	p384Once.Do(func() { p384Leaf = sharedCerts().ca.MustServer(pki.ECDSAP384, "localhost", "127.0.0.1") })
	return p384Leaf
}

// keyKind names the kind of a certificate's key, for comparisons.
func keyKind(c *x509.Certificate) string {
	if c == nil {
		return "none"
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return "other"
}

// handshakeStates runs a handshake between a tlsflow client and server
// over loopback TCP and returns what each side saw, or the errors.
func handshakeStates(t *testing.T, cli, srv *tlsflow.Config) (cs, ss tlsflow.ConnectionState, cliErr, srvErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		state tlsflow.ConnectionState
		err   error
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
		server := tlsflow.Server(raw, srv)
		err = server.Handshake()
		done <- result{server.ConnectionState(), err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	client := tlsflow.Client(raw, cli)
	cliErr = client.Handshake()
	r := <-done
	return client.ConnectionState(), r.state, cliErr, r.err
}

// served is the kind of certificate a tlsflow client was shown.
func served(t *testing.T, cli, srv *tlsflow.Config) string {
	t.Helper()
	cs, _, cliErr, srvErr := handshakeStates(t, cli, srv)
	if cliErr != nil || srvErr != nil {
		t.Fatalf("handshake failed: client %v; server %v", cliErr, srvErr)
	}
	if len(cs.PeerCertificates) == 0 {
		t.Fatal("the server sent no certificate")
	}
	return keyKind(cs.PeerCertificates[0])
}

func serverWith(version uint16, leaves ...*pki.Leaf) *tlsflow.Config {
	cfg := &tlsflow.Config{MinVersion: version, MaxVersion: version}
	for _, l := range leaves {
		cfg.Certificates = append(cfg.Certificates, flowCert(l))
	}
	return cfg
}

func clientAt(version uint16, schemes ...tlsflow.SignatureScheme) *tlsflow.Config {
	return &tlsflow.Config{RootCAs: sharedCerts().ca.Pool, ServerName: "localhost",
		MinVersion: version, MaxVersion: version, SignatureSchemes: schemes}
}

var (
	ecdsaSchemes = []tlsflow.SignatureScheme{tlsflow.ECDSAWithP256AndSHA256, tlsflow.ECDSAWithP384AndSHA384}
	pssSchemes   = []tlsflow.SignatureScheme{tlsflow.PSSWithSHA256, tlsflow.PSSWithSHA384}
	pkcs1Schemes = []tlsflow.SignatureScheme{tlsflow.PKCS1WithSHA256, tlsflow.PKCS1WithSHA384}
)

func TestServerShowsTheCertificateTheClientCanVerify(t *testing.T) {
	c := sharedCerts()
	rsaThenECDSA := []*pki.Leaf{c.rsa, c.ecdsa}
	ecdsaThenRSA := []*pki.Leaf{c.ecdsa, c.rsa}
	rsaKex := []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	tests := []struct {
		name         string
		version      uint16
		certs        []*pki.Leaf
		schemes      []tlsflow.SignatureScheme // the client's signature_algorithms
		clientSuites []uint16
		serverSuites []uint16
		want         string
	}{
		{"TLS 1.3, client verifies ECDSA only", tlsflow.VersionTLS13, rsaThenECDSA, ecdsaSchemes, nil, nil, "ECDSA P-256"},
		{"TLS 1.3, client verifies RSA-PSS only", tlsflow.VersionTLS13, ecdsaThenRSA, pssSchemes, nil, nil, "RSA"},
		{"TLS 1.3, both fit: the first configured", tlsflow.VersionTLS13, rsaThenECDSA, nil, nil, nil, "RSA"},
		{"TLS 1.3, both fit: the first configured, other order", tlsflow.VersionTLS13, ecdsaThenRSA, nil, nil, nil, "ECDSA P-256"},
		{"TLS 1.2, client verifies ECDSA only", tlsflow.VersionTLS12, rsaThenECDSA, ecdsaSchemes, nil, nil, "ECDSA P-256"},
		{"TLS 1.2, client verifies RSA PKCS #1 only", tlsflow.VersionTLS12, ecdsaThenRSA, pkcs1Schemes, nil, nil, "RSA"},
		{"TLS 1.2, client verifies RSA-PSS only", tlsflow.VersionTLS12, ecdsaThenRSA, pssSchemes, nil, nil, "RSA"},
		{"TLS 1.2, client offers ECDHE_RSA suites only", tlsflow.VersionTLS12, ecdsaThenRSA, nil,
			[]uint16{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, nil, "RSA"},
		{"TLS 1.2, client offers ECDHE_ECDSA suites only", tlsflow.VersionTLS12, rsaThenECDSA, nil,
			[]uint16{tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, nil, "ECDSA P-256"},
		// The RSA key exchange signs nothing: an ECDSA-only
		// signature_algorithms does not rule out the RSA certificate.
		{"TLS 1.2, RSA key exchange only, client verifies ECDSA only", tlsflow.VersionTLS12, ecdsaThenRSA, ecdsaSchemes,
			[]uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}, rsaKex, "RSA"},
		// The server's ranking of suites comes first: ECDHE_ECDSA above
		// ECDHE_RSA, so the ECDSA certificate, though configured second.
		{"TLS 1.2, the server's suite ranking decides before the order", tlsflow.VersionTLS12, rsaThenECDSA, nil, nil, nil, "ECDSA P-256"},
		// Among the certificates that serve the chosen suite, the order.
		{"TLS 1.2, same suite: the first configured", tlsflow.VersionTLS12, []*pki.Leaf{ecdsaP384Leaf(), c.ecdsa}, nil, nil, nil, "ECDSA P-384"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cli, srv := clientAt(tt.version, tt.schemes...), serverWith(tt.version, tt.certs...)
			cli.CipherSuites, srv.CipherSuites = tt.clientSuites, tt.serverSuites
			if got := served(t, cli, srv); got != tt.want {
				t.Errorf("client was shown the %s certificate, want %s", got, tt.want)
			}
		})
	}
}

func TestServerPassesOverAnECDSACurveTheClientDoesNotSupport(t *testing.T) {
	// TLS 1.2: supported_groups names the curves the client can verify
	// (RFC 8422 §5.1); without P-384 in it, the P-384 certificate is out.
	c := sharedCerts()
	cli := clientAt(tlsflow.VersionTLS12)
	cli.CurvePreferences = []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256}
	if got := served(t, cli, serverWith(tlsflow.VersionTLS12, ecdsaP384Leaf(), c.ecdsa)); got != "ECDSA P-256" {
		t.Errorf("TLS 1.2: client was shown the %s certificate, want ECDSA P-256", got)
	}
	// TLS 1.3 ties the curve to the signature scheme, not to the groups.
	cli = clientAt(tlsflow.VersionTLS13)
	cli.CurvePreferences = []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256}
	if got := served(t, cli, serverWith(tlsflow.VersionTLS13, ecdsaP384Leaf(), c.ecdsa)); got != "ECDSA P-384" {
		t.Errorf("TLS 1.3: client was shown the %s certificate, want ECDSA P-384", got)
	}
}

func TestServerWithNoFittingCertificateSaysWhy(t *testing.T) {
	c := sharedCerts()
	tests := []struct {
		name    string
		version uint16
		step    int
		message string
		says    []string
	}{
		{"TLS 1.3", tlsflow.VersionTLS13, 3, "CertificateVerify",
			[]string{"no certificate of this server fits the client's signature_algorithms",
				"RSA-2048 (localhost) certificate: no signature scheme the client accepts fits the RSA-2048 key",
				"ECDSA P-256 (localhost) certificate: no signature scheme the client accepts fits the ECDSA P-256 key",
				"the client accepts ed25519"}},
		{"TLS 1.2", tlsflow.VersionTLS12, 2, "ServerHello",
			[]string{"no common cipher suite", "with its certificates RSA-2048 (localhost), ECDSA P-256 (localhost)",
				"RSA-2048 (localhost) certificate:", "ECDSA P-256 (localhost) certificate:",
				"no signature scheme the client accepts fits the certificate's key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cli := clientAt(tt.version, tlsflow.Ed25519)
			_, _, cliErr, srvErr := handshakeStates(t, cli, serverWith(tt.version, c.rsa, c.ecdsa))
			checkAlert(t, "server", srvErr, sent(alert.HandshakeFailure, tt.step, tt.message, tt.says...))
			checkAlert(t, "client", cliErr, received(alert.HandshakeFailure))
		})
	}
}

func TestServerPrefersCertificatesForTheRequestedName(t *testing.T) {
	c := sharedCerts()
	rsaB := c.ca.MustServer(pki.RSA2048, "b.example")
	ecdsaA := c.ca.MustServer(pki.ECDSAP256, "a.example")
	ecdsaB := c.ca.MustServer(pki.ECDSAP256, "b.example")
	tests := []struct {
		name           string
		serverName     string
		schemes        []tlsflow.SignatureScheme
		want13, want12 *pki.Leaf
	}{
		// In TLS 1.2 the server's suite ranking (ECDHE_ECDSA first) comes
		// before the order of the certificates for the name.
		{"the name picks among certificates that all fit", "b.example", nil, rsaB, ecdsaB},
		{"the name, then what the client verifies", "b.example", ecdsaSchemes, ecdsaB, ecdsaB},
		{"the name, then what the client verifies, RSA", "b.example", pssSchemes, rsaB, rsaB},
		{"the other name", "a.example", nil, ecdsaA, ecdsaA},
		// No certificate for the name: the first that fits, as with one
		// certificate; the client then judges the name.
		{"no certificate for the name", "c.example", nil, rsaB, ecdsaA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
				cli := clientAt(v, tt.schemes...)
				cli.ServerName = tt.serverName
				cli.InsecureSkipVerify = tt.serverName == "c.example"
				cs, _, cliErr, srvErr := handshakeStates(t, cli, serverWith(v, rsaB, ecdsaA, ecdsaB))
				if cliErr != nil || srvErr != nil {
					t.Fatalf("%s: handshake failed: client %v; server %v", tlsflow.VersionName(v), cliErr, srvErr)
				}
				want := tt.want13
				if v == tlsflow.VersionTLS12 {
					want = tt.want12
				}
				if got := cs.PeerCertificates[0]; !got.Equal(want.Cert) {
					t.Errorf("%s: client was shown %s %v, want %s %v", tlsflow.VersionName(v),
						keyKind(got), got.DNSNames, keyKind(want.Cert), want.Cert.DNSNames)
				}
			}
		})
	}
}

func TestClientSendsTheFirstCertificateThatFitsTheRequest(t *testing.T) {
	c := sharedCerts()
	rsaClient := c.ca.MustClient(pki.RSA2048, "rsa client")
	ecdsaClient := c.ca.MustClient(pki.ECDSAP256, "ecdsa client")
	tests := []struct {
		name  string
		certs []*pki.Leaf
		// The server's Config.SignatureSchemes are both what its
		// CertificateRequest lists and what it signs with: its own
		// certificate must fit them.
		serverCert *pki.Leaf
		schemes    []tlsflow.SignatureScheme
		want       string
	}{
		{"server verifies ECDSA only", []*pki.Leaf{rsaClient, ecdsaClient}, c.ecdsa, ecdsaSchemes, "ECDSA P-256"},
		{"server verifies RSA-PSS only", []*pki.Leaf{ecdsaClient, rsaClient}, c.rsa, pssSchemes, "RSA"},
		{"both fit: the first", []*pki.Leaf{rsaClient, ecdsaClient}, c.ecdsa, nil, "RSA"},
		{"both fit: the first, other order", []*pki.Leaf{ecdsaClient, rsaClient}, c.ecdsa, nil, "ECDSA P-256"},
		// RFC 5246 §7.4.6, RFC 8446 §4.4.2: nothing fits, nothing is sent.
		{"nothing fits: no certificate", []*pki.Leaf{rsaClient}, c.ecdsa, ecdsaSchemes, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
				cli := clientAt(v)
				for _, l := range tt.certs {
					cli.Certificates = append(cli.Certificates, flowCert(l))
				}
				srv := serverWith(v, tt.serverCert)
				srv.ClientAuth = tlsflow.RequestClientCert
				srv.SignatureSchemes = tt.schemes
				_, ss, cliErr, srvErr := handshakeStates(t, cli, srv)
				if cliErr != nil || srvErr != nil {
					t.Fatalf("%s: handshake failed: client %v; server %v", tlsflow.VersionName(v), cliErr, srvErr)
				}
				var got *x509.Certificate
				if len(ss.PeerCertificates) > 0 {
					got = ss.PeerCertificates[0]
				}
				if kind := keyKind(got); kind != tt.want {
					t.Errorf("%s: server received %s client certificate, want %s", tlsflow.VersionName(v), kind, tt.want)
				}
			}
		})
	}
}

// crypto/tls's client cannot restrict signature_algorithms, but in TLS 1.2
// its cipher suites say which key it can use.
func TestCryptoTLSClientIsShownTheCertificateItsSuitesNeed(t *testing.T) {
	c := sharedCerts()
	tests := []struct {
		name  string
		suite uint16
		want  string
	}{
		{"ECDHE_ECDSA only", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDSA P-256"},
		{"ECDHE_RSA only", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "RSA"},
	}
	for _, tt := range tests {
		for _, certs := range [][]*pki.Leaf{{c.rsa, c.ecdsa}, {c.ecdsa, c.rsa}} {
			t.Run(tt.name+", "+keyKind(certs[0].Cert)+" first", func(t *testing.T) {
				t.Parallel()
				var shown *x509.Certificate
				cli := goClient(&tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
					CipherSuites: []uint16{tt.suite},
					VerifyConnection: func(cs tls.ConnectionState) error {
						shown = cs.PeerCertificates[0]
						return nil
					}})
				cliOut, srvOut := runPair(t, cli, tlsflowServer(serverWith(tlsflow.VersionTLS12, certs...)), nil)
				if cliOut.err != nil || srvOut.err != nil {
					t.Fatalf("crypto/tls client: %v; tlsflow server: %v", cliOut.err, srvOut.err)
				}
				if got := keyKind(shown); got != tt.want {
					t.Errorf("crypto/tls client was shown the %s certificate, want %s", got, tt.want)
				}
			})
		}
	}
}

// A GetCertificate callback can make the same choice with
// ClientHelloInfo.SupportsCertificate.
func TestGetCertificateCanChooseWithSupportsCertificate(t *testing.T) {
	c := sharedCerts()
	candidates := []tlsflow.Certificate{flowCert(c.rsa), flowCert(c.ecdsa)}
	srv := &tlsflow.Config{GetCertificate: func(hello *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
		var why []string
		for i := range candidates {
			err := hello.SupportsCertificate(&candidates[i])
			if err == nil {
				return &candidates[i], nil
			}
			why = append(why, err.Error())
		}
		return nil, errors.New(strings.Join(why, "; "))
	}}
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		if got := served(t, clientAt(v, ecdsaSchemes...), srv); got != "ECDSA P-256" {
			t.Errorf("%s, client verifies ECDSA only: shown %s", tlsflow.VersionName(v), got)
		}
		if got := served(t, clientAt(v, pssSchemes...), srv); got != "RSA" {
			t.Errorf("%s, client verifies RSA-PSS only: shown %s", tlsflow.VersionName(v), got)
		}
	}
}

// Inside the callback, SupportsCertificate judges by the server's own
// Config: a server that enables only ECDHE_RSA suites cannot use an ECDSA
// certificate in TLS 1.2, though tlsflow's defaults could.
func TestSupportsCertificateInGetCertificateUsesTheServerConfig(t *testing.T) {
	c := sharedCerts()
	ecdsaCert := flowCert(c.ecdsa)
	var verdict error
	srv := &tlsflow.Config{
		MaxVersion:   tlsflow.VersionTLS12,
		CipherSuites: []uint16{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		GetCertificate: func(hello *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
			verdict = hello.SupportsCertificate(&ecdsaCert)
			rsa := flowCert(c.rsa)
			return &rsa, nil
		},
	}
	if got := served(t, clientAt(tlsflow.VersionTLS12), srv); got != "RSA" {
		t.Fatalf("shown %s, want RSA", got)
	}
	if verdict == nil {
		t.Fatal("SupportsCertificate accepted an ECDSA certificate for a server that enables only ECDHE_RSA suites")
	}
}

func TestClientHelloInfoSupportsCertificate(t *testing.T) {
	c := sharedCerts()
	rsaCert, ecdsaCert, ecdsa384 := flowCert(c.rsa), flowCert(c.ecdsa), flowCert(ecdsaP384Leaf())
	tls13 := []uint16{tlsflow.VersionTLS13, tlsflow.VersionTLS12}
	tls12 := []uint16{tlsflow.VersionTLS12}
	all := implementedSuiteIDs()
	ecdsaOnly := []tlsflow.SignatureScheme{tlsflow.ECDSAWithP256AndSHA256}
	p256 := []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256}
	tests := []struct {
		name string
		info tlsflow.ClientHelloInfo
		cert *tlsflow.Certificate
		says string // "" means supported
	}{
		{"TLS 1.3, ECDSA scheme, ECDSA key", tlsflow.ClientHelloInfo{SupportedVersions: tls13, SignatureSchemes: ecdsaOnly, CipherSuites: all}, &ecdsaCert, ""},
		{"TLS 1.3, ECDSA scheme, RSA key", tlsflow.ClientHelloInfo{SupportedVersions: tls13, SignatureSchemes: ecdsaOnly, CipherSuites: all}, &rsaCert,
			"TLS 1.3: no signature scheme the client accepts fits the RSA-2048 key"},
		{"TLS 1.3, P-256 scheme, P-384 key", tlsflow.ClientHelloInfo{SupportedVersions: tls13, SignatureSchemes: ecdsaOnly, CipherSuites: all}, &ecdsa384,
			"fits the ECDSA P-384 key"},
		{"TLS 1.3, PKCS #1 only", tlsflow.ClientHelloInfo{SupportedVersions: tls13, SignatureSchemes: []tlsflow.SignatureScheme{tlsflow.PKCS1WithSHA256}, CipherSuites: all}, &rsaCert,
			"no signature scheme"},
		{"TLS 1.2, PKCS #1 only", tlsflow.ClientHelloInfo{SupportedVersions: tls12, SignatureSchemes: []tlsflow.SignatureScheme{tlsflow.PKCS1WithSHA256}, CipherSuites: all, SupportedCurves: p256}, &rsaCert, ""},
		{"TLS 1.2, ECDHE_RSA suites only, ECDSA key", tlsflow.ClientHelloInfo{SupportedVersions: tls12, SignatureSchemes: ecdsaOnly,
			CipherSuites: []uint16{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, SupportedCurves: p256}, &ecdsaCert, "needs an RSA certificate"},
		{"TLS 1.2, curve not supported", tlsflow.ClientHelloInfo{SupportedVersions: tls12, CipherSuites: all, SupportedCurves: p256,
			SignatureSchemes: []tlsflow.SignatureScheme{tlsflow.ECDSAWithP384AndSHA384}}, &ecdsa384, "curve secp384r1 is not in the client's supported_groups"},
		{"TLS 1.2, no suite in common", tlsflow.ClientHelloInfo{SupportedVersions: tls12, CipherSuites: []uint16{0xc009}, SupportedCurves: p256}, &ecdsaCert,
			"no cipher suite in common"},
		{"server name covered", tlsflow.ClientHelloInfo{ServerName: "localhost", SupportedVersions: tls13, SignatureSchemes: ecdsaOnly}, &ecdsaCert, ""},
		{"server name not covered", tlsflow.ClientHelloInfo{ServerName: "other.example", SupportedVersions: tls13, SignatureSchemes: ecdsaOnly}, &ecdsaCert,
			"not valid for the requested name"},
		{"no version in common", tlsflow.ClientHelloInfo{SupportedVersions: []uint16{0x0302}, SignatureSchemes: ecdsaOnly}, &ecdsaCert, "no protocol version in common"},
		{"empty certificate", tlsflow.ClientHelloInfo{SupportedVersions: tls13, SignatureSchemes: ecdsaOnly}, &tlsflow.Certificate{}, "empty certificate chain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.info.SupportsCertificate(tt.cert)
			switch {
			case tt.says == "" && err != nil:
				t.Errorf("SupportsCertificate = %v, want nil", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Errorf("SupportsCertificate = %v, want an error saying %q", err, tt.says)
			}
		})
	}
}

func TestCertificateRequestInfoSupportsCertificate(t *testing.T) {
	c := sharedCerts()
	client, stranger := flowCert(c.client), flowCert(c.clientFromOther)
	rsaClient := flowCert(c.ca.MustClient(pki.RSA2048, "rsa client"))
	ours := [][]byte{c.ca.Cert.RawSubject}
	tests := []struct {
		name string
		info tlsflow.CertificateRequestInfo
		cert *tlsflow.Certificate
		says string
	}{
		{"scheme fits", tlsflow.CertificateRequestInfo{Version: tlsflow.VersionTLS13, SignatureSchemes: ecdsaSchemes}, &client, ""},
		{"no scheme fits", tlsflow.CertificateRequestInfo{Version: tlsflow.VersionTLS13, SignatureSchemes: pssSchemes}, &client,
			"no signature scheme the server accepts fits the ECDSA P-256 key"},
		{"PKCS #1 in TLS 1.2", tlsflow.CertificateRequestInfo{Version: tlsflow.VersionTLS12, SignatureSchemes: pkcs1Schemes}, &rsaClient, ""},
		{"PKCS #1 not in TLS 1.3", tlsflow.CertificateRequestInfo{Version: tlsflow.VersionTLS13, SignatureSchemes: pkcs1Schemes}, &rsaClient, "no signature scheme"},
		{"from a named authority", tlsflow.CertificateRequestInfo{Version: tlsflow.VersionTLS13, SignatureSchemes: ecdsaSchemes, AcceptableCAs: ours}, &client, ""},
		{"from another authority", tlsflow.CertificateRequestInfo{Version: tlsflow.VersionTLS13, SignatureSchemes: ecdsaSchemes, AcceptableCAs: ours}, &stranger,
			"does not come from an authority the server named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.info.SupportsCertificate(tt.cert)
			switch {
			case tt.says == "" && err != nil:
				t.Errorf("SupportsCertificate = %v, want nil", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Errorf("SupportsCertificate = %v, want an error saying %q", err, tt.says)
			}
		})
	}
}
