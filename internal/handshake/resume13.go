package handshake

import (
	"encoding/binary"
	"fmt"
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
// extension, with its binder over the ClientHello so far, if the
// resumption decision allows it (mayResume). prefix is the transcript
// before this ClientHello (after a HelloRetryRequest), or nil: the second
// ClientHello offers again the session the first one did, if the suite the
// HelloRetryRequest chose has the session's hash.
func (c *Client) offerSession13(h *wire.ClientHello, prefix *keys.Transcript) error {
	sess := c.c13.offered
	if prefix == nil {
		sess = c.cfg.Session
		if c.cfg.TicketsDisabled || sess == nil || sess.Version != suites.VersionTLS13 || len(sess.Ticket) == 0 {
			return nil
		}
		peer, why := c.mayResume(sess, suites.VersionTLS13, h.CipherSuites)
		if why != "" {
			c.note(trace.KindNote, 1, "resumption not offered", "version", "TLS 1.3", "reason", why)
			return nil
		}
		c.resumePeer = peer
	}
	if sess == nil {
		return nil
	}
	s := suites.Lookup(sess.CipherSuite)
	if c.c13.suite != nil && c.c13.suite.Hash != s.Hash {
		c.c13.offered = nil
		return nil // the HelloRetryRequest chose a suite this PSK cannot be used with
	}
	age := uint32(c.cfg.now().Sub(sess.ReceivedAt) / time.Millisecond)
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
	binderKey := early.BinderKey(keys.Resumption)
	return keys.Finished13(s.Hash, binderKey, t.Sum())
}

// psk13 is a PSK the server accepted from pre_shared_key: which identity,
// its session, the early secret made to check its binder (the handshake
// goes on from it, RFC 8446 §7.1), psk_ke or psk_dhe_ke, and the session's
// client chain as the resumption decision checked it.
type psk13 struct {
	sess     *session.State
	identity int
	early    *keys.Schedule13
	plain    bool
	peer     *PeerCertificates
}

// acceptPSK13 decides on the client's pre_shared_key (into s.s13.psk),
// anew for each ClientHello: the first identity whose session the
// resumption decision allows (mayResume) and whose binder verifies. A bad
// binder is fatal (decrypt_error); an unusable session only means a full
// handshake. Nothing is recorded in the connection's state until the
// server flight commits to the resumption.
func (s *Server) acceptPSK13() error {
	psk, err := s.findPSK13(s.helloRaw)
	s.s13.psk = psk
	return err
}

func (s *Server) findPSK13(raw []byte) (*psk13, error) {
	ch := s.hello
	if !s.ticketsOn() || !ch.Extensions.Has(wire.ExtPreSharedKey) {
		return nil, nil
	}
	var modes wire.PSKKeyExchangeModes
	if found, err := ch.Extensions.Decode(wire.ExtPSKKeyExchangeModes, &modes); err != nil {
		return nil, helloError(err, "psk_key_exchange_modes")
	} else if !found {
		return nil, alert.Errorf(alert.MissingExtension, 1, "ClientHello", "pre_shared_key without psk_key_exchange_modes (RFC 8446 §4.2.9)")
	}
	plain := s.cfg.PSKWithoutECDHE && contains([]uint8(modes), pskModePlain)
	if !plain && !contains([]uint8(modes), pskModeDHE) {
		s.note(trace.KindNote, 1, "resumption rejected", "reason", "the client offers psk_ke only; this server requires psk_dhe_ke")
		return nil, nil
	}
	var offered wire.PreSharedKeyClientHello
	if _, err := ch.Extensions.Decode(wire.ExtPreSharedKey, &offered); err != nil {
		return nil, helloError(err, "pre_shared_key")
	}
	for i, id := range offered.Identities {
		sess, err := s.openTicket(id.Identity, 1)
		if err != nil {
			return nil, err
		}
		verdict, err := s.mayResume(sess, suites.VersionTLS13, s.s13.suite)
		if err != nil {
			return nil, err
		}
		if verdict.reject != "" {
			s.note(trace.KindNote, 1, "resumption rejected", "identity", strconv.Itoa(i), "reason", verdict.reject)
			continue
		}
		truncated := raw[:len(raw)-offered.BindersLen()]
		early := keys.NewSchedule13(s.s13.suite.Hash, sess.Secret)
		want := binder(s.s13.suite, early, s.s13.binderPrefix, truncated)
		if !keys.Equal(want, offered.Binders[i]) {
			return nil, alert.Errorf(alert.DecryptError, 1, "ClientHello", "the PSK binder does not verify (RFC 8446 §4.2.11)")
		}
		mode := "psk_dhe_ke"
		if plain {
			mode = "psk_ke"
		}
		s.note(trace.KindNote, 1, "resumption accepted", "identity", strconv.Itoa(i), "mode", mode)
		return &psk13{sess: sess, identity: i, early: early, plain: plain, peer: verdict.peer}, nil
	}
	return nil, nil
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
		Secret: keys.ResumptionPSK(suite.Hash, s.s13.resumption, nonce), AgeAdd: binary.BigEndian.Uint32(ageAdd[:]),
		ALPN: s.state.NegotiatedProtocol, ServerName: s.info.ServerName, PeerCertificates: rawChain(s.state.PeerCertificates),
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
	return s.sendMessage(&wire.NewSessionTicket13{Lifetime: lifetime, AgeAdd: sess.AgeAdd, Nonce: nonce, Ticket: ticket}, 8, lazy)
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
	return s.ticketsOn() && s.clientCanResume13()
}

// keepsTickets reports whether a client stores NewSessionTickets; if not,
// the resumption_master_secret is not even derived.
func (b *base) keepsTickets() bool {
	return b.side == trace.Client && b.cfg.StoreSession != nil && !b.cfg.TicketsDisabled
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
	suite := k.suite
	now := c.cfg.now()
	c.cfg.StoreSession(&session.State{
		Version: suites.VersionTLS13, CipherSuite: suite.ID, CreatedAt: c.authenticatedAt, ReceivedAt: now, Lifetime: lifetime,
		Secret: keys.ResumptionPSK(suite.Hash, k.resumption, nst.Nonce), AgeAdd: nst.AgeAdd,
		Ticket: nst.Ticket, ALPN: c.state.NegotiatedProtocol, ServerName: c.cfg.ServerName,
		Certificates: c.state.PeerCertificates, VerifiedChains: c.state.VerifiedChains, VerifiedUnder: c.verifiedUnder,
		OCSPResponse: c.state.OCSPResponse, SignedCertificateTimestamps: c.state.SignedCertificateTimestamps,
	})
	return nil
}
