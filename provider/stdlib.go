package provider

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/fips140"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// Stdlib is the standard library's provider (with golang.org/x/crypto's
// ChaCha20-Poly1305): the default, and what needs no cgo. A provider that
// accelerates some primitives embeds it for the others.
type Stdlib struct{}

var _ Provider = Stdlib{}

func (Stdlib) Name() string { return "stdlib" }

// FIPS reports crypto/fips140.Enabled (GODEBUG=fips140=on).
func (Stdlib) FIPS() bool { return fips140.Enabled() }

func (Stdlib) Rand() io.Reader { return rand.Reader }

func (Stdlib) NewHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.SHA256:
		return sha256.New()
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	}
	// The suites and schemes tlsflow implements name only these three;
	// anything else is a programming error.
	panic(fmt.Sprintf("provider: no hash %v", h))
}

func (p Stdlib) NewHMAC(h crypto.Hash, key []byte) hash.Hash {
	switch h {
	case crypto.SHA256:
		return hmac.New(sha256.New, key)
	case crypto.SHA384:
		return hmac.New(sha512.New384, key)
	case crypto.SHA512:
		return hmac.New(sha512.New, key)
	}
	panic(fmt.Sprintf("provider: no HMAC with %v", h))
}

func (Stdlib) NewAEAD(alg AEAD, key []byte) (cipher.AEAD, error) {
	switch alg {
	case AESGCM:
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(block)
	case ChaCha20Poly1305:
		return chacha20poly1305.New(key)
	}
	return nil, fmt.Errorf("provider: no AEAD %v", alg)
}

func (Stdlib) GenerateECDH(curve ecdh.Curve, rand io.Reader) (ECDHKey, error) {
	priv, err := curve.GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	return stdECDH{priv}, nil
}

type stdECDH struct{ priv *ecdh.PrivateKey }

func (k stdECDH) PublicKey() []byte { return k.priv.PublicKey().Bytes() }

func (k stdECDH) ECDH(peer []byte) ([]byte, error) {
	pub, err := k.priv.Curve().NewPublicKey(peer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPeerKey, err)
	}
	return k.priv.ECDH(pub)
}

func (Stdlib) Sign(key crypto.Signer, rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return key.Sign(rand, digest, opts)
}

func (Stdlib) Verify(pub crypto.PublicKey, digest, sig []byte, opts crypto.SignerOpts) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			return rsa.VerifyPSS(k, pss.Hash, digest, sig, pss)
		}
		return rsa.VerifyPKCS1v15(k, opts.HashFunc(), digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return ErrBadSignature
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(k, digest, sig) {
			return ErrBadSignature
		}
		return nil
	}
	return fmt.Errorf("provider: cannot verify with a %T key", pub)
}

// DecryptRSANoPadding is never routed here: crypto/rsa has no public raw
// decryption, and its own Decrypt with PKCS1v15DecryptOptions.SessionKeyLen
// already substitutes a random key in constant time.
func (Stdlib) DecryptRSANoPadding(crypto.Decrypter, []byte) ([]byte, bool, error) {
	return nil, false, nil
}
