//go:build cgo

package openssl

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func open(t *testing.T) *Provider {
	t.Helper()
	p, err := New()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OpenSSL provider: %v", err)
		}
		t.Skipf("OpenSSL provider: %v", err)
	}
	return p.(*Provider)
}

var rsaTestKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// OpenSSL signs (the key is in the cache afterwards) and crypto/rsa and
// crypto/ecdsa verify, for every hash and padding TLS uses.
func TestRoutedSignaturesVerifyWithGo(t *testing.T) {
	p := open(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// A key without its CRT values: the provider computes them.
	bare := &rsa.PrivateKey{PublicKey: rsaTestKey.PublicKey, D: rsaTestKey.D, Primes: rsaTestKey.Primes}
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		d := h.New()
		d.Write([]byte("signed content"))
		digest := d.Sum(nil)
		for _, key := range []*rsa.PrivateKey{rsaTestKey, bare} {
			sig, err := p.Sign(key, nil, digest, h)
			if err != nil || rsa.VerifyPKCS1v15(&key.PublicKey, h, digest, sig) != nil {
				t.Errorf("PKCS #1 v1.5 with %v: %v", h, err)
			}
			pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
			sig, err = p.Sign(key, nil, digest, pss)
			if err != nil || rsa.VerifyPSS(&key.PublicKey, h, digest, sig, pss) != nil {
				t.Errorf("PSS with %v: %v", h, err)
			}
			if rsaKeys.get(key) == nil {
				t.Error("the RSA key was not imported into OpenSSL")
			}
		}
	}
	digest := sha256.Sum256([]byte("signed content"))
	sig, err := p.Sign(ec, nil, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(&ec.PublicKey, digest[:], sig) {
		t.Errorf("ECDSA P-256: %v", err)
	}
	if ecdsaKeys.get(ec) == nil {
		t.Error("the P-256 key was not imported into OpenSSL")
	}
}

// hsmKey stands for a key OpenSSL cannot hold: it must sign and decrypt
// itself.
type hsmKey struct {
	*rsa.PrivateKey
	signed, decrypted int
}

func (k *hsmKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.signed++
	return k.PrivateKey.Sign(r, digest, opts)
}

func (k *hsmKey) Decrypt(r io.Reader, c []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	k.decrypted++
	return k.PrivateKey.Decrypt(r, c, opts)
}

func TestKeysOpenSSLDoesNotHoldUseTheirOwnMethods(t *testing.T) {
	p := open(t)
	k := &hsmKey{PrivateKey: rsaTestKey}
	digest := sha256.Sum256([]byte("x"))
	if _, err := p.Sign(k, rand.Reader, digest[:], crypto.SHA256); err != nil || k.signed != 1 {
		t.Errorf("Sign: %v, the key signed %d times; want once, itself", err, k.signed)
	}
	if _, ok, err := p.DecryptRSANoPadding(k, make([]byte, 256)); ok || err != nil {
		t.Errorf("DecryptRSANoPadding took a key it does not hold (ok %v, %v)", ok, err)
	}
}

func TestRawDecryptionIsTextbookRSA(t *testing.T) {
	p := open(t)
	m := new(big.Int).SetBytes(bytes.Repeat([]byte{0x5a}, 200))
	c := new(big.Int).Exp(m, big.NewInt(int64(rsaTestKey.E)), rsaTestKey.N).FillBytes(make([]byte, 256))
	em, ok, err := p.DecryptRSANoPadding(rsaTestKey, c)
	if !ok || err != nil {
		t.Fatalf("ok %v, %v", ok, err)
	}
	if want := m.FillBytes(make([]byte, 256)); !bytes.Equal(em, want) {
		t.Errorf("got %x, want the 256-byte, left-padded %x", em, want)
	}
	if _, ok, err := p.DecryptRSANoPadding(rsaTestKey, bytes.Repeat([]byte{0xff}, 256)); !ok || err == nil {
		t.Errorf("a ciphertext above the modulus: ok %v, %v; want an error", ok, err)
	}
}

// Without libcrypto the provider does not open, and says which file it
// looked for and how to name another; the process does not crash.
func TestMissingLibcryptoIsAClearError(t *testing.T) {
	if os.Getenv("TLSFLOW_TEST_OPEN_CHILD") == "1" {
		_, err := New()
		os.Stdout.WriteString("error: " + strings.ReplaceAll(errString(err), "\n", " ") + "\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMissingLibcryptoIsAClearError$", "-test.v")
	cmd.Env = append(os.Environ(), "TLSFLOW_TEST_OPEN_CHILD=1", LibEnvVar+"=libcrypto.so.missing")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child failed: %v\n%s", err, out)
	}
	want := "error: loading OpenSSL's libcrypto (libcrypto.so.missing; TLSFLOW_OPENSSL_LIBCRYPTO names another file)"
	if !strings.Contains(string(out), want) {
		t.Errorf("child said:\n%s\nwant a line starting %q", out, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
