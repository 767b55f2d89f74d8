package handshake

import (
	"crypto"
	"crypto/x509"
	"io"
	"time"

	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/provider"
	"github.com/tlsflow/tlsflow/trace"
)

// ClientAuth is the server's policy for client certificates; the values
// mirror the public tlsflow.ClientAuthType.
type ClientAuth int

const (
	NoClientCert ClientAuth = iota
	RequestClientCert
	RequireAnyClientCert
	VerifyClientCertIfGiven
	RequireAndVerifyClientCert
)

func (a ClientAuth) requests() bool { return a != NoClientCert }
func (a ClientAuth) requires() bool {
	return a == RequireAnyClientCert || a == RequireAndVerifyClientCert
}

// Certificate is a chain with its private key, which must implement
// crypto.Signer (and crypto.Decrypter for the RSA key exchange), or a raw
// public key (RFC 7250) with its private key.
type Certificate struct {
	Chain      [][]byte
	PrivateKey crypto.PrivateKey
	Leaf       *x509.Certificate // parsed Chain[0]
	// RawPublicKey, when set, is the DER SubjectPublicKeyInfo of
	// PrivateKey's public key, sent instead of a chain to a peer that
	// accepts raw public keys (rawpublickey.go); Chain and Leaf are nil.
	RawPublicKey []byte
	// OCSPStaple and SignedCertificateTimestamps are sent to a client that
	// asks for them (stapling.go).
	OCSPStaple                  []byte
	SignedCertificateTimestamps [][]byte
	// SignatureSchemes, when not nil, are the only schemes the key signs
	// with, in preference order, instead of Config.SignatureSchemes; all
	// implemented (the caller drops the others). Empty means it signs
	// with nothing.
	SignatureSchemes []uint16
}

// signingSchemes is what cert's key may sign with, in preference order:
// its own list, or ours (Config.SignatureSchemes) when it has none.
func (c *Certificate) signingSchemes(ours []uint16) []uint16 {
	if c.SignatureSchemes != nil {
		return c.SignatureSchemes
	}
	return ours
}

// ownSchemes is, for error messages, " among its own signature schemes
// (…)" when cert restricts its schemes, and "" when it does not.
func (c *Certificate) ownSchemes() string {
	if c.SignatureSchemes == nil {
		return ""
	}
	if len(c.SignatureSchemes) == 0 {
		return " (its own list of signature schemes is empty)"
	}
	return " among its own signature schemes (" + mapJoin(c.SignatureSchemes, signature.Name) + ")"
}

// ClientHelloInfo is what a server knows of the client when it picks a certificate.
type ClientHelloInfo struct {
	ServerName        string
	CipherSuites      []uint16
	SupportedGroups   []uint16
	SignatureSchemes  []uint16
	SupportedProtos   []string
	SupportedVersions []uint16
	// Extensions are the ClientHello's extension types, in the client's order.
	Extensions []uint16
	// SupportedPoints is ec_point_formats (RFC 8422 §5.1.2), when it decodes.
	SupportedPoints []uint8
	// HelloRetryRequest: this is the second ClientHello, the answer to our
	// HelloRetryRequest (RFC 8446 §4.1.4).
	HelloRetryRequest bool
	// ServerCertTypes and ClientCertTypes are the client's
	// server_certificate_type and client_certificate_type lists (RFC 7250
	// §4.1), nil when it sent none (X.509 only).
	ServerCertTypes []uint8
	ClientCertTypes []uint8
}

// CertificateRequestInfo is what a client knows when it picks a certificate.
type CertificateRequestInfo struct {
	AcceptableCAs    [][]byte // raw DER subjects
	SignatureSchemes []uint16
	Version          uint16
	CertificateType  uint8 // the type the server asked for (RFC 7250), X.509 by default
}

// PeerCertificates is the result of checking a peer's chain, or the raw
// public key (RFC 7250) it authenticated with instead.
type PeerCertificates struct {
	Certificates   []*x509.Certificate
	VerifiedChains [][]*x509.Certificate
	RawPublicKey   []byte // DER SubjectPublicKeyInfo
}

// Config is the engines' view of tlsflow.Config: defaults resolved, lists
// in preference order, policies as callbacks.
type Config struct {
	// Provider supplies the primitives (provider.Provider); nil means the
	// standard library's.
	Provider   provider.Provider
	Rand       io.Reader
	Time       func() time.Time
	MinVersion uint16
	MaxVersion uint16

	CipherSuites     []uint16 // enabled, preference order (both versions)
	Groups           []uint16 // enabled, preference order
	SignatureSchemes []uint16 // enabled, preference order
	NextProtos       []string

	// ServerName is the client's SNI and the name it verifies.
	ServerName string

	// Certificates: the server's candidates, or the client's for client auth.
	Certificates         []*Certificate
	GetCertificate       func(*ClientHelloInfo) (*Certificate, error)
	GetClientCertificate func(*CertificateRequestInfo) (*Certificate, error)
	// ConfigForClient, if set, is asked once the first ClientHello is read
	// (server): a non-nil result is the configuration for the rest of the
	// handshake; an error aborts it with internal_error.
	ConfigForClient func(*ClientHelloInfo) (*Config, error)

	ClientAuth    ClientAuth
	ClientCANames [][]byte // raw DER subjects sent in CertificateRequest

	// Certificate types (RFC 7250, rawpublickey.go), in preference order.
	// ServerCertTypes: on a client, the server certificate types it
	// accepts (nil: X.509 only); on a server, those it may send (nil: any
	// its certificates are). ClientCertTypes: on a server, the client
	// certificate types it accepts when it asks for one (nil: X.509 only);
	// on a client, those it may send (nil: those its Certificates are, or
	// X.509 with GetClientCertificate).
	ServerCertTypes []uint8
	ClientCertTypes []uint8
	// VerifyRawPublicKey judges a peer's raw public key, parsed and within
	// the limits policy: the only way one is accepted (RFC 7250 §4.3, §4.4:
	// a raw key authenticates only through an out-of-band binding). Nil
	// refuses every raw key.
	VerifyRawPublicKey func(spki []byte, key crypto.PublicKey) error

	// ParseCertificate parses one DER certificate of a peer's chain (a
	// cache may share the result); nil means x509.ParseCertificate.
	ParseCertificate func(der []byte) (*x509.Certificate, error)
	// VerifyPeer checks the peer's parsed chain as the policy says (trust,
	// names, usages, callbacks). The client calls it for the server's
	// chain; the server for a non-empty client chain. The chain has passed
	// peerChain: within the limits, with a leaf key tlsflow can use.
	VerifyPeer func(certs []*x509.Certificate) (*PeerCertificates, error)
	// TrustAnchors names what VerifyPeer trusts on a client (its roots), as
	// a comparable value; nil when it verifies nothing (InsecureSkipVerify).
	// A session remembers it, so that resuming under the same anchors needs
	// no new chain verification, and under others does (Client.mayResume).
	TrustAnchors any
	// CheckStaple, if set, judges a server's stapled OCSP response (nil if
	// none came) for its verified chain (client; RFC 6066 §8, RFC 7633),
	// and says whether it checked one. An *alert.Error is sent as it is;
	// any other error is bad_certificate_status_response.
	CheckStaple func(peer *PeerCertificates, staple []byte) (checked bool, err error)
	// VerifyConnection, if set, may veto the connection once the peer is known.
	VerifyConnection func(*State) error

	// Session is the client's cached session to offer for resumption, or nil.
	Session *session.State
	// StoreSession, if set, receives each new resumable session (client).
	StoreSession func(*session.State)
	// TicketsDisabled turns off session tickets (RFC 5077, RFC 8446 §4.6.1).
	TicketsDisabled bool
	// Tickets seals and opens the server's tickets. WrapTicket and
	// UnwrapTicket, if set, do instead (the application's own ticket
	// format or store: tlsflow.Config.WrapSession, UnwrapSession): an error
	// from either ends the handshake; UnwrapTicket's (nil, nil) means "not
	// a session", and a full handshake.
	Tickets      *session.Keys
	WrapTicket   func(*State, *session.State) ([]byte, error)
	UnwrapTicket func(*State, []byte) (*session.State, error)
	// ExternalPSKs are the TLS 1.3 external PSKs: a client offers them
	// (after a session to resume), a server accepts them. LookupExternalPSK,
	// if set, is the server's lookup for identities not in the list (with
	// the external_identity of an ImportedIdentity, or the identity as
	// sent); (nil, nil) means unknown.
	ExternalPSKs      []*ExternalPSK
	LookupExternalPSK func(identity []byte) (*ExternalPSK, error)
	// ExternalPSKOnly: the client has no way to verify a certificate (no
	// ServerName), so a server that does not select one of its external
	// PSKs is refused.
	ExternalPSKOnly bool
	// PSKWithoutECDHE allows TLS 1.3 resumption in psk_ke mode, without a
	// fresh (EC)DHE exchange (RFC 8446 §4.2.9): offered by a client, used by
	// a server when the client offers it.
	PSKWithoutECDHE bool
	// EarlyData: a client offers 0-RTT with its session when the session
	// allows it (the application has data it declared safe to replay); a
	// server reads 0-RTT when the rules allow (the application reads it
	// apart from 1-RTT data). MaxEarlyData is the max_early_data_size a
	// server's tickets carry (0: none); Replay, its memory of the
	// ClientHellos whose early data it read (no 0-RTT without one).
	EarlyData    bool
	MaxEarlyData uint32
	Replay       *session.ReplayWindow
	// SessionCache keeps the server's TLS 1.2 sessions by session ID, or nil.
	SessionCache *session.Cache

	// CertCompression are the certificate compression algorithms (RFC 8879)
	// this side uses and accepts in TLS 1.3, in preference order; nil: none.
	CertCompression []uint16
	// RecordSizeLimit is the largest protected record plaintext this side
	// accepts (RFC 8449): a client offers it when not zero; a server answers
	// an offer with it, or with the protocol's limit when zero.
	RecordSizeLimit uint16

	// ECHConfigList, if not nil, is the client's ECHConfigList
	// (draft-ietf-tls-esni-25 §4): it offers Encrypted Client Hello with
	// the first configuration it can use, and only TLS 1.3. ECHGrease, when
	// there is none, sends a GREASE encrypted_client_hello (§6.2.1).
	// ECHRejectionVerify checks the certificate of a server that rejected
	// ECH against the configuration's public name (§6.1.7).
	ECHConfigList      []byte
	ECHGrease          bool
	ECHRejectionVerify func(certs []*x509.Certificate, publicName string) (*PeerCertificates, error)
	// ECHRejected, if set, makes the error a rejected offer ends the
	// handshake with, from the server's retry configurations.
	ECHRejected func(retryConfigs []byte) error
	// ECHKeys, if set, returns the server's ECH keys for a ClientHello
	// that offers ECH (§7.1); nil or an empty list: ECH is not configured.
	ECHKeys func(*ClientHelloInfo) ([]ECHKey, error)

	// ExtraClientHelloExtensions are appended to the client's ClientHello
	// (before pre_shared_key): a tester's way to probe a server.
	ExtraClientHelloExtensions []wire.Extension

	// KeyLog, if set, receives each secret in the key log format's terms.
	KeyLog func(label string, clientRandom, secret []byte)
	// Trace, if set, receives every event.
	Trace trace.Hook

	// Limits is the limits policy; nil means limits.Default.
	Limits *limits.Policy
}

func (c *Config) limits() *limits.Policy {
	if c.Limits != nil {
		return c.Limits
	}
	return &limits.Default
}

func (c *Config) parseCertificate(der []byte) (*x509.Certificate, error) {
	if c.ParseCertificate != nil {
		return c.ParseCertificate(der)
	}
	return x509.ParseCertificate(der)
}

func (c *Config) now() time.Time {
	if c.Time != nil {
		return c.Time()
	}
	return time.Now()
}

func (c *Config) rand() io.Reader { return c.Rand }
