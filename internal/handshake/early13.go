package handshake

import (
	"fmt"
	"strconv"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// 0-RTT early data (RFC 8446 §2.3, §4.2.10, §8). A client resuming a
// session whose ticket allows early data may send application data right
// after its ClientHello, under the client_early_traffic_secret; the server
// either reads it (early_data in EncryptedExtensions, then the client's
// EndOfEarlyData marks the switch to the handshake keys) or skips it
// (conn_records.go). Early data is not forward secret and can be replayed
// by anyone who copies the client's first flight: a server reads it only
// for a fresh ClientHello it has not seen before (session.ReplayWindow),
// and the application sees it apart from the 1-RTT data.

// early13 is a client's 0-RTT attempt: the session offered first, whose
// PSK keys the early data, and what the server made of it.
type early13 struct {
	offer          *pskOffer
	max            int           // max_early_data_size, capped by the limits policy
	handshakeWrite record.Cipher // held back until EndOfEarlyData is out
	accepted       bool
	rejected       bool
}

// offerEarlyData13 adds early_data to a first ClientHello when the
// application has 0-RTT data (Config.EarlyData) and the session offered
// first allows it: only a resumption's first identity may carry early data
// (RFC 8446 §4.2.10), under the session's suite and ALPN protocol.
func (c *Client) offerEarlyData13(h *wire.ClientHello) {
	if !c.cfg.EarlyData {
		return
	}
	why := ""
	var o *pskOffer
	if len(c.c13.offers) > 0 {
		o = c.c13.offers[0]
	}
	switch {
	case o == nil || o.session == nil:
		why = "no session to resume (0-RTT needs a ticket that allows it; tlsflow does not send 0-RTT with external PSKs)"
	case o.session.MaxEarlyData == 0:
		why = "the session's ticket allows no early data (max_early_data_size 0)"
	case o.session.ALPN != "" && !contains(c.cfg.NextProtos, o.session.ALPN):
		why = "the session's ALPN protocol " + strconv.Quote(o.session.ALPN) + " is not offered"
	}
	if why != "" {
		c.note(trace.KindNote, 1, "early data not offered", "reason", why)
		return
	}
	h.Extensions.AddEmpty(wire.ExtEarlyData)
	c.c13.early = &early13{offer: o, max: min(int(o.session.MaxEarlyData), c.cfg.limits().EarlyData)}
	c.state.EarlyDataOffered = true
	c.note(trace.KindNote, 1, "early data offered", "max_early_data_size", strconv.Itoa(c.c13.early.max))
}

// openEarlyData13 follows a ClientHello that offers early data: the
// compatibility ChangeCipherSpec (RFC 8446 Appendix D.4: "immediately
// after its first ClientHello if it is sending early data"), then the
// early traffic key for what the application writes next.
func (c *Client) openEarlyData13(raw []byte) error {
	e := c.c13.early
	suite := suites.Lookup(e.offer.session.CipherSuite)
	t := new(keys.Transcript)
	t.SetHash(c.hash(e.offer.hash))
	t.Write(raw)
	secret := e.offer.earlySchedule(c.cfg.Provider).ClientEarlyTrafficSecret(t.Sum())
	c.logSecret("CLIENT_EARLY_TRAFFIC_SECRET", 1, secret)
	cipher, err := c.trafficCipher(suite, secret)
	clear(secret)
	if err != nil {
		return internalError(1, "ClientHello", err)
	}
	c.sendCompatCCS13()
	c.act(OpenEarlyData{Cipher: cipher, Max: e.max})
	return nil
}

// earlyDataAfterServerHello13: the early data is rejected unless the
// server selected the first PSK, and then its EncryptedExtensions say.
// Until we know, our writes stay on the early key (the server reads with
// it if it accepts); rejected, they switch to the handshake key now.
func (c *Client) earlyDataAfterServerHello13(write record.Cipher) []Action {
	e := c.c13.early
	if e == nil || e.rejected { // rejected: a HelloRetryRequest came first
		return []Action{SetWriteCipher{Cipher: write}}
	}
	if c.c13.psk == nil || c.c13.psk != c.c13.offers[0] {
		c.rejectEarlyData13("the server did not resume the session offered first")
		return []Action{SetWriteCipher{Cipher: write}}
	}
	e.handshakeWrite = write
	return nil
}

// rejectEarlyData13 records that the server does not read our 0-RTT data:
// the application may send it again after the handshake (RFC 8446 §4.2.10).
func (c *Client) rejectEarlyData13(why string) {
	c.c13.early.rejected = true
	c.note(trace.KindNote, 2, "early data rejected", "reason", why)
}

// earlyDataInEncryptedExtensions13 reads the server's answer to our
// early_data: present, it accepts and must have kept the session's suite
// and ALPN protocol (RFC 8446 §4.2.10); absent, it rejects.
func (c *Client) earlyDataInEncryptedExtensions13(ee *wire.EncryptedExtensions) ([]Action, error) {
	e := c.c13.early
	accepted, err := ee.Extensions.Empty(wire.ExtEarlyData)
	if err != nil {
		return nil, alert.Errorf(alert.DecodeError, 2, "EncryptedExtensions", "early_data: %w", err)
	}
	switch {
	case accepted && (e == nil || e.rejected):
		return nil, alert.Errorf(alert.IllegalParameter, 2, "EncryptedExtensions",
			"the server accepts early data that could not be accepted (not offered, or another PSK selected; RFC 8446 §4.2.10)")
	case e == nil || e.rejected:
		return nil, nil
	case !accepted:
		c.rejectEarlyData13("the server's EncryptedExtensions do not accept it")
		return []Action{SetWriteCipher{Cipher: e.handshakeWrite}}, nil
	case c.state.CipherSuite != e.offer.session.CipherSuite:
		return nil, alert.Errorf(alert.IllegalParameter, 2, "EncryptedExtensions",
			"the server accepts early data under %s, the session's suite was %s (RFC 8446 §4.2.10)",
			suites.Name(c.state.CipherSuite), suites.Name(e.offer.session.CipherSuite))
	case c.state.NegotiatedProtocol != e.offer.session.ALPN:
		return nil, alert.Errorf(alert.IllegalParameter, 2, "EncryptedExtensions",
			"the server accepts early data under ALPN protocol %q, the session's was %q (RFC 8446 §4.2.10)",
			c.state.NegotiatedProtocol, e.offer.session.ALPN)
	}
	e.accepted = true
	c.state.EarlyDataAccepted = true
	c.note(trace.KindNote, 2, "early data accepted")
	return nil, nil
}

// sendEndOfEarlyData13 closes accepted early data after the server's
// Finished: EndOfEarlyData under the early key, then the handshake key for
// the rest of our flight (RFC 8446 §4.5).
func (c *Client) sendEndOfEarlyData13() error {
	e := c.c13.early
	if e == nil || !e.accepted {
		return nil
	}
	if err := c.send(&wire.EndOfEarlyData{}, 6); err != nil {
		return err
	}
	c.act(SetWriteCipher{Cipher: e.handshakeWrite})
	return nil
}

// earlyDataVerdict13 decides whether this server reads the client's 0-RTT
// data: "" if it does, else why not. RFC 8446 §4.2.10 asks for the first
// PSK, the ticket's version, suite and ALPN protocol; §8 for a fresh
// ClientHello seen once.
func (s *Server) earlyDataVerdict13() string {
	psk := s.s13.psk
	switch {
	case !s.hello.Extensions.Has(wire.ExtEarlyData):
		return "-"
	case !s.cfg.EarlyData:
		return "this server does not read 0-RTT data on this connection"
	case psk == nil:
		return "no PSK accepted"
	case psk.identity != 0:
		return "the PSK accepted is not the first one offered"
	case psk.offer.session == nil:
		return "tlsflow accepts 0-RTT only with its own tickets, not with external PSKs"
	}
	sess := psk.offer.session
	switch {
	case sess.MaxEarlyData == 0:
		return "the ticket allows no early data"
	case sess.MaxEarlyData > s.cfg.MaxEarlyData:
		// The client may send what the ticket promised; this server now
		// reads less (or none).
		return "the ticket allows more early data than this server's MaxEarlyData now does"
	case sess.CipherSuite != s.s13.suite.ID:
		return "the cipher suite differs from the ticket's"
	case sess.ALPN != s.state.NegotiatedProtocol:
		return "the ALPN protocol differs from the ticket's"
	case s.cfg.Replay == nil:
		return "no replay memory"
	}
	now := s.cfg.now()
	clientAge := time.Duration(psk.obfuscatedAge-sess.AgeAdd) * time.Millisecond
	skew := now.Sub(sess.ReceivedAt) - clientAge
	if skew < -s.cfg.Replay.Window || skew > s.cfg.Replay.Window {
		return fmt.Sprintf("the ClientHello is not fresh: its ticket age is off by %v, more than %v (RFC 8446 §8.3)",
			skew.Round(time.Millisecond), s.cfg.Replay.Window)
	}
	if !s.cfg.Replay.FirstUse(psk.binder, now) {
		return "this ClientHello was seen before (a replay, RFC 8446 §8.2), or the replay memory is full"
	}
	return ""
}

// acceptEarlyData13 is the server's answer to a ClientHello's early_data,
// decided before the ServerHello goes out: the early key to read with
// (and early_data in EncryptedExtensions, State.EarlyDataAccepted), or
// nothing (the connection skips the records).
func (s *Server) acceptEarlyData13() (Action, error) {
	why := s.earlyDataVerdict13()
	if why == "-" {
		return nil, nil
	}
	if why != "" {
		s.note(trace.KindNote, 1, "early data rejected", "reason", why)
		return nil, nil
	}
	sess := s.s13.psk.offer.session
	secret := s.s13.psk.offer.earlySchedule(s.cfg.Provider).ClientEarlyTrafficSecret(s.transcript.Sum())
	s.logSecret("CLIENT_EARLY_TRAFFIC_SECRET", 1, secret)
	cipher, err := s.trafficCipher(s.s13.suite, secret)
	clear(secret)
	if err != nil {
		return nil, internalError(2, "EncryptedExtensions", err)
	}
	s.state.EarlyDataAccepted = true
	max := min(int(sess.MaxEarlyData), s.cfg.limits().EarlyData)
	s.note(trace.KindNote, 1, "early data accepted", "max_early_data_size", strconv.Itoa(max))
	return AcceptEarlyData{Cipher: cipher, Max: max}, nil
}

// readEndOfEarlyData13 (server): the client's early data is over; its
// second flight follows under the handshake key (RFC 8446 §4.5).
func (s *Server) readEndOfEarlyData13(msg []byte) (serverState, error) {
	eoed := new(wire.EndOfEarlyData)
	if err := parse(eoed, msg, 6); err != nil {
		return nil, err
	}
	s.received(eoed, msg, 6)
	s.act(SetReadCipher{Cipher: s.s13.handshakeRead})
	if s.s13.readLimit > 0 {
		s.act(LimitRecords{Read: s.s13.readLimit})
	}
	return (*Server).readClientFinished13, nil
}
