package tlsflow

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/pki"
)

func TestVerifyChainWithTheRootSent(t *testing.T) {
	root := pki.MustNewCA("chain test root", pki.ECDSAP256)
	mid := root.MustNewIntermediate("chain test intermediate", pki.ECDSAP256)
	leaf := mid.MustServer(pki.ECDSAP256, "chain.example")
	chains, err := verifyChain([]*x509.Certificate{leaf.Cert, mid.Cert, root.Cert},
		x509.VerifyOptions{Roots: root.Pool, DNSName: "chain.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(chains) != 1 || len(chains[0]) != 3 || !chains[0][2].Equal(root.Cert) {
		t.Fatalf("chains = %v, want leaf, intermediate, root", chains)
	}
}

func TestVerifyChainRefusesAnUntrustedRootSent(t *testing.T) {
	root := pki.MustNewCA("chain test root", pki.ECDSAP256)
	other := pki.MustNewCA("someone else", pki.ECDSAP256)
	leaf := root.MustServer(pki.ECDSAP256, "chain.example")
	_, err := verifyChain([]*x509.Certificate{leaf.Cert, root.Cert},
		x509.VerifyOptions{Roots: other.Pool, DNSName: "chain.example"})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want x509.UnknownAuthorityError", err)
	}
}

// A chain that needs its self-issued certificate (a key rollover: the old
// root key certifies the new key under the same name) must still verify,
// through the second try.
func TestVerifyChainThroughASelfIssuedRollover(t *testing.T) {
	root := pki.MustNewCA("rollover root", pki.ECDSAP256)
	newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rollover := create(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: root.Cert.Subject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, root.Cert, &newKey.PublicKey, root.Key)
	if string(rollover.RawIssuer) != string(rollover.RawSubject) {
		t.Fatal("the rollover certificate is not self-issued")
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := create(t, &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "rollover.example"},
		DNSNames: []string{"rollover.example"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, rollover, &leafKey.PublicKey, newKey)

	chains, err := verifyChain([]*x509.Certificate{leaf, rollover},
		x509.VerifyOptions{Roots: root.Pool, DNSName: "rollover.example"})
	if err != nil {
		t.Fatalf("a chain through a self-issued rollover certificate: %v", err)
	}
	if len(chains) == 0 || len(chains[0]) != 3 {
		t.Fatalf("chains = %v, want leaf, rollover, root", chains)
	}
}

func create(t *testing.T, tmpl, parent *x509.Certificate, pub any, key any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
