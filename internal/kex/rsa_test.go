package kex

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow/internal/providertest"
	"github.com/tlsflow/tlsflow/provider"
)

var (
	rsaKeyOnce sync.Once
	rsaKey     *rsa.PrivateKey
)

func testRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	rsaKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(nil, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

func TestPreMasterSecretRoundTrip(t *testing.T) { providertest.Run(t, testPreMasterSecretRoundTrip) }

func testPreMasterSecretRoundTrip(t *testing.T, p provider.Provider) {
	key := testRSAKey(t)
	preMaster, encrypted, err := EncryptPreMasterSecret(nil, &key.PublicKey, 0x0303)
	if err != nil {
		t.Fatalf("EncryptPreMasterSecret: %v", err)
	}
	if len(preMaster) != 48 || preMaster[0] != 0x03 || preMaster[1] != 0x03 {
		t.Fatalf("pre-master secret = %x, want 48 bytes starting with client_version 0303", preMaster)
	}
	if len(encrypted) != key.Size() {
		t.Errorf("encrypted pre-master secret is %d bytes, want the modulus size %d", len(encrypted), key.Size())
	}
	got, err := DecryptPreMasterSecret(p, nil, key, encrypted, 0x0303)
	if err != nil {
		t.Fatalf("DecryptPreMasterSecret: %v", err)
	}
	if !bytes.Equal(got, preMaster) {
		t.Errorf("decrypted %x, want %x", got, preMaster)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestEncryptPreMasterSecretDrawsRandomFromRand(t *testing.T) {
	key := testRSAKey(t)
	preMaster, _, err := EncryptPreMasterSecret(repeatReader(0xab), &key.PublicKey, 0x0301)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x03, 0x01}, bytes.Repeat([]byte{0xab}, 46)...)
	if !bytes.Equal(preMaster, want) {
		t.Errorf("pre-master secret = %x, want %x", preMaster, want)
	}
}

func TestEncryptPreMasterSecretNeedsAKey(t *testing.T) {
	if _, _, err := EncryptPreMasterSecret(nil, nil, 0x0303); err == nil {
		t.Error("encrypting to a nil key succeeded")
	}
}

// Bad padding and a wrong version must look alike to the caller: no error,
// 48 random bytes (RFC 5246 §7.4.7.1). Timing cannot be tested here; the
// code is constant time by construction.
func TestDecryptHidesPaddingAndVersionFailures(t *testing.T) {
	providertest.Run(t, testDecryptHidesPaddingAndVersionFailures)
}

func testDecryptHidesPaddingAndVersionFailures(t *testing.T, p provider.Provider) {
	key := testRSAKey(t)
	sent, wrongVersion, err := EncryptPreMasterSecret(nil, &key.PublicKey, 0x0303)
	if err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte{0x5a}, key.Size())
	garbage[0] = 0 // below the modulus, so only the padding is wrong
	shortMessage, err := rsa.EncryptPKCS1v15(nil, &key.PublicKey, sent[:47])
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name       string
		ciphertext []byte
	}{
		{"wrong client_version", wrongVersion},
		{"garbage ciphertext of modulus size", garbage},
		{"valid padding around a 47-byte message", shortMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Expecting 0x0302 makes the "wrong client_version" case wrong;
			// the other cases fail before the version matters.
			first, err := DecryptPreMasterSecret(p, nil, key, tc.ciphertext, 0x0302)
			if err != nil {
				t.Fatalf("error = %v, want nil (a distinguishable error is an oracle)", err)
			}
			if len(first) != 48 {
				t.Fatalf("secret is %d bytes, want 48", len(first))
			}
			if bytes.Equal(first, sent) {
				t.Fatal("returned the sent pre-master secret despite the failure")
			}
			second, _ := DecryptPreMasterSecret(p, nil, key, tc.ciphertext, 0x0302)
			if bytes.Equal(first, second) {
				t.Error("two decryptions of the same bad ciphertext gave the same secret, want fresh random ones")
			}
		})
	}
}

func TestDecryptReportsFailuresItCannotHide(t *testing.T) {
	providertest.Run(t, testDecryptReportsFailuresItCannotHide)
}

func testDecryptReportsFailuresItCannotHide(t *testing.T, p provider.Provider) {
	key := testRSAKey(t)
	for _, tc := range []struct {
		name       string
		key        crypto.Decrypter
		ciphertext []byte
		wantErr    string
	}{
		{"ciphertext shorter than the modulus", key, make([]byte, key.Size()-1), "is 255 bytes, want 256"},
		{"ciphertext longer than the modulus", key, make([]byte, key.Size()+1), "is 257 bytes, want 256"},
		{"ciphertext not below the modulus", key, bytes.Repeat([]byte{0xff}, key.Size()), "decrypting"},
		{"no key", nil, make([]byte, key.Size()), "no private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret, err := DecryptPreMasterSecret(p, nil, tc.key, tc.ciphertext, 0x0303)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
			if len(secret) != 48 {
				t.Errorf("secret is %d bytes, want a random 48-byte one to carry on with", len(secret))
			}
		})
	}
}

func TestDecryptFailsWhenRandFails(t *testing.T) {
	key := testRSAKey(t)
	_, encrypted, err := EncryptPreMasterSecret(nil, &key.PublicKey, 0x0303)
	if err != nil {
		t.Fatal(err)
	}
	if secret, err := DecryptPreMasterSecret(nil, eofReader{}, key, encrypted, 0x0303); err == nil {
		t.Errorf("succeeded with a failing random source, secret %x", secret)
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// strictDecrypter stands for an HSM that ignores SessionKeyLen and reports
// bad padding as an error.
type strictDecrypter struct{ *rsa.PrivateKey }

func (d strictDecrypter) Decrypt(_ io.Reader, ciphertext []byte, _ crypto.DecrypterOpts) ([]byte, error) {
	return rsa.DecryptPKCS1v15(nil, d.PrivateKey, ciphertext)
}

func TestDecryptWithDecrypterIgnoringSessionKeyLen(t *testing.T) {
	providertest.Run(t, testDecryptWithDecrypterIgnoringSessionKeyLen)
}

// The OpenSSL provider leaves a Decrypter that is not an *rsa.PrivateKey to
// its own Decrypt, so an HSM works the same under either provider.
func testDecryptWithDecrypterIgnoringSessionKeyLen(t *testing.T, p provider.Provider) {
	key := testRSAKey(t)
	d := strictDecrypter{key}
	sent, encrypted, err := EncryptPreMasterSecret(nil, &key.PublicKey, 0x0303)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecryptPreMasterSecret(p, nil, d, encrypted, 0x0303)
	if err != nil || !bytes.Equal(got, sent) {
		t.Errorf("good ciphertext: got %x, %v; want %x, nil", got, err, sent)
	}
	if got, err := DecryptPreMasterSecret(p, nil, d, encrypted, 0x0302); err != nil || len(got) != 48 || bytes.Equal(got, sent) {
		t.Errorf("wrong version: got %x, %v; want a random 48-byte secret and no error", got, err)
	}
	shortMessage, err := rsa.EncryptPKCS1v15(nil, &key.PublicKey, sent[:47])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecryptPreMasterSecret(p, nil, d, shortMessage, 0x0303); err != nil || len(got) != 48 || bytes.Equal(got[:47], sent[:47]) {
		t.Errorf("47-byte message: got %x, %v; want a random 48-byte secret and no error", got, err)
	}
	garbage := make([]byte, key.Size())
	garbage[key.Size()-1] = 1
	got, err = DecryptPreMasterSecret(p, nil, d, garbage, 0x0303)
	if err == nil || len(got) != 48 {
		t.Errorf("bad padding: got %x, %v; want a random 48-byte secret and the Decrypter's error", got, err)
	}
}

// rawEncrypt is textbook RSA, m^e mod n: it lets a test put any encoded
// message under the key, padding right or wrong.
func rawEncrypt(pub *rsa.PublicKey, em []byte) []byte {
	c := new(big.Int).Exp(new(big.Int).SetBytes(em), big.NewInt(int64(pub.E)), pub.N)
	return c.FillBytes(make([]byte, pub.Size()))
}

// Every way the encoded message can be wrong (RFC 8017 §7.2.2, RFC 5246
// §7.4.7.1) gives a fresh random secret and no error, and only the exact
// form gives the sent secret: the raw decryption path (the OpenSSL
// provider's, judged by checkPKCS1v15) and the standard library's agree.
func TestDecryptJudgesEveryPaddingFault(t *testing.T) {
	providertest.Run(t, testDecryptJudgesEveryPaddingFault)
}

func testDecryptJudgesEveryPaddingFault(t *testing.T, p provider.Provider) {
	key := testRSAKey(t)
	k := key.Size()
	secret := append([]byte{0x03, 0x03}, bytes.Repeat([]byte{0x42}, 46)...)
	good := func() []byte {
		em := make([]byte, k)
		em[1] = 2
		for i := 2; i < k-49; i++ {
			em[i] = byte(i%255 + 1) // nonzero
		}
		copy(em[k-48:], secret)
		return em
	}
	for _, tc := range []struct {
		name   string
		change func(em []byte) []byte
		ok     bool
	}{
		{"well formed", func(em []byte) []byte { return em }, true},
		{"first byte not zero", func(em []byte) []byte { em[0] = 1; return em }, false},
		{"block type 1", func(em []byte) []byte { em[1] = 1; return em }, false},
		{"zero inside the padding string", func(em []byte) []byte { em[10] = 0; return em }, false},
		{"zero as the last padding byte (a 49-byte message)", func(em []byte) []byte { em[k-50] = 0; return em }, false},
		{"no zero separator", func(em []byte) []byte { em[k-49] = 7; return em }, false},
		{"wrong client_version major", func(em []byte) []byte { em[k-48] = 2; return em }, false},
		{"wrong client_version minor", func(em []byte) []byte { em[k-47] = 1; return em }, false},
		{"separator early (a 50-byte message)", func(em []byte) []byte { em[k-51] = 0; em[k-49] = 9; return em }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rawEncrypt(&key.PublicKey, tc.change(good()))
			first, err := DecryptPreMasterSecret(p, nil, key, c, 0x0303)
			if err != nil {
				t.Fatalf("error = %v, want nil (a distinguishable error is an oracle)", err)
			}
			if len(first) != 48 {
				t.Fatalf("secret is %d bytes, want 48", len(first))
			}
			if tc.ok {
				if !bytes.Equal(first, secret) {
					t.Fatalf("got %x, want the sent secret %x", first, secret)
				}
				return
			}
			second, _ := DecryptPreMasterSecret(p, nil, key, c, 0x0303)
			if bytes.Equal(first, secret) || bytes.Equal(first, second) {
				t.Errorf("got %x then %x, want two fresh random secrets", first, second)
			}
		})
	}
}
