package handshake

import (
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// PostHandshake is what an engine does after the handshake: TLS 1.3
// KeyUpdate in both directions and NewSessionTicket on the client
// (RFC 8446 §4.6). The connection serializes the calls.
type PostHandshake interface {
	// HandlePostHandshake consumes one handshake message that arrives after the handshake.
	HandlePostHandshake(msg []byte) ([]Action, error)
	// UpdateKeys starts a KeyUpdate, asking the peer to update too if requestPeer.
	UpdateKeys(requestPeer bool) ([]Action, error)
	// ApplicationDataSent tells the engine that application data went out
	// since: the next KeyUpdate request of the peer is answered again.
	ApplicationDataSent()
}

func (c *Client) HandlePostHandshake(msg []byte) ([]Action, error) {
	return c.handlePostHandshake(&c.c13.secrets13, msg)
}

func (s *Server) HandlePostHandshake(msg []byte) ([]Action, error) {
	return s.handlePostHandshake(&s.s13.secrets13, msg)
}

func (b *base) ApplicationDataSent() { b.keyUpdateAnswered = false }

func (c *Client) UpdateKeys(requestPeer bool) ([]Action, error) {
	return c.updateKeys(&c.c13.secrets13, false, requestPeer)
}

func (s *Server) UpdateKeys(requestPeer bool) ([]Action, error) {
	return s.updateKeys(&s.s13.secrets13, true, requestPeer)
}

// Post returns what the connection keeps after a TLS 1.3 handshake in
// place of the engine: a PostHandshake of a few hundred bytes, where the
// engine is about a kilobyte with its per-version state. Nil before the
// handshake is complete, and for TLS 1.2, which has no post-handshake
// messages tlsflow accepts.
func (c *Client) Post() PostHandshake { return c.post(&c.c13.secrets13) }

func (s *Server) Post() PostHandshake { return s.post(&s.s13.secrets13) }

func (b *base) post(k *secrets13) PostHandshake {
	if !b.complete || b.state.Version != suites.VersionTLS13 {
		return nil
	}
	return &post13{base: *b, k: *k}
}

// post13 is a completed TLS 1.3 engine reduced to its post-handshake duties.
type post13 struct {
	base
	k secrets13
}

func (p *post13) HandlePostHandshake(msg []byte) ([]Action, error) {
	return p.handlePostHandshake(&p.k, msg)
}

func (p *post13) UpdateKeys(requestPeer bool) ([]Action, error) {
	return p.updateKeys(&p.k, p.side == trace.Server, requestPeer)
}

// handlePostHandshake takes a client's NewSessionTicket and either side's
// KeyUpdate.
func (b *base) handlePostHandshake(k *secrets13, msg []byte) (_ []Action, err error) {
	defer catchPanic(&err)
	isServer := b.side == trace.Server
	if !isServer && len(msg) > 0 && wire.HandshakeType(msg[0]) == wire.TypeNewSessionTicket && b.state.Version == suites.VersionTLS13 {
		return nil, b.readNewSessionTicket13(k, msg)
	}
	return b.postHandshake(k, msg, isServer)
}

// postHandshake handles a KeyUpdate; anything else after the handshake is
// unexpected (tlsflow does not offer post-handshake client authentication).
func (b *base) postHandshake(k *secrets13, msg []byte, isServer bool) ([]Action, error) {
	if b.state.Version != suites.VersionTLS13 || len(msg) == 0 || wire.HandshakeType(msg[0]) != wire.TypeKeyUpdate {
		return nil, unexpected(msg, 8, "KeyUpdate")
	}
	ku := new(wire.KeyUpdate)
	if err := parse(ku, msg, 8); err != nil {
		return nil, err
	}
	b.traceMessage(trace.Received, ku, msg, 8)
	// The peer's next records use its next secret (RFC 8446 §7.2).
	peer := &k.clientApp
	if !isServer {
		peer = &k.serverApp
	}
	nextTrafficSecret(k.suite, peer)
	read, err := trafficCipher(k.suite, *peer)
	if err != nil {
		return nil, internalError(8, "KeyUpdate", err)
	}
	b.note(trace.KindKeys, 8, "key update", "direction", "peer → us")
	b.out = append(b.out, SetReadCipher{Cipher: read})
	if ku.RequestUpdate == wire.UpdateRequested && !b.keyUpdateAnswered {
		// Our own KeyUpdate goes with the new read key, in one list. Until
		// we send application data again, further requests get no more
		// answers: "an implementation which receives multiple KeyUpdates
		// while it is silent [responds] with a single update" (RFC 8446
		// §4.6.3), so a peer cannot make us pile up updates.
		b.keyUpdateAnswered = true
		return b.updateKeys(k, isServer, false)
	}
	return b.take(), nil
}

// nextTrafficSecret moves *secret to application_traffic_secret_N+1 and
// erases _N: after a KeyUpdate the old secret protects nothing, and kept it
// would decrypt every record sent under it (RFC 8446 §7.2: "Once
// client_/server_application_traffic_secret_N+1 and its associated traffic
// keys have been computed, implementations SHOULD delete
// client_/server_application_traffic_secret_N and its associated traffic
// keys").
func nextTrafficSecret(s *suites.Suite, secret *[]byte) {
	old := *secret
	*secret = keys.NextTrafficSecret(s.Hash, old)
	clear(old)
}

// updateKeys sends a KeyUpdate under the current key and switches our
// writes to the next traffic secret.
func (b *base) updateKeys(k *secrets13, isServer, requestPeer bool) (_ []Action, err error) {
	defer catchPanic(&err)
	if b.state.Version != suites.VersionTLS13 || !b.complete {
		return nil, alert.Errorf(alert.InternalError, 8, "KeyUpdate", "KeyUpdate needs a completed TLS 1.3 handshake")
	}
	ku := &wire.KeyUpdate{RequestUpdate: wire.UpdateNotRequested}
	if requestPeer {
		ku.RequestUpdate = wire.UpdateRequested
	}
	raw, err := ku.Marshal()
	if err != nil {
		return nil, internalError(8, "KeyUpdate", err)
	}
	b.out = append(b.out, SendMessage{Data: raw})
	b.traceMessage(trace.Sent, ku, raw, 8)
	own := &k.serverApp
	if !isServer {
		own = &k.clientApp
	}
	nextTrafficSecret(k.suite, own)
	write, err := trafficCipher(k.suite, *own)
	if err != nil {
		return nil, internalError(8, "KeyUpdate", err)
	}
	b.note(trace.KindKeys, 8, "key update", "direction", "us → peer")
	b.out = append(b.out, SetWriteCipher{Cipher: write})
	return b.take(), nil
}
