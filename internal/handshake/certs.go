package handshake

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// certificateError turns a failed check of the peer's chain into the alert
// RFC 5246 §7.2.2 / RFC 8446 §6.2 names for it.
func certificateError(step int, message, what string, err error) error {
	a := alert.BadCertificate
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		a = alert.UnknownCA
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		a = alert.CertificateExpired
	case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		a = alert.UnsupportedCertificate
	}
	return alert.Errorf(a, step, message, "%s rejected: %w", what, err)
}

// TLS 1.2 ClientCertificateType values (RFC 5246 §7.4.4, RFC 8422 §5.5).
const (
	certTypeRSASign   = 1
	certTypeECDSASign = 64
)

// ClientCertificateFits explains why cert cannot answer a CertificateRequest,
// or returns nil if it can: its key type must be one certificate_types
// accepts (TLS 1.2, RFC 5246 §7.4.4; nil means any), some signature scheme
// we sign with (cert's own list, or ourSchemes when it has none) must fit
// both the key and the request's signature_algorithms (RFC 8446 §4.4.2.2,
// RFC 5246 §7.4.8), and, when the server named authorities, the chain must
// come from one of them.
func ClientCertificateFits(cert *Certificate, certTypes []uint8, peerSchemes, ourSchemes []uint16, authorities [][]byte, tls13 bool) error {
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("the private key %T cannot sign", cert.PrivateKey)
	}
	if cert.Leaf == nil && cert.RawPublicKey == nil {
		return errors.New("the certificate has no parsed leaf")
	}
	pub := signer.Public()
	if certTypes != nil && !certTypeAccepted(pub, certTypes) {
		return fmt.Errorf("a %s key is not among the certificate_types the server accepts (%v)", keyName(pub), certTypes)
	}
	if _, ok := signature.Choose(cert.signingSchemes(ourSchemes), peerSchemes, pub, tls13); !ok {
		return fmt.Errorf("no signature scheme the server accepts fits the %s key%s (the server accepts %s)",
			keyName(pub), cert.ownSchemes(), mapJoin(peerSchemes, signature.Name))
	}
	// A raw public key has no issuer to compare (RFC 7250 §4.3): the
	// server's out-of-band binding decides.
	if len(authorities) != 0 && cert.RawPublicKey == nil && !chainFromAuthorities(cert, authorities) {
		return fmt.Errorf("the chain does not come from an authority the server named (%s)", dnList(authorities))
	}
	return nil
}

func certTypeAccepted(pub crypto.PublicKey, types []uint8) bool {
	want := uint8(0)
	switch pub.(type) {
	case *rsa.PublicKey:
		want = certTypeRSASign
	case *ecdsa.PublicKey, ed25519.PublicKey:
		want = certTypeECDSASign
	}
	return want != 0 && bytes.IndexByte(types, want) >= 0
}

// chainFromAuthorities reports whether any certificate of the chain is
// issued by, or is, one of the named authorities.
func chainFromAuthorities(cert *Certificate, authorities [][]byte) bool {
	for i, der := range cert.Chain {
		c := cert.Leaf
		if i > 0 {
			var err error
			if c, err = x509.ParseCertificate(der); err != nil {
				return false
			}
		}
		for _, name := range authorities {
			if bytes.Equal(c.RawIssuer, name) || bytes.Equal(c.RawSubject, name) {
				return true
			}
		}
	}
	return false
}

func keyUsageName(u x509.KeyUsage) string {
	if u == x509.KeyUsageKeyEncipherment {
		return "keyEncipherment (the RSA key exchange)"
	}
	return "digitalSignature (signing the handshake)"
}

// dnList renders raw DER distinguished names for people: "CN=Demo CA, O=tlsflow; CN=...".
func dnList(names [][]byte) string {
	out := make([]string, 0, len(names))
	for _, der := range names {
		out = append(out, dnString(der))
	}
	return strings.Join(out, "; ")
}

func dnString(der []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) != 0 {
		return "(unparsable name)"
	}
	var name pkix.Name
	name.FillFromRDNSequence(&rdn)
	return name.String()
}

// acceptPeerChain checks the peer's chain (peerChain, then the configured
// policy) and records it; it returns the key the peer must prove it holds,
// never nil. usage is what the handshake will do with that key: a leaf with
// a Key Usage extension must allow it, whatever the verification policy
// (RFC 8446 §4.4.2.2: digitalSignature for signing; RFC 5246 §7.4.2:
// keyEncipherment for the RSA key exchange, and the signatures of ECDHE and
// CertificateVerify).
func (b *base) acceptPeerChain(chain [][]byte, step int, what string, usage x509.KeyUsage) (crypto.PublicKey, error) {
	certs, err := b.peerChain(chain, step, what)
	if err != nil {
		return nil, err
	}
	verify := b.cfg.VerifyPeer
	if b.verifyPeer != nil {
		verify = b.verifyPeer
	}
	peer, err := verify(certs)
	if err != nil {
		return nil, certificateError(step, "Certificate", what, err)
	}
	if leaf := peer.Certificates[0]; leaf.KeyUsage != 0 && leaf.KeyUsage&usage == 0 {
		return nil, alert.Errorf(alert.UnsupportedCertificate, step, "Certificate",
			"%s rejected: its Key Usage extension does not allow %s", what, keyUsageName(usage))
	}
	b.state.PeerCertificates = peer.Certificates
	b.state.VerifiedChains = peer.VerifiedChains
	if b.tracing() {
		b.note(trace.KindVerified, step, "Certificate", "subject", peer.Certificates[0].Subject.String(),
			"verified", fmt.Sprint(len(peer.VerifiedChains) > 0))
	}
	return peer.Certificates[0].PublicKey, nil
}

// checkEntryExtensions applies RFC 8446 §4.4.2 to the extensions of a TLS
// 1.3 Certificate's entries: each must answer an extension of the request
// (the server's answer our ClientHello, the client's the CertificateRequest)
// — anything else is unsupported_extension (§4.2) — and be one the
// Certificate message may carry (status_request, signed_certificate_timestamp;
// else illegal_parameter, §4.2).
func (b *base) checkEntryExtensions(cert *wire.Certificate13, requested wire.Extensions, step int) error {
	for _, e := range cert.Entries {
		for _, x := range e.Extensions {
			if !requested.Has(x.Type) {
				return alert.Errorf(alert.UnsupportedExtension, step, "Certificate",
					"a certificate entry carries %s, which was not requested", x.Type)
			}
			if x.Type != wire.ExtStatusRequest && x.Type != wire.ExtSCT {
				return alert.Errorf(alert.IllegalParameter, step, "Certificate",
					"%s does not belong in a certificate entry (RFC 8446 §4.2)", x.Type)
			}
		}
	}
	return nil
}
