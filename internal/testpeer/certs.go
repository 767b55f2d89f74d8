package testpeer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Object identifiers of public key algorithms crypto/x509 does not parse:
// it leaves PublicKey nil and PublicKeyAlgorithm Unknown.
var (
	OIDRSAPSS  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}     // id-RSASSA-PSS, RFC 4055 §3.1
	OIDEd448   = asn1.ObjectIdentifier{1, 3, 101, 113}                  // id-Ed448, RFC 8410 §3
	OIDMLDSA65 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18} // id-ml-dsa-65, NIST CSOR (FIPS 204)
)

// subjectPublicKeyInfo is RFC 5280 §4.1.2.7:
//
//	SubjectPublicKeyInfo ::= SEQUENCE {
//	    algorithm         AlgorithmIdentifier,
//	    subjectPublicKey  BIT STRING }
type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// SPKI encodes a SubjectPublicKeyInfo with the given algorithm, no
// parameters, and key as the subjectPublicKey bits.
func SPKI(algorithm asn1.ObjectIdentifier, key []byte) []byte {
	der, err := asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: algorithm},
		PublicKey: asn1.BitString{Bytes: key, BitLength: 8 * len(key)},
	})
	if err != nil {
		panic(err) // nothing in it can fail to encode
	}
	return der
}

// RSAPSSSPKI is an id-RSASSA-PSS key (RFC 4055 §1.2): an RSAPublicKey
// under the PSS algorithm identifier, which crypto/x509 does not parse.
func RSAPSSSPKI() []byte {
	n := new(big.Int).SetBytes(Random(256))
	n.SetBit(n, 2047, 1).SetBit(n, 0, 1)
	key, _ := asn1.Marshal(struct{ N, E *big.Int }{n, big.NewInt(65537)})
	return SPKI(OIDRSAPSS, key)
}

// Ed448SPKI is an Ed448 key: 57 bytes (RFC 8410 §4).
func Ed448SPKI() []byte { return SPKI(OIDEd448, Random(57)) }

// MLDSA65SPKI is an ML-DSA-65 key: 1,952 bytes (FIPS 204, Table 2).
func MLDSA65SPKI() []byte { return SPKI(OIDMLDSA65, Random(1952)) }

// Issuer is a CA that signs forged certificates: its certificate and key.
type Issuer struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Template returns a leaf template valid from an hour ago for a day, for
// the extended key usages given (serverAuth if none), with dnsNames.
func Template(cn string, usage []x509.ExtKeyUsage, dnsNames ...string) *x509.Certificate {
	if usage == nil {
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(Random(16)),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dnsNames,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
	}
}

// CertWithSPKI returns a certificate made from tmpl, properly signed by
// ca, whose SubjectPublicKeyInfo is spki, any DER at all. It is made with
// a throwaway key and then has its SPKI replaced and its TBSCertificate
// signed again, so the chain verifies against ca while the key is
// whatever the test needs (one crypto/x509 cannot parse, say).
func CertWithSPKI(ca Issuer, tmpl *x509.Certificate, spki []byte) ([]byte, error) {
	throwaway, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, throwaway.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	return replaceSPKI(der, spki, ca.Key)
}

// certificate is RFC 5280 §4.1 Certificate, with the parts kept as raw
// DER so they re-encode byte for byte.
type certificate struct {
	TBS                asn1.RawValue
	SignatureAlgorithm asn1.RawValue
	Signature          asn1.BitString
}

// replaceSPKI puts spki in place of the certificate's subjectPublicKeyInfo
// and signs the TBSCertificate again with key, under the signature
// algorithm the certificate already names.
func replaceSPKI(der, spki []byte, key crypto.Signer) ([]byte, error) {
	var c certificate
	if rest, err := asn1.Unmarshal(der, &c); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("testpeer: certificate does not parse: %v", err)
	}
	// TBSCertificate ::= SEQUENCE { version [0] EXPLICIT, serialNumber,
	// signature, issuer, validity, subject, subjectPublicKeyInfo, ... }
	var fields []asn1.RawValue
	body := c.TBS.Bytes
	for len(body) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(body, &v)
		if err != nil {
			return nil, err
		}
		fields = append(fields, v)
		body = rest
	}
	i := 6 // with the version field
	if len(fields) == 0 || fields[0].Class != asn1.ClassContextSpecific {
		i = 5
	}
	if len(fields) <= i {
		return nil, errors.New("testpeer: TBSCertificate too short")
	}
	fields[i] = asn1.RawValue{FullBytes: spki}
	var tbsBody []byte
	for _, f := range fields {
		tbsBody = append(tbsBody, f.FullBytes...)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: tbsBody})
	if err != nil {
		return nil, err
	}
	sig, err := signTBS(key, tbs)
	if err != nil {
		return nil, err
	}
	c.TBS = asn1.RawValue{FullBytes: tbs}
	c.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	return asn1.Marshal(c)
}

// signTBS signs as crypto/x509 does by default for the key: ECDSA with
// the hash that fits the curve, RSA PKCS #1 v1.5 with SHA-256, Ed25519.
func signTBS(key crypto.Signer, tbs []byte) ([]byte, error) {
	var h crypto.Hash
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			h = crypto.SHA384
		case elliptic.P521():
			h = crypto.SHA512
		default:
			h = crypto.SHA256
		}
	case *rsa.PublicKey:
		h = crypto.SHA256
	default: // Ed25519 signs the message whole
		return key.Sign(rand.Reader, tbs, crypto.Hash(0))
	}
	d := h.New()
	d.Write(tbs)
	return key.Sign(rand.Reader, d.Sum(nil), h)
}

// FakeRSAKey is an RSA public key with a random odd modulus of exactly
// bits bits and e = 65537: no private key exists for it, which is fine for
// a certificate that is only ever looked at (and costs no key generation).
func FakeRSAKey(bits int) *rsa.PublicKey {
	n := new(big.Int).SetBytes(Random((bits + 7) / 8))
	for i := bits; i < n.BitLen(); i++ {
		n.SetBit(n, i, 0)
	}
	n.SetBit(n, bits-1, 1).SetBit(n, 0, 1)
	return &rsa.PublicKey{N: n, E: 65537}
}

// CertWithKey returns a certificate made from tmpl for pub, signed by ca.
func CertWithKey(ca Issuer, tmpl *x509.Certificate, pub crypto.PublicKey) ([]byte, error) {
	return x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
}

// IntermediateTemplate is a CA template for an intermediate.
func IntermediateTemplate(cn string) *x509.Certificate {
	t := Template(cn, []x509.ExtKeyUsage{})
	t.IsCA, t.BasicConstraintsValid = true, true
	t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	t.ExtKeyUsage = nil
	return t
}

// IssuedBy returns a certificate for pub made from tmpl that names parent
// as its issuer but is signed with signer, whatever parent's key: with a
// parent whose key is fake, the signature cannot verify, which is what a
// chain through a keyless CA looks like. ForgeSignature then gives it a
// signature of the length parent's key expects.
func IssuedBy(parent *x509.Certificate, tmpl *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) ([]byte, error) {
	p := *parent
	p.PublicKey = signer.Public()
	return x509.CreateCertificate(rand.Reader, tmpl, &p, pub, signer)
}

// ForgeSignature replaces a certificate's signature by n random bytes, the
// first of them zero (so that, as a number, it stays below an RSA modulus
// of n bytes and a verifier does the whole computation before it fails).
func ForgeSignature(der []byte, n int) ([]byte, error) {
	var c certificate
	if rest, err := asn1.Unmarshal(der, &c); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("testpeer: certificate does not parse: %v", err)
	}
	sig := Random(n)
	sig[0] = 0
	c.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * n}
	return asn1.Marshal(c)
}
