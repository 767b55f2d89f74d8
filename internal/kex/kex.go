// Package kex implements the key exchanges tlsflow negotiates: ECDHE over
// X25519, P-256, P-384 and P-521 (RFC 8422, RFC 8446 §4.2.8), the hybrid
// groups X25519MLKEM768, SecP256r1MLKEM768 and SecP384r1MLKEM1024
// (draft-ietf-tls-ecdhe-mlkem), and the TLS 1.2 RSA key exchange (RFC 5246
// §7.4.7.1). The groups are one table (groups), which also says which are
// TLS 1.3 only: the hybrids have no TLS 1.2 ServerKeyExchange form.
//
// Both protocol versions reduce ECDHE to the same two roles. The initiator
// sends its public value first and later learns the peer's: the TLS 1.3
// client (key_share in ClientHello) and the TLS 1.2 server (ServerKeyExchange).
// The responder sees the initiator's value and answers in one step: the TLS 1.3
// server (key_share in ServerHello) and the TLS 1.2 client (ClientKeyExchange).
// NewKeyShare is the initiator's side and Respond the responder's.
//
// The ECDH arithmetic is the provider's (provider.Provider.GenerateECDH);
// the ML-KEM halves of the hybrids are crypto/mlkem's whatever the provider,
// which has no ML-KEM primitive.
//
// Randomness: when a non-nil rand is given the standard library provider
// passes it to crypto/ecdh Curve.GenerateKey, but since Go 1.26 that function ignores it
// unless GODEBUG=cryptocustomrand=1 is set (tests wanting determinism should
// use testing/cryptotest.SetGlobalRandom). crypto/mlkem never takes a
// reader: ML-KEM key generation and encapsulation always use the system's
// secure randomness.
package kex

import (
	"crypto/ecdh"
	"crypto/mlkem"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/tlsflow/tlsflow/provider"
)

// NamedGroup values (IANA TLS Supported Groups registry; RFC 8446 §4.2.7,
// draft-ietf-tls-ecdhe-mlkem §5).
const (
	P256               uint16 = 0x0017 // secp256r1
	P384               uint16 = 0x0018 // secp384r1
	P521               uint16 = 0x0019 // secp521r1
	X25519             uint16 = 0x001d
	SecP256r1MLKEM768  uint16 = 0x11eb
	X25519MLKEM768     uint16 = 0x11ec
	SecP384r1MLKEM1024 uint16 = 0x11ed
)

// group is one NamedGroup tlsflow implements: ECDH over curve, combined
// with an ML-KEM for the hybrids.
type group struct {
	curve   ecdh.Curve
	ecdhLen int  // the ECDH key_exchange value: 32 for X25519, an uncompressed point otherwise
	kem     *kem // nil for plain ECDHE
	// kemFirst: the ML-KEM part comes first in the shares and the secret
	// (X25519MLKEM768 only, "for historical reasons", draft §3); the other
	// hybrids put the ECDH part first.
	kemFirst bool
}

// groups is the registry of what this package implements.
var groups = map[uint16]*group{
	X25519:             {curve: ecdh.X25519(), ecdhLen: 32},
	P256:               {curve: ecdh.P256(), ecdhLen: 1 + 2*32},
	P384:               {curve: ecdh.P384(), ecdhLen: 1 + 2*48},
	P521:               {curve: ecdh.P521(), ecdhLen: 1 + 2*66},
	X25519MLKEM768:     {curve: ecdh.X25519(), ecdhLen: 32, kem: &mlkem768, kemFirst: true},
	SecP256r1MLKEM768:  {curve: ecdh.P256(), ecdhLen: 1 + 2*32, kem: &mlkem768},
	SecP384r1MLKEM1024: {curve: ecdh.P384(), ecdhLen: 1 + 2*48, kem: &mlkem1024},
}

// names covers the groups we implement and the ones a peer commonly offers,
// so traces of a ClientHello read well.
var names = map[uint16]string{
	P256:               "secp256r1",
	P384:               "secp384r1",
	P521:               "secp521r1",
	X25519:             "x25519",
	0x001e:             "x448",
	0x0100:             "ffdhe2048",
	0x0101:             "ffdhe3072",
	0x0102:             "ffdhe4096",
	0x0103:             "ffdhe6144",
	0x0104:             "ffdhe8192",
	SecP256r1MLKEM768:  "SecP256r1MLKEM768",
	X25519MLKEM768:     "X25519MLKEM768",
	SecP384r1MLKEM1024: "SecP384r1MLKEM1024",
	0x6399:             "X25519Kyber768Draft00",
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
func Supported(group uint16) bool { return groups[group] != nil }

// TLS13Only reports whether group can only be used in TLS 1.3: the hybrids
// have no TLS 1.2 ServerKeyExchange form.
func TLS13Only(group uint16) bool {
	g := groups[group]
	return g != nil && g.kem != nil
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

// NewKeyShare generates an ephemeral key for group with provider p (nil:
// the standard library). See the package comment for how rand is used.
func NewKeyShare(p provider.Provider, id uint16, rand io.Reader) (KeyShare, error) {
	g := groups[id]
	if g == nil {
		return nil, fmt.Errorf("kex: cannot generate a key share for unsupported group %s", Name(id))
	}
	priv, err := provider.OrStdlib(p).GenerateECDH(g.curve, orDefault(rand))
	if err != nil {
		return nil, fmt.Errorf("kex: %s: generating the ECDH key: %w", Name(id), err)
	}
	share := &keyShare{id: id, g: g, priv: priv}
	if g.kem != nil {
		if share.dk, err = g.kem.generate(); err != nil {
			return nil, fmt.Errorf("kex: %s: generating the %s key: %w", Name(id), g.kem.name, err)
		}
	}
	return share, nil
}

// Respond is the responder's side in one step: given the initiator's public
// value it returns the responder's public value and the shared secret. For
// ECDHE it generates a key and computes the agreement; for a hybrid it also
// encapsulates to the initiator's ML-KEM key. The TLS 1.3 server and the
// TLS 1.2 client use it. p is the provider (nil: the standard library).
func Respond(p provider.Provider, id uint16, peerPublic []byte, rand io.Reader) (public, secret []byte, err error) {
	g := groups[id]
	if g == nil {
		return nil, nil, fmt.Errorf("kex: cannot respond to a key share for unsupported group %s", Name(id))
	}
	ecdhPart, kemPart, err := g.split(id, peerPublic, "client", g.kemKeyLen())
	if err != nil {
		return nil, nil, err
	}
	if err := checkECDHLen(id, g.ecdhLen, ecdhPart, "peer's ECDH share"); err != nil {
		return nil, nil, err
	}
	priv, err := provider.OrStdlib(p).GenerateECDH(g.curve, orDefault(rand))
	if err != nil {
		return nil, nil, fmt.Errorf("kex: %s: generating the ECDH key: %w", Name(id), err)
	}
	ecdhSecret, err := agree(id, g.curve, priv, ecdhPart)
	if err != nil {
		return nil, nil, err
	}
	if g.kem == nil {
		return priv.PublicKey(), ecdhSecret, nil
	}
	// The server checks the encapsulation key (FIPS 203 §7.2) as it parses it.
	kemSecret, ciphertext, err := g.kem.encapsulate(kemPart)
	if err != nil {
		return nil, nil, fmt.Errorf("kex: %s: client's %s encapsulation key is invalid: %w", Name(id), g.kem.name, err)
	}
	return g.join(priv.PublicKey(), ciphertext), g.join(ecdhSecret, kemSecret), nil
}

// kemKeyLen is the length of the initiator's ML-KEM part (0 for ECDHE).
func (g *group) kemKeyLen() int {
	if g.kem == nil {
		return 0
	}
	return g.kem.ekSize
}

// split checks the length of a key_exchange value and returns its ECDH and
// ML-KEM parts, in the order of the group (draft §3.1.1, §3.1.2).
func (g *group) split(id uint16, b []byte, from string, kemLen int) (ecdhPart, kemPart []byte, err error) {
	if want := g.ecdhLen + kemLen; len(b) != want {
		if g.kem == nil {
			return nil, nil, fmt.Errorf("kex: %s: peer's share is %d bytes, want %d", Name(id), len(b), want)
		}
		return nil, nil, fmt.Errorf("kex: %s: %s key_exchange is %d bytes, want %d (%s %d + ECDH %d)",
			Name(id), from, len(b), want, g.kem.name, kemLen, g.ecdhLen)
	}
	if g.kemFirst {
		return b[kemLen:], b[:kemLen], nil
	}
	return b[:g.ecdhLen], b[g.ecdhLen:], nil
}

// join puts an ECDH part and an ML-KEM part together in the group's order.
func (g *group) join(ecdhPart, kemPart []byte) []byte {
	out := make([]byte, 0, len(ecdhPart)+len(kemPart))
	if g.kemFirst {
		return append(append(out, kemPart...), ecdhPart...)
	}
	return append(append(out, ecdhPart...), kemPart...)
}

// keyShare is an initiator's key for any group: the ECDH key, and the
// ML-KEM decapsulation key of a hybrid.
type keyShare struct {
	id   uint16
	g    *group
	priv provider.ECDHKey
	dk   decapsulator
}

func (s *keyShare) Group() uint16 { return s.id }

func (s *keyShare) Public() []byte {
	if s.dk == nil {
		return s.priv.PublicKey()
	}
	return s.g.join(s.priv.PublicKey(), s.dk.encapsulationKey())
}

func (s *keyShare) SharedSecret(peerPublic []byte) ([]byte, error) {
	ctLen := 0
	if s.dk != nil {
		ctLen = s.g.kem.ctSize
	}
	ecdhPart, ciphertext, err := s.g.split(s.id, peerPublic, "server", ctLen)
	if err != nil {
		return nil, err
	}
	if err := checkECDHLen(s.id, s.g.ecdhLen, ecdhPart, "peer's ECDH share"); err != nil {
		return nil, err
	}
	ecdhSecret, err := agree(s.id, s.g.curve, s.priv, ecdhPart)
	if err != nil || s.dk == nil {
		return ecdhSecret, err
	}
	// ML-KEM decapsulation fails only on a wrong-length ciphertext, which
	// split excludes; a tampered ciphertext yields an unrelated secret
	// (implicit rejection, FIPS 203 §6.3) and the handshake then fails at
	// Finished.
	kemSecret, err := s.dk.Decapsulate(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("kex: %s: decapsulating the server's %s ciphertext: %w", Name(s.id), s.g.kem.name, err)
	}
	return s.g.join(ecdhSecret, kemSecret), nil
}

// kem is one ML-KEM parameter set (FIPS 203) as the hybrids use it.
type kem struct {
	name           string
	ekSize, ctSize int
	generate       func() (decapsulator, error)
	encapsulate    func(ek []byte) (secret, ciphertext []byte, err error)
}

// decapsulator is an ML-KEM decapsulation key of either size.
type decapsulator interface {
	encapsulationKey() []byte
	Decapsulate(ciphertext []byte) ([]byte, error)
}

var mlkem768 = kem{
	name: "ML-KEM-768", ekSize: mlkem.EncapsulationKeySize768, ctSize: mlkem.CiphertextSize768,
	generate: func() (decapsulator, error) {
		dk, err := mlkem.GenerateKey768()
		return dk768{dk}, err
	},
	encapsulate: func(b []byte) ([]byte, []byte, error) {
		ek, err := mlkem.NewEncapsulationKey768(b)
		if err != nil {
			return nil, nil, err
		}
		secret, ciphertext := ek.Encapsulate()
		return secret, ciphertext, nil
	},
}

var mlkem1024 = kem{
	name: "ML-KEM-1024", ekSize: mlkem.EncapsulationKeySize1024, ctSize: mlkem.CiphertextSize1024,
	generate: func() (decapsulator, error) {
		dk, err := mlkem.GenerateKey1024()
		return dk1024{dk}, err
	},
	encapsulate: func(b []byte) ([]byte, []byte, error) {
		ek, err := mlkem.NewEncapsulationKey1024(b)
		if err != nil {
			return nil, nil, err
		}
		secret, ciphertext := ek.Encapsulate()
		return secret, ciphertext, nil
	},
}

type dk768 struct{ *mlkem.DecapsulationKey768 }

func (d dk768) encapsulationKey() []byte { return d.EncapsulationKey().Bytes() }

type dk1024 struct{ *mlkem.DecapsulationKey1024 }

func (d dk1024) encapsulationKey() []byte { return d.EncapsulationKey().Bytes() }

// checkECDHLen checks the length of a peer's ECDH public value; the
// provider checks the rest as it agrees. what names the value in errors.
func checkECDHLen(group uint16, wantLen int, b []byte, what string) error {
	if len(b) != wantLen {
		return fmt.Errorf("kex: %s: %s is %d bytes, want %d", Name(group), what, len(b), wantLen)
	}
	return nil
}

// agree runs ECDH with the peer's public value, which must be, for P-256,
// P-384 and P-521, an uncompressed point on the curve (RFC 8446 §4.2.8.2,
// RFC 8422 §5.4.1). The first byte is checked here, whatever the provider:
// a library that also decodes the hybrid form (0x06, 0x07) of the same
// length must not get to accept it. For X25519 the provider refuses a
// low-order peer point, whose all-zero output RFC 8446 §7.4.2 requires us
// to reject.
func agree(group uint16, curve ecdh.Curve, priv provider.ECDHKey, peer []byte) ([]byte, error) {
	if curve != ecdh.X25519() && (len(peer) == 0 || peer[0] != 4) {
		return nil, fmt.Errorf("kex: %s: peer's ECDH share is not a valid uncompressed point on the curve", Name(group))
	}
	secret, err := priv.ECDH(peer)
	if errors.Is(err, provider.ErrInvalidPeerKey) {
		return nil, fmt.Errorf("kex: %s: peer's ECDH share is not a valid uncompressed point on the curve: %w", Name(group), err)
	}
	if err != nil {
		why := ""
		if curve == ecdh.X25519() {
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
