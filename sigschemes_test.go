package tlsflow_test

import (
	"crypto/tls"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// verifiedSchemes records the signature_scheme of every signature a side
// verified (TLS 1.2 ServerKeyExchange, CertificateVerify of either version),
// as its trace reports them.
type verifiedSchemes struct {
	mu      sync.Mutex
	schemes []string
}

func (v *verifiedSchemes) hook(e trace.Event) {
	if e.Kind != trace.KindVerified {
		return
	}
	if s := e.Field("signature_scheme"); s != "" {
		v.mu.Lock()
		v.schemes = append(v.schemes, s)
		v.mu.Unlock()
	}
}

func (v *verifiedSchemes) get() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.schemes...)
}

func TestServerSignsWithItsSignatureSchemesInItsOrder(t *testing.T) {
	rsa := sharedCerts().rsa
	tests := []struct {
		name    string
		version uint16
		server  []tlsflow.SignatureScheme
		want    string
	}{
		{"TLS 1.3, restricted to rsa_pss_rsae_sha256", tlsflow.VersionTLS13, []tlsflow.SignatureScheme{tlsflow.PSSWithSHA256}, "rsa_pss_rsae_sha256"},
		{"TLS 1.2, restricted to rsa_pss_rsae_sha256", tlsflow.VersionTLS12, []tlsflow.SignatureScheme{tlsflow.PSSWithSHA256}, "rsa_pss_rsae_sha256"},
		{"TLS 1.3, restricted to rsa_pss_rsae_sha384", tlsflow.VersionTLS13, []tlsflow.SignatureScheme{tlsflow.PSSWithSHA384}, "rsa_pss_rsae_sha384"},
		{"TLS 1.3, sha512 preferred to sha256", tlsflow.VersionTLS13,
			[]tlsflow.SignatureScheme{tlsflow.PSSWithSHA512, tlsflow.PSSWithSHA256}, "rsa_pss_rsae_sha512"},
		{"TLS 1.2, PKCS #1 v1.5 preferred to PSS", tlsflow.VersionTLS12,
			[]tlsflow.SignatureScheme{tlsflow.PKCS1WithSHA384, tlsflow.PSSWithSHA256}, "rsa_pkcs1_sha384"},
		{"TLS 1.3 skips PKCS #1 v1.5 (RFC 8446 §4.2.3)", tlsflow.VersionTLS13,
			[]tlsflow.SignatureScheme{tlsflow.PKCS1WithSHA384, tlsflow.PSSWithSHA256}, "rsa_pss_rsae_sha256"},
		{"unknown schemes are dropped", tlsflow.VersionTLS13,
			[]tlsflow.SignatureScheme{0x0201, 0xfefe, tlsflow.PSSWithSHA384}, "rsa_pss_rsae_sha384"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(rsa)}, MaxVersion: tt.version,
				SignatureSchemes: tt.server}

			// The tlsflow client, with the default list, knows which scheme
			// the server signed with.
			var seen verifiedSchemes
			cli := clientConfig()
			cli.MaxVersion, cli.Trace = tt.version, seen.hook
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), nil)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("tlsflow client: client %v, server %v", cliErr, srvErr)
			}
			if got := seen.get(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("server signed with %q, want [%s]", got, tt.want)
			}

			// crypto/tls accepts the same server.
			goCli := &tls.Config{RootCAs: sharedCerts().ca.Pool, ServerName: "localhost", MaxVersion: tt.version}
			cliErr, srvErr = handshakeBoth(t, goClient(goCli), tlsflowServer(srv), nil)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("crypto/tls client: client %v, server %v", cliErr, srvErr)
			}
		})
	}
}

func TestClientSignsWithItsSignatureSchemesInItsOrder(t *testing.T) {
	c := sharedCerts()
	rsaClient := c.ca.MustClient(pki.RSA2048, "rsa client")
	for _, version := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		t.Run(tlsflow.VersionName(version), func(t *testing.T) {
			var seen verifiedSchemes
			srv := serverConfig(c.ecdsa)
			srv.MaxVersion, srv.ClientAuth, srv.ClientCAs, srv.Trace = version, tlsflow.RequireAndVerifyClientCert, c.ca.Pool, seen.hook
			cli := clientConfig()
			cli.MaxVersion = version
			cli.Certificates = []tlsflow.Certificate{flowCert(rsaClient)}
			cli.SignatureSchemes = []tlsflow.SignatureScheme{tlsflow.ECDSAWithP256AndSHA256, tlsflow.PSSWithSHA512, tlsflow.PSSWithSHA256}
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(srv), nil)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client %v, server %v", cliErr, srvErr)
			}
			if got := seen.get(); len(got) != 1 || got[0] != "rsa_pss_rsae_sha512" {
				t.Errorf("client signed with %q, want [rsa_pss_rsae_sha512]", got)
			}
		})
	}
}

// offerRSAInsteadOfECDSA rewrites the client's signature_algorithms from the
// single ecdsa_secp256r1_sha256 to rsa_pss_rsae_sha256, so the server signs
// with RSA although the client never offered it.
type offerRSAInsteadOfECDSA struct{ rewritten bool }

func (e *offerRSAInsteadOfECDSA) done() bool { return e.rewritten }

func (e *offerRSAInsteadOfECDSA) edit(rec []byte) ([]byte, bool) {
	if e.rewritten || len(rec) < 9 || rec[0] != 22 || wire.HandshakeType(rec[5]) != wire.TypeClientHello {
		return rec, false
	}
	msg := rec[5:]
	off := atExtensionType(wire.ExtSignatureAlgorithms)(msg)
	// type(2) length(2) = 4, supported_signature_algorithms<2..2^16-2> = 0x0002 0x0403
	if off < 0 || off+8 > len(msg) || msg[off+4] != 0 || msg[off+5] != 2 || msg[off+6] != 0x04 || msg[off+7] != 0x03 {
		return rec, false
	}
	msg[off+6], msg[off+7] = 0x08, 0x04
	e.rewritten = true
	return rec, false
}

func TestClientAcceptsOnlyItsSignatureSchemes(t *testing.T) {
	c := sharedCerts()
	onlyP256 := func(version uint16) *tlsflow.Config {
		cli := clientConfig()
		cli.MaxVersion = version
		cli.SignatureSchemes = []tlsflow.SignatureScheme{tlsflow.ECDSAWithP256AndSHA256}
		return cli
	}
	goServerWith := func(leaf *pki.Leaf, version uint16) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{goCert(leaf)}, MaxVersion: version}
	}

	t.Run("ECDSA P-256 server is accepted", func(t *testing.T) {
		t.Parallel()
		for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
			cliErr, srvErr := handshakeBoth(t, tlsflowClient(onlyP256(v)), goServer(goServerWith(c.ecdsa, v)), nil)
			if cliErr != nil || srvErr != nil {
				t.Errorf("%s: client %v, server %v", tlsflow.VersionName(v), cliErr, srvErr)
			}
		}
	})

	t.Run("RSA server finds nothing the client offers", func(t *testing.T) {
		t.Parallel()
		v := uint16(tlsflow.VersionTLS13)
		cliErr, srvErr := handshakeBoth(t, tlsflowClient(onlyP256(v)), goServer(goServerWith(c.rsa, v)), nil)
		if srvErr == nil {
			t.Fatal("crypto/tls server with an RSA key completed a handshake with a client offering only ecdsa_secp256r1_sha256")
		}
		checkAlert(t, "client", cliErr, received(alert.HandshakeFailure))
	})

	t.Run("RSA signature the client never offered is refused", func(t *testing.T) {
		// TLS 1.2: the ServerKeyExchange is in the clear and checked before
		// Finished, so rewriting the ClientHello shows what the client does
		// with a scheme outside its list (RFC 5246 §7.4.1.4.1).
		t.Parallel()
		v := uint16(tlsflow.VersionTLS12)
		goSrv := goServerWith(c.rsa, v)
		goSrv.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
		edit := &offerRSAInsteadOfECDSA{}
		cliErr, srvErr := handshakeBoth(t, tlsflowClient(onlyP256(v)), goServer(goSrv), newMITM(clientToServer, edit))
		if !edit.done() {
			t.Fatal("the man in the middle never found signature_algorithms to rewrite")
		}
		checkAlert(t, "client", cliErr, sent(alert.IllegalParameter, 3, "ServerKeyExchange", "rsa_pss_rsae_sha256"))
		if srvErr == nil || !strings.Contains(srvErr.Error(), "illegal parameter") {
			t.Errorf("crypto/tls server: err = %v, want alert illegal_parameter received", srvErr)
		}
	})
}

func TestSignatureSchemesWithNothingImplementedFailsAtOnce(t *testing.T) {
	cli := clientConfig()
	cli.SignatureSchemes = []tlsflow.SignatureScheme{0x0201} // rsa_pkcs1_sha1: never negotiated
	cliErr, _ := handshakeBoth(t, tlsflowClient(cli), tlsflowServer(serverConfig(sharedCerts().ecdsa)), nil)
	if cliErr == nil || !strings.Contains(cliErr.Error(), "SignatureSchemes") {
		t.Errorf("client err = %v, want a configuration error naming SignatureSchemes", cliErr)
	}
}

func TestCloneCopiesSignatureSchemes(t *testing.T) {
	cfg := &tlsflow.Config{SignatureSchemes: []tlsflow.SignatureScheme{tlsflow.PSSWithSHA256}}
	if got := cfg.Clone().SignatureSchemes; len(got) != 1 || got[0] != tlsflow.PSSWithSHA256 {
		t.Errorf("Clone().SignatureSchemes = %v, want [PSSWithSHA256]", got)
	}
}
