package tlsflow

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
)

// diagnose adds to a failed handshake's error what to change so that it
// works: the step, message, alert and cause are already there; the hint
// turns them into advice for this side's configuration.
func (c *Conn) diagnose(err error) {
	var ae *alert.Error
	if !errors.As(err, &ae) || ae.Hint != "" {
		return
	}
	if ae.Received {
		ae.Hint = c.hintForReceived(ae)
	} else {
		ae.Hint = c.hintForCause(ae)
	}
}

// hintForCause explains a failure this side detected.
func (c *Conn) hintForCause(ae *alert.Error) string {
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var rec *record.Error
	switch {
	case errors.As(ae.Err, &host):
		return fmt.Sprintf("connect with ServerName set to a name the certificate covers (%s), or give the server a certificate for %s",
			strings.Join(certNames(host.Certificate), ", "), host.Host)
	case errors.As(ae.Err, &unknown):
		issuer := "its issuer"
		if unknown.Cert != nil {
			issuer = unknown.Cert.Issuer.String()
		}
		if c.isClient {
			return fmt.Sprintf("add the CA that issued the server certificate (%s) to RootCAs, or make the server send its intermediate certificates", issuer)
		}
		return fmt.Sprintf("add the CA that issued the client certificate (%s) to ClientCAs, or give the client a certificate from one of the CAs in ClientCAs", issuer)
	case errors.As(ae.Err, &invalid) && invalid.Reason == x509.Expired:
		return expiredHint(invalid.Cert, c.config.now())
	case errors.As(ae.Err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		if c.isClient {
			return "the server certificate needs the serverAuth extended key usage: reissue it"
		}
		return "the client certificate needs the clientAuth extended key usage: reissue it"
	case errors.As(ae.Err, &rec) && errors.Is(rec, record.ErrNotTLS):
		return "the peer does not speak TLS on this port: check the address (is it a plain-text service?)"
	case errors.As(ae.Err, &rec) && errors.Is(rec, record.ErrBadRecordMAC):
		return "a record was changed in transit, or the two sides derived different keys: look for a man in the middle or a broken proxy"
	}
	switch ae.Alert {
	case alert.ProtocolVersion:
		return "make the version ranges overlap: MinVersion/MaxVersion here, or the peer's settings"
	case alert.NoApplicationProtocol:
		return "add one of the peer's protocols to NextProtos, or drop NextProtos"
	case alert.DecryptError:
		if ae.Step == 7 || ae.Step == 1 {
			return "the handshake was changed in transit: look for a man in the middle or a broken proxy between the peers"
		}
		return "a signature did not verify: the peer's key does not match its certificate, or the messages were changed in transit"
	case alert.CertificateRequired:
		return "give the client a certificate (Config.Certificates or GetClientCertificate) from one of the CAs the server accepts"
	case alert.HandshakeFailure:
		switch {
		case strings.Contains(ae.Reason, "no common cipher suite"):
			return "enable a cipher suite both sides accept (Config.CipherSuites; the RSA key exchange must be named explicitly), or give the server a certificate type that fits the client's suites"
		case strings.Contains(ae.Reason, "no common group"):
			return "enable a group both sides accept (Config.CurvePreferences)"
		case strings.Contains(ae.Reason, "requires a client certificate"):
			return "the client must send a certificate from one of the accepted CAs; set its Config.Certificates"
		}
	}
	return ""
}

// hintForReceived interprets the peer's alert: the peer knows why, we
// know where we were.
func (c *Conn) hintForReceived(ae *alert.Error) string {
	switch ae.Alert {
	case alert.HandshakeFailure:
		if c.isClient && ae.Step <= 2 {
			return "the server found nothing in common with our ClientHello: compare versions, cipher suites, groups and signature algorithms with the server's"
		}
		if c.isClient {
			return "the server refused the handshake after our certificate: it may require a client certificate from a CA it accepts"
		}
		return "the client gave up: it may not accept this server's certificate or parameters"
	case alert.ProtocolVersion:
		return "the peer does not support the TLS versions we offered: check MinVersion/MaxVersion on both sides"
	case alert.BadCertificate, alert.UnknownCA, alert.CertificateExpired, alert.UnsupportedCertificate, alert.CertificateUnknown:
		if c.isClient {
			return "the server rejected our client certificate: check it is valid, has the clientAuth usage and comes from a CA the server accepts"
		}
		return "the client rejected this server's certificate: check its host names, validity, and that the client trusts its CA"
	case alert.CertificateRequired:
		return "the server requires a client certificate: set Config.Certificates with one from a CA it accepts"
	case alert.DecryptError, alert.BadRecordMAC:
		return "the peer saw different handshake bytes or keys than we did: look for a man in the middle or a broken proxy"
	case alert.NoApplicationProtocol:
		return "the peer speaks none of our NextProtos"
	case alert.InappropriateFallback:
		return "the peer supports a higher version than we offered: remove the fallback (TLS_FALLBACK_SCSV) or raise MaxVersion"
	case alert.IllegalParameter, alert.DecodeError:
		return "the peer refused a value in our messages: this may be a bug on either side; a trace (Config.Trace) shows the messages"
	case alert.CloseNotify:
		return "the peer closed the connection: it may have rejected us without saying why; check its logs"
	}
	return ""
}

func certNames(cert *x509.Certificate) []string {
	if cert == nil {
		return nil
	}
	names := append([]string(nil), cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		names = append(names, "none")
	}
	return names
}

func expiredHint(cert *x509.Certificate, now time.Time) string {
	if cert == nil {
		return "a certificate is outside its validity period: renew it, or check this machine's clock"
	}
	if now.Before(cert.NotBefore) {
		return fmt.Sprintf("the certificate of %s is not valid before %s: check this machine's clock (or Config.Time)",
			cert.Subject, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("the certificate of %s expired on %s: renew it, or check this machine's clock (or Config.Time)",
		cert.Subject, cert.NotAfter.UTC().Format(time.RFC3339))
}
