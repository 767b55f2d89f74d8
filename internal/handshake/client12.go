package handshake

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// client12 holds what the TLS 1.2 client learns on the way. Its states, in
// order (RFC 5246 §7.3, Figure 1; the course note's steps in brackets):
//
//	readServerHello12                                        [2]
//	→ readServerCertificate                                  [3]
//	→ readServerKeyExchange (ECDHE suites only)              [3]
//	→ readCertificateRequestOrDone → [readServerHelloDone]   [3, 4]
//	→ send [Certificate] ClientKeyExchange [CertificateVerify]  [5]
//	  ChangeCipherSpec Finished                              [6, 7]
//	→ readServerChangeCipherSpec → readServerFinished        [6, 7]
type client12 struct {
	suite       *suites.Suite
	serverHello *wire.ServerHello
	serverKey   crypto.PublicKey
	preMaster   []byte // the pre-master secret, until the master secret is made
	kexPublic   []byte // our ECDHE public value, sent in ClientKeyExchange
	certReq     *wire.CertificateRequest
	master      []byte
	clientWrite record.Cipher
	serverWrite record.Cipher

	offered        *session.State // the session we asked to resume
	resumed        bool
	ticketPromised bool // the server acknowledged session_ticket: a NewSessionTicket comes
	statusPromised bool // the server acknowledged status_request: a CertificateStatus may come
	ticket         *wire.NewSessionTicket
}

// readServerHello12 checks the TLS 1.2 ServerHello: a suite we offered, the
// RFC 8446 §4.1.3 downgrade sentinel, and only extensions we asked for.
func (c *Client) readServerHello12(sh *wire.ServerHello, raw []byte) (clientState, error) {
	// "TLS 1.3 clients receiving a ServerHello indicating TLS 1.2 or below
	// MUST check that the last 8 bytes are not equal to either of these
	// values" (RFC 8446 §4.1.3).
	if tail := sh.Random[24:]; c.offers13() && (bytes.Equal(tail, downgradeTLS12[:]) || bytes.Equal(tail, downgradeTLS11[:])) {
		return nil, alert.Errorf(alert.IllegalParameter, 2, "ServerHello",
			"the server random carries a TLS 1.3 downgrade sentinel: a man in the middle removed TLS 1.3 from our ClientHello (RFC 8446 §4.1.3)")
	}
	s := suites.Lookup(sh.CipherSuite)
	if s == nil || s.Version != suites.VersionTLS12 || !contains(c.hello.CipherSuites, sh.CipherSuite) {
		return nil, alert.Errorf(alert.IllegalParameter, 2, "ServerHello",
			"server chose %s, which this client did not offer", suites.Name(sh.CipherSuite))
	}
	if err := c.checkServerExtensions12(sh); err != nil {
		return nil, err
	}
	c.c12.suite = s
	c.c12.serverHello = sh
	c.state.CipherSuite = s.ID
	c.state.ServerRandom = sh.Random[:]
	c.state.ServerName = c.cfg.ServerName
	c.transcript.SetHash(c.hash(s.Hash))
	c.received(sh, raw, 2)
	c.noteECHDecision()
	resumed, err := c.resumedByServer12(sh)
	if err != nil {
		return nil, err
	}
	if resumed {
		return c.resume12()
	}
	return (*Client).readServerCertificate, nil
}

func (c *Client) checkServerExtensions12(sh *wire.ServerHello) error {
	for _, e := range sh.Extensions {
		if !c.hello.Extensions.Has(e.Type) || e.Type == wire.ExtEncryptedClientHello {
			return alert.Errorf(alert.UnsupportedExtension, 2, "ServerHello",
				"server sent %s, which this client did not offer (RFC 5246 §7.4.1.4)", e.Type)
		}
	}
	if _, err := sh.Extensions.Empty(wire.ExtServerName); err != nil {
		// RFC 6066 §3: the server's server_name "SHALL be empty".
		return alert.Errorf(alert.DecodeError, 2, "ServerHello", "server_name: %w", err)
	}
	if err := c.readCertTypes(sh.Extensions, "ServerHello", 2); err != nil {
		return err
	}
	if promised, err := sh.Extensions.Empty(wire.ExtSessionTicket); err != nil {
		return alert.Errorf(alert.DecodeError, 2, "ServerHello", "session_ticket: %w", err)
	} else {
		c.c12.ticketPromised = promised
	}
	if ems, err := sh.Extensions.Empty(wire.ExtExtendedMasterSecret); err != nil {
		return alert.Errorf(alert.DecodeError, 2, "ServerHello", "%w", err)
	} else {
		c.state.ExtendedMaster = ems
	}
	var ri wire.RenegotiationInfo
	if found, err := sh.Extensions.DecodeWith(wire.ExtRenegotiationInfo, ri.Unmarshal); err != nil {
		return alert.Errorf(alert.DecodeError, 2, "ServerHello", "renegotiation_info: %w", err)
	} else if found && len(ri) != 0 {
		return alert.Errorf(alert.HandshakeFailure, 2, "ServerHello",
			"renegotiation_info must be empty in an initial handshake (RFC 5746 §3.4)")
	}
	var pf wire.ECPointFormats
	if found, err := sh.Extensions.DecodeWith(wire.ExtECPointFormats, pf.Unmarshal); err != nil {
		return alert.Errorf(alert.DecodeError, 2, "ServerHello", "ec_point_formats: %w", err)
	} else if found && !bytes.Contains(pf, []byte{0}) {
		return alert.Errorf(alert.IllegalParameter, 2, "ServerHello",
			"ec_point_formats lacks the uncompressed format (RFC 8422 §5.2)")
	}
	if err := c.readStatusInServerHello12(sh); err != nil {
		return err
	}
	limits, err := c.clientRecordLimits(suites.VersionTLS12, sh.Extensions, "ServerHello")
	if err != nil {
		return err
	}
	if limits != nil {
		c.act(*limits) // for the records after ChangeCipherSpec
	}
	return c.checkALPN(sh.Extensions, 2, "ServerHello")
}

// checkALPN checks the server's protocol choice is one we offered (RFC 7301 §3.1).
func (c *Client) checkALPN(exts wire.Extensions, step int, message string) error {
	var alpn wire.ALPN
	found, err := exts.DecodeWith(wire.ExtALPN, alpn.Unmarshal)
	if err != nil {
		return alert.Errorf(alert.DecodeError, step, message, "application_layer_protocol_negotiation: %w", err)
	}
	if !found {
		return nil
	}
	if len(alpn) != 1 || !containsString(c.cfg.NextProtos, alpn[0]) {
		return alert.Errorf(alert.IllegalParameter, step, message,
			"server selected protocol %q, which this client did not offer (%v)", alpn, c.cfg.NextProtos)
	}
	c.state.NegotiatedProtocol = alpn[0]
	return nil
}

// readServerCertificate is step 3: the server's X.509 chain, which the
// client checks before it trusts anything signed or encrypted with it.
func (c *Client) readServerCertificate(msg []byte) (clientState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(3, "Certificate")
	}
	if err := c.checkServerCertType(3); err != nil {
		return nil, err
	}
	entries, err := c.readCertificate12(msg, c.state.ServerCertType, 3)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 && c.state.ServerCertType == certTypeRPK {
		// RFC 7250 §3: ASN.1_subjectPublicKeyInfo<1..2^24-1>; only a
		// client may decline (wire.RawPublicKeyCertificate12).
		return nil, alert.Errorf(alert.DecodeError, 3, "Certificate", "the server sent an empty raw public key")
	}
	if len(entries) == 0 {
		return nil, alert.Errorf(alert.BadCertificate, 3, "Certificate", "the server sent an empty certificate chain")
	}
	usage := x509.KeyUsageDigitalSignature
	if c.c12.suite.KeyExchange == suites.KeyExchangeRSA {
		usage = x509.KeyUsageKeyEncipherment
	}
	key, err := c.acceptPeerCertificate(entries, c.state.ServerCertType, 3, "server certificate", usage)
	if err != nil {
		return nil, err
	}
	c.c12.serverKey = key
	if err := keyFitsSuite(c.c12.serverKey, c.c12.suite); err != nil {
		return nil, alert.Errorf(alert.UnsupportedCertificate, 3, "Certificate", "%w", err)
	}
	// The server's ECDSA key must be on a curve we offered (RFC 8422 §5.3:
	// it "MUST respect the client's choice of elliptic curves").
	if g := ecdsaGroup(key); g != 0 && !contains(c.cfg.Groups, g) {
		return nil, alert.Errorf(alert.IllegalParameter, 3, "Certificate",
			"the server's ECDSA key is on %s, which this client did not offer in supported_groups (RFC 8422 §5.3)", suites.GroupName(g))
	}
	next := (*Client).readServerKeyExchange
	if c.c12.suite.KeyExchange == suites.KeyExchangeRSA {
		next = (*Client).readCertificateRequestOrDone
	}
	if c.c12.statusPromised {
		return c.readCertificateStatus12(next), nil
	}
	if c.state.ServerCertType == certTypeRPK {
		return next, nil // a raw key has no certificate for a staple to be about
	}
	if err := c.checkStaple(3, "Certificate"); err != nil {
		return nil, err // no staple coming: one the policy requires is missing
	}
	return next, nil
}

// keyFitsSuite checks the certificate's key can do what the suite needs.
func keyFitsSuite(pub crypto.PublicKey, s *suites.Suite) error {
	switch s.KeyExchange {
	case suites.KeyExchangeRSA, suites.KeyExchangeECDHERSA:
		if _, ok := pub.(*rsa.PublicKey); ok {
			return nil
		}
		return fmt.Errorf("%s needs an RSA certificate, the server's key is %s", s.Name, keyName(pub))
	case suites.KeyExchangeECDHEECDSA:
		switch pub.(type) {
		case *ecdsa.PublicKey, ed25519.PublicKey:
			return nil
		}
		return fmt.Errorf("%s needs an ECDSA or Ed25519 certificate, the server's key is %s", s.Name, keyName(pub))
	}
	return nil
}

// readServerKeyExchange (ECDHE suites, step 3): the server's ephemeral
// public key, signed with its certificate key over both randoms.
func (c *Client) readServerKeyExchange(msg []byte) (clientState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(3, "ServerKeyExchange")
	}
	ske := new(wire.ServerKeyExchange)
	if err := parse(ske, msg, 3); err != nil {
		return nil, err
	}
	c.received(ske, msg, 3)
	if !contains(c.cfg.Groups, ske.Group) || suites.GroupTLS13Only(ske.Group) || !kex.Supported(ske.Group) {
		return nil, alert.Errorf(alert.IllegalParameter, 3, "ServerKeyExchange",
			"server chose group %s, which this client did not offer", suites.GroupName(ske.Group))
	}
	if !contains(c.cfg.SignatureSchemes, ske.SignatureScheme) || !signature.Accepts(c.c12.serverKey, ske.SignatureScheme, false) {
		return nil, alert.Errorf(alert.IllegalParameter, 3, "ServerKeyExchange",
			"server signed with %s, which this client did not offer or which does not fit its %s key",
			signature.Name(ske.SignatureScheme), keyName(c.c12.serverKey))
	}
	params, err := ske.Params()
	if err != nil {
		return nil, internalError(3, "ServerKeyExchange", err)
	}
	signed := concat(c.state.ClientRandom, c.state.ServerRandom, params)
	if err := signature.Verify(c.crypto(), c.c12.serverKey, ske.SignatureScheme, signed, ske.Signature); err != nil {
		return nil, alert.Errorf(alert.DecryptError, 3, "ServerKeyExchange",
			"the signature over the ECDHE parameters does not verify with the server certificate's key (%s): %w",
			signature.Name(ske.SignatureScheme), err)
	}
	c.state.PeerSignatureScheme = ske.SignatureScheme
	if c.tracing() {
		c.note(trace.KindVerified, 3, "ServerKeyExchange", "signature_scheme", signature.Name(ske.SignatureScheme))
	}
	public, secret, err := kex.Respond(c.crypto(), ske.Group, ske.PublicKey, c.random())
	if err != nil {
		return nil, alert.Errorf(alert.IllegalParameter, 3, "ServerKeyExchange", "server's %s public key: %w", suites.GroupName(ske.Group), err)
	}
	c.state.Group = ske.Group
	c.c12.kexPublic, c.c12.preMaster = public, secret
	return (*Client).readCertificateRequestOrDone, nil
}

// readCertificateRequestOrDone: the server may ask for a client
// certificate, naming the authorities it accepts (step 3), before
// ServerHelloDone (step 4).
func (c *Client) readCertificateRequestOrDone(msg []byte) (clientState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(3, "CertificateRequest", "ServerHelloDone")
	}
	if len(msg) > 0 && wire.HandshakeType(msg[0]) == wire.TypeCertificateRequest {
		req := new(wire.CertificateRequest)
		if err := parse(req, msg, 3); err != nil {
			return nil, err
		}
		c.received(req, msg, 3)
		c.c12.certReq = req
		c.state.RequestedCAs = req.CertificateAuthorities
		return (*Client).readServerHelloDone, nil
	}
	if len(msg) == 0 || wire.HandshakeType(msg[0]) != wire.TypeServerHelloDone {
		return nil, unexpected(msg, 3, "CertificateRequest", "ServerHelloDone")
	}
	return c.readServerHelloDone(msg)
}

// readServerHelloDone is step 4, and the client answers with its whole
// second flight: steps 5, 6 and 7.
func (c *Client) readServerHelloDone(msg []byte) (clientState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(4, "ServerHelloDone")
	}
	done := new(wire.ServerHelloDone)
	if err := parse(done, msg, 4); err != nil {
		return nil, err
	}
	c.received(done, msg, 4)
	if err := c.verifyConnection(4, "ServerHelloDone"); err != nil {
		return nil, err
	}

	var clientCert *Certificate
	if c.c12.certReq != nil {
		var err error
		req := c.c12.certReq
		if clientCert, err = c.chooseClientCertificate(req.CertificateTypes, req.SignatureAlgorithms, req.CertificateAuthorities, false); err != nil {
			return nil, err
		}
		if err := c.send(certificateMessage12(clientCert, c.state.ClientCertType), 5); err != nil {
			return nil, err
		}
	}
	if err := c.sendClientKeyExchange(); err != nil {
		return nil, err
	}
	if clientCert != nil {
		if err := c.sendCertificateVerify12(clientCert); err != nil {
			return nil, err
		}
	}
	c.transcript.KeepBuffer(false)

	s := c.c12.suite
	cw, sw, err := c.deriveKeys12(s, c.c12.master, c.state.ClientRandom, c.state.ServerRandom)
	if err != nil {
		return nil, internalError(5, "ClientKeyExchange", err)
	}
	c.c12.clientWrite, c.c12.serverWrite = cw, sw
	if err := c.sendClientFinished12(); err != nil {
		return nil, err
	}
	return c.afterClientFlight12(), nil
}

// sendClientFinished12 is steps 6 and 7 from the client: ChangeCipherSpec,
// then Finished, the first protected message.
func (c *Client) sendClientFinished12() error {
	c.sendChangeCipherSpec()
	c.act(SetWriteCipher{Cipher: c.c12.clientWrite})
	verify := keys.Finished12(c.hash(c.c12.suite.Hash), c.c12.master, keys.LabelClientFinished, c.transcript.SumTemp())
	if err := c.send(&wire.Finished{VerifyData: verify}, 7); err != nil {
		return err
	}
	c.finished12(verify)
	return nil
}

// sendClientKeyExchange is the heart of step 5: the pre-master secret,
// encrypted to the server's RSA key (the note's flow) or agreed with ECDHE;
// then both randoms and the pre-master secret make the master secret.
func (c *Client) sendClientKeyExchange() error {
	s := c.c12.suite
	if s.KeyExchange == suites.KeyExchangeRSA {
		pub := c.c12.serverKey.(*rsa.PublicKey)
		pms, encrypted, err := kex.EncryptPreMasterSecret(c.random(), pub, c.hello.Version)
		if err != nil {
			return internalError(5, "ClientKeyExchange", err)
		}
		c.c12.preMaster = pms
		if err := c.send(&wire.ClientKeyExchangeRSA{EncryptedPreMasterSecret: encrypted}, 5); err != nil {
			return err
		}
	} else if err := c.send(&wire.ClientKeyExchangeECDHE{PublicKey: c.c12.kexPublic}, 5); err != nil {
		return err
	}
	c.c12.master = masterSecret12(&c.base, s, c.c12.preMaster)
	c.c12.preMaster = nil
	return nil
}

// masterSecret12 derives the master secret after ClientKeyExchange is in the
// transcript: with RFC 7627's session hash when both sides agreed to it. The
// pre-master secret (the RSA-encrypted one, or the ECDHE shared secret) has
// no other use, and is erased (RFC 5246 §8.1: "the pre_master_secret
// should be deleted from memory once the master_secret has been computed").
func masterSecret12(b *base, s *suites.Suite, preMaster []byte) []byte {
	defer clear(preMaster)
	var master []byte
	if b.state.ExtendedMaster {
		master = keys.ExtendedMasterSecret(b.hash(s.Hash), preMaster, b.transcript.SumTemp())
	} else {
		master = keys.MasterSecret(b.hash(s.Hash), preMaster, b.state.ClientRandom, b.state.ServerRandom)
	}
	b.state.MasterSecret = master
	b.logSecret("CLIENT_RANDOM", 5, master)
	return master
}

// chooseClientCertificate picks the first certificate that fits the
// request (ClientCertificateFits): a key type the server accepts, a key
// that fits a signature scheme it accepts and, when the server named
// authorities, a chain issued by one of them. No fit means an empty
// Certificate message, and the server decides.
func (c *base) chooseClientCertificate(certTypes []uint8, schemes []uint16, authorities [][]byte, tls13 bool) (*Certificate, error) {
	if c.outerOnly {
		return nil, nil // §6.1.7: "respond with an empty Certificate message"
	}
	if c.cfg.GetClientCertificate != nil {
		cert, err := c.cfg.GetClientCertificate(&CertificateRequestInfo{
			AcceptableCAs: authorities, SignatureSchemes: schemes, Version: c.state.Version,
			CertificateType: c.state.ClientCertType,
		})
		if err != nil {
			return nil, internalError(5, "Certificate", err)
		}
		if cert == nil || len(cert.entries()) == 0 {
			return nil, nil
		}
		if t := cert.certType(); t != c.state.ClientCertType {
			c.note(trace.KindNote, 5, "Certificate", "reason", fmt.Sprintf("the chosen certificate is %s, the server asked for %s (RFC 7250 §4.2); sending none",
				wire.CertificateTypeName(t), wire.CertificateTypeName(c.state.ClientCertType)))
			return nil, nil
		}
		if signer, ok := cert.PrivateKey.(crypto.Signer); ok && certTypes != nil && !certTypeAccepted(signer.Public(), certTypes) {
			// RFC 5246 §7.4.6: a certificate of a type the server did not
			// ask for is not sent; without one the Certificate is empty.
			c.note(trace.KindNote, 5, "Certificate", "reason", "the chosen certificate's key type is not in the server's certificate_types; sending none")
			return nil, nil
		}
		return cert, nil
	}
	var why reasons
	for _, cert := range c.cfg.Certificates {
		if t := cert.certType(); t != c.state.ClientCertType {
			why.add(cert, fmt.Errorf("it is %s, the server asked for %s (RFC 7250 §4.2)", wire.CertificateTypeName(t), wire.CertificateTypeName(c.state.ClientCertType)))
			continue
		}
		err := ClientCertificateFits(cert, certTypes, schemes, c.cfg.SignatureSchemes, authorities, tls13)
		if err == nil {
			return cert, nil
		}
		why.add(cert, err)
	}
	if err := why.err(c.cfg.Certificates); err != nil {
		// RFC 5246 §7.4.6, RFC 8446 §4.4.2: with no suitable certificate
		// the client sends none, and the server's policy decides.
		c.note(trace.KindNote, 5, "Certificate", "reason", "no certificate fits the request, sending none: "+err.Error())
	}
	return nil, nil
}

// sendCertificateVerify12 proves possession of the client key (step 5):
// a signature over every handshake message so far.
func (c *Client) sendCertificateVerify12(cert *Certificate) error {
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return internalError(5, "CertificateVerify", fmt.Errorf("client private key %T is not a crypto.Signer", cert.PrivateKey))
	}
	scheme, ok := signature.Choose(cert.signingSchemes(c.cfg.SignatureSchemes), c.c12.certReq.SignatureAlgorithms, signer.Public(), false)
	if !ok {
		return alert.Errorf(alert.HandshakeFailure, 5, "CertificateVerify",
			"no signature scheme the server accepts fits the client key (%s)%s", keyName(signer.Public()), cert.ownSchemes())
	}
	sig, err := signature.Sign(c.crypto(), signer, scheme, c.random(), c.transcript.Buffer())
	if err != nil {
		return internalError(5, "CertificateVerify", err)
	}
	return c.send(&wire.CertificateVerify{SignatureScheme: scheme, Signature: sig}, 5)
}

// readServerChangeCipherSpec is step 6 from the server: records are
// protected from here on.
func (c *Client) readServerChangeCipherSpec(msg []byte) (clientState, error) {
	if msg != nil {
		return nil, unexpected(msg, 6, "ChangeCipherSpec")
	}
	c.receivedChangeCipherSpec()
	c.act(SetReadCipher{Cipher: c.c12.serverWrite})
	return (*Client).readServerFinished, nil
}

// readServerFinished is step 7: the server proves it saw the same
// transcript; any tampering by a man in the middle shows here.
func (c *Client) readServerFinished(msg []byte) (clientState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(7, "Finished")
	}
	fin := new(wire.Finished)
	if err := parse(fin, msg, 7); err != nil {
		return nil, err
	}
	want := keys.Finished12(c.hash(c.c12.suite.Hash), c.c12.master, keys.LabelServerFinished, c.transcript.SumTemp())
	c.received(fin, msg, 7)
	if err := c.verifyFinished(fin, want, "server"); err != nil {
		return nil, err
	}
	c.echRejectedEnd()
	c.finished12(fin.VerifyData)
	if c.c12.resumed {
		// The application's last word on a resumed connection too: a
		// check it makes there (a pinned key, say) holds for every
		// connection, not only for full handshakes.
		if err := c.verifyConnection(7, "Finished"); err != nil {
			return nil, err
		}
		// In the abbreviated handshake the server finishes first (RFC 5246 Figure 2).
		if err := c.sendClientFinished12(); err != nil {
			return nil, err
		}
	}
	c.complete = true
	c.storeSession12()
	return nil, nil
}
