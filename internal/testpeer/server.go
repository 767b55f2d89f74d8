package testpeer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"

	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// TLS 1.2 ClientCertificateType values (RFC 5246 §7.4.4, RFC 8422 §5.5).
const (
	certTypeRSASign   = 1
	certTypeECDSASign = 64
)

// ExpectClientHello reads the ClientHello that opens a connection, as a
// server flow does: into ClientHello and ClientRandom.
func (p *Peer) ExpectClientHello() error {
	ch := new(wire.ClientHello)
	if err := p.Expect(ch); err != nil {
		return err
	}
	p.ClientHello, p.ClientRandom = ch, ch.Random[:]
	return nil
}

// ServerHandshake12 runs a full TLS 1.2 server handshake (RFC 5246 §7.3)
// with the ECDHE or the RSA key exchange, whichever the suite says. It
// reads the ClientHello itself unless one was read already.
func (p *Peer) ServerHandshake12(o *ServerOptions) error {
	if o == nil {
		o = &ServerOptions{}
	}
	if p.ClientHello == nil {
		if err := p.ExpectClientHello(); err != nil {
			return err
		}
	}
	ch := p.ClientHello
	p.Version = VersionTLS12
	id, err := chooseSuite12(o, ch)
	if err != nil {
		return err
	}
	if err := p.SetSuite(id); err != nil {
		return err
	}
	sh := &wire.ServerHello{Version: VersionTLS12, CipherSuite: id, SessionID: o.SessionID, Extensions: wire.Extensions{}}
	copy(sh.Random[:], Random(32))
	p.ExtendedMaster = ch.Extensions.Has(wire.ExtExtendedMasterSecret) && !o.NoExtendedMasterSecret
	if p.ExtendedMaster {
		sh.Extensions.AddEmpty(wire.ExtExtendedMasterSecret)
	}
	if ch.Extensions.Has(wire.ExtRenegotiationInfo) {
		sh.Extensions.Add(wire.ExtRenegotiationInfo, wire.RenegotiationInfo{})
	}
	ticket := o.Ticket12 != nil && ch.Extensions.Has(wire.ExtSessionTicket)
	if ticket {
		sh.Extensions.AddEmpty(wire.ExtSessionTicket)
	}
	if p.Suite.KeyExchange != suites.KeyExchangeRSA && ch.Extensions.Has(wire.ExtECPointFormats) {
		sh.Extensions.Add(wire.ExtECPointFormats, wire.ECPointFormats{0})
	}
	if err := p.sendServerHello(&o.Script, sh); err != nil {
		return err
	}
	if err := p.sendScripted(&o.Script, &wire.Certificate{Chain: o.Chain}); err != nil {
		return err
	}
	var share kex.KeyShare
	if p.Suite.KeyExchange != suites.KeyExchangeRSA {
		group := o.Group
		if group == 0 {
			group = kex.X25519
		}
		if share, err = kex.NewKeyShare(nil, group, nil); err != nil {
			return err
		}
		ske := &wire.ServerKeyExchange{Group: group, PublicKey: share.Public()}
		params, err := ske.Params()
		if err != nil {
			return err
		}
		var peer wire.SignatureAlgorithms
		if _, err := ch.Extensions.Decode(wire.ExtSignatureAlgorithms, &peer); err != nil {
			return err
		}
		ske.SignatureScheme, ske.Signature = p.sign(o.Signer, o.Chain, peer, false, concat(p.ClientRandom, p.ServerRandom, params))
		if err := p.sendScripted(&o.Script, ske); err != nil {
			return err
		}
	}
	if o.RequestClientCert {
		req := &wire.CertificateRequest{
			CertificateTypes:       []uint8{certTypeRSASign, certTypeECDSASign},
			SignatureAlgorithms:    signature.Default,
			CertificateAuthorities: o.ClientCAs,
		}
		if err := p.sendScripted(&o.Script, req); err != nil {
			return err
		}
	}
	if err := p.sendScripted(&o.Script, &wire.ServerHelloDone{}); err != nil {
		return err
	}

	if o.RequestClientCert {
		cert := new(wire.Certificate)
		if err := p.Expect(cert); err != nil {
			return err
		}
		p.PeerCertificates = cert.Chain
	}
	msg, err := p.Next()
	if err != nil {
		return err
	}
	if msg.Type != wire.TypeClientKeyExchange {
		return &UnexpectedError{Want: "ClientKeyExchange", Got: msg.Type.String()}
	}
	var preMaster []byte
	if share == nil {
		cke := new(wire.ClientKeyExchangeRSA)
		if err := cke.Unmarshal(msg.Raw); err != nil {
			return err
		}
		decrypter, ok := o.Signer.(crypto.Decrypter)
		if !ok {
			return fmt.Errorf("testpeer: the RSA key exchange needs a crypto.Decrypter")
		}
		if preMaster, err = kex.DecryptPreMasterSecret(nil, nil, decrypter, cke.EncryptedPreMasterSecret, ch.Version); err != nil {
			return err
		}
	} else {
		cke := new(wire.ClientKeyExchangeECDHE)
		if err := cke.Unmarshal(msg.Raw); err != nil {
			return err
		}
		if preMaster, err = share.SharedSecret(cke.PublicKey); err != nil {
			return err
		}
	}
	if err := p.MasterSecret12(preMaster, p.ExtendedMaster); err != nil {
		return err
	}
	if len(p.PeerCertificates) > 0 {
		if err := p.Expect(new(wire.CertificateVerify)); err != nil {
			return err
		}
	}
	if err := p.ExpectChangeCipherSpec12(); err != nil {
		return err
	}
	if err := p.ExpectFinished12(); err != nil {
		return err
	}
	if ticket {
		if err := p.sendScripted(&o.Script, o.Ticket12); err != nil {
			return err
		}
	}
	if err := p.ChangeCipherSpec12(); err != nil {
		return err
	}
	if err := p.sendScripted(&o.Script, &wire.Finished{VerifyData: p.Finished12(false)}); err != nil {
		return err
	}
	p.Complete = true
	return nil
}

// sendServerHello acknowledges server_name as a server that used it
// does (an empty extension, RFC 6066 §3), then sends sh as scripted.
func (p *Peer) sendServerHello(s *Script, sh *wire.ServerHello) error {
	if p.ClientHello.Extensions.Has(wire.ExtServerName) && p.Version == VersionTLS12 {
		sh.Extensions.AddEmpty(wire.ExtServerName)
	}
	s.mutate(sh)
	p.ServerHello, p.ServerRandom = sh, sh.Random[:]
	return p.emit(s, sh)
}

// chooseSuite12 takes the suite the options name, else the first TLS 1.2
// suite the client offers whose key exchange fits the certificate.
func chooseSuite12(o *ServerOptions, ch *wire.ClientHello) (uint16, error) {
	if o.CipherSuite != 0 {
		return o.CipherSuite, nil
	}
	var pub crypto.PublicKey = leafKey(o.Chain)
	if o.Signer != nil {
		pub = o.Signer.Public()
	}
	want := []suites.KeyExchange{suites.KeyExchangeECDHEECDSA}
	if _, ok := pub.(*rsa.PublicKey); ok {
		want = []suites.KeyExchange{suites.KeyExchangeECDHERSA, suites.KeyExchangeRSA}
	}
	for _, kx := range want {
		for _, id := range ch.CipherSuites {
			if s := suites.Lookup(id); s != nil && s.Version == VersionTLS12 && s.KeyExchange == kx {
				return id, nil
			}
		}
	}
	return 0, fmt.Errorf("testpeer: the client offers no TLS 1.2 suite for a %T key", pub)
}

// sign signs msg with signer for a scheme the peer offered, or, with no
// signer, returns random bytes under the scheme that fits the chain's key.
func (p *Peer) sign(signer crypto.Signer, chain [][]byte, peer []uint16, tls13 bool, msg []byte) (uint16, []byte) {
	if signer == nil {
		scheme := signature.ECDSASecp256r1SHA256
		switch k := leafKey(chain); k.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			scheme = chooseScheme(k, peer, tls13)
		}
		return scheme, Random(72)
	}
	scheme := chooseScheme(signer.Public(), peer, tls13)
	sig, err := signature.Sign(nil, signer, scheme, nil, msg)
	if err != nil {
		return scheme, Random(72)
	}
	return scheme, sig
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, b := range parts {
		out = append(out, b...)
	}
	return out
}

// ServerHandshake13 runs a full TLS 1.3 server handshake (RFC 8446 §2),
// with a HelloRetryRequest first when asked to or when the client sent no
// share for the group. It reads the client's flight to its Finished; a
// NewSessionTicket (SendNewSessionTicket13) or data may follow.
func (p *Peer) ServerHandshake13(o *ServerOptions) error {
	if o == nil {
		o = &ServerOptions{}
	}
	p.Version = VersionTLS13
	if p.ClientHello == nil {
		if err := p.ExpectClientHello(); err != nil {
			return err
		}
	}
	ch := p.ClientHello
	id := o.CipherSuite
	for _, s := range ch.CipherSuites {
		if cs := suites.Lookup(s); id == 0 && cs != nil && cs.Version == VersionTLS13 {
			id = s
		}
	}
	if err := p.SetSuite(id); err != nil {
		return err
	}
	group := o.Group
	if group == 0 {
		group = kex.X25519
	}
	share, err := findShare(ch, group)
	if err != nil {
		return err
	}
	if o.HelloRetry || share == nil {
		if share, err = p.helloRetry13(o, group); err != nil {
			return err
		}
		if share == nil {
			return fmt.Errorf("testpeer: the second ClientHello has no key share for the group asked for")
		}
	}
	public, shared, err := kex.Respond(nil, share.Group, share.KeyExchange, nil)
	if err != nil {
		return err
	}
	sh := &wire.ServerHello{Version: VersionTLS12, SessionID: ch.SessionID, CipherSuite: id}
	copy(sh.Random[:], Random(32))
	sh.Extensions.Add(wire.ExtSupportedVersions, wire.SupportedVersionServer(VersionTLS13))
	sh.Extensions.Add(wire.ExtKeyShare, wire.KeyShareServerHello{Group: share.Group, KeyExchange: public})
	if o.PSK != nil {
		sh.Extensions.Add(wire.ExtPreSharedKey, wire.PreSharedKeyServerHello{SelectedIdentity: o.SelectedIdentity})
		p.StartSchedule13(o.PSK)
	}
	if err := p.sendServerHello(&o.Script, sh); err != nil {
		return err
	}
	if err := p.HandshakeKeys13(shared); err != nil {
		return err
	}
	ee := &wire.EncryptedExtensions{}
	if p.ClientHello.Extensions.Has(wire.ExtServerName) {
		ee.Extensions.AddEmpty(wire.ExtServerName) // RFC 6066 §3, RFC 8446 §4.2
	}
	if err := p.sendScripted(&o.Script, ee); err != nil {
		return err
	}
	if o.RequestClientCert {
		req := &wire.CertificateRequest13{}
		req.Extensions.Add(wire.ExtSignatureAlgorithms, wire.SignatureAlgorithms(signature.Default[:7]))
		if len(o.ClientCAs) > 0 {
			req.Extensions.Add(wire.ExtCertificateAuthorities, wire.CertificateAuthorities(o.ClientCAs))
		}
		if err := p.sendScripted(&o.Script, req); err != nil {
			return err
		}
	}
	if o.PSK == nil || o.CertificateWithPSK {
		if err := p.sendServerCertificate13(o); err != nil {
			return err
		}
	}
	if err := p.sendScripted(&o.Script, &wire.Finished{VerifyData: p.Finished13(false)}); err != nil {
		return err
	}
	return p.finishServer13(o)
}

// sendServerCertificate13 sends the server's Certificate and CertificateVerify.
func (p *Peer) sendServerCertificate13(o *ServerOptions) error {
	var peer wire.SignatureAlgorithms
	if _, err := p.ClientHello.Extensions.Decode(wire.ExtSignatureAlgorithms, &peer); err != nil {
		return err
	}
	cert := &wire.Certificate13{}
	for _, der := range o.Chain {
		cert.Entries = append(cert.Entries, wire.CertificateEntry{Data: der})
	}
	if err := p.sendScripted(&o.Script, cert); err != nil {
		return err
	}
	cv := &wire.CertificateVerify{}
	cv.SignatureScheme, cv.Signature = p.sign(o.Signer, o.Chain, peer, true,
		signature.SignedContent13(signature.ContextServer, p.Transcript.Sum()))
	return p.sendScripted(&o.Script, cv)
}

// finishServer13 is the rest of the server's handshake after its Finished.
func (p *Peer) finishServer13(o *ServerOptions) error {
	p.AppSecrets13()
	if err := p.InstallWriteApp13(); err != nil {
		return err
	}
	if o.RequestClientCert {
		got := new(wire.Certificate13)
		if err := p.Expect(got); err != nil {
			return err
		}
		p.PeerCertificates = chainOf(got)
		if len(p.PeerCertificates) > 0 {
			if err := p.Expect(new(wire.CertificateVerify)); err != nil {
				return err
			}
		}
	}
	if err := p.ExpectFinished13(); err != nil {
		return err
	}
	p.ResumptionSecret13()
	if err := p.InstallReadApp13(); err != nil {
		return err
	}
	p.Complete = true
	return nil
}

// helloRetry13 sends the HelloRetryRequest (RFC 8446 §4.1.4) and reads
// the second ClientHello; it returns that hello's share for the group.
func (p *Peer) helloRetry13(o *ServerOptions, group uint16) (*wire.KeyShareEntry, error) {
	if o.RetryGroup != 0 {
		group = o.RetryGroup
	}
	hrr := &wire.ServerHello{Version: VersionTLS12, Random: wire.HelloRetryRequestRandom,
		SessionID: p.ClientHello.SessionID, CipherSuite: p.Suite.ID}
	hrr.Extensions.Add(wire.ExtSupportedVersions, wire.SupportedVersionServer(VersionTLS13))
	hrr.Extensions.Add(wire.ExtKeyShare, wire.KeyShareHelloRetryRequest{SelectedGroup: group})
	if o.Cookie != nil {
		hrr.Extensions.Add(wire.ExtCookie, wire.Cookie(o.Cookie))
	}
	p.Transcript.ReplaceWithMessageHash()
	o.Script.mutate(hrr)
	p.HelloRetry = hrr
	if err := p.emit(&o.Script, hrr); err != nil {
		return nil, err
	}
	ch := new(wire.ClientHello)
	if err := p.Expect(ch); err != nil {
		return nil, err
	}
	p.ClientHello2 = ch
	return findShare(ch, group)
}

func findShare(ch *wire.ClientHello, group uint16) (*wire.KeyShareEntry, error) {
	var shares wire.KeyShareClientHello
	if _, err := ch.Extensions.Decode(wire.ExtKeyShare, &shares); err != nil {
		return nil, err
	}
	for i := range shares {
		if shares[i].Group == group {
			return &shares[i], nil
		}
	}
	return nil, nil
}

// SendNewSessionTicket13 sends a TLS 1.3 NewSessionTicket after the
// handshake (RFC 8446 §4.6.1).
func (p *Peer) SendNewSessionTicket13(nst *wire.NewSessionTicket13) error {
	return p.Send(nst)
}
