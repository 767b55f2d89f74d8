// Package suites is the registry of the cipher suites tlsflow implements, with
// their parameters and the ranking the server uses to pick "the strongest
// suite both support".
//
// Ranking (strongest first), the same for every server unless Config.CipherSuites
// says otherwise:
//  1. forward secrecy: ECDHE suites (and every TLS 1.3 suite) before the RSA
//     key exchange, which lets a later theft of the server key decrypt
//     recorded sessions;
//  2. authentication: ECDSA before RSA (for a server holding both certificates);
//  3. AEAD key strength: 256-bit keys before 128-bit keys;
//  4. on equal key strength, AES-GCM before ChaCha20-Poly1305 (both are sound;
//     AES-GCM is the FIPS-approved choice and fast with AES instructions).
//
// The ranking does not depend on the machine, so the choice is predictable
// and can be tested.
package suites

import (
	"crypto"
	"crypto/cipher"
	"fmt"

	"github.com/tlsflow/tlsflow/provider"
)

// Protocol versions.
const (
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// KeyExchange is how a TLS 1.2 suite agrees on the pre-master secret and
// authenticates the server. TLS 1.3 suites leave both to extensions.
type KeyExchange int

const (
	KeyExchangeRSA        KeyExchange = iota + 1 // RFC 5246 §7.4.7.1: pre-master secret encrypted to the server's RSA key
	KeyExchangeECDHERSA                          // RFC 8422: ephemeral ECDH, signed with an RSA key
	KeyExchangeECDHEECDSA                        // RFC 8422: ephemeral ECDH, signed with an ECDSA or Ed25519 key
	KeyExchangeTLS13                             // RFC 8446: key_share / pre_shared_key, any signature
)

func (k KeyExchange) String() string {
	switch k {
	case KeyExchangeRSA:
		return "RSA"
	case KeyExchangeECDHERSA:
		return "ECDHE_RSA"
	case KeyExchangeECDHEECDSA:
		return "ECDHE_ECDSA"
	case KeyExchangeTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("KeyExchange(%d)", int(k))
}

// ForwardSecret reports whether a stolen server key cannot decrypt recorded sessions.
func (k KeyExchange) ForwardSecret() bool { return k != KeyExchangeRSA }

// Cipher suite IDs (IANA TLS Cipher Suites registry).
const (
	TLS_RSA_WITH_AES_128_GCM_SHA256               uint16 = 0x009c
	TLS_RSA_WITH_AES_256_GCM_SHA384               uint16 = 0x009d
	TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256       uint16 = 0xc02b
	TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384       uint16 = 0xc02c
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256         uint16 = 0xc02f
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384         uint16 = 0xc030
	TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256   uint16 = 0xcca8
	TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 uint16 = 0xcca9
	TLS_AES_128_GCM_SHA256                        uint16 = 0x1301
	TLS_AES_256_GCM_SHA384                        uint16 = 0x1302
	TLS_CHACHA20_POLY1305_SHA256                  uint16 = 0x1303

	// TLS_EMPTY_RENEGOTIATION_INFO_SCSV is RFC 5746 §3.3's signalling value.
	TLS_EMPTY_RENEGOTIATION_INFO_SCSV uint16 = 0x00ff
	// TLS_FALLBACK_SCSV is RFC 7507's signalling value.
	TLS_FALLBACK_SCSV uint16 = 0x5600
)

// AEAD names the record protection algorithm of a suite.
type AEAD int

const (
	AES128GCM AEAD = iota + 1
	AES256GCM
	ChaCha20Poly1305
)

func (a AEAD) keyLen() int {
	if a == AES128GCM {
		return 16
	}
	return 32
}

// Suite describes one cipher suite.
type Suite struct {
	ID          uint16
	Name        string
	Version     uint16 // VersionTLS12 or VersionTLS13: the only version it is used with
	KeyExchange KeyExchange
	AEAD        AEAD
	Hash        crypto.Hash // PRF hash (1.2) or HKDF hash (1.3)
}

// KeyLen is the AEAD key length in bytes.
func (s *Suite) KeyLen() int { return s.AEAD.keyLen() }

// IVLen is the implicit IV length: TLS 1.2 GCM uses a 4-byte salt and an
// explicit 8-byte nonce per record (RFC 5288 §3); ChaCha20-Poly1305 and every
// TLS 1.3 suite use a 12-byte IV XORed with the sequence number (RFC 7905 §2,
// RFC 8446 §5.3).
func (s *Suite) IVLen() int {
	if s.Version == VersionTLS12 && s.AEAD != ChaCha20Poly1305 {
		return 4
	}
	return 12
}

// ExplicitNonce reports whether records carry an explicit nonce (TLS 1.2 GCM).
func (s *Suite) ExplicitNonce() bool { return s.IVLen() == 4 }

// NewAEAD makes the AEAD for a key of KeyLen bytes with provider p (nil:
// the standard library).
func (s *Suite) NewAEAD(p provider.Provider, key []byte) (cipher.AEAD, error) {
	if len(key) != s.KeyLen() {
		return nil, fmt.Errorf("suites: %s needs a %d-byte key, got %d", s.Name, s.KeyLen(), len(key))
	}
	alg := provider.AESGCM
	if s.AEAD == ChaCha20Poly1305 {
		alg = provider.ChaCha20Poly1305
	}
	return provider.OrStdlib(p).NewAEAD(alg, key)
}

// all lists every suite in ranking order, strongest first (see the package doc).
var all = []*Suite{
	{TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", VersionTLS13, KeyExchangeTLS13, AES256GCM, crypto.SHA384},
	{TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", VersionTLS13, KeyExchangeTLS13, ChaCha20Poly1305, crypto.SHA256},
	{TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", VersionTLS13, KeyExchangeTLS13, AES128GCM, crypto.SHA256},

	{TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", VersionTLS12, KeyExchangeECDHEECDSA, AES256GCM, crypto.SHA384},
	{TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", VersionTLS12, KeyExchangeECDHEECDSA, ChaCha20Poly1305, crypto.SHA256},
	{TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", VersionTLS12, KeyExchangeECDHEECDSA, AES128GCM, crypto.SHA256},
	{TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", VersionTLS12, KeyExchangeECDHERSA, AES256GCM, crypto.SHA384},
	{TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", VersionTLS12, KeyExchangeECDHERSA, ChaCha20Poly1305, crypto.SHA256},
	{TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", VersionTLS12, KeyExchangeECDHERSA, AES128GCM, crypto.SHA256},
	{TLS_RSA_WITH_AES_256_GCM_SHA384, "TLS_RSA_WITH_AES_256_GCM_SHA384", VersionTLS12, KeyExchangeRSA, AES256GCM, crypto.SHA384},
	{TLS_RSA_WITH_AES_128_GCM_SHA256, "TLS_RSA_WITH_AES_128_GCM_SHA256", VersionTLS12, KeyExchangeRSA, AES128GCM, crypto.SHA256},
}

var byID = func() map[uint16]*Suite {
	m := make(map[uint16]*Suite, len(all))
	for _, s := range all {
		m[s.ID] = s
	}
	return m
}()

// Lookup returns the suite with the given ID, or nil if tlsflow does not implement it.
func Lookup(id uint16) *Suite { return byID[id] }

// All returns every implemented suite in ranking order. The slice is shared: do not modify it.
func All() []*Suite { return all }

// Name returns the IANA name of a suite, or a hex form for unknown IDs.
func Name(id uint16) string {
	if s := byID[id]; s != nil {
		return s.Name
	}
	switch id {
	case TLS_EMPTY_RENEGOTIATION_INFO_SCSV:
		return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
	case TLS_FALLBACK_SCSV:
		return "TLS_FALLBACK_SCSV"
	}
	if id&0x0f0f == 0x0a0a && id>>8 == id&0xff {
		return fmt.Sprintf("GREASE(0x%04x)", id)
	}
	return fmt.Sprintf("0x%04x", id)
}

// Default returns the suites enabled when Config.CipherSuites is nil: every
// forward-secret suite, in ranking order. The RSA key exchange must be asked
// for by name.
func Default() []uint16 {
	var ids []uint16
	for _, s := range all {
		if s.KeyExchange.ForwardSecret() {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// Ranked returns the implemented suites among ids, in ranking order; IDs
// tlsflow does not implement are dropped.
func Ranked(ids []uint16) []uint16 {
	var out []uint16
	for _, s := range all {
		for _, id := range ids {
			if id == s.ID {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// Choose returns the first suite in ours (the server's preference order) that
// the client offered and accept allows, or nil.
func Choose(ours, offered []uint16, accept func(*Suite) bool) *Suite {
	for _, id := range ours {
		s := byID[id]
		if s == nil {
			continue
		}
		for _, o := range offered {
			if o == id && accept(s) {
				return s
			}
		}
	}
	return nil
}

// VersionName returns "TLS 1.2" style names.
func VersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	if v&0x0f0f == 0x0a0a && v>>8 == v&0xff {
		return fmt.Sprintf("GREASE(0x%04x)", v)
	}
	return fmt.Sprintf("0x%04x", v)
}
