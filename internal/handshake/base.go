package handshake

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// base is what both sides share: the configuration, the transcript, the
// actions produced by the current input, and the negotiated state.
type base struct {
	cfg        *Config
	side       trace.Side
	out        []Action
	transcript keys.Transcript
	state      *State // shared with the connection once complete
	complete   bool

	// lastStep and lastMessage are the last message sent or received, so
	// an alert from the peer can be placed in the flow.
	lastStep    int
	lastMessage string

	// keyUpdateOwed: the peer asked for a KeyUpdate we have not sent yet;
	// keyUpdateAnswered: we answered one and have sent no application
	// data since (RFC 8446 §4.6.3).
	keyUpdateOwed, keyUpdateAnswered bool

	ccsDropped int // TLS 1.3 compatibility ChangeCipherSpecs dropped

	// pha is post-handshake client authentication (pha13.go), when the
	// client offered it.
	pha *pha13

	// authenticatedAt is when the peer was authenticated: now in a full
	// handshake, the resumed session's CreatedAt in a resumption. Tickets
	// issued or received carry it, so a session never outlives its
	// authentication by more than session.MaxLifetime.
	authenticatedAt time.Time
	// verifiedUnder is, on a client, what the server chain was verified
	// against (session.State.VerifiedUnder).
	verifiedUnder any
	// verifyPeer, when set, checks the peer's chain instead of
	// Config.VerifyPeer: a client whose ECH offer was rejected verifies
	// the public name (echclient.go).
	verifyPeer func(certs []*x509.Certificate) (*PeerCertificates, error)
	// outerOnly: the handshake only authenticates an ECH public name, for
	// the retry (draft-ietf-tls-esni-25 §6.1.7): the application's
	// VerifyConnection and OCSP policy are not asked, and no client
	// certificate is sent.
	outerOnly bool
}

// dropChangeCipherSpec drops a ChangeCipherSpec that arrives during a TLS
// 1.3 handshake, the peer's middlebox compatibility (RFC 8446 §5); one is
// normal, a stream of them is not (limits.Policy.ChangeCipherSpecs).
func (b *base) dropChangeCipherSpec() error {
	if b.ccsDropped++; b.ccsDropped > b.cfg.limits().ChangeCipherSpecs {
		return alert.Errorf(alert.UnexpectedMessage, 6, "ChangeCipherSpec", "too many ChangeCipherSpec records in a TLS 1.3 handshake")
	}
	return nil
}

// Progress returns the step and name of the last handshake message sent
// or received, or of the peer's TLS 1.2 ChangeCipherSpec.
func (b *base) Progress() (step int, message string) { return b.lastStep, b.lastMessage }

func (b *base) Complete() bool { return b.complete }
func (b *base) State() *State  { return b.state }

func (b *base) random() io.Reader {
	if b.cfg.Rand != nil {
		return b.cfg.Rand
	}
	return rand.Reader
}

// act queues actions. A step usually queues several (a flight's messages
// and its key changes), so the list starts with room for a flight rather
// than growing one action at a time.
func (b *base) act(a ...Action) {
	if b.out == nil {
		b.out = make([]Action, 0, 8)
	}
	b.out = append(b.out, a...)
}

// take returns the actions produced so far and starts a new list.
func (b *base) take() []Action {
	out := b.out
	b.out = nil
	return out
}

// send marshals m, adds it to the transcript, queues it and traces it. A
// message that cannot be built (a field longer than its length prefix) is
// our internal_error: whatever a peer or the configuration sized should
// have been bounded where it came in, and never reaches a panic.
func (b *base) send(m wire.Message, step int) error { return b.sendMessage(m, step, false) }

// sendMessage is send, with the message marked Lazy if lazy.
func (b *base) sendMessage(m wire.Message, step int, lazy bool) error {
	raw, err := m.Marshal()
	if err != nil {
		return internalError(step, messageName(m), err)
	}
	// A TLS 1.3 NewSessionTicket is not part of the handshake, even when
	// it goes out before the client's Finished (RFC 8446 §4.4.1: the
	// transcript holds handshake messages, and §4.6 lists this one as a
	// post-handshake message).
	postHandshake := b.state.Version == suites.VersionTLS13 && m.Type() == wire.TypeNewSessionTicket
	if !postHandshake {
		b.transcript.Write(raw)
	}
	b.act(SendMessage{Data: raw, Lazy: lazy})
	step0, message0 := b.Progress()
	b.traceMessage(trace.Sent, m, raw, step)
	if postHandshake {
		// Nor does it move the handshake on: an alert that answers our
		// first flight still comes after our Finished (step 7).
		b.lastStep, b.lastMessage = step0, message0
	}
	return nil
}

// received adds a parsed message to the transcript and traces it.
func (b *base) received(m wire.Message, raw []byte, step int) {
	b.transcript.Write(raw)
	b.traceMessage(trace.Received, m, raw, step)
}

// finished12 notes the verify_data of a TLS 1.2 Finished, sent or
// received; the first of the handshake is its tls-unique (RFC 5929 §3.1).
func (b *base) finished12(verifyData []byte) {
	if b.state.TLSUnique == nil {
		b.state.TLSUnique = bytes.Clone(verifyData)
	}
}

// receivedChangeCipherSpec traces the peer's TLS 1.2 ChangeCipherSpec and
// counts it as progress: what fails after it (the record that should hold
// the peer's Finished) failed after step 6, not after the last message.
func (b *base) receivedChangeCipherSpec() {
	b.lastStep, b.lastMessage = 6, "ChangeCipherSpec"
	b.emit(trace.Event{Kind: trace.KindChangeCipherSpec, Direction: trace.Received, Step: 6, Message: "ChangeCipherSpec"})
}

func (b *base) sendChangeCipherSpec() {
	b.act(SendChangeCipherSpec{})
	b.emit(trace.Event{Kind: trace.KindChangeCipherSpec, Direction: trace.Sent, Step: 6, Message: "ChangeCipherSpec"})
}

func (b *base) traceMessage(dir trace.Direction, m wire.Message, raw []byte, step int) {
	b.lastStep, b.lastMessage = step, messageName(m)
	if b.cfg.Trace == nil {
		return
	}
	b.emit(trace.Event{
		Kind: trace.KindMessage, Direction: dir, Step: step,
		Message: messageName(m), Fields: describe(m), Raw: raw,
	})
}

// emit fills in the common fields of an event and hands it to the hook.
func (b *base) emit(e trace.Event) {
	if b.cfg.Trace == nil {
		return
	}
	e.Time = b.cfg.now()
	e.Side = b.side
	if e.Version == 0 {
		e.Version = b.state.Version
	}
	b.cfg.Trace(e)
}

// tracing reports whether events go anywhere: a note whose fields cost
// something to format (a certificate's subject, hex) is made only then.
func (b *base) tracing() bool { return b.cfg.Trace != nil }

// note emits a local event with fields given as name, value pairs.
func (b *base) note(kind trace.Kind, step int, message string, kv ...string) {
	if b.cfg.Trace == nil {
		return
	}
	e := trace.Event{Kind: kind, Direction: trace.Local, Step: step, Message: message}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Fields = append(e.Fields, trace.Field{Name: kv[i], Value: kv[i+1]})
	}
	b.emit(e)
}

// logSecret writes a secret to the key log and traces its derivation. The
// secret itself only enters the trace when a key log is configured: whoever
// set one has chosen to see secrets.
func (b *base) logSecret(label string, step int, secret []byte) {
	if b.cfg.KeyLog != nil {
		b.cfg.KeyLog(label, b.state.ClientRandom, secret)
	}
	if b.cfg.Trace == nil {
		return
	}
	e := trace.Event{Kind: trace.KindKeys, Direction: trace.Local, Step: step, Message: label}
	if b.cfg.KeyLog != nil {
		e.Secret = append([]byte(nil), secret...)
	}
	b.emit(e)
}

// verifyConnection gives Config.VerifyConnection its say once the peer is
// known, in every handshake, full or resumed, of both versions and sides;
// a veto is bad_certificate.
func (b *base) verifyConnection(step int, message string) error {
	if b.cfg.VerifyConnection == nil || b.outerOnly {
		return nil
	}
	if err := b.cfg.VerifyConnection(b.state); err != nil {
		return alert.Errorf(alert.BadCertificate, step, message, "VerifyConnection rejected the connection: %w", err)
	}
	return nil
}

// verifyFinished checks the peer's Finished against the verify_data we
// computed: its length first, which the suite fixes (12 bytes in TLS 1.2,
// RFC 5246 §7.4.9; the hash length in TLS 1.3, RFC 8446 §4.4.4), as
// decode_error ("the length of the message was incorrect", RFC 8446 §6.2);
// then the value, in constant time, as decrypt_error.
func (b *base) verifyFinished(fin *wire.Finished, want []byte, peer string) error {
	return b.verifyFinishedAt(7, fin, want, peer)
}

// verifyFinishedAt is verifyFinished at a step of the flow other than the
// handshake's 7 (a post-handshake authentication's Finished, in step 8).
func (b *base) verifyFinishedAt(step int, fin *wire.Finished, want []byte, peer string) error {
	if len(fin.VerifyData) != len(want) {
		return alert.Errorf(alert.DecodeError, step, "Finished",
			"the %s's verify_data is %d bytes, this suite's is %d", peer, len(fin.VerifyData), len(want))
	}
	if !keys.Equal(want, fin.VerifyData) {
		return alert.Errorf(alert.DecryptError, step, "Finished",
			"the %s's verify_data does not match our transcript: the handshake was tampered with, or the keys differ", peer)
	}
	if b.tracing() {
		b.note(trace.KindVerified, step, "Finished", "verify_data", hexShort(fin.VerifyData, 12))
	}
	return nil
}

// parse checks that msg is of the wanted type and unmarshals it. A message of
// another type is unexpected_message; a malformed one is decode_error (or
// illegal_parameter where the RFC says so).
func parse(m wire.Message, msg []byte, step int) error {
	if len(msg) == 0 || wire.HandshakeType(msg[0]) != m.Type() {
		return unexpected(msg, step, m.Type().String())
	}
	if err := m.Unmarshal(msg); err != nil {
		var ip *wire.IllegalParameterError
		if errors.As(err, &ip) {
			return alert.Errorf(alert.IllegalParameter, step, m.Type().String(), "%w", err)
		}
		return alert.Errorf(alert.DecodeError, step, m.Type().String(), "malformed message: %w", err)
	}
	return nil
}

// unexpected is the one place that turns "not the message this state waits
// for" into unexpected_message.
func unexpected(msg []byte, step int, want ...string) error {
	got := "empty message"
	if len(msg) > 0 {
		got = wire.HandshakeType(msg[0]).String()
	}
	return alert.Errorf(alert.UnexpectedMessage, step, got, "unexpected %s, waiting for %s", got, joinOr(want))
}

func unexpectedChangeCipherSpec(step int, want ...string) error {
	return alert.Errorf(alert.UnexpectedMessage, step, "ChangeCipherSpec",
		"unexpected ChangeCipherSpec, waiting for %s", joinOr(want))
}

func joinOr(s []string) string {
	switch len(s) {
	case 0:
		return "nothing"
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " or " + s[len(s)-1]
}

// internalError wraps a failure of our own (a signer, the random source).
func internalError(step int, message string, err error) error {
	return alert.Errorf(alert.InternalError, step, message, "%w", err)
}

func messageName(m wire.Message) string {
	switch m.(type) {
	case *wire.ClientKeyExchangeRSA, *wire.ClientKeyExchangeECDHE:
		return "ClientKeyExchange"
	case *wire.ServerHello:
		if m.(*wire.ServerHello).IsHelloRetryRequest() {
			return "HelloRetryRequest"
		}
	}
	return m.Type().String()
}

func hexShort(b []byte, n int) string {
	if len(b) <= n {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%x…(%d bytes)", b[:n], len(b))
}
