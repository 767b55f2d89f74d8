package handshake

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"io"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// server13 holds what the TLS 1.3 server learns on the way. Its states, in
// order (RFC 8446 §2; the course note's step each takes over in brackets):
//
//	serve13: [send HelloRetryRequest → readClientHello2]      [2, 1]
//	  send ServerHello [ChangeCipherSpec] EncryptedExtensions
//	  [CertificateRequest Certificate CertificateVerify] Finished  [2, 3, 7]
//	  (a resumed session, authenticated by its PSK, sends no certificate)
//	→ [readClientCertificate13 → readClientCertificateVerify13]   [5]
//	→ readClientFinished13                                    [7]
type server13 struct {
	secrets13
	sentCCS       bool
	cookie        []byte // the HelloRetryRequest cookie the client must echo
	hrrGroup      uint16
	certReq       *wire.CertificateRequest13
	clientKey     crypto.PublicKey
	clientSchemes []uint16 // what we asked the client to sign with
	handshakeRead record.Cipher
	readLimit     int // our record_size_limit, applied after the client's early data
	// peerCompression: the certificate compression algorithms the client
	// accepts (RFC 8879).
	peerCompression []uint16
	app             appCiphers
	binderPrefix    *keys.Transcript     // the transcript before ClientHello2, for its PSK binder
	psk             *psk13               // the PSK accepted for the current ClientHello, if any
	externals       map[string]*pskOffer // the current ClientHello's identities looked up as external PSKs
	ticketsSent     bool                 // issued with the server's flight (no client authentication)
	// clientFinished is the client's verify_data, computed ahead when the
	// tickets went with the flight: the transcript it covers is the one
	// the client's Finished must match (nothing enters it in between).
	clientFinished []byte
}

// serve13 answers a TLS 1.3 ClientHello: a HelloRetryRequest if no key
// share fits, else the whole server flight.
func (s *Server) serve13() (serverState, error) {
	ch := s.hello
	if !bytes.Equal(ch.CompressionMethods, []byte{0}) {
		return nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "TLS 1.3 requires legacy_compression_methods to be exactly [null] (RFC 8446 §4.1.2)")
	}
	suite := s.chooseSuite13()
	if suite == nil {
		return nil, alert.Errorf(alert.HandshakeFailure, 2, "ServerHello",
			"no common TLS 1.3 cipher suite: the client offers %s; this server accepts %s", suiteList(ch.CipherSuites), suiteList(s.enabled13()))
	}
	s.s13.suite = suite
	s.state.CipherSuite = suite.ID
	s.transcript.SetHash(s.hash(suite.Hash))
	// Whether the early data is read is decided with the server flight
	// (early13.go); if not, the connection skips its records.
	s.state.EarlyDataOffered = ch.Extensions.Has(wire.ExtEarlyData)
	offered, err := ch.Extensions.Empty(wire.ExtPostHandshakeAuth)
	if err != nil {
		return nil, alert.Errorf(alert.DecodeError, 1, "ClientHello", "post_handshake_auth: %w", err)
	}
	s.state.PostHandshakeAuth = offered
	if s.s13.peerCompression, err = peerCertCompression(ch.Extensions, 1, "ClientHello"); err != nil {
		return nil, err
	}
	if !ch.Extensions.Has(wire.ExtSignatureAlgorithms) && !ch.Extensions.Has(wire.ExtPreSharedKey) {
		// RFC 8446 §9.2: "If not containing a "pre_shared_key" extension,
		// it MUST contain both a "signature_algorithms" extension and a
		// "supported_groups" extension."
		return nil, alert.Errorf(alert.MissingExtension, 1, "ClientHello", "no signature_algorithms and no pre_shared_key (RFC 8446 §9.2)")
	}
	if err := s.acceptPSK13(); err != nil {
		return nil, err
	}
	if s.s13.psk != nil && s.s13.psk.plain {
		return s.sendServerFlight13(nil)
	}
	share, group, err := s.chooseKeyShare()
	if err != nil {
		return nil, err
	}
	if share == nil {
		return s.sendHelloRetryRequest(group)
	}
	return s.sendServerFlight13(share)
}

// chooseSuite13 picks our best TLS 1.3 suite the client offers, unless
// the client offers external PSKs of ours and none is for that suite's
// hash: then the best suite of the first one's hash.
func (s *Server) chooseSuite13() *suites.Suite {
	is13 := func(cs *suites.Suite) bool { return cs.Version == suites.VersionTLS13 }
	best := suites.Choose(s.cfg.CipherSuites, s.hello.CipherSuites, is13)
	hs := s.externalPSKHashes()
	if best == nil || len(hs) == 0 || containsHash(hs, best.Hash) {
		return best
	}
	if cs := suites.Choose(s.cfg.CipherSuites, s.hello.CipherSuites, func(cs *suites.Suite) bool { return is13(cs) && cs.Hash == hs[0] }); cs != nil {
		return cs
	}
	return best
}

func (s *Server) enabled13() []uint16 {
	var ids []uint16
	for _, id := range s.cfg.CipherSuites {
		if cs := suites.Lookup(id); cs != nil && cs.Version == suites.VersionTLS13 {
			ids = append(ids, id)
		}
	}
	return ids
}

// chooseKeyShare picks the group: our most preferred group for which the
// client sent a share; if none, our most preferred group the client
// supports, for a HelloRetryRequest (share nil).
func (s *Server) chooseKeyShare() (*wire.KeyShareEntry, uint16, error) {
	var shares wire.KeyShareClientHello
	found, err := s.hello.Extensions.DecodeWith(wire.ExtKeyShare, shares.Unmarshal)
	if err != nil {
		return nil, 0, helloError(err, "key_share")
	}
	if !found {
		return nil, 0, alert.Errorf(alert.MissingExtension, 1, "ClientHello", "no key_share: this server does not do psk_ke without a PSK")
	}
	if !s.hello.Extensions.Has(wire.ExtSupportedGroups) {
		return nil, 0, alert.Errorf(alert.MissingExtension, 1, "ClientHello", "key_share without supported_groups (RFC 8446 §9.2)")
	}
	for _, e := range shares {
		if !contains(s.info.SupportedGroups, e.Group) {
			return nil, 0, alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "key share for %s, which supported_groups does not list", suites.GroupName(e.Group))
		}
	}
	for _, g := range s.cfg.Groups {
		for i := range shares {
			if shares[i].Group == g && kex.Supported(g) {
				return &shares[i], g, nil
			}
		}
	}
	for _, g := range s.cfg.Groups {
		if contains(s.info.SupportedGroups, g) && kex.Supported(g) {
			return nil, g, nil
		}
	}
	return nil, 0, alert.Errorf(alert.HandshakeFailure, 2, "ServerHello",
		"no common group: the client supports %s; this server accepts %s",
		mapJoin(s.info.SupportedGroups, suites.GroupName), mapJoin(s.cfg.Groups, suites.GroupName))
}

func helloError(err error, ext string) error {
	var ip *wire.IllegalParameterError
	if errors.As(err, &ip) {
		return alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "%s: %w", ext, err)
	}
	return alert.Errorf(alert.DecodeError, 1, "ClientHello", "%s: %w", ext, err)
}

// sendHelloRetryRequest asks the client for a key share for group, with a
// cookie it must echo (RFC 8446 §4.1.4, §4.2.2).
func (s *Server) sendHelloRetryRequest(group uint16) (serverState, error) {
	s.s13.hrrGroup = group
	s.state.HelloRetryRequest = true
	hrr := &wire.ServerHello{Version: suites.VersionTLS12, Random: wire.HelloRetryRequestRandom,
		SessionID: s.hello.SessionID, CipherSuite: s.s13.suite.ID}
	hrr.Extensions.Add(wire.ExtSupportedVersions, wire.SupportedVersionServer(suites.VersionTLS13))
	hrr.Extensions.Add(wire.ExtKeyShare, &wire.KeyShareHelloRetryRequest{SelectedGroup: group})
	if !s.echAccepted() {
		// The cookie is optional (RFC 8446 §4.2.2). With ECH accepted it
		// is left out: crypto/tls's client (Go 1.26) names a cookie in
		// its inner hello's ech_outer_extensions without putting it in the
		// outer hello, so its second ClientHello could not be rebuilt.
		s.s13.cookie = s.makeCookie()
		cookie := wire.Cookie(s.s13.cookie)
		hrr.Extensions.Add(wire.ExtCookie, &cookie)
	}
	s.transcript.ReplaceWithMessageHash()
	if s.echAccepted() {
		if err := s.confirmECHInHRR(hrr); err != nil {
			return nil, err
		}
	}
	if s.state.EarlyDataOffered {
		s.note(trace.KindNote, 1, "early data rejected", "reason", "a HelloRetryRequest: early data is not permitted after it (RFC 8446 §4.1.2)")
	}
	s.note(trace.KindNote, 2, "HelloRetryRequest", "selected_group", suites.GroupName(group),
		"reason", "the client sent no key share for a group this server accepts")
	if err := s.send(hrr, 2); err != nil {
		return nil, err
	}
	s.sendCompatCCS()
	return (*Server).readClientHello2, nil
}

// makeCookie binds the cookie to this ClientHello, so only this client's
// second ClientHello can echo it.
func (s *Server) makeCookie() []byte {
	key := make([]byte, 32)
	_, _ = io.ReadFull(s.random(), key)
	mac := hmac.New(sha256.New, key)
	mac.Write(s.hello.Random[:])
	return mac.Sum(nil)
}

// sendCompatCCS sends the middlebox-compatibility ChangeCipherSpec once,
// after our first handshake message (RFC 8446 Appendix D.4). It goes out
// whether or not the client's session ID asked for compatibility mode: the
// appendix ties the server's record to nothing, middleboxes look at both
// directions, and every TLS 1.3 client must drop it (RFC 8446 §5). BoringSSL
// and crypto/tls send it the same way.
func (s *Server) sendCompatCCS() {
	if s.s13.sentCCS {
		return
	}
	s.s13.sentCCS = true
	s.sendChangeCipherSpec()
}

// readClientHello2 (step 1, retried): the second ClientHello must be the
// first one but for what RFC 8446 §4.1.2 lets change (retry13.go), with
// exactly one key share, for the group we asked for, and our cookie.
func (s *Server) readClientHello2(msg []byte) (serverState, error) {
	ch := new(wire.ClientHello)
	if err := parse(ch, msg, 1); err != nil {
		return nil, err
	}
	s.traceMessage(trace.Received, ch, msg, 1)
	if s.echAccepted() {
		inner, innerRaw, err := s.openECH2(ch, msg)
		if err != nil {
			return nil, err
		}
		ch, msg = inner, innerRaw
	}
	s.s13.binderPrefix = s.transcript.Clone()
	s.transcript.Write(msg)
	if err := checkSecondClientHello(s.hello, ch); err != nil {
		return nil, err
	}
	if psk := s.s13.psk; psk != nil {
		if err := keepsSelectedPSK(psk.offer.identity, ch); err != nil {
			return nil, err
		}
	}
	var cookie wire.Cookie
	if found, err := ch.Extensions.DecodeWith(wire.ExtCookie, cookie.Unmarshal); err != nil {
		return nil, helloError(err, "cookie")
	} else if found != (s.s13.cookie != nil) || !hmac.Equal(cookie, s.s13.cookie) {
		return nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "the second ClientHello does not echo our cookie")
	}
	var shares wire.KeyShareClientHello
	if _, err := ch.Extensions.DecodeWith(wire.ExtKeyShare, shares.Unmarshal); err != nil {
		return nil, helloError(err, "key_share")
	}
	if len(shares) != 1 || shares[0].Group != s.s13.hrrGroup {
		return nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
			"the second ClientHello must carry one key share, for %s", suites.GroupName(s.s13.hrrGroup))
	}
	s.hello, s.helloRaw = ch, msg
	if err := s.readClientHelloExtensions(ch); err != nil {
		return nil, err
	}
	s.info.HelloRetryRequest = true
	s.s13.externals = nil // the second ClientHello's identities are looked up anew
	if err := s.acceptPSK13(); err != nil {
		return nil, err
	}
	if s.s13.psk != nil && s.s13.psk.plain {
		return s.sendServerFlight13(nil) // psk_ke, as serve13 decides for a first ClientHello
	}
	return s.sendServerFlight13(&shares[0])
}

// sendServerFlight13 is the server's whole first flight: ServerHello (step
// 2, with the key share that gives both sides the keys), then encrypted:
// EncryptedExtensions, CertificateRequest, Certificate and CertificateVerify
// (step 3) and Finished (step 7).
func (s *Server) sendServerFlight13(share *wire.KeyShareEntry) (serverState, error) {
	psk := s.s13.psk
	var signer crypto.Signer
	var err error
	var scheme uint16
	if psk == nil {
		if !s.hello.Extensions.Has(wire.ExtSignatureAlgorithms) {
			return nil, alert.Errorf(alert.MissingExtension, 1, "ClientHello",
				"no signature_algorithms, and no PSK this server can use (RFC 8446 §9.2)")
		}
		if signer, scheme, err = s.chooseSigner13(); err != nil {
			return nil, err
		}
	}
	clientTypeAnswer := false
	if psk == nil && s.cfg.ClientAuth.requests() {
		if s.state.ClientCertType, clientTypeAnswer, err = s.chooseClientCertType(); err != nil {
			return nil, err
		}
	}
	if err := s.chooseALPN(); err != nil {
		return nil, err
	}
	sh := &wire.ServerHello{Version: suites.VersionTLS12, SessionID: s.hello.SessionID, CipherSuite: s.s13.suite.ID,
		Extensions: make(wire.Extensions, 0, 3)} // supported_versions, key_share, pre_shared_key
	if _, err := io.ReadFull(s.random(), sh.Random[:]); err != nil {
		return nil, internalError(2, "ServerHello", err)
	}
	sh.Extensions.Add(wire.ExtSupportedVersions, wire.SupportedVersionServer(suites.VersionTLS13))
	var secret []byte // stays nil in psk_ke mode: zeros in the key schedule
	if share != nil {
		var public []byte
		if public, secret, err = kex.Respond(s.crypto(), share.Group, share.KeyExchange, s.random()); err != nil {
			return nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "client's %s key share: %w", suites.GroupName(share.Group), err)
		}
		s.state.Group = share.Group
		sh.Extensions.Add(wire.ExtKeyShare, &wire.KeyShareServerHello{Group: share.Group, KeyExchange: public})
	}
	s.authenticatedAt = s.cfg.now()
	if psk != nil {
		// The resumption is decided: only now does the session's client
		// chain become the connection's peer (a PSK offered in a first
		// ClientHello and dropped in the second leaves nothing behind).
		sh.Extensions.Add(wire.ExtPreSharedKey, &wire.PreSharedKeyServerHello{SelectedIdentity: uint16(psk.identity)})
		if sess := psk.offer.session; sess != nil {
			s.state.DidResume = true
			s.state.ExternalPSKIdentity = sess.ExternalPSKIdentity
			s.authenticatedAt = sess.CreatedAt
			if psk.peer != nil {
				s.state.setPeer(psk.peer)
			}
			s.state.resumeCertTypes(sess)
		} else {
			s.state.ExternalPSKIdentity = psk.offer.external.Identity
		}
	}
	if s.echAccepted() {
		if err := s.confirmECH(sh); err != nil {
			return nil, err
		}
	}
	s.state.ServerRandom = sh.Random[:]
	early, err := s.acceptEarlyData13()
	if err != nil {
		return nil, err
	}
	if err := s.send(sh, 2); err != nil {
		return nil, err
	}

	if psk != nil {
		s.s13.schedule = psk.offer.earlySchedule(s.cfg.Provider) // made for the binder (RFC 8446 §7.1: one Early Secret per PSK)
		psk.offer.early = nil
	} else {
		s.s13.schedule = keys.NewSchedule13(s.hash(s.s13.suite.Hash), nil)
	}
	read, write, err := s.handshakeSecrets13(&s.s13.secrets13, secret)
	if err != nil {
		return nil, internalError(2, "ServerHello", err)
	}
	s.s13.handshakeRead = read
	s.sendCompatCCS()
	s.act(SetWriteCipher{Cipher: write})
	if early != nil {
		s.act(early) // the client's early data first, then EndOfEarlyData
	} else {
		s.act(SetReadCipher{Cipher: read})
	}

	ee := &wire.EncryptedExtensions{}
	s.echRetry(ee)
	if early != nil {
		ee.Extensions.AddEmpty(wire.ExtEarlyData)
	}
	limits, err := s.serverRecordLimits(suites.VersionTLS13, &ee.Extensions)
	if err != nil {
		return nil, err
	}
	if limits != nil {
		// Our flight from EncryptedExtensions on respects the client's
		// limit; the client's records respect ours once it has read it,
		// after its early data (RFC 8449 §4: the limits of the handshake
		// that made the keys).
		s.act(LimitRecords{Write: limits.Write})
		s.s13.readLimit = limits.Read
		if early == nil {
			s.act(LimitRecords{Read: limits.Read})
		}
	}
	if s.state.NegotiatedProtocol != "" {
		alpn := wire.ALPN{s.state.NegotiatedProtocol}
		ee.Extensions.Add(wire.ExtALPN, &alpn)
	}
	if psk == nil || psk.offer.session != nil {
		// An external PSK authenticates without certificates: no type.
		s.answerCertTypes(&ee.Extensions, clientTypeAnswer)
	}
	if s.info.ServerName != "" && psk == nil {
		// The name chose our certificate: an empty server_name says so
		// (RFC 6066 §3, RFC 8446 §4.2); a resumption shows no certificate.
		ee.Extensions.AddEmpty(wire.ExtServerName)
	}
	if err := s.send(ee, 2); err != nil {
		return nil, err
	}
	if psk == nil {
		// A PSK authenticates the server; only a full handshake shows the
		// certificate, and only then may it ask for the client's (RFC 8446 §4.3.2).
		if s.cfg.ClientAuth.requests() {
			if err := s.sendCertificateRequest13(); err != nil {
				return nil, err
			}
		}
		s.noteCertificateChoice()
		if err := s.sendCertificate13(nil, s.cert, s.leafStatus13(), signer, scheme, signature.ContextServer, s.compressionFor(s.s13.peerCompression), 3); err != nil {
			return nil, err
		}
	}
	verify := keys.FinishedMAC(s.hash(s.s13.suite.Hash), s.s13.serverFinishedKey, s.transcript.SumTemp())
	if err := s.send(&wire.Finished{VerifyData: verify}, 7); err != nil {
		return nil, err
	}

	app, err := s.applicationSecrets13(&s.s13.secrets13)
	if err != nil {
		return nil, internalError(7, "Finished", err)
	}
	s.s13.app = app
	s.act(SetWriteCipher{Cipher: app.server})
	if s.s13.certReq != nil {
		return (*Server).readClientCertificate13, nil
	}
	if early != nil {
		return (*Server).readEndOfEarlyData13, nil // tickets after the client's Finished
	}
	if s.issuesTickets13() {
		// "A server which does not request client authentication MAY
		// compute the remainder of the transcript independently and then
		// send a NewSessionTicket immediately upon sending its Finished
		// rather than waiting for the client Finished" (RFC 8446 §4.6.1):
		// the tickets go with the flight, in the same write, and the
		// handshake never waits for a client that does not read.
		if err := s.sendTicketsInFlight13(); err != nil {
			return nil, err
		}
	}
	return (*Server).readClientFinished13, nil
}

// sendTicketsInFlight13 derives the resumption_master_secret from the
// transcript as it will be once the client's Finished, which this server
// can compute, is in it, and issues the tickets now.
func (s *Server) sendTicketsInFlight13() error {
	clientFinished := keys.FinishedMAC(s.hash(s.s13.suite.Hash), s.s13.clientFinishedKey, s.transcript.SumTemp())
	raw, err := (&wire.Finished{VerifyData: clientFinished}).Marshal()
	if err != nil {
		return internalError(7, "Finished", err)
	}
	s.s13.clientFinished = clientFinished
	t := s.transcript.Clone()
	t.Write(raw)
	s.s13.resumption = s.s13.schedule.ResumptionMasterSecret(t.Sum())
	s.s13.ticketsSent = true
	return s.sendNewSessionTicket13(false)
}

// chooseSigner13 picks the certificate and the signature scheme: the first
// candidate with a key that fits a scheme the client accepts (RFC 8446
// §4.4.2.2, §4.2.3), and our most preferred such scheme.
func (s *Server) chooseSigner13() (crypto.Signer, uint16, error) {
	candidates, err := s.certificateCandidates()
	if err != nil {
		return nil, 0, err
	}
	offer := s.offer()
	var why reasons
	for _, c := range candidates {
		signer, scheme, err := CertificateServes13(c, offer, s.cfg.SignatureSchemes)
		if err != nil {
			why.add(c, err)
			continue
		}
		s.cert = c
		s.state.ServerCertType = c.certType()
		return signer, scheme, nil
	}
	return nil, 0, alert.Errorf(alert.HandshakeFailure, 3, "CertificateVerify",
		"no certificate of this server fits the client's signature_algorithms: %w", why.err(candidates))
}

// sendCertificateRequest13 asks for a client certificate, naming the
// accepted authorities in certificate_authorities (the note's list of CAs).
func (s *Server) sendCertificateRequest13() error {
	req := &wire.CertificateRequest13{}
	schemes := wire.SignatureAlgorithms(tls13Schemes(s.cfg.SignatureSchemes))
	if len(schemes) == 0 {
		// Only PKCS #1 v1.5 is configured. signature_algorithms may not be
		// empty (<2..2^16-2>, RFC 8446 §4.2.3), and those schemes "MAY
		// appear" in it for backward compatibility: send them. A client
		// can then only answer without a certificate; one that signs with
		// them anyway is refused (verify13).
		schemes = wire.SignatureAlgorithms(s.cfg.SignatureSchemes)
	}
	req.Extensions.Add(wire.ExtSignatureAlgorithms, &schemes)
	if len(s.cfg.ClientCANames) > 0 {
		cas := wire.CertificateAuthorities(s.cfg.ClientCANames)
		req.Extensions.Add(wire.ExtCertificateAuthorities, &cas)
	}
	if algs := s.certCompressionOffer(); len(algs) > 0 {
		req.Extensions.Add(wire.ExtCompressCertificate, algs)
	}
	s.s13.certReq = req
	s.s13.clientSchemes = schemes
	return s.send(req, 3)
}

// tls13Schemes drops PKCS #1 v1.5, which TLS 1.3 does not allow in
// CertificateVerify (RFC 8446 §4.2.3).
func tls13Schemes(schemes []uint16) []uint16 {
	var out []uint16
	for _, sc := range schemes {
		if sc != signature.RSAPKCS1SHA256 && sc != signature.RSAPKCS1SHA384 && sc != signature.RSAPKCS1SHA512 {
			out = append(out, sc)
		}
	}
	return out
}

// readClientCertificate13 (step 5): the client's chain, or nothing; the
// ClientAuth policy decides.
func (s *Server) readClientCertificate13(msg []byte) (serverState, error) {
	cert, err := s.readCertificateMessage13(msg, s.s13.certReq.Extensions.Has(wire.ExtCompressCertificate), s.state.ClientCertType, 5)
	if err != nil {
		return nil, err
	}
	if len(cert.Context) != 0 {
		return nil, alert.Errorf(alert.IllegalParameter, 5, "Certificate", "certificate_request_context must be empty")
	}
	if len(cert.Entries) == 0 {
		if s.cfg.ClientAuth.requires() {
			return nil, alert.Errorf(alert.CertificateRequired, 5, "Certificate",
				"the server requires a client certificate%s, and the client sent none", s.acceptedCAs())
		}
		return (*Server).readClientFinished13, nil
	}
	if err := s.checkEntryExtensions(cert, s.s13.certReq.Extensions, 5); err != nil {
		return nil, err
	}
	key, err := s.acceptPeerCertificate(chainOf(cert), s.state.ClientCertType, 5, "client certificate", x509.KeyUsageDigitalSignature)
	if err != nil {
		return nil, err
	}
	s.s13.clientKey = key
	return (*Server).readClientCertificateVerify13, nil
}

// readClientCertificateVerify13 (step 5): the client proves it holds its key.
func (s *Server) readClientCertificateVerify13(msg []byte) (serverState, error) {
	if err := s.readCertificateVerify13(msg, s.s13.clientKey, s.s13.clientSchemes, signature.ContextClient, 5); err != nil {
		return nil, err
	}
	return (*Server).readClientFinished13, nil
}

// readClientFinished13 is step 7 from the client: then application data
// flows both ways.
func (s *Server) readClientFinished13(msg []byte) (serverState, error) {
	fin := new(wire.Finished)
	if err := parse(fin, msg, 7); err != nil {
		return nil, err
	}
	want := s.s13.clientFinished // computed with the tickets
	if want == nil {
		want = keys.FinishedMAC(s.hash(s.s13.suite.Hash), s.s13.clientFinishedKey, s.transcript.SumTemp())
	}
	s.received(fin, msg, 7)
	if err := s.verifyFinished(fin, want, "client"); err != nil {
		return nil, err
	}
	ticketsNow := s.issuesTickets13() && !s.s13.ticketsSent
	if ticketsNow {
		s.s13.resumption = s.s13.schedule.ResumptionMasterSecret(s.transcript.SumTemp())
	}
	if err := s.verifyConnection(7, "Finished"); err != nil {
		return nil, err
	}
	s.act(SetReadCipher{Cipher: s.s13.app.client})
	s.complete = true
	s.keepForPostHandshakeAuth()
	if ticketsNow {
		// With client authentication the tickets carry the client's
		// chain and wait for its Finished; they go out with our next
		// write (Lazy), so the handshake does not block on a client that
		// does not read.
		if err := s.sendNewSessionTicket13(true); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
