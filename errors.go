package tlsflow

import (
	"crypto/x509"

	"github.com/tlsflow/tlsflow/alert"
)

// AlertError is the error that ends a handshake or connection with an
// alert: which alert (sent or received), at which step of the flow, in which
// message, and why. Use errors.As to get it from any tlsflow error.
type AlertError = alert.Error

// CertificateVerificationError is a peer certificate chain that failed
// verification; Err is the crypto/x509 error (x509.UnknownAuthorityError,
// x509.HostnameError, x509.CertificateInvalidError, ...).
type CertificateVerificationError struct {
	// UnverifiedCertificates is the chain as the peer sent it, parsed.
	UnverifiedCertificates []*x509.Certificate
	Err                    error
}

func (e *CertificateVerificationError) Error() string {
	return "certificate verification failed: " + e.Err.Error()
}

func (e *CertificateVerificationError) Unwrap() error { return e.Err }
