package probe

import (
	"fmt"
	"time"
)

// Report is what a probe found. Its JSON form is the --json output of
// tlsflow probe: every accepted version and cipher suite by its IANA name.
type Report struct {
	Target     string    `json:"target"`
	ServerName string    `json:"server_name,omitempty"`
	StartTLS   string    `json:"starttls,omitempty"`
	Started    time.Time `json:"started"`
	// Reachable: at least one probe hello got a TLS answer (a ServerHello
	// or an alert). When false, Unreachable says what happened instead.
	Reachable   bool   `json:"reachable"`
	Unreachable string `json:"unreachable,omitempty"`
	Handshakes  int    `json:"handshakes"`

	Versions         []VersionResult `json:"versions"`
	AcceptedVersions []string        `json:"accepted_versions"`
	CipherSuites     []SuiteOrder    `json:"cipher_suites"`
	Groups           []GroupResult   `json:"groups,omitempty"`
	// HelloRetryGroup is the group a TLS 1.3 server asked for in a
	// HelloRetryRequest when offered every group without a key share.
	HelloRetryGroup string `json:"hello_retry_group,omitempty"`
	// SignatureSchemes accepted, per version, by IANA name.
	SignatureSchemes map[string][]string `json:"signature_schemes,omitempty"`
	Certificate      *CertReport         `json:"certificate,omitempty"`

	// What the TLS 1.2 ServerHello answered to the extensions offered
	// (nil: not learned, e.g. no TLS 1.2).
	ExtendedMasterSecret *bool  `json:"extended_master_secret,omitempty"`
	SecureRenegotiation  *bool  `json:"secure_renegotiation,omitempty"`
	SessionTicketExt     *bool  `json:"session_ticket_extension,omitempty"`
	ALPN                 string `json:"alpn,omitempty"` // chosen from h2, http/1.1 on the certificate handshake
	// FallbackSCSV: the server refused a fallback hello with
	// inappropriate_fallback (RFC 7507). DowngradeSentinel: a TLS 1.3
	// server marked its TLS 1.2 (or older) ServerHello.random (RFC 8446
	// §4.1.3).
	FallbackSCSV      *bool `json:"fallback_scsv,omitempty"`
	DowngradeSentinel *bool `json:"downgrade_sentinel,omitempty"`

	Resumption Resumption `json:"resumption"`
	Records    Records    `json:"records"`
	ECH        ECHResult  `json:"ech"`

	Findings []Finding `json:"findings"`
	// Incomplete lists what the probe could not find out, and why.
	Incomplete []Gap `json:"incomplete,omitempty"`
}

// VersionResult is one protocol version's probe.
type VersionResult struct {
	Name     string `json:"name"` // "TLS 1.2"
	ID       string `json:"id"`   // "0x0303"
	Accepted bool   `json:"accepted"`
	Answer   string `json:"answer"` // what the server said to the hello
	version  uint16
}

// SuiteOrder is the cipher suites one version accepts, in the server's
// order when ServerOrder is "server".
type SuiteOrder struct {
	Version string `json:"version"`
	// ServerOrder: "server" (the server picks by its own order), "client"
	// (it takes the client's first), "mixed", or "" (one suite: no order).
	ServerOrder string      `json:"server_order,omitempty"`
	Suites      []SuiteInfo `json:"suites"`
	version     uint16
}

// SuiteInfo is one accepted cipher suite.
type SuiteInfo struct {
	Name   string `json:"name"` // IANA
	ID     string `json:"id"`
	Rating Rating `json:"rating"`
	id     uint16
}

// GroupResult is one version's accepted groups.
type GroupResult struct {
	Version  string   `json:"version"`
	Accepted []string `json:"accepted"`
	ids      []uint16
}

// Resumption says which kinds of resumption the server granted (nil: not
// tried or could not tell).
type Resumption struct {
	SessionID *bool `json:"session_id,omitempty"` // TLS 1.2, RFC 5246 §7.3
	Ticket    *bool `json:"ticket,omitempty"`     // TLS 1.2, RFC 5077
	PSK13     *bool `json:"psk13,omitempty"`      // TLS 1.3 tickets, RFC 8446 §2.2
}

// Records is how the server handles the record layer (nil: not learned).
type Records struct {
	// FragmentedHello: the server answered a ClientHello split over
	// records of 64 bytes, as RFC 5246 §6.2.1 requires it to.
	FragmentedHello *bool `json:"fragmented_hello,omitempty"`
	// RecordSizeLimit: the server answered record_size_limit (RFC 8449),
	// for constrained clients; RecordSizeLimitIn says in which message.
	RecordSizeLimit   *bool  `json:"record_size_limit,omitempty"`
	RecordSizeLimitIn string `json:"record_size_limit_in,omitempty"`
}

// ECHResult is what the server did with Encrypted Client Hello
// (draft-ietf-tls-esni-25): a real offer when a configuration was given,
// and a GREASE one.
type ECHResult struct {
	Offered  bool  `json:"offered"`            // a configuration was given
	Accepted *bool `json:"accepted,omitempty"` // the server read the inner hello
	// RetryConfigs are the configurations a rejecting server sent, by
	// config_id and public name (none: ECH is off there).
	RetryConfigs []string `json:"retry_configs,omitempty"`
	// GREASETolerated: a handshake with a GREASE encrypted_client_hello
	// completed (§6.2: servers must ignore it).
	GREASETolerated *bool `json:"grease_tolerated,omitempty"`
}

// Gap is something the probe could not find out.
type Gap struct {
	Stage string `json:"stage"`
	Why   string `json:"why"`
}

func (r *Report) incomplete(stage, format string, args ...any) {
	r.Incomplete = append(r.Incomplete, Gap{stage, fmt.Sprintf(format, args...)})
}

// accepted reports whether version v was accepted.
func (r *Report) accepted(v uint16) bool {
	for _, vr := range r.Versions {
		if vr.version == v {
			return vr.Accepted
		}
	}
	return false
}

// suitesFor returns the suites version v accepted (nil if none or not probed).
func (r *Report) suitesFor(v uint16) []uint16 {
	for _, so := range r.CipherSuites {
		if so.version == v {
			ids := make([]uint16, len(so.Suites))
			for i, s := range so.Suites {
				ids[i] = s.id
			}
			return ids
		}
	}
	return nil
}

// ptr returns a pointer to b, for the tri-state fields.
func ptr(b bool) *bool { return &b }

// versionName is the protocol's name as RFC 8446 and RFC 6101 write it.
func versionName(v uint16) string {
	switch v {
	case versionSSL30:
		return "SSL 3.0"
	case versionTLS10:
		return "TLS 1.0"
	case versionTLS11:
		return "TLS 1.1"
	case versionTLS12:
		return "TLS 1.2"
	case versionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}
