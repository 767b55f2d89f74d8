package trace

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
)

// End says how a connection, or its handshake, ended, as far as the side
// that saw it can tell. Every renderer (the text and JSON traces, the
// tlsflow command's diagnoses) takes it from EndOf, so that a peer that
// just closed TCP is never shown as one that sent close_notify, nor a
// reset as a failure without a cause. An error event carries it as the
// field "ended".
type End string

const (
	// EndAlertSent: this side found a fault and sent a fatal alert.
	EndAlertSent End = "alert_sent"
	// EndAlertReceived: the peer sent a fatal alert.
	EndAlertReceived End = "alert_received"
	// EndCloseNotify: the peer sent close_notify (during a handshake,
	// that is giving up without saying why).
	EndCloseNotify End = "close_notify"
	// EndClosed: the peer closed TCP without any alert.
	EndClosed End = "closed"
	// EndReset: the TCP connection was reset (a RST from the peer or a
	// box on the way).
	EndReset End = "reset"
	// EndRefused: nothing accepted the TCP connection (step 0).
	EndRefused End = "refused"
	// EndTimeout: a deadline passed while waiting.
	EndTimeout End = "timeout"
	// EndNotTLS: the peer's bytes are not TLS records; nothing was sent
	// to it, as it would not read an alert.
	EndNotTLS End = "not_tls"
	// EndLocal: nothing went over the wire: a configuration this side
	// cannot start with, or a cancellation.
	EndLocal End = "local"
	// EndNetwork: any other network failure (no route, no such host).
	EndNetwork End = "network"
	// EndOther: none of these.
	EndOther End = "other"
)

// EndOf classifies err, the error that ended a connection or a handshake;
// "" for nil.
func EndOf(err error) End {
	if err == nil {
		return ""
	}
	// The network's own errors first: they may be wrapped in an error
	// that says where the handshake was.
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return EndReset
	case errors.Is(err, syscall.ECONNREFUSED):
		return EndRefused
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return EndTimeout
	case errors.Is(err, context.Canceled):
		return EndLocal
	}
	var ae *alert.Error
	if errors.As(err, &ae) {
		switch {
		case ae.Local && errors.Is(ae, record.ErrNotTLS):
			return EndNotTLS
		case ae.Local:
			return EndLocal
		case ae.Received && ae.Alert == alert.CloseNotify && errors.Is(ae, io.ErrUnexpectedEOF):
			return EndClosed
		case ae.Received && ae.Alert == alert.CloseNotify:
			return EndCloseNotify
		case ae.Received:
			return EndAlertReceived
		}
		return EndAlertSent
	}
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return EndClosed
	case errors.As(err, &ne) && ne.Timeout():
		return EndTimeout
	case errors.As(err, &ne):
		return EndNetwork
	}
	return EndOther
}
