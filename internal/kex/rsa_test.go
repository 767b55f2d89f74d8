package kex

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"io"
	"strings"
	"sync"
	"testing"
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

func TestPreMasterSecretRoundTrip(t *testing.T) {
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
	got, err := DecryptPreMasterSecret(nil, key, encrypted, 0x0303)
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
			first, err := DecryptPreMasterSecret(nil, key, tc.ciphertext, 0x0302)
			if err != nil {
				t.Fatalf("error = %v, want nil (a distinguishable error is an oracle)", err)
			}
			if len(first) != 48 {
				t.Fatalf("secret is %d bytes, want 48", len(first))
			}
			if bytes.Equal(first, sent) {
				t.Fatal("returned the sent pre-master secret despite the failure")
			}
			second, _ := DecryptPreMasterSecret(nil, key, tc.ciphertext, 0x0302)
			if bytes.Equal(first, second) {
				t.Error("two decryptions of the same bad ciphertext gave the same secret, want fresh random ones")
			}
		})
	}
}

func TestDecryptReportsFailuresItCannotHide(t *testing.T) {
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
			secret, err := DecryptPreMasterSecret(nil, tc.key, tc.ciphertext, 0x0303)
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
	if secret, err := DecryptPreMasterSecret(eofReader{}, key, encrypted, 0x0303); err == nil {
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
	key := testRSAKey(t)
	d := strictDecrypter{key}
	sent, encrypted, err := EncryptPreMasterSecret(nil, &key.PublicKey, 0x0303)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecryptPreMasterSecret(nil, d, encrypted, 0x0303)
	if err != nil || !bytes.Equal(got, sent) {
		t.Errorf("good ciphertext: got %x, %v; want %x, nil", got, err, sent)
	}
	if got, err := DecryptPreMasterSecret(nil, d, encrypted, 0x0302); err != nil || len(got) != 48 || bytes.Equal(got, sent) {
		t.Errorf("wrong version: got %x, %v; want a random 48-byte secret and no error", got, err)
	}
	shortMessage, err := rsa.EncryptPKCS1v15(nil, &key.PublicKey, sent[:47])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecryptPreMasterSecret(nil, d, shortMessage, 0x0303); err != nil || len(got) != 48 || bytes.Equal(got[:47], sent[:47]) {
		t.Errorf("47-byte message: got %x, %v; want a random 48-byte secret and no error", got, err)
	}
	garbage := make([]byte, key.Size())
	garbage[key.Size()-1] = 1
	got, err = DecryptPreMasterSecret(nil, d, garbage, 0x0303)
	if err == nil || len(got) != 48 {
		t.Errorf("bad padding: got %x, %v; want a random 48-byte secret and the Decrypter's error", got, err)
	}
}
