package tlsflow

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/provider"
	"github.com/tlsflow/tlsflow/trace"
)

// ClientAuthType is the server's policy for client certificates.
type ClientAuthType int

const (
	// NoClientCert: no CertificateRequest is sent.
	NoClientCert ClientAuthType = iota
	// RequestClientCert: ask for a certificate; accept none, do not verify.
	RequestClientCert
	// RequireAnyClientCert: a certificate is required but not verified.
	RequireAnyClientCert
	// VerifyClientCertIfGiven: a certificate is optional; if sent, it is verified against ClientCAs.
	VerifyClientCertIfGiven
	// RequireAndVerifyClientCert: a certificate is required and verified against ClientCAs.
	RequireAndVerifyClientCert
)

// ClientHelloInfo is what the server knows of the client when it picks a certificate.
type ClientHelloInfo struct {
	ServerName        string
	CipherSuites      []uint16
	SupportedCurves   []CurveID
	SignatureSchemes  []SignatureScheme
	SupportedProtos   []string
	SupportedVersions []uint16
	// SupportedPoints are the client's ec_point_formats (RFC 8422 §5.1.2);
	// nil when it sent none.
	SupportedPoints []uint8
	// Extensions are the types of the ClientHello's extensions, in the
	// order the client sent them, unknown and GREASE values included.
	Extensions []uint16
	// ServerCertificateTypes are the certificate types the client accepts
	// from the server, in its order of preference (server_certificate_type,
	// RFC 7250 §4.1); nil when it sent none, which means X.509 only.
	ServerCertificateTypes []CertificateType
	// Conn is the underlying connection.
	Conn net.Conn
	// HelloRetryRequest: this is the client's second ClientHello, sent in
	// answer to the server's HelloRetryRequest (RFC 8446 §4.1.4).
	// GetConfigForClient only sees the first; GetCertificate sees the one
	// the certificate is chosen for, the second when there are two.
	HelloRetryRequest bool

	// config is the server Config the ClientHello came to, for
	// SupportsCertificate; nil means tlsflow's defaults.
	config *Config
	// ctx is the handshake's context (Context).
	ctx context.Context
}

// SupportsCertificate returns nil if c could be the server's certificate
// for the client that sent this ClientHello, or an error saying why not.
// When the client named a host (ServerName), c's names must cover it.
// The rest depends on the version the server would choose, the highest in
// SupportedVersions that its Config enables:
//
//   - TLS 1.3: c's key must fit a signature scheme in SignatureSchemes
//     that the server signs with (RFC 8446 §4.4.2.2, §4.2.3: an ECDSA
//     scheme names its curve, PKCS #1 v1.5 is not allowed).
//   - TLS 1.2: some cipher suite both sides enable must fit the key (RFC
//     5246 §7.4.2): the RSA key exchange an RSA key that can decrypt;
//     ECDHE_RSA an RSA key, ECDHE_ECDSA an ECDSA or Ed25519 key, each with
//     an ECDHE group in common and a signature scheme in SignatureSchemes
//     that fits the key and the server signs with, and an ECDSA key's
//     curve in SupportedCurves (RFC 8422 §5.1).
//
// The schemes the server signs with are c.SupportedSignatureAlgorithms
// when set, else its Config.SignatureSchemes.
//
// The server's Config is the one the ClientHelloInfo was made for, or
// tlsflow's defaults for a ClientHelloInfo made by hand. A server with
// several Config.Certificates applies the same test to choose among them
// (the first that passes, those for the requested name first); a
// GetCertificate callback can use it to do the same.
func (chi *ClientHelloInfo) SupportsCertificate(c *Certificate) error {
	cfg := chi.config
	if cfg == nil {
		cfg = &Config{}
	}
	lo, hi := cfg.versions()
	var version uint16
	for _, v := range chi.SupportedVersions {
		if v >= lo && v <= hi && v > version {
			version = v
		}
	}
	if version == 0 {
		return fmt.Errorf("tlsflow: no protocol version in common: the client offers %v, the server enables %s–%s",
			chi.SupportedVersions, VersionName(lo), VersionName(hi))
	}
	cert, err := engineCertificate(c)
	if err != nil {
		return err
	}
	if t := CertificateTypeX509; c.RawPublicKey != nil {
		t = CertificateTypeRawPublicKey
		if !slices.Contains(chi.ServerCertificateTypes, t) {
			return fmt.Errorf("tlsflow: the certificate is a raw public key, and the client accepts only %v (RFC 7250)", acceptedTypes(chi.ServerCertificateTypes))
		}
	} else if chi.ServerCertificateTypes != nil && !slices.Contains(chi.ServerCertificateTypes, t) {
		return fmt.Errorf("tlsflow: the certificate is X.509, and the client accepts only %v (RFC 7250)", chi.ServerCertificateTypes)
	}
	if chi.ServerName != "" && c.RawPublicKey == nil {
		if err := cert.Leaf.VerifyHostname(chi.ServerName); err != nil {
			return fmt.Errorf("tlsflow: the certificate is not valid for the requested name: %w", err)
		}
	}
	offer := &handshake.ClientOffer{CipherSuites: chi.CipherSuites, GroupsSent: len(chi.SupportedCurves) > 0}
	for _, g := range chi.SupportedCurves {
		offer.Groups = append(offer.Groups, uint16(g))
	}
	for _, s := range chi.SignatureSchemes {
		offer.SignatureSchemes = append(offer.SignatureSchemes, uint16(s))
	}
	schemes := enabledSchemes(cfg.SignatureSchemes)
	if version == VersionTLS13 {
		if _, _, err := handshake.CertificateServes13(cert, offer, schemes); err != nil {
			return fmt.Errorf("tlsflow: TLS 1.3: %w", err)
		}
		return nil
	}
	suite, _, _, err := handshake.ChooseSuite12([]*handshake.Certificate{cert}, offer,
		enabledSuites(cfg.CipherSuites), enabledGroups(cfg.CurvePreferences), schemes)
	switch {
	case suite != nil:
		return nil
	case err != nil:
		return fmt.Errorf("tlsflow: TLS 1.2: %w", err)
	}
	return errors.New("tlsflow: TLS 1.2: no cipher suite in common with the client")
}

// CertificateRequestInfo is what the client knows when the server asks for a certificate.
type CertificateRequestInfo struct {
	// AcceptableCAs are the DER subjects of the authorities the server accepts
	// (the course note's "list of accepted certificate authorities").
	AcceptableCAs    [][]byte
	SignatureSchemes []SignatureScheme
	Version          uint16
	// CertificateType is the type the server asked for (RFC 7250:
	// client_certificate_type), CertificateTypeX509 unless it asked for a
	// raw public key; a Certificate of another type is not sent.
	CertificateType CertificateType

	// config is the client Config the request came to, for
	// SupportsCertificate; nil means tlsflow's defaults.
	config *Config
	// ctx is the handshake's context (Context).
	ctx context.Context
}

// SupportsCertificate returns nil if c could answer the server's request,
// or an error saying why not: c's key must fit a signature scheme in
// SignatureSchemes that the client signs with (c.SupportedSignatureAlgorithms
// when set, else its Config.SignatureSchemes; RFC 8446 §4.4.2.2, RFC 5246
// §7.4.8; in TLS 1.3 an ECDSA scheme names its curve and PKCS #1 v1.5 is not
// allowed), and when the server named AcceptableCAs, a certificate of c's
// chain must be issued by one of them or be one. The client's Config is the
// one the request came to, or tlsflow's defaults for a
// CertificateRequestInfo made by hand. A client with several
// Config.Certificates sends the first that passes this test and, in TLS 1.2,
// has a key type the request's certificate_types lists (RFC 5246 §7.4.4);
// with none it sends an empty Certificate.
func (cri *CertificateRequestInfo) SupportsCertificate(c *Certificate) error {
	cfg := cri.config
	if cfg == nil {
		cfg = &Config{}
	}
	cert, err := engineCertificate(c)
	if err != nil {
		return err
	}
	peer := make([]uint16, len(cri.SignatureSchemes))
	for i, s := range cri.SignatureSchemes {
		peer[i] = uint16(s)
	}
	err = handshake.ClientCertificateFits(cert, nil, peer, enabledSchemes(cfg.SignatureSchemes), cri.AcceptableCAs,
		cri.Version >= VersionTLS13)
	if err != nil {
		return fmt.Errorf("tlsflow: %w", err)
	}
	return nil
}

// Config configures a client or a server. A Config may be shared by many
// connections once in use, and must then not be modified.
type Config struct {
	// Rand is the source of randomness; the Provider's (crypto/rand for
	// the standard library's and OpenSSL's) if nil.
	Rand io.Reader
	// Provider supplies the cryptographic primitives: AEADs, hashes and
	// HMAC, key-exchange groups, signatures, the RSA key exchange's
	// decryption (package provider). Nil means the process default:
	// provider.SetDefault's, else the one the environment variable
	// TLSFLOW_PROVIDER names ("stdlib", or "openssl" in a program that
	// links github.com/tlsflow/tlsflow/provider/openssl), else the standard
	// library's. A provider that cannot be had (an unknown name, libcrypto
	// missing) fails the handshake with an error saying so; there is no
	// fallback.
	Provider provider.Provider
	// Time returns the current time for certificate checks; time.Now if nil.
	Time func() time.Time

	// Certificates: a server's chains, of which each client is shown the
	// first it can verify (ClientHelloInfo.SupportsCertificate, without the
	// name test), those whose names cover the requested host first; in TLS
	// 1.2 the server's ranking of cipher suites comes first, and among the
	// certificates that serve the chosen suite the order decides. None
	// fitting fails the handshake with handshake_failure. A client's
	// candidates for client authentication: the first that fits the
	// server's request is sent (CertificateRequestInfo.SupportsCertificate,
	// and in TLS 1.2 a key type in certificate_types), else none.
	Certificates []Certificate
	// GetCertificate, if set, picks the server's certificate from the
	// ClientHello (ClientHelloInfo.SupportsCertificate helps); a nil
	// certificate without error leaves the choice to Certificates.
	GetCertificate func(*ClientHelloInfo) (*Certificate, error)
	// GetClientCertificate, if set, picks the client's certificate.
	GetClientCertificate func(*CertificateRequestInfo) (*Certificate, error)
	// GetConfigForClient, if set, is called with the first ClientHello
	// (server): a non-nil Config it returns governs the rest of this
	// connection (versions, suites, certificates, client authentication,
	// verification, callbacks); nil keeps this one; an error fails the
	// handshake with internal_error. It is not called again for the second
	// ClientHello after a HelloRetryRequest, nor is the returned Config's
	// own GetConfigForClient. The returned Config must not be modified
	// afterwards. Session tickets are sealed with this Config's keys unless
	// the returned one has its own (SessionTicketKey, SetSessionTicketKeys);
	// either way a session is resumed only if the returned Config's rules
	// accept it (server name, client authentication, the client chain
	// verified again).
	GetConfigForClient func(*ClientHelloInfo) (*Config, error)

	// RootCAs verify server certificates; the system pool if nil.
	RootCAs *x509.CertPool
	// ServerName is sent in server_name (SNI) and checked against the server certificate.
	ServerName string
	// InsecureSkipVerify accepts any server certificate. For tests only.
	InsecureSkipVerify bool
	// OCSP is what a client does with the OCSP response a server staples
	// (OCSPUnchecked, the default, as crypto/tls; OCSPVerifyIfStapled;
	// OCSPRequire). A must-staple certificate (RFC 7633) needs a staple
	// that verifies whatever it says.
	OCSP OCSPPolicy

	// ClientAuth is the server's client certificate policy.
	ClientAuth ClientAuthType
	// ClientCAs verify client certificates, and their subjects are the
	// authorities named in CertificateRequest.
	ClientCAs *x509.CertPool

	// ServerCertificateTypes and ClientCertificateTypes turn on raw public
	// keys (RFC 7250; see RawPublicKeyCertificate), each for one direction,
	// in order of preference. Nil means X.509 only.
	//
	// ServerCertificateTypes, on a client, are the types of server
	// certificate it accepts: with CertificateTypeRawPublicKey a server may
	// show a raw key, which TrustedRawPublicKeys or VerifyRawPublicKey must
	// then accept (a client that lists nothing else needs no ServerName);
	// without CertificateTypeX509 an X.509 chain is refused. On a server,
	// they are the types it may send (nil: any of its Certificates'); each
	// client is shown the first certificate of a type it accepts.
	//
	// ClientCertificateTypes, on a server that asks for a client
	// certificate (ClientAuth), are the types it accepts, and the first the
	// client can send is asked for; a client that can send none of them is
	// refused (unsupported_certificate). On a client, they are the types it
	// may send (nil: those of its Certificates; X.509 with
	// GetClientCertificate).
	ServerCertificateTypes []CertificateType
	ClientCertificateTypes []CertificateType
	// TrustedRawPublicKeys are the DER SubjectPublicKeyInfos
	// (x509.MarshalPKIXPublicKey) of the raw public keys this side accepts
	// from its peer, compared in constant time: the pin. A raw key is
	// accepted only if it is listed here (when the list is set) and
	// VerifyRawPublicKey returns nil (when that is set); a configuration
	// that accepts raw keys with neither fails its handshakes. A raw key
	// has no certificate, so ClientCAs, RootCAs, ServerName and
	// VerifyPeerCertificate play no part, and InsecureSkipVerify does not
	// skip this check: to accept any raw key, say so with a
	// VerifyRawPublicKey that returns nil.
	TrustedRawPublicKeys [][]byte
	// VerifyRawPublicKey, if set, judges the peer's raw public key (its DER
	// SubjectPublicKeyInfo, and the key parsed from it); an error aborts
	// the handshake with bad_certificate.
	VerifyRawPublicKey func(spki []byte, key crypto.PublicKey) error

	// MinVersion and MaxVersion bound the protocol version; zero means
	// TLS 1.2 and the highest version implemented. tlsflow has no TLS 1.0
	// or 1.1 (RFC 8996): a MinVersion below TLS 1.2 means TLS 1.2, and a
	// MaxVersion below it is a configuration error.
	MinVersion uint16
	MaxVersion uint16

	// CipherSuites enables suites; the server chooses in tlsflow's ranking
	// (forward secrecy, then authentication, then key strength — see the
	// package doc of internal/suites and the README), whatever the order here. Nil enables every
	// forward-secret suite. The RSA key exchange is only used when named here.
	// IDs tlsflow does not implement (crypto/tls's CBC, RC4 and 3DES suites,
	// TLS_FALLBACK_SCSV) are ignored.
	CipherSuites []uint16
	// CurvePreferences lists the key exchange groups in preference order;
	// nil means X25519MLKEM768 (TLS 1.3), X25519, P-256, P-384, P-521.
	CurvePreferences []CurveID
	// SignatureSchemes are the signature schemes this side offers in
	// signature_algorithms (and a server in CertificateRequest) and accepts
	// from the peer, in preference order (RFC 8446 §4.2.3, RFC 5246
	// §7.4.1.4.1); a certificate without SupportedSignatureAlgorithms also
	// signs with them, in this order. Nil means tlsflow's defaults; unknown
	// or unimplemented schemes are dropped, and a list with none left fails
	// the handshake.
	SignatureSchemes []SignatureScheme

	// NextProtos are the ALPN protocols, in preference order.
	NextProtos []string

	// KeyLogWriter, if set, receives secrets in the NSS key log format
	// (draft-ietf-tls-keylogfile), so tools like Wireshark can decrypt.
	// It weakens security: use it only for debugging.
	KeyLogWriter io.Writer

	// VerifyPeerCertificate, if set, is called after normal verification
	// with the raw chain and the verified chains (nil if verification was
	// skipped); an error aborts the handshake.
	VerifyPeerCertificate func(rawCerts [][]byte, verifiedChains [][]*x509.Certificate) error
	// VerifyConnection, if set, is called once the peer is known, and may
	// abort the handshake.
	VerifyConnection func(ConnectionState) error

	// HandshakeTimeout bounds the handshake; zero means 10 seconds for a
	// server (a stalling client must not hold it) and no bound for a client
	// (use HandshakeContext or Dialer's context); negative means none.
	HandshakeTimeout time.Duration

	// ClientSessionCache, if set, keeps sessions so later connections to the
	// same server can resume them (ConnectionState.DidResume).
	ClientSessionCache ClientSessionCache
	// SessionTicketsDisabled turns off session tickets (RFC 5077, RFC 8446
	// §4.6.1) on both sides. A TLS 1.2 server still resumes by session ID.
	SessionTicketsDisabled bool
	// ExternalPSKs are TLS 1.3 pre-shared keys agreed outside TLS (see
	// ExternalPSK). A client offers them, after a session to resume if it
	// has one; a client without ServerName (and not InsecureSkipVerify)
	// accepts only a server that selects one of them, since it has no name
	// to check a certificate against, and speaks only TLS 1.3. A server
	// accepts them, and needs no certificate for clients that use them; it
	// asks no client certificate of a client a PSK authenticates (RFC 8446
	// §4.3.2), whatever ClientAuth says.
	ExternalPSKs []ExternalPSK
	// GetExternalPSK, if set, finds the server's external PSK for an
	// identity a client offers that ExternalPSKs lacks (a large fleet's
	// keys in a database): for an imported PSK the identity is its
	// external_identity, and the PSK returned must have Import set and the
	// same Context. (nil, nil) means unknown: the identity is ignored. An
	// error ends the handshake with internal_error.
	GetExternalPSK func(identity []byte) (*ExternalPSK, error)
	// ResumptionWithoutECDHE allows TLS 1.3 resumption in psk_ke mode (RFC
	// 8446 §4.2.9): no fresh (EC)DHE, so resumed handshakes are cheaper, but
	// whoever later steals the ticket key can decrypt them. Off by default
	// (psk_dhe_ke only). A client offers psk_ke; a server uses it when offered.
	ResumptionWithoutECDHE bool
	// CertificateCompression are the algorithms (RFC 8879) this side
	// compresses its TLS 1.3 certificate with, and accepts the peer's
	// compressed with, in preference order; nil (the default) uses none. A
	// client offers them in its ClientHello, a server in its
	// CertificateRequest; each side compresses only with an algorithm the
	// other offered. A received chain is decompressed only up to the length
	// its sender declares, within the limits policy (a compression bomb
	// costs nothing more); brotli streams with a window over 4 MiB are
	// refused. Compressed chains are cached.
	CertificateCompression []CertificateCompressionAlgorithm
	// RecordSizeLimit is the largest protected record this side accepts,
	// counted as RFC 8449 §4 does (the plaintext; in TLS 1.3 with its
	// content type byte): 64 to 16385, for a constrained device. A client
	// with one offers record_size_limit (0, the default, offers none); a
	// server answers every client that offers it, with this limit or, when
	// zero, the protocol's. Negotiated, both sides keep their protected
	// records within the other's limit; a larger one is record_overflow.
	// GnuTLS refuses limits below 512 by default (it offers the extension
	// itself): a server that sets less fails with its clients.
	RecordSizeLimit uint16

	// EncryptedClientHelloConfigList is a client's ECHConfigList
	// (draft-ietf-tls-esni-25 §4, as DNS HTTPS records carry it): the client
	// seals its real ClientHello, server name and ALPN included, with the
	// first configuration it can use, and sends it inside an outer
	// ClientHello that names the configuration's public name. The inner
	// ClientHello offers TLS 1.3 only; the outer one also TLS 1.2 if
	// MinVersion allows it, and a server that chooses TLS 1.2 has rejected
	// ECH. A list with no usable configuration fails the handshake. If the server rejects ECH,
	// the handshake ends with an *ECHRejectionError once the server proved
	// it is the public name, carrying the server's new configurations.
	EncryptedClientHelloConfigList []byte
	// EncryptedClientHelloRejectionVerify, if set, checks a server that
	// rejected ECH instead of the default: its chain verified against
	// RootCAs for the public name (InsecureSkipVerify, VerifyPeerCertificate
	// and VerifyConnection do not apply then). An error ends the handshake.
	EncryptedClientHelloRejectionVerify func(ConnectionState) error
	// EncryptedClientHelloGREASE makes a client that does not offer ECH
	// (no EncryptedClientHelloConfigList, or none of its configurations
	// usable) send a GREASE encrypted_client_hello (draft-ietf-tls-esni-25
	// §6.2.1), so its ClientHello looks like one that uses ECH.
	EncryptedClientHelloGREASE bool
	// EncryptedClientHelloKeys are a server's ECH keys: a ClientHello
	// sealed for one of them is opened, and the handshake runs on the
	// inner ClientHello it holds. A ClientHello offering ECH that none
	// opens goes on with its outer hello and gets the keys marked
	// SendAsRetry as retry configurations. MinVersion, if set, must allow
	// TLS 1.3.
	EncryptedClientHelloKeys []EncryptedClientHelloKey
	// GetEncryptedClientHelloKeys, if set, is asked for the keys instead
	// of EncryptedClientHelloKeys, with the outer ClientHello, each time a
	// client offers ECH: the way to rotate them.
	GetEncryptedClientHelloKeys func(*ClientHelloInfo) ([]EncryptedClientHelloKey, error)
	// MaxEarlyData, on a server, lets clients resuming its TLS 1.3 sessions
	// send that many bytes of 0-RTT data before the handshake completes
	// (RFC 8446 §2.3, §4.2.10): its tickets say so, and a connection whose
	// application calls ReadEarlyData reads it. 0 (the default) turns 0-RTT
	// off. At most 64 KiB (the limits policy). Early data can be replayed:
	// see ReadEarlyData for what tlsflow guards and what it cannot.
	MaxEarlyData uint32
	// WrapSession, if set, makes a server's session tickets instead of
	// tlsflow's sealing (a fleet's shared store, a ticket format of its
	// own), as in crypto/tls: it must serialize the session with
	// SessionState.Bytes (EncryptTicket is the default sealing, to call
	// from it). An error ends the handshake.
	WrapSession func(ConnectionState, *SessionState) ([]byte, error)
	// UnwrapSession, if set, turns a ticket a client offers back into its
	// session (with ParseSessionState, or DecryptTicket): nil and no error
	// mean "not a session", and a full handshake; an error ends the
	// handshake. A session returned is still resumed only if tlsflow's
	// rules allow it (name, version, suite, lifetime, client chain).
	UnwrapSession func(identity []byte, cs ConnectionState) (*SessionState, error)

	// Trace, if set, receives every step of every handshake on connections
	// using this Config (see package trace). It is called synchronously.
	Trace trace.Hook

	// The fields below are crypto/tls's, kept so that code written for it
	// compiles and, where they still mean something, works the same.

	// PreferServerCipherSuites is ignored: the server always chooses by
	// its ranking (see CipherSuites), as crypto/tls does.
	//
	// Deprecated: PreferServerCipherSuites is ignored.
	PreferServerCipherSuites bool
	// DynamicRecordSizingDisabled is accepted and has no effect: tlsflow
	// never starts a connection with the small records crypto/tls uses to
	// get the first bytes to a browser sooner; every Write is cut into
	// full records (16 KiB of data each).
	DynamicRecordSizingDisabled bool
	// Renegotiation is accepted so that code written for crypto/tls
	// compiles, but tlsflow never renegotiates, whatever it says: a
	// server's HelloRequest is answered with a warning no_renegotiation
	// and the connection ends (RFC 5246 §7.2.2), as with RenegotiateNever;
	// with the other values the error says that renegotiation was allowed
	// but is not implemented. (Renegotiation is gone from TLS 1.3, and
	// was the root of the triple handshake attack in TLS 1.2.)
	Renegotiation RenegotiationSupport
	// SessionTicketKey, when not zero, is the server's only ticket key, as
	// long as SetSessionTicketKeys has not been called on this Config (or
	// one it was cloned from or to, which share their keys): no rotation,
	// and servers with the same value resume each other's sessions. Zero
	// means keys made and rotated daily (see SetSessionTicketKeys). Set it
	// before the Config is used: the first server handshake takes it.
	//
	// Deprecated: a key that never changes gives every session since it
	// was set to whoever obtains it. Use SetSessionTicketKeys and rotate.
	SessionTicketKey [32]byte
	// NameToCertificate maps a host name to the server's certificate for
	// it (see BuildNameToCertificate). When set, a ClientHello's
	// server_name is looked up in it, lower-cased, then with its first
	// label replaced by "*"; a match is the certificate, otherwise
	// Certificates are chosen from as usual. GetCertificate, when set,
	// is asked first. Unlike crypto/tls, the map is consulted even when
	// Certificates holds a single certificate.
	//
	// Deprecated: one certificate per name cannot serve clients that need
	// different keys (RSA and ECDSA); leave it nil and let the server pick
	// from Certificates by name and by what the client supports.
	NameToCertificate map[string]*Certificate

	keyLogMu sync.Mutex
	// sessions is the server's resumption state, made on first use and
	// shared with clones, so a cloned Config opens the same tickets.
	sessionsOnce sync.Once
	sessions     *serverSessions
	// legacyTickets are the ticket keys made from SessionTicketKey.
	legacyTickets legacyTicketKeys

	// extraClientHelloExtensions is set by tests (export_early_test.go).
	extraClientHelloExtensions []wire.Extension
	// sizeLimits replaces limits.Default, for tests (export_test.go).
	sizeLimits *limits.Policy
}

// limitPolicy is the limits policy connections with this Config enforce.
func (c *Config) limitPolicy() *limits.Policy {
	if c.sizeLimits != nil {
		return c.sizeLimits
	}
	return &limits.Default
}

// Clone returns a shallow copy of c: every exported field (a test sets
// each one and checks), the test hooks, and the server's resumption state,
// which the copy shares so that it opens the same tickets.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	return &Config{
		Rand: c.Rand, Provider: c.Provider, Time: c.Time, Certificates: c.Certificates, GetCertificate: c.GetCertificate,
		GetClientCertificate: c.GetClientCertificate, GetConfigForClient: c.GetConfigForClient, RootCAs: c.RootCAs, ServerName: c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, ClientAuth: c.ClientAuth, ClientCAs: c.ClientCAs,
		MinVersion: c.MinVersion, MaxVersion: c.MaxVersion, CipherSuites: c.CipherSuites,
		CurvePreferences: c.CurvePreferences, SignatureSchemes: c.SignatureSchemes, NextProtos: c.NextProtos,
		KeyLogWriter: c.KeyLogWriter, VerifyPeerCertificate: c.VerifyPeerCertificate,
		VerifyConnection: c.VerifyConnection, HandshakeTimeout: c.HandshakeTimeout, Trace: c.Trace,
		ClientSessionCache: c.ClientSessionCache, SessionTicketsDisabled: c.SessionTicketsDisabled,
		PreferServerCipherSuites: c.PreferServerCipherSuites, DynamicRecordSizingDisabled: c.DynamicRecordSizingDisabled,
		Renegotiation:    c.Renegotiation,
		SessionTicketKey: c.SessionTicketKey, NameToCertificate: c.NameToCertificate,
		ResumptionWithoutECDHE: c.ResumptionWithoutECDHE, WrapSession: c.WrapSession, UnwrapSession: c.UnwrapSession,
		ExternalPSKs: c.ExternalPSKs, GetExternalPSK: c.GetExternalPSK, MaxEarlyData: c.MaxEarlyData, OCSP: c.OCSP, RecordSizeLimit: c.RecordSizeLimit,
		CertificateCompression:         c.CertificateCompression,
		EncryptedClientHelloConfigList: c.EncryptedClientHelloConfigList, EncryptedClientHelloRejectionVerify: c.EncryptedClientHelloRejectionVerify,
		EncryptedClientHelloGREASE: c.EncryptedClientHelloGREASE, EncryptedClientHelloKeys: c.EncryptedClientHelloKeys,
		GetEncryptedClientHelloKeys: c.GetEncryptedClientHelloKeys,
		ServerCertificateTypes:      c.ServerCertificateTypes, ClientCertificateTypes: c.ClientCertificateTypes,
		TrustedRawPublicKeys: c.TrustedRawPublicKeys, VerifyRawPublicKey: c.VerifyRawPublicKey,
		extraClientHelloExtensions: c.extraClientHelloExtensions,
		sizeLimits:                 c.sizeLimits,
		sessions:                   c.serverSessions(),
	}
}

// provider resolves Provider: the Config's, else the process default.
func (c *Config) provider() (provider.Provider, error) {
	if c.Provider != nil {
		return c.Provider, nil
	}
	p, err := provider.Default()
	if err != nil {
		return nil, fmt.Errorf("no crypto provider: %w", err)
	}
	return p, nil
}

func (c *Config) rand() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

func (c *Config) now() time.Time {
	if c.Time != nil {
		return c.Time()
	}
	return time.Now()
}

// defaultServerHandshakeTimeout bounds a server's handshake unless
// Config.HandshakeTimeout says otherwise.
const defaultServerHandshakeTimeout = 10 * time.Second

func (c *Config) handshakeTimeout(isClient bool) time.Duration {
	switch {
	case c.HandshakeTimeout != 0:
		return c.HandshakeTimeout
	case isClient:
		return 0
	}
	return defaultServerHandshakeTimeout
}

// versions resolves MinVersion and MaxVersion to what tlsflow implements.
func (c *Config) versions() (lo, hi uint16) {
	lo, hi = c.MinVersion, c.MaxVersion
	if lo < VersionTLS12 {
		lo = VersionTLS12
	}
	if hi == 0 || hi > maxSupportedVersion {
		hi = maxSupportedVersion
	}
	return lo, hi
}

// writeKeyLog writes one NSS key log line: LABEL <client_random> <secret>.
func (c *Config) writeKeyLog(label string, clientRandom, secret []byte) {
	if c.KeyLogWriter == nil {
		return
	}
	line := make([]byte, 0, len(label)+2+2*len(clientRandom)+2*len(secret)+1)
	line = append(line, label...)
	line = append(line, ' ')
	line = hex.AppendEncode(line, clientRandom)
	line = append(line, ' ')
	line = hex.AppendEncode(line, secret)
	line = append(line, '\n')
	c.keyLogMu.Lock()
	defer c.keyLogMu.Unlock()
	_, _ = c.KeyLogWriter.Write(line)
}
