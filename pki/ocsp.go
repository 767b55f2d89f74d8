package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPOptions describe an OCSP response (RFC 6960) made by
// Authority.OCSPResponse. Zero values get defaults.
type OCSPOptions struct {
	// Status is ocsp.Good (the zero value), ocsp.Revoked or ocsp.Unknown.
	Status int
	// ThisUpdate defaults to an hour ago, NextUpdate to a day from now.
	ThisUpdate, NextUpdate time.Time
	// Responder, if set, signs instead of the authority and is embedded
	// in the response: a delegated responder, which should carry
	// ExtKeyUsageOCSPSigning (or, for tests, any certificate it issued).
	Responder *Leaf
}

// OCSPResponse makes a signed OCSP response about cert, which a issued:
// what a server staples to its certificate.
func (a *Authority) OCSPResponse(cert *x509.Certificate, opts OCSPOptions) ([]byte, error) {
	now := time.Now()
	tmpl := ocsp.Response{Status: opts.Status, SerialNumber: cert.SerialNumber,
		ThisUpdate: opts.ThisUpdate, NextUpdate: opts.NextUpdate}
	if tmpl.ThisUpdate.IsZero() {
		tmpl.ThisUpdate = now.Add(-time.Hour)
	}
	if tmpl.NextUpdate.IsZero() {
		tmpl.NextUpdate = now.Add(24 * time.Hour)
	}
	if opts.Status == ocsp.Revoked {
		tmpl.RevokedAt, tmpl.RevocationReason = tmpl.ThisUpdate, ocsp.KeyCompromise
	}
	responder, key := a.Cert, crypto.Signer(a.Key)
	if opts.Responder != nil {
		responder, key = opts.Responder.Cert, opts.Responder.Key
		tmpl.Certificate = opts.Responder.Cert
	}
	der, err := ocsp.CreateResponse(a.Cert, responder, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("testpki: OCSP response: %w", err)
	}
	return der, nil
}

// MustOCSPResponse is OCSPResponse, panicking on error.
func (a *Authority) MustOCSPResponse(cert *x509.Certificate, opts OCSPOptions) []byte {
	return must(a.OCSPResponse(cert, opts))
}
