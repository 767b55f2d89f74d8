package handshake

import (
	"crypto/hpke"
	"fmt"

	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// What both sides of Encrypted Client Hello share (draft-ietf-tls-esni-25):
// the HPKE suite of a configuration, the info string that binds the
// configuration, and the acceptance confirmations (§7.2, §7.2.1).

// ECHKey is a server's decryption key for one ECHConfig.
type ECHKey struct {
	Config      wire.ECHConfig // parsed; Config.Raw is what clients hold byte for byte
	PrivateKey  hpke.PrivateKey
	SendAsRetry bool // listed in retry_configs when ECH is rejected
}

// ECHRejection is why a client's ECH offer ended the handshake: the server
// used the outer ClientHello. RetryConfigs is the server's ECHConfigList
// for a new connection (nil when it sent none), verified to come from the
// public name's certificate.
type ECHRejection struct {
	RetryConfigs []byte
}

func (e *ECHRejection) Error() string {
	if len(e.RetryConfigs) == 0 {
		return "the server rejected Encrypted Client Hello and sent no retry configurations"
	}
	return "the server rejected Encrypted Client Hello; retry with the configurations it sent"
}

// echAEADOverhead is the tag of every AEAD HPKE has for ECH (AES-128-GCM,
// AES-256-GCM, ChaCha20-Poly1305).
const echAEADOverhead = 16

// hpkeSuite resolves an ECHConfig's KEM and one of its symmetric suites.
func hpkeSuite(kemID uint16, cs wire.HPKESymmetricCipherSuite) (hpke.KEM, hpke.KDF, hpke.AEAD, error) {
	kem, err := hpke.NewKEM(kemID)
	if err != nil {
		return nil, nil, nil, err
	}
	kdf, err := hpke.NewKDF(cs.KDF)
	if err != nil {
		return nil, nil, nil, err
	}
	aead, err := hpke.NewAEAD(cs.AEAD)
	if err != nil {
		return nil, nil, nil, err
	}
	if aead.ID() == 0xffff { // export-only: it cannot seal a ClientHello
		return nil, nil, nil, fmt.Errorf("HPKE AEAD %#04x cannot encrypt", cs.AEAD)
	}
	return kem, kdf, aead, nil
}

// echInfo is the HPKE info of §6.1: "tls ech" || 0x00 || ECHConfig.
func echInfo(config []byte) []byte {
	info := append([]byte("tls ech"), 0)
	return append(info, config...)
}

// echConfirmation is §7.2's accept_confirmation (label "ech accept
// confirmation") or §7.2.1's hrr_accept_confirmation (label "hrr ech
// accept confirmation"): eight bytes only the holder of the inner
// ClientHello's random can compute over transcriptHash.
func echConfirmation(h keys.Hash, innerRandom []byte, label string, transcriptHash []byte) []byte {
	prk := keys.Extract(h, innerRandom, nil)
	return keys.ExpandLabel(h, prk, label, transcriptHash, 8)
}

const (
	echAcceptLabel    = "ech accept confirmation"
	echHRRAcceptLabel = "hrr ech accept confirmation"
)

// echZeroConfirmation returns a copy of a ServerHello with the last eight
// bytes of its random zeroed, as the confirmation is computed over it (§7.2).
func echZeroConfirmation(sh *wire.ServerHello) ([]byte, error) {
	c := *sh
	clear(c.Random[24:])
	return c.Marshal()
}

// echZeroHRRConfirmation returns a copy of a HelloRetryRequest whose
// encrypted_client_hello holds eight zeros (§7.2.1).
func echZeroHRRConfirmation(hrr *wire.ServerHello) ([]byte, error) {
	c := *hrr
	c.Extensions = append(wire.Extensions(nil), hrr.Extensions...)
	c.Extensions = replaceExtension(c.Extensions, wire.ExtEncryptedClientHello, wire.ECHHelloRetryRequest{})
	return c.Marshal()
}

// echCompressible are the extensions a client sends identically in both
// ClientHellos, so the inner one names them in ech_outer_extensions
// instead of repeating them (§5.1). Nothing here tells the client-facing
// server more than the outer hello must anyway.
var echCompressible = map[wire.ExtensionType]bool{
	wire.ExtSupportedGroups:         true,
	wire.ExtSignatureAlgorithms:     true,
	wire.ExtStatusRequest:           true,
	wire.ExtSCT:                     true,
	wire.ExtRecordSizeLimit:         true,
	wire.ExtSupportedVersions:       true,
	wire.ExtSignatureAlgorithmsCert: true,
	wire.ExtKeyShare:                true,
	wire.ExtPSKKeyExchangeModes:     true,
	wire.ExtCompressCertificate:     true,
	wire.ExtPostHandshakeAuth:       true,
}
