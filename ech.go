package tlsflow

import (
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Encrypted Client Hello (draft-ietf-tls-esni-25), in crypto/tls's terms:
// the configuration and key types, the rejection error, and their
// translation for the engines (internal/handshake/echclient.go,
// echserver.go).

// EncryptedClientHelloKey is a server's ECH key for one ECHConfig.
type EncryptedClientHelloKey struct {
	// Config is the serialized ECHConfig (§4) clients hold, byte for byte.
	Config []byte
	// PrivateKey is the HPKE private key for Config's KEM, serialized as
	// RFC 9180's SerializePrivateKey.
	PrivateKey []byte
	// SendAsRetry lists Config in the retry configurations sent to a
	// client whose ECH offer no key opened.
	SendAsRetry bool
}

// ECHRejectionError is the error of a client handshake that offered ECH
// and that the server completed with the outer ClientHello. The server
// proved it holds the public name's certificate; RetryConfigList is the
// ECHConfigList it sent for a new connection (empty: it did not send one,
// which means it has ECH disabled).
type ECHRejectionError struct {
	RetryConfigList []byte
}

func (e *ECHRejectionError) Error() string {
	return "tlsflow: the server rejected Encrypted Client Hello"
}

// echClientConfig fills in the client's ECH settings.
func (c *Conn) echClientConfig(hc *handshake.Config) error {
	cfg := c.config
	hc.ECHGrease = cfg.EncryptedClientHelloGREASE && hc.MaxVersion >= VersionTLS13
	if cfg.EncryptedClientHelloConfigList == nil {
		return nil
	}
	if hc.MaxVersion < VersionTLS13 {
		return errors.New("EncryptedClientHelloConfigList needs TLS 1.3")
	}
	hc.ECHConfigList = cfg.EncryptedClientHelloConfigList
	hc.ECHRejectionVerify = c.verifyPublicName
	hc.ECHRejected = func(retry []byte) error { return &ECHRejectionError{RetryConfigList: retry} }
	return nil
}

// verifyPublicName checks the certificate of a server that rejected ECH:
// valid for the configuration's public name (draft-ietf-tls-esni-25
// §6.1.7), or as EncryptedClientHelloRejectionVerify says.
func (c *Conn) verifyPublicName(certs []*x509.Certificate, publicName string) (*handshake.PeerCertificates, error) {
	peer := &handshake.PeerCertificates{Certificates: certs}
	if verify := c.config.EncryptedClientHelloRejectionVerify; verify != nil {
		if err := verify(ConnectionState{Version: VersionTLS13, ServerName: publicName, PeerCertificates: certs}); err != nil {
			return nil, err
		}
		return peer, nil
	}
	opts := x509.VerifyOptions{
		Roots:       c.config.RootCAs,
		CurrentTime: c.config.now(),
		DNSName:     publicName,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	chains, err := verifyChain(certs, opts)
	if err != nil {
		return nil, &CertificateVerificationError{UnverifiedCertificates: certs, Err: explainHostname(err)}
	}
	peer.VerifiedChains = chains
	return peer, nil
}

// echServerConfig gives the engine the server's ECH keys, parsed when it
// asks (once per ClientHello that offers ECH).
func (c *Conn) echServerConfig(hc *handshake.Config) error {
	cfg := c.config
	if cfg.EncryptedClientHelloKeys == nil && cfg.GetEncryptedClientHelloKeys == nil {
		return nil
	}
	if cfg.MinVersion > VersionTLS13 || hc.MaxVersion < VersionTLS13 {
		return errors.New("EncryptedClientHelloKeys need TLS 1.3")
	}
	if cfg.GetEncryptedClientHelloKeys == nil {
		keys, err := parseECHKeys(cfg.EncryptedClientHelloKeys)
		if err != nil {
			return err
		}
		hc.ECHKeys = func(*handshake.ClientHelloInfo) ([]handshake.ECHKey, error) { return keys, nil }
		return nil
	}
	get := cfg.GetEncryptedClientHelloKeys
	hc.ECHKeys = func(info *handshake.ClientHelloInfo) ([]handshake.ECHKey, error) {
		keys, err := get(c.helloInfo(info))
		if err != nil {
			return nil, err
		}
		return parseECHKeys(keys)
	}
	return nil
}

// parseECHKeys checks each key: one ECHConfig of version 0xfe0d, a KEM
// HPKE implements, and a private key for it.
func parseECHKeys(keys []EncryptedClientHelloKey) ([]handshake.ECHKey, error) {
	out := make([]handshake.ECHKey, 0, len(keys))
	for i, k := range keys {
		config, err := wire.ParseECHConfig(k.Config)
		if err != nil {
			return nil, fmt.Errorf("EncryptedClientHelloKeys[%d].Config: %w", i, err)
		}
		if config.Version != wire.ECHVersion {
			return nil, fmt.Errorf("EncryptedClientHelloKeys[%d].Config: version %#04x, tlsflow implements %#04x", i, config.Version, wire.ECHVersion)
		}
		kem, err := hpke.NewKEM(config.KEM)
		if err != nil {
			return nil, fmt.Errorf("EncryptedClientHelloKeys[%d].Config: %w", i, err)
		}
		priv, err := kem.NewPrivateKey(k.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("EncryptedClientHelloKeys[%d].PrivateKey: %w", i, err)
		}
		if string(priv.PublicKey().Bytes()) != string(config.PublicKey) {
			return nil, fmt.Errorf("EncryptedClientHelloKeys[%d]: the private key is not the config's public key", i)
		}
		out = append(out, handshake.ECHKey{Config: config, PrivateKey: priv, SendAsRetry: k.SendAsRetry})
	}
	return out, nil
}

// NewECHConfig makes an ECH configuration and its key for a server: an
// X25519 HPKE key with HKDF-SHA256 and AES-128-GCM or ChaCha20-Poly1305,
// config_id id, and publicName, the name the outer ClientHello shows, for
// which the server needs a certificate. The result goes into
// EncryptedClientHelloKeys; MarshalECHConfigList of the configs into a
// client's EncryptedClientHelloConfigList (or a DNS HTTPS record).
func NewECHConfig(id uint8, publicName string) (EncryptedClientHelloKey, error) {
	kem := hpke.DHKEM(ecdh.X25519())
	priv, err := kem.GenerateKey()
	if err != nil {
		return EncryptedClientHelloKey{}, err
	}
	if publicName == "" || len(publicName) > 255 || strings.ContainsAny(publicName, " /:") {
		return EncryptedClientHelloKey{}, fmt.Errorf("tlsflow: %q is not a host name", publicName)
	}
	config := wire.ECHConfig{ConfigID: id, KEM: kem.ID(), PublicKey: priv.PublicKey().Bytes(),
		CipherSuites: []wire.HPKESymmetricCipherSuite{{KDF: 1, AEAD: 1}, {KDF: 1, AEAD: 3}},
		PublicName:   []byte(publicName)}
	raw, err := config.Marshal()
	if err != nil {
		return EncryptedClientHelloKey{}, err
	}
	sk, err := priv.Bytes()
	if err != nil {
		return EncryptedClientHelloKey{}, err
	}
	return EncryptedClientHelloKey{Config: raw, PrivateKey: sk, SendAsRetry: true}, nil
}

// MarshalECHConfigList serializes ECHConfigs (each an
// EncryptedClientHelloKey.Config) as the ECHConfigList a client takes.
func MarshalECHConfigList(configs ...[]byte) ([]byte, error) {
	return wire.MarshalECHConfigList(configs...)
}
