package tlsflow_test

import (
	"crypto/x509"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
)

// OCSP staples checked by the client (Config.OCSP, RFC 6066 §8, RFC 6960)
// and must-staple certificates (RFC 7633), in both versions: the server
// staples what a test makes, the client judges it.

type stapleCase struct {
	name   string
	policy tlsflow.OCSPPolicy
	must   bool // the server's certificate is must-staple
	staple func(ca *pki.Authority, leaf *pki.Leaf) []byte
	want   alert.Alert // 0: the handshake completes
	text   string      // in the error
}

func stapleCases() []stapleCase {
	good := func(ca *pki.Authority, leaf *pki.Leaf) []byte {
		return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{})
	}
	none := func(*pki.Authority, *pki.Leaf) []byte { return nil }
	return []stapleCase{
		{name: "unchecked passes a revoked staple on", policy: tlsflow.OCSPUnchecked,
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{Status: ocsp.Revoked})
			}},
		{name: "a good staple", policy: tlsflow.OCSPVerifyIfStapled, staple: good},
		{name: "no staple, verify if stapled", policy: tlsflow.OCSPVerifyIfStapled, staple: none},
		{name: "no staple, required", policy: tlsflow.OCSPRequire, staple: none,
			want: alert.BadCertificateStatusResponse, text: "stapled no OCSP response"},
		{name: "revoked", policy: tlsflow.OCSPVerifyIfStapled, want: alert.CertificateRevoked, text: "revoked",
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{Status: ocsp.Revoked})
			}},
		{name: "status unknown", policy: tlsflow.OCSPVerifyIfStapled, want: alert.BadCertificateStatusResponse, text: "unknown",
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{Status: ocsp.Unknown})
			}},
		{name: "expired", policy: tlsflow.OCSPVerifyIfStapled, want: alert.BadCertificateStatusResponse, text: "expired",
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{ThisUpdate: time.Now().Add(-48 * time.Hour), NextUpdate: time.Now().Add(-time.Hour)})
			}},
		{name: "not yet valid", policy: tlsflow.OCSPVerifyIfStapled, want: alert.BadCertificateStatusResponse, text: "not valid before",
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{ThisUpdate: time.Now().Add(time.Hour)})
			}},
		{name: "about another certificate", policy: tlsflow.OCSPVerifyIfStapled, want: alert.BadCertificateStatusResponse,
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				other := ca.MustServer(pki.ECDSAP256, "other.example")
				return ca.MustOCSPResponse(other.Cert, pki.OCSPOptions{})
			}},
		{name: "signed by another authority", policy: tlsflow.OCSPVerifyIfStapled, want: alert.BadCertificateStatusResponse, text: "does not verify",
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				return pki.MustNewCA("another CA", pki.ECDSAP256).MustOCSPResponse(leaf.Cert, pki.OCSPOptions{})
			}},
		{name: "a delegated responder", policy: tlsflow.OCSPVerifyIfStapled,
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				r := mustLeaf(ca.Issue(pki.LeafOptions{KeyType: pki.ECDSAP256, CommonName: "OCSP responder",
					ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}))
				return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{Responder: r})
			}},
		// Another server of the same authority vouches for a revoked
		// certificate: x/crypto/ocsp checks only that the authority
		// signed the responder, not that it certified it for OCSP.
		{name: "a sibling certificate as responder", policy: tlsflow.OCSPVerifyIfStapled, want: alert.BadCertificateStatusResponse,
			text: "did not certify for OCSP signing",
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				sibling := ca.MustServer(pki.ECDSAP256, "sibling.example")
				return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{Responder: sibling})
			}},
		{name: "must-staple without a staple", policy: tlsflow.OCSPUnchecked, must: true, staple: none,
			want: alert.BadCertificateStatusResponse, text: "must be stapled"},
		{name: "must-staple with a good staple", policy: tlsflow.OCSPUnchecked, must: true, staple: good},
		{name: "must-staple with a revoked staple", policy: tlsflow.OCSPUnchecked, must: true, want: alert.CertificateRevoked,
			staple: func(ca *pki.Authority, leaf *pki.Leaf) []byte {
				return ca.MustOCSPResponse(leaf.Cert, pki.OCSPOptions{Status: ocsp.Revoked})
			}},
	}
}

func mustLeaf(l *pki.Leaf, err error) *pki.Leaf {
	if err != nil {
		panic(err)
	}
	return l
}

func TestClientChecksOCSPStaples(t *testing.T) {
	ca := sharedCerts().ca
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		for _, tc := range stapleCases() {
			t.Run(tlsflow.VersionName(v)+"/"+tc.name, func(t *testing.T) {
				leaf := mustLeaf(ca.Issue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"localhost"}, MustStaple: tc.must}))
				cert := flowCert(leaf)
				cert.OCSPStaple = tc.staple(ca, leaf)
				srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{cert}, MaxVersion: v}
				cli := clientConfig13()
				cli.OCSP, cli.MaxVersion = tc.policy, v
				cs, _, cliErr, _ := pskPair(t, cli, srv)
				if tc.want == 0 {
					if cliErr != nil {
						t.Fatalf("client: %v; want a completed handshake", cliErr)
					}
					if string(cs.OCSPResponse) != string(cert.OCSPStaple) {
						t.Error("ConnectionState.OCSPResponse is not the staple")
					}
					return
				}
				var text []string
				if tc.text != "" {
					text = []string{tc.text}
				}
				checkAlert(t, "client", cliErr, sent(tc.want, 3, "", text...))
			})
		}
	}
}

// TestClientJudgesAnAcknowledgedStapleThatNeverCame: a TLS 1.2 server
// that acknowledges status_request "MAY also choose not to send" the
// CertificateStatus (RFC 6066 §8). Then there is no staple, and a client
// that requires one, or a must-staple certificate, must fail as when
// nothing was acknowledged: otherwise whoever holds a revoked must-staple
// certificate's key skips its revocation by acknowledging and sending
// nothing. Noticed when the next message (ServerKeyExchange) comes, and
// reported against the Certificate no staple followed.
func TestClientJudgesAnAcknowledgedStapleThatNeverCame(t *testing.T) {
	ca := sharedCerts().ca
	for _, tc := range []struct {
		name   string
		policy tlsflow.OCSPPolicy
		must   bool
		want   alert.Alert // 0: the handshake completes
	}{
		{"required", tlsflow.OCSPRequire, false, alert.BadCertificateStatusResponse},
		{"must-staple", tlsflow.OCSPUnchecked, true, alert.BadCertificateStatusResponse},
		{"verify if stapled", tlsflow.OCSPVerifyIfStapled, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := mustLeaf(ca.Issue(pki.LeafOptions{KeyType: pki.ECDSAP256, DNSNames: []string{"localhost"}, MustStaple: tc.must}))
			cfg := tlsflowClientConfig(tlsflow.VersionTLS12)
			cfg.OCSP = tc.policy
			p, done := hostileServer(t, cfg, nil)
			flowErr := p.ServerHandshake12(&testpeer.ServerOptions{Chain: leaf.Chain, Signer: leaf.Key,
				Script: testpeer.Script{Mutate: testpeer.MutateType(func(sh *wire.ServerHello) {
					sh.Extensions.AddEmpty(wire.ExtStatusRequest)
				})}})
			if tc.want == 0 {
				if err := victimErr(t, done); err != nil || flowErr != nil {
					t.Fatalf("client: %v, server flow: %v; want a completed handshake", err, flowErr)
				}
				return
			}
			wantVictimAlert(t, "client", done, sent(tc.want, 3, "Certificate", "stapled no OCSP response"))
			wantPeerAlert(t, p, flowErr, tc.want)
		})
	}
}
