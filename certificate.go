package tlsflow

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Certificate is a certificate chain with its private key. The key is used
// through crypto.Signer (and crypto.Decrypter for the RSA key exchange), so
// keys held in hardware work.
type Certificate struct {
	// Certificate is the chain, leaf first, DER-encoded.
	Certificate [][]byte
	// PrivateKey implements crypto.Signer; for the RSA key exchange also crypto.Decrypter.
	PrivateKey crypto.PrivateKey
	// Leaf is the parsed leaf; parsed from Certificate[0] when nil.
	Leaf *x509.Certificate
	// SupportedSignatureAlgorithms optionally restricts the signature
	// schemes PrivateKey signs with. Nil means those of
	// Config.SignatureSchemes (or tlsflow's defaults) that fit the key, in
	// that order. Otherwise the list replaces Config.SignatureSchemes for
	// this certificate's signatures: the first scheme in it that the peer
	// accepts (its signature_algorithms), that the key can make and that
	// the version allows (no PKCS #1 v1.5 in TLS 1.3, RFC 8446 §4.2.3) is
	// used; schemes tlsflow does not implement are ignored. A certificate
	// whose list leaves nothing the peer accepts is passed over in
	// certificate selection (ClientHelloInfo.SupportsCertificate,
	// CertificateRequestInfo.SupportsCertificate); an empty, non-nil list
	// never signs. Config.SignatureSchemes still says what is offered to
	// and accepted from the peer.
	SupportedSignatureAlgorithms []SignatureScheme
	// OCSPStaple is an OCSP response for the leaf, sent to a client that
	// asks for one (status_request: RFC 6066 §8 in TLS 1.2, RFC 8446
	// §4.4.2.1 in TLS 1.3). tlsflow sends it as it is.
	OCSPStaple []byte
	// SignedCertificateTimestamps are the leaf's Certificate Transparency
	// timestamps (RFC 6962 §3.3), sent to a client that asks for them.
	SignedCertificateTimestamps [][]byte
	// RawPublicKey, when set, makes this a raw public key (RFC 7250): the
	// DER SubjectPublicKeyInfo of PrivateKey's public key, sent instead of
	// a chain to a peer that accepts raw keys (see
	// Config.ServerCertificateTypes). Certificate, Leaf, OCSPStaple and
	// SignedCertificateTimestamps must then be empty: there is no
	// certificate. RawPublicKeyCertificate makes one.
	RawPublicKey []byte
}

// LoadX509KeyPair reads a PEM certificate chain and its PEM private key from files.
func LoadX509KeyPair(certFile, keyFile string) (Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return Certificate{}, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return Certificate{}, err
	}
	return X509KeyPair(certPEM, keyPEM)
}

// X509KeyPair parses a PEM certificate chain and a PEM private key (PKCS #1,
// PKCS #8 or SEC 1), and checks that the key belongs to the leaf. Its
// errors say what crypto/tls's say when an input holds no PEM or not the
// block wanted, in the same words, so code that looks for them still finds
// them.
func X509KeyPair(certPEM, keyPEM []byte) (Certificate, error) {
	var cert Certificate
	certTypes := pemBlocks(certPEM, func(b *pem.Block) bool {
		if b.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, b.Bytes)
		}
		return false
	})
	if len(cert.Certificate) == 0 {
		return Certificate{}, missingPEM("certificate", "CERTIFICATE", certTypes)
	}
	var keyDER *pem.Block
	keyTypes := pemBlocks(keyPEM, func(b *pem.Block) bool {
		if b.Type == "PRIVATE KEY" || strings.HasSuffix(b.Type, " PRIVATE KEY") {
			keyDER = b
			return true
		}
		return false
	})
	if keyDER == nil {
		return Certificate{}, missingPEM("key", "PRIVATE KEY", keyTypes)
	}
	key, err := parsePrivateKey(keyDER.Bytes)
	if err != nil {
		return Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return Certificate{}, fmt.Errorf("tlsflow: parsing the leaf certificate: %w", err)
	}
	if err := keyMatches(leaf.PublicKey, key); err != nil {
		return Certificate{}, err
	}
	cert.PrivateKey, cert.Leaf = key, leaf
	return cert, nil
}

func parsePrivateKey(der []byte) (crypto.PrivateKey, error) {
	if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		switch key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return key, nil
		}
		return nil, fmt.Errorf("tlsflow: unsupported private key type %T", key)
	}
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, nil
	}
	if key, err := x509.ParseECPrivateKey(der); err == nil {
		return key, nil
	}
	return nil, errors.New("tlsflow: the private key is neither PKCS #8, PKCS #1 nor SEC 1")
}

func keyMatches(pub crypto.PublicKey, priv crypto.PrivateKey) error {
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return fmt.Errorf("tlsflow: private key %T cannot sign", priv)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := signer.Public().(equaler); !ok || !e.Equal(pub) {
		return errors.New("tlsflow: the private key does not match the certificate's public key")
	}
	return nil
}

// leaf returns the parsed leaf, parsing it if needed.
func (c *Certificate) leaf() (*x509.Certificate, error) {
	if c.Leaf != nil {
		return c.Leaf, nil
	}
	if len(c.Certificate) == 0 {
		return nil, errors.New("tlsflow: empty certificate chain")
	}
	return x509.ParseCertificate(c.Certificate[0])
}

// pemBlocks walks the PEM blocks of data until use says stop, and returns
// the types of those it saw.
func pemBlocks(data []byte, use func(*pem.Block) bool) []string {
	var types []string
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return types
		}
		types = append(types, block.Type)
		if use(block) {
			return types
		}
	}
}

// missingPEM says that input (certificate or key) holds no block of the
// type wanted, and what it holds instead: nothing that is PEM, the other
// input's kind of block (the files given the wrong way round), or others.
func missingPEM(input, want string, seen []string) error {
	switch {
	case len(seen) == 0:
		return fmt.Errorf("tlsflow: failed to find any PEM data in %s input", input)
	case input == "certificate" && slices.ContainsFunc(seen, func(t string) bool { return strings.HasSuffix(t, "PRIVATE KEY") }),
		input == "key" && slices.Contains(seen, "CERTIFICATE"):
		return fmt.Errorf("tlsflow: failed to find %q PEM block in %s input: it holds %s; the certificate and the key seem to be switched",
			want, input, strings.Join(seen, ", "))
	}
	return fmt.Errorf("tlsflow: failed to find %q PEM block in %s input after skipping PEM blocks of the following types: %v", want, input, seen)
}
