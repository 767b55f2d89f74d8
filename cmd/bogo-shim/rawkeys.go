package main

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/tlsflow/tlsflow"
	"golang.org/x/crypto/cryptobyte"
)

// configureRawKeys maps BoringSSL's raw public key flags (RFC 7250) onto
// the Config: the types accepted from the peer and offered by a client,
// and a VerifyRawPublicKey that accepts any key, as BoringSSL's shim's
// verify callback does, unless -verify-fail (any mode: a raw key is
// always verified) or -expect-peer-rpk-sha256 names another key.
func configureRawKeys(cfg *tlsflow.Config, s *settings, isClient bool, obs *observer) {
	accepted := certificateTypes(s.acceptedPeerCertTypes)
	cfg.ServerCertificateTypes, cfg.ClientCertificateTypes = nil, nil
	cfg.TrustedRawPublicKeys, cfg.VerifyRawPublicKey = nil, nil
	if isClient {
		cfg.ServerCertificateTypes = accepted
		cfg.ClientCertificateTypes = certificateTypes(s.availableClientCertTypes)
	} else {
		cfg.ClientCertificateTypes = accepted
	}
	verifyFail, want := s.verifyFail, s.expectPeerRPKSHA256
	cfg.VerifyRawPublicKey = func(spki []byte, _ crypto.PublicKey) error {
		var err error
		switch sum := sha256.Sum256(spki); {
		case verifyFail:
			err = errors.New("raw public key rejected (-verify-fail)")
		case want != nil && !bytes.Equal(sum[:], want):
			err = fmt.Errorf("raw public key with SHA-256 %x, want %x", sum, want)
		}
		if err != nil {
			obs.mu.Lock()
			obs.verifyRejected = true
			obs.mu.Unlock()
		}
		return err
	}
}

func certificateTypes(list []int) []tlsflow.CertificateType {
	if list == nil {
		return nil
	}
	out := make([]tlsflow.CertificateType, len(list))
	for i, t := range list {
		out[i] = tlsflow.CertificateType(t)
	}
	return out
}

// checkRawKeys checks -expect-peer-certificate-type (the type of the
// peer's certificate: the server's for a client, the client's for a
// server) and -expect-peer-rpk-sha256, after every handshake.
func checkRawKeys(cs tlsflow.ConnectionState, s *settings, isClient bool) error {
	peerType := cs.ClientCertificateType
	if isClient {
		peerType = cs.ServerCertificateType
	}
	if s.expectPeerCertTypeGiven && int(peerType) != s.expectPeerCertType {
		return fmt.Errorf("peer certificate type %s, want %d", peerType, s.expectPeerCertType)
	}
	if s.expectPeerRPKSHA256 != nil {
		if cs.PeerRawPublicKey == nil {
			return errors.New("no peer raw public key, want one (-expect-peer-rpk-sha256)")
		}
		if sum := sha256.Sum256(cs.PeerRawPublicKey); !bytes.Equal(sum[:], s.expectPeerRPKSHA256) {
			return fmt.Errorf("peer raw public key with SHA-256 %x, want %x", sum, s.expectPeerRPKSHA256)
		}
	}
	return nil
}

// sentRawKey reads the raw public key of a Certificate message we sent:
// the first entry of a TLS 1.3 one, or the whole of RFC 7250's TLS 1.2
// form (one SubjectPublicKeyInfo, no list); nil if none.
func sentRawKey(raw []byte, tls13 bool) []byte {
	if len(raw) < 4 {
		return nil
	}
	s := cryptobyte.String(raw[4:])
	var ctx, list, key cryptobyte.String
	if tls13 {
		if !s.ReadUint8LengthPrefixed(&ctx) || !s.ReadUint24LengthPrefixed(&list) || !list.ReadUint24LengthPrefixed(&key) {
			return nil
		}
		return key
	}
	if !s.ReadUint24LengthPrefixed(&key) {
		return nil
	}
	return key
}
