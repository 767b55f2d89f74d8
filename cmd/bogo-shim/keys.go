package main

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/tlsflow/tlsflow"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Key types tlsflow can sign with: RSA (rsaEncryption), ECDSA on P-256,
// P-384 and P-521, and Ed25519 (RFC 5480, RFC 8410).
var (
	oidRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECDSA     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidEd25519   = asn1.ObjectIdentifier{1, 3, 101, 112}
	supportedEC  = []asn1.ObjectIdentifier{{1, 2, 840, 10045, 3, 1, 7}, {1, 3, 132, 0, 34}, {1, 3, 132, 0, 35}}
	knownKeyOIDs = map[string]string{
		"1.2.840.113549.1.1.10":   "RSA-PSS (RSASSA-PSS public key)",
		"1.3.101.113":             "Ed448",
		"2.16.840.1.101.3.4.3.17": "ML-DSA-44",
		"2.16.840.1.101.3.4.3.18": "ML-DSA-65",
		"2.16.840.1.101.3.4.3.19": "ML-DSA-87",
	}
)

// loadKeyPair is tlsflow.LoadX509KeyPair for -cert-file/-key-file, except
// that a key type tlsflow cannot use (ML-DSA, Ed448, an RSA-PSS
// SubjectPublicKeyInfo, an ECDSA curve other than P-256/384/521) is
// errUnimplemented: the test needs a signature algorithm tlsflow lacks,
// which is not a failure of what it has.
func loadKeyPair(flag, certFile, keyFile string) (tlsflow.Certificate, error) {
	if err := checkKeyType(flag, certFile, keyFile); err != nil {
		return tlsflow.Certificate{}, err
	}
	return tlsflow.LoadX509KeyPair(certFile, keyFile)
}

// checkKeyType reads the leaf's SubjectPublicKeyInfo algorithm and, for a
// PKCS #8 key, its privateKeyAlgorithm; anything unreadable is left for
// tlsflow.LoadX509KeyPair to refuse.
func checkKeyType(flag, certFile, keyFile string) error {
	if certPEM, err := os.ReadFile(certFile); err == nil {
		if block := firstPEM(certPEM, "CERTIFICATE"); block != nil {
			if oid, params, ok := certificateKeyAlgorithm(block.Bytes); ok {
				if err := supportedKeyAlgorithm(flag, oid, params); err != nil {
					return err
				}
			}
		}
	}
	if keyPEM, err := os.ReadFile(keyFile); err == nil {
		if block := firstPEM(keyPEM, "PRIVATE KEY"); block != nil {
			if oid, params, ok := pkcs8KeyAlgorithm(block.Bytes); ok {
				return supportedKeyAlgorithm(flag, oid, params)
			}
		}
	}
	return nil
}

func firstPEM(data []byte, typ string) *pem.Block {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil
		}
		if block.Type == typ {
			return block
		}
	}
}

// supportedKeyAlgorithm returns errUnimplemented for a key algorithm (and,
// for id-ecPublicKey, named curve) tlsflow cannot sign with.
func supportedKeyAlgorithm(flag string, oid asn1.ObjectIdentifier, params cryptobyte.String) error {
	switch {
	case oid.Equal(oidRSA), oid.Equal(oidEd25519):
		return nil
	case oid.Equal(oidECDSA):
		var curve asn1.ObjectIdentifier
		if params.ReadASN1ObjectIdentifier(&curve) {
			for _, c := range supportedEC {
				if curve.Equal(c) {
					return nil
				}
			}
		}
		return &errUnimplemented{flag: flag, why: fmt.Sprintf("an ECDSA key on curve %v, which tlsflow does not implement", curve)}
	}
	name := knownKeyOIDs[oid.String()]
	if name == "" {
		name = "key algorithm " + oid.String()
	}
	return &errUnimplemented{flag: flag, why: name + " keys are not implemented"}
}

// certificateKeyAlgorithm reads subjectPublicKeyInfo.algorithm from a
// certificate (RFC 5280 §4.1: Certificate, TBSCertificate with an optional
// [0] version, serialNumber, signature, issuer, validity, subject, then
// subjectPublicKeyInfo).
func certificateKeyAlgorithm(der []byte) (asn1.ObjectIdentifier, cryptobyte.String, bool) {
	s := cryptobyte.String(der)
	var cert, tbs, spki cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.SkipASN1(cbasn1.INTEGER) || !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.ReadASN1(&spki, cbasn1.SEQUENCE) {
		return nil, nil, false
	}
	return algorithmIdentifier(&spki)
}

// pkcs8KeyAlgorithm reads privateKeyAlgorithm from a PKCS #8
// PrivateKeyInfo (RFC 5208 §5: version, then the AlgorithmIdentifier).
func pkcs8KeyAlgorithm(der []byte) (asn1.ObjectIdentifier, cryptobyte.String, bool) {
	s := cryptobyte.String(der)
	var info cryptobyte.String
	if !s.ReadASN1(&info, cbasn1.SEQUENCE) || !info.SkipASN1(cbasn1.INTEGER) {
		return nil, nil, false
	}
	return algorithmIdentifier(&info)
}

// algorithmIdentifier reads an AlgorithmIdentifier (RFC 5280 §4.1.1.2):
// the OID and the raw parameters, if any.
func algorithmIdentifier(s *cryptobyte.String) (asn1.ObjectIdentifier, cryptobyte.String, bool) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, false
	}
	return oid, alg, true
}

// loadRawKey reads -key-file of a -new-rpk-credential (PKCS #8, PKCS #1 or
// SEC 1 PEM) and makes the raw public key Certificate for it.
func loadRawKey(keyFile string) (tlsflow.Certificate, error) {
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tlsflow.Certificate{}, err
	}
	var block *pem.Block
	for rest := keyPEM; block == nil || !strings.HasSuffix(block.Type, "PRIVATE KEY"); {
		if block, rest = pem.Decode(rest); block == nil {
			return tlsflow.Certificate{}, fmt.Errorf("%s: no PEM private key", keyFile)
		}
	}
	if oid, params, ok := pkcs8KeyAlgorithm(block.Bytes); ok {
		if err := supportedKeyAlgorithm("-key-file", oid, params); err != nil {
			return tlsflow.Certificate{}, err
		}
	}
	var key any
	if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			if key, err = x509.ParseECPrivateKey(block.Bytes); err != nil {
				return tlsflow.Certificate{}, fmt.Errorf("%s: the private key does not parse", keyFile)
			}
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return tlsflow.Certificate{}, fmt.Errorf("%s: a %T cannot sign", keyFile, key)
	}
	return tlsflow.RawPublicKeyCertificate(signer)
}
