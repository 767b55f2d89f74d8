package handshake

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// Certificate selection: a server with several certificates (say an RSA and
// an ECDSA one) shows each client one it can verify, and a client answering
// a CertificateRequest sends one the server can verify.
//
// A server's certificate must have a key that fits a signature scheme the
// client offers in signature_algorithms (RFC 8446 §4.4.2.2; RFC 5246
// §7.4.1.4.1, §7.4.2) and, in TLS 1.2, the key exchange of the suite (RFC
// 5246 §7.4.2: RSA for TLS_RSA_* and ECDHE_RSA, ECDSA or Ed25519 for
// ECDHE_ECDSA, RFC 8422 §5.3, RFC 8422bis) with an ECDSA curve the client
// lists in supported_groups (RFC 8422 §5.1). Among the certificates that
// fit, the first in configuration order is used, those whose names cover
// the requested host coming first. In TLS 1.2 the suite and the certificate
// are chosen together: the server's ranking of suites decides, and a suite
// is taken only if some certificate can serve it.

// ClientOffer is what a ClientHello offers that bears on the server's
// certificate.
type ClientOffer struct {
	CipherSuites     []uint16
	Groups           []uint16 // supported_groups
	GroupsSent       bool     // whether supported_groups was sent at all
	SignatureSchemes []uint16 // signature_algorithms
}

// offer is the client's ClientOffer, from the ClientHello being answered.
func (s *Server) offer() *ClientOffer {
	return &ClientOffer{
		CipherSuites:     s.info.CipherSuites,
		Groups:           s.info.SupportedGroups,
		GroupsSent:       s.hello.Extensions.Has(wire.ExtSupportedGroups),
		SignatureSchemes: s.info.SignatureSchemes,
	}
}

// Group12 picks the TLS 1.2 ECDHE group: our most preferred one in ours the
// client supports, or 0 if there is none. A ClientHello without
// supported_groups is read as P-256 only, the conservative reading of RFC
// 8422 §4.
func (o *ClientOffer) Group12(ours []uint16) uint16 {
	theirs := o.Groups
	if !o.GroupsSent {
		theirs = []uint16{suites.GroupP256}
	}
	for _, g := range ours {
		if !suites.GroupTLS13Only(g) && kex.Supported(g) && contains(theirs, g) {
			return g
		}
	}
	return 0
}

// CertificateServes12 explains why cert cannot authenticate the TLS 1.2
// suite cs for a client offering o, with group the ECDHE group chosen (0
// if none) and ourSchemes the signature schemes we sign with unless cert
// has its own (Certificate.SignatureSchemes); nil if it can.
func CertificateServes12(cert *Certificate, cs *suites.Suite, group uint16, o *ClientOffer, ourSchemes []uint16) error {
	pub := cert.publicKey()
	if pub == nil {
		return errors.New("the certificate has no parsed leaf")
	}
	if err := keyFitsSuite(pub, cs); err != nil {
		return keyTypeError{err}
	}
	if cs.KeyExchange == suites.KeyExchangeRSA {
		// The client encrypts the pre-master secret to the key (RFC 5246
		// §7.4.7.1): no signature, so signature_algorithms does not matter.
		if d, ok := cert.PrivateKey.(crypto.Decrypter); !ok || !isRSA(d.Public()) {
			return fmt.Errorf("%s needs a private key that can decrypt", cs.Name)
		}
		return nil
	}
	if group == 0 {
		return fmt.Errorf("%s needs a common ECDHE group, and there is none", cs.Name)
	}
	if g := ecdsaGroup(pub); g != 0 && o.GroupsSent && !contains(o.Groups, g) {
		// In TLS 1.2 supported_groups also names the curves the client
		// can verify signatures on (RFC 8422 §5.1, §5.3).
		return fmt.Errorf("%s: the certificate's curve %s is not in the client's supported_groups", cs.Name, suites.GroupName(g))
	}
	if _, ok := cert.PrivateKey.(crypto.Signer); !ok {
		return fmt.Errorf("%s needs a private key that can sign, this one is %T", cs.Name, cert.PrivateKey)
	}
	if _, ok := signature.Choose(cert.signingSchemes(ourSchemes), o.SignatureSchemes, pub, false); !ok {
		return fmt.Errorf("%s: no signature scheme the client accepts fits the certificate's key (%s)%s",
			cs.Name, keyName(pub), cert.ownSchemes())
	}
	return nil
}

// CertificateServes13 returns the signer and our most preferred signature
// scheme for cert in TLS 1.3, where only the client's signature_algorithms
// matter for the certificate (RFC 8446 §4.4.2.2): the first of cert's own
// schemes (Certificate.SignatureSchemes), or of ourSchemes when it has
// none, that the client accepts and the key can make. An error says why
// cert cannot serve the client.
func CertificateServes13(cert *Certificate, o *ClientOffer, ourSchemes []uint16) (crypto.Signer, uint16, error) {
	if cert == nil || cert.publicKey() == nil {
		return nil, 0, errors.New("the certificate has no parsed leaf")
	}
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, 0, fmt.Errorf("the private key %T cannot sign", cert.PrivateKey)
	}
	scheme, ok := signature.Choose(cert.signingSchemes(ourSchemes), o.SignatureSchemes, signer.Public(), true)
	if !ok {
		return nil, 0, fmt.Errorf("no signature scheme the client accepts fits the %s key%s (the client accepts %s)",
			keyName(signer.Public()), cert.ownSchemes(), mapJoin(o.SignatureSchemes, signature.Name))
	}
	return signer, scheme, nil
}

// ChooseSuite12 picks the TLS 1.2 suite and the certificate that serves it:
// our first suite in ourSuites that the client offers and that some
// certificate of candidates can serve, with the first such certificate.
// The error, when nothing fits, says why for each certificate.
func ChooseSuite12(candidates []*Certificate, o *ClientOffer, ourSuites, ourGroups, ourSchemes []uint16) (*suites.Suite, *Certificate, uint16, error) {
	group := o.Group12(ourGroups)
	var why reasons
	var chosen *Certificate
	suite := suites.Choose(ourSuites, o.CipherSuites, func(cs *suites.Suite) bool {
		if cs.Version != suites.VersionTLS12 {
			return false
		}
		for _, c := range candidates {
			if err := CertificateServes12(c, cs, group, o, ourSchemes); err != nil {
				why.add(c, err)
				continue
			}
			chosen = c
			return true
		}
		return false
	})
	if suite == nil {
		return nil, nil, 0, why.err(candidates)
	}
	if suite.KeyExchange == suites.KeyExchangeRSA {
		group = 0
	}
	return suite, chosen, group, nil
}

// keyTypeError: the certificate's key is of the wrong kind for the suite,
// the least telling reason when another suite explains more.
type keyTypeError struct{ error }

func (e keyTypeError) Unwrap() error { return e.error }

// reasons keeps, for each certificate, the first reason it could not be
// used, for an error that explains a failed choice; a reason from a suite
// its key could have served replaces a key type mismatch.
type reasons struct {
	certs []*Certificate
	errs  []error
}

func (r *reasons) add(c *Certificate, err error) {
	for i, seen := range r.certs {
		if seen == c {
			var kt keyTypeError
			if errors.As(r.errs[i], &kt) && !errors.As(err, &kt) {
				r.errs[i] = err
			}
			return
		}
	}
	r.certs, r.errs = append(r.certs, c), append(r.errs, err)
}

// err is nil when no reason was recorded (nothing in common before any
// certificate was looked at).
func (r *reasons) err(candidates []*Certificate) error {
	switch len(r.errs) {
	case 0:
		return nil
	case 1:
		if len(candidates) == 1 {
			return r.errs[0]
		}
	}
	parts := make([]string, len(r.errs))
	for i, c := range r.certs {
		parts[i] = fmt.Sprintf("%s certificate: %v", certName(c), r.errs[i])
	}
	return errors.New(strings.Join(parts, "; "))
}

// certName describes a certificate for people: "ECDSA P-256 (example.com)".
func certName(c *Certificate) string {
	if c != nil && c.RawPublicKey != nil {
		return "raw " + keyName(c.publicKey()) + " key"
	}
	if c == nil || c.Leaf == nil {
		return "unparsed"
	}
	name := keyName(c.Leaf.PublicKey)
	switch {
	case len(c.Leaf.DNSNames) > 0:
		name += " (" + c.Leaf.DNSNames[0] + ")"
	case c.Leaf.Subject.CommonName != "":
		name += " (" + c.Leaf.Subject.CommonName + ")"
	}
	return name
}

// certNames describes a list of certificates: "RSA-2048 (a.example), ECDSA P-256 (b.example)".
func certNames(cs []*Certificate) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = certName(c)
	}
	return strings.Join(names, ", ")
}

func isRSA(pub crypto.PublicKey) bool {
	_, ok := pub.(*rsa.PublicKey)
	return ok
}

// certificateCandidates lists the certificates the server may show, in the
// order it prefers them: GetCertificate's choice alone, if it makes one;
// else Config.Certificates, those whose names cover the requested host
// first (RFC 6066 §3), each group in configuration order. A certificate
// for another name stays a candidate: the client decides whether to accept
// it, as when there is only one.
func (s *Server) certificateCandidates() ([]*Certificate, error) {
	byName, err := s.candidatesByName()
	if err != nil {
		return nil, err
	}
	if s.candidates, err = s.byCertType(byName); err != nil {
		return nil, err
	}
	return s.candidates, nil
}

// candidatesByName is certificateCandidates before the certificate types
// the client accepts (rawpublickey.go) are applied.
func (s *Server) candidatesByName() ([]*Certificate, error) {
	if s.cfg.GetCertificate != nil {
		cert, err := s.cfg.GetCertificate(s.info)
		if err != nil {
			// The application's callback failed, not the client:
			// internal_error, as crypto/tls and BoringSSL send.
			return nil, alert.Errorf(alert.InternalError, 3, "Certificate", "GetCertificate: %w", err)
		}
		if cert != nil {
			return []*Certificate{cert}, nil
		}
	}
	all := s.cfg.Certificates
	if len(all) == 0 {
		return nil, alert.Errorf(alert.HandshakeFailure, 3, "Certificate", "the server has no certificate configured")
	}
	name := s.info.ServerName
	if len(all) == 1 || name == "" {
		return all, nil
	}
	// A raw public key names no host: the client that accepts one knows
	// it by its pin (RFC 7250 §4.4), so it keeps its place among those
	// for the name.
	forName := func(c *Certificate) bool {
		return c.RawPublicKey != nil || c.Leaf != nil && c.Leaf.VerifyHostname(name) == nil
	}
	out := make([]*Certificate, 0, len(all))
	for _, c := range all {
		if forName(c) {
			out = append(out, c)
		}
	}
	for _, c := range all {
		if !forName(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// certsPhrase names the certificates a failed choice looked at, for error
// messages: "ECDSA P-256 certificate", or "certificates RSA-2048 (a.example),
// ECDSA P-256 (b.example)".
func certsPhrase(cs []*Certificate) string {
	if len(cs) == 1 && cs[0].RawPublicKey != nil {
		return certName(cs[0])
	}
	if len(cs) == 1 && cs[0].Leaf != nil {
		return keyName(cs[0].Leaf.PublicKey) + " certificate"
	}
	return "certificates " + certNames(cs)
}

// noteCertificateChoice traces which certificate was chosen, when there
// was a choice, just before the Certificate message that shows it.
func (s *Server) noteCertificateChoice() {
	if len(s.candidates) < 2 || !s.tracing() {
		return
	}
	for i, c := range s.candidates {
		if c == s.cert {
			s.note(trace.KindNote, 3, "Certificate", "chosen", certName(s.cert),
				"reason", fmt.Sprintf("candidate %d of %d (%s): the first the client can verify", i+1, len(s.candidates), certNames(s.candidates)))
			return
		}
	}
}
