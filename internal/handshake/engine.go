// Package handshake holds tlsflow's handshake state machines. They are free
// of I/O ("sans-I/O"): an engine consumes handshake messages and
// ChangeCipherSpec signals, and produces messages to send and cipher changes
// as a list of Actions, which the connection carries out in order. That makes
// every state reachable from a test without a network, lets a fuzzer drive the
// engines, and lets a man in the middle tamper with a flight in between.
package handshake

import (
	"github.com/tlsflow/tlsflow/internal/record"
)

// Action is one thing the connection must do, in order.
type Action interface{ action() }

// SendMessage asks the connection to write one handshake message (header
// included). Nothing in the handshake waits for a Lazy message (a TLS 1.3
// server's tickets after the client's Finished): the connection writes it
// without making the handshake wait, so that completing it does not block
// on a peer that does not read yet.
type SendMessage struct {
	Data []byte
	Lazy bool
}

// SendChangeCipherSpec asks the connection to write a ChangeCipherSpec record.
type SendChangeCipherSpec struct{}

// SetWriteCipher protects every record written from now on with Cipher.
type SetWriteCipher struct{ Cipher record.Cipher }

// SetReadCipher unprotects every record read from now on with Cipher. The
// connection must not hold a partial handshake message when it applies this
// (RFC 8446 §5.1: handshake messages must not span a key change).
type SetReadCipher struct{ Cipher record.Cipher }

// OpenEarlyData (client): the ClientHello that offers 0-RTT is out; the
// records written next carry early data under Cipher, at most Max bytes,
// until the next SetWriteCipher.
type OpenEarlyData struct {
	Cipher record.Cipher
	Max    int
}

// AcceptEarlyData (server): the records read next are the client's early
// data under Cipher (application data, at most Max bytes, then its
// EndOfEarlyData), until the next SetReadCipher.
type AcceptEarlyData struct {
	Cipher record.Cipher
	Max    int
}

func (OpenEarlyData) action()        {}
func (AcceptEarlyData) action()      {}
func (SendMessage) action()          {}
func (SendChangeCipherSpec) action() {}
func (SetWriteCipher) action()       {}
func (SetReadCipher) action()        {}

// Engine is one side of a handshake.
type Engine interface {
	// Start returns the first actions: a client's ClientHello; nothing for a server.
	Start() ([]Action, error)
	// HandleMessage consumes one complete handshake message (4-byte header
	// included). With an error it may still return actions, to be carried
	// out before the alert is sent.
	HandleMessage(msg []byte) ([]Action, error)
	// HandleChangeCipherSpec consumes a ChangeCipherSpec record.
	HandleChangeCipherSpec() ([]Action, error)
	// Complete reports whether the handshake has finished successfully.
	Complete() bool
	// State returns what has been negotiated so far.
	State() *State
	// Progress returns the step and name of the last message sent or
	// received (the peer's TLS 1.2 ChangeCipherSpec counts).
	Progress() (step int, message string)
	// Abort returns what must go out before a fatal alert of ours, wherever
	// the failure was found (engine, record layer): for a TLS 1.3 client the
	// compatibility ChangeCipherSpec, if it has not gone out yet.
	Abort() []Action
	// Post returns, once a TLS 1.3 handshake is complete, what handles the
	// messages after it; the connection keeps that instead of the engine.
	Post() PostHandshake
}
