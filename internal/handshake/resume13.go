package handshake

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// TLS 1.3 resumption (RFC 8446 §2.2, §4.2.11, §4.6.1): the server's
// NewSessionTicket gives the client a PSK; the next ClientHello offers it
// in pre_shared_key with a binder that proves the client holds it. With
// psk_dhe_ke a fresh (EC)DHE share still gives forward secrecy.

// resumptionOffer13 is the cached TLS 1.3 session as a pre_shared_key
// identity, if the resumption decision allows offering it (mayResume) with
// the cipher suites offered; nil otherwise.
func (c *Client) resumptionOffer13(offered []uint16) *pskOffer {
	sess := c.cfg.Session
	if c.cfg.TicketsDisabled || sess == nil || sess.Version != suites.VersionTLS13 || len(sess.Ticket) == 0 {
		return nil
	}
	peer, why := c.mayResume(sess, suites.VersionTLS13, offered)
	if why != "" {
		c.note(trace.KindNote, 1, "resumption not offered", "version", "TLS 1.3", "reason", why)
		return nil
	}
	c.resumePeer = peer
	s := suites.Lookup(sess.CipherSuite)
	return &pskOffer{identity: sess.Ticket, hash: s.Hash, kind: keys.Resumption, secret: sess.Secret,
		plainOK: c.cfg.PSKWithoutECDHE, session: sess}
}

// resumptionCandidate13 is the session a pre_shared_key identity stands
// for as a ticket of ours, if the resumption decision allows it now
// (mayResume), with the session's client chain as that decision checked
// it; else why not.
func (s *Server) resumptionCandidate13(identity []byte) (*pskOffer, *PeerCertificates, string, error) {
	if !s.ticketsOn() {
		return nil, nil, "", nil
	}
	sess, err := s.openTicket(identity, 1)
	if err != nil {
		return nil, nil, "", err
	}
	verdict, err := s.mayResume(sess, suites.VersionTLS13, s.s13.suite)
	if err != nil || verdict.reject != "" {
		return nil, nil, verdict.reject, err
	}
	return &pskOffer{identity: identity, hash: s.s13.suite.Hash, kind: keys.Resumption, secret: sess.Secret,
		plainOK: s.cfg.PSKWithoutECDHE, session: sess}, verdict.peer, "", nil
}

// sendNewSessionTicket13 gives the client a ticket after the handshake
// (RFC 8446 §4.6.1): a PSK derived from resumption_master_secret and a
// nonce, sealed so only this server (or its fleet) can open it. The session
// keeps the time its client was authenticated, its name and chain: a
// resumed connection's ticket lives only what remains of its session's
// life. A session that does not fit a ticket within the limits policy (a
// large client chain) gets none.
func (s *Server) sendNewSessionTicket13(lazy bool) error {
	if !s.issuesTickets13() {
		return nil
	}
	var ageAdd [4]byte
	if _, err := io.ReadFull(s.random(), ageAdd[:]); err != nil {
		return internalError(8, "NewSessionTicket", err)
	}
	nonce := []byte{0}
	suite := s.s13.suite
	now := s.cfg.now()
	sess := &session.State{
		Version: suites.VersionTLS13, CipherSuite: suite.ID, CreatedAt: s.authenticatedAt, Lifetime: ticketLifetime,
		Secret: keys.ResumptionPSK(s.hash(suite.Hash), s.s13.resumption, nonce), AgeAdd: binary.BigEndian.Uint32(ageAdd[:]),
		ALPN: s.state.NegotiatedProtocol, ServerName: s.info.ServerName, PeerCertificates: rawChain(s.state.PeerCertificates),
		ExternalPSKIdentity: s.state.ExternalPSKIdentity, PeerRawPublicKey: s.state.PeerRawPublicKey,
		ServerCertificateType: s.state.ServerCertType, ClientCertificateType: s.state.ClientCertType,
		ReceivedAt:   now, // issued: the 0-RTT freshness check counts the age from here
		MaxEarlyData: s.cfg.MaxEarlyData,
	}
	ticket, err := s.sealTicket(sess)
	if err != nil && s.cfg.WrapTicket != nil {
		return internalError(8, "NewSessionTicket", err)
	}
	if err == nil && len(ticket) > s.cfg.limits().Ticket {
		err = fmt.Errorf("a ticket of %d bytes, over the limit of %d", len(ticket), s.cfg.limits().Ticket)
	}
	if err != nil {
		s.note(trace.KindNote, 8, "NewSessionTicket", "reason", "no ticket for this session: "+err.Error())
		return nil
	}
	lifetime := uint32(sess.Remaining(now) / time.Second)
	if lifetime == 0 {
		return nil // a ticket of no lifetime "indicates that the ticket should be discarded immediately"
	}
	nst := &wire.NewSessionTicket13{Lifetime: lifetime, AgeAdd: sess.AgeAdd, Nonce: nonce, Ticket: ticket}
	if sess.MaxEarlyData > 0 {
		nst.Extensions.Add(wire.ExtEarlyData, &wire.EarlyDataIndication{MaxEarlyDataSize: sess.MaxEarlyData, InNewSessionTicket: true})
	}
	return s.sendMessage(nst, 8, lazy)
}

// clientCanResume13 reports whether the client offered a PSK key exchange
// mode this server resumes with: "Servers MUST NOT send a NewSessionTicket
// with tickets that are not compatible with the advertised modes" (RFC 8446
// §4.2.9), and a client without psk_key_exchange_modes cannot offer a PSK.
func (s *Server) clientCanResume13() bool {
	var modes wire.PSKKeyExchangeModes
	if found, err := s.hello.Extensions.DecodeWith(wire.ExtPSKKeyExchangeModes, modes.Unmarshal); err != nil || !found {
		return false
	}
	return contains([]uint8(modes), pskModeDHE) || (s.cfg.PSKWithoutECDHE && contains([]uint8(modes), pskModePlain))
}

// issuesTickets13 reports whether this handshake ends with a
// NewSessionTicket, and so needs the resumption_master_secret.
func (s *Server) issuesTickets13() bool {
	return s.ticketsOn() && s.clientCanResume13()
}

// keepsTickets reports whether a client stores NewSessionTickets; if not,
// the resumption_master_secret is not even derived.
func (b *base) keepsTickets() bool {
	return b.side == trace.Client && b.cfg.StoreSession != nil && !b.cfg.TicketsDisabled && !b.outerOnly
}

// readNewSessionTicket13 turns the server's ticket into a session to
// resume later (RFC 8446 §4.6.1). The session keeps the time its server was
// authenticated: a ticket received on a resumed connection renews the
// session, it does not extend its life. A ticket above the limits policy is
// dropped: it could not be offered in a ClientHello.
func (c *base) readNewSessionTicket13(k *secrets13, msg []byte) error {
	nst := new(wire.NewSessionTicket13)
	if err := parse(nst, msg, 8); err != nil {
		return err
	}
	c.traceMessage(trace.Received, nst, msg, 8)
	lifetime := time.Duration(nst.Lifetime) * time.Second
	if lifetime > ticketLifetime {
		return alert.Errorf(alert.IllegalParameter, 8, "NewSessionTicket", "ticket_lifetime over 7 days (RFC 8446 §4.6.1)")
	}
	if lifetime == 0 || !c.keepsTickets() {
		return nil
	}
	if max := c.cfg.limits().Ticket; len(nst.Ticket) > max {
		c.note(trace.KindNote, 8, "NewSessionTicket", "reason",
			fmt.Sprintf("a ticket of %d bytes, over the limit of %d: not kept", len(nst.Ticket), max))
		return nil
	}
	var early wire.EarlyDataIndication
	if found, err := nst.Extensions.DecodeWith(wire.ExtEarlyData, early.Unmarshal); err != nil || (found && !early.InNewSessionTicket) {
		return alert.Errorf(alert.DecodeError, 8, "NewSessionTicket", "early_data: max_early_data_size expected (RFC 8446 §4.2.10)")
	}
	suite := k.suite
	now := c.cfg.now()
	c.cfg.StoreSession(&session.State{
		MaxEarlyData: early.MaxEarlyDataSize,
		Version:      suites.VersionTLS13, CipherSuite: suite.ID, CreatedAt: c.authenticatedAt, ReceivedAt: now, Lifetime: lifetime,
		Secret: keys.ResumptionPSK(c.hash(suite.Hash), k.resumption, nst.Nonce), AgeAdd: nst.AgeAdd,
		Ticket: nst.Ticket, ALPN: c.state.NegotiatedProtocol, ServerName: c.cfg.ServerName, ExternalPSKIdentity: c.state.ExternalPSKIdentity,
		Certificates: c.state.PeerCertificates, VerifiedChains: c.state.VerifiedChains, VerifiedUnder: c.verifiedUnder,
		PeerRawPublicKey: c.state.PeerRawPublicKey, ServerCertificateType: c.state.ServerCertType, ClientCertificateType: c.state.ClientCertType,
		OCSPResponse: c.state.OCSPResponse, SignedCertificateTimestamps: c.state.SignedCertificateTimestamps,
	})
	return nil
}
