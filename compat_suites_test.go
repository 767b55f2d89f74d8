package tlsflow_test

// crypto/tls's constants under tlsflow: versions, cipher suites and
// signature schemes, with crypto/tls's names, values and typing, and what
// tlsflow does with the ones it does not implement (issue 11).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/pki"
)

// implementedSuiteIDs are the IDs of every suite tlsflow implements, the
// RSA key exchange included, strongest first.
func implementedSuiteIDs() []uint16 {
	var ids []uint16
	for _, s := range append(tlsflow.CipherSuites(), tlsflow.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}

// connPair connects a tlsflow client and server over loopback TCP and
// runs both handshakes; the test fails unless both succeed. The
// connections are closed when the test ends.
func connPair(t *testing.T, cli, srv *tlsflow.Config) (client, server *tlsflow.Conn) {
	t.Helper()
	a, b := testpeer.Loopback(t, 10*time.Second)
	client, server = tlsflow.Client(a, cli), tlsflow.Server(b, srv)
	done := make(chan error, 1)
	go func() { done <- server.Handshake() }()
	cliErr := client.Handshake()
	if cliErr != nil {
		a.Close()
	}
	if srvErr := <-done; cliErr != nil || srvErr != nil {
		t.Fatalf("handshake: client %v, server %v", cliErr, srvErr)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// The version constants are untyped, as crypto/tls's: they fit an int as
// well as a uint16 (this is checked by compiling).
var (
	_ int    = tlsflow.VersionTLS12
	_ int    = tlsflow.VersionTLS13
	_ uint16 = tlsflow.VersionTLS10
	_ uint16 = tlsflow.VersionTLS11
	_ uint16 = tlsflow.VersionSSL30
)

// TestVersionConstantsHaveCryptoTLSValues: the same numbers as crypto/tls.
func TestVersionConstantsHaveCryptoTLSValues(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uint16
	}{
		{"VersionSSL30", tlsflow.VersionSSL30, tls.VersionSSL30},
		{"VersionTLS10", tlsflow.VersionTLS10, tls.VersionTLS10},
		{"VersionTLS11", tlsflow.VersionTLS11, tls.VersionTLS11},
		{"VersionTLS12", tlsflow.VersionTLS12, tls.VersionTLS12},
		{"VersionTLS13", tlsflow.VersionTLS13, tls.VersionTLS13},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#04x, crypto/tls has %#04x", c.name, c.got, c.want)
		}
	}
}

// TestMaxVersionBelowTLS12IsAConfigurationError: tlsflow has no TLS 1.0
// or 1.1, so a MaxVersion below TLS 1.2 leaves nothing to speak. The
// handshake fails on either side before any byte is sent (nopConn panics
// on any read or write), with no alert, a reason that says why and a hint
// that says what to change.
func TestMaxVersionBelowTLS12IsAConfigurationError(t *testing.T) {
	srvCert := []tlsflow.Certificate{flowCert(sharedCerts().ecdsa)}
	for _, max := range []uint16{tlsflow.VersionTLS10, tlsflow.VersionTLS11, tlsflow.VersionSSL30} {
		for _, side := range []struct {
			name string
			conn *tlsflow.Conn
		}{
			{"client", tlsflow.Client(nopConn{}, &tlsflow.Config{ServerName: "localhost", MaxVersion: max})},
			{"server", tlsflow.Server(nopConn{}, &tlsflow.Config{Certificates: srvCert, MaxVersion: max})},
		} {
			err := side.conn.Handshake()
			var e *tlsflow.Error
			switch {
			case !errors.As(err, &e):
				t.Errorf("%s, MaxVersion %s: error %v; want a *tlsflow.Error", side.name, tlsflow.VersionName(max), err)
			case !strings.Contains(e.Reason, "RFC 8996") || !strings.Contains(e.Reason, "TLS 1.2 and 1.3"):
				t.Errorf("%s, MaxVersion %s: reason %q; want it to say tlsflow implements TLS 1.2 and 1.3 (RFC 8996)",
					side.name, tlsflow.VersionName(max), e.Reason)
			case !strings.Contains(e.Hint, "MaxVersion"):
				t.Errorf("%s, MaxVersion %s: hint %q; want it to say what to do with MaxVersion", side.name, tlsflow.VersionName(max), e.Hint)
			}
			var a tlsflow.AlertError
			if errors.As(err, &a) {
				t.Errorf("%s: alert %v found; a configuration error sends none", side.name, a)
			}
		}
	}
}

// TestMinVersionBelowTLS12MeansTLS12: code written for crypto/tls that
// sets MinVersion to TLS 1.0 connects, from TLS 1.2 up.
func TestMinVersionBelowTLS12MeansTLS12(t *testing.T) {
	c := sharedCerts()
	for _, max := range []uint16{tlsflow.VersionTLS12, 0} {
		cli, srv := connPair(t,
			&tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MinVersion: tlsflow.VersionTLS10, MaxVersion: max},
			&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MinVersion: tlsflow.VersionTLS11})
		want := uint16(tlsflow.VersionTLS13)
		if max != 0 {
			want = max
		}
		if got := cli.ConnectionState().Version; got != want {
			t.Errorf("MaxVersion %#04x: negotiated %s; want %s", max, tlsflow.VersionName(got), tlsflow.VersionName(want))
		}
		srv.Close()
	}
}

// TestCipherSuitesListsTheSecureImplementedSuites: CipherSuites is what
// tlsflow implements and enables by default (TLS 1.3 and ECDHE AEAD suites),
// InsecureCipherSuites the RSA key exchange it implements; each entry with
// its IANA name (crypto/tls's), its version, and fresh values each call.
// Both are within crypto/tls's lists of the same name.
func TestCipherSuitesListsTheSecureImplementedSuites(t *testing.T) {
	wantSecure := []uint16{
		tlsflow.TLS_AES_128_GCM_SHA256, tlsflow.TLS_AES_256_GCM_SHA384, tlsflow.TLS_CHACHA20_POLY1305_SHA256,
		tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tlsflow.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tlsflow.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tlsflow.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
	wantInsecure := []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_RSA_WITH_AES_256_GCM_SHA384}
	goSecure, goInsecure := map[uint16]bool{}, map[uint16]bool{}
	for _, s := range tls.CipherSuites() {
		goSecure[s.ID] = true
	}
	for _, s := range tls.InsecureCipherSuites() {
		goInsecure[s.ID] = true
	}
	for _, list := range []struct {
		name     string
		got      []*tlsflow.CipherSuite
		want     []uint16
		insecure bool
		inGo     map[uint16]bool
	}{
		{"CipherSuites", tlsflow.CipherSuites(), wantSecure, false, goSecure},
		{"InsecureCipherSuites", tlsflow.InsecureCipherSuites(), wantInsecure, true, goInsecure},
	} {
		var ids []uint16
		for _, s := range list.got {
			ids = append(ids, s.ID)
			version := uint16(tlsflow.VersionTLS12)
			if strings.HasPrefix(s.Name, "TLS_AES_") || strings.HasPrefix(s.Name, "TLS_CHACHA20_") {
				version = tlsflow.VersionTLS13
			}
			if s.Name != tls.CipherSuiteName(s.ID) || s.Name != tlsflow.CipherSuiteName(s.ID) {
				t.Errorf("%s: %#04x is named %q; crypto/tls says %q", list.name, s.ID, s.Name, tls.CipherSuiteName(s.ID))
			}
			if s.Insecure != list.insecure {
				t.Errorf("%s: %s has Insecure %v", list.name, s.Name, s.Insecure)
			}
			if !slices.Equal(s.SupportedVersions, []uint16{version}) {
				t.Errorf("%s: %s has SupportedVersions %#04x; want [%#04x]", list.name, s.Name, s.SupportedVersions, version)
			}
			if !list.inGo[s.ID] {
				t.Errorf("%s: %s is not in crypto/tls's %s", list.name, s.Name, list.name)
			}
		}
		slices.Sort(ids)
		want := slices.Sorted(slices.Values(list.want))
		if !slices.Equal(ids, want) {
			t.Errorf("%s = %#04x; want %#04x", list.name, ids, want)
		}
	}
	first := tlsflow.CipherSuites()
	first[0].Name, first[0].SupportedVersions[0] = "changed", 0
	if again := tlsflow.CipherSuites(); again[0].Name == "changed" || again[0].SupportedVersions[0] == 0 {
		t.Error("CipherSuites returns shared values: a caller's change shows in the next call")
	}
}

// unimplementedSuites are crypto/tls's constants for suites tlsflow does
// not implement, with crypto/tls's values.
var unimplementedSuites = []struct {
	name       string
	flow, goID uint16
}{
	{"TLS_RSA_WITH_RC4_128_SHA", tlsflow.TLS_RSA_WITH_RC4_128_SHA, tls.TLS_RSA_WITH_RC4_128_SHA},
	{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", tlsflow.TLS_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA},
	{"TLS_RSA_WITH_AES_128_CBC_SHA", tlsflow.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA},
	{"TLS_RSA_WITH_AES_256_CBC_SHA", tlsflow.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA},
	{"TLS_RSA_WITH_AES_128_CBC_SHA256", tlsflow.TLS_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA256},
	{"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", tlsflow.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
	{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
	{"TLS_ECDHE_RSA_WITH_RC4_128_SHA", tlsflow.TLS_ECDHE_RSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA},
	{"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", tlsflow.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA},
	{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", tlsflow.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA},
	{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", tlsflow.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256},
	{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", tlsflow.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
}

// TestCryptoTLSSuiteConstantsHaveTheirValuesAndNames: every suite constant
// crypto/tls has exists with its value, CipherSuiteName names it as
// crypto/tls does, and the unimplemented ones are in neither list.
func TestCryptoTLSSuiteConstantsHaveTheirValuesAndNames(t *testing.T) {
	listed := implementedSuiteIDs()
	for _, s := range unimplementedSuites {
		if s.flow != s.goID {
			t.Errorf("%s = %#04x; crypto/tls has %#04x", s.name, s.flow, s.goID)
		}
		if got := tlsflow.CipherSuiteName(s.flow); got != s.name {
			t.Errorf("CipherSuiteName(%#04x) = %q; want %q", s.flow, got, s.name)
		}
		if slices.Contains(listed, s.flow) {
			t.Errorf("%s is listed by CipherSuites or InsecureCipherSuites; tlsflow does not implement it", s.name)
		}
	}
	for _, c := range []struct {
		name       string
		flow, goID uint16
	}{
		{"TLS_FALLBACK_SCSV", tlsflow.TLS_FALLBACK_SCSV, tls.TLS_FALLBACK_SCSV},
		{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", tlsflow.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305},
		{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", tlsflow.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305},
	} {
		if c.flow != c.goID {
			t.Errorf("%s = %#04x; crypto/tls has %#04x", c.name, c.flow, c.goID)
		}
	}
	if got := tlsflow.CipherSuiteName(tlsflow.TLS_FALLBACK_SCSV); got != "TLS_FALLBACK_SCSV" {
		t.Errorf("CipherSuiteName(TLS_FALLBACK_SCSV) = %q", got)
	}
}

// TestUnimplementedSuitesInConfigAreIgnored: a Config.CipherSuites copied
// from crypto/tls code, with CBC, RC4 and 3DES suites and the fallback
// signal among AEAD ones, works: the unimplemented entries are not offered
// (the server's GetCertificate sees the ClientHello) and the AEAD suite
// is chosen. The old ChaCha20 names select the ChaCha20 suites.
func TestUnimplementedSuitesInConfigAreIgnored(t *testing.T) {
	c := sharedCerts()
	var legacy []uint16
	for _, s := range unimplementedSuites {
		legacy = append(legacy, s.flow)
	}
	for _, want := range []uint16{tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305} {
		var offered []uint16
		srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)},
			GetCertificate: func(chi *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
				offered = chi.CipherSuites
				return nil, nil
			}}
		cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12,
			CipherSuites: append(append(slices.Clone(legacy), tlsflow.TLS_FALLBACK_SCSV), want)}
		conn, _ := connPair(t, cli, srv)
		if got := conn.ConnectionState().CipherSuite; got != want {
			t.Errorf("negotiated %s; want %s", tlsflow.CipherSuiteName(got), tlsflow.CipherSuiteName(want))
		}
		for _, id := range append(legacy, tlsflow.TLS_FALLBACK_SCSV) {
			if slices.Contains(offered, id) {
				t.Errorf("the client offered %s; an unimplemented suite in Config.CipherSuites must be ignored", tlsflow.CipherSuiteName(id))
			}
		}
	}
}

// TestSHA1SchemesAreNeverOffered: crypto/tls's PKCS1WithSHA1 and
// ECDSAWithSHA1 exist with its values; in Config.SignatureSchemes they are
// dropped (the server sees only the others offered), and a list of
// nothing else is a configuration error.
func TestSHA1SchemesAreNeverOffered(t *testing.T) {
	if tlsflow.PKCS1WithSHA1 != tlsflow.SignatureScheme(tls.PKCS1WithSHA1) ||
		tlsflow.ECDSAWithSHA1 != tlsflow.SignatureScheme(tls.ECDSAWithSHA1) {
		t.Errorf("PKCS1WithSHA1 = %#04x, ECDSAWithSHA1 = %#04x; crypto/tls has %#04x, %#04x",
			uint16(tlsflow.PKCS1WithSHA1), uint16(tlsflow.ECDSAWithSHA1), uint16(tls.PKCS1WithSHA1), uint16(tls.ECDSAWithSHA1))
	}
	c := sharedCerts()
	sha1 := []tlsflow.SignatureScheme{tlsflow.PKCS1WithSHA1, tlsflow.ECDSAWithSHA1}
	for _, v := range versions {
		var offered []tlsflow.SignatureScheme
		srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)},
			GetCertificate: func(chi *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
				offered = chi.SignatureSchemes
				return nil, nil
			}}
		cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v,
			SignatureSchemes: append(slices.Clone(sha1), tlsflow.ECDSAWithP256AndSHA256)}
		connPair(t, cli, srv)
		if !slices.Equal(offered, []tlsflow.SignatureScheme{tlsflow.ECDSAWithP256AndSHA256}) {
			t.Errorf("%s: the client offered %v; want only ecdsa_secp256r1_sha256", v.name, offered)
		}
	}
	err := tlsflow.Client(nopConn{}, &tlsflow.Config{ServerName: "localhost", SignatureSchemes: sha1}).Handshake()
	if err == nil || !strings.Contains(err.Error(), "no signature scheme tlsflow implements") {
		t.Errorf("SignatureSchemes of SHA-1 only: %v; want a configuration error", err)
	}
}

// TestServerRefusesClientOfferingOnlySHA1Schemes: a TLS 1.2 client whose
// signature_algorithms holds only the SHA-1 schemes gets no signature
// from tlsflow: the handshake fails at the ClientHello.
func TestServerRefusesClientOfferingOnlySHA1Schemes(t *testing.T) {
	p, done := hostileClient(t, tlsflowServerConfig(tlsflow.VersionTLS12), nil)
	flowErr := p.ClientHandshake12(&testpeer.ClientOptions{
		SignatureSchemes: []uint16{uint16(tlsflow.PKCS1WithSHA1), uint16(tlsflow.ECDSAWithSHA1)}})
	if err := victimErr(t, done); err == nil {
		t.Fatalf("the server completed a handshake with a client offering only SHA-1 signatures (client: %v)", flowErr)
	}
}

// TestECDSAWithP521AndSHA512: crypto/tls's name for
// ecdsa_secp521r1_sha512, which a tlsflow client offers by default in both
// versions and a server signs with a P-521 key in TLS 1.3. (In TLS 1.2 an
// ECDSA certificate's curve must also be in the client's supported_groups,
// RFC 8422 §5.1, and tlsflow has no P-521 key exchange yet.)
func TestECDSAWithP521AndSHA512(t *testing.T) {
	if tlsflow.ECDSAWithP521AndSHA512 != tlsflow.SignatureScheme(tls.ECDSAWithP521AndSHA512) {
		t.Fatalf("ECDSAWithP521AndSHA512 = %#04x; crypto/tls has %#04x", uint16(tlsflow.ECDSAWithP521AndSHA512), uint16(tls.ECDSAWithP521AndSHA512))
	}
	c := sharedCerts()
	p521 := p521Leaf(t, c.ca)
	for _, v := range versions {
		var offered []tlsflow.SignatureScheme
		certs := []tlsflow.Certificate{p521}
		if v.v == tlsflow.VersionTLS12 {
			certs = []tlsflow.Certificate{flowCert(c.ecdsa)}
		}
		srv := &tlsflow.Config{Certificates: certs,
			GetCertificate: func(chi *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
				offered = chi.SignatureSchemes
				return nil, nil
			}}
		cli, _ := connPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v}, srv)
		if !slices.Contains(offered, tlsflow.ECDSAWithP521AndSHA512) {
			t.Errorf("%s: a default client offers %v, without ecdsa_secp521r1_sha512", v.name, offered)
		}
		if got := cli.ConnectionState().PeerCertificates[0].Raw; v.v == tlsflow.VersionTLS13 && !slices.Equal(got, p521.Certificate[0]) {
			t.Errorf("%s: the server did not use its P-521 certificate", v.name)
		}
	}
}

// p521Leaf issues a server certificate for localhost with a P-521 key
// (pki has no such key type).
func p521Leaf(t *testing.T, ca *pki.Authority) tlsflow.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(521), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tlsflow.Certificate{Certificate: [][]byte{der, ca.DER}, PrivateKey: key}
}
