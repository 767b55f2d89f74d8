// Package openssl is tlsflow's OpenSSL provider: the primitives where
// OpenSSL's libcrypto (3.x, or 1.1.1) measures faster than the standard
// library on this kind of machine run there, through
// github.com/golang-fips/openssl/v2, and everything else stays the standard
// library's (the provider embeds provider.Stdlib).
//
// Importing the package registers the provider as "openssl", so that
// TLSFLOW_PROVIDER=openssl selects it as the process default; New returns
// it for Config.Provider. libcrypto is loaded at run time (dlopen), at the
// first use: a machine without it gets an error from the first handshake,
// never a crash, and never a silent fallback to the standard library. The
// library's file name is libcrypto.so.3 unless TLSFLOW_OPENSSL_LIBCRYPTO
// names another. The package needs cgo; built without it, the provider is
// still registered, and opening it says why it cannot work.
//
// What is routed, and why (per-primitive measurements on the development
// machine, in docs/PERFORMANCE.md, "Providers"):
//
//   - RSA private-key operations on an *rsa.PrivateKey — PKCS #1 v1.5 and
//     PSS signatures, and the raw decryption of the TLS 1.2 RSA key
//     exchange (whose padding check stays in tlsflow, see internal/kex):
//     about 2.5 times faster than crypto/rsa for 2048-bit keys.
//   - ECDSA signatures with an *ecdsa.PrivateKey on P-256 (about 1.4 times
//     faster; on P-384 OpenSSL 3.0 is 3.4 times slower, so it is not routed).
//
// Not routed, because the standard library is as fast or faster here once
// the cgo call is paid: hashes, HMAC, AES-GCM (Go's assembly beats a cgo
// call per record for small records and equals OpenSSL for large ones),
// ECDH (crypto/ecdh's X25519 and P-256 are 3 times faster than
// golang-fips's EVP path; golang-fips v2.0.3 has no X25519 ECDH),
// verification (the key conversion costs more than OpenSSL saves),
// Ed25519, randomness. ChaCha20-Poly1305 is not in golang-fips v2.0.3.
//
// Randomness for the routed operations (PSS salts, ECDSA nonces, RSA
// blinding) is OpenSSL's own DRBG: Config.Rand does not reach them, as it
// does not reach most of crypto/rsa and crypto/ecdsa since Go 1.26 either.
//
// Keys that are not the standard library's types — a crypto.Signer or
// crypto.Decrypter backed by an HSM or a remote service — are used through
// their own Sign and Decrypt, as with the standard library provider.
package openssl
