package handshake

import (
	"encoding/binary"
	"io"
	"strconv"
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

// offerSession13 adds a cached TLS 1.3 session as pre_shared_key, the last
// extension, with its binder over the ClientHello so far. prefix is the
// transcript before this ClientHello (after a HelloRetryRequest), or nil.
func (c *Client) offerSession13(h *wire.ClientHello, prefix *keys.Transcript) error {
	sess := c.cfg.Session
	if c.cfg.TicketsDisabled || sess == nil || sess.Version != suites.VersionTLS13 || len(sess.Ticket) == 0 {
		return nil
	}
	now := c.cfg.now()
	s := suites.Lookup(sess.CipherSuite)
	if s == nil || sess.Expired(now) || !c.offersHash13(h, s) {
		return nil
	}
	if c.c13.suite != nil && c.c13.suite.Hash != s.Hash {
		return nil // the HelloRetryRequest chose a suite this PSK cannot be used with
	}
	age := uint32(now.Sub(sess.ReceivedAt) / time.Millisecond)
	psk := wire.PreSharedKeyClientHello{
		Identities: []wire.PSKIdentity{{Identity: sess.Ticket, ObfuscatedTicketAge: age + sess.AgeAdd}},
		Binders:    [][]byte{make([]byte, s.Hash.Size())},
	}
	h.Extensions = replaceExtension(h.Extensions, wire.ExtPreSharedKey, psk)
	raw, err := h.Marshal()
	if err != nil {
		return internalError(1, "ClientHello", err)
	}
	truncated := raw[:len(raw)-psk.BindersLen()]
	if c.c13.offeredEarly == nil { // after a HelloRetryRequest it is already made
		c.c13.offeredEarly = keys.NewSchedule13(s.Hash, sess.Secret)
	}
	psk.Binders[0] = binder(s, c.c13.offeredEarly, prefix, truncated)
	h.Extensions = replaceExtension(h.Extensions, wire.ExtPreSharedKey, psk)
	c.c13.offered = sess
	if prefix == nil {
		c.note(trace.KindNote, 1, "resumption offered", "version", "TLS 1.3", "by", "pre_shared_key")
	}
	return nil
}

func (c *Client) offersHash13(h *wire.ClientHello, psk *suites.Suite) bool {
	for _, id := range h.CipherSuites {
		if s := suites.Lookup(id); s != nil && s.Version == suites.VersionTLS13 && s.Hash == psk.Hash {
			return true
		}
	}
	return false
}

// binder is the PSK binder: a Finished-style MAC, keyed from the
// resumption binder_key, over the transcript up to the binders (RFC 8446
// §4.2.11.2). early is the schedule started with the PSK; the handshake
// goes on from it if the PSK is accepted.
func binder(s *suites.Suite, early *keys.Schedule13, prefix *keys.Transcript, truncatedHello []byte) []byte {
	var t *keys.Transcript
	if prefix != nil {
		t = prefix.Clone()
	} else {
		t = new(keys.Transcript)
		t.SetHash(s.Hash)
	}
	t.Write(truncatedHello)
	binderKey := early.BinderKey(false)
	return keys.Finished13(s.Hash, binderKey, t.Sum())
}

// acceptPSK13 checks the client's pre_shared_key (into s.s13.resumed):
// the first identity that is our ticket, still valid and usable with the
// chosen suite, and whose binder verifies. A bad binder is fatal
// (decrypt_error); an unusable ticket only means a full handshake.
func (s *Server) acceptPSK13() error {
	sess, identity, plain, early, err := s.findPSK13(s.helloRaw)
	s.s13.resumed, s.s13.pskIdentity, s.s13.pskPlain, s.s13.pskEarly = sess, identity, plain, early
	return err
}

func (s *Server) findPSK13(raw []byte) (*session.State, int, bool, *keys.Schedule13, error) {
	ch := s.hello
	if s.cfg.TicketsDisabled || s.cfg.Tickets == nil || !ch.Extensions.Has(wire.ExtPreSharedKey) {
		return nil, 0, false, nil, nil
	}
	var modes wire.PSKKeyExchangeModes
	if found, err := ch.Extensions.Decode(wire.ExtPSKKeyExchangeModes, &modes); err != nil {
		return nil, 0, false, nil, helloError(err, "psk_key_exchange_modes")
	} else if !found {
		return nil, 0, false, nil, alert.Errorf(alert.MissingExtension, 1, "ClientHello", "pre_shared_key without psk_key_exchange_modes (RFC 8446 §4.2.9)")
	}
	plain := s.cfg.PSKWithoutECDHE && contains([]uint8(modes), pskModePlain)
	if !plain && !contains([]uint8(modes), pskModeDHE) {
		s.note(trace.KindNote, 1, "resumption rejected", "reason", "the client offers psk_ke only; this server requires psk_dhe_ke")
		return nil, 0, false, nil, nil
	}
	var psk wire.PreSharedKeyClientHello
	if _, err := ch.Extensions.Decode(wire.ExtPreSharedKey, &psk); err != nil {
		return nil, 0, false, nil, helloError(err, "pre_shared_key")
	}
	now := s.cfg.now()
	for i, id := range psk.Identities {
		sess := s.cfg.Tickets.Open(id.Identity, now)
		if why := s.unusable13(sess, now); why != "" {
			s.note(trace.KindNote, 1, "resumption rejected", "identity", strconv.Itoa(i), "reason", why)
			continue
		}
		truncated := raw[:len(raw)-psk.BindersLen()]
		early := keys.NewSchedule13(s.s13.suite.Hash, sess.Secret)
		want := binder(s.s13.suite, early, s.s13.binderPrefix, truncated)
		if !keys.Equal(want, psk.Binders[i]) {
			return nil, 0, false, nil, alert.Errorf(alert.DecryptError, 1, "ClientHello", "the PSK binder does not verify (RFC 8446 §4.2.11)")
		}
		if len(sess.PeerCertificates) > 0 {
			peer, err := s.cfg.VerifyPeer(sess.PeerCertificates)
			if err != nil {
				s.note(trace.KindNote, 1, "resumption rejected", "reason", "the session's client certificate no longer verifies")
				continue
			}
			s.state.PeerCertificates, s.state.VerifiedChains = peer.Certificates, peer.VerifiedChains
		}
		mode := "psk_dhe_ke"
		if plain {
			mode = "psk_ke"
		}
		s.note(trace.KindNote, 1, "resumption accepted", "identity", strconv.Itoa(i), "mode", mode)
		return sess, i, plain, early, nil
	}
	return nil, 0, false, nil, nil
}

// unusable13 says why a ticket cannot be resumed, or "" if it can.
func (s *Server) unusable13(sess *session.State, now time.Time) string {
	switch {
	case sess == nil:
		return "not a ticket of this server (or its key has been retired)"
	case sess.Version != suites.VersionTLS13:
		return "not a TLS 1.3 ticket"
	case sess.Expired(now):
		return "the ticket has expired"
	case suites.Lookup(sess.CipherSuite) == nil || suites.Lookup(sess.CipherSuite).Hash != s.s13.suite.Hash:
		return "the ticket's hash does not match the chosen cipher suite"
	case s.cfg.ClientAuth.requires() && len(sess.PeerCertificates) == 0:
		return "this server now requires a client certificate"
	}
	return ""
}

// sendNewSessionTicket13 gives the client a ticket after the handshake
// (RFC 8446 §4.6.1): a PSK derived from resumption_master_secret and a
// nonce, sealed so only this server (or its fleet) can open it.
func (s *Server) sendNewSessionTicket13() error {
	if !s.issuesTickets13() {
		return nil
	}
	var ageAdd [4]byte
	if _, err := io.ReadFull(s.random(), ageAdd[:]); err != nil {
		return internalError(8, "NewSessionTicket", err)
	}
	nonce := []byte{0}
	suite := s.s13.suite
	sess := &session.State{
		Version: suites.VersionTLS13, CipherSuite: suite.ID, CreatedAt: s.cfg.now(), Lifetime: ticketLifetime,
		Secret: keys.ResumptionPSK(suite.Hash, s.s13.resumption, nonce), AgeAdd: binary.BigEndian.Uint32(ageAdd[:]),
		ALPN: s.state.NegotiatedProtocol, PeerCertificates: rawChain(s.state.PeerCertificates),
	}
	ticket, err := s.cfg.Tickets.Seal(sess, s.random(), s.cfg.now())
	if err != nil {
		return internalError(8, "NewSessionTicket", err)
	}
	return s.send(&wire.NewSessionTicket13{Lifetime: uint32(ticketLifetime / time.Second), AgeAdd: sess.AgeAdd, Nonce: nonce, Ticket: ticket}, 8)
}

// clientCanResume13 reports whether the client offered a PSK key exchange
// mode this server resumes with: "Servers MUST NOT send a NewSessionTicket
// with tickets that are not compatible with the advertised modes" (RFC 8446
// §4.2.9), and a client without psk_key_exchange_modes cannot offer a PSK.
func (s *Server) clientCanResume13() bool {
	var modes wire.PSKKeyExchangeModes
	if found, err := s.hello.Extensions.Decode(wire.ExtPSKKeyExchangeModes, &modes); err != nil || !found {
		return false
	}
	return contains([]uint8(modes), pskModeDHE) || (s.cfg.PSKWithoutECDHE && contains([]uint8(modes), pskModePlain))
}

// issuesTickets13 reports whether this handshake ends with a
// NewSessionTicket, and so needs the resumption_master_secret.
func (s *Server) issuesTickets13() bool {
	return !s.cfg.TicketsDisabled && s.cfg.Tickets != nil && s.clientCanResume13()
}

// keepsTickets reports whether a client stores NewSessionTickets; if not,
// the resumption_master_secret is not even derived.
func (b *base) keepsTickets() bool {
	return b.side == trace.Client && b.cfg.StoreSession != nil && !b.cfg.TicketsDisabled
}

// readNewSessionTicket13 turns the server's ticket into a session to
// resume later (RFC 8446 §4.6.1).
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
	suite := k.suite
	now := c.cfg.now()
	c.cfg.StoreSession(&session.State{
		Version: suites.VersionTLS13, CipherSuite: suite.ID, CreatedAt: now, ReceivedAt: now, Lifetime: lifetime,
		Secret: keys.ResumptionPSK(suite.Hash, k.resumption, nst.Nonce), AgeAdd: nst.AgeAdd,
		Ticket: nst.Ticket, ALPN: c.state.NegotiatedProtocol, ServerName: c.cfg.ServerName,
		Certificates: c.state.PeerCertificates, VerifiedChains: c.state.VerifiedChains,
	})
	return nil
}
