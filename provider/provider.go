// Package provider is the seam between tlsflow's protocol code and the
// cryptographic primitives it runs on: the AEADs of the record layer, the
// hashes that the transcript, HMAC, HKDF (RFC 5869) and the TLS 1.2 PRF
// (RFC 5246 §5) are built on, the (EC)DHE groups, signing and
// verification, the raw RSA decryption of the TLS 1.2 RSA key exchange, and
// randomness.
//
// A Config chooses its Provider (tlsflow.Config.Provider); without one a
// connection uses the process default (Default): the standard library's
// (Stdlib), unless the program set another with SetDefault or the
// environment names one in TLSFLOW_PROVIDER ("stdlib", or "openssl" in a
// program that links github.com/tlsflow/tlsflow/provider/openssl).
//
// The protocol constructions stay in tlsflow whatever the provider: HMAC,
// HKDF and the PRF are written on the provider's hash (internal/keys; its
// NewHMAC is used instead under GODEBUG=fips140=on, so that the FIPS
// module computes every HMAC, and for a hash that cannot save its state),
// the PKCS #1 v1.5 check of the RSA key exchange on its raw decryption (see
// internal/kex), so a provider supplies primitives only, and cannot change
// what the protocol does with them.
package provider

import (
	"crypto"
	"crypto/cipher"
	"crypto/ecdh"
	"errors"
	"hash"
	"io"
)

// Provider supplies the primitives. Every method must be safe for
// concurrent use. A provider that accelerates only some primitives embeds
// Stdlib and overrides those (see provider/openssl).
type Provider interface {
	// Name identifies the provider in errors, traces and benchmarks:
	// "stdlib", "openssl".
	Name() string
	// FIPS reports whether the primitives this provider routes run in a
	// FIPS 140 mode (crypto/fips140, or OpenSSL's FIPS provider).
	FIPS() bool

	// Rand is the randomness a connection uses when its Config has none.
	Rand() io.Reader

	// NewHash returns a new SHA-256, SHA-384 or SHA-512; it must implement
	// hash.Cloner (a TLS 1.3 client clones the transcript for PSK binders).
	NewHash(h crypto.Hash) hash.Hash
	// NewHMAC returns HMAC (RFC 2104) with hash h, keyed with key. The key
	// schedule uses it under GODEBUG=fips140=on, or when NewHash's digests
	// do not implement encoding.BinaryAppender and BinaryUnmarshaler;
	// otherwise it builds HMAC on NewHash itself.
	NewHMAC(h crypto.Hash, key []byte) hash.Hash

	// NewAEAD returns the AEAD alg keyed with key (16 or 32 bytes for
	// AES-GCM, 32 for ChaCha20-Poly1305), taking 12-byte nonces.
	NewAEAD(alg AEAD, key []byte) (cipher.AEAD, error)

	// GenerateECDH makes an ephemeral key on curve (crypto/ecdh's X25519,
	// P256, P384 or P521), drawing from rand where the implementation
	// takes a reader.
	GenerateECDH(curve ecdh.Curve, rand io.Reader) (ECDHKey, error)

	// Sign signs digest (the message itself for Ed25519) with key as
	// key.Sign would, opts naming the hash, or *rsa.PSSOptions for
	// RSA-PSS. A key the provider does not hold itself (an HSM, a remote
	// signer: anything but the standard library's private key types) must
	// be signed with by calling key.Sign.
	Sign(key crypto.Signer, rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error)
	// Verify checks sig over digest (the message for Ed25519) with pub, an
	// *rsa.PublicKey (PKCS #1 v1.5 with opts a crypto.Hash, or PSS with
	// *rsa.PSSOptions), *ecdsa.PublicKey (ASN.1 signature) or
	// ed25519.PublicKey. Any failure is an error; one without more to say
	// (ECDSA and Ed25519 verify to a bare false) is ErrBadSignature.
	Verify(pub crypto.PublicKey, digest, sig []byte, opts crypto.SignerOpts) error

	// DecryptRSANoPadding returns c^d mod n, left-padded to the modulus
	// size, for a key the provider can use directly (ok true); ok false
	// means it cannot (the key is not one it holds) and the caller should
	// use key.Decrypt. The TLS 1.2 RSA key exchange checks the PKCS #1
	// v1.5 padding of the result itself, in constant time (internal/kex);
	// an implementation must run in time independent of the plaintext and
	// fail only for reasons that do not depend on it (a ciphertext not
	// below the modulus, a fault check).
	DecryptRSANoPadding(key crypto.Decrypter, ciphertext []byte) (em []byte, ok bool, err error)
}

// AEAD names a record protection algorithm.
type AEAD int

const (
	// AESGCM is AES in Galois/Counter Mode (NIST SP 800-38D), AES-128 or
	// AES-256 by the key length.
	AESGCM AEAD = iota + 1
	// ChaCha20Poly1305 is RFC 8439's AEAD.
	ChaCha20Poly1305
)

func (a AEAD) String() string {
	switch a {
	case AESGCM:
		return "AES-GCM"
	case ChaCha20Poly1305:
		return "ChaCha20-Poly1305"
	}
	return "AEAD(?)"
}

// ECDHKey is an ephemeral (EC)DH private key.
type ECDHKey interface {
	// PublicKey returns the public value as TLS sends it: 32 bytes for
	// X25519, an uncompressed point for the NIST curves.
	PublicKey() []byte
	// ECDH checks peer (the peer's public value in the same encoding) and
	// returns the shared secret. A peer value that is not a valid public
	// key gives an error wrapping ErrInvalidPeerKey; an X25519 agreement
	// with a low-order point, whose all-zero output RFC 8446 §7.4.2 forbids,
	// fails without it.
	ECDH(peer []byte) ([]byte, error)
}

// ErrInvalidPeerKey is wrapped by ECDHKey.ECDH when the peer's public value
// does not decode to a point of the curve.
var ErrInvalidPeerKey = errors.New("provider: the peer's public value is not a valid key on the curve")

// ErrBadSignature is Verify's error for a signature that does not verify,
// when there is nothing more to say.
var ErrBadSignature = errors.New("signature does not verify")
