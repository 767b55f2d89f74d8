// Package kex implements the key exchanges tlsflow negotiates: ECDHE over
// X25519, P-256 and P-384 (RFC 8422, RFC 8446 §4.2.8), the hybrid
// X25519MLKEM768 group (draft-ietf-tls-ecdhe-mlkem), and the TLS 1.2 RSA
// key exchange (RFC 5246 §7.4.7.1).
//
// Both protocol versions reduce ECDHE to the same two roles. The initiator
// sends its public value first and later learns the peer's: the TLS 1.3
// client (key_share in ClientHello) and the TLS 1.2 server (ServerKeyExchange).
// The responder sees the initiator's value and answers in one step: the TLS 1.3
// server (key_share in ServerHello) and the TLS 1.2 client (ClientKeyExchange).
// NewKeyShare is the initiator's side and Respond the responder's.
//
// Randomness: when a non-nil rand is given it is passed to
// crypto/ecdh Curve.GenerateKey, but since Go 1.26 that function ignores it
// unless GODEBUG=cryptocustomrand=1 is set (tests wanting determinism should
// use testing/cryptotest.SetGlobalRandom). crypto/mlkem never takes a
// reader: ML-KEM key generation and encapsulation always use the system's
// secure randomness.
package kex

import (
	"crypto/ecdh"
	"crypto/mlkem"
	cryptorand "crypto/rand"
	"fmt"
	"io"
)

// NamedGroup values (IANA TLS Supported Groups registry; RFC 8446 §4.2.7,
// draft-ietf-tls-ecdhe-mlkem §5.2).
const (
	X25519         uint16 = 0x001d
	P256           uint16 = 0x0017 // secp256r1
	P384           uint16 = 0x0018 // secp384r1
	X25519MLKEM768 uint16 = 0x11ec
)

// Sizes of key_exchange values, RFC 8446 §4.2.8.2 and
// draft-ietf-tls-ecdhe-mlkem §3.1.
const (
	x25519Len = 32
	p256Len   = 1 + 2*32 // uncompressed point: 0x04 || X || Y
	p384Len   = 1 + 2*48

	// X25519MLKEM768 puts the ML-KEM part FIRST, then X25519 (§3.1.1, §3.1.2),
	// unlike the other hybrid groups, for historical reasons (§3).
	hybridClientLen = mlkem.EncapsulationKeySize768 + x25519Len // 1184 + 32 = 1216
	hybridServerLen = mlkem.CiphertextSize768 + x25519Len       // 1088 + 32 = 1120
)

// names covers the groups we implement and the ones a peer commonly offers,
// so traces of a ClientHello read well.
var names = map[uint16]string{
	P256:           "secp256r1",
	P384:           "secp384r1",
	0x0019:         "secp521r1",
	X25519:         "x25519",
	0x001e:         "x448",
	0x0100:         "ffdhe2048",
	0x0101:         "ffdhe3072",
	0x0102:         "ffdhe4096",
	0x0103:         "ffdhe6144",
	0x0104:         "ffdhe8192",
	0x11eb:         "SecP256r1MLKEM768",
	X25519MLKEM768: "X25519MLKEM768",
	0x11ed:         "SecP384r1MLKEM1024",
	0x6399:         "X25519Kyber768Draft00",
}

// Name returns the IANA name of a NamedGroup, e.g. "x25519", or
// "named_group(0x....)" for one it does not know.
func Name(group uint16) string {
	if n, ok := names[group]; ok {
		return n
	}
	return fmt.Sprintf("named_group(0x%04x)", group)
}

// Supported reports whether group is one this package implements.
func Supported(group uint16) bool {
	switch group {
	case X25519, P256, P384, X25519MLKEM768:
		return true
	}
	return false
}

// KeyShare is the initiator's ephemeral key: the TLS 1.3 client's key_share,
// or the TLS 1.2 server's ECDHE key in ServerKeyExchange.
type KeyShare interface {
	// Group is the NamedGroup of this key.
	Group() uint16
	// Public returns the key_exchange bytes to send (a fresh copy).
	Public() []byte
	// SharedSecret checks the peer's key_exchange bytes and returns the
	// shared secret.
	SharedSecret(peerPublic []byte) ([]byte, error)
}

// NewKeyShare generates an ephemeral key for group. See the package comment
// for how rand is used.
func NewKeyShare(group uint16, rand io.Reader) (KeyShare, error) {
	rand = orDefault(rand)
	switch group {
	case X25519, P256, P384:
		curve, _ := ecdhCurve(group)
		priv, err := curve.GenerateKey(rand)
		if err != nil {
			return nil, fmt.Errorf("kex: %s: generating key: %w", Name(group), err)
		}
		return &ecdhShare{group: group, priv: priv}, nil
	case X25519MLKEM768:
		dk, err := mlkem.GenerateKey768()
		if err != nil {
			return nil, fmt.Errorf("kex: %s: generating ML-KEM-768 key: %w", Name(group), err)
		}
		priv, err := ecdh.X25519().GenerateKey(rand)
		if err != nil {
			return nil, fmt.Errorf("kex: %s: generating X25519 key: %w", Name(group), err)
		}
		return &hybridShare{dk: dk, priv: priv}, nil
	}
	return nil, fmt.Errorf("kex: cannot generate a key share for unsupported group %s", Name(group))
}

// Respond is the responder's side in one step: given the initiator's public
// value it returns the responder's public value and the shared secret. For
// ECDHE it generates a key and computes the agreement; for X25519MLKEM768 it
// encapsulates to the initiator's ML-KEM-768 key and does X25519. The TLS 1.3
// server and the TLS 1.2 client use it.
func Respond(group uint16, peerPublic []byte, rand io.Reader) (public, secret []byte, err error) {
	rand = orDefault(rand)
	switch group {
	case X25519, P256, P384:
		curve, wantLen := ecdhCurve(group)
		peer, err := parseECDHPublic(group, curve, wantLen, peerPublic, "peer key_exchange")
		if err != nil {
			return nil, nil, err
		}
		priv, err := curve.GenerateKey(rand)
		if err != nil {
			return nil, nil, fmt.Errorf("kex: %s: generating key: %w", Name(group), err)
		}
		secret, err := agree(group, priv, peer)
		if err != nil {
			return nil, nil, err
		}
		return priv.PublicKey().Bytes(), secret, nil

	case X25519MLKEM768:
		// Client share: ML-KEM-768 encapsulation key || X25519 share (§3.1.1).
		if len(peerPublic) != hybridClientLen {
			return nil, nil, fmt.Errorf("kex: %s: client key_exchange is %d bytes, want %d (ML-KEM-768 encapsulation key %d + X25519 %d)",
				Name(group), len(peerPublic), hybridClientLen, mlkem.EncapsulationKeySize768, x25519Len)
		}
		ek, err := mlkem.NewEncapsulationKey768(peerPublic[:mlkem.EncapsulationKeySize768])
		if err != nil {
			return nil, nil, fmt.Errorf("kex: %s: client's ML-KEM-768 encapsulation key is invalid: %w", Name(group), err)
		}
		peer, err := parseECDHPublic(group, ecdh.X25519(), x25519Len,
			peerPublic[mlkem.EncapsulationKeySize768:], "client's X25519 share")
		if err != nil {
			return nil, nil, err
		}
		priv, err := ecdh.X25519().GenerateKey(rand)
		if err != nil {
			return nil, nil, fmt.Errorf("kex: %s: generating X25519 key: %w", Name(group), err)
		}
		x25519Secret, err := agree(group, priv, peer)
		if err != nil {
			return nil, nil, err
		}
		mlkemSecret, ciphertext := ek.Encapsulate()

		// Server share: ciphertext || X25519 share (§3.1.2);
		// shared secret: ML-KEM secret || X25519 secret (§3.1.3).
		public = make([]byte, 0, hybridServerLen)
		public = append(public, ciphertext...)
		public = append(public, priv.PublicKey().Bytes()...)
		secret = make([]byte, 0, len(mlkemSecret)+len(x25519Secret))
		secret = append(secret, mlkemSecret...)
		secret = append(secret, x25519Secret...)
		return public, secret, nil
	}
	return nil, nil, fmt.Errorf("kex: cannot respond to a key share for unsupported group %s", Name(group))
}

// ecdhShare is an initiator's X25519, P-256 or P-384 key.
type ecdhShare struct {
	group uint16
	priv  *ecdh.PrivateKey
}

func (s *ecdhShare) Group() uint16  { return s.group }
func (s *ecdhShare) Public() []byte { return s.priv.PublicKey().Bytes() }

func (s *ecdhShare) SharedSecret(peerPublic []byte) ([]byte, error) {
	curve, wantLen := ecdhCurve(s.group)
	peer, err := parseECDHPublic(s.group, curve, wantLen, peerPublic, "peer key_exchange")
	if err != nil {
		return nil, err
	}
	return agree(s.group, s.priv, peer)
}

// hybridShare is a TLS 1.3 client's X25519MLKEM768 key.
type hybridShare struct {
	dk   *mlkem.DecapsulationKey768
	priv *ecdh.PrivateKey // X25519
}

func (s *hybridShare) Group() uint16 { return X25519MLKEM768 }

func (s *hybridShare) Public() []byte {
	public := make([]byte, 0, hybridClientLen)
	public = append(public, s.dk.EncapsulationKey().Bytes()...)
	return append(public, s.priv.PublicKey().Bytes()...)
}

func (s *hybridShare) SharedSecret(peerPublic []byte) ([]byte, error) {
	if len(peerPublic) != hybridServerLen {
		return nil, fmt.Errorf("kex: %s: server key_exchange is %d bytes, want %d (ML-KEM-768 ciphertext %d + X25519 %d)",
			Name(X25519MLKEM768), len(peerPublic), hybridServerLen, mlkem.CiphertextSize768, x25519Len)
	}
	peer, err := parseECDHPublic(X25519MLKEM768, ecdh.X25519(), x25519Len,
		peerPublic[mlkem.CiphertextSize768:], "server's X25519 share")
	if err != nil {
		return nil, err
	}
	x25519Secret, err := agree(X25519MLKEM768, s.priv, peer)
	if err != nil {
		return nil, err
	}
	// ML-KEM decapsulation fails only on a wrong-length ciphertext, which
	// the length check above excludes; a tampered ciphertext yields an
	// unrelated secret (implicit rejection, FIPS 203 §6.3) and the
	// handshake then fails at Finished.
	mlkemSecret, err := s.dk.Decapsulate(peerPublic[:mlkem.CiphertextSize768])
	if err != nil {
		return nil, fmt.Errorf("kex: %s: decapsulating the server's ML-KEM-768 ciphertext: %w", Name(X25519MLKEM768), err)
	}
	secret := make([]byte, 0, len(mlkemSecret)+len(x25519Secret))
	secret = append(secret, mlkemSecret...)
	return append(secret, x25519Secret...), nil
}

// ecdhCurve returns the crypto/ecdh curve of an ECDHE group and the length
// of its key_exchange value. It is called only with X25519, P256 or P384.
func ecdhCurve(group uint16) (ecdh.Curve, int) {
	switch group {
	case P256:
		return ecdh.P256(), p256Len
	case P384:
		return ecdh.P384(), p384Len
	default:
		return ecdh.X25519(), x25519Len
	}
}

// parseECDHPublic checks a peer's ECDH public value: its length, and for
// P-256/P-384 that it is an uncompressed point on the curve (RFC 8446
// §4.2.8.2, RFC 8422 §5.4.1). what names the value in errors.
func parseECDHPublic(group uint16, curve ecdh.Curve, wantLen int, b []byte, what string) (*ecdh.PublicKey, error) {
	if len(b) != wantLen {
		return nil, fmt.Errorf("kex: %s: %s is %d bytes, want %d", Name(group), what, len(b), wantLen)
	}
	pub, err := curve.NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("kex: %s: %s is not a valid uncompressed point on the curve: %w", Name(group), what, err)
	}
	return pub, nil
}

// agree runs ECDH. For X25519 crypto/ecdh refuses a low-order peer point,
// whose all-zero output RFC 8446 §7.4.2 requires us to reject.
func agree(group uint16, priv *ecdh.PrivateKey, peer *ecdh.PublicKey) ([]byte, error) {
	secret, err := priv.ECDH(peer)
	if err != nil {
		why := ""
		if priv.Curve() == ecdh.X25519() {
			why = " (a low-order X25519 point gives an all-zero secret)"
		}
		return nil, fmt.Errorf("kex: %s: key agreement with the peer's share failed%s: %w", Name(group), why, err)
	}
	return secret, nil
}

func orDefault(rand io.Reader) io.Reader {
	if rand == nil {
		return cryptorand.Reader
	}
	return rand
}
