package handshake

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// Raw public keys (RFC 7250): a side may authenticate with a bare
// SubjectPublicKeyInfo instead of an X.509 chain, when the peer accepts
// that. Two extensions negotiate it, one per direction:
//
//	server_certificate_type: the client lists the types it can verify;
//	                         the server answers with the type it sends.
//	client_certificate_type: the client lists the types it can send; a
//	                         server that asks for a certificate answers
//	                         with the type it wants.
//
// The client's lists go in its ClientHello (§4.1); the answers in the
// ServerHello of TLS 1.2 (§4.2) and in EncryptedExtensions in TLS 1.3 (RFC
// 8446 §4.2). Without an answer a type is X.509. In TLS 1.3 the raw key is
// the one CertificateEntry of the Certificate (RFC 8446 §4.4.2); in TLS 1.2
// the Certificate is the key alone (wire.RawPublicKeyCertificate12).
// CertificateVerify (and in TLS 1.2 ServerKeyExchange) prove the key as
// they would a certificate's.
//
// A raw key says nothing about whom it belongs to: it authenticates only
// through an out-of-band binding (§4.3, §4.4), Config.VerifyRawPublicKey,
// which a side that accepts raw keys must have; without it no raw key is
// ever offered for, or accepted.
//
// This file holds the negotiation, both sides, and where a peer's raw key
// enters (acceptPeerRawKey), as peerchain.go is where a chain does.

const (
	certTypeX509 = wire.CertificateTypeX509
	certTypeRPK  = wire.CertificateTypeRawPublicKey
)

// certType is the type cert is sent as.
func (c *Certificate) certType() uint8 {
	if c.RawPublicKey != nil {
		return certTypeRPK
	}
	return certTypeX509
}

// publicKey is the key cert authenticates: its leaf's, or its raw key's.
func (c *Certificate) publicKey() crypto.PublicKey {
	if c.RawPublicKey != nil {
		if s, ok := c.PrivateKey.(crypto.Signer); ok {
			return s.Public()
		}
		return nil
	}
	if c.Leaf == nil {
		return nil
	}
	return c.Leaf.PublicKey
}

// entries is what cert's Certificate message carries: the chain, or the
// raw key alone.
func (c *Certificate) entries() [][]byte {
	if c.RawPublicKey != nil {
		return [][]byte{c.RawPublicKey}
	}
	return c.Chain
}

// knownCertTypes keeps the types tlsflow implements, in order, once each;
// RawPublicKey only when a raw key can be verified (verifies), for the
// lists of types this side accepts. Nil or empty means X.509 alone.
func knownCertTypes(types []uint8, rawOK bool) []uint8 {
	var out []uint8
	for _, t := range types {
		if (t == certTypeX509 || t == certTypeRPK && rawOK) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return []uint8{certTypeX509}
	}
	return out
}

func onlyX509(types []uint8) bool { return len(types) == 1 && types[0] == certTypeX509 }

func certTypeNames(types []uint8) string { return mapJoin(types, wire.CertificateTypeName) }

// --- client ---

// serverCertTypes are the server certificate types this client accepts,
// in preference order.
func (c *Client) serverCertTypes() []uint8 {
	return knownCertTypes(c.cfg.ServerCertTypes, c.cfg.VerifyRawPublicKey != nil)
}

// clientCertTypes are the client certificate types this client can send:
// the configured ones, or those of its certificates.
func (c *Client) clientCertTypes() []uint8 {
	types := c.cfg.ClientCertTypes
	if types == nil {
		for _, cert := range c.cfg.Certificates {
			types = append(types, cert.certType())
		}
	}
	return knownCertTypes(types, true)
}

// offerCertTypes adds the two lists to a ClientHello, each only when it
// names more than X.509: "If the client has no remaining certificate types
// to send in the client hello, other than the default X.509 type, it MUST
// omit" the extension (RFC 7250 §4.1).
func (c *Client) offerCertTypes(h *wire.ClientHello) {
	if types := c.clientCertTypes(); !onlyX509(types) {
		h.Extensions.Add(wire.ExtClientCertificateType, wire.CertificateTypeList{Ext: wire.ExtClientCertificateType, Types: types})
	}
	if types := c.serverCertTypes(); !onlyX509(types) {
		h.Extensions.Add(wire.ExtServerCertificateType, wire.CertificateTypeList{Ext: wire.ExtServerCertificateType, Types: types})
	}
}

// readCertTypes reads the server's answers (TLS 1.2 ServerHello, TLS 1.3
// EncryptedExtensions) into the state: each must answer an offer of ours
// (unsupported_extension, RFC 8446 §4.2, RFC 5246 §7.4.1.4) with a type we
// listed ("MUST be selected from one of the values provided", RFC 7250
// §4.2; unsupported_certificate, the alert §4.2 gives a server for types
// in common). A resumption keeps the types of the session.
func (c *Client) readCertTypes(exts wire.Extensions, message string, step int) error {
	for _, x := range []struct {
		ext     wire.ExtensionType
		offered []uint8
		into    *uint8
	}{
		{wire.ExtServerCertificateType, c.serverCertTypes(), &c.state.ServerCertType},
		{wire.ExtClientCertificateType, c.clientCertTypes(), &c.state.ClientCertType},
	} {
		sel := wire.CertificateTypeSelected{Ext: x.ext}
		found, err := exts.DecodeWith(x.ext, sel.Unmarshal)
		switch {
		case err != nil:
			return alert.Errorf(alert.DecodeError, step, message, "%s: %w", x.ext, err)
		case !found:
			continue
		case !c.hello.Extensions.Has(x.ext):
			return alert.Errorf(alert.UnsupportedExtension, step, message, "server sent %s, which this client did not offer", x.ext)
		case !slices.Contains(x.offered, sel.Type):
			return alert.Errorf(alert.UnsupportedCertificate, step, message,
				"%s: the server chose %s, which this client did not offer (it offered %s)", x.ext, wire.CertificateTypeName(sel.Type), certTypeNames(x.offered))
		}
		if !c.state.DidResume { // a resumption keeps the session's types
			*x.into = sel.Type
		}
		c.note(trace.KindNote, step, message, x.ext.String(), wire.CertificateTypeName(sel.Type))
	}
	return nil
}

// checkServerCertType is called as the server's Certificate arrives: a
// type the server did not answer is X.509, which this client may not
// accept.
func (c *Client) checkServerCertType(step int) error {
	if t := c.state.ServerCertType; !slices.Contains(c.serverCertTypes(), t) {
		return alert.Errorf(alert.UnsupportedCertificate, step, "Certificate",
			"the server sends an %s certificate (it did not answer server_certificate_type), and this client accepts only %s",
			wire.CertificateTypeName(t), certTypeNames(c.serverCertTypes()))
	}
	return nil
}

// clientCertificateOfType narrows the client's certificates to the type
// the server asked for; nil when none is of it (the client then answers
// with no certificate, RFC 8446 §4.4.2, RFC 5246 §7.4.6).
func (c *Client) certificatesOfType(t uint8) []*Certificate {
	var out []*Certificate
	for _, cert := range c.cfg.Certificates {
		if cert.certType() == t {
			out = append(out, cert)
		}
	}
	return out
}

// --- server ---

// readCertTypeOffers decodes the client's two lists into info; a list
// that is empty (decode_error) or X.509 alone (illegal_parameter) is
// refused whatever the server would do with it.
func readCertTypeOffers(ch *wire.ClientHello, info *ClientHelloInfo) error {
	for _, x := range []struct {
		ext  wire.ExtensionType
		into *[]uint8
	}{{wire.ExtServerCertificateType, &info.ServerCertTypes}, {wire.ExtClientCertificateType, &info.ClientCertTypes}} {
		list := wire.CertificateTypeList{Ext: x.ext}
		if found, err := ch.Extensions.DecodeWith(x.ext, list.Unmarshal); err != nil {
			return helloError(err, x.ext.String())
		} else if found {
			*x.into = list.Types
		}
	}
	return nil
}

// clientAccepts is a list from the ClientHello, X.509 alone when absent.
func clientAccepts(list []uint8) []uint8 {
	if list == nil {
		return []uint8{certTypeX509}
	}
	return list
}

// serverCertTypeFits reports whether the server may send cert to this
// client: a type the client accepts and this server's configuration allows.
func (s *Server) serverCertTypeFits(cert *Certificate) bool {
	t := cert.certType()
	if s.cfg.ServerCertTypes != nil && !slices.Contains(s.cfg.ServerCertTypes, t) {
		return false
	}
	return slices.Contains(clientAccepts(s.info.ServerCertTypes), t)
}

// byCertType keeps the candidates of a type the client accepts, in order:
// among the certificates that fit, the server's order decides. None left,
// for a client that sent server_certificate_type, is "no certificate type
// in common with the client", unsupported_certificate (RFC 7250 §4.2); a
// client that sent none accepts X.509 alone, and a server without an
// X.509 certificate fails as with no certificate at all (handshake_failure).
func (s *Server) byCertType(candidates []*Certificate) ([]*Certificate, error) {
	var out []*Certificate
	have := make([]uint8, 0, 2)
	for _, c := range candidates {
		if !slices.Contains(have, c.certType()) {
			have = append(have, c.certType())
		}
		if s.serverCertTypeFits(c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 && s.info.ServerCertTypes == nil {
		return nil, alert.Errorf(alert.HandshakeFailure, 3, "Certificate",
			"the client accepts only X.509 certificates (it sent no server_certificate_type), and this server has %s", certTypeNames(have))
	}
	if len(out) == 0 {
		return nil, alert.Errorf(alert.UnsupportedCertificate, 3, "Certificate",
			"no certificate type in common with the client (RFC 7250 §4.2): it accepts %s; this server has %s",
			certTypeNames(clientAccepts(s.info.ServerCertTypes)), certTypeNames(have))
	}
	return out, nil
}

// chooseClientCertType is the type a server asking for a client
// certificate wants: its most preferred accepted type (X.509 alone unless
// configured) that the client can send (X.509 alone unless it lists
// others). None in common is unsupported_certificate (RFC 7250 §4.2).
// answer says whether client_certificate_type goes in the reply: when the
// client sent it and this server knows raw keys — one that does not
// answers without it, and X.509 follows (§4.2, case 1).
func (s *Server) chooseClientCertType() (t uint8, answer bool, err error) {
	ours := knownCertTypes(s.cfg.ClientCertTypes, s.cfg.VerifyRawPublicKey != nil)
	theirs := clientAccepts(s.info.ClientCertTypes)
	aware := s.cfg.ClientCertTypes != nil
	if !aware {
		return certTypeX509, false, nil
	}
	for _, t := range ours {
		if slices.Contains(theirs, t) {
			return t, s.info.ClientCertTypes != nil, nil
		}
	}
	return 0, false, alert.Errorf(alert.UnsupportedCertificate, 2, "ServerHello",
		"no client certificate type in common (RFC 7250 §4.2): the client can send %s; this server accepts %s",
		certTypeNames(theirs), certTypeNames(ours))
}

// answerCertTypes adds the server's answers to exts (TLS 1.2 ServerHello,
// TLS 1.3 EncryptedExtensions): server_certificate_type to a client that
// sent it, with the type of what authenticates us (this handshake's
// certificate, or the resumed session's); client_certificate_type when
// chooseClientCertType says so. RFC 7250 §4.2 asks the server for one
// value each: "only a single value is permitted".
func (s *Server) answerCertTypes(exts *wire.Extensions, clientAnswer bool) {
	if s.info.ServerCertTypes != nil {
		exts.Add(wire.ExtServerCertificateType, wire.CertificateTypeSelected{Ext: wire.ExtServerCertificateType, Type: s.state.ServerCertType})
	}
	if clientAnswer {
		exts.Add(wire.ExtClientCertificateType, wire.CertificateTypeSelected{Ext: wire.ExtClientCertificateType, Type: s.state.ClientCertType})
	}
}

// --- both sides ---

// resumeCertTypes carries a resumed session's authentication into the
// state: its peer and the certificate types that authenticated both sides.
func (st *State) resumeCertTypes(sess *session.State) {
	st.ServerCertType, st.ClientCertType = sess.ServerCertificateType, sess.ClientCertificateType
}

// serverMayResumeCertTypes explains why a session's certificate types do
// not fit this ClientHello and configuration (the server's type must be
// one the client accepts now and we may send; a client's raw key must
// still be accepted, and verify), or returns "".
func (s *Server) serverMayResumeCertTypes(sess *session.State) string {
	t := sess.ServerCertificateType
	if !slices.Contains(clientAccepts(s.info.ServerCertTypes), t) || s.cfg.ServerCertTypes != nil && !slices.Contains(s.cfg.ServerCertTypes, t) {
		return "the session's server certificate type " + wire.CertificateTypeName(t) + " does not fit this ClientHello"
	}
	if sess.PeerRawPublicKey == nil {
		return ""
	}
	if !slices.Contains(knownCertTypes(s.cfg.ClientCertTypes, s.cfg.VerifyRawPublicKey != nil), certTypeRPK) {
		return "the session's client authenticated with a raw public key, which this server does not accept now"
	}
	return s.reverifyRawKey(sess.PeerRawPublicKey)
}

// clientMayResumeCertTypes is the client's half: the server's type must
// still be accepted, and its raw key, if that is what it was, verify again.
func (c *Client) clientMayResumeCertTypes(sess *session.State) string {
	if t := sess.ServerCertificateType; !slices.Contains(c.serverCertTypes(), t) {
		return "the session's server authenticated with " + wire.CertificateTypeName(t) + ", which this client does not accept now"
	}
	if sess.PeerRawPublicKey == nil {
		return ""
	}
	return c.reverifyRawKey(sess.PeerRawPublicKey)
}

// acceptPeerCertificate takes the entries of a peer's Certificate as the
// negotiated type says: a chain (acceptPeerChain), or, for RawPublicKey,
// exactly one SubjectPublicKeyInfo — "the certificate_list MUST contain no
// more than one CertificateEntry" (RFC 8446 §4.4.2), and an empty one was
// refused before. More entries do not have the form RawPublicKey gives the
// message: decode_error.
func (b *base) acceptPeerCertificate(entries [][]byte, certType uint8, step int, what string, usage x509.KeyUsage) (crypto.PublicKey, error) {
	if certType != certTypeRPK {
		return b.acceptPeerChain(entries, step, what, usage)
	}
	if len(entries) != 1 {
		return nil, alert.Errorf(alert.DecodeError, step, "Certificate",
			"%s rejected: %d entries where RawPublicKey allows one (RFC 8446 §4.4.2)", what, len(entries))
	}
	return b.acceptPeerRawKey(entries[0], step, what)
}

// Algorithm identifiers of the keys tlsflow uses (RFC 3279 §2.3.1, RFC 5480
// §2.1.1, RFC 8410 §3).
var (
	oidRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECDSA   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// subjectPublicKeyInfo is RFC 5280 §4.1's structure, for its shape alone.
type subjectPublicKeyInfo struct {
	Algorithm        pkix.AlgorithmIdentifier
	SubjectPublicKey asn1.BitString
}

// acceptPeerRawKey is where a peer's raw public key enters tlsflow. Before
// anything else it holds the key to the limits policy's size; then it must
// be one DER SubjectPublicKeyInfo with nothing after it (RFC 7250 §3: the
// value "MUST contain the DER encoding"; anything else is a field of the
// message that does not decode: decode_error), of an algorithm tlsflow
// uses and within RSABits (unsupported_certificate, as for a chain's leaf),
// a valid key of it (bad_certificate). Only then does the one judge,
// Config.VerifyRawPublicKey, see it; without one nothing is accepted
// (bad_certificate). It returns the key CertificateVerify must prove.
func (b *base) acceptPeerRawKey(spki []byte, step int, what string) (crypto.PublicKey, error) {
	key, err := b.checkPeerRawKey(spki, step, what)
	if err != nil {
		return nil, err
	}
	b.state.setPeer(&PeerCertificates{RawPublicKey: slices.Clone(spki)})
	return key, nil
}

// checkPeerRawKey is acceptPeerRawKey without recording the key as the
// connection's peer (post-handshake authentication records it only once
// the client's Finished verifies).
func (b *base) checkPeerRawKey(spki []byte, step int, what string) (crypto.PublicKey, error) {
	lim := b.cfg.limits()
	if len(spki) > lim.RawPublicKey {
		return nil, alert.Errorf(alert.BadCertificate, step, "Certificate",
			"%s rejected: a raw public key of %d bytes, more than the limit of %d", what, len(spki), lim.RawPublicKey)
	}
	var shape subjectPublicKeyInfo
	if rest, err := asn1.Unmarshal(spki, &shape); err != nil || len(rest) != 0 {
		if err == nil {
			err = fmt.Errorf("%d bytes after it", len(rest))
		}
		return nil, alert.Errorf(alert.DecodeError, step, "Certificate",
			"%s rejected: the raw public key is not a DER SubjectPublicKeyInfo (RFC 7250 §3): %w", what, err)
	}
	alg := shape.Algorithm.Algorithm
	if !alg.Equal(oidRSA) && !alg.Equal(oidECDSA) && !alg.Equal(oidEd25519) {
		return nil, alert.Errorf(alert.UnsupportedCertificate, step, "Certificate",
			"%s rejected: a raw public key of algorithm %s, which tlsflow cannot verify signatures with", what, alg)
	}
	key, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, alert.Errorf(alert.BadCertificate, step, "Certificate", "%s rejected: the raw public key: %w", what, err)
	}
	if err := rsaSizeAllowed(key, lim); err != nil {
		return nil, alert.Errorf(alert.UnsupportedCertificate, step, "Certificate", "%s rejected: %w", what, err)
	}
	if !usableKey(key) {
		return nil, alert.Errorf(alert.UnsupportedCertificate, step, "Certificate",
			"%s rejected: its raw key (%s) is of a kind tlsflow cannot verify signatures with", what, keyName(key))
	}
	if err := b.verifyRawKey(spki, key); err != nil {
		return nil, certificateError(step, "Certificate", what, err)
	}
	if b.tracing() {
		b.note(trace.KindVerified, step, "Certificate", "raw_public_key", keyName(key),
			"spki_sha256", fmt.Sprintf("%x", sha256.Sum256(spki)), "verified", "true")
	}
	return key, nil
}

// verifyRawKey asks Config.VerifyRawPublicKey, and refuses when there is
// none: a raw key no one vouches for authenticates nothing.
func (b *base) verifyRawKey(spki []byte, key crypto.PublicKey) error {
	if b.cfg.VerifyRawPublicKey == nil {
		return fmt.Errorf("no raw public key is trusted here (no VerifyRawPublicKey)")
	}
	return b.cfg.VerifyRawPublicKey(spki, key)
}

// reverifyRawKey checks a stored raw key (a session's) as a new one would
// be, for resumption; it returns why not, or "".
func (b *base) reverifyRawKey(spki []byte) string {
	if len(spki) > b.cfg.limits().RawPublicKey {
		return "the session's raw public key is over the limit"
	}
	key, err := x509.ParsePKIXPublicKey(spki)
	if err != nil || rsaSizeAllowed(key, b.cfg.limits()) != nil || !usableKey(key) {
		return "the session's raw public key is not one tlsflow uses"
	}
	if err := b.verifyRawKey(spki, key); err != nil {
		return "the session's raw public key is no longer accepted: " + err.Error()
	}
	return ""
}

// certificateMessage12 is the TLS 1.2 Certificate that sends cert (nil:
// none) in the type negotiated for its sender: the chain, or the raw key
// alone (RFC 7250 §3; empty when there is none, see
// wire.RawPublicKeyCertificate12).
func certificateMessage12(cert *Certificate, certType uint8) wire.Message {
	if certType == certTypeRPK {
		m := &wire.RawPublicKeyCertificate12{}
		if cert != nil {
			m.SubjectPublicKeyInfo = cert.RawPublicKey
		}
		return m
	}
	m := &wire.Certificate{}
	if cert != nil {
		m.Chain = cert.Chain
	}
	return m
}

// readCertificate12 parses the peer's TLS 1.2 Certificate in the form
// certType gives it, traces it, and returns its entries: the chain, or the
// raw key alone (none for an empty one).
func (b *base) readCertificate12(msg []byte, certType uint8, step int) ([][]byte, error) {
	if certType == certTypeRPK {
		m := new(wire.RawPublicKeyCertificate12)
		if err := parse(m, msg, step); err != nil {
			return nil, err
		}
		b.received(m, msg, step)
		if len(m.SubjectPublicKeyInfo) == 0 {
			return nil, nil
		}
		return [][]byte{m.SubjectPublicKeyInfo}, nil
	}
	m := new(wire.Certificate)
	if err := parse(m, msg, step); err != nil {
		return nil, err
	}
	b.received(m, msg, step)
	return m.Chain, nil
}
