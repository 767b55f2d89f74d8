package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/pki"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func writePEM(t *testing.T, path, typ string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pkcs8With is a PrivateKeyInfo (RFC 5208) naming oid, with a dummy key.
func pkcs8With(oid asn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
		b.AddASN1OctetString(make([]byte, 32))
	})
	return b.BytesOrPanic()
}

func TestKeyTypesTlsflowLacksAreUnimplemented(t *testing.T) {
	dir := t.TempDir()
	ca := pki.MustNewCA("shim test CA", pki.ECDSAP256)
	for _, kt := range []pki.KeyType{pki.RSA2048, pki.ECDSAP256, pki.Ed25519} {
		leaf := ca.MustServer(kt, "localhost")
		certFile := filepath.Join(dir, kt.String()+".pem")
		keyFile := filepath.Join(dir, kt.String()+".key")
		os.WriteFile(certFile, leaf.ChainPEM(), 0o600)
		os.WriteFile(keyFile, leaf.KeyPEM(), 0o600)
		if _, err := loadKeyPair("-key-file", certFile, keyFile); err != nil {
			t.Errorf("%v: %v", kt, err)
		}
	}
	var unimpl *errUnimplemented

	// An ML-DSA-65 or Ed448 PKCS #8 key: unimplemented, not a failure.
	ecCert := filepath.Join(dir, pki.ECDSAP256.String()+".pem")
	for _, oid := range []asn1.ObjectIdentifier{{2, 16, 840, 1, 101, 3, 4, 3, 18}, {1, 3, 101, 113}} {
		keyFile := writePEM(t, filepath.Join(dir, "other.key"), "PRIVATE KEY", pkcs8With(oid))
		if _, err := loadKeyPair("-key-file", ecCert, keyFile); !errors.As(err, &unimpl) {
			t.Errorf("PKCS #8 key %v: err = %v, want errUnimplemented", oid, err)
		}
	}

	// A certificate whose key is on a curve tlsflow lacks (P-224).
	key, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writePEM(t, filepath.Join(dir, "p224.pem"), "CERTIFICATE", der)
	keyFile := writePEM(t, filepath.Join(dir, "p224.key"), "PRIVATE KEY", keyDER)
	if oid, _, ok := certificateKeyAlgorithm(der); !ok || !oid.Equal(oidECDSA) {
		t.Errorf("certificateKeyAlgorithm = %v, %v, want id-ecPublicKey", oid, ok)
	}
	if _, err := loadKeyPair("-key-file", certFile, keyFile); !errors.As(err, &unimpl) {
		t.Errorf("P-224 certificate: err = %v, want errUnimplemented", err)
	}
	// An RSA-PSS SubjectPublicKeyInfo (RFC 4055 id-RSASSA-PSS).
	if err := supportedKeyAlgorithm("-key-file", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}, nil); !errors.As(err, &unimpl) {
		t.Errorf("RSA-PSS key: err = %v, want errUnimplemented", err)
	}
	// Through shimMain: exit 89, not 1.
	if code := shimMain([]string{"-port", "1", "-server", "-cert-file", certFile, "-key-file", keyFile}); code != exitUnimplemented {
		t.Errorf("shimMain with a P-224 certificate = %d, want %d", code, exitUnimplemented)
	}
}
