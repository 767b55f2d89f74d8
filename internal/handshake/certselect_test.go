package handshake

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/trace"
)

var (
	ecdheECDSA128 = suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	ecdheRSA128   = suites.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	rsaKex128     = suites.TLS_RSA_WITH_AES_128_GCM_SHA256
)

func TestChooseSuite12PicksTheSuiteFirstThenTheFirstCertificateThatServesIt(t *testing.T) {
	f := testFixtures()
	ecdsaOnly := []uint16{signature.ECDSASecp256r1SHA256}
	rsaOnly := []uint16{signature.RSAPSSRSAESHA256, signature.RSAPKCS1SHA256}
	tests := []struct {
		name         string
		candidates   []*Certificate
		ours, offer  []uint16 // suites: the server's ranking, the client's offer
		clientScheme []uint16
		wantSuite    uint16
		wantCert     *Certificate
	}{
		{"the ranking decides: ECDHE_ECDSA first, though RSA is configured first",
			[]*Certificate{f.rsaCert, f.ecdsaCert}, []uint16{ecdheECDSA128, ecdheRSA128}, []uint16{ecdheRSA128, ecdheECDSA128},
			signature.Default, ecdheECDSA128, f.ecdsaCert},
		{"a suite no certificate serves is passed over",
			[]*Certificate{f.rsaCert}, []uint16{ecdheECDSA128, ecdheRSA128}, []uint16{ecdheECDSA128, ecdheRSA128},
			signature.Default, ecdheRSA128, f.rsaCert},
		{"the client verifies RSA only: ECDHE_RSA with the RSA certificate",
			[]*Certificate{f.ecdsaCert, f.rsaCert}, []uint16{ecdheECDSA128, ecdheRSA128}, []uint16{ecdheECDSA128, ecdheRSA128},
			rsaOnly, ecdheRSA128, f.rsaCert},
		{"the client verifies ECDSA only: ECDHE_ECDSA",
			[]*Certificate{f.rsaCert, f.ecdsaCert}, []uint16{ecdheRSA128, ecdheECDSA128}, []uint16{ecdheECDSA128, ecdheRSA128},
			ecdsaOnly, ecdheECDSA128, f.ecdsaCert},
		{"the RSA key exchange ignores signature_algorithms",
			[]*Certificate{f.ecdsaCert, f.rsaCert}, []uint16{ecdheRSA128, rsaKex128}, []uint16{ecdheRSA128, rsaKex128},
			ecdsaOnly, rsaKex128, f.rsaCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer := &ClientOffer{CipherSuites: tt.offer, SignatureSchemes: tt.clientScheme,
				Groups: []uint16{suites.GroupX25519, suites.GroupP256}, GroupsSent: true}
			suite, cert, group, err := ChooseSuite12(tt.candidates, offer, tt.ours, []uint16{suites.GroupX25519}, signature.Default)
			if err != nil || suite == nil {
				t.Fatalf("ChooseSuite12: %v", err)
			}
			if suite.ID != tt.wantSuite || cert != tt.wantCert {
				t.Errorf("chose %s with the %s certificate, want %s with the %s certificate",
					suite.Name, certName(cert), suites.Name(tt.wantSuite), certName(tt.wantCert))
			}
			if wantGroup := map[bool]uint16{true: 0, false: suites.GroupX25519}[suite.KeyExchange == suites.KeyExchangeRSA]; group != wantGroup {
				t.Errorf("group %s, want %s", suites.GroupName(group), suites.GroupName(wantGroup))
			}
		})
	}
}

func TestChooseSuite12ExplainsEachCertificate(t *testing.T) {
	f := testFixtures()
	// The client verifies Ed25519 only: the RSA certificate's telling
	// reason is the ECDHE_RSA suite's, not ECDHE_ECDSA's key type.
	offer := &ClientOffer{CipherSuites: []uint16{ecdheECDSA128, ecdheRSA128}, SignatureSchemes: []uint16{signature.Ed25519},
		Groups: []uint16{suites.GroupX25519, suites.GroupP256}, GroupsSent: true}
	suite, _, _, err := ChooseSuite12([]*Certificate{f.rsaCert, f.ecdsaCert}, offer,
		[]uint16{ecdheECDSA128, ecdheRSA128}, []uint16{suites.GroupX25519}, signature.Default)
	if suite != nil || err == nil {
		t.Fatalf("ChooseSuite12 chose %v, want no suite", suite)
	}
	for _, want := range []string{
		"RSA-2048 (server.example) certificate: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: no signature scheme the client accepts fits the certificate's key (RSA-2048)",
		"ECDSA P-256 (server.example) certificate: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: no signature scheme the client accepts fits the certificate's key (ECDSA P-256)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestClientCertificateFitsSaysWhy(t *testing.T) {
	f := testFixtures()
	tests := []struct {
		name      string
		cert      *Certificate
		certTypes []uint8
		schemes   []uint16
		cas       [][]byte
		tls13     bool
		says      string // "" means it fits
	}{
		{"fits", f.cli, nil, []uint16{signature.ECDSASecp256r1SHA256}, nil, true, ""},
		{"certificate_types", f.cli, []uint8{certTypeRSASign}, []uint16{signature.ECDSASecp256r1SHA256}, nil, false,
			"a ECDSA P-256 key is not among the certificate_types"},
		{"signature_algorithms", f.cli, nil, []uint16{signature.RSAPSSRSAESHA256}, nil, true,
			"no signature scheme the server accepts fits the ECDSA P-256 key (the server accepts rsa_pss_rsae_sha256)"},
		{"PKCS #1 in TLS 1.3", f.rsaCert, nil, []uint16{signature.RSAPKCS1SHA256}, nil, true, "no signature scheme"},
		{"PKCS #1 in TLS 1.2", f.rsaCert, nil, []uint16{signature.RSAPKCS1SHA256}, nil, false, ""},
		{"authorities", f.cli, nil, []uint16{signature.ECDSASecp256r1SHA256}, [][]byte{f.rsaServer.Cert.RawSubject}, true,
			"the chain does not come from an authority the server named"},
		{"from a named authority", f.cli, nil, []uint16{signature.ECDSASecp256r1SHA256}, [][]byte{f.ca.Cert.RawSubject}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ClientCertificateFits(tt.cert, tt.certTypes, tt.schemes, signature.Default, tt.cas, tt.tls13)
			switch {
			case tt.says == "" && err != nil:
				t.Errorf("ClientCertificateFits = %v, want nil", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Errorf("ClientCertificateFits = %v, want an error saying %q", err, tt.says)
			}
		})
	}
}

// The server traces which certificate it chose when it had a choice.
func TestServerTracesItsCertificateChoice(t *testing.T) {
	f := testFixtures()
	for _, version := range []uint16{suites.VersionTLS12, suites.VersionTLS13} {
		t.Run(suites.VersionName(version), func(t *testing.T) {
			var notes []trace.Event
			srv := &Config{MinVersion: version, MaxVersion: version, CipherSuites: suites.Default(), Groups: suites.DefaultGroups(),
				SignatureSchemes: signature.Default, Certificates: []*Certificate{f.rsaCert, f.ecdsaCert},
				Trace: func(e trace.Event) {
					if e.Kind == trace.KindNote && e.Message == "Certificate" {
						notes = append(notes, e)
					}
				}}
			cli := &Config{MinVersion: version, MaxVersion: version, CipherSuites: suites.Default(), Groups: suites.DefaultGroups(),
				SignatureSchemes: []uint16{signature.ECDSASecp256r1SHA256}, ServerName: serverName,
				VerifyPeer: verifier(f.ca.Pool, x509.ExtKeyUsageServerAuth, serverName)}
			cv := newConversation(t, cli, srv)
			cv.runToEnd(t)
			if len(notes) != 1 || notes[0].Field("chosen") != "ECDSA P-256 (server.example)" ||
				!strings.Contains(notes[0].Field("reason"), "candidate 2 of 2") {
				t.Errorf("certificate choice notes = %+v, want one choosing ECDSA P-256 (server.example), candidate 2 of 2", notes)
			}
		})
	}
}
