package handshake

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"fmt"
	"io"

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

// server12 holds what the TLS 1.2 server learns on the way. Its states, in
// order (RFC 5246 §7.3, Figure 1; the course note's steps in brackets):
//
//	serve12: send ServerHello Certificate [ServerKeyExchange]
//	         [CertificateRequest] ServerHelloDone            [2, 3, 4]
//	→ [readClientCertificate]                                [5]
//	→ readClientKeyExchange                                  [5]
//	→ [readClientCertificateVerify]                          [5]
//	→ readClientChangeCipherSpec → readClientFinished        [6, 7]
//	→ send ChangeCipherSpec Finished                         [6, 7]
type server12 struct {
	suite       *suites.Suite
	keyShare    kex.KeyShare // ECDHE suites
	certReq     *wire.CertificateRequest
	clientKey   crypto.PublicKey // from a non-empty client Certificate: CertificateVerify must prove it
	master      []byte
	clientWrite record.Cipher
	serverWrite record.Cipher

	resumed        bool
	session        *session.State // the session being resumed
	ticketPromised bool           // we acknowledged session_ticket: a NewSessionTicket goes before Finished
	sessionID      []byte         // sent in ServerHello: an echo when resuming, a fresh one to cache
}

// serve12 answers a ClientHello with the server's first flight, steps 2–4.
func (s *Server) serve12() (serverState, error) {
	if err := s.checkRenegotiationInfo(); err != nil {
		return nil, err
	}
	var pf wire.ECPointFormats
	if found, err := s.hello.Extensions.DecodeWith(wire.ExtECPointFormats, pf.Unmarshal); err != nil {
		return nil, alert.Errorf(alert.DecodeError, 1, "ClientHello", "ec_point_formats: %w", err)
	} else if found && !bytes.Contains(pf, []byte{0}) {
		return nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
			"ec_point_formats lacks the uncompressed format, which every peer must support (RFC 8422 §5.1.2)")
	}
	s.s12.ticketPromised = s.hello.Extensions.Has(wire.ExtSessionTicket) && s.ticketsOn()
	if sess, err := s.resumable12(); err != nil {
		return nil, err
	} else if sess != nil {
		return s.resume12(sess)
	}
	if !s.s12.ticketPromised && s.cfg.SessionCache != nil {
		s.s12.sessionID = make([]byte, 32)
		if _, err := io.ReadFull(s.random(), s.s12.sessionID); err != nil {
			return nil, internalError(2, "ServerHello", err)
		}
	}
	suite, err := s.chooseSuite12()
	if err != nil {
		return nil, err
	}
	cert := s.cert
	s.s12.suite = suite
	s.state.CipherSuite = suite.ID
	if s.cfg.ClientAuth.requests() {
		// The client's CertificateVerify signs the raw messages, possibly
		// with another hash than the PRF's: keep them from the start.
		s.transcript.KeepBuffer(true)
	}
	s.transcript.SetHash(s.hash(suite.Hash))
	if err := s.chooseALPN(); err != nil {
		return nil, err
	}
	ems, err := s.hello.Extensions.Empty(wire.ExtExtendedMasterSecret)
	if err != nil {
		return nil, alert.Errorf(alert.DecodeError, 1, "ClientHello", "extended_master_secret: %w", err)
	}
	s.state.ExtendedMaster = ems
	clientTypeAnswer := false
	if s.cfg.ClientAuth.requests() {
		if s.state.ClientCertType, clientTypeAnswer, err = s.chooseClientCertType(); err != nil {
			return nil, err
		}
	}

	if err := s.sendServerHello12(clientTypeAnswer); err != nil {
		return nil, err
	}
	s.noteCertificateChoice()
	if err := s.send(certificateMessage12(cert, s.state.ServerCertType), 3); err != nil {
		return nil, err
	}
	if err := s.sendCertificateStatus12(); err != nil {
		return nil, err
	}
	if suite.KeyExchange != suites.KeyExchangeRSA {
		if err := s.sendServerKeyExchange(); err != nil {
			return nil, err
		}
	}
	if s.cfg.ClientAuth.requests() {
		s.s12.certReq = &wire.CertificateRequest{
			CertificateTypes:       []uint8{certTypeRSASign, certTypeECDSASign},
			SignatureAlgorithms:    s.cfg.SignatureSchemes,
			CertificateAuthorities: s.cfg.ClientCANames,
		}
		if err := s.send(s.s12.certReq, 3); err != nil {
			return nil, err
		}
	}
	if err := s.send(&wire.ServerHelloDone{}, 4); err != nil {
		return nil, err
	}
	if s.s12.certReq != nil {
		return (*Server).readClientCertificate, nil
	}
	return (*Server).readClientKeyExchange, nil
}

// checkRenegotiationInfo: we never renegotiate, but an initial ClientHello
// with a non-empty renegotiation_info is an attack (RFC 5746 §3.6).
func (s *Server) checkRenegotiationInfo() error {
	var ri wire.RenegotiationInfo
	found, err := s.hello.Extensions.DecodeWith(wire.ExtRenegotiationInfo, ri.Unmarshal)
	if err != nil {
		return alert.Errorf(alert.DecodeError, 1, "ClientHello", "renegotiation_info: %w", err)
	}
	if found && len(ri) != 0 {
		return alert.Errorf(alert.HandshakeFailure, 1, "ClientHello", "renegotiation_info must be empty in an initial handshake (RFC 5746 §3.6)")
	}
	s.secureRenegotiation = found || contains(s.hello.CipherSuites, suites.TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
	return nil
}

// chooseSuite12 is the note's step 2: "the server picks the strongest suite
// both support", in the server's ranking, among the suites one of its
// certificates can serve; the certificate comes with the suite (the first
// candidate that serves it, see certselect.go).
func (s *Server) chooseSuite12() (*suites.Suite, error) {
	candidates, err := s.certificateCandidates()
	if err != nil {
		return nil, err
	}
	suite, cert, group, err := ChooseSuite12(candidates, s.offer(), s.cfg.CipherSuites, s.cfg.Groups, s.cfg.SignatureSchemes)
	if suite == nil {
		why := ""
		if err != nil {
			why = "; " + err.Error()
		}
		return nil, alert.Errorf(alert.HandshakeFailure, 2, "ServerHello",
			"no common cipher suite: the client offers %s; this server accepts %s with its %s%s",
			suiteList(s.hello.CipherSuites), suiteList(s.enabled12()), certsPhrase(candidates), why)
	}
	s.cert = cert
	s.state.ServerCertType = cert.certType()
	s.state.Group = group
	return suite, nil
}

func (s *Server) enabled12() []uint16 {
	var ids []uint16
	for _, id := range s.cfg.CipherSuites {
		if cs := suites.Lookup(id); cs != nil && cs.Version == suites.VersionTLS12 {
			ids = append(ids, id)
		}
	}
	return ids
}

// ecdsaGroup names the curve of an ECDSA key as a NamedGroup (RFC 8422
// §5.1.1), or 0 for another kind of key.
func ecdsaGroup(pub crypto.PublicKey) uint16 {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k == nil {
		return 0
	}
	switch k.Curve {
	case elliptic.P256():
		return suites.GroupP256
	case elliptic.P384():
		return suites.GroupP384
	case elliptic.P521():
		return suites.GroupP521
	}
	return 0
}

// peerSchemes12 is the client's signature_algorithms. Without the extension
// RFC 5246 §7.4.1.4.1 implies SHA-1, which we do not sign with.
func (s *Server) peerSchemes12() []uint16 { return s.info.SignatureSchemes }

// sendServerHello12 is step 2: the chosen version and suite, and the
// server's random.
func (s *Server) sendServerHello12(clientTypeAnswer bool) error {
	sh := &wire.ServerHello{Version: suites.VersionTLS12, CipherSuite: s.s12.suite.ID, SessionID: s.s12.sessionID}
	if _, err := io.ReadFull(s.random(), sh.Random[:]); err != nil {
		return internalError(2, "ServerHello", err)
	}
	if s.cfg.MaxVersion >= suites.VersionTLS13 {
		copy(sh.Random[24:], downgradeTLS12[:]) // RFC 8446 §4.1.3
	}
	if s.secureRenegotiation {
		ri := wire.RenegotiationInfo{}
		sh.Extensions.Add(wire.ExtRenegotiationInfo, &ri)
	}
	if s.state.ExtendedMaster {
		sh.Extensions.AddEmpty(wire.ExtExtendedMasterSecret)
	}
	if s.s12.ticketPromised {
		sh.Extensions.AddEmpty(wire.ExtSessionTicket)
	}
	if s.state.NegotiatedProtocol != "" {
		alpn := wire.ALPN{s.state.NegotiatedProtocol}
		sh.Extensions.Add(wire.ExtALPN, &alpn)
	}
	s.statusInServerHello12(sh)
	s.answerCertTypes(&sh.Extensions, clientTypeAnswer)
	limits, err := s.serverRecordLimits(suites.VersionTLS12, &sh.Extensions)
	if err != nil {
		return err
	}
	if limits != nil {
		s.act(*limits) // for the records after ChangeCipherSpec
	}
	if s.info.ServerName != "" && !s.s12.resumed {
		// RFC 6066 §3: the server that used the name says so with an empty
		// server_name, but not when resuming.
		sh.Extensions.AddEmpty(wire.ExtServerName)
	}
	if s.s12.suite.KeyExchange != suites.KeyExchangeRSA && s.hello.Extensions.Has(wire.ExtECPointFormats) {
		sh.Extensions.Add(wire.ExtECPointFormats, &wire.ECPointFormats{0})
	}
	s.state.ServerRandom = sh.Random[:]
	return s.send(sh, 2)
}

// sendServerKeyExchange sends the server's ephemeral ECDHE key, signed with
// the certificate key over both randoms so the client knows who sent it.
func (s *Server) sendServerKeyExchange() error {
	ks, err := kex.NewKeyShare(s.crypto(), s.state.Group, s.random())
	if err != nil {
		return internalError(3, "ServerKeyExchange", err)
	}
	s.s12.keyShare = ks
	signer, ok := s.cert.PrivateKey.(crypto.Signer)
	if !ok {
		return internalError(3, "ServerKeyExchange", fmt.Errorf("server private key %T is not a crypto.Signer", s.cert.PrivateKey))
	}
	// The scheme exists: ChooseSuite12 took this certificate for it.
	scheme, _ := signature.Choose(s.cert.signingSchemes(s.cfg.SignatureSchemes), s.peerSchemes12(), signer.Public(), false)
	ske := &wire.ServerKeyExchange{Group: s.state.Group, PublicKey: ks.Public(), SignatureScheme: scheme}
	params, err := ske.Params()
	if err != nil {
		return internalError(3, "ServerKeyExchange", err)
	}
	signed := concat(s.state.ClientRandom, s.state.ServerRandom, params)
	if ske.Signature, err = signature.Sign(s.crypto(), signer, scheme, s.random(), signed); err != nil {
		return internalError(3, "ServerKeyExchange", err)
	}
	return s.send(ske, 3)
}

// readClientCertificate (step 5, when requested): the client's chain, or
// nothing; the ClientAuth policy decides what is acceptable.
func (s *Server) readClientCertificate(msg []byte) (serverState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(5, "Certificate")
	}
	entries, err := s.readCertificate12(msg, s.state.ClientCertType, 5)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		if s.cfg.ClientAuth.requires() {
			return nil, alert.Errorf(alert.HandshakeFailure, 5, "Certificate",
				"the server requires a client certificate%s, and the client sent none", s.acceptedCAs())
		}
		return (*Server).readClientKeyExchange, nil
	}
	key, err := s.acceptPeerCertificate(entries, s.state.ClientCertType, 5, "client certificate", x509.KeyUsageDigitalSignature)
	if err != nil {
		return nil, err
	}
	s.s12.clientKey = key
	return (*Server).readClientKeyExchange, nil
}

// readClientKeyExchange is step 5: the pre-master secret arrives, and both
// randoms and it make the master secret.
func (s *Server) readClientKeyExchange(msg []byte) (serverState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(5, "ClientKeyExchange")
	}
	var preMaster []byte
	switch s.s12.suite.KeyExchange {
	case suites.KeyExchangeRSA:
		cke := new(wire.ClientKeyExchangeRSA)
		if err := parse(cke, msg, 5); err != nil {
			return nil, err
		}
		s.received(cke, msg, 5)
		preMaster = s.decryptPreMaster(cke.EncryptedPreMasterSecret)
	default:
		cke := new(wire.ClientKeyExchangeECDHE)
		if err := parse(cke, msg, 5); err != nil {
			return nil, err
		}
		s.received(cke, msg, 5)
		secret, err := s.s12.keyShare.SharedSecret(cke.PublicKey)
		if err != nil {
			return nil, alert.Errorf(alert.IllegalParameter, 5, "ClientKeyExchange",
				"client's %s public key: %w", suites.GroupName(s.state.Group), err)
		}
		preMaster = secret
	}
	s.s12.master = masterSecret12(&s.base, s.s12.suite, preMaster)
	cw, sw, err := s.deriveKeys12(s.s12.suite, s.s12.master, s.state.ClientRandom, s.state.ServerRandom)
	if err != nil {
		return nil, internalError(5, "ClientKeyExchange", err)
	}
	s.s12.clientWrite, s.s12.serverWrite = cw, sw
	if len(s.state.PeerCertificates) > 0 || s.state.PeerRawPublicKey != nil {
		// A client that sent a certificate (or a raw key) proves it holds its key,
		// whatever the ClientAuth policy (RFC 5246 §7.4.8): the chain
		// alone proves nothing, and skipping this step would let anyone
		// present anyone's certificate.
		return (*Server).readClientCertificateVerify, nil
	}
	s.transcript.KeepBuffer(false)
	return (*Server).readClientChangeCipherSpec, nil
}

// decryptPreMaster recovers the RSA-encrypted pre-master secret. Every
// failure — bad padding, wrong length, wrong client_version — yields a
// random secret on the same path, so the only symptom is a Finished that
// does not verify, the same as for a wrong key: anything earlier or
// different would be a Bleichenbacher oracle (RFC 5246 §7.4.7.1).
func (s *Server) decryptPreMaster(encrypted []byte) []byte {
	decrypter := s.cert.PrivateKey.(crypto.Decrypter) // checked when the suite was chosen
	pms, err := kex.DecryptPreMasterSecret(s.crypto(), s.random(), decrypter, encrypted, s.hello.Version)
	if err != nil || len(pms) != 48 {
		// Not a padding or version failure (those never return an error):
		// still carry on with a random secret, so the peer sees the same alert.
		pms = make([]byte, 48)
		_, _ = io.ReadFull(s.random(), pms)
	}
	return pms
}

// readClientCertificateVerify (step 5): the client proves it holds the key
// of the certificate it sent, by signing the transcript so far.
func (s *Server) readClientCertificateVerify(msg []byte) (serverState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(5, "CertificateVerify")
	}
	cv := new(wire.CertificateVerify)
	if err := parse(cv, msg, 5); err != nil {
		return nil, err
	}
	signed := append([]byte(nil), s.transcript.Buffer()...)
	s.received(cv, msg, 5)
	s.transcript.KeepBuffer(false)
	if !contains(s.s12.certReq.SignatureAlgorithms, cv.SignatureScheme) || !signature.Accepts(s.s12.clientKey, cv.SignatureScheme, false) {
		return nil, alert.Errorf(alert.IllegalParameter, 5, "CertificateVerify",
			"client signed with %s, which the server did not ask for or which does not fit its %s key",
			signature.Name(cv.SignatureScheme), keyName(s.s12.clientKey))
	}
	if err := signature.Verify(s.crypto(), s.s12.clientKey, cv.SignatureScheme, signed, cv.Signature); err != nil {
		return nil, alert.Errorf(alert.DecryptError, 5, "CertificateVerify",
			"client signature (%s) does not verify with its certificate's key: %w", signature.Name(cv.SignatureScheme), err)
	}
	s.state.PeerSignatureScheme = cv.SignatureScheme
	if s.tracing() {
		s.note(trace.KindVerified, 5, "CertificateVerify", "signature_scheme", signature.Name(cv.SignatureScheme))
	}
	return (*Server).readClientChangeCipherSpec, nil
}

// readClientChangeCipherSpec is step 6 from the client.
func (s *Server) readClientChangeCipherSpec(msg []byte) (serverState, error) {
	if msg != nil {
		return nil, unexpected(msg, 6, "ChangeCipherSpec")
	}
	s.receivedChangeCipherSpec()
	s.act(SetReadCipher{Cipher: s.s12.clientWrite})
	return (*Server).readClientFinished, nil
}

// readClientFinished is step 7: the client's MAC over the transcript. If it
// matches, the server answers with its own ChangeCipherSpec and Finished.
func (s *Server) readClientFinished(msg []byte) (serverState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(7, "Finished")
	}
	fin := new(wire.Finished)
	if err := parse(fin, msg, 7); err != nil {
		return nil, err
	}
	suite := s.s12.suite
	want := keys.Finished12(s.hash(suite.Hash), s.s12.master, keys.LabelClientFinished, s.transcript.SumTemp())
	s.received(fin, msg, 7)
	if err := s.verifyFinished(fin, want, "client"); err != nil {
		return nil, err
	}
	s.finished12(fin.VerifyData)
	if err := s.verifyConnection(7, "Finished"); err != nil {
		return nil, err
	}
	if !s.s12.resumed {
		if err := s.sendServerFinished12(); err != nil {
			return nil, err
		}
		s.cacheSession12()
	}
	s.complete = true
	return nil, nil
}

// sendServerFinished12 is the server's last flight: [NewSessionTicket],
// ChangeCipherSpec and Finished (steps 6 and 7).
func (s *Server) sendServerFinished12() error {
	if s.s12.ticketPromised {
		if err := s.sendNewSessionTicket12(); err != nil {
			return err
		}
	}
	s.sendChangeCipherSpec()
	s.act(SetWriteCipher{Cipher: s.s12.serverWrite})
	verify := keys.Finished12(s.hash(s.s12.suite.Hash), s.s12.master, keys.LabelServerFinished, s.transcript.SumTemp())
	if err := s.send(&wire.Finished{VerifyData: verify}, 7); err != nil {
		return err
	}
	s.finished12(verify)
	return nil
}

// acceptedCAs names the authorities a client certificate must come from,
// for error messages.
func (s *Server) acceptedCAs() string {
	if len(s.cfg.ClientCANames) == 0 {
		return ""
	}
	return " signed by one of: " + dnList(s.cfg.ClientCANames)
}
