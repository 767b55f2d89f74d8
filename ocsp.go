package tlsflow

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/handshake"
)

// OCSPPolicy is what a client does with the OCSP response a server staples
// to its certificate (RFC 6066 §8; RFC 6960). Whatever the policy, a
// certificate that says it must be stapled (RFC 7633's TLS feature
// status_request) is accepted only with a staple that verifies, when the
// chain is verified (not with InsecureSkipVerify).
type OCSPPolicy int

const (
	// OCSPUnchecked passes the staple on unchecked in
	// ConnectionState.OCSPResponse, as crypto/tls does. The default.
	OCSPUnchecked OCSPPolicy = iota
	// OCSPVerifyIfStapled checks a staple when one comes: signed by the
	// leaf's issuer, or by a responder the issuer certified for OCSP
	// signing (id-kp-OCSPSigning, RFC 6960 §4.2.2.2); about the leaf;
	// current (thisUpdate not in the future, nextUpdate not past, with
	// OCSPClockSkew of leeway); status good. A revoked leaf fails with
	// certificate_revoked, any other fault with
	// bad_certificate_status_response (RFC 6066 §8).
	OCSPVerifyIfStapled
	// OCSPRequire is OCSPVerifyIfStapled, and a server that staples
	// nothing fails with bad_certificate_status_response: what a client
	// that must know its server is not revoked uses.
	OCSPRequire
)

// OCSPClockSkew is the leeway on an OCSP response's validity period.
const OCSPClockSkew = 5 * time.Minute

// oidTLSFeature is the TLS feature extension of RFC 7633 §6; status_request
// (5) in it is "must staple".
var oidTLSFeature = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}

// mustStaple reports whether cert carries RFC 7633's TLS feature with
// status_request.
func mustStaple(cert *x509.Certificate) bool {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidTLSFeature) {
			continue
		}
		var features []int
		if rest, err := asn1.Unmarshal(ext.Value, &features); err != nil || len(rest) > 0 {
			return true // unreadable: take it at its strictest
		}
		return slices.Contains(features, 5)
	}
	return false
}

// checkStaple applies the Config's OCSP policy and must-staple to a
// server's staple (nil if none came) and verified chain; checked says
// whether a staple was verified.
func (c *Conn) checkStaple(peer *handshake.PeerCertificates, staple []byte) (checked bool, err error) {
	if len(peer.VerifiedChains) == 0 {
		return false, nil // nothing verified (InsecureSkipVerify): no issuer to check against
	}
	chain := peer.VerifiedChains[0]
	leaf, issuer := chain[0], chain[0]
	if len(chain) > 1 {
		issuer = chain[1]
	}
	policy, must := c.config.OCSP, mustStaple(leaf)
	switch {
	case len(staple) == 0 && (policy == OCSPRequire || must):
		why := "the client requires one (Config.OCSP)"
		if must {
			why = "the certificate says it must be stapled (RFC 7633)"
		}
		return false, alert.Errorf(alert.BadCertificateStatusResponse, 3, "", "the server stapled no OCSP response, and %s", why)
	case len(staple) == 0, policy == OCSPUnchecked && !must:
		return false, nil
	}
	return true, verifyStaple(staple, leaf, issuer, c.config.now())
}

// verifyStaple checks an OCSP response for leaf, issued by issuer (RFC 6960).
func verifyStaple(staple []byte, leaf, issuer *x509.Certificate, now time.Time) error {
	resp, err := ocsp.ParseResponseForCert(staple, leaf, issuer)
	if err != nil {
		return alert.Errorf(alert.BadCertificateStatusResponse, 3, "", "the stapled OCSP response does not verify: %v", err)
	}
	if err := checkResponder(resp, issuer, now); err != nil {
		return err
	}
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		return alert.Errorf(alert.BadCertificateStatusResponse, 3, "", "the stapled OCSP response is about another certificate")
	}
	if now.Add(OCSPClockSkew).Before(resp.ThisUpdate) {
		return alert.Errorf(alert.BadCertificateStatusResponse, 3, "", "the stapled OCSP response is not valid before %s", resp.ThisUpdate.UTC().Format(time.RFC3339))
	}
	if !resp.NextUpdate.IsZero() && now.Add(-OCSPClockSkew).After(resp.NextUpdate) {
		return alert.Errorf(alert.BadCertificateStatusResponse, 3, "", "the stapled OCSP response expired at %s", resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	switch resp.Status {
	case ocsp.Good:
		return nil
	case ocsp.Revoked:
		return alert.Errorf(alert.CertificateRevoked, 3, "", "the certificate authority says the server's certificate was revoked at %s",
			resp.RevokedAt.UTC().Format(time.RFC3339))
	}
	return alert.Errorf(alert.BadCertificateStatusResponse, 3, "", "the stapled OCSP response says the certificate's status is unknown")
}

// checkResponder: a response signed by a certificate other than the
// issuer's is acceptable only from a responder the issuer certified for
// OCSP signing, within that certificate's validity (RFC 6960 §4.2.2.2).
// x/crypto/ocsp checks that the issuer signed the responder's certificate,
// not what for: any other certificate of the same authority (another
// server's) could otherwise vouch for a revoked one.
func checkResponder(resp *ocsp.Response, issuer *x509.Certificate, now time.Time) error {
	r := resp.Certificate
	if r == nil || bytes.Equal(r.Raw, issuer.Raw) {
		return nil
	}
	if !slices.Contains(r.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return alert.Errorf(alert.BadCertificateStatusResponse, 3, "",
			"the stapled OCSP response is signed by %q, which the issuer did not certify for OCSP signing", r.Subject)
	}
	if now.Before(r.NotBefore) || now.After(r.NotAfter) {
		return alert.Errorf(alert.BadCertificateStatusResponse, 3, "",
			"the OCSP responder's certificate %q is not valid now (%s to %s)", r.Subject, r.NotBefore.UTC().Format(time.RFC3339), r.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
