package tlsflow

import (
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Raw public keys (RFC 7250): instead of an X.509 chain, a side may show
// only its public key, as a DER SubjectPublicKeyInfo, to a peer that knows
// that key beforehand (a device provisioned with its server's key, a
// cluster whose members know each other's). There is no certificate to
// verify, so "authentication of the [peer] is supported only through
// authentication of the received SubjectPublicKeyInfo via an out-of-band
// method" (§4.3, §4.4): here, Config.TrustedRawPublicKeys or
// Config.VerifyRawPublicKey. Without either, tlsflow accepts no raw key,
// whatever else the configuration says.

// CertificateType is a TLS certificate type (RFC 7250 §3, RFC 8446
// §4.4.2): what a Certificate message carries.
type CertificateType uint8

const (
	// CertificateTypeX509 is an X.509 chain, the default.
	CertificateTypeX509 CertificateType = 0
	// CertificateTypeRawPublicKey is a bare DER SubjectPublicKeyInfo (RFC 7250).
	CertificateTypeRawPublicKey CertificateType = 2
)

func (t CertificateType) String() string { return wire.CertificateTypeName(uint8(t)) }

// RawPublicKeyCertificate returns a Certificate that authenticates with
// key's public key alone (RFC 7250): its RawPublicKey is the key's DER
// SubjectPublicKeyInfo, and it has no chain. Put it in Config.Certificates
// (a server shows it to a client that lists CertificateTypeRawPublicKey in
// its ServerCertificateTypes; a client sends it to a server that asks for
// that type) beside X.509 certificates or alone. The peer pins the same
// bytes: x509.MarshalPKIXPublicKey(key.Public()).
func RawPublicKeyCertificate(key crypto.Signer) (Certificate, error) {
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return Certificate{}, fmt.Errorf("tlsflow: the raw public key: %w", err)
	}
	return Certificate{PrivateKey: key, RawPublicKey: spki}, nil
}

// certTypes turns the configured types into the engine's.
func certTypes(types []CertificateType) []uint8 {
	if types == nil {
		return nil
	}
	out := make([]uint8, len(types))
	for i, t := range types {
		out[i] = uint8(t)
	}
	return out
}

// acceptsRawKeys reports whether this side accepts the peer's raw public
// key: a client in ServerCertificateTypes, a server in ClientCertificateTypes.
func (c *Config) acceptsRawKeys(isClient bool) bool {
	accepted := c.ClientCertificateTypes
	if isClient {
		accepted = c.ServerCertificateTypes
	}
	return slices.Contains(accepted, CertificateTypeRawPublicKey)
}

// checkCertificateTypes refuses a configuration that would accept a raw
// public key it has no way to authenticate, and types tlsflow does not
// implement.
func (c *Config) checkCertificateTypes(isClient bool) error {
	for _, list := range [][]CertificateType{c.ServerCertificateTypes, c.ClientCertificateTypes} {
		for _, t := range list {
			if t != CertificateTypeX509 && t != CertificateTypeRawPublicKey {
				return fmt.Errorf("certificate type %s is not implemented (X509 and RawPublicKey are)", t)
			}
		}
	}
	if c.acceptsRawKeys(isClient) && len(c.TrustedRawPublicKeys) == 0 && c.VerifyRawPublicKey == nil {
		return errors.New("raw public keys are accepted from the peer, but neither TrustedRawPublicKeys nor VerifyRawPublicKey says which: " +
			"a raw key authenticates nothing by itself (RFC 7250 §4.3, §4.4)")
	}
	return nil
}

// verifyRawPublicKey is the engine's VerifyRawPublicKey: the key must be
// one of TrustedRawPublicKeys, compared in constant time, when that is
// set, and pass VerifyRawPublicKey, when that is set. InsecureSkipVerify
// plays no part.
func (c *Config) verifyRawPublicKey(spki []byte, key crypto.PublicKey) error {
	if len(c.TrustedRawPublicKeys) == 0 && c.VerifyRawPublicKey == nil {
		return errors.New("no raw public key is trusted")
	}
	if len(c.TrustedRawPublicKeys) > 0 && !trustedKey(c.TrustedRawPublicKeys, spki) {
		return errors.New("the raw public key is not one of TrustedRawPublicKeys")
	}
	if c.VerifyRawPublicKey != nil {
		return c.VerifyRawPublicKey(spki, key)
	}
	return nil
}

// trustedKey compares spki with every trusted key, in constant time each,
// and does not stop at a match: how long it takes says nothing about which
// key, or how much of one, matched.
func trustedKey(trusted [][]byte, spki []byte) bool {
	found := 0
	for _, t := range trusted {
		found |= subtle.ConstantTimeCompare(t, spki)
	}
	return found == 1
}

// rawKeyConfig fills the engine's raw public key settings.
func (c *Config) rawKeyConfig(hc *handshake.Config, isClient bool) error {
	if err := c.checkCertificateTypes(isClient); err != nil {
		return err
	}
	hc.ServerCertTypes, hc.ClientCertTypes = certTypes(c.ServerCertificateTypes), certTypes(c.ClientCertificateTypes)
	if c.acceptsRawKeys(isClient) {
		hc.VerifyRawPublicKey = c.verifyRawPublicKey
	}
	return nil
}

// onlyRawKeys: a client that accepts nothing but raw keys needs no
// ServerName (there is no certificate to check a name against).
func (c *Config) onlyRawKeys() bool {
	return len(c.ServerCertificateTypes) > 0 && !slices.Contains(c.ServerCertificateTypes, CertificateTypeX509) &&
		c.acceptsRawKeys(true)
}

// acceptedTypes is a client's list as it counts: X.509 alone when absent.
func acceptedTypes(list []CertificateType) []CertificateType {
	if list == nil {
		return []CertificateType{CertificateTypeX509}
	}
	return list
}

// engineRawKey checks a raw public key Certificate: no chain, a private
// key that signs, and a RawPublicKey that is its public key's DER
// SubjectPublicKeyInfo.
func engineRawKey(cert *Certificate) (*handshake.Certificate, error) {
	if len(cert.Certificate) > 0 || cert.Leaf != nil || cert.OCSPStaple != nil || cert.SignedCertificateTimestamps != nil {
		return nil, errors.New("tlsflow: a raw public key Certificate has no chain, Leaf, OCSP staple or timestamps")
	}
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("tlsflow: the raw public key's private key %T cannot sign", cert.PrivateKey)
	}
	spki, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("tlsflow: the raw public key: %w", err)
	}
	if !slices.Equal(spki, cert.RawPublicKey) {
		return nil, errors.New("tlsflow: RawPublicKey is not the SubjectPublicKeyInfo of PrivateKey's public key")
	}
	return &handshake.Certificate{RawPublicKey: cert.RawPublicKey, PrivateKey: cert.PrivateKey,
		SignatureSchemes: certificateSchemes(cert.SupportedSignatureAlgorithms)}, nil
}
