// Package limits is tlsflow's one policy on the sizes and counts a peer or a
// configuration controls. The RFCs bound most fields only by their length
// prefixes (a handshake message may declare 2^24-1 bytes, a ticket or a
// cookie 2^16-1), which is far more than any honest peer needs and enough to
// make a connection cost memory or CPU out of all proportion, or to build a
// message that can no longer be written. Each limit here is enforced at the
// one place where its data enters tlsflow, and nowhere else:
//
//	HandshakeMessage, CertificateMessage  record.HandshakeBuffer, as the header arrives
//	ChainCertificates, ChainBytes, RSABits  the engine, on a peer's Certificate (and a stored chain)
//	RawPublicKey, RSABits                 the engine, on a peer's raw public key (RFC 7250; and a stored one)
//	Ticket                                the client, on NewSessionTicket; the server, before it issues one
//	Cookie                                the client, on HelloRetryRequest
//	CANames                               the configuration (ClientCAs), before any byte is sent
//	EmptyRecords                          record.Reader
//	WarningAlerts, KeyUpdates             the connection, between application data records
//	ChangeCipherSpecs                     the TLS 1.3 engines
//	EarlyDataSkip                         the server connection, skipping rejected 0-RTT data
//	PSKIdentities                         the configuration (external PSKs a client offers); the
//	                                      server, on pre_shared_key (identities past it are not looked up)
//	EarlyData                             the configuration (Config.MaxEarlyData); the client, on a
//	                                      ticket's max_early_data_size
//	ReplayBinders                         the server's 0-RTT replay memory (session.ReplayWindow)
//
// Capture bounds what reading a packet capture may hold (package capture,
// tlsflow view --pcap): a capture is as hostile as a peer.
//
// A peer that exceeds a limit gets the alert named at each field; a
// configuration that does is refused before the handshake starts.
package limits

// Policy is a set of limits. The zero value is not useful: start from Default.
type Policy struct {
	// HandshakeMessage bounds the body of every handshake message but
	// Certificate; above it, illegal_parameter as soon as the header is read.
	HandshakeMessage int
	// CertificateMessage bounds the body of a Certificate message.
	CertificateMessage int

	// ChainCertificates bounds the certificates in a peer's chain, and
	// ChainBytes their total DER size (bad_certificate above either).
	ChainCertificates int
	ChainBytes        int
	// RSABits bounds the modulus of every RSA key in a peer's chain, checked
	// before any signature is verified (unsupported_certificate): verifying
	// with a 128 Kbit modulus costs seconds of CPU (CVE-2023-29409's class).
	RSABits int
	// RawPublicKey bounds the DER SubjectPublicKeyInfo a peer sends in
	// place of a chain (RFC 7250), checked before it is parsed
	// (bad_certificate above it). An 8192-bit RSA key takes 1,062 bytes.
	RawPublicKey int

	// Ticket bounds a session ticket: a client keeps none larger (it could
	// not offer it in a ClientHello), a server issues none larger.
	Ticket int
	// Cookie bounds a HelloRetryRequest cookie a client will echo
	// (illegal_parameter above it).
	Cookie int
	// CANames bounds the encoded certificate_authorities a server sends in
	// CertificateRequest: each DER name with its 2-byte length. A
	// configuration above it is an error.
	CANames int

	// EmptyRecords bounds the empty application_data records between two
	// records that carry application data (unexpected_message above it).
	EmptyRecords int
	// WarningAlerts bounds the TLS 1.2 warning alerts (and user_canceled)
	// between two records of application data.
	WarningAlerts int
	// KeyUpdates bounds the TLS 1.3 KeyUpdates between two records of
	// application data: each costs a key derivation.
	KeyUpdates int
	// ChangeCipherSpecs bounds the compatibility ChangeCipherSpec records a
	// TLS 1.3 handshake drops (RFC 8446 §5); one is normal.
	ChangeCipherSpecs int
	// EarlyDataSkip bounds the bytes of rejected 0-RTT data a server reads
	// past (RFC 8446 §4.2.10).
	EarlyDataSkip int
	// PSKIdentities bounds the identities of a pre_shared_key: a client's
	// configuration may not offer more; a server looks up no more of a
	// ClientHello's (each may cost a lookup in the application's store)
	// and ignores the rest, as unknown PSKs are (RFC 8446 §4.2.11).
	PSKIdentities int
	// EarlyData bounds the 0-RTT data one connection carries: a server's
	// MaxEarlyData may not exceed it (what it accepts is buffered until
	// read), and a client takes a ticket's max_early_data_size as at most
	// this much. Rejected 0-RTT is skipped up to the larger of this and
	// EarlyDataSkip.
	EarlyData int
	// ReplayBinders bounds the ClientHellos a server remembers to refuse
	// their 0-RTT data a second time (RFC 8446 §8.2); when full, 0-RTT is
	// refused, not a binder forgotten.
	ReplayBinders int
}

// HandshakeLimit is the most a handshake message of type msgType may declare
// (the body, without its 4-byte header).
func (p *Policy) HandshakeLimit(msgType uint8) int {
	const certificate = 11 // HandshakeType certificate, RFC 8446 §4
	if msgType == certificate {
		return p.CertificateMessage
	}
	return p.HandshakeMessage
}

// Default is the policy every connection uses.
var Default = Policy{
	HandshakeMessage:   1 << 16,
	CertificateMessage: 1 << 18,
	ChainCertificates:  64, // BoGo's LargeMessage sends 51; OpenSSL verifies to depth 100
	ChainBytes:         1 << 17,
	RSABits:            8192,
	RawPublicKey:       1 << 12,
	Ticket:             1 << 14,
	Cookie:             1 << 13,
	CANames:            3 << 14, // 49,152: the names must leave room in a 2-byte extensions block
	EmptyRecords:       32,
	WarningAlerts:      4,
	KeyUpdates:         32,
	ChangeCipherSpecs:  3,
	EarlyDataSkip:      1 << 14,
	PSKIdentities:      16,
	EarlyData:          1 << 16,
	ReplayBinders:      1 << 16,
}

// Capture is the limits on reading a packet capture (package capture): the
// file, its TCP connections and what is kept of each, each enforced where
// the data enters the reader.
type Capture struct {
	// Packet bounds a captured frame; a pcapng block may be 64 bytes
	// more. Larger ones end the reading (the capture is damaged or
	// hostile: tcpdump's largest snapshot is 262,144 bytes).
	Packet int
	// Flows bounds the TCP connections tracked at once; segments of
	// further ones are not read.
	Flows int
	// Connections bounds the TLS connections shown. Each may buffer a
	// record and a handshake message per direction (at most
	// CertificateMessage), so this bounds that memory too.
	Connections int
	// StreamBytes bounds the bytes read as TLS records in each direction
	// of a connection; the rest is skipped (the handshake and the start of
	// the application data come first).
	StreamBytes int
	// OutOfOrder bounds the bytes of segments held, over all connections,
	// while missing segments are awaited (each segment counts 64 bytes
	// more); above it the gap is given up on.
	OutOfOrder int
	// HeldSegments bounds the segments held per direction while a
	// missing segment is awaited: each arrival looks through them.
	HeldSegments int
	// Events bounds the trace events of one connection.
	Events int
	// KeptBytes bounds the raw bytes all events of a capture keep
	// (messages and the start of application data); past it events keep
	// their fields and lose their bytes.
	KeptBytes int
	// KeyLogLines bounds the lines of a key log.
	KeyLogLines int
}

// DefaultCapture is the policy tlsflow view --pcap uses.
var DefaultCapture = Capture{
	Packet:       1 << 18,
	Flows:        1 << 14,
	Connections:  256,
	StreamBytes:  1 << 20,
	OutOfOrder:   1 << 22,
	HeldSegments: 256,
	Events:       1 << 10,
	KeptBytes:    1 << 26,
	KeyLogLines:  1 << 20,
}
