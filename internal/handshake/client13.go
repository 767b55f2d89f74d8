package handshake

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// client13 holds what the TLS 1.3 client learns on the way. Its states, in
// order (RFC 8446 §2, Figure 1; the course note's step each takes over in
// brackets):
//
//	[readHelloRetryRequest → send ClientHello again]         [2, 1]
//	readServerHello13: keys from the key shares               [2, 5]
//	→ readEncryptedExtensions                                 [2]
//	→ [readCertificateRequest13] → readServerCertificate13    [3]
//	→ readServerCertificateVerify13                           [3]
//	→ readServerFinished13                                    [7]
//	→ send [ChangeCipherSpec] [Certificate CertificateVerify] Finished  [6, 5, 7]
type client13 struct {
	secrets13
	sentCCS        bool        // the compatibility ChangeCipherSpec went out
	offers         []*pskOffer // the pre_shared_key identities offered (psk13.go)
	psk            *pskOffer   // the one the server selected, if any
	handshakeWrite record.Cipher
	certReq        *wire.CertificateRequest13
	serverKey      crypto.PublicKey
	early          *early13 // our 0-RTT attempt, if any (early13.go)
}

// addExtensions13 adds what a TLS 1.3 offer needs: the versions, key
// shares for our favourite groups, and the PSK modes.
func (c *Client) addExtensions13(h *wire.ClientHello) error {
	versions := wire.SupportedVersionsClient(c.versions())
	h.Extensions.Add(wire.ExtSupportedVersions, &versions)
	// The schemes we accept in certificate chains: the same list (RFC 8446
	// §4.2.3); x509 verification checks them.
	certSchemes := wire.SignatureAlgorithms(c.cfg.SignatureSchemes)
	h.Extensions.Add(wire.ExtSignatureAlgorithmsCert, &certSchemes)
	var shares wire.KeyShareClientHello
	for _, g := range initialShareGroups(c.cfg.Groups) {
		ks, err := kex.NewKeyShare(c.crypto(), g, c.random())
		if err != nil {
			return internalError(1, "ClientHello", err)
		}
		c.keyShares = append(c.keyShares, ks)
		shares = append(shares, wire.KeyShareEntry{Group: g, KeyExchange: ks.Public()})
	}
	h.Extensions.Add(wire.ExtKeyShare, &shares)
	modes := wire.PSKKeyExchangeModes{pskModeDHE}
	if c.cfg.PSKWithoutECDHE || slices.ContainsFunc(c.cfg.ExternalPSKs, func(p *ExternalPSK) bool { return p.WithoutECDHE }) {
		modes = append(modes, pskModePlain)
	}
	h.Extensions.Add(wire.ExtPSKKeyExchangeModes, &modes)
	if algs := c.certCompressionOffer(); len(algs) > 0 {
		h.Extensions.Add(wire.ExtCompressCertificate, algs)
	}
	if len(c.cfg.Certificates) > 0 || c.cfg.GetClientCertificate != nil {
		// A client with a certificate to show may be asked for it after
		// the handshake too (RFC 8446 §4.6.2).
		h.Extensions.AddEmpty(wire.ExtPostHandshakeAuth)
		c.state.PostHandshakeAuth = true
	}
	return nil
}

// PskKeyExchangeMode values (RFC 8446 §4.2.9).
const (
	pskModePlain = 0 // psk_ke
	pskModeDHE   = 1 // psk_dhe_ke
)

// initialShareGroups picks the groups the first ClientHello sends key
// shares for: the most preferred one, and if that is the post-quantum
// hybrid, also the most preferred classical group, so a server without
// ML-KEM needs no HelloRetryRequest.
func initialShareGroups(groups []uint16) []uint16 {
	var out []uint16
	for _, g := range groups {
		if !kex.Supported(g) {
			continue
		}
		out = append(out, g)
		if !suites.GroupTLS13Only(g) {
			break
		}
		if len(out) == 2 {
			break
		}
	}
	return out
}

// readHelloRetryRequest (step 2, retried): the server wants a key share
// for another group, or a cookie echoed. We answer with a second
// ClientHello once; RFC 8446 §4.1.4 forbids a second HelloRetryRequest.
func (c *Client) readHelloRetryRequest(hrr *wire.ServerHello, raw []byte) (clientState, error) {
	if c.state.HelloRetryRequest {
		return nil, alert.Errorf(alert.UnexpectedMessage, 2, "HelloRetryRequest", "a second HelloRetryRequest (RFC 8446 §4.1.4)")
	}
	c.state.HelloRetryRequest = true
	s, err := c.checkServerHello13(hrr, "HelloRetryRequest")
	if err != nil {
		return nil, err
	}
	if c.hello.Extensions.Has(wire.ExtEncryptedClientHello) {
		if err := c.echAfterHRR(hrr, s); err != nil {
			return nil, err
		}
	}
	c.c13.suite = s
	c.transcript.SetHash(c.hash(s.Hash))
	c.transcript.ReplaceWithMessageHash()
	c.received(hrr, raw, 2)
	c.noteECHDecision()

	for _, e := range hrr.Extensions {
		switch e.Type {
		case wire.ExtSupportedVersions, wire.ExtKeyShare, wire.ExtCookie:
		case wire.ExtEncryptedClientHello:
			if !c.hello.Extensions.Has(e.Type) {
				return nil, alert.Errorf(alert.UnsupportedExtension, 2, "HelloRetryRequest", "unexpected extension %s", e.Type)
			}
		default:
			return nil, alert.Errorf(alert.UnsupportedExtension, 2, "HelloRetryRequest", "unexpected extension %s", e.Type)
		}
	}
	hello := *c.hello
	// "Removing the early_data extension ... if one was present. Early
	// data is not permitted after a HelloRetryRequest" (RFC 8446 §4.1.2).
	hello.Extensions = removeExtension(append(wire.Extensions(nil), c.hello.Extensions...), wire.ExtEarlyData)
	changed := false
	var ks wire.KeyShareHelloRetryRequest
	if found, err := hrr.Extensions.DecodeWith(wire.ExtKeyShare, ks.Unmarshal); err != nil {
		return nil, alert.Errorf(alert.DecodeError, 2, "HelloRetryRequest", "key_share: %w", err)
	} else if found {
		g := ks.SelectedGroup
		if !contains(c.cfg.Groups, g) || !kex.Supported(g) {
			return nil, alert.Errorf(alert.IllegalParameter, 2, "HelloRetryRequest",
				"server asks for group %s, which this client does not support", suites.GroupName(g))
		}
		for _, k := range c.keyShares {
			if k.Group() == g {
				return nil, alert.Errorf(alert.IllegalParameter, 2, "HelloRetryRequest",
					"server asks for group %s, for which this client already sent a key share", suites.GroupName(g))
			}
		}
		share, err := kex.NewKeyShare(c.crypto(), g, c.random())
		if err != nil {
			return nil, internalError(1, "ClientHello", err)
		}
		c.keyShares = []kex.KeyShare{share}
		entries := wire.KeyShareClientHello{{Group: g, KeyExchange: share.Public()}}
		hello.Extensions = replaceExtension(hello.Extensions, wire.ExtKeyShare, &entries)
		changed = true
	}
	if cookie, found := hrr.Extensions.Find(wire.ExtCookie); found {
		var ck wire.Cookie
		if err := ck.Unmarshal(cookie); err != nil {
			return nil, alert.Errorf(alert.DecodeError, 2, "HelloRetryRequest", "cookie: %w", err)
		}
		// The cookie goes back in our second ClientHello, beside
		// everything else in its 2-byte extensions block: one the
		// limits policy does not allow is refused here, where it enters.
		if max := c.cfg.limits().Cookie; len(ck) > max {
			return nil, alert.Errorf(alert.IllegalParameter, 2, "HelloRetryRequest",
				"a cookie of %d bytes, more than the limit of %d", len(ck), max)
		}
		hello.Extensions = replaceExtension(hello.Extensions, wire.ExtCookie, &ck)
		changed = true
	}
	if !changed {
		return nil, alert.Errorf(alert.IllegalParameter, 2, "HelloRetryRequest", "the HelloRetryRequest would not change the ClientHello (RFC 8446 §4.1.4)")
	}
	// The PSK binder covers the new transcript: recompute it, or drop the
	// offer if the chosen suite's hash does not fit the session.
	hello.Extensions = removeExtension(hello.Extensions, wire.ExtPreSharedKey)
	if err := c.offerPSKs13(&hello, &c.transcript); err != nil {
		return nil, err
	}
	c.note(trace.KindNote, 2, "HelloRetryRequest", "selected_group", suites.GroupName(ks.SelectedGroup))
	c.hello = &hello
	c.sendCompatCCS13() // before the second flight (RFC 8446 Appendix D.4)
	if e := c.c13.early; e != nil {
		// The early data is lost; the second ClientHello goes in the clear.
		c.rejectEarlyData13("the server sent a HelloRetryRequest (RFC 8446 §4.1.2)")
		c.act(SetWriteCipher{Cipher: record.Plaintext(false)})
	}
	if c.ech != nil && c.ech.state == echAccepted {
		outer, err := c.sealOuter(&hello, false)
		if err != nil {
			return nil, err
		}
		err = c.sendHelloECH(&hello, outer, false)
	} else {
		err = c.send(&hello, 1)
	}
	if err != nil {
		return nil, err
	}
	return (*Client).readServerHello, nil
}

func removeExtension(exts wire.Extensions, t wire.ExtensionType) wire.Extensions {
	out := exts[:0]
	for _, e := range exts {
		if e.Type != t {
			out = append(out, e)
		}
	}
	return out
}

// replaceExtension puts v in place of the extension of type t, or adds it
// before a pre_shared_key (which must stay last).
func replaceExtension(exts wire.Extensions, t wire.ExtensionType, v wire.ExtensionMarshaler) wire.Extensions {
	var one wire.Extensions
	one.Add(t, v)
	for i := range exts {
		if exts[i].Type == t {
			exts[i] = one[0]
			return exts
		}
	}
	n := len(exts)
	if n > 0 && exts[n-1].Type == wire.ExtPreSharedKey {
		return append(exts[:n-1], one[0], exts[n-1])
	}
	return append(exts, one[0])
}

// checkServerHello13 checks what ServerHello and HelloRetryRequest share: a
// TLS 1.3 suite we offered (the same one twice), our session ID echoed.
func (c *Client) checkServerHello13(sh *wire.ServerHello, name string) (*suites.Suite, error) {
	s := suites.Lookup(sh.CipherSuite)
	if s == nil || s.Version != suites.VersionTLS13 || !contains(c.hello.CipherSuites, sh.CipherSuite) {
		return nil, alert.Errorf(alert.IllegalParameter, 2, name, "server chose %s, which this client did not offer for TLS 1.3", suites.Name(sh.CipherSuite))
	}
	if c.c13.suite != nil && c.c13.suite != s {
		return nil, alert.Errorf(alert.IllegalParameter, 2, name, "the ServerHello suite %s differs from the HelloRetryRequest's %s", s.Name, c.c13.suite.Name)
	}
	if string(sh.SessionID) != string(c.hello.SessionID) {
		return nil, alert.Errorf(alert.IllegalParameter, 2, name, "legacy_session_id_echo does not echo our session ID")
	}
	return s, nil
}

// readServerHello13 is step 2 for TLS 1.3, and already the note's step 5:
// the key shares give both sides the handshake keys.
func (c *Client) readServerHello13(sh *wire.ServerHello, raw []byte) (clientState, error) {
	s, err := c.checkServerHello13(sh, "ServerHello")
	if err != nil {
		return nil, err
	}
	if err := c.echAfterServerHello(sh, s); err != nil {
		return nil, err
	}
	for _, e := range sh.Extensions {
		switch e.Type {
		case wire.ExtSupportedVersions, wire.ExtKeyShare:
		case wire.ExtPreSharedKey:
			if err := c.acceptedPSK13(sh, s); err != nil {
				return nil, err
			}
		default:
			return nil, alert.Errorf(alert.UnsupportedExtension, 2, "ServerHello", "unexpected extension %s in a TLS 1.3 ServerHello", e.Type)
		}
	}
	secret, group, err := c.serverKeyShare13(sh)
	if err != nil {
		return nil, err
	}
	c.keyShares = nil
	c.c13.suite = s
	c.state.CipherSuite = s.ID
	c.state.Group = group
	c.state.ServerRandom = sh.Random[:]
	c.state.ServerName = c.cfg.ServerName
	c.transcript.SetHash(c.hash(s.Hash))
	c.transcript.KeepBuffer(false)
	c.received(sh, raw, 2)
	c.noteECHDecision()

	if err := c.takePSK13(s); err != nil {
		return nil, err
	}
	write, read, err := c.handshakeSecrets13(&c.c13.secrets13, secret)
	if err != nil {
		return nil, internalError(2, "ServerHello", err)
	}
	// Our writes switch to the handshake key now, not at our Finished: an
	// alert about the server's flight must go encrypted (RFC 8446 §A.1).
	c.act(SetReadCipher{Cipher: read})
	c.act(c.earlyDataAfterServerHello13(write)...)
	return (*Client).readEncryptedExtensions, nil
}

// serverKeyShare13 computes the (EC)DHE secret from the server's share. No
// share is only right with a PSK in psk_ke mode, which we must have
// allowed for it; then the secret is nil (zeros in the key schedule).
func (c *Client) serverKeyShare13(sh *wire.ServerHello) ([]byte, uint16, error) {
	var share wire.KeyShareServerHello
	found, err := sh.Extensions.DecodeWith(wire.ExtKeyShare, share.Unmarshal)
	if err != nil {
		return nil, 0, alert.Errorf(alert.DecodeError, 2, "ServerHello", "key_share: %w", err)
	}
	if !found {
		switch {
		case c.c13.psk != nil && c.c13.psk.plainOK:
			return nil, 0, nil
		case c.c13.psk != nil:
			// RFC 8446 §4.2.11: the client MUST verify "that a server
			// "key_share" extension is present if required by the
			// ClientHello "psk_key_exchange_modes" extension", else abort
			// with illegal_parameter.
			return nil, 0, alert.Errorf(alert.IllegalParameter, 2, "ServerHello", "no key_share with a PSK, and this client did not agree to psk_ke for it")
		}
		return nil, 0, alert.Errorf(alert.MissingExtension, 2, "ServerHello", "no key_share, and this client did not agree to psk_ke")
	}
	for _, k := range c.keyShares {
		if k.Group() == share.Group {
			secret, err := k.SharedSecret(share.KeyExchange)
			if err != nil {
				return nil, 0, alert.Errorf(alert.IllegalParameter, 2, "ServerHello", "server's %s key share: %w", suites.GroupName(share.Group), err)
			}
			return secret, share.Group, nil
		}
	}
	return nil, 0, alert.Errorf(alert.IllegalParameter, 2, "ServerHello", "server's key share is for %s, for which this client sent none", suites.GroupName(share.Group))
}

// readEncryptedExtensions (step 2): the rest of the server's answers, now encrypted.
func (c *Client) readEncryptedExtensions(msg []byte) (clientState, error) {
	ee := new(wire.EncryptedExtensions)
	if err := parse(ee, msg, 2); err != nil {
		return nil, err
	}
	c.received(ee, msg, 2)
	for _, e := range ee.Extensions {
		switch e.Type {
		case wire.ExtServerName, wire.ExtALPN, wire.ExtSupportedGroups:
			// Answers only to what we asked (RFC 8446 §4.2).
			if !c.hello.Extensions.Has(e.Type) {
				return nil, alert.Errorf(alert.UnsupportedExtension, 2, "EncryptedExtensions", "server sent %s, which this client did not offer", e.Type)
			}
		case wire.ExtKeyShare, wire.ExtSupportedVersions, wire.ExtPreSharedKey, wire.ExtSignatureAlgorithms,
			wire.ExtPSKKeyExchangeModes, wire.ExtCookie, wire.ExtExtendedMasterSecret, wire.ExtRenegotiationInfo,
			wire.ExtECPointFormats, wire.ExtSessionTicket:
			return nil, alert.Errorf(alert.IllegalParameter, 2, "EncryptedExtensions", "%s does not belong in EncryptedExtensions", e.Type)
		default:
			if !c.hello.Extensions.Has(e.Type) {
				return nil, alert.Errorf(alert.UnsupportedExtension, 2, "EncryptedExtensions", "server sent %s, which this client did not offer", e.Type)
			}
		}
	}
	if _, err := ee.Extensions.Empty(wire.ExtServerName); err != nil {
		// RFC 6066 §3: the server's server_name "SHALL be empty".
		return nil, alert.Errorf(alert.DecodeError, 2, "EncryptedExtensions", "server_name: %w", err)
	}
	if err := c.checkALPN(ee.Extensions, 2, "EncryptedExtensions"); err != nil {
		return nil, err
	}
	if err := c.echRetryConfigs(ee); err != nil {
		return nil, err
	}
	if err := c.readCertTypes(ee.Extensions, "EncryptedExtensions", 2); err != nil {
		return nil, err
	}
	switchKeys, err := c.earlyDataInEncryptedExtensions13(ee)
	if err != nil {
		return nil, err
	}
	c.act(switchKeys...)
	limits, err := c.clientRecordLimits(suites.VersionTLS13, ee.Extensions, "EncryptedExtensions")
	if err != nil {
		return nil, err
	}
	if limits != nil {
		c.act(*limits)
	}
	if c.c13.psk != nil {
		return (*Client).readServerFinished13, nil // the PSK authenticates the server
	}
	return (*Client).readCertificateRequestOrCertificate13, nil
}

// readCertificateRequestOrCertificate13 (step 3): the server may ask for a
// client certificate, naming the authorities it accepts.
func (c *Client) readCertificateRequestOrCertificate13(msg []byte) (clientState, error) {
	if len(msg) == 0 || wire.HandshakeType(msg[0]) != wire.TypeCertificateRequest {
		return c.readServerCertificate13(msg)
	}
	req := new(wire.CertificateRequest13)
	if err := parse(req, msg, 3); err != nil {
		return nil, err
	}
	c.received(req, msg, 3)
	if len(req.Context) != 0 {
		return nil, alert.Errorf(alert.IllegalParameter, 3, "CertificateRequest", "certificate_request_context must be empty in the handshake")
	}
	if !req.Extensions.Has(wire.ExtSignatureAlgorithms) {
		return nil, alert.Errorf(alert.MissingExtension, 3, "CertificateRequest", "no signature_algorithms (RFC 8446 §4.3.2)")
	}
	c.c13.certReq = req
	var cas wire.CertificateAuthorities
	if _, err := req.Extensions.DecodeWith(wire.ExtCertificateAuthorities, cas.Unmarshal); err != nil {
		return nil, alert.Errorf(alert.DecodeError, 3, "CertificateRequest", "certificate_authorities: %w", err)
	}
	c.state.RequestedCAs = cas
	return (*Client).readServerCertificate13, nil
}

// readServerCertificate13 (step 3): the server's chain, checked at once.
func (c *Client) readServerCertificate13(msg []byte) (clientState, error) {
	if err := c.checkServerCertType(3); err != nil {
		return nil, err
	}
	cert, err := c.readCertificateMessage13(msg, c.hello.Extensions.Has(wire.ExtCompressCertificate), c.state.ServerCertType, 3)
	if err != nil {
		return nil, err
	}
	if len(cert.Context) != 0 {
		return nil, alert.Errorf(alert.IllegalParameter, 3, "Certificate", "certificate_request_context must be empty")
	}
	if len(cert.Entries) == 0 {
		return nil, alert.Errorf(alert.DecodeError, 3, "Certificate", "the server sent an empty certificate chain")
	}
	if err := c.checkEntryExtensions(cert, c.hello.Extensions, 3); err != nil {
		return nil, err
	}
	if err := c.readLeafStatus13(cert); err != nil {
		return nil, err
	}
	key, err := c.acceptPeerCertificate(chainOf(cert), c.state.ServerCertType, 3, "server certificate", x509.KeyUsageDigitalSignature)
	if err != nil {
		return nil, err
	}
	c.c13.serverKey = key
	if c.state.ServerCertType == certTypeRPK {
		// A raw key has no certificate for an OCSP response to be about.
		c.authenticatedAt = c.cfg.now()
		return (*Client).readServerCertificateVerify13, nil
	}
	if err := c.checkStaple(3, "Certificate"); err != nil {
		return nil, err
	}
	c.authenticatedAt, c.verifiedUnder = c.cfg.now(), c.chainTrust()
	return (*Client).readServerCertificateVerify13, nil
}

func chainOf(cert *wire.Certificate13) [][]byte {
	chain := make([][]byte, len(cert.Entries))
	for i, e := range cert.Entries {
		chain[i] = e.Data
	}
	return chain
}

// readServerCertificateVerify13 (step 3): the server proves it holds the
// certificate's key by signing the transcript.
func (c *Client) readServerCertificateVerify13(msg []byte) (clientState, error) {
	if err := c.readCertificateVerify13(msg, c.c13.serverKey, c.cfg.SignatureSchemes, signature.ContextServer, 3); err != nil {
		return nil, err
	}
	return (*Client).readServerFinished13, nil
}

// readCertificateVerify13 reads the peer's CertificateVerify and checks it
// over the transcript before it.
func (b *base) readCertificateVerify13(msg []byte, pub crypto.PublicKey, offered []uint16, context string, step int) error {
	cv := new(wire.CertificateVerify)
	if err := parse(cv, msg, step); err != nil {
		return err
	}
	th := b.transcript.SumTemp()
	b.received(cv, msg, step)
	if err := b.verify13(pub, offered, cv, context, th, step); err != nil {
		return err
	}
	b.state.PeerSignatureScheme = cv.SignatureScheme
	if b.tracing() {
		b.note(trace.KindVerified, step, "CertificateVerify", "signature_scheme", signature.Name(cv.SignatureScheme))
	}
	return nil
}

// verify13 checks a TLS 1.3 CertificateVerify: a scheme we offered that
// fits the key (no PKCS #1 v1.5), and a signature over the context string
// and transcript hash (RFC 8446 §4.4.3).
func (b *base) verify13(pub crypto.PublicKey, offered []uint16, cv *wire.CertificateVerify, context string, th []byte, step int) error {
	if !contains(offered, cv.SignatureScheme) || !signature.Accepts(pub, cv.SignatureScheme, true) {
		return alert.Errorf(alert.IllegalParameter, step, "CertificateVerify",
			"peer signed with %s, which was not offered or does not fit its %s key", signature.Name(cv.SignatureScheme), keyName(pub))
	}
	if err := signature.Verify(b.crypto(), pub, cv.SignatureScheme, signature.SignedContent13(context, th), cv.Signature); err != nil {
		return alert.Errorf(alert.DecryptError, step, "CertificateVerify",
			"the signature (%s) over the transcript does not verify with the certificate's key: %w", signature.Name(cv.SignatureScheme), err)
	}
	return nil
}

// readServerFinished13 is step 7 from the server; the client answers with
// its own flight and both switch to the application traffic keys.
func (c *Client) readServerFinished13(msg []byte) (clientState, error) {
	fin := new(wire.Finished)
	if err := parse(fin, msg, 7); err != nil {
		return nil, err
	}
	s := c.c13.suite
	want := keys.FinishedMAC(c.hash(s.Hash), c.c13.serverFinishedKey, c.transcript.SumTemp())
	c.received(fin, msg, 7)
	if err := c.verifyFinished(fin, want, "server"); err != nil {
		return nil, err
	}
	c.echRejectedEnd()

	app, err := c.applicationSecrets13(&c.c13.secrets13)
	if err != nil {
		return nil, internalError(7, "Finished", err)
	}
	if err := c.verifyConnection(7, "Finished"); err != nil {
		return nil, err
	}

	if err := c.sendEndOfEarlyData13(); err != nil {
		return nil, err
	}
	c.sendCompatCCS13()
	if c.c13.certReq != nil {
		if err := c.sendClientCertificate13(); err != nil {
			return nil, err
		}
	}
	verify := keys.FinishedMAC(c.hash(s.Hash), c.c13.clientFinishedKey, c.transcript.SumTemp())
	if err := c.send(&wire.Finished{VerifyData: verify}, 7); err != nil {
		return nil, err
	}
	if c.keepsTickets() {
		c.c13.resumption = c.c13.schedule.ResumptionMasterSecret(c.transcript.SumTemp())
	}
	c.act(SetReadCipher{Cipher: app.server}, SetWriteCipher{Cipher: app.client})
	c.complete = true
	c.keepForPostHandshakeAuth()
	return nil, nil
}

// sendClientCertificate13 answers a CertificateRequest: a chain that fits
// (or an empty one) and, with a chain, a CertificateVerify.
func (c *Client) sendClientCertificate13() error {
	req := c.c13.certReq
	var schemes wire.SignatureAlgorithms
	if _, err := req.Extensions.DecodeWith(wire.ExtSignatureAlgorithms, schemes.Unmarshal); err != nil {
		return alert.Errorf(alert.DecodeError, 5, "CertificateRequest", "signature_algorithms: %w", err)
	}
	var cas wire.CertificateAuthorities
	if _, err := req.Extensions.DecodeWith(wire.ExtCertificateAuthorities, cas.Unmarshal); err != nil {
		return alert.Errorf(alert.DecodeError, 5, "CertificateRequest", "certificate_authorities: %w", err)
	}
	cert, err := c.chooseClientCertificate(nil, schemes, cas, true)
	if err != nil {
		return err
	}
	if cert == nil {
		return c.send(&wire.Certificate13{}, 5)
	}
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return internalError(5, "CertificateVerify", fmt.Errorf("client private key %T is not a crypto.Signer", cert.PrivateKey))
	}
	scheme, ok := signature.Choose(cert.signingSchemes(c.cfg.SignatureSchemes), schemes, signer.Public(), true)
	if !ok {
		return alert.Errorf(alert.HandshakeFailure, 5, "CertificateVerify", "no signature scheme the server accepts fits the client key (%s)%s",
			keyName(signer.Public()), cert.ownSchemes())
	}
	peerAlgs, err := peerCertCompression(req.Extensions, 5, "CertificateRequest")
	if err != nil {
		return err
	}
	return c.sendCertificate13(nil, cert, nil, signer, scheme, signature.ContextClient, c.compressionFor(peerAlgs), 5)
}

// sendCertificate13 sends cert (its chain, or its raw public key as the
// one entry, RFC 8446 §4.4.2) and the CertificateVerify that proves this
// side holds its key: a signature over the context string and the
// transcript so far (RFC 8446 §4.4.2, §4.4.3). leafExts go in the leaf's
// entry (a server's staple and timestamps); requestContext echoes a
// post-handshake CertificateRequest's (empty in the handshake); compress,
// if not zero, is the RFC 8879 algorithm the peer accepts.
func (b *base) sendCertificate13(requestContext []byte, cert *Certificate, leafExts wire.Extensions, signer crypto.Signer, scheme uint16, context string, compress uint16, step int) error {
	msg := &wire.Certificate13{Context: requestContext, CertificateType: cert.certType()}
	for i, der := range cert.entries() {
		e := wire.CertificateEntry{Data: der}
		if i == 0 {
			e.Extensions = leafExts
		}
		msg.Entries = append(msg.Entries, e)
	}
	if err := b.sendCertificateMessage13(msg, compress, step); err != nil {
		return err
	}
	sig, err := signature.Sign(b.crypto(), signer, scheme, b.random(), signature.SignedContent13(context, b.transcript.SumTemp()))
	if err != nil {
		return internalError(step, "CertificateVerify", err)
	}
	return b.send(&wire.CertificateVerify{SignatureScheme: scheme, Signature: sig}, step)
}

// sendCompatCCS13 sends the middlebox-compatibility ChangeCipherSpec once,
// before our second flight — a second ClientHello, our Finished, or an
// alert, whichever comes first (RFC 8446 Appendix D.4). It goes out
// unprotected even when our keys have already changed.
func (c *Client) sendCompatCCS13() {
	if c.c13.sentCCS || c.hello == nil || len(c.hello.SessionID) == 0 {
		return
	}
	c.c13.sentCCS = true
	c.sendChangeCipherSpec()
}
