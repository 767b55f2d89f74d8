package handshake

import (
	"crypto/x509"
	"fmt"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// PostHandshake is what an engine does after the handshake: TLS 1.3
// KeyUpdate in both directions and NewSessionTicket on the client
// (RFC 8446 §4.6). The connection serializes the calls.
//
// A KeyUpdate from the peer changes how we read at once. The answer an
// update_requested asks for changes how we write, so the engine only notes
// that it is owed (KeyUpdateOwed) and makes it when the connection's
// writer asks (AnswerKeyUpdate): the reader never waits for the writer,
// and a KeyUpdate of ours is always computed and written in one piece.
type PostHandshake interface {
	// HandlePostHandshake consumes one handshake message that arrives
	// after the handshake; its actions concern only the read side.
	HandlePostHandshake(msg []byte) ([]Action, error)
	// KeyUpdateOwed reports whether the peer asked for a KeyUpdate that
	// we have not sent yet.
	KeyUpdateOwed() bool
	// AnswerKeyUpdate returns the owed KeyUpdate (update_not_requested)
	// and our next write key, or nothing if none is owed.
	AnswerKeyUpdate() ([]Action, error)
	// UpdateKeys starts a KeyUpdate, asking the peer to update too if
	// requestPeer; an owed answer goes out first.
	UpdateKeys(requestPeer bool) ([]Action, error)
	// ApplicationDataSent tells the engine that application data went out
	// since: the next KeyUpdate request of the peer is answered again.
	ApplicationDataSent()

	// Post-handshake client authentication (pha13.go). A client's answer
	// to a server's CertificateRequest is owed like a KeyUpdate's
	// (CertificateRequestOwed) and made by the writer
	// (AnswerCertificateRequest). A server starts one with
	// RequestClientCertificate and learns its outcome from
	// ClientCertificateResult after each message it handles.
	CertificateRequestOwed() bool
	AnswerCertificateRequest() ([]Action, error)
	RequestClientCertificate(requires bool, verify func([]*x509.Certificate) (*PeerCertificates, error)) ([]Action, error)
	ClientCertificateResult() (done bool, peer *PeerCertificates, err error)
}

func (c *Client) AnswerCertificateRequest() ([]Action, error) {
	return c.answerCertificateRequest13(&c.c13.secrets13)
}

func (s *Server) AnswerCertificateRequest() ([]Action, error) { return nil, nil }

func (c *Client) RequestClientCertificate(bool, func([]*x509.Certificate) (*PeerCertificates, error)) ([]Action, error) {
	return nil, fmt.Errorf("only a server requests a client certificate")
}

func (s *Server) RequestClientCertificate(requires bool, verify func([]*x509.Certificate) (*PeerCertificates, error)) ([]Action, error) {
	return s.requestClientCertificate13(requires, verify)
}

func (p *post13) AnswerCertificateRequest() ([]Action, error) {
	return p.answerCertificateRequest13(&p.k)
}

func (p *post13) RequestClientCertificate(requires bool, verify func([]*x509.Certificate) (*PeerCertificates, error)) ([]Action, error) {
	return p.requestClientCertificate13(requires, verify)
}

func (c *Client) HandlePostHandshake(msg []byte) ([]Action, error) {
	return c.handlePostHandshake(&c.c13.secrets13, msg)
}

func (s *Server) HandlePostHandshake(msg []byte) ([]Action, error) {
	return s.handlePostHandshake(&s.s13.secrets13, msg)
}

func (b *base) ApplicationDataSent() { b.keyUpdateAnswered = false }

func (b *base) KeyUpdateOwed() bool { return b.keyUpdateOwed }

func (c *Client) UpdateKeys(requestPeer bool) ([]Action, error) {
	return c.ownKeyUpdate(&c.c13.secrets13, false, requestPeer)
}

func (s *Server) UpdateKeys(requestPeer bool) ([]Action, error) {
	return s.ownKeyUpdate(&s.s13.secrets13, true, requestPeer)
}

func (c *Client) AnswerKeyUpdate() ([]Action, error) {
	return c.answerKeyUpdate(&c.c13.secrets13, false)
}

func (s *Server) AnswerKeyUpdate() ([]Action, error) {
	return s.answerKeyUpdate(&s.s13.secrets13, true)
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
	return p.ownKeyUpdate(&p.k, p.side == trace.Server, requestPeer)
}

func (p *post13) AnswerKeyUpdate() ([]Action, error) {
	return p.answerKeyUpdate(&p.k, p.side == trace.Server)
}

// handlePostHandshake takes a client's NewSessionTicket and either side's
// KeyUpdate.
func (b *base) handlePostHandshake(k *secrets13, msg []byte) (_ []Action, err error) {
	defer catchPanic(&err)
	isServer := b.side == trace.Server
	if len(msg) > 0 && b.state.Version == suites.VersionTLS13 {
		switch t := wire.HandshakeType(msg[0]); {
		case !isServer && t == wire.TypeNewSessionTicket:
			return nil, b.readNewSessionTicket13(k, msg)
		case !isServer && t == wire.TypeCertificateRequest:
			return nil, b.takeCertificateRequest13(msg)
		case isServer && t != wire.TypeKeyUpdate && b.pha != nil && b.pha.pending:
			return nil, b.readPostHandshakeAuth13(k, msg)
		}
	}
	return b.postHandshake(k, msg, isServer)
}

// postHandshake handles a KeyUpdate; anything else after the handshake that
// handlePostHandshake did not take is unexpected.
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
	b.nextTrafficSecret(k.suite, peer)
	read, err := b.trafficCipher(k.suite, *peer)
	if err != nil {
		return nil, internalError(8, "KeyUpdate", err)
	}
	b.note(trace.KindKeys, 8, "key update", "direction", "peer → us")
	b.act(SetReadCipher{Cipher: read})
	if ku.RequestUpdate == wire.UpdateRequested && !b.keyUpdateAnswered {
		// The answer is owed until the writer makes it (AnswerKeyUpdate),
		// at the latest before our next application data (RFC 8446
		// §4.6.3). Until we send application data again, further requests
		// get no more answers: "an implementation which receives multiple
		// KeyUpdates while it is silent [responds] with a single update",
		// so a peer cannot make us pile up updates.
		b.keyUpdateOwed = true
	}
	return b.take(), nil
}

// answerKeyUpdate makes the owed answer to the peer's update_requested.
func (b *base) answerKeyUpdate(k *secrets13, isServer bool) ([]Action, error) {
	if !b.keyUpdateOwed {
		return nil, nil
	}
	b.keyUpdateOwed, b.keyUpdateAnswered = false, true
	return b.updateKeys(k, isServer, false)
}

// ownKeyUpdate is a KeyUpdate we start; an owed answer goes out before it,
// so the peer's request is answered as it asked (update_not_requested).
func (b *base) ownKeyUpdate(k *secrets13, isServer, requestPeer bool) ([]Action, error) {
	answer, err := b.answerKeyUpdate(k, isServer)
	if err != nil {
		return nil, err
	}
	actions, err := b.updateKeys(k, isServer, requestPeer)
	return append(answer, actions...), err
}

// nextTrafficSecret moves *secret to application_traffic_secret_N+1 and
// erases _N: after a KeyUpdate the old secret protects nothing, and kept it
// would decrypt every record sent under it (RFC 8446 §7.2: "Once
// client_/server_application_traffic_secret_N+1 and its associated traffic
// keys have been computed, implementations SHOULD delete
// client_/server_application_traffic_secret_N and its associated traffic
// keys").
func (b *base) nextTrafficSecret(s *suites.Suite, secret *[]byte) {
	old := *secret
	*secret = keys.NextTrafficSecret(b.hash(s.Hash), old)
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
	b.act(SendMessage{Data: raw})
	b.traceMessage(trace.Sent, ku, raw, 8)
	own := &k.serverApp
	if !isServer {
		own = &k.clientApp
	}
	b.nextTrafficSecret(k.suite, own)
	write, err := b.trafficCipher(k.suite, *own)
	if err != nil {
		return nil, internalError(8, "KeyUpdate", err)
	}
	b.note(trace.KindKeys, 8, "key update", "direction", "us → peer")
	b.act(SetWriteCipher{Cipher: write})
	return b.take(), nil
}
