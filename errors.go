package tlsflow

import (
	"crypto/x509"
	"errors"
	"net"

	"github.com/tlsflow/tlsflow/alert"
)

// Error is the error that ends a handshake or a connection: which alert
// went over the wire (sent, or received from the peer), at which step of
// the flow, in which message, why in plain words, and what to change when
// that can be told. Every tlsflow error carries one; get it with
// errors.As:
//
//	var e *tlsflow.Error
//	if errors.As(err, &e) {
//		fmt.Println(e.Step, e.Message, e.Alert, e.Reason, e.Hint)
//	}
type Error = alert.Error

// AlertError is a TLS alert, as in crypto/tls: tlsflow.AlertError(40) is
// handshake_failure. errors.As finds it in an error that ended with an
// alert, sent or received:
//
//	var a tlsflow.AlertError
//	if errors.As(err, &a) && a == tlsflow.AlertError(42) { … }
//
// An error that did not go with an alert (a configuration error, a
// connection the peer closed without one) has none. The whole story is in
// *Error.
type AlertError = alert.Alert

// CertificateVerificationError is a peer certificate chain that failed
// verification; Err is the crypto/x509 error (x509.UnknownAuthorityError,
// x509.HostnameError, x509.CertificateInvalidError, ...). A handshake that
// failed for it returns it as is, as crypto/tls does, so that both
// err.(*tlsflow.CertificateVerificationError) and errors.As work, and
// errors.As finds the *Error (the alert sent, the step) behind it too.
type CertificateVerificationError struct {
	// UnverifiedCertificates is the chain as the peer sent it, parsed.
	UnverifiedCertificates []*x509.Certificate
	Err                    error

	// ended is the handshake's *Error, once the verification failure has
	// ended one.
	ended *alert.Error
}

func (e *CertificateVerificationError) Error() string {
	if e.ended != nil {
		return e.ended.Error() // says where, and includes e.Err
	}
	// crypto/tls's words, which code written for it may look for.
	return "tls: failed to verify certificate: " + e.Err.Error()
}

// Unwrap returns the x509 error and, once a handshake ended with it, the
// handshake's *Error.
func (e *CertificateVerificationError) Unwrap() []error {
	if e.ended != nil {
		return []error{e.Err, e.ended}
	}
	return []error{e.Err}
}

// RecordHeaderError is returned when the peer's first bytes are not a TLS
// record at all (plain HTTP to a TLS port, an SSH banner, an SSL 2.0
// ClientHello), as in crypto/tls: RecordHeader holds the five bytes, and
// Conn the underlying connection, so that a server can answer in the
// protocol the peer speaks (net/http's "client sent an HTTP request to an
// HTTPS server"; see package tlshttp). No alert is sent to such a peer.
type RecordHeaderError struct {
	// Msg says what was wrong, in words.
	Msg string
	// RecordHeader is the five bytes that were read.
	RecordHeader [5]byte
	// Conn is the underlying connection, not yet closed.
	Conn net.Conn

	err *alert.Error
}

func (e RecordHeaderError) Error() string {
	if e.err != nil {
		return e.err.Error() // says where, and includes Msg
	}
	return "tlsflow: " + e.Msg
}

// Unwrap returns the handshake's *Error.
func (e RecordHeaderError) Unwrap() error {
	if e.err == nil {
		return nil
	}
	return e.err
}

// publicError gives a failed handshake's error the shape crypto/tls
// users test for: a *CertificateVerificationError or a RecordHeaderError
// on the outside when one caused it, with the *Error reachable through it.
func (c *Conn) publicError(err error) error {
	var ae *alert.Error
	if !errors.As(err, &ae) {
		return err
	}
	var cve *CertificateVerificationError
	if errors.As(ae, &cve) {
		outer := *cve
		outer.ended = ae
		return &outer
	}
	var nt *notTLSError
	if errors.As(ae, &nt) {
		return RecordHeaderError{Msg: nt.msg, RecordHeader: nt.header, Conn: c.conn, err: ae}
	}
	return err
}
