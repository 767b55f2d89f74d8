package handshake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
)

// The limits an engine enforces, each at its limit and one past it.

// fakeRSACert is a certificate the fixtures' CA signs for an RSA key with
// a modulus of bits bits that nobody holds: enough for the size check,
// which comes before any signature is verified, and no key to generate.
func fakeRSACert(t *testing.T, bits int) []byte {
	t.Helper()
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(1)) // odd, exactly bits long
	f := testFixtures()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(bits)), Subject: pkix.Name{CommonName: "fake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{serverName}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.ca.Cert, &rsa.PublicKey{N: n, E: 65537}, f.ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestPeerChainLimits(t *testing.T) {
	f := testFixtures()
	leaf := f.ecdsaServer.Chain[0]
	repeat := func(n int) [][]byte {
		chain := make([][]byte, n)
		for i := range chain {
			chain[i] = leaf
		}
		return chain
	}
	small := limits.Default
	small.ChainBytes = 3 * len(leaf)
	for _, tc := range []struct {
		name   string
		policy limits.Policy
		chain  [][]byte
		want   string // "" accepted, else alert and a word of the reason
	}{
		{"ChainCertificates", limits.Default, repeat(limits.Default.ChainCertificates), ""},
		{"ChainCertificates+1", limits.Default, repeat(limits.Default.ChainCertificates + 1), "bad_certificate: certificates"},
		{"ChainBytes", small, repeat(3), ""},
		{"ChainBytes+1", small, append(repeat(2), append(append([]byte(nil), leaf...), 0)), "bad_certificate: bytes"},
		{"RSABits leaf", limits.Default, [][]byte{fakeRSACert(t, limits.Default.RSABits)}, ""},
		{"RSABits+1 leaf", limits.Default, [][]byte{fakeRSACert(t, limits.Default.RSABits+1)}, "unsupported_certificate: RSA key of 8193 bits"},
		{"RSABits+1 intermediate", limits.Default, [][]byte{leaf, fakeRSACert(t, limits.Default.RSABits+1)}, "unsupported_certificate: certificate 1"},
		{"empty", limits.Default, nil, "bad_certificate: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &base{cfg: &Config{Limits: &tc.policy}, state: &State{}}
			certs, err := b.peerChain(tc.chain, 3, "server certificate")
			if tc.want == "" {
				if err != nil || len(certs) != len(tc.chain) {
					t.Fatalf("peerChain = %d certificates, %v; want the chain accepted", len(certs), err)
				}
				return
			}
			wantAlert, wantWord, _ := strings.Cut(tc.want, ": ")
			ae, ok := err.(*alert.Error)
			if !ok || ae.Alert.String() != wantAlert || !strings.Contains(ae.Reason, wantWord) {
				t.Fatalf("peerChain error = %v; want %s mentioning %q", err, wantAlert, wantWord)
			}
		})
	}
}

// TestPeerChainRefusesAKeyItCannotUse: crypto/x509 leaves PublicKey nil
// for key types it does not know (RSASSA-PSS SPKI, Ed448, ML-DSA); such a
// leaf is unsupported_certificate before anything else looks at it.
func TestPeerChainRefusesAKeyItCannotUse(t *testing.T) {
	for _, alg := range []x509.PublicKeyAlgorithm{x509.UnknownPublicKeyAlgorithm, x509.RSA} {
		parse := func([]byte) (*x509.Certificate, error) {
			return &x509.Certificate{PublicKeyAlgorithm: alg}, nil // PublicKey nil, as x509 leaves it
		}
		b := &base{cfg: &Config{ParseCertificate: parse}, state: &State{}}
		_, err := b.peerChain([][]byte{{1}}, 5, "client certificate")
		if ae, ok := err.(*alert.Error); !ok || ae.Alert != alert.UnsupportedCertificate {
			t.Errorf("%v key, PublicKey nil: error %v; want unsupported_certificate", alg, err)
		}
	}
}

// TestCompatibilityChangeCipherSpecLimit: a TLS 1.3 server drops up to
// ChangeCipherSpecs compatibility records during the handshake, and no more.
func TestCompatibilityChangeCipherSpecLimit(t *testing.T) {
	for _, n := range []int{limits.Default.ChangeCipherSpecs, limits.Default.ChangeCipherSpecs + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			cli, srv := tls13Auth.configs(t)
			cv := newConversation(t, cli, srv)
			if err := cv.deliver(serverSide); err != nil { // the ClientHello
				t.Fatal(err)
			}
			var err error
			for i := 0; i < n && err == nil; i++ {
				_, err = cv.server.HandleChangeCipherSpec()
			}
			if n <= limits.Default.ChangeCipherSpecs {
				if err != nil {
					t.Fatalf("%d ChangeCipherSpecs refused: %v", n, err)
				}
				return
			}
			if ae, ok := err.(*alert.Error); !ok || ae.Alert != alert.UnexpectedMessage {
				t.Fatalf("%d ChangeCipherSpecs: error %v; want unexpected_message", n, err)
			}
		})
	}
}
