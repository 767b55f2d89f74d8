// Package wire encodes and decodes TLS 1.2 and TLS 1.3 handshake messages and
// their extensions (RFC 5246 §7.4, RFC 8446 §4), byte for byte as the RFCs'
// presentation language describes them.
//
// Every message type has Marshal, which returns the complete handshake
// message including its 4-byte header (what goes on the wire and into the
// transcript), and Unmarshal, which takes the same complete message, checks
// the header, enforces every vector bound the RFC states and rejects trailing
// bytes. Unmarshal may keep slices that point into its input. On error the
// receiver is left unchanged.
//
// Marshal writes what it is given: it does not enforce lower bounds (an empty
// cipher_suites is written as such, and rejected by Unmarshal). It fails, and
// never panics, when a field is longer than its length prefix can express:
// fields hold data a peer or a configuration sized (a cookie to echo, a
// ticket to offer, a list of CA names), so building a message is an
// operation that can fail like parsing one. A message produced by Unmarshal
// always marshals again; a value moved into another message need not: a
// 65,535-byte cookie parses in a HelloRetryRequest but cannot be echoed in a
// ClientHello, whose extensions block has the same 2-byte length.
//
// Bounds that depend on the negotiated version cannot be checked here and are
// left to the handshake engine: the TLS 1.3 minimums ClientHello
// extensions<8..2^16-1> and ServerHello extensions<6..2^16-1> (TLS 1.2 allows
// any length, or no block at all), and the TLS 1.3 rule that
// legacy_compression_methods is exactly {0}.
package wire

import (
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// HandshakeType is RFC 8446 §4 / RFC 5246 §7.4 HandshakeType.
type HandshakeType uint8

const (
	TypeHelloRequest          HandshakeType = 0 // TLS 1.2 only
	TypeClientHello           HandshakeType = 1
	TypeServerHello           HandshakeType = 2
	TypeNewSessionTicket      HandshakeType = 4
	TypeEndOfEarlyData        HandshakeType = 5
	TypeEncryptedExtensions   HandshakeType = 8
	TypeCertificate           HandshakeType = 11
	TypeServerKeyExchange     HandshakeType = 12 // TLS 1.2 only
	TypeCertificateRequest    HandshakeType = 13
	TypeServerHelloDone       HandshakeType = 14 // TLS 1.2 only
	TypeCertificateVerify     HandshakeType = 15
	TypeClientKeyExchange     HandshakeType = 16 // TLS 1.2 only
	TypeFinished              HandshakeType = 20
	TypeCertificateStatus     HandshakeType = 22 // RFC 6066 §8, TLS 1.2 only
	TypeKeyUpdate             HandshakeType = 24
	TypeCompressedCertificate HandshakeType = 25  // RFC 8879 §4, TLS 1.3 only
	TypeMessageHash           HandshakeType = 254 // synthetic, transcript only (RFC 8446 §4.4.1)
)

var handshakeTypeNames = map[HandshakeType]string{
	TypeHelloRequest:          "HelloRequest",
	TypeClientHello:           "ClientHello",
	TypeServerHello:           "ServerHello",
	TypeNewSessionTicket:      "NewSessionTicket",
	TypeEndOfEarlyData:        "EndOfEarlyData",
	TypeEncryptedExtensions:   "EncryptedExtensions",
	TypeCertificate:           "Certificate",
	TypeServerKeyExchange:     "ServerKeyExchange",
	TypeCertificateRequest:    "CertificateRequest",
	TypeServerHelloDone:       "ServerHelloDone",
	TypeCertificateVerify:     "CertificateVerify",
	TypeClientKeyExchange:     "ClientKeyExchange",
	TypeFinished:              "Finished",
	TypeCertificateStatus:     "CertificateStatus",
	TypeKeyUpdate:             "KeyUpdate",
	TypeCompressedCertificate: "CompressedCertificate",
	TypeMessageHash:           "message_hash",
}

func (t HandshakeType) String() string {
	if name, ok := handshakeTypeNames[t]; ok {
		return name
	}
	return "HandshakeType(" + strconv.Itoa(int(t)) + ")"
}

// ExtensionType is RFC 8446 §4.2 ExtensionType, plus the TLS 1.2 extensions
// from RFC 4492/8422, RFC 5746, RFC 7627, RFC 7366 and RFC 5077.
type ExtensionType uint16

const (
	ExtServerName              ExtensionType = 0      // RFC 6066
	ExtStatusRequest           ExtensionType = 5      // RFC 6066
	ExtSupportedGroups         ExtensionType = 10     // RFC 8422, RFC 7919
	ExtECPointFormats          ExtensionType = 11     // RFC 8422
	ExtSignatureAlgorithms     ExtensionType = 13     // RFC 8446
	ExtALPN                    ExtensionType = 16     // RFC 7301
	ExtSCT                     ExtensionType = 18     // RFC 6962
	ExtClientCertificateType   ExtensionType = 19     // RFC 7250
	ExtServerCertificateType   ExtensionType = 20     // RFC 7250
	ExtPadding                 ExtensionType = 21     // RFC 7685
	ExtEncryptThenMAC          ExtensionType = 22     // RFC 7366
	ExtExtendedMasterSecret    ExtensionType = 23     // RFC 7627
	ExtCompressCertificate     ExtensionType = 27     // RFC 8879
	ExtRecordSizeLimit         ExtensionType = 28     // RFC 8449
	ExtSessionTicket           ExtensionType = 35     // RFC 5077
	ExtPreSharedKey            ExtensionType = 41     // RFC 8446
	ExtEarlyData               ExtensionType = 42     // RFC 8446
	ExtSupportedVersions       ExtensionType = 43     // RFC 8446
	ExtCookie                  ExtensionType = 44     // RFC 8446
	ExtPSKKeyExchangeModes     ExtensionType = 45     // RFC 8446
	ExtCertificateAuthorities  ExtensionType = 47     // RFC 8446
	ExtPostHandshakeAuth       ExtensionType = 49     // RFC 8446
	ExtSignatureAlgorithmsCert ExtensionType = 50     // RFC 8446
	ExtKeyShare                ExtensionType = 51     // RFC 8446
	ExtECHOuterExtensions      ExtensionType = 0xfd00 // draft-ietf-tls-esni-25 §5.1
	ExtEncryptedClientHello    ExtensionType = 0xfe0d // draft-ietf-tls-esni-25 §5
	ExtRenegotiationInfo       ExtensionType = 0xff01
)

var extensionTypeNames = map[ExtensionType]string{
	ExtServerName:              "server_name",
	ExtStatusRequest:           "status_request",
	ExtSupportedGroups:         "supported_groups",
	ExtECPointFormats:          "ec_point_formats",
	ExtSignatureAlgorithms:     "signature_algorithms",
	ExtALPN:                    "application_layer_protocol_negotiation",
	ExtSCT:                     "signed_certificate_timestamp",
	ExtClientCertificateType:   "client_certificate_type",
	ExtServerCertificateType:   "server_certificate_type",
	ExtPadding:                 "padding",
	ExtEncryptThenMAC:          "encrypt_then_mac",
	ExtExtendedMasterSecret:    "extended_master_secret",
	ExtCompressCertificate:     "compress_certificate",
	ExtRecordSizeLimit:         "record_size_limit",
	ExtSessionTicket:           "session_ticket",
	ExtPreSharedKey:            "pre_shared_key",
	ExtEarlyData:               "early_data",
	ExtSupportedVersions:       "supported_versions",
	ExtCookie:                  "cookie",
	ExtPSKKeyExchangeModes:     "psk_key_exchange_modes",
	ExtCertificateAuthorities:  "certificate_authorities",
	ExtPostHandshakeAuth:       "post_handshake_auth",
	ExtSignatureAlgorithmsCert: "signature_algorithms_cert",
	ExtKeyShare:                "key_share",
	ExtECHOuterExtensions:      "ech_outer_extensions",
	ExtEncryptedClientHello:    "encrypted_client_hello",
	ExtRenegotiationInfo:       "renegotiation_info",
}

func (t ExtensionType) String() string {
	if name, ok := extensionTypeNames[t]; ok {
		return name
	}
	return "extension(" + strconv.Itoa(int(t)) + ")"
}

// Message is implemented by every handshake message type in this package.
// Marshal and Unmarshal work on the complete message, header included.
type Message interface {
	Type() HandshakeType
	Marshal() ([]byte, error)
	Unmarshal(msg []byte) error
}

// headerLen is the size of the Handshake header: msg_type and a uint24 length
// (RFC 8446 §4, RFC 5246 §7.4).
const headerLen = 4

// ParseHeader reads the handshake header at the start of b. ok is false if b
// is shorter than the header; bodyLen is the declared length, which b may not
// (yet) hold in full.
func ParseHeader(b []byte) (t HandshakeType, bodyLen int, ok bool) {
	if len(b) < headerLen {
		return 0, 0, false
	}
	return HandshakeType(b[0]), int(b[1])<<16 | int(b[2])<<8 | int(b[3]), true
}

// marshalMessage frames the body that add writes as
//
//	struct { HandshakeType msg_type; uint24 length; <body> } Handshake;
func marshalMessage(t HandshakeType, add func(b *builder)) ([]byte, error) {
	b := pooledBuilder(messageSizeHint)
	b.AddUint8(uint8(t))
	b.AddUint24LengthPrefixed(add)
	return b.finish(t.String)
}

// messageSizeHint covers most handshake messages, so that marshalling one
// allocates its buffer once: a ClientHello with an X25519MLKEM768 share is
// about 1,400 bytes; a certificate chain grows the buffer as it needs.
const messageSizeHint = 512

// readMessage checks the header of msg against want and returns the body.
func readMessage(msg []byte, want HandshakeType) (cryptobyte.String, error) {
	name := want.String()
	t, n, ok := ParseHeader(msg)
	switch {
	case !ok:
		return nil, decodeErr(name, "handshake header")
	case t != want:
		return nil, decodeErr(name, "msg_type")
	case n != len(msg)-headerLen:
		return nil, decodeErr(name, "length")
	}
	return cryptobyte.String(msg[headerLen:]), nil
}

// clip turns a parsed vector into the []byte a message field holds: nil when
// empty, so that parsed values compare equal to built ones, and capacity
// capped so that appending to a field never writes into the caller's buffer.
func clip(v cryptobyte.String) []byte {
	if len(v) == 0 {
		return nil
	}
	return []byte(v)[:len(v):len(v)]
}

// readOpaque8 reads opaque x<lo..hi> with a one-byte length.
func readOpaque8(s *cryptobyte.String, out *[]byte, lo, hi int) bool {
	var v cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&v) || len(v) < lo || len(v) > hi {
		return false
	}
	*out = clip(v)
	return true
}

// readOpaque16 reads opaque x<lo..hi> with a two-byte length.
func readOpaque16(s *cryptobyte.String, out *[]byte, lo, hi int) bool {
	var v cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&v) || len(v) < lo || len(v) > hi {
		return false
	}
	*out = clip(v)
	return true
}

// readOpaque24 reads opaque x<lo..hi> with a three-byte length.
func readOpaque24(s *cryptobyte.String, out *[]byte, lo, hi int) bool {
	var v cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&v) || len(v) < lo || len(v) > hi {
		return false
	}
	*out = clip(v)
	return true
}

// readVector16 reads the body of a vector<lo..hi> of structures with a
// two-byte length, for the caller to walk.
func readVector16(s *cryptobyte.String, body *cryptobyte.String, lo, hi int) bool {
	return s.ReadUint16LengthPrefixed(body) && len(*body) >= lo && len(*body) <= hi
}

// readUint16List16 reads uint16 x<lo..hi> (lo and hi in bytes, as the RFC
// writes them) with a two-byte length; an odd length is malformed.
func readUint16List16(s *cryptobyte.String, out *[]uint16, lo, hi int) bool {
	var v cryptobyte.String
	if !readVector16(s, &v, lo, hi) {
		return false
	}
	return readUint16s(v, out)
}

// readUint16List8 is readUint16List16 with a one-byte length.
func readUint16List8(s *cryptobyte.String, out *[]uint16, lo, hi int) bool {
	var v cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&v) || len(v) < lo || len(v) > hi {
		return false
	}
	return readUint16s(v, out)
}

func readUint16s(v cryptobyte.String, out *[]uint16) bool {
	if len(v)%2 != 0 {
		return false
	}
	var list []uint16
	if len(v) > 0 {
		list = make([]uint16, 0, len(v)/2)
	}
	for !v.Empty() {
		var x uint16
		v.ReadUint16(&x)
		list = append(list, x)
	}
	*out = list
	return true
}

func addOpaque8(b *builder, v []byte) {
	b.AddUint8LengthPrefixed(func(b *builder) { b.AddBytes(v) })
}

func addOpaque16(b *builder, v []byte) {
	b.AddUint16LengthPrefixed(func(b *builder) { b.AddBytes(v) })
}

func addOpaque24(b *builder, v []byte) {
	b.AddUint24LengthPrefixed(func(b *builder) { b.AddBytes(v) })
}

func addUint16List16(b *builder, list []uint16) {
	b.AddUint16LengthPrefixed(func(b *builder) {
		for _, x := range list {
			b.AddUint16(x)
		}
	})
}

func addUint16List8(b *builder, list []uint16) {
	b.AddUint8LengthPrefixed(func(b *builder) {
		for _, x := range list {
			b.AddUint16(x)
		}
	})
}
