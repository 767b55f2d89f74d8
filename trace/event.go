// Package trace is tlsflow's public event model: every step of a handshake,
// as it happens, for people (renderers) and tools (JSON lines).
//
// A Config's Trace hook receives one Event per observable thing: the TCP
// connection (step 0), each handshake message sent or received with its
// decoded fields and raw bytes (steps 1–7), key derivations, ChangeCipherSpec,
// the verified Finished, the first application data (step 8), alerts, and the
// error that ended a failed handshake. The layer that writes or reads a thing
// emits its event, once, so the trace cannot disagree with the wire.
package trace

import "time"

// Kind says what an Event reports.
type Kind string

const (
	// KindConnect: the TCP connection is open (step 0).
	KindConnect Kind = "connect"
	// KindMessage: a handshake message was sent or received.
	KindMessage Kind = "message"
	// KindChangeCipherSpec: a ChangeCipherSpec record was sent or received (step 6).
	KindChangeCipherSpec Kind = "change_cipher_spec"
	// KindKeys: keys were derived or put in use (Secret set only with a key log).
	KindKeys Kind = "keys"
	// KindVerified: a check passed: the peer's certificate chain, a signature, or Finished.
	KindVerified Kind = "verified"
	// KindApplicationData: the first application data in a direction (step 8).
	KindApplicationData Kind = "application_data"
	// KindAlert: an alert was sent or received.
	KindAlert Kind = "alert"
	// KindHandshakeDone: the handshake is complete; Fields summarise the result.
	KindHandshakeDone Kind = "handshake_done"
	// KindError: the error that ended a handshake or connection.
	KindError Kind = "error"
	// KindNote: anything else worth seeing (e.g. "resumption offered").
	KindNote Kind = "note"
)

// Direction is seen from the side that emits the event.
type Direction string

const (
	Sent     Direction = "sent"
	Received Direction = "received"
	Local    Direction = "local" // neither: a computation or decision on this side
)

// Side is the role of the endpoint that emitted the event.
type Side string

const (
	Client Side = "client"
	Server Side = "server"
)

// Field is one decoded field of a message or one fact about an event. Name is
// stable and taken from the RFCs' presentation language ("random",
// "cipher_suites", "certificate[0].subject"); Value is for reading.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Event is one observable step.
type Event struct {
	Time      time.Time `json:"time"`
	Side      Side      `json:"side"`
	Kind      Kind      `json:"kind"`
	Direction Direction `json:"direction,omitempty"`
	// Step is the course note's step 0–8 this event belongs to; -1 if none.
	Step int `json:"step"`
	// Version is the negotiated TLS version once known (0x0303, 0x0304), else 0.
	Version uint16 `json:"version,omitempty"`
	// Message is the handshake message name for KindMessage ("ClientHello"),
	// the alert name for KindAlert, the label for KindKeys.
	Message string `json:"message,omitempty"`
	// Fields are the decoded fields, in wire order.
	Fields []Field `json:"fields,omitempty"`
	// Raw holds the bytes of the message or record payload as on the wire
	// (handshake messages with their 4-byte header).
	Raw []byte `json:"raw,omitempty"`
	// Secret is key material, set only when the Config also has a KeyLogWriter.
	Secret []byte `json:"secret,omitempty"`
	// Err is the error for KindError.
	Err error `json:"-"`
}

// Field returns the value of the first field called name, or "".
func (e *Event) Field(name string) string {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Hook receives events. It is called synchronously on the goroutine doing
// the handshake or the I/O, so it must be quick and must not call back into
// the Conn.
type Hook func(Event)
