package tlsflow

import (
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
)

// Protocol versions, untyped as in crypto/tls. tlsflow implements TLS 1.2
// and TLS 1.3 only: TLS 1.0 and 1.1 are deprecated (RFC 8996) and SSL 3.0
// prohibited (RFC 7568). Their constants exist so that code written for
// crypto/tls compiles; a MinVersion below TLS 1.2 means TLS 1.2, and a
// MaxVersion below it fails the handshake with a configuration error
// before any byte is sent. A peer that offers only them gets
// protocol_version.
const (
	VersionTLS10 = 0x0301
	VersionTLS11 = 0x0302
	VersionTLS12 = 0x0303
	VersionTLS13 = 0x0304

	// Deprecated: SSL 3.0 is cryptographically broken (RFC 7568) and
	// tlsflow never speaks it.
	VersionSSL30 = 0x0300
)

// Cipher suites under their IANA names (RFC 5288, RFC 5289, RFC 7905,
// RFC 8446 §B.4). The RSA key exchange suites are off unless
// Config.CipherSuites names them: they have no forward secrecy.
const (
	TLS_RSA_WITH_AES_128_GCM_SHA256               uint16 = suites.TLS_RSA_WITH_AES_128_GCM_SHA256
	TLS_RSA_WITH_AES_256_GCM_SHA384               uint16 = suites.TLS_RSA_WITH_AES_256_GCM_SHA384
	TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256       uint16 = suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384       uint16 = suites.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256         uint16 = suites.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384         uint16 = suites.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
	TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256   uint16 = suites.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 uint16 = suites.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
)

// CurveID is a TLS NamedGroup (IANA TLS Supported Groups registry).
type CurveID uint16

const (
	CurveP256      CurveID = CurveID(suites.GroupP256)
	CurveP384      CurveID = CurveID(suites.GroupP384)
	CurveP521      CurveID = CurveID(suites.GroupP521)
	X25519         CurveID = CurveID(suites.GroupX25519)
	X25519MLKEM768 CurveID = CurveID(suites.GroupX25519MLKEM768) // TLS 1.3 only, offered first by default
	// SecP256r1MLKEM768 and SecP384r1MLKEM1024 are the other hybrids of
	// draft-ietf-tls-ecdhe-mlkem (P-256 with ML-KEM-768, P-384 with
	// ML-KEM-1024): TLS 1.3 only, used when CurvePreferences names them.
	SecP256r1MLKEM768  CurveID = CurveID(suites.GroupSecP256r1MLKEM768)
	SecP384r1MLKEM1024 CurveID = CurveID(suites.GroupSecP384r1MLKEM1024)
)

func (c CurveID) String() string { return suites.GroupName(uint16(c)) }

// SignatureScheme is a TLS SignatureScheme (RFC 8446 §4.2.3).
type SignatureScheme uint16

const (
	PKCS1WithSHA256        SignatureScheme = SignatureScheme(signature.RSAPKCS1SHA256)
	PKCS1WithSHA384        SignatureScheme = SignatureScheme(signature.RSAPKCS1SHA384)
	PKCS1WithSHA512        SignatureScheme = SignatureScheme(signature.RSAPKCS1SHA512)
	PSSWithSHA256          SignatureScheme = SignatureScheme(signature.RSAPSSRSAESHA256)
	PSSWithSHA384          SignatureScheme = SignatureScheme(signature.RSAPSSRSAESHA384)
	PSSWithSHA512          SignatureScheme = SignatureScheme(signature.RSAPSSRSAESHA512)
	ECDSAWithP256AndSHA256 SignatureScheme = SignatureScheme(signature.ECDSASecp256r1SHA256)
	ECDSAWithP384AndSHA384 SignatureScheme = SignatureScheme(signature.ECDSASecp384r1SHA384)
	ECDSAWithP521AndSHA512 SignatureScheme = SignatureScheme(signature.ECDSASecp521r1SHA512)
	Ed25519                SignatureScheme = SignatureScheme(signature.Ed25519)
)

func (s SignatureScheme) String() string { return signature.Name(uint16(s)) }

// VersionName returns "TLS 1.2" style names.
func VersionName(v uint16) string { return suites.VersionName(v) }

// maxSupportedVersion is the highest version this build implements.
const maxSupportedVersion = VersionTLS13

// TLS 1.3 cipher suites (RFC 8446 §B.4). Unlike crypto/tls, Config.CipherSuites
// selects these too, so ChaCha20-Poly1305 can be forced on AES hardware.
const (
	TLS_AES_128_GCM_SHA256       uint16 = suites.TLS_AES_128_GCM_SHA256
	TLS_AES_256_GCM_SHA384       uint16 = suites.TLS_AES_256_GCM_SHA384
	TLS_CHACHA20_POLY1305_SHA256 uint16 = suites.TLS_CHACHA20_POLY1305_SHA256
)

// CertificateCompressionAlgorithm is an RFC 8879 certificate compression
// algorithm (Config.CertificateCompression).
type CertificateCompressionAlgorithm uint16

// The algorithms of RFC 8879 §7.3, all implemented.
const (
	CertCompressionZlib   CertificateCompressionAlgorithm = 1
	CertCompressionBrotli CertificateCompressionAlgorithm = 2
	CertCompressionZstd   CertificateCompressionAlgorithm = 3
)
