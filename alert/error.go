package alert

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Error ends a handshake or a connection. It says which alert went over the
// wire (sent by us, or received from the peer), at which step of the flow and
// in which message the failure happened, and why; the underlying cause, if
// any, is wrapped so errors.As finds it.
//
// Step numbers follow the course note's flow: 0 TCP, 1 ClientHello,
// 2 ServerHello, 3 Certificate (with ServerKeyExchange and
// CertificateRequest), 4 ServerHelloDone, 5 ClientKeyExchange (with the
// client's Certificate and CertificateVerify), 6 ChangeCipherSpec, 7 Finished,
// 8 application data. A negative step means "not tied to a step".
type Error struct {
	Alert    Alert
	Received bool // the peer sent the alert; otherwise we sent it. A connection
	// that ended without any alert is CloseNotify received, wrapping io.ErrUnexpectedEOF.
	Step    int    // step of the flow, or -1
	Message string // the handshake message concerned, e.g. "ServerKeyExchange"
	Reason  string // plain words: what went wrong, including the cause's text
	Hint    string // what to change so it works, when that can be told
	Local   bool   // nothing went over the wire: a local failure, such as the configuration
	Warning bool   // the alert went out as a warning (no_renegotiation), and nothing after it
	Err     error  // the cause, for errors.Is and errors.As; not printed twice
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("tlsflow: ")
	if e.Step >= 0 {
		fmt.Fprintf(&b, "step %d, ", e.Step)
	}
	if e.Message != "" {
		b.WriteString(e.Message)
		b.WriteString(": ")
	}
	switch {
	case e.Reason != "":
		b.WriteString(e.Reason)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("handshake failed")
	}
	if e.Local {
		// no alert to report
	} else if e.Received && e.Alert == CloseNotify && errors.Is(e.Err, io.ErrUnexpectedEOF) {
		b.WriteString(" (no alert: the connection just ended)")
	} else if e.Received {
		fmt.Fprintf(&b, " (alert %s received)", e.Alert)
	} else if e.Warning {
		fmt.Fprintf(&b, " (warning alert %s sent)", e.Alert)
	} else if e.Alert != CloseNotify {
		fmt.Fprintf(&b, " (alert %s sent)", e.Alert)
	}
	if e.Hint != "" {
		b.WriteString("; fix: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// As lets errors.As find the Alert an Error went with, sent or received
// (tlsflow.AlertError, crypto/tls's idiom); an Error that went with no
// alert (a local failure, a connection that just ended) has none.
func (e *Error) As(target any) bool {
	p, ok := target.(*Alert)
	if !ok || e.Local || (e.Received && e.Alert == CloseNotify && errors.Is(e.Err, io.ErrUnexpectedEOF)) {
		return false
	}
	*p = e.Alert
	return true
}

// Errorf returns an Error for an alert we send. The reason is formatted as by
// fmt.Errorf, and any %w operand stays reachable through errors.Is and errors.As.
func Errorf(a Alert, step int, message, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Alert: a, Step: step, Message: message, Reason: err.Error(), Err: err}
}
