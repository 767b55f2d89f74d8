// Package keys derives TLS key material: the TLS 1.2 PRF and what is built on
// it (RFC 5246 §5, §6.3, §7.4.9, §8.1; RFC 7627; RFC 5705), the TLS 1.3 key
// schedule on HKDF (RFC 8446 §7.1–7.5), and the handshake transcript hash.
//
// Hashes are given as Hash, a crypto.Hash with the provider that computes it
// (hash.go), and must be SHA-256 or SHA-384, the only ones a TLS 1.2 AEAD
// suite or a TLS 1.3 suite uses. HKDF is written here on the provider's HMAC
// (hkdf.go), as is the PRF.
package keys

import (
	_ "crypto/sha256" // links crypto.SHA256
	_ "crypto/sha512" // links crypto.SHA384
	"crypto/subtle"
)

// Equal reports whether two MACs, verify_data or binders are equal, in time
// that depends only on their lengths (crypto/subtle). Different lengths are
// unequal. An empty value never matches: no MAC is empty, so an empty one is
// a bug or an attack, never a success.
func Equal(a, b []byte) bool {
	return len(a) != 0 && subtle.ConstantTimeCompare(a, b) == 1
}
