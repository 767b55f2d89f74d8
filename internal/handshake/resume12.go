package handshake

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// TLS 1.2 resumption (RFC 5246 §7.3 Figure 2, RFC 5077): the abbreviated
// handshake skips certificates and the key exchange, and derives new keys
// from the saved master secret and the two new randoms.
//
//	client → ClientHello (session ID or session_ticket)
//	server → ServerHello (session ID echoed) [NewSessionTicket] ChangeCipherSpec Finished
//	client → ChangeCipherSpec Finished

// ticketLifetime is how long a session may be resumed after its full
// handshake, in both versions (session.MaxLifetime).
const ticketLifetime = session.MaxLifetime

// offerSession12 puts a cached TLS 1.2 session into the ClientHello, if the
// resumption decision allows it (mayResume): its ticket, or its session ID;
// and asks for a ticket either way.
func (c *Client) offerSession12(h *wire.ClientHello) error {
	askForTicket := func() {
		if !c.cfg.TicketsDisabled {
			h.Extensions.AddEmpty(wire.ExtSessionTicket)
		}
	}
	sess := c.cfg.Session
	if sess == nil || sess.Version != suites.VersionTLS12 {
		askForTicket()
		return nil
	}
	peer, why := c.mayResume(sess, suites.VersionTLS12, h.CipherSuites)
	if why != "" {
		c.note(trace.KindNote, 1, "resumption not offered", "version", "TLS 1.2", "reason", why)
		askForTicket()
		return nil
	}
	c.c12.offered, c.resumePeer = sess, peer
	if len(sess.Ticket) > 0 {
		h.Extensions.Add(wire.ExtSessionTicket, rawExtension(sess.Ticket))
		if len(h.SessionID) == 0 {
			// RFC 5077 §3.4: a session ID lets us see the server accept the ticket.
			h.SessionID = make([]byte, 32)
			if _, err := io.ReadFull(c.random(), h.SessionID); err != nil {
				return internalError(1, "ClientHello", err)
			}
		}
	} else {
		askForTicket()
		h.SessionID = sess.SessionID
	}
	c.note(trace.KindNote, 1, "resumption offered", "version", "TLS 1.2", "by", offeredBy(sess))
	return nil
}

func offeredBy(sess *session.State) string {
	if len(sess.Ticket) > 0 {
		return "session ticket"
	}
	return "session ID"
}

// rawExtension is extension data that is already encoded.
type rawExtension []byte

func (r rawExtension) Marshal() ([]byte, error) { return r, nil }

// resumedByServer12 reports whether the ServerHello resumes our session:
// it echoes the session ID we sent for it.
func (c *Client) resumedByServer12(sh *wire.ServerHello) (bool, error) {
	if len(sh.SessionID) == 0 || !bytes.Equal(sh.SessionID, c.hello.SessionID) {
		if c.c12.offered != nil {
			c.note(trace.KindNote, 2, "resumption rejected", "reason", "the server started a full handshake")
		}
		return false, nil
	}
	sess := c.c12.offered
	if sess == nil {
		return false, alert.Errorf(alert.IllegalParameter, 2, "ServerHello", "the server echoed a session ID we offered no session for")
	}
	if sh.CipherSuite != sess.CipherSuite {
		return false, alert.Errorf(alert.IllegalParameter, 2, "ServerHello", "the server resumed with %s, the session used %s",
			suites.Name(sh.CipherSuite), suites.Name(sess.CipherSuite))
	}
	if c.state.ExtendedMaster != sess.ExtendedMaster {
		return false, alert.Errorf(alert.HandshakeFailure, 2, "ServerHello",
			"the resumed session and this ServerHello disagree on extended_master_secret (RFC 7627 §5.3)")
	}
	return true, nil
}

// resume12 continues an abbreviated handshake after ServerHello.
func (c *Client) resume12() (clientState, error) {
	sess := c.c12.offered
	c.c12.resumed = true
	c.c12.master = sess.Secret
	c.state.MasterSecret = sess.Secret
	c.state.Group = sess.Group // the group of the handshake that made the master secret
	c.state.DidResume = true
	c.state.setPeer(c.resumePeer)
	c.state.resumeCertTypes(sess)
	c.state.OCSPResponse, c.state.SignedCertificateTimestamps = sess.OCSPResponse, sess.SignedCertificateTimestamps
	c.note(trace.KindNote, 2, "resumption accepted", "version", "TLS 1.2", "by", offeredBy(sess))
	cw, sw, err := c.deriveKeys12(c.c12.suite, sess.Secret, c.state.ClientRandom, c.state.ServerRandom)
	if err != nil {
		return nil, internalError(2, "ServerHello", err)
	}
	c.c12.clientWrite, c.c12.serverWrite = cw, sw
	return c.afterClientFlight12(), nil
}

// afterClientFlight12 is the state that waits for the server's last
// flight: a NewSessionTicket first if the server promised one.
func (c *Client) afterClientFlight12() clientState {
	if c.c12.ticketPromised {
		return (*Client).readNewSessionTicket12
	}
	return (*Client).readServerChangeCipherSpec
}

// readNewSessionTicket12 (RFC 5077 §3.3): a ticket for the next time. One
// above the limits policy is read and dropped: it could not be offered
// again in a ClientHello, whose extensions share one 2-byte length.
func (c *Client) readNewSessionTicket12(msg []byte) (clientState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(7, "NewSessionTicket")
	}
	nst := new(wire.NewSessionTicket)
	if err := parse(nst, msg, 7); err != nil {
		return nil, err
	}
	c.received(nst, msg, 7)
	if max := c.cfg.limits().Ticket; len(nst.Ticket) > max {
		c.note(trace.KindNote, 7, "NewSessionTicket", "reason",
			fmt.Sprintf("a ticket of %d bytes, over the limit of %d: not kept", len(nst.Ticket), max))
	} else {
		c.c12.ticket = nst
	}
	return (*Client).readServerChangeCipherSpec, nil
}

// storeSession12 keeps what the finished TLS 1.2 handshake allows to
// resume. A session renewed by a resumption keeps the time its server was
// authenticated (CreatedAt), so renewal never extends its life.
func (c *Client) storeSession12() {
	if c.cfg.StoreSession == nil || c.outerOnly {
		return
	}
	now := c.cfg.now()
	sess := &session.State{
		Version: suites.VersionTLS12, CipherSuite: c.c12.suite.ID, Group: c.state.Group, Secret: c.c12.master,
		ExtendedMaster: c.state.ExtendedMaster, CreatedAt: now, ReceivedAt: now, Lifetime: ticketLifetime,
		ServerName: c.cfg.ServerName, Certificates: c.state.PeerCertificates, VerifiedChains: c.state.VerifiedChains,
		VerifiedUnder: c.chainTrust(), OCSPResponse: c.state.OCSPResponse, SignedCertificateTimestamps: c.state.SignedCertificateTimestamps,
		PeerRawPublicKey: c.state.PeerRawPublicKey, ServerCertificateType: c.state.ServerCertType, ClientCertificateType: c.state.ClientCertType,
	}
	if c.c12.resumed {
		old := c.c12.offered
		sess.CreatedAt, sess.VerifiedUnder = old.CreatedAt, old.VerifiedUnder
	}
	switch {
	case c.c12.ticket != nil && len(c.c12.ticket.Ticket) > 0:
		sess.Ticket = c.c12.ticket.Ticket
		if hint := time.Duration(c.c12.ticket.LifetimeHint) * time.Second; hint > 0 && hint < ticketLifetime {
			sess.Lifetime = hint
		}
	case c.c12.resumed:
		return // resumed by session ID: the cached session stays as it was
	case len(c.c12.serverHello.SessionID) > 0:
		sess.SessionID = c.c12.serverHello.SessionID
	default:
		return // the server offers no resumption
	}
	c.cfg.StoreSession(sess)
}

// chainTrust is what this handshake's server chain was verified against:
// the trust anchors, if it was verified.
func (c *Client) chainTrust() any {
	if len(c.state.VerifiedChains) == 0 {
		return nil
	}
	return c.cfg.TrustAnchors
}

// resumable12 finds the session a ClientHello asks to resume and returns
// it if the resumption decision (mayResume) allows; nil means a full
// handshake, an error aborts.
func (s *Server) resumable12() (*session.State, error) {
	ch := s.hello
	var sess *session.State
	by := ""
	if ticket, ok := ch.Extensions.Find(wire.ExtSessionTicket); ok && len(ticket) > 0 && s.ticketsOn() {
		var err error
		if sess, err = s.openTicket(ticket, 1); err != nil {
			return nil, err
		}
		by = "session ticket"
	} else if len(ch.SessionID) > 0 && s.cfg.SessionCache != nil {
		sess, _ = s.cfg.SessionCache.Get(string(ch.SessionID))
		by = "session ID"
	}
	if by == "" {
		return nil, nil
	}
	verdict, err := s.mayResume(sess, suites.VersionTLS12, nil)
	if err != nil {
		return nil, err
	}
	if verdict.reject != "" {
		s.note(trace.KindNote, 1, "resumption rejected", "by", by, "reason", verdict.reject)
		return nil, nil
	}
	s.note(trace.KindNote, 1, "resumption accepted", "by", by)
	s.s12.session = sess
	if by == "session ID" {
		s.state.SessionID = ch.SessionID
	}
	if verdict.peer != nil {
		s.state.setPeer(verdict.peer)
	}
	s.state.resumeCertTypes(sess)
	return sess, nil
}

// resume12 answers with the abbreviated handshake: ServerHello echoing the
// session ID, [NewSessionTicket], ChangeCipherSpec and Finished.
func (s *Server) resume12(sess *session.State) (serverState, error) {
	suite := suites.Lookup(sess.CipherSuite)
	s.s12.suite = suite
	s.s12.resumed = true
	s.s12.master = sess.Secret
	s.state.CipherSuite = suite.ID
	s.state.ExtendedMaster = sess.ExtendedMaster
	s.state.MasterSecret = sess.Secret
	s.state.Group = sess.Group // the group of the handshake that made the master secret
	s.state.DidResume = true
	s.transcript.SetHash(s.hash(suite.Hash))
	if err := s.chooseALPN(); err != nil {
		return nil, err
	}
	s.s12.sessionID = s.hello.SessionID
	if err := s.sendServerHello12(false); err != nil {
		return nil, err
	}
	cw, sw, err := s.deriveKeys12(suite, sess.Secret, s.state.ClientRandom, s.state.ServerRandom)
	if err != nil {
		return nil, internalError(2, "ServerHello", err)
	}
	s.s12.clientWrite, s.s12.serverWrite = cw, sw
	if err := s.sendServerFinished12(); err != nil {
		return nil, err
	}
	return (*Server).readClientChangeCipherSpec, nil
}

// session12 is the session this handshake makes (or renews): a resumed
// session keeps the time its client was authenticated, its name and chain.
func (s *Server) session12() *session.State {
	sess := &session.State{
		Version: suites.VersionTLS12, CipherSuite: s.s12.suite.ID, Group: s.state.Group, Secret: s.s12.master,
		ExtendedMaster: s.state.ExtendedMaster, CreatedAt: s.cfg.now(), ServerName: s.info.ServerName,
		PeerCertificates: rawChain(s.state.PeerCertificates), PeerRawPublicKey: s.state.PeerRawPublicKey,
		ServerCertificateType: s.state.ServerCertType, ClientCertificateType: s.state.ClientCertType,
	}
	if old := s.s12.session; old != nil {
		sess.CreatedAt, sess.ServerName, sess.PeerCertificates = old.CreatedAt, old.ServerName, old.PeerCertificates
		sess.PeerRawPublicKey = old.PeerRawPublicKey
	}
	return sess
}

// sendNewSessionTicket12 seals the session into a ticket (RFC 5077 §3.3),
// valid for what remains of the session's life. A session that does not fit
// a ticket within the limits policy (a large client chain) gets an empty
// one: having promised a ticket in ServerHello, "it sends a zero-length
// ticket in the NewSessionTicket handshake message" (RFC 5077 §3.3).
func (s *Server) sendNewSessionTicket12() error {
	sess := s.session12()
	now := s.cfg.now()
	ticket, err := s.sealTicket(sess)
	if err != nil && s.cfg.WrapTicket != nil {
		return internalError(7, "NewSessionTicket", err)
	}
	if err == nil && len(ticket) > s.cfg.limits().Ticket {
		err = fmt.Errorf("a ticket of %d bytes, over the limit of %d", len(ticket), s.cfg.limits().Ticket)
	}
	if err != nil {
		s.note(trace.KindNote, 7, "NewSessionTicket", "reason", "no ticket for this session: "+err.Error())
		ticket = nil
	}
	lifetime := uint32(sess.Remaining(now) / time.Second)
	return s.send(&wire.NewSessionTicket{LifetimeHint: lifetime, Ticket: ticket}, 7)
}

// cacheSession12 keeps a full handshake's session under its session ID.
func (s *Server) cacheSession12() {
	if s.cfg.SessionCache == nil || len(s.s12.sessionID) == 0 || s.s12.resumed || s.s12.ticketPromised {
		return
	}
	s.cfg.SessionCache.Put(string(s.s12.sessionID), s.session12())
	s.state.SessionID = s.s12.sessionID
}

func rawChain(certs []*x509.Certificate) [][]byte {
	raw := make([][]byte, len(certs))
	for i, c := range certs {
		raw[i] = c.Raw
	}
	return raw
}
