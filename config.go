package tlsflow

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net"
	"sync"
	"time"

	"github.com/tlsflow/tlsflow/internal/wire"
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
	// Conn is the underlying connection.
	Conn net.Conn
}

// CertificateRequestInfo is what the client knows when the server asks for a certificate.
type CertificateRequestInfo struct {
	// AcceptableCAs are the DER subjects of the authorities the server accepts
	// (the course note's "list of accepted certificate authorities").
	AcceptableCAs    [][]byte
	SignatureSchemes []SignatureScheme
	Version          uint16
}

// Config configures a client or a server. A Config may be shared by many
// connections once in use, and must then not be modified.
type Config struct {
	// Rand is the source of randomness; crypto/rand if nil.
	Rand io.Reader
	// Time returns the current time for certificate checks; time.Now if nil.
	Time func() time.Time

	// Certificates: a server's chains (the first whose names match the
	// requested host is used, else the first); a client's candidates for
	// client authentication (the first that fits the server's request is sent).
	Certificates []Certificate
	// GetCertificate, if set, picks the server's certificate from the ClientHello.
	GetCertificate func(*ClientHelloInfo) (*Certificate, error)
	// GetClientCertificate, if set, picks the client's certificate.
	GetClientCertificate func(*CertificateRequestInfo) (*Certificate, error)

	// RootCAs verify server certificates; the system pool if nil.
	RootCAs *x509.CertPool
	// ServerName is sent in server_name (SNI) and checked against the server certificate.
	ServerName string
	// InsecureSkipVerify accepts any server certificate. For tests only.
	InsecureSkipVerify bool

	// ClientAuth is the server's client certificate policy.
	ClientAuth ClientAuthType
	// ClientCAs verify client certificates, and their subjects are the
	// authorities named in CertificateRequest.
	ClientCAs *x509.CertPool

	// MinVersion and MaxVersion bound the protocol version; zero means
	// TLS 1.2 and the highest version implemented.
	MinVersion uint16
	MaxVersion uint16

	// CipherSuites enables suites; the server chooses in tlsflow's ranking
	// (forward secrecy, then authentication, then key strength — see the
	// package doc of internal/suites and the README), whatever the order here. Nil enables every
	// forward-secret suite. The RSA key exchange is only used when named here.
	CipherSuites []uint16
	// CurvePreferences lists the key exchange groups in preference order;
	// nil means X25519MLKEM768 (TLS 1.3), X25519, P-256, P-384.
	CurvePreferences []CurveID
	// SignatureSchemes are the signature schemes this side offers in
	// signature_algorithms (and a server in CertificateRequest), accepts from
	// the peer, and signs with, in preference order (RFC 8446 §4.2.3, RFC 5246
	// §7.4.1.4.1). Nil means tlsflow's defaults; unknown or unimplemented
	// schemes are dropped, and a list with none left fails the handshake.
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
	// ResumptionWithoutECDHE allows TLS 1.3 resumption in psk_ke mode (RFC
	// 8446 §4.2.9): no fresh (EC)DHE, so resumed handshakes are cheaper, but
	// whoever later steals the ticket key can decrypt them. Off by default
	// (psk_dhe_ke only). A client offers psk_ke; a server uses it when offered.
	ResumptionWithoutECDHE bool

	// Trace, if set, receives every step of every handshake on connections
	// using this Config (see package trace). It is called synchronously.
	Trace trace.Hook

	keyLogMu sync.Mutex
	// sessions is the server's resumption state, made on first use and
	// shared with clones, so a cloned Config opens the same tickets.
	sessionsOnce sync.Once
	sessions     *serverSessions

	// extraClientHelloExtensions is set by tests (export_early_test.go).
	extraClientHelloExtensions []wire.Extension
}

// Clone returns a shallow copy of c.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	return &Config{
		Rand: c.Rand, Time: c.Time, Certificates: c.Certificates, GetCertificate: c.GetCertificate,
		GetClientCertificate: c.GetClientCertificate, RootCAs: c.RootCAs, ServerName: c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, ClientAuth: c.ClientAuth, ClientCAs: c.ClientCAs,
		MinVersion: c.MinVersion, MaxVersion: c.MaxVersion, CipherSuites: c.CipherSuites,
		CurvePreferences: c.CurvePreferences, SignatureSchemes: c.SignatureSchemes, NextProtos: c.NextProtos, KeyLogWriter: c.KeyLogWriter,
		VerifyPeerCertificate: c.VerifyPeerCertificate, VerifyConnection: c.VerifyConnection, Trace: c.Trace,
		ClientSessionCache: c.ClientSessionCache, SessionTicketsDisabled: c.SessionTicketsDisabled,
		ResumptionWithoutECDHE:     c.ResumptionWithoutECDHE,
		extraClientHelloExtensions: c.extraClientHelloExtensions,
		sessions:                   c.serverSessions(),
	}
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
