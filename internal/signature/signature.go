// Package signature implements the SignatureScheme algorithms of TLS 1.3
// (RFC 8446 §4.2.3) and TLS 1.2 with signature_algorithms (RFC 5246
// §7.4.1.4.1): naming them, choosing one for a key, signing through a
// crypto.Signer, and verifying.
//
// For our own signatures the key must fit the scheme in both protocol
// versions, ECDSA curve included: we sign ecdsa_secp256r1_sha256 only with a
// P-256 key, even in TLS 1.2 (RFC 8446 §4.2.3 ties the curve to the scheme;
// OpenSSL signs the same way). A peer's TLS 1.2 signature is judged by the
// old meaning of the code point, ECDSA with that hash on any curve: RFC 8446
// §4.2.3 says a TLS 1.2 implementation MUST accept those (Accepts).
package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // registers SHA-384 and SHA-512
	"errors"
	"fmt"
	"io"

	"github.com/tlsflow/tlsflow/provider"
)

// SignatureScheme values, RFC 8446 §4.2.3.
const (
	RSAPKCS1SHA256 uint16 = 0x0401
	RSAPKCS1SHA384 uint16 = 0x0501
	RSAPKCS1SHA512 uint16 = 0x0601

	RSAPSSRSAESHA256 uint16 = 0x0804
	RSAPSSRSAESHA384 uint16 = 0x0805
	RSAPSSRSAESHA512 uint16 = 0x0806

	ECDSASecp256r1SHA256 uint16 = 0x0403
	ECDSASecp384r1SHA384 uint16 = 0x0503
	ECDSASecp521r1SHA512 uint16 = 0x0603

	Ed25519 uint16 = 0x0807

	// Legacy SHA-1 schemes: named in traces, never negotiated.
	RSAPKCS1SHA1 uint16 = 0x0201
	ECDSASHA1    uint16 = 0x0203
)

// Default is our preference order, strongest first: ECDSA and Ed25519, then
// RSA-PSS, then PKCS #1 v1.5 (which TLS 1.3 allows only in certificates).
var Default = []uint16{
	Ed25519,
	ECDSASecp256r1SHA256,
	ECDSASecp384r1SHA384,
	ECDSASecp521r1SHA512,
	RSAPSSRSAESHA256,
	RSAPSSRSAESHA384,
	RSAPSSRSAESHA512,
	RSAPKCS1SHA256,
	RSAPKCS1SHA384,
	RSAPKCS1SHA512,
}

// ErrBadSignature is wrapped by Verify's error when the key fits the scheme
// but the signature does not verify: TLS answers with decrypt_error (RFC 8446
// §4.4.3), whereas a key that does not fit the scheme is illegal_parameter.
var ErrBadSignature = provider.ErrBadSignature

type algorithm int

const (
	pkcs1 algorithm = iota + 1
	pss
	ecdsaAlg
	ed25519Alg
)

type scheme struct {
	name      string
	alg       algorithm
	hash      crypto.Hash    // 0 for Ed25519, which signs the message itself
	curve     elliptic.Curve // ECDSA only
	curveName string
}

// schemes holds the ones we implement.
var schemes = map[uint16]scheme{
	RSAPKCS1SHA256:       {name: "rsa_pkcs1_sha256", alg: pkcs1, hash: crypto.SHA256},
	RSAPKCS1SHA384:       {name: "rsa_pkcs1_sha384", alg: pkcs1, hash: crypto.SHA384},
	RSAPKCS1SHA512:       {name: "rsa_pkcs1_sha512", alg: pkcs1, hash: crypto.SHA512},
	RSAPSSRSAESHA256:     {name: "rsa_pss_rsae_sha256", alg: pss, hash: crypto.SHA256},
	RSAPSSRSAESHA384:     {name: "rsa_pss_rsae_sha384", alg: pss, hash: crypto.SHA384},
	RSAPSSRSAESHA512:     {name: "rsa_pss_rsae_sha512", alg: pss, hash: crypto.SHA512},
	ECDSASecp256r1SHA256: {name: "ecdsa_secp256r1_sha256", alg: ecdsaAlg, hash: crypto.SHA256, curve: elliptic.P256(), curveName: "P-256"},
	ECDSASecp384r1SHA384: {name: "ecdsa_secp384r1_sha384", alg: ecdsaAlg, hash: crypto.SHA384, curve: elliptic.P384(), curveName: "P-384"},
	ECDSASecp521r1SHA512: {name: "ecdsa_secp521r1_sha512", alg: ecdsaAlg, hash: crypto.SHA512, curve: elliptic.P521(), curveName: "P-521"},
	Ed25519:              {name: "ed25519", alg: ed25519Alg},
}

// otherNames are schemes we recognize in a peer's list but do not implement.
var otherNames = map[uint16]string{
	RSAPKCS1SHA1: "rsa_pkcs1_sha1",
	ECDSASHA1:    "ecdsa_sha1",
	0x0808:       "ed448",
	0x0809:       "rsa_pss_pss_sha256",
	0x080a:       "rsa_pss_pss_sha384",
	0x080b:       "rsa_pss_pss_sha512",
}

// Name returns the RFC 8446 name of a scheme, e.g. "rsa_pss_rsae_sha256",
// or "signature_scheme(0x....)" for one it does not know.
func Name(s uint16) string {
	if info, ok := schemes[s]; ok {
		return info.name
	}
	if n, ok := otherNames[s]; ok {
		return n
	}
	return fmt.Sprintf("signature_scheme(0x%04x)", s)
}

// Supported reports whether we implement scheme s. The SHA-1 schemes are
// never supported.
func Supported(s uint16) bool {
	_, ok := schemes[s]
	return ok
}

// Compatible reports whether pub can produce and verify signatures of
// scheme s: RSA keys with rsa_pkcs1_* and rsa_pss_rsae_*, ECDSA keys with the
// scheme of their curve, Ed25519 keys with ed25519. tls13 excludes PKCS #1
// v1.5, which RFC 8446 §4.2.3 forbids in handshake signatures.
func Compatible(pub crypto.PublicKey, s uint16, tls13 bool) bool {
	info, ok := schemes[s]
	if !ok || tls13 && info.alg == pkcs1 {
		return false
	}
	return keyFits(pub, info)
}

// keyFits reports whether pub is a key scheme info can sign and verify
// with. Choosing a scheme asks it of every candidate, so it says only yes
// or no; check explains a no.
func keyFits(pub crypto.PublicKey, info scheme) bool {
	switch info.alg {
	case pkcs1, pss:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return false
		}
		// PSS encoding needs emLen >= hLen + sLen + 2 with sLen = hLen
		// (RFC 8017 §9.1.1), so a 1024-bit key cannot do SHA-512.
		return info.alg != pss || k.Size() >= 2*info.hash.Size()+2
	case ecdsaAlg:
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k != nil && k.Curve != nil && k.Curve == info.curve
	case ed25519Alg:
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize
	}
	return true
}

// Accepts reports whether a peer's signature of scheme s made with pub is
// acceptable: as Compatible, except that in TLS 1.2 an ECDSA scheme names
// only the hash, and the key may be on any curve (RFC 8446 §4.2.3: "the old
// semantics did not constrain the signing curve"). Which curves a peer may
// use at all is the caller's business (supported_groups, RFC 8422 §5.1).
func Accepts(pub crypto.PublicKey, s uint16, tls13 bool) bool {
	if info, ok := schemes[s]; ok && info.alg == ecdsaAlg && !tls13 {
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k != nil && k.Curve != nil
	}
	return Compatible(pub, s, tls13)
}

// Choose returns our most preferred scheme in ours that the peer offers in
// peer and that fits pub; false if there is none.
func Choose(ours, peer []uint16, pub crypto.PublicKey, tls13 bool) (uint16, bool) {
	for _, s := range ours {
		for _, p := range peer {
			if s == p && Compatible(pub, s, tls13) {
				return s, true
			}
		}
	}
	return 0, false
}

// Sign signs message with scheme s: it hashes message with the scheme's hash
// (Ed25519 signs it whole), then has provider p (nil: the standard library)
// sign, which calls signer.Sign for keys it does not hold itself, so keys
// held in hardware work. RSA-PSS uses a salt as long as the hash (RFC 8446
// §4.2.3). rand nil means crypto/rand.
func Sign(p provider.Provider, signer crypto.Signer, s uint16, rand io.Reader, message []byte) ([]byte, error) {
	if signer == nil {
		return nil, fmt.Errorf("signature: %s: no key to sign with", Name(s))
	}
	if err := check(signer.Public(), s, false); err != nil {
		return nil, err
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	p = provider.OrStdlib(p)
	info := schemes[s]
	var opts crypto.SignerOpts = info.hash
	digest := info.digest(p, message)
	if info.alg == pss {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash}
	}
	sig, err := p.Sign(signer, rand, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("signature: %s, %s key: signing failed: %w", info.name, keyDescription(signer.Public()), err)
	}
	return sig, nil
}

// digest hashes message with the scheme's hash, or returns it whole for
// Ed25519, which signs the message itself.
func (info scheme) digest(p provider.Provider, message []byte) []byte {
	if info.hash == 0 {
		return message
	}
	h := p.NewHash(info.hash)
	h.Write(message)
	return h.Sum(nil)
}

// Verify checks sig over message with pub for scheme s, with provider p
// (nil: the standard library). The key must be of
// the scheme's algorithm; whether it fits the scheme in the negotiated
// version (the ECDSA curve in TLS 1.3, no PKCS #1 v1.5 in TLS 1.3) is for the
// caller to check with Accepts, since only it knows the version. A
// signature that does not verify gives an error wrapping ErrBadSignature.
func Verify(p provider.Provider, pub crypto.PublicKey, s uint16, message, sig []byte) error {
	if !Accepts(pub, s, false) {
		return check(pub, s, false)
	}
	p = provider.OrStdlib(p)
	info := schemes[s]
	var opts crypto.SignerOpts = info.hash
	if info.alg == pss {
		// PSSSaltLengthEqualsHash makes the verifier insist on a salt as long
		// as the hash, as RFC 8446 §4.2.3 requires.
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash}
	}
	err := p.Verify(pub, info.digest(p, message), sig, opts)
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrBadSignature) {
		return fmt.Errorf("signature: %s, %s key: %w", info.name, keyDescription(pub), err)
	}
	return fmt.Errorf("signature: %s, %s key: %w: %w", info.name, keyDescription(pub), ErrBadSignature, err)
}

// check explains why pub cannot be used with scheme s, or returns nil.
func check(pub crypto.PublicKey, s uint16, tls13 bool) error {
	info, ok := schemes[s]
	if !ok {
		return fmt.Errorf("signature: %s is not supported", Name(s))
	}
	if tls13 && info.alg == pkcs1 {
		return fmt.Errorf("signature: %s is not allowed in TLS 1.3 handshake signatures (RFC 8446 §4.2.3)", info.name)
	}
	if keyFits(pub, info) {
		return nil
	}
	// Why not, for the error.
	got := keyDescription(pub)
	switch info.alg {
	case pkcs1, pss:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return fmt.Errorf("signature: %s needs an RSA key, got %s key", info.name, got)
		}
		if info.alg == pss && k.Size() < 2*info.hash.Size()+2 {
			return fmt.Errorf("signature: %s needs an RSA key of at least %d bits, got %s key",
				info.name, 8*(2*info.hash.Size()+2), got)
		}
	case ecdsaAlg:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve == nil {
			return fmt.Errorf("signature: %s needs an ECDSA %s key, got %s key", info.name, info.curveName, got)
		}
		if k.Curve != info.curve {
			return fmt.Errorf("signature: %s needs a %s key, got %s key", info.name, info.curveName, got)
		}
	case ed25519Alg:
		k, ok := pub.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("signature: %s needs an Ed25519 key, got %s key", info.name, got)
		}
	}
	return fmt.Errorf("signature: %s cannot be used with a %s key", info.name, got)
}

// keyDescription names a key for error messages, to be followed by "key":
// "RSA-2048", "ECDSA P-256", "Ed25519".
func keyDescription(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "empty RSA"
		}
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "empty ECDSA"
		}
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Sprintf("malformed %d-byte Ed25519", len(k))
		}
		return "Ed25519"
	case nil:
		return "no"
	}
	return fmt.Sprintf("%T", pub)
}

// CertificateVerify context strings, RFC 8446 §4.4.3.
const (
	ContextServer = "TLS 1.3, server CertificateVerify"
	ContextClient = "TLS 1.3, client CertificateVerify"
)

// SignedContent13 is what a TLS 1.3 CertificateVerify signs (RFC 8446
// §4.4.3): 64 spaces, the context string, a zero byte, the transcript hash.
// The 64-space prefix stops a TLS 1.2 ServerKeyExchange signature, which
// starts with the attacker-chosen client random, from being replayed here.
func SignedContent13(context string, transcriptHash []byte) []byte {
	b := make([]byte, 0, 64+len(context)+1+len(transcriptHash))
	for range 64 {
		b = append(b, 0x20)
	}
	b = append(b, context...)
	b = append(b, 0)
	return append(b, transcriptHash...)
}
