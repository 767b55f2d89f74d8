package pki

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"testing"
	"time"
)

var keyTypes = []KeyType{RSA2048, ECDSAP256, ECDSAP384, Ed25519}

func verify(leaf *Leaf, roots *x509.CertPool, name string, usage x509.ExtKeyUsage) error {
	inter := x509.NewCertPool()
	for _, der := range leaf.Chain[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		inter.AddCert(c)
	}
	_, err := leaf.Cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		DNSName:       name,
		KeyUsages:     []x509.ExtKeyUsage{usage},
	})
	return err
}

func TestServerLeafVerifiesForItsNamesAndServerAuthOnly(t *testing.T) {
	for _, caType := range keyTypes {
		for _, leafType := range keyTypes {
			t.Run(caType.String()+"/"+leafType.String(), func(t *testing.T) {
				ca := MustNewCA("Test CA", caType)
				leaf := ca.MustServer(leafType, "server.test", "127.0.0.1")

				if err := verify(leaf, ca.Pool, "server.test", x509.ExtKeyUsageServerAuth); err != nil {
					t.Errorf("DNS name: %v", err)
				}
				if err := verify(leaf, ca.Pool, "127.0.0.1", x509.ExtKeyUsageServerAuth); err != nil {
					t.Errorf("IP address: %v", err)
				}
				var hostErr x509.HostnameError
				if err := verify(leaf, ca.Pool, "other.test", x509.ExtKeyUsageServerAuth); !errors.As(err, &hostErr) {
					t.Errorf("other name: error = %v, want a HostnameError", err)
				}
				if err := verify(leaf, ca.Pool, "server.test", x509.ExtKeyUsageClientAuth); err == nil {
					t.Error("server certificate verified for clientAuth")
				}
				if !publicKeysEqual(leaf.Key.Public(), leaf.Cert.PublicKey) {
					t.Error("leaf Key does not match the certificate's public key")
				}
				if !bytes.Equal(leaf.Chain[1], ca.DER) || len(leaf.Chain) != 2 {
					t.Errorf("Chain has %d certificates, want leaf then the CA", len(leaf.Chain))
				}
			})
		}
	}
}

func TestClientLeafVerifiesForClientAuthOnly(t *testing.T) {
	ca := MustNewCA("Client CA", ECDSAP256)
	leaf := ca.MustClient(Ed25519, "alice")
	if leaf.Cert.Subject.CommonName != "alice" {
		t.Errorf("CommonName = %q, want alice", leaf.Cert.Subject.CommonName)
	}
	if err := verify(leaf, ca.Pool, "", x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("clientAuth: %v", err)
	}
	if err := verify(leaf, ca.Pool, "", x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("client certificate verified for serverAuth")
	}
}

func TestLeafDoesNotVerifyUnderAnotherCA(t *testing.T) {
	a := MustNewCA("CA A", ECDSAP256)
	b := MustNewCA("CA B", ECDSAP256)
	var unknown x509.UnknownAuthorityError
	if err := verify(a.MustServer(ECDSAP256, "a.test"), b.Pool, "a.test", x509.ExtKeyUsageServerAuth); !errors.As(err, &unknown) {
		t.Errorf("error = %v, want UnknownAuthorityError", err)
	}
}

// Pooled RSA keys repeat, so two CAs can share a key; with the same name too,
// only the unique subject serial keeps one CA's leaves from chaining to the
// other.
func TestSameNameCAsSharingAnRSAKeyStayDistinct(t *testing.T) {
	rsaNext.Store(0)
	a := MustNewCA("Same Name", RSA2048)
	rsaNext.Store(0)
	b := MustNewCA("Same Name", RSA2048)
	if !publicKeysEqual(a.Key.Public(), b.Key.Public()) {
		t.Fatal("test setup: the two CAs do not share a key")
	}
	leaf := a.MustServer(ECDSAP256, "a.test")
	if err := verify(leaf, b.Pool, "a.test", x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("a leaf of one CA verified under another CA with the same name and key")
	}
}

func TestIntermediateChainsVerify(t *testing.T) {
	root := MustNewCA("Root", ECDSAP384)
	inter1 := root.MustNewIntermediate("Intermediate 1", RSA2048)
	inter2 := inter1.MustNewIntermediate("Intermediate 2", Ed25519)
	for _, tc := range []struct {
		name      string
		issuer    *Authority
		wantChain [][]byte
	}{
		{"one intermediate", inter1, [][]byte{inter1.DER, root.DER}},
		{"two intermediates", inter2, [][]byte{inter2.DER, inter1.DER, root.DER}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := tc.issuer.MustServer(ECDSAP256, "deep.test")
			if tc.issuer.Pool != root.Pool {
				t.Error("intermediate's Pool is not the root's")
			}
			if len(leaf.Chain) != 1+len(tc.wantChain) {
				t.Fatalf("Chain has %d certificates, want %d", len(leaf.Chain), 1+len(tc.wantChain))
			}
			for i, der := range tc.wantChain {
				if !bytes.Equal(leaf.Chain[1+i], der) {
					t.Errorf("Chain[%d] is not the expected CA", 1+i)
				}
			}
			if err := verify(leaf, root.Pool, "deep.test", x509.ExtKeyUsageServerAuth); err != nil {
				t.Errorf("with the intermediates: %v", err)
			}
			_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: root.Pool, DNSName: "deep.test"})
			if err == nil {
				t.Error("verified without the intermediates")
			}
		})
	}
}

func TestPEMRoundTripsThroughX509(t *testing.T) {
	ca := MustNewCA("PEM CA", ECDSAP256)
	inter := ca.MustNewIntermediate("PEM Intermediate", ECDSAP256)
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			leaf := inter.MustServer(kt, "pem.test")

			cert := parseOnePEM(t, leaf.CertPEM(), "CERTIFICATE")
			if !bytes.Equal(cert, leaf.Chain[0]) {
				t.Error("CertPEM does not hold the leaf")
			}
			rest := leaf.ChainPEM()
			for i, want := range leaf.Chain {
				var b *pem.Block
				b, rest = pem.Decode(rest)
				if b == nil || b.Type != "CERTIFICATE" || !bytes.Equal(b.Bytes, want) {
					t.Fatalf("ChainPEM block %d is not Chain[%d]", i, i)
				}
			}
			if len(bytes.TrimSpace(rest)) != 0 {
				t.Errorf("ChainPEM has %d trailing bytes", len(rest))
			}

			keyDER := parseOnePEM(t, leaf.KeyPEM(), "PRIVATE KEY")
			key, err := x509.ParsePKCS8PrivateKey(keyDER)
			if err != nil {
				t.Fatalf("KeyPEM is not PKCS #8: %v", err)
			}
			if !publicKeysEqual(key.(crypto.Signer).Public(), leaf.Cert.PublicKey) {
				t.Error("KeyPEM's key does not match the certificate")
			}
			if _, err := tls.X509KeyPair(leaf.ChainPEM(), leaf.KeyPEM()); err != nil {
				t.Errorf("crypto/tls rejects the PEM pair: %v", err)
			}
		})
	}
	caCert, err := x509.ParseCertificate(parseOnePEM(t, ca.CertPEM(), "CERTIFICATE"))
	if err != nil || !caCert.Equal(ca.Cert) {
		t.Errorf("Authority.CertPEM does not round-trip: %v", err)
	}
}

func parseOnePEM(t *testing.T, data []byte, wantType string) []byte {
	t.Helper()
	b, rest := pem.Decode(data)
	if b == nil || b.Type != wantType || len(rest) != 0 {
		t.Fatalf("want exactly one %s PEM block in %q", wantType, data)
	}
	return b.Bytes
}

func TestIssueAppliesDefaultsAndHonoursOptions(t *testing.T) {
	ca := MustNewCA("Options CA", ECDSAP256)
	now := time.Now()

	def := ca.MustIssue(LeafOptions{KeyType: ECDSAP256, DNSNames: []string{"default.test"}})
	if def.Cert.Subject.CommonName != "default.test" {
		t.Errorf("default CommonName = %q, want the first DNS name", def.Cert.Subject.CommonName)
	}
	if nb := def.Cert.NotBefore; nb.After(now.Add(-59*time.Minute)) || nb.Before(now.Add(-61*time.Minute)) {
		t.Errorf("default NotBefore = %v, want about an hour ago", nb)
	}
	if na := def.Cert.NotAfter; na.Before(now.Add(23*time.Hour)) || na.After(now.Add(25*time.Hour)) {
		t.Errorf("default NotAfter = %v, want about a day from now", na)
	}
	if len(def.Cert.ExtKeyUsage) != 1 || def.Cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("default ExtKeyUsage = %v, want [ServerAuth]", def.Cert.ExtKeyUsage)
	}
	if def.Cert.KeyUsage&x509.KeyUsageKeyEncipherment != 0 {
		t.Error("ECDSA leaf has keyEncipherment")
	}

	ipOnly := ca.MustIssue(LeafOptions{KeyType: Ed25519, IPs: []net.IP{net.ParseIP("::1")}})
	if ipOnly.Cert.Subject.CommonName != "::1" || len(ipOnly.Cert.IPAddresses) != 1 {
		t.Errorf("IP-only leaf: CommonName %q, IPs %v", ipOnly.Cert.Subject.CommonName, ipOnly.Cert.IPAddresses)
	}

	noEKU := ca.MustIssue(LeafOptions{KeyType: ECDSAP256, ExtKeyUsage: []x509.ExtKeyUsage{}})
	if len(noEKU.Cert.ExtKeyUsage) != 0 {
		t.Errorf("empty ExtKeyUsage gave %v, want none", noEKU.Cert.ExtKeyUsage)
	}

	rsaLeaf := ca.MustIssue(LeafOptions{KeyType: RSA2048, CommonName: "rsa"})
	if rsaLeaf.Cert.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
		t.Error("RSA leaf lacks keyEncipherment, needed for the TLS 1.2 RSA key exchange")
	}

	expired := ca.MustIssue(LeafOptions{
		KeyType:   ECDSAP256,
		DNSNames:  []string{"expired.test"},
		NotBefore: now.Add(-48 * time.Hour),
		NotAfter:  now.Add(-24 * time.Hour),
	})
	var invalid x509.CertificateInvalidError
	if err := verify(expired, ca.Pool, "expired.test", x509.ExtKeyUsageServerAuth); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("expired leaf: error = %v, want an Expired CertificateInvalidError", err)
	}
}

func TestRSAKeysComeFromASmallPool(t *testing.T) {
	ca := MustNewCA("Pool CA", ECDSAP256)
	seen := map[string]bool{}
	for range 2 * rsaPoolSize {
		leaf := ca.MustIssue(LeafOptions{KeyType: RSA2048})
		der, err := x509.MarshalPKIXPublicKey(leaf.Key.Public())
		if err != nil {
			t.Fatal(err)
		}
		seen[string(der)] = true
	}
	if len(seen) > rsaPoolSize {
		t.Errorf("%d distinct RSA keys for %d leaves, want at most the pool size %d", len(seen), 2*rsaPoolSize, rsaPoolSize)
	}
	if len(seen) < 2 {
		t.Error("every RSA leaf got the same key, want the pool to rotate")
	}
}

func TestUnknownKeyTypeIsAnError(t *testing.T) {
	if _, err := NewCA("bad", KeyType(99)); err == nil {
		t.Error("NewCA with an unknown key type succeeded")
	}
	ca := MustNewCA("CA", Ed25519)
	if _, err := ca.Issue(LeafOptions{KeyType: KeyType(99)}); err == nil {
		t.Error("Issue with an unknown key type succeeded")
	}
	if got := KeyType(99).String(); got != "KeyType(99)" {
		t.Errorf("String() = %q", got)
	}
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
