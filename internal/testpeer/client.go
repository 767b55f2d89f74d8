package testpeer

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Session12 is a TLS 1.2 session a client can offer again.
type Session12 struct {
	Suite     uint16
	Master    []byte
	EMS       bool
	Ticket    []byte // offered in session_ticket when set
	SessionID []byte // offered as legacy_session_id otherwise
}

// Session12 returns the session the last TLS 1.2 handshake made: its
// ticket if the server issued one, else the server's session ID.
func (p *Peer) Session12() *Session12 {
	s := &Session12{Suite: p.Suite.ID, Master: p.k12.master, EMS: p.ExtendedMaster}
	if p.Ticket12 != nil && len(p.Ticket12.Ticket) > 0 {
		s.Ticket = p.Ticket12.Ticket
	} else if p.ServerHello != nil {
		s.SessionID = p.ServerHello.SessionID
	}
	return s
}

// tls12Suites are the TLS 1.2 suites a client offers by default.
var tls12Suites = []uint16{
	suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, suites.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	suites.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, suites.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	suites.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, suites.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

var tls13Suites = []uint16{suites.TLS_AES_128_GCM_SHA256, suites.TLS_AES_256_GCM_SHA384, suites.TLS_CHACHA20_POLY1305_SHA256}

var defaultGroups = []uint16{kex.X25519, kex.P256, kex.P384}

// rawExtension is extension data already encoded.
type rawExtension []byte

func (r rawExtension) Marshal() ([]byte, error) { return r, nil }

// clientHello builds the ClientHello an honest client of the given
// version would send with these options.
func clientHello(o *ClientOptions, tls13 bool) (*wire.ClientHello, map[uint16]kex.KeyShare, error) {
	ch := &wire.ClientHello{Version: VersionTLS12, CompressionMethods: []uint8{0}, CipherSuites: o.CipherSuites}
	copy(ch.Random[:], Random(32))
	if ch.CipherSuites == nil {
		ch.CipherSuites = tls12Suites
		if tls13 {
			ch.CipherSuites = tls13Suites
		}
	}
	groups := o.Groups
	if groups == nil {
		groups = defaultGroups
	}
	schemes := o.SignatureSchemes
	if schemes == nil {
		schemes = signature.Default
	}
	if o.ServerName != "" {
		ch.Extensions.Add(wire.ExtServerName, wire.ServerName{HostName: o.ServerName})
	}
	ch.Extensions.Add(wire.ExtSupportedGroups, wire.SupportedGroups(groups))
	ch.Extensions.Add(wire.ExtSignatureAlgorithms, wire.SignatureAlgorithms(schemes))
	shares := map[uint16]kex.KeyShare{}
	if !tls13 {
		ch.Extensions.Add(wire.ExtECPointFormats, wire.ECPointFormats{0})
		if !o.NoExtendedMasterSecret {
			ch.Extensions.AddEmpty(wire.ExtExtendedMasterSecret)
		}
		ch.Extensions.Add(wire.ExtRenegotiationInfo, wire.RenegotiationInfo{})
		switch r := o.Resume12; {
		case r != nil && len(r.Ticket) > 0:
			ch.SessionID = Random(32) // RFC 5077 §3.4: the echo tells a resumption
			ch.Extensions.Add(wire.ExtSessionTicket, rawExtension(r.Ticket))
		case r != nil:
			ch.SessionID = r.SessionID
			fallthrough
		default:
			if !o.NoTicketRequest {
				ch.Extensions.AddEmpty(wire.ExtSessionTicket)
			}
		}
		return ch, shares, nil
	}
	ch.SessionID = Random(32) // middlebox compatibility (RFC 8446 Appendix D.4)
	ch.Extensions.Add(wire.ExtSupportedVersions, wire.SupportedVersionsClient{VersionTLS13})
	shareGroups := o.KeyShares
	if shareGroups == nil {
		shareGroups = groups[:1]
	}
	var entries wire.KeyShareClientHello
	for _, g := range shareGroups {
		ks, err := kex.NewKeyShare(nil, g, nil)
		if err != nil {
			return nil, nil, err
		}
		shares[g] = ks
		entries = append(entries, wire.KeyShareEntry{Group: g, KeyExchange: ks.Public()})
	}
	ch.Extensions.Add(wire.ExtKeyShare, entries)
	ch.Extensions.Add(wire.ExtPSKKeyExchangeModes, wire.PSKKeyExchangeModes{1}) // psk_dhe_ke
	return ch, shares, nil
}

// ClientHandshake12 runs a TLS 1.2 client handshake (RFC 5246 §7.3): full,
// or abbreviated when Resume12 is offered and the server echoes the
// session ID. It returns the first thing that stops it: an alert (an
// *AlertError), a message it cannot use, or an I/O error.
func (p *Peer) ClientHandshake12(o *ClientOptions) error {
	if o == nil {
		o = &ClientOptions{}
	}
	ch, _, err := clientHello(o, false)
	if err != nil {
		return err
	}
	p.ClientHello, p.ClientRandom = ch, ch.Random[:]
	if err := p.sendScripted(&o.Script, ch); err != nil {
		return err
	}
	sh := new(wire.ServerHello)
	if err := p.Expect(sh); err != nil {
		return err
	}
	p.ServerHello, p.ServerRandom, p.Version = sh, sh.Random[:], VersionTLS12
	if err := p.SetSuite(sh.CipherSuite); err != nil {
		return err
	}
	p.ExtendedMaster = sh.Extensions.Has(wire.ExtExtendedMasterSecret)
	ticketPromised := sh.Extensions.Has(wire.ExtSessionTicket)
	if r := o.Resume12; r != nil && len(sh.SessionID) > 0 && bytes.Equal(sh.SessionID, ch.SessionID) {
		return p.clientResume12(o, r, ticketPromised)
	}

	cert := new(wire.Certificate)
	if err := p.Expect(cert); err != nil {
		return err
	}
	p.PeerCertificates = cert.Chain
	var ske *wire.ServerKeyExchange
	if p.Suite.KeyExchange != suites.KeyExchangeRSA {
		ske = new(wire.ServerKeyExchange)
		if err := p.Expect(ske); err != nil {
			return err
		}
	}
	msg, err := p.Next()
	if err != nil {
		return err
	}
	var req *wire.CertificateRequest
	if msg.Type == wire.TypeCertificateRequest {
		req = new(wire.CertificateRequest)
		if err := req.Unmarshal(msg.Raw); err != nil {
			return err
		}
		p.CertRequested = true
		if msg, err = p.Next(); err != nil {
			return err
		}
	}
	if msg.Type != wire.TypeServerHelloDone {
		return &UnexpectedError{Want: "ServerHelloDone", Got: msg.Type.String()}
	}

	if req != nil {
		if err := p.sendScripted(&o.Script, &wire.Certificate{Chain: o.Chain}); err != nil {
			return err
		}
	}
	var preMaster []byte
	if ske == nil {
		pub, ok := leafKey(p.PeerCertificates).(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("testpeer: the RSA key exchange needs an RSA server certificate")
		}
		pms, encrypted, err := kex.EncryptPreMasterSecret(nil, pub, ch.Version)
		if err != nil {
			return err
		}
		preMaster = pms
		if err := p.sendScripted(&o.Script, &wire.ClientKeyExchangeRSA{EncryptedPreMasterSecret: encrypted}); err != nil {
			return err
		}
	} else {
		public, secret, err := kex.Respond(nil, ske.Group, ske.PublicKey, nil)
		if err != nil {
			return err
		}
		preMaster = secret
		if err := p.sendScripted(&o.Script, &wire.ClientKeyExchangeECDHE{PublicKey: public}); err != nil {
			return err
		}
	}
	if err := p.MasterSecret12(preMaster, p.ExtendedMaster); err != nil {
		return err
	}
	if req != nil && len(o.Chain) > 0 {
		// Without a Signer the signature is random bytes (a key the peer
		// cannot hold); Script.Skip leaves the message out altogether.
		cv := &wire.CertificateVerify{}
		cv.SignatureScheme, cv.Signature = p.sign(o.Signer, o.Chain, req.SignatureAlgorithms, false, p.Transcript.Buffer())
		if err := p.sendScripted(&o.Script, cv); err != nil {
			return err
		}
	}
	if err := p.ChangeCipherSpec12(); err != nil {
		return err
	}
	if err := p.sendScripted(&o.Script, &wire.Finished{VerifyData: p.Finished12(true)}); err != nil {
		return err
	}
	if ticketPromised {
		p.Ticket12 = new(wire.NewSessionTicket)
		if err := p.Expect(p.Ticket12); err != nil {
			return err
		}
	}
	if err := p.ExpectChangeCipherSpec12(); err != nil {
		return err
	}
	if err := p.ExpectFinished12(); err != nil {
		return err
	}
	p.Complete = true
	return nil
}

// clientResume12 is the abbreviated handshake (RFC 5246 §7.3, Figure 2):
// the server finishes first.
func (p *Peer) clientResume12(o *ClientOptions, r *Session12, ticketPromised bool) error {
	p.DidResume = true
	if err := p.UseMaster12(r.Master); err != nil {
		return err
	}
	if ticketPromised {
		p.Ticket12 = new(wire.NewSessionTicket)
		if err := p.Expect(p.Ticket12); err != nil {
			return err
		}
	}
	if err := p.ExpectChangeCipherSpec12(); err != nil {
		return err
	}
	if err := p.ExpectFinished12(); err != nil {
		return err
	}
	if err := p.ChangeCipherSpec12(); err != nil {
		return err
	}
	if err := p.sendScripted(&o.Script, &wire.Finished{VerifyData: p.Finished12(true)}); err != nil {
		return err
	}
	p.Complete = true
	return nil
}

// chooseScheme picks the scheme to sign with: our most preferred one that
// the other side accepts and pub fits; failing that, the other side's
// first, so that a hostile script still gets something to send.
func chooseScheme(pub crypto.PublicKey, peer []uint16, tls13 bool) uint16 {
	if s, ok := signature.Choose(signature.Default, peer, pub, tls13); ok {
		return s
	}
	if len(peer) > 0 {
		return peer[0]
	}
	return signature.ECDSASecp256r1SHA256
}

// ClientHandshake13 runs a TLS 1.3 client handshake (RFC 8446 §2): a
// full one, or a PSK resumption when PSK is offered and accepted, after
// at most one HelloRetryRequest. It ends with the client's Finished sent
// and the application keys in place; whatever the server does next (a
// NewSessionTicket, an alert about the client's certificate) is for the
// script to read.
func (p *Peer) ClientHandshake13(o *ClientOptions) error {
	if o == nil {
		o = &ClientOptions{}
	}
	ch, shares, err := clientHello(o, true)
	if err != nil {
		return err
	}
	o.Script.mutate(ch)
	if len(o.EarlyData) > 0 {
		SetExtension(ch, wire.ExtEarlyData, wire.EarlyDataIndication{})
	}
	if err := p.bindPSK(ch, append([]*PSK{o.PSK, o.AlsoPSK}, o.ManyPSKs...)...); err != nil {
		return err
	}
	p.ClientHello, p.ClientRandom = ch, ch.Random[:]
	if err := p.emit(&o.Script, ch); err != nil {
		return err
	}
	early, err := p.sendEarlyData13(o, ch)
	if err != nil {
		return err
	}
	msg, err := p.next(false)
	if err != nil {
		return err
	}
	sh := new(wire.ServerHello)
	if msg.Type != wire.TypeServerHello {
		return &UnexpectedError{Want: "ServerHello", Got: msg.Type.String()}
	}
	if err := sh.Unmarshal(msg.Raw); err != nil {
		return err
	}
	p.Version = VersionTLS13
	if sh.IsHelloRetryRequest() {
		if shares, err = p.retry13(o, sh, msg.Raw); err != nil {
			return err
		}
		sh = new(wire.ServerHello)
		if err := p.Expect(sh); err != nil {
			return err
		}
	} else {
		if err := p.SetSuite(sh.CipherSuite); err != nil {
			return err
		}
		p.Transcript.Write(msg.Raw)
	}
	p.ServerHello, p.ServerRandom = sh, sh.Random[:]
	if p.Suite.ID != sh.CipherSuite {
		return fmt.Errorf("testpeer: the ServerHello's suite %#04x differs from the HelloRetryRequest's", sh.CipherSuite)
	}
	var shared []byte
	var ks wire.KeyShareServerHello
	if found, err := sh.Extensions.Decode(wire.ExtKeyShare, &ks); err != nil {
		return err
	} else if found {
		mine, ok := shares[ks.Group]
		if !ok {
			return fmt.Errorf("testpeer: the server's key share is for group %#04x, for which none was sent", ks.Group)
		}
		if shared, err = mine.SharedSecret(ks.KeyExchange); err != nil {
			return err
		}
	}
	var psk []byte
	offered := o.PSK
	if p.HelloRetry != nil && o.SecondPSK != nil {
		offered = o.SecondPSK
	}
	if sh.Extensions.Has(wire.ExtPreSharedKey) && offered != nil {
		p.DidResume, psk = true, offered.Secret
	}
	p.StartSchedule13(psk)
	if err := p.HandshakeKeys13(shared); err != nil {
		return err
	}
	ee := new(wire.EncryptedExtensions)
	if err := p.Expect(ee); err != nil {
		return err
	}
	p.EarlyDataAccepted = ee.Extensions.Has(wire.ExtEarlyData)
	p.EncryptedExtensions = ee
	var req *wire.CertificateRequest13
	if !p.DidResume {
		msg, err := p.Next()
		if err != nil {
			return err
		}
		if msg.Type == wire.TypeCertificateRequest {
			req = new(wire.CertificateRequest13)
			if err := req.Unmarshal(msg.Raw); err != nil {
				return err
			}
			p.CertRequested = true
			if msg, err = p.Next(); err != nil {
				return err
			}
		}
		cert := new(wire.Certificate13)
		if msg.Type != wire.TypeCertificate {
			return &UnexpectedError{Want: "Certificate", Got: msg.Type.String()}
		}
		if err := cert.Unmarshal(msg.Raw); err != nil {
			return err
		}
		p.PeerCertificates = chainOf(cert)
		if err := p.Expect(new(wire.CertificateVerify)); err != nil {
			return err
		}
	}
	if err := p.ExpectFinished13(); err != nil {
		return err
	}
	p.AppSecrets13()
	// The server writes under its application key from its Finished on:
	// an alert about our second flight comes under it (RFC 8446 §7.1).
	if err := p.InstallReadApp13(); err != nil {
		return err
	}
	if p.EarlyDataAccepted && early != nil {
		handshakeKey := p.write
		p.write = early
		if err := p.sendScripted(&o.Script, &wire.EndOfEarlyData{}); err != nil {
			return err
		}
		p.write = handshakeKey
	}
	if req != nil {
		var schemes wire.SignatureAlgorithms
		if _, err := req.Extensions.Decode(wire.ExtSignatureAlgorithms, &schemes); err != nil {
			return err
		}
		if err := p.sendCertificate13(&o.Script, o.Chain, o.Signer, schemes, signature.ContextClient); err != nil {
			return err
		}
	}
	if err := p.sendScripted(&o.Script, &wire.Finished{VerifyData: p.Finished13(true)}); err != nil {
		return err
	}
	p.ResumptionSecret13()
	if err := p.InstallWriteApp13(); err != nil {
		return err
	}
	p.Complete = true
	return nil
}

// sendEarlyData13 sends o.EarlyData after the ClientHello ch, each a
// record under the client_early_traffic_secret of o.PSK with the suite
// o.EarlySuite, and returns that protection (nil without early data).
func (p *Peer) sendEarlyData13(o *ClientOptions, ch *wire.ClientHello) (record.Cipher, error) {
	if len(o.EarlyData) == 0 {
		return nil, nil
	}
	if o.PSK == nil {
		return nil, fmt.Errorf("testpeer: early data needs a PSK")
	}
	raw, err := ch.Marshal()
	if err != nil {
		return nil, err
	}
	t := new(keys.Transcript)
	t.SetHash(keys.Std(o.PSK.Hash))
	t.Write(raw)
	secret := keys.NewSchedule13(keys.Std(o.PSK.Hash), o.PSK.Secret).ClientEarlyTrafficSecret(t.Sum())
	suite := suites.Lookup(o.EarlySuite)
	if suite == nil {
		return nil, fmt.Errorf("testpeer: early data needs EarlySuite")
	}
	key, iv := keys.TrafficKey(keys.Std(suite.Hash), secret, suite.KeyLen())
	aead, err := suite.NewAEAD(nil, key)
	if err != nil {
		return nil, err
	}
	early := record.NewAEAD13(aead, iv, 0)
	plain := p.write
	p.write = early
	defer func() { p.write = plain }()
	for i, data := range o.EarlyData {
		if i > 0 {
			time.Sleep(o.EarlyDataPace)
		}
		if err := p.SendRecord(record.ApplicationData, data); err != nil {
			return nil, err
		}
	}
	return early, nil
}

// retry13 answers a HelloRetryRequest with the second ClientHello (RFC
// 8446 §4.1.2): a key share for the group asked for, the cookie echoed,
// early_data dropped, the PSK binder made again over the new transcript.
func (p *Peer) retry13(o *ClientOptions, hrr *wire.ServerHello, raw []byte) (map[uint16]kex.KeyShare, error) {
	p.HelloRetry = hrr
	if err := p.SetSuite(hrr.CipherSuite); err != nil {
		return nil, err
	}
	p.Transcript.ReplaceWithMessageHash()
	p.Transcript.Write(raw)
	ch := *p.ClientHello
	ch.Extensions = nil
	for _, e := range p.ClientHello.Extensions {
		if e.Type != wire.ExtEarlyData && e.Type != wire.ExtPreSharedKey {
			ch.Extensions = append(ch.Extensions, e)
		}
	}
	shares := map[uint16]kex.KeyShare{}
	var ks wire.KeyShareHelloRetryRequest
	if found, err := hrr.Extensions.Decode(wire.ExtKeyShare, &ks); err != nil {
		return nil, err
	} else if found {
		share, err := kex.NewKeyShare(nil, ks.SelectedGroup, nil)
		if err != nil {
			return nil, err
		}
		shares[ks.SelectedGroup] = share
		SetExtension(&ch, wire.ExtKeyShare, wire.KeyShareClientHello{{Group: ks.SelectedGroup, KeyExchange: share.Public()}})
	}
	if cookie, found := hrr.Extensions.Find(wire.ExtCookie); found {
		SetExtension(&ch, wire.ExtCookie, rawExtension(cookie))
	}
	if o.SecondHello != nil {
		o.SecondHello(&ch)
	}
	psk := o.PSK
	if o.SecondPSK != nil {
		psk = o.SecondPSK
	}
	if err := p.bindPSK(&ch, psk); err != nil {
		return nil, err
	}
	p.ClientHello2 = &ch
	if err := p.emit(&o.Script, &ch); err != nil {
		return nil, err
	}
	return shares, nil
}

// bindPSK adds psk as the last extension of ch, with its binder over the
// transcript so far and ch up to the binders (RFC 8446 §4.2.11.2). Without
// a PSK it does nothing (an extension a script added stays as it is).
func (p *Peer) bindPSK(ch *wire.ClientHello, psks ...*PSK) error {
	var offer wire.PreSharedKeyClientHello
	for _, psk := range psks {
		if psk != nil {
			offer.Identities = append(offer.Identities, wire.PSKIdentity{Identity: psk.Identity, ObfuscatedTicketAge: psk.ObfuscatedTicketAge})
			offer.Binders = append(offer.Binders, make([]byte, psk.Hash.Size()))
		}
	}
	if len(offer.Identities) == 0 {
		return nil
	}
	RemoveExtension(ch, wire.ExtPreSharedKey)
	ch.Extensions.Add(wire.ExtPreSharedKey, offer)
	raw, err := ch.Marshal()
	if err != nil {
		return err
	}
	i := 0
	for _, psk := range psks {
		if psk != nil {
			offer.Binders[i] = p.binder(psk, raw[:len(raw)-offer.BindersLen()])
			i++
		}
	}
	RemoveExtension(ch, wire.ExtPreSharedKey)
	ch.Extensions.Add(wire.ExtPreSharedKey, offer)
	return nil
}

// sendCertificate13 sends a chain and, with a signer, a CertificateVerify
// over the transcript (RFC 8446 §4.4.2, §4.4.3).
func (p *Peer) sendCertificate13(s *Script, chain [][]byte, signer crypto.Signer, peerSchemes []uint16, context string) error {
	cert := &wire.Certificate13{}
	for _, der := range chain {
		cert.Entries = append(cert.Entries, wire.CertificateEntry{Data: der})
	}
	if err := p.sendScripted(s, cert); err != nil {
		return err
	}
	if len(chain) == 0 {
		return nil
	}
	cv := &wire.CertificateVerify{SignatureScheme: signature.ECDSASecp256r1SHA256, Signature: Random(72)}
	if signer != nil {
		cv.SignatureScheme = chooseScheme(signer.Public(), peerSchemes, true)
		sig, err := signature.Sign(nil, signer, cv.SignatureScheme, nil, signature.SignedContent13(context, p.Transcript.Sum()))
		if err != nil {
			return err
		}
		cv.Signature = sig
	} else if k := leafKey(chain); k != nil {
		cv.SignatureScheme = chooseScheme(k, peerSchemes, true)
	}
	return p.sendScripted(s, cv)
}

func chainOf(cert *wire.Certificate13) [][]byte {
	chain := make([][]byte, 0, len(cert.Entries))
	for _, e := range cert.Entries {
		chain = append(chain, e.Data)
	}
	return chain
}

// SetExtension puts an extension of type t holding v into ch, in place of
// one of that type if there is one, else before a final pre_shared_key.
func SetExtension(ch *wire.ClientHello, t wire.ExtensionType, v wire.ExtensionMarshaler) {
	var one wire.Extensions
	one.Add(t, v)
	for i, e := range ch.Extensions {
		if e.Type == t {
			ch.Extensions[i] = one[0]
			return
		}
	}
	n := len(ch.Extensions)
	if n > 0 && ch.Extensions[n-1].Type == wire.ExtPreSharedKey {
		last := ch.Extensions[n-1]
		ch.Extensions = append(ch.Extensions[:n-1:n-1], one[0], last)
		return
	}
	ch.Extensions = append(ch.Extensions, one[0])
}

// RemoveExtension takes every extension of type t out of ch.
func RemoveExtension(ch *wire.ClientHello, t wire.ExtensionType) {
	var out wire.Extensions
	for _, e := range ch.Extensions {
		if e.Type != t {
			out = append(out, e)
		}
	}
	if out == nil && ch.Extensions != nil {
		out = wire.Extensions{}
	}
	ch.Extensions = out
}
