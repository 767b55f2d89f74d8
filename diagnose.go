package tlsflow

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/provider"
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
		if m := alertMeaning[ae.Alert]; m != "" && ae.Err == nil && !strings.Contains(ae.Reason, m) {
			ae.Reason += ": " + m
		}
		ae.Hint = c.hintForReceived(ae)
	} else {
		ae.Hint = c.hintForCause(ae)
	}
}

// alertMeaning says in plain words what a fatal alert from the peer means,
// after RFC 8446 §6.2 and RFC 5246 §7.2.2. The peer says no more than that.
var alertMeaning = map[alert.Alert]string{
	alert.UnexpectedMessage:      "it received a message it did not expect at that point",
	alert.BadRecordMAC:           "a record from us failed authentication there",
	alert.RecordOverflow:         "a record from us was too long",
	alert.HandshakeFailure:       "it could not agree on acceptable security parameters with us",
	alert.BadCertificate:         "it found our certificate corrupt, or a signature in it invalid",
	alert.UnsupportedCertificate: "it does not support our certificate's type or usage",
	alert.CertificateRevoked:     "it says our certificate was revoked",
	alert.CertificateExpired:     "it finds our certificate expired or not yet valid",
	alert.CertificateUnknown:     "it could not accept our certificate, for a reason it does not say",
	alert.IllegalParameter:       "a field in our messages was out of range or inconsistent",
	alert.UnknownCA:              "it does not trust the CA that issued our certificate (an unknown certificate authority)",
	alert.AccessDenied:           "it knows who we are and refuses us access",
	alert.DecodeError:            "it could not decode one of our messages",
	alert.DecryptError:           "a signature or Finished from us did not verify there",
	alert.ProtocolVersion:        "it supports none of the protocol versions we offered",
	alert.InsufficientSecurity:   "our parameters are too weak for it",
	alert.InternalError:          "it failed for a reason of its own",
	alert.InappropriateFallback:  "it supports a higher version than we offered on this retry",
	alert.UserCanceled:           "its user or application canceled the handshake",
	alert.MissingExtension:       "one of our messages lacks an extension it requires",
	alert.UnsupportedExtension:   "one of our messages has an extension not allowed there",
	alert.UnrecognizedName:       "it has no server for the name we asked for (server_name)",
	alert.UnknownPSKIdentity:     "it does not know the session we offered to resume",
	alert.CertificateRequired:    "it requires a certificate from us, and we sent none",
	alert.NoApplicationProtocol:  "it speaks none of the application protocols we offered (ALPN)",
}

// hintForCause explains a failure this side detected. The x509 and record
// errors are typed; the handshake engines' negotiation failures are told
// apart by their reason, which names what found nothing in common.
func (c *Conn) hintForCause(ae *alert.Error) string {
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var rec *record.Error
	switch {
	case ae.Alert == alert.InternalError && ae.Step == 0:
		return c.configurationHint()
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
			return "the server certificate needs the serverAuth extended key usage: reissue it with that usage"
		}
		return "the client certificate needs the clientAuth extended key usage: reissue it with that usage"
	case errors.As(ae.Err, &rec) && errors.Is(rec, record.ErrNotTLS):
		if c.isClient {
			return "the server answered in plain text, not TLS: check the address and port (is it the service's plain-text port?), or whether the protocol starts TLS only on request (STARTTLS)"
		}
		return "the client sent plain text, not TLS: it used a plain-text protocol on this TLS port (http:// instead of https://?)"
	case errors.As(ae.Err, &rec) && errors.Is(rec, record.ErrBadRecordMAC):
		return "a record was changed in transit, or the two sides derived different keys because the handshake was changed: look for a man in the middle or a broken proxy"
	}
	switch ae.Alert {
	case alert.ProtocolVersion:
		if c.isClient && !ae.Received && strings.Contains(ae.Reason, "0-RTT") {
			return "a server that issued a TLS 1.3 ticket now answers TLS 1.2: a downgrade, or a server whose configuration changed; connect without early data (Write after the handshake instead of WriteEarlyData)"
		}
		lo, hi := c.config.versions()
		return fmt.Sprintf("make the version ranges overlap: this side allows %s–%s (MinVersion/MaxVersion); widen that range, or the peer's",
			VersionName(lo), VersionName(hi))
	case alert.NoApplicationProtocol:
		if c.isClient {
			return fmt.Sprintf("the server chose a protocol we did not offer: offer it in NextProtos (now %s), or fix the server", protoList(c.config.NextProtos))
		}
		return "add one of the client's protocols to NextProtos, or leave NextProtos empty so the server ignores ALPN"
	case alert.DecryptError:
		if ae.Step == 7 || ae.Step == 1 {
			return "the handshake was changed in transit: look for a man in the middle or a broken proxy between the peers"
		}
		return "a signature did not verify: the peer's key does not match its certificate, or the messages were changed in transit"
	case alert.IllegalParameter:
		if strings.Contains(ae.Reason, "downgrade sentinel") {
			return "do not lower MinVersion to get around this: the connection is being tampered with; find the man in the middle (a proxy or middlebox that strips TLS 1.3)"
		}
	case alert.CertificateRequired:
		return clientCertificateRequiredHint
	case alert.HandshakeFailure:
		switch {
		case strings.Contains(ae.Reason, "no common cipher suite"):
			return "enable a cipher suite the client offers in Config.CipherSuites — the RSA key exchange (TLS_RSA_*) is off unless named there — or give the server a certificate of the key type the client's suites need (RSA or ECDSA)"
		case strings.Contains(ae.Reason, "no common TLS 1.3 cipher suite"):
			return "enable a TLS 1.3 cipher suite the client offers in Config.CipherSuites"
		case strings.Contains(ae.Reason, "no common group"):
			return fmt.Sprintf("enable a group both sides accept in Config.CurvePreferences (this side: %s)", c.groupList())
		case strings.Contains(ae.Reason, "requires a client certificate"):
			return clientCertificateRequiredHint
		}
	}
	return ""
}

// clientCertificateRequiredHint is a server's advice when the client sent no
// certificate though ClientAuth requires one.
const clientCertificateRequiredHint = "give the client a certificate issued by one of the CAs in ClientCAs, or, if a client certificate is optional, set ClientAuth to VerifyClientCertIfGiven"

// defaultProviderFails reports whether the process default provider cannot
// be had (TLSFLOW_PROVIDER names one that is not there or does not open).
func defaultProviderFails() bool {
	_, err := provider.Default()
	return err != nil
}

// configurationHint explains a Config the handshake could not start with.
func (c *Conn) configurationHint() string {
	cfg := c.config
	switch {
	case cfg.MaxVersion != 0 && cfg.MaxVersion < VersionTLS12:
		return "set MaxVersion to TLS 1.2 or above, or leave it zero; a peer that speaks only TLS 1.0 or 1.1 needs another library, or better an upgrade"
	case cfg.MinVersion > maxSupportedVersion:
		return fmt.Sprintf("lower MinVersion to %s or below", VersionName(maxSupportedVersion))
	case cfg.Provider == nil && defaultProviderFails():
		return "set TLSFLOW_PROVIDER to stdlib, or to openssl in a program that imports github.com/tlsflow/tlsflow/provider/openssl on a machine with libcrypto.so.3 (TLSFLOW_OPENSSL_LIBCRYPTO names another file); or unset it, or set Config.Provider"
	case c.isClient && cfg.ServerName == "" && !cfg.InsecureSkipVerify:
		return "set Config.ServerName to the host name the server's certificate must be for (Dial sets it from the address); InsecureSkipVerify skips verification and is for tests only"
	case !c.isClient && len(cfg.Certificates) == 0 && cfg.GetCertificate == nil:
		return "give the server a certificate chain and key: Config.Certificates (see LoadX509KeyPair) or GetCertificate"
	}
	return "correct the Config as the cause says"
}

// hintForReceived interprets the peer's alert: the peer knows why, we
// know where we were and how we are configured.
func (c *Conn) hintForReceived(ae *alert.Error) string {
	switch ae.Alert {
	case alert.HandshakeFailure:
		switch {
		case c.isClient && ae.Step <= 2 && c.offersOnlyRSAKeyExchange():
			return "we offer only the RSA key exchange (TLS_RSA_*), which servers rarely enable because it has no forward secrecy: add ECDHE suites to Config.CipherSuites, or leave it nil for the defaults"
		case c.isClient && ae.Step <= 2:
			return "the server accepts nothing our ClientHello offers: compare our versions, cipher suites, groups and signature algorithms (Config.Trace shows the ClientHello) with the server's settings"
		case c.isClient:
			return c.clientCertificateRefusedHint(ae.Alert)
		}
		return "the client gave up: it may not accept this server's certificate or parameters; its logs say why"
	case alert.ProtocolVersion:
		lo, hi := c.config.versions()
		if lo == hi {
			return fmt.Sprintf("we offered only %s (MinVersion/MaxVersion), which the peer does not accept: widen our range or the peer's", VersionName(lo))
		}
		return fmt.Sprintf("the peer accepts none of the versions we offered (%s–%s, MinVersion/MaxVersion): make the ranges overlap", VersionName(lo), VersionName(hi))
	case alert.BadCertificate, alert.UnknownCA, alert.CertificateExpired, alert.UnsupportedCertificate,
		alert.CertificateUnknown, alert.CertificateRevoked, alert.CertificateRequired:
		if c.isClient {
			return c.clientCertificateRefusedHint(ae.Alert)
		}
		return serverCertificateRefusedHint(ae.Alert)
	case alert.DecryptError, alert.BadRecordMAC:
		return "the peer saw different handshake bytes or keys than we did: look for a man in the middle or a broken proxy"
	case alert.NoApplicationProtocol:
		if c.isClient {
			return fmt.Sprintf("the server speaks none of our NextProtos (%s): add a protocol it supports", protoList(c.config.NextProtos))
		}
		return "the client refused the protocol we chose from its list: check NextProtos on both sides"
	case alert.InappropriateFallback:
		return "the peer supports a higher version than we offered: remove the fallback (TLS_FALLBACK_SCSV) or raise MaxVersion"
	case alert.IllegalParameter, alert.DecodeError:
		return "the peer refused a value in our messages: this may be a bug on either side; a trace (Config.Trace) shows the messages"
	case alert.CloseNotify:
		if c.isClient && ae.Step <= 1 {
			return "the server closed the connection without an alert after our ClientHello: it may silently refuse something in it (versions, cipher suites, server name) or not speak TLS on this port; its logs say why"
		}
		return "the peer closed the connection without an alert: it may have rejected us without saying why; its logs say why"
	}
	return ""
}

// clientCertificateRefusedHint is a client's advice when the server refused
// the handshake after asking for a certificate. The client cannot tell from
// the alert whether the server wanted one it did not send: its own
// configuration says whether it had any.
func (c *Conn) clientCertificateRefusedHint(a alert.Alert) string {
	hint := c.clientCertificateRefusedAdvice(a)
	if cas := c.requestedCAs(); cas != "" {
		hint += "; the server requires a client certificate signed by one of: " + cas
	}
	return hint
}

// requestedCAs names the authorities the server's CertificateRequest
// listed, if it listed any.
func (c *Conn) requestedCAs() string {
	var names [][]byte
	if c.engine != nil {
		names = c.engine.State().RequestedCAs
	} else if c.state != nil {
		names = c.state.RequestedCAs
	}
	out := make([]string, 0, len(names))
	for _, der := range names {
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) != 0 {
			continue
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		out = append(out, n.String())
	}
	return strings.Join(out, "; ")
}

func (c *Conn) clientCertificateRefusedAdvice(a alert.Alert) string {
	if len(c.config.Certificates) == 0 && c.config.GetClientCertificate == nil {
		requires := "probably requires"
		if a == alert.CertificateRequired {
			requires = "requires"
		}
		return "the server " + requires + " a client certificate, and this client has no certificate to send: set Config.Certificates (or GetClientCertificate) with one issued by a CA the server accepts"
	}
	switch a {
	case alert.CertificateRequired:
		return "none of Config.Certificates fits the server's request (issuing CA, key type, signature algorithms), so we sent none: add one issued by a CA the server names in its CertificateRequest (Config.Trace shows it)"
	case alert.UnknownCA:
		return "the server does not trust the CA that issued our client certificate: use one from a CA the server names in its CertificateRequest (Config.Trace shows it)"
	case alert.CertificateExpired:
		return "the server finds our client certificate expired or not yet valid: renew it, or check the server's clock"
	case alert.UnsupportedCertificate:
		return "the server refuses our client certificate's type or usage: it needs the clientAuth extended key usage and a key type the server accepts"
	}
	return "the server refused our client certificate, or found none it accepts: check that one of Config.Certificates is valid, has the clientAuth usage and comes from a CA the server accepts"
}

// serverCertificateRefusedHint is a server's advice when the client refused
// its certificate.
func serverCertificateRefusedHint(a alert.Alert) string {
	switch a {
	case alert.UnknownCA:
		return "the client does not trust the CA that issued this server's certificate: add that CA to the client's trusted roots, or include the intermediates in Config.Certificates"
	case alert.CertificateExpired:
		return "the client finds this server's certificate expired or not yet valid: renew it, or check the client's clock"
	case alert.UnsupportedCertificate:
		return "the client refuses this server's certificate type or usage: it needs the serverAuth extended key usage and a key type the client accepts"
	}
	return "the client rejected this server's certificate: check that it covers the host name the client asks for, is valid, and comes from a CA the client trusts"
}

// offersOnlyRSAKeyExchange reports whether this client's TLS 1.2 suites all
// use the RSA key exchange and it offers no TLS 1.3.
func (c *Conn) offersOnlyRSAKeyExchange() bool {
	if _, hi := c.config.versions(); hi >= VersionTLS13 && hasTLS13Suite(enabledSuites(c.config.CipherSuites)) {
		return false
	}
	any12 := false
	for _, id := range enabledSuites(c.config.CipherSuites) {
		s := suites.Lookup(id)
		if s == nil || s.Version != VersionTLS12 {
			continue
		}
		if s.KeyExchange != suites.KeyExchangeRSA {
			return false
		}
		any12 = true
	}
	return any12
}

func hasTLS13Suite(ids []uint16) bool {
	for _, id := range ids {
		if s := suites.Lookup(id); s != nil && s.Version == VersionTLS13 {
			return true
		}
	}
	return false
}

func (c *Conn) groupList() string {
	var names []string
	for _, g := range enabledGroups(c.config.CurvePreferences) {
		names = append(names, suites.GroupName(g))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func protoList(protos []string) string {
	if len(protos) == 0 {
		return "none"
	}
	return strings.Join(protos, ", ")
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
