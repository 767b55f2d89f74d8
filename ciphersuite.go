package tlsflow

import "github.com/tlsflow/tlsflow/internal/suites"

// CipherSuite describes a cipher suite tlsflow implements, as
// CipherSuites and InsecureCipherSuites list it.
type CipherSuite struct {
	ID   uint16
	Name string
	// SupportedVersions are the protocol versions the suite is used with:
	// TLS 1.3 for the TLS 1.3 suites, TLS 1.2 for the others (tlsflow has
	// no TLS 1.0 or 1.1).
	SupportedVersions []uint16
	// Insecure is true for the suites InsecureCipherSuites lists.
	Insecure bool
}

// CipherSuites returns the cipher suites tlsflow implements and enables
// by default: every TLS 1.3 suite and the TLS 1.2 ECDHE suites, all
// AEADs, strongest first in the server's ranking (see Config.CipherSuites).
// Each call returns new values, which the caller may modify.
//
// Unlike crypto/tls's list, it has no CBC suite: tlsflow implements none.
func CipherSuites() []*CipherSuite { return cipherSuites(false) }

// InsecureCipherSuites returns the cipher suites tlsflow implements but
// does not enable unless Config.CipherSuites names them: the RSA key
// exchange (TLS_RSA_WITH_AES_128_GCM_SHA256 and
// TLS_RSA_WITH_AES_256_GCM_SHA384), which has no forward secrecy — whoever
// obtains the server's key later decrypts every recorded session — and
// whose server side has been an oracle in many implementations (Bleichenbacher,
// ROBOT). crypto/tls lists the same suites here.
//
// The CBC, RC4 and 3DES constants crypto/tls also lists here are not in
// the result: tlsflow does not implement them, and a list of what this
// package can negotiate should not name suites it never will. Those
// constants exist only so that code written for crypto/tls compiles; in
// Config.CipherSuites they are ignored.
func InsecureCipherSuites() []*CipherSuite { return cipherSuites(true) }

func cipherSuites(insecure bool) []*CipherSuite {
	var out []*CipherSuite
	for _, s := range suites.All() {
		if s.KeyExchange.ForwardSecret() == insecure {
			continue
		}
		out = append(out, &CipherSuite{ID: s.ID, Name: s.Name, SupportedVersions: []uint16{s.Version}, Insecure: insecure})
	}
	return out
}

// CipherSuiteName returns the IANA name of a cipher suite: the suites
// tlsflow implements, the crypto/tls constants it does not (CBC, RC4,
// 3DES), the signalling values, and otherwise its hex value ("0x1234").
func CipherSuiteName(id uint16) string {
	if n, ok := legacySuiteNames[id]; ok {
		return n
	}
	return suites.Name(id)
}

// Cipher suites that crypto/tls defines and tlsflow does not implement:
// CBC with HMAC-SHA-1 or SHA-256 (RFC 5246, RFC 5289), RC4 (prohibited by
// RFC 7465) and 3DES. They compile so that crypto/tls code needs no edit;
// in Config.CipherSuites they are accepted and ignored. CBC's MAC-then-encrypt construction
// is where Lucky Thirteen and POODLE live; tlsflow's TLS 1.2 is AEAD only.
const (
	TLS_RSA_WITH_RC4_128_SHA                uint16 = 0x0005
	TLS_RSA_WITH_3DES_EDE_CBC_SHA           uint16 = 0x000a
	TLS_RSA_WITH_AES_128_CBC_SHA            uint16 = 0x002f
	TLS_RSA_WITH_AES_256_CBC_SHA            uint16 = 0x0035
	TLS_RSA_WITH_AES_128_CBC_SHA256         uint16 = 0x003c
	TLS_ECDHE_ECDSA_WITH_RC4_128_SHA        uint16 = 0xc007
	TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA    uint16 = 0xc009
	TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA    uint16 = 0xc00a
	TLS_ECDHE_RSA_WITH_RC4_128_SHA          uint16 = 0xc011
	TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA     uint16 = 0xc012
	TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA      uint16 = 0xc013
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA      uint16 = 0xc014
	TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 uint16 = 0xc023
	TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256   uint16 = 0xc027
)

// TLS_FALLBACK_SCSV (RFC 7507) is not a cipher suite but a signal a client
// puts among its suites when it retries with a lower version than it
// supports. tlsflow's client never retries that way and ignores it in
// Config.CipherSuites; its server refuses such a ClientHello with
// inappropriate_fallback when it supports a higher version, as the RFC
// requires.
const TLS_FALLBACK_SCSV uint16 = suites.TLS_FALLBACK_SCSV

// The names crypto/tls used for the ChaCha20-Poly1305 suites before RFC
// 7905 gave them theirs; the same values, which tlsflow implements.
const (
	TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305   = TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305 = TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
)

// legacySuiteNames names the constants above for CipherSuiteName.
var legacySuiteNames = map[uint16]string{
	TLS_RSA_WITH_RC4_128_SHA:                "TLS_RSA_WITH_RC4_128_SHA",
	TLS_RSA_WITH_3DES_EDE_CBC_SHA:           "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
	TLS_RSA_WITH_AES_128_CBC_SHA:            "TLS_RSA_WITH_AES_128_CBC_SHA",
	TLS_RSA_WITH_AES_256_CBC_SHA:            "TLS_RSA_WITH_AES_256_CBC_SHA",
	TLS_RSA_WITH_AES_128_CBC_SHA256:         "TLS_RSA_WITH_AES_128_CBC_SHA256",
	TLS_ECDHE_ECDSA_WITH_RC4_128_SHA:        "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
	TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	TLS_ECDHE_RSA_WITH_RC4_128_SHA:          "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
	TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA:     "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
	TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:   "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
}

// Signature schemes with SHA-1 (RFC 8446 §4.2.3 "legacy"), which crypto/tls
// defines for TLS 1.2. tlsflow implements neither: they are never offered
// nor accepted, and Config.SignatureSchemes and
// Certificate.SupportedSignatureAlgorithms ignore them. SHA-1 collisions
// are practical (SHAttered, 2017; SLOTH showed what they do to TLS).
const (
	PKCS1WithSHA1 SignatureScheme = 0x0201
	ECDSAWithSHA1 SignatureScheme = 0x0203
)
