package signature

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow/internal/providertest"
	"github.com/tlsflow/tlsflow/provider"
)

type testKeys struct {
	rsa2048, rsa1024 *rsa.PrivateKey
	p256, p384, p521 *ecdsa.PrivateKey
	ed25519          ed25519.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func mustKeys(t *testing.T) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		var e error
		keys.rsa2048, e = rsa.GenerateKey(nil, 2048)
		must(e)
		keys.rsa1024, e = rsa.GenerateKey(nil, 1024)
		must(e)
		keys.p256, e = ecdsa.GenerateKey(elliptic.P256(), nil)
		must(e)
		keys.p384, e = ecdsa.GenerateKey(elliptic.P384(), nil)
		must(e)
		keys.p521, e = ecdsa.GenerateKey(elliptic.P521(), nil)
		must(e)
		_, keys.ed25519, e = ed25519.GenerateKey(nil)
		must(e)
		if err != nil {
			panic(err)
		}
	})
	return &keys
}

// signerFor returns a key that fits scheme s.
func (k *testKeys) signerFor(s uint16) crypto.Signer {
	switch s {
	case ECDSASecp256r1SHA256:
		return k.p256
	case ECDSASecp384r1SHA384:
		return k.p384
	case ECDSASecp521r1SHA512:
		return k.p521
	case Ed25519:
		return k.ed25519
	}
	return k.rsa2048
}

var message = []byte("ServerKeyExchange params or CertificateVerify content")

// Every provider's signatures verify with the standard library, and the
// other way round: the OpenSSL provider signs with OpenSSL for RSA and
// P-256 and verifies with Go.
func TestSignThenVerifyEveryScheme(t *testing.T) {
	providertest.Run(t, testSignThenVerifyEveryScheme)
}

func testSignThenVerifyEveryScheme(t *testing.T, p provider.Provider) {
	k := mustKeys(t)
	for _, s := range Default {
		t.Run(Name(s), func(t *testing.T) {
			signer := k.signerFor(s)
			sig, err := Sign(p, signer, s, nil, message)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if err := Verify(nil, signer.Public(), s, message, sig); err != nil {
				t.Fatalf("Verify of our own signature: %v", err)
			}
			stdSig, err := Sign(nil, signer, s, nil, message)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(p, signer.Public(), s, message, stdSig); err != nil {
				t.Fatalf("Verify with %s of the standard library's signature: %v", p.Name(), err)
			}

			tampered := append([]byte(nil), message...)
			tampered[0] ^= 1
			if err := Verify(nil, signer.Public(), s, tampered, sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify over a tampered message = %v, want ErrBadSignature", err)
			}
			badSig := append([]byte(nil), sig...)
			badSig[len(badSig)/2] ^= 1
			if err := Verify(nil, signer.Public(), s, message, badSig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify of a tampered signature = %v, want ErrBadSignature", err)
			}
			if err := Verify(nil, signer.Public(), s, message, nil); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify of an empty signature = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestWrongKeyTypeIsRefusedWithAClearError(t *testing.T) {
	k := mustKeys(t)
	for _, tc := range []struct {
		name    string
		scheme  uint16
		pub     crypto.PublicKey
		wantErr string
	}{
		{"RSA key for ecdsa", ECDSASecp256r1SHA256, k.rsa2048.Public(), "needs an ECDSA P-256 key, got RSA-2048 key"},
		{"Ed25519 key for rsa_pss", RSAPSSRSAESHA256, k.ed25519.Public(), "rsa_pss_rsae_sha256 needs an RSA key, got Ed25519 key"},
		{"ECDSA key for rsa_pkcs1", RSAPKCS1SHA256, k.p256.Public(), "rsa_pkcs1_sha256 needs an RSA key, got ECDSA P-256 key"},
		{"RSA key for ed25519", Ed25519, k.rsa2048.Public(), "ed25519 needs an Ed25519 key, got RSA-2048 key"},
		{"RSA-1024 key for rsa_pss_rsae_sha512", RSAPSSRSAESHA512, k.rsa1024.Public(), "needs an RSA key of at least 1040 bits, got RSA-1024 key"},
		{"no key", RSAPSSRSAESHA256, nil, "got no key"},
		{"empty RSA key", RSAPSSRSAESHA256, &rsa.PublicKey{}, "got empty RSA key"},
		{"nil RSA key", RSAPSSRSAESHA256, (*rsa.PublicKey)(nil), "got empty RSA key"},
		{"ECDSA key without a curve", ECDSASecp256r1SHA256, &ecdsa.PublicKey{}, "got empty ECDSA key"},
		{"truncated Ed25519 key", Ed25519, ed25519.PublicKey(make([]byte, 31)), "got malformed 31-byte Ed25519 key"},
		{"SHA-1 scheme", RSAPKCS1SHA1, k.rsa2048.Public(), "rsa_pkcs1_sha1 is not supported"},
		{"unknown scheme", 0x0a0a, k.rsa2048.Public(), "signature_scheme(0x0a0a) is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(nil, tc.pub, tc.scheme, message, make([]byte, 64))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Verify error = %v, want one containing %q", err, tc.wantErr)
			}
			if errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify error %v wraps ErrBadSignature; a key mismatch is a different failure", err)
			}
			if Compatible(tc.pub, tc.scheme, false) {
				t.Error("Compatible = true")
			}
		})
	}
}

func TestSignRefusesAKeyThatDoesNotFitTheScheme(t *testing.T) {
	k := mustKeys(t)
	_, err := Sign(nil, k.p256, ECDSASecp384r1SHA384, nil, message)
	if want := "ecdsa_secp384r1_sha384 needs a P-384 key, got ECDSA P-256 key"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Sign error = %v, want one containing %q", err, want)
	}
	if _, err := Sign(nil, nil, Ed25519, nil, message); err == nil {
		t.Error("Sign with a nil signer succeeded")
	}
}

// Signatures made by the standard library on its own verify with Verify.
func TestStdlibSignaturesVerify(t *testing.T) {
	k := mustKeys(t)
	for _, tc := range []struct {
		scheme uint16
		pub    crypto.PublicKey
		sign   func(digest []byte) ([]byte, error)
		hash   crypto.Hash
	}{
		{RSAPSSRSAESHA256, k.rsa2048.Public(), func(d []byte) ([]byte, error) {
			return rsa.SignPSS(cryptorand.Reader, k.rsa2048, crypto.SHA256, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}, crypto.SHA256},
		{RSAPSSRSAESHA512, k.rsa2048.Public(), func(d []byte) ([]byte, error) {
			return rsa.SignPSS(cryptorand.Reader, k.rsa2048, crypto.SHA512, d, &rsa.PSSOptions{SaltLength: 64})
		}, crypto.SHA512},
		{RSAPKCS1SHA384, k.rsa2048.Public(), func(d []byte) ([]byte, error) {
			return rsa.SignPKCS1v15(nil, k.rsa2048, crypto.SHA384, d)
		}, crypto.SHA384},
		{ECDSASecp256r1SHA256, k.p256.Public(), func(d []byte) ([]byte, error) {
			return ecdsa.SignASN1(cryptorand.Reader, k.p256, d)
		}, crypto.SHA256},
		{ECDSASecp384r1SHA384, k.p384.Public(), func(d []byte) ([]byte, error) {
			return ecdsa.SignASN1(cryptorand.Reader, k.p384, d)
		}, crypto.SHA384},
		{Ed25519, k.ed25519.Public(), func(m []byte) ([]byte, error) {
			return ed25519.Sign(k.ed25519, m), nil
		}, 0},
	} {
		t.Run(Name(tc.scheme), func(t *testing.T) {
			input := message
			if tc.hash != 0 {
				input = digest(tc.hash, message)
			}
			sig, err := tc.sign(input)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(nil, tc.pub, tc.scheme, message, sig); err != nil {
				t.Errorf("Verify of a standard library signature: %v", err)
			}
		})
	}
}

// Our signatures verify with the standard library's verifiers, RSA-PSS with
// the salt length fixed to the hash length.
func TestOurSignaturesVerifyWithStdlib(t *testing.T) {
	k := mustKeys(t)
	for _, tc := range []struct {
		scheme uint16
		verify func(sig []byte) error
	}{
		{RSAPSSRSAESHA256, func(sig []byte) error {
			return rsa.VerifyPSS(&k.rsa2048.PublicKey, crypto.SHA256, digest(crypto.SHA256, message), sig, &rsa.PSSOptions{SaltLength: 32})
		}},
		{RSAPSSRSAESHA384, func(sig []byte) error {
			return rsa.VerifyPSS(&k.rsa2048.PublicKey, crypto.SHA384, digest(crypto.SHA384, message), sig, &rsa.PSSOptions{SaltLength: 48})
		}},
		{RSAPSSRSAESHA512, func(sig []byte) error {
			return rsa.VerifyPSS(&k.rsa2048.PublicKey, crypto.SHA512, digest(crypto.SHA512, message), sig, &rsa.PSSOptions{SaltLength: 64})
		}},
		{RSAPKCS1SHA256, func(sig []byte) error {
			return rsa.VerifyPKCS1v15(&k.rsa2048.PublicKey, crypto.SHA256, digest(crypto.SHA256, message), sig)
		}},
		{RSAPKCS1SHA512, func(sig []byte) error {
			return rsa.VerifyPKCS1v15(&k.rsa2048.PublicKey, crypto.SHA512, digest(crypto.SHA512, message), sig)
		}},
		{ECDSASecp256r1SHA256, func(sig []byte) error {
			return boolErr(ecdsa.VerifyASN1(&k.p256.PublicKey, digest(crypto.SHA256, message), sig))
		}},
		{ECDSASecp384r1SHA384, func(sig []byte) error {
			return boolErr(ecdsa.VerifyASN1(&k.p384.PublicKey, digest(crypto.SHA384, message), sig))
		}},
		{ECDSASecp521r1SHA512, func(sig []byte) error {
			return boolErr(ecdsa.VerifyASN1(&k.p521.PublicKey, digest(crypto.SHA512, message), sig))
		}},
		{Ed25519, func(sig []byte) error {
			return boolErr(ed25519.Verify(k.ed25519.Public().(ed25519.PublicKey), message, sig))
		}},
	} {
		t.Run(Name(tc.scheme), func(t *testing.T) {
			sig, err := Sign(nil, k.signerFor(tc.scheme), tc.scheme, nil, message)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.verify(sig); err != nil {
				t.Errorf("standard library rejects our signature: %v", err)
			}
		})
	}
}

// RFC 8446 §4.2.3: the PSS salt MUST be as long as the hash, so a signature
// with the maximum salt must not verify.
func TestVerifyRejectsPSSWithAnotherSaltLength(t *testing.T) {
	k := mustKeys(t)
	sig, err := rsa.SignPSS(cryptorand.Reader, k.rsa2048, crypto.SHA256, digest(crypto.SHA256, message),
		&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(nil, k.rsa2048.Public(), RSAPSSRSAESHA256, message, sig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify of a max-salt PSS signature = %v, want ErrBadSignature", err)
	}
}

// recordingSigner stands for a hardware key: it sees only the digest and opts.
type recordingSigner struct {
	crypto.Signer
	digest []byte
	opts   crypto.SignerOpts
}

func (r *recordingSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	r.digest, r.opts = digest, opts
	return r.Signer.Sign(rand, digest, opts)
}

// A key the provider does not hold (hardware) signs itself, under every
// provider.
func TestSignPassesHashAndPSSSaltToTheSigner(t *testing.T) {
	providertest.Run(t, testSignPassesHashAndPSSSaltToTheSigner)
}

func testSignPassesHashAndPSSSaltToTheSigner(t *testing.T, p provider.Provider) {
	k := mustKeys(t)
	for _, tc := range []struct {
		scheme     uint16
		key        crypto.Signer
		wantDigest []byte
		wantHash   crypto.Hash
		wantPSS    bool
	}{
		{RSAPSSRSAESHA384, k.rsa2048, digest(crypto.SHA384, message), crypto.SHA384, true},
		{RSAPKCS1SHA256, k.rsa2048, digest(crypto.SHA256, message), crypto.SHA256, false},
		{ECDSASecp384r1SHA384, k.p384, digest(crypto.SHA384, message), crypto.SHA384, false},
		{Ed25519, k.ed25519, message, 0, false},
	} {
		t.Run(Name(tc.scheme), func(t *testing.T) {
			r := &recordingSigner{Signer: tc.key}
			if _, err := Sign(p, r, tc.scheme, nil, message); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.digest, tc.wantDigest) {
				t.Errorf("signer got %x, want %x", r.digest, tc.wantDigest)
			}
			if r.opts.HashFunc() != tc.wantHash {
				t.Errorf("signer got hash %v, want %v", r.opts.HashFunc(), tc.wantHash)
			}
			pssOpts, isPSS := r.opts.(*rsa.PSSOptions)
			if isPSS != tc.wantPSS {
				t.Fatalf("signer got opts %T, want PSS = %v", r.opts, tc.wantPSS)
			}
			if isPSS && pssOpts.SaltLength != rsa.PSSSaltLengthEqualsHash {
				t.Errorf("PSS salt length = %d, want PSSSaltLengthEqualsHash", pssOpts.SaltLength)
			}
		})
	}
}

func TestCompatibleMatchesKeysToSchemes(t *testing.T) {
	k := mustKeys(t)
	for _, tc := range []struct {
		name   string
		pub    crypto.PublicKey
		scheme uint16
		tls13  bool
		want   bool
	}{
		{"RSA with PSS in TLS 1.3", k.rsa2048.Public(), RSAPSSRSAESHA256, true, true},
		{"RSA with PKCS1 in TLS 1.2", k.rsa2048.Public(), RSAPKCS1SHA256, false, true},
		{"RSA with PKCS1 in TLS 1.3 is forbidden", k.rsa2048.Public(), RSAPKCS1SHA256, true, false},
		{"RSA with ECDSA", k.rsa2048.Public(), ECDSASecp256r1SHA256, false, false},
		{"RSA-1024 with PSS SHA-384", k.rsa1024.Public(), RSAPSSRSAESHA384, true, true},
		{"RSA-1024 with PSS SHA-512 is too small", k.rsa1024.Public(), RSAPSSRSAESHA512, true, false},
		{"P-256 with its scheme", k.p256.Public(), ECDSASecp256r1SHA256, true, true},
		{"P-256 with the P-384 scheme in TLS 1.2", k.p256.Public(), ECDSASecp384r1SHA384, false, false},
		{"P-384 with its scheme", k.p384.Public(), ECDSASecp384r1SHA384, true, true},
		{"P-521 with its scheme", k.p521.Public(), ECDSASecp521r1SHA512, true, true},
		{"Ed25519 with ed25519 in TLS 1.2", k.ed25519.Public(), Ed25519, false, true},
		{"Ed25519 with ECDSA", k.ed25519.Public(), ECDSASecp256r1SHA256, true, false},
		{"RSA with SHA-1", k.rsa2048.Public(), RSAPKCS1SHA1, false, false},
		{"ECDSA with SHA-1", k.p256.Public(), ECDSASHA1, false, false},
		{"private key instead of public", k.p256, ECDSASecp256r1SHA256, true, false},
	} {
		if got := Compatible(tc.pub, tc.scheme, tc.tls13); got != tc.want {
			t.Errorf("%s: Compatible(%s, tls13=%v) = %v, want %v", tc.name, Name(tc.scheme), tc.tls13, got, tc.want)
		}
	}
}

func TestChoosePrefersOurOrderAmongWhatFits(t *testing.T) {
	k := mustKeys(t)
	for _, tc := range []struct {
		name   string
		ours   []uint16
		peer   []uint16
		pub    crypto.PublicKey
		tls13  bool
		want   uint16
		wantOK bool
	}{
		{"RSA in TLS 1.3 takes PSS over PKCS1", Default, []uint16{RSAPKCS1SHA256, RSAPSSRSAESHA256}, k.rsa2048.Public(), true, RSAPSSRSAESHA256, true},
		{"RSA in TLS 1.3 with only PKCS1 offered", Default, []uint16{RSAPKCS1SHA256, RSAPKCS1SHA384}, k.rsa2048.Public(), true, 0, false},
		{"RSA in TLS 1.2 with only PKCS1 offered", Default, []uint16{RSAPKCS1SHA384, RSAPKCS1SHA256}, k.rsa2048.Public(), false, RSAPKCS1SHA256, true},
		{"our order beats the peer's", Default, []uint16{RSAPSSRSAESHA512, RSAPSSRSAESHA256}, k.rsa2048.Public(), true, RSAPSSRSAESHA256, true},
		{"P-384 key skips the P-256 scheme", Default, []uint16{ECDSASecp256r1SHA256, ECDSASecp384r1SHA384}, k.p384.Public(), true, ECDSASecp384r1SHA384, true},
		{"Ed25519 not offered", Default, []uint16{ECDSASecp256r1SHA256, RSAPSSRSAESHA256}, k.ed25519.Public(), true, 0, false},
		{"small RSA key falls back to a shorter hash", []uint16{RSAPSSRSAESHA512, RSAPSSRSAESHA384}, []uint16{RSAPSSRSAESHA384, RSAPSSRSAESHA512}, k.rsa1024.Public(), true, RSAPSSRSAESHA384, true},
		{"SHA-1 offered by both is never chosen", []uint16{RSAPKCS1SHA1}, []uint16{RSAPKCS1SHA1}, k.rsa2048.Public(), false, 0, false},
		{"empty peer list", Default, nil, k.p256.Public(), true, 0, false},
	} {
		got, ok := Choose(tc.ours, tc.peer, tc.pub, tc.tls13)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: Choose = %s, %v; want %s, %v", tc.name, Name(got), ok, Name(tc.want), tc.wantOK)
		}
	}
}

func TestDefaultPutsPKCS1Last(t *testing.T) {
	seenPKCS1 := false
	for _, s := range Default {
		if !Supported(s) {
			t.Errorf("Default lists unsupported %s", Name(s))
		}
		isPKCS1 := s == RSAPKCS1SHA256 || s == RSAPKCS1SHA384 || s == RSAPKCS1SHA512
		if seenPKCS1 && !isPKCS1 {
			t.Errorf("Default lists %s after a PKCS #1 v1.5 scheme", Name(s))
		}
		seenPKCS1 = seenPKCS1 || isPKCS1
	}
	if Default[0] != Ed25519 {
		t.Errorf("Default starts with %s, want ed25519", Name(Default[0]))
	}
}

func TestNameUsesRFC8446Names(t *testing.T) {
	for s, want := range map[uint16]string{
		RSAPKCS1SHA256:       "rsa_pkcs1_sha256",
		RSAPSSRSAESHA384:     "rsa_pss_rsae_sha384",
		ECDSASecp521r1SHA512: "ecdsa_secp521r1_sha512",
		Ed25519:              "ed25519",
		RSAPKCS1SHA1:         "rsa_pkcs1_sha1",
		ECDSASHA1:            "ecdsa_sha1",
		0x0809:               "rsa_pss_pss_sha256",
		0x1234:               "signature_scheme(0x1234)",
	} {
		if got := Name(s); got != want {
			t.Errorf("Name(%#04x) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []uint16{RSAPKCS1SHA1, ECDSASHA1, 0x0808, 0x0809, 0x1234} {
		if Supported(s) {
			t.Errorf("Supported(%s) = true", Name(s))
		}
	}
}

// RFC 8446 §4.4.3's example: a server CertificateVerify over a transcript
// hash of 32 bytes of 01.
func TestSignedContent13MatchesRFC8446Example(t *testing.T) {
	want, _ := hex.DecodeString(strings.Join([]string{
		"2020202020202020202020202020202020202020202020202020202020202020",
		"2020202020202020202020202020202020202020202020202020202020202020",
		"544c5320312e332c207365727665722043657274696669636174655665726966",
		"79",
		"00",
		"0101010101010101010101010101010101010101010101010101010101010101",
	}, ""))
	got := SignedContent13(ContextServer, bytes.Repeat([]byte{0x01}, 32))
	if !bytes.Equal(got, want) {
		t.Errorf("SignedContent13 =\n%x\nwant\n%x", got, want)
	}
	client := SignedContent13(ContextClient, bytes.Repeat([]byte{0x01}, 32))
	if !bytes.Contains(client, []byte("TLS 1.3, client CertificateVerify\x00")) || bytes.Equal(client, got) {
		t.Errorf("client content %q does not carry the client context", client)
	}
}

func digest(h crypto.Hash, m []byte) []byte {
	w := h.New()
	w.Write(m)
	return w.Sum(nil)
}

func boolErr(ok bool) error {
	if !ok {
		return errors.New("verification failed")
	}
	return nil
}

// In TLS 1.2 an ECDSA code point names only the hash: a peer's P-256 key
// signing "ecdsa_secp384r1_sha384" is ECDSA with SHA-384 and must be
// accepted (RFC 8446 §4.2.3). In TLS 1.3 the curve is part of the scheme.
// Our own choice stays bound to the curve in both versions.
func TestTLS12ECDSASchemeDoesNotBindTheCurve(t *testing.T) {
	k := mustKeys(t)
	pub := k.p256.Public()
	if !Accepts(pub, ECDSASecp384r1SHA384, false) {
		t.Errorf("TLS 1.2: Accepts(P-256, ecdsa_secp384r1_sha384) = false, want true")
	}
	if Accepts(pub, ECDSASecp384r1SHA384, true) {
		t.Errorf("TLS 1.3: Accepts(P-256, ecdsa_secp384r1_sha384) = true, want false")
	}
	if Compatible(pub, ECDSASecp384r1SHA384, false) {
		t.Errorf("Compatible(P-256, ecdsa_secp384r1_sha384) = true: we would sign with a scheme naming another curve")
	}
	if Accepts(k.rsa2048.Public(), ECDSASecp384r1SHA384, false) {
		t.Errorf("TLS 1.2: an RSA key accepted for an ECDSA scheme")
	}
	msg := []byte("ServerKeyExchange params")
	digest := crypto.SHA384.New()
	digest.Write(msg)
	sig, err := ecdsa.SignASN1(cryptorand.Reader, k.p256, digest.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(nil, pub, ECDSASecp384r1SHA384, msg, sig); err != nil {
		t.Errorf("Verify(nil, P-256 key, ecdsa_secp384r1_sha384) = %v, want nil", err)
	}
}

// Compatible says yes or no without formatting; check explains a no. They
// must agree for every scheme, key and version.
func TestCompatibleAgreesWithCheck(t *testing.T) {
	k := mustKeys(t)
	var nilRSA *rsa.PublicKey
	pubs := []crypto.PublicKey{k.rsa2048.Public(), k.rsa1024.Public(), k.p256.Public(), k.p384.Public(),
		k.p521.Public(), k.ed25519.Public(), k.p256, nil, nilRSA, ed25519.PublicKey{1, 2, 3}}
	for s := range schemes {
		for _, pub := range pubs {
			for _, tls13 := range []bool{false, true} {
				err := check(pub, s, tls13)
				if got := Compatible(pub, s, tls13); got != (err == nil) {
					t.Errorf("%s with %T (tls13=%v): Compatible %v, check %v", Name(s), pub, tls13, got, err)
				}
			}
		}
	}
}
