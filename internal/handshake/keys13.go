package handshake

import (
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
)

// secrets13 are the TLS 1.3 traffic secrets of one connection (RFC 8446 §7.1).
type secrets13 struct {
	suite                            *suites.Suite
	schedule                         *keys.Schedule13
	clientHandshake, serverHandshake []byte
	// The finished_key of each side's Finished (RFC 8446 §4.4.4), derived
	// with the handshake traffic keys from the same secret.
	clientFinishedKey, serverFinishedKey []byte
	clientApp, serverApp                 []byte
	exporter, resumption                 []byte
}

// appCiphers are the record protections for application data, one per direction.
type appCiphers struct{ client, server record.Cipher }

// trafficCipher makes the record protection for one traffic secret
// (RFC 8446 §7.3).
func (b *base) trafficCipher(s *suites.Suite, secret []byte) (record.Cipher, error) {
	key, iv := keys.TrafficKey(b.hash(s.Hash), secret, s.KeyLen())
	aead, err := s.NewAEAD(b.cfg.Provider, key)
	if err != nil {
		return nil, err
	}
	return record.NewAEAD13(aead, iv, 0), nil
}

// handshakeSecrets13 derives the handshake traffic secrets from the
// transcript through ServerHello, and logs them; shared, the (EC)DHE
// secret, is erased.
func (b *base) handshakeSecrets13(k *secrets13, shared []byte) (client, server record.Cipher, err error) {
	k.schedule.AdvanceToHandshake(shared)
	clear(shared) // the (EC)DHE secret lives on in the handshake secret only (RFC 8446 §7.1)
	th := b.transcript.SumTemp()
	k.clientHandshake = k.schedule.ClientHandshakeTrafficSecret(th)
	k.serverHandshake = k.schedule.ServerHandshakeTrafficSecret(th)
	b.logSecret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 5, k.clientHandshake)
	b.logSecret("SERVER_HANDSHAKE_TRAFFIC_SECRET", 5, k.serverHandshake)
	if client, k.clientFinishedKey, err = b.handshakeCipher(k.suite, k.clientHandshake); err != nil {
		return nil, nil, err
	}
	server, k.serverFinishedKey, err = b.handshakeCipher(k.suite, k.serverHandshake)
	return client, server, err
}

// handshakeCipher is trafficCipher for a handshake traffic secret, which
// also gives the finished_key of its sender's Finished.
func (b *base) handshakeCipher(s *suites.Suite, secret []byte) (record.Cipher, []byte, error) {
	key, iv, finishedKey := keys.HandshakeTrafficKeys(b.hash(s.Hash), secret, s.KeyLen())
	aead, err := s.NewAEAD(b.cfg.Provider, key)
	if err != nil {
		return nil, nil, err
	}
	return record.NewAEAD13(aead, iv, 0), finishedKey, nil
}

// applicationSecrets13 derives the application traffic and exporter
// secrets from the transcript through the server's Finished, and logs them.
func (b *base) applicationSecrets13(k *secrets13) (appCiphers, error) {
	k.schedule.AdvanceToMaster()
	th := b.transcript.SumTemp()
	k.clientApp = k.schedule.ClientApplicationTrafficSecret(th)
	k.serverApp = k.schedule.ServerApplicationTrafficSecret(th)
	k.exporter = k.schedule.ExporterMasterSecret(th)
	b.logSecret("CLIENT_TRAFFIC_SECRET_0", 7, k.clientApp)
	b.logSecret("SERVER_TRAFFIC_SECRET_0", 7, k.serverApp)
	b.logSecret("EXPORTER_SECRET", 7, k.exporter)
	b.state.ExporterSecret = k.exporter
	var c appCiphers
	var err error
	if c.client, err = b.trafficCipher(k.suite, k.clientApp); err != nil {
		return c, err
	}
	c.server, err = b.trafficCipher(k.suite, k.serverApp)
	return c, err
}
