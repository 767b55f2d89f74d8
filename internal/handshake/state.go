package handshake

import "crypto/x509"

// State is what a handshake has negotiated.
type State struct {
	Version            uint16
	CipherSuite        uint16
	Group              uint16 // key exchange group, 0 for the RSA key exchange
	NegotiatedProtocol string
	ServerName         string
	PeerCertificates   []*x509.Certificate
	VerifiedChains     [][]*x509.Certificate
	// PeerRawPublicKey is the DER SubjectPublicKeyInfo the peer
	// authenticated with instead of a chain (RFC 7250), or nil.
	PeerRawPublicKey []byte
	// ServerCertType and ClientCertType are the certificate types in use
	// (RFC 7250): X.509 (0) unless the extensions negotiated another.
	ServerCertType uint8
	ClientCertType uint8
	DidResume      bool
	ExtendedMaster bool
	// RequestedCAs are the authorities a server's CertificateRequest named
	// (client side): the note's "list of accepted certificate authorities".
	RequestedCAs [][]byte
	// ExternalPSKIdentity is the identity (for an imported PSK its
	// external_identity) of the external PSK that authenticated both sides
	// of a TLS 1.3 handshake, or nil.
	ExternalPSKIdentity []byte
	// PostHandshakeAuth: the client offered post-handshake authentication
	// (RFC 8446 §4.6.2) in a TLS 1.3 ClientHello.
	PostHandshakeAuth bool
	// HelloRetryRequest: the server asked for a second ClientHello (RFC
	// 8446 §4.1.4); a server sent one, a client received one.
	HelloRetryRequest bool
	// ECHAccepted: the handshake used the inner ClientHello of Encrypted
	// Client Hello (draft-ietf-tls-esni-25).
	ECHAccepted bool
	// ECHRejection is, on a client whose ECH offer the server rejected,
	// why the connection must not be used: the handshake with the public
	// name completes, then the connection sends ech_required and fails
	// with this error (draft-ietf-tls-esni-25 §6.1.6).
	ECHRejection error
	// EarlyDataOffered: the TLS 1.3 ClientHello announced 0-RTT data; a
	// server that does not accept it skips its records (RFC 8446 §4.2.10).
	// EarlyDataAccepted: the server reads it (early_data in
	// EncryptedExtensions).
	EarlyDataOffered  bool
	EarlyDataAccepted bool
	// OCSPResponse and SignedCertificateTimestamps are what a server
	// stapled to its certificate (client side).
	OCSPResponse                []byte
	SignedCertificateTimestamps [][]byte
	// PeerSignatureScheme is the scheme the peer signed with (0 if none).
	PeerSignatureScheme uint16
	// SessionID is the TLS 1.2 session ID under which a server's session
	// cache keeps this connection's session, if it does (so a fatal alert
	// can remove it, RFC 5246 §7.2.2).
	SessionID []byte
	// TLSUnique is the verify_data of the first Finished message of a TLS
	// 1.2 handshake: the client's in a full handshake, the server's in an
	// abbreviated one (RFC 5929 §3.1, "tls-unique"). Nil in TLS 1.3.
	TLSUnique []byte

	ClientRandom []byte
	ServerRandom []byte
	// MasterSecret (TLS 1.2) keys the RFC 5705 exporter.
	MasterSecret []byte
	// ExporterSecret (TLS 1.3) is exporter_master_secret (RFC 8446 §7.5).
	ExporterSecret []byte
}

// setPeer makes p the peer's authentication: its chain, or its raw key.
func (s *State) setPeer(p *PeerCertificates) {
	s.PeerCertificates, s.VerifiedChains, s.PeerRawPublicKey = p.Certificates, p.VerifiedChains, p.RawPublicKey
}
