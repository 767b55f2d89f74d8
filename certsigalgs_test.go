package tlsflow_test

import (
	"crypto/tls"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// Certificate.SupportedSignatureAlgorithms: a certificate that restricts
// the schemes its key signs with signs with the first of them the peer
// accepts, and is passed over when the peer accepts none of them.

var (
	rsaClientOnce sync.Once
	rsaClientLeaf *pki.Leaf
)

// rsaClient is a client certificate with an RSA-2048 key from the shared CA.
func rsaClient() *pki.Leaf {
	rsaClientOnce.Do(func() { rsaClientLeaf = sharedCerts().ca.MustClient(pki.RSA2048, "rsa client") })
	return rsaClientLeaf
}

var (
	secondRSAOnce sync.Once
	secondRSALeaf *pki.Leaf
)

// secondRSAServer is another RSA-2048 server certificate for localhost from
// the shared CA, told apart from sharedCerts().rsa by its bytes.
func secondRSAServer() *pki.Leaf {
	secondRSAOnce.Do(func() { secondRSALeaf = sharedCerts().ca.MustServer(pki.RSA2048, "localhost", "127.0.0.1") })
	return secondRSALeaf
}

// signatureLog records, from one side's trace, the signature_scheme of each
// signature it made (a ServerKeyExchange or CertificateVerify it sent) and
// of each it verified.
type signatureLog struct {
	mu               sync.Mutex
	signed, verified []string
}

func (l *signatureLog) hook(e trace.Event) {
	s := e.Field("signature_scheme")
	if s == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case e.Kind == trace.KindMessage && e.Direction == trace.Sent:
		l.signed = append(l.signed, s)
	case e.Kind == trace.KindVerified:
		l.verified = append(l.verified, s)
	}
}

func (l *signatureLog) get() (signed, verified []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.signed), slices.Clone(l.verified)
}

// restricted is the tlsflow certificate of leaf, signing only with schemes.
func restricted(leaf *pki.Leaf, schemes ...tlsflow.SignatureScheme) tlsflow.Certificate {
	c := flowCert(leaf)
	c.SupportedSignatureAlgorithms = schemes
	if c.SupportedSignatureAlgorithms == nil {
		c.SupportedSignatureAlgorithms = []tlsflow.SignatureScheme{}
	}
	return c
}

var bothVersions = []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13}

func TestServerCertificateSignsWithTheFirstOfItsSchemesTheClientAccepts(t *testing.T) {
	c := sharedCerts()
	tls12 := []uint16{tlsflow.VersionTLS12}
	tls13 := []uint16{tlsflow.VersionTLS13}
	tests := []struct {
		name     string
		versions []uint16
		cert     tlsflow.Certificate
		server   []tlsflow.SignatureScheme // the server's Config.SignatureSchemes
		client   []tlsflow.SignatureScheme // the client's; nil means the defaults
		want     string
	}{
		{"RSA limited to rsa_pss_rsae_sha384", bothVersions,
			restricted(c.rsa, tlsflow.PSSWithSHA384), nil, nil, "rsa_pss_rsae_sha384"},
		{"ECDSA P-256 limited to ecdsa_secp256r1_sha256, which Config.SignatureSchemes lacks", bothVersions,
			restricted(c.ecdsa, tlsflow.ECDSAWithP256AndSHA256), []tlsflow.SignatureScheme{tlsflow.PSSWithSHA256}, nil, "ecdsa_secp256r1_sha256"},
		{"the certificate's order, not Config.SignatureSchemes'", bothVersions,
			restricted(c.rsa, tlsflow.PSSWithSHA512, tlsflow.PSSWithSHA256),
			[]tlsflow.SignatureScheme{tlsflow.PSSWithSHA256, tlsflow.PSSWithSHA512}, nil, "rsa_pss_rsae_sha512"},
		{"the first the client accepts", bothVersions,
			restricted(c.rsa, tlsflow.PSSWithSHA512, tlsflow.PSSWithSHA384, tlsflow.PSSWithSHA256), nil,
			[]tlsflow.SignatureScheme{tlsflow.PSSWithSHA256, tlsflow.PSSWithSHA384, tlsflow.ECDSAWithP256AndSHA256}, "rsa_pss_rsae_sha384"},
		{"PKCS #1 v1.5 in TLS 1.2", tls12,
			restricted(c.rsa, tlsflow.PKCS1WithSHA512, tlsflow.PSSWithSHA384), nil, nil, "rsa_pkcs1_sha512"},
		{"PKCS #1 v1.5 skipped in TLS 1.3 (RFC 8446 §4.2.3)", tls13,
			restricted(c.rsa, tlsflow.PKCS1WithSHA512, tlsflow.PSSWithSHA384), nil, nil, "rsa_pss_rsae_sha384"},
		{"schemes the key cannot make are skipped", bothVersions,
			restricted(c.rsa, tlsflow.ECDSAWithP256AndSHA256, tlsflow.Ed25519, tlsflow.PSSWithSHA384), nil, nil, "rsa_pss_rsae_sha384"},
		{"schemes tlsflow does not implement are ignored", bothVersions,
			restricted(c.rsa, 0x0201, 0x0809, 0xfefe, tlsflow.PSSWithSHA384), nil, nil, "rsa_pss_rsae_sha384"},
	}
	for _, tt := range tests {
		for _, v := range tt.versions {
			t.Run(tlsflow.VersionName(v)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var srvLog, cliLog signatureLog
				srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{tt.cert}, MinVersion: v, MaxVersion: v,
					SignatureSchemes: tt.server, Trace: srvLog.hook}
				cli := clientAt(v, tt.client...)
				cli.Trace = cliLog.hook
				cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), nil)
				if cliErr != nil || srvErr != nil {
					t.Fatalf("client %v; server %v", cliErr, srvErr)
				}
				signed, _ := srvLog.get()
				_, verified := cliLog.get()
				if !slices.Equal(signed, []string{tt.want}) || !slices.Equal(verified, []string{tt.want}) {
					t.Errorf("server signed %q, client verified %q; want [%s] for both", signed, verified, tt.want)
				}
			})
		}
	}
}

func TestClientCertificateSignsWithTheFirstOfItsSchemesTheServerAccepts(t *testing.T) {
	c := sharedCerts()
	tests := []struct {
		name   string
		cert   tlsflow.Certificate
		client []tlsflow.SignatureScheme // the client's Config.SignatureSchemes
		server []tlsflow.SignatureScheme // the server's, in its CertificateRequest
		want   string
	}{
		{"RSA limited to rsa_pss_rsae_sha384", restricted(rsaClient(), tlsflow.PSSWithSHA384), nil, nil, "rsa_pss_rsae_sha384"},
		{"ECDSA P-256 limited to ecdsa_secp256r1_sha256, which Config.SignatureSchemes lacks",
			restricted(c.client, tlsflow.ECDSAWithP256AndSHA256), []tlsflow.SignatureScheme{tlsflow.PSSWithSHA256}, nil, "ecdsa_secp256r1_sha256"},
		{"the first the server accepts", restricted(rsaClient(), tlsflow.PSSWithSHA512, tlsflow.PSSWithSHA384, tlsflow.PSSWithSHA256), nil,
			[]tlsflow.SignatureScheme{tlsflow.ECDSAWithP256AndSHA256, tlsflow.PSSWithSHA256, tlsflow.PSSWithSHA384}, "rsa_pss_rsae_sha384"},
	}
	for _, tt := range tests {
		for _, v := range bothVersions {
			t.Run(tlsflow.VersionName(v)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var srvLog, cliLog signatureLog
				// An RSA server certificate: the client's own list may hold
				// only RSA-PSS.
				srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.rsa)}, MinVersion: v, MaxVersion: v,
					ClientAuth: tlsflow.RequireAndVerifyClientCert, ClientCAs: c.ca.Pool, SignatureSchemes: tt.server, Trace: srvLog.hook}
				cli := clientAt(v, tt.client...)
				cli.Certificates, cli.Trace = []tlsflow.Certificate{tt.cert}, cliLog.hook
				cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), nil)
				if cliErr != nil || srvErr != nil {
					t.Fatalf("client %v; server %v", cliErr, srvErr)
				}
				_, verified := srvLog.get()
				signed, _ := cliLog.get()
				if !slices.Equal(signed, []string{tt.want}) || !slices.Equal(verified, []string{tt.want}) {
					t.Errorf("client signed %q, server verified %q; want [%s] for both", signed, verified, tt.want)
				}
			})
		}
	}
}

func TestCertificateWhoseSchemesThePeerRefusesIsPassedOver(t *testing.T) {
	c := sharedCerts()
	pss256AndP256 := []tlsflow.SignatureScheme{tlsflow.PSSWithSHA256, tlsflow.ECDSAWithP256AndSHA256}
	for _, v := range bothVersions {
		t.Run(tlsflow.VersionName(v)+"/server shows its second RSA certificate", func(t *testing.T) {
			// Two RSA certificates, so that in TLS 1.2 the suite ranking
			// cannot make the choice.
			t.Parallel()
			srv := &tlsflow.Config{MinVersion: v, MaxVersion: v, Certificates: []tlsflow.Certificate{
				restricted(c.rsa, tlsflow.PSSWithSHA512), flowCert(secondRSAServer())}}
			cs, _, cliErr, srvErr := handshakeStates(t, clientAt(v, pss256AndP256...), srv)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client %v; server %v", cliErr, srvErr)
			}
			if len(cs.PeerCertificates) == 0 || !cs.PeerCertificates[0].Equal(secondRSAServer().Cert) {
				t.Error("server showed its first RSA certificate, which signs only rsa_pss_rsae_sha512; want the second")
			}
		})
		t.Run(tlsflow.VersionName(v)+"/client sends its ECDSA certificate", func(t *testing.T) {
			t.Parallel()
			srv := serverWith(v, c.ecdsa)
			srv.ClientAuth, srv.ClientCAs, srv.SignatureSchemes = tlsflow.RequireAndVerifyClientCert, c.ca.Pool, pss256AndP256
			cli := clientAt(v)
			cli.Certificates = []tlsflow.Certificate{restricted(rsaClient(), tlsflow.PSSWithSHA512), flowCert(c.client)}
			_, ss, cliErr, srvErr := handshakeStates(t, cli, srv)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client %v; server %v", cliErr, srvErr)
			}
			if len(ss.PeerCertificates) == 0 || keyKind(ss.PeerCertificates[0]) != "ECDSA P-256" {
				t.Errorf("client sent %v, want its ECDSA P-256 certificate (the RSA one signs only rsa_pss_rsae_sha512)", ss.PeerCertificates)
			}
		})
	}
}

func TestServerWhoseOnlyCertificateSignsNothingTheClientAcceptsFails(t *testing.T) {
	c := sharedCerts()
	tests := []struct {
		version uint16
		step    int
		message string
		says    string
	}{
		{tlsflow.VersionTLS12, 2, "ServerHello", "among its own signature schemes (rsa_pss_rsae_sha512)"},
		{tlsflow.VersionTLS13, 3, "CertificateVerify", "among its own signature schemes (rsa_pss_rsae_sha512)"},
	}
	for _, tt := range tests {
		t.Run(tlsflow.VersionName(tt.version), func(t *testing.T) {
			t.Parallel()
			srv := &tlsflow.Config{MinVersion: tt.version, MaxVersion: tt.version,
				Certificates: []tlsflow.Certificate{restricted(c.rsa, tlsflow.PSSWithSHA512)}}
			cli := clientAt(tt.version, tlsflow.PSSWithSHA256, tlsflow.PSSWithSHA384, tlsflow.ECDSAWithP256AndSHA256)
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), nil)
			checkAlert(t, "server", srvErr, sent(alert.HandshakeFailure, tt.step, tt.message, tt.says))
			checkAlert(t, "client", cliErr, received(alert.HandshakeFailure))
		})
	}
}

func TestCertificateSchemesDoNotChangeWhatIsOffered(t *testing.T) {
	c := sharedCerts()
	for _, v := range bothVersions {
		t.Run(tlsflow.VersionName(v), func(t *testing.T) {
			t.Parallel()
			serverOffers := []tlsflow.SignatureScheme{tlsflow.ECDSAWithP256AndSHA256, tlsflow.PSSWithSHA256}
			clientOffers := []tlsflow.SignatureScheme{tlsflow.PSSWithSHA384, tlsflow.ECDSAWithP256AndSHA256, tlsflow.PSSWithSHA256}
			var offeredByClient, requestedByServer []tlsflow.SignatureScheme
			srvCert := restricted(c.ecdsa, tlsflow.ECDSAWithP256AndSHA256)
			srv := &tlsflow.Config{MinVersion: v, MaxVersion: v, SignatureSchemes: serverOffers,
				ClientAuth: tlsflow.RequireAndVerifyClientCert, ClientCAs: c.ca.Pool,
				GetCertificate: func(hello *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
					offeredByClient = hello.SignatureSchemes
					return &srvCert, nil
				}}
			cliCert := restricted(rsaClient(), tlsflow.PSSWithSHA256)
			cli := clientAt(v, clientOffers...)
			cli.GetClientCertificate = func(req *tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
				requestedByServer = req.SignatureSchemes
				return &cliCert, nil
			}
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), nil)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client %v; server %v", cliErr, srvErr)
			}
			if !slices.Equal(offeredByClient, clientOffers) {
				t.Errorf("client offered %v, want its Config.SignatureSchemes %v", offeredByClient, clientOffers)
			}
			if !slices.Equal(requestedByServer, serverOffers) {
				t.Errorf("server's CertificateRequest listed %v, want its Config.SignatureSchemes %v", requestedByServer, serverOffers)
			}
		})
	}
}

func TestSupportsCertificateHonoursTheCertificateSchemes(t *testing.T) {
	c := sharedCerts()
	pss256 := []tlsflow.SignatureScheme{tlsflow.PSSWithSHA256}
	only512, with256 := restricted(c.rsa, tlsflow.PSSWithSHA512), restricted(c.rsa, tlsflow.PSSWithSHA512, tlsflow.PSSWithSHA256)
	none := restricted(c.rsa)
	p256 := []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256}
	hello13 := tlsflow.ClientHelloInfo{SupportedVersions: []uint16{tlsflow.VersionTLS13}, SignatureSchemes: pss256, CipherSuites: implementedSuiteIDs()}
	hello12 := tlsflow.ClientHelloInfo{SupportedVersions: []uint16{tlsflow.VersionTLS12}, SignatureSchemes: pss256,
		CipherSuites: implementedSuiteIDs(), SupportedCurves: p256}
	req13 := tlsflow.CertificateRequestInfo{Version: tlsflow.VersionTLS13, SignatureSchemes: pss256}
	req12 := tlsflow.CertificateRequestInfo{Version: tlsflow.VersionTLS12, SignatureSchemes: pss256}
	tests := []struct {
		name  string
		check func(*tlsflow.Certificate) error
		cert  *tlsflow.Certificate
		says  string // "" means supported
	}{
		{"ClientHelloInfo, TLS 1.3, nothing in common", hello13.SupportsCertificate, &only512, "among its own signature schemes (rsa_pss_rsae_sha512)"},
		{"ClientHelloInfo, TLS 1.3, one in common", hello13.SupportsCertificate, &with256, ""},
		{"ClientHelloInfo, TLS 1.3, empty list", hello13.SupportsCertificate, &none, "its own list of signature schemes is empty"},
		{"ClientHelloInfo, TLS 1.2, nothing in common", hello12.SupportsCertificate, &only512, "among its own signature schemes (rsa_pss_rsae_sha512)"},
		{"ClientHelloInfo, TLS 1.2, one in common", hello12.SupportsCertificate, &with256, ""},
		{"CertificateRequestInfo, TLS 1.3, nothing in common", req13.SupportsCertificate, &only512, "among its own signature schemes (rsa_pss_rsae_sha512)"},
		{"CertificateRequestInfo, TLS 1.3, one in common", req13.SupportsCertificate, &with256, ""},
		{"CertificateRequestInfo, TLS 1.2, nothing in common", req12.SupportsCertificate, &only512, "among its own signature schemes"},
		{"CertificateRequestInfo, TLS 1.2, one in common", req12.SupportsCertificate, &with256, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.cert)
			switch {
			case tt.says == "" && err != nil:
				t.Errorf("SupportsCertificate = %v, want nil", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Errorf("SupportsCertificate = %v, want an error saying %q", err, tt.says)
			}
		})
	}
}

// Interop with crypto/tls, whose Certificate.SupportedSignatureAlgorithms is
// the same restriction.
func TestCertificateSchemesInteropWithCryptoTLS(t *testing.T) {
	c := sharedCerts()
	goVersions := map[uint16]uint16{tlsflow.VersionTLS12: tls.VersionTLS12, tlsflow.VersionTLS13: tls.VersionTLS13}
	for _, v := range bothVersions {
		gv := goVersions[v]
		t.Run(tlsflow.VersionName(v)+"/tlsflow client verifies a restricted crypto/tls server", func(t *testing.T) {
			t.Parallel()
			cert := goCert(c.rsa)
			cert.SupportedSignatureAlgorithms = []tls.SignatureScheme{tls.PSSWithSHA384}
			var cliLog signatureLog
			cli := clientAt(v)
			cli.Trace = cliLog.hook
			goSrv := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: gv, MaxVersion: gv}
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), goServer(goSrv), nil)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("tlsflow client %v; crypto/tls server %v", cliErr, srvErr)
			}
			if _, verified := cliLog.get(); !slices.Equal(verified, []string{"rsa_pss_rsae_sha384"}) {
				t.Errorf("tlsflow client verified %q, want [rsa_pss_rsae_sha384]", verified)
			}
		})
		t.Run(tlsflow.VersionName(v)+"/crypto/tls client accepts a restricted tlsflow server", func(t *testing.T) {
			t.Parallel()
			var srvLog signatureLog
			srv := &tlsflow.Config{MinVersion: v, MaxVersion: v, Trace: srvLog.hook,
				Certificates: []tlsflow.Certificate{restricted(c.rsa, tlsflow.PSSWithSHA512)}}
			goCli := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MinVersion: gv, MaxVersion: gv}
			cliErr, srvErr := handshakeBoth(t, goClient(goCli), tlsflowServer(srv), nil)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("crypto/tls client %v; tlsflow server %v", cliErr, srvErr)
			}
			if signed, _ := srvLog.get(); !slices.Equal(signed, []string{"rsa_pss_rsae_sha512"}) {
				t.Errorf("tlsflow server signed %q, want [rsa_pss_rsae_sha512]", signed)
			}
		})
		t.Run(tlsflow.VersionName(v)+"/crypto/tls server accepts a restricted tlsflow client certificate", func(t *testing.T) {
			t.Parallel()
			var cliLog signatureLog
			cli := clientAt(v)
			cli.Trace = cliLog.hook
			cli.Certificates = []tlsflow.Certificate{restricted(rsaClient(), tlsflow.PSSWithSHA384)}
			goSrv := &tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}, MinVersion: gv, MaxVersion: gv,
				ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: c.ca.Pool}
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), goServer(goSrv), nil)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("tlsflow client %v; crypto/tls server %v", cliErr, srvErr)
			}
			if signed, _ := cliLog.get(); !slices.Equal(signed, []string{"rsa_pss_rsae_sha384"}) {
				t.Errorf("tlsflow client signed %q, want [rsa_pss_rsae_sha384]", signed)
			}
		})
		t.Run(tlsflow.VersionName(v)+"/tlsflow server verifies a restricted crypto/tls client certificate", func(t *testing.T) {
			t.Parallel()
			var srvLog signatureLog
			srv := serverWith(v, c.ecdsa)
			srv.ClientAuth, srv.ClientCAs, srv.Trace = tlsflow.RequireAndVerifyClientCert, c.ca.Pool, srvLog.hook
			cert := goCert(rsaClient())
			cert.SupportedSignatureAlgorithms = []tls.SignatureScheme{tls.PSSWithSHA512}
			goCli := &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MinVersion: gv, MaxVersion: gv,
				Certificates: []tls.Certificate{cert}}
			cliErr, srvErr := handshakeBoth(t, goClient(goCli), tlsflowServer(srv), nil)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("crypto/tls client %v; tlsflow server %v", cliErr, srvErr)
			}
			if _, verified := srvLog.get(); !slices.Equal(verified, []string{"rsa_pss_rsae_sha512"}) {
				t.Errorf("tlsflow server verified %q, want [rsa_pss_rsae_sha512]", verified)
			}
		})
	}
}
