package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"sync"
	"time"
)

// A ticket is name(16) || nonce(12) || AES-256-GCM(state), with the name as
// additional data: the name says which key sealed it, so a server still
// opens tickets sealed with a previous key after a rotation.
const (
	nameLen  = 16
	nonceLen = 12
)

// Key is one ticket key, derived from 32 secret bytes.
type Key struct {
	name    [nameLen]byte
	aead    cipher.AEAD
	created time.Time
}

// NewKey derives a ticket key. Servers that share the secret open each
// other's tickets, so a fleet behind a load balancer can resume anywhere.
func NewKey(secret [32]byte, created time.Time) (*Key, error) {
	material, err := hkdf.Key(sha256.New, secret[:], nil, "tlsflow session ticket key", nameLen+32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(material[nameLen:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Key{aead: aead, created: created}
	copy(k.name[:], material[:nameLen])
	return k, nil
}

// Keys is a server's ticket keys: the first seals, all open. Without keys
// set by the application it makes its own and rotates them every
// rotateEvery, keeping the previous ones for the ticket lifetime.
type Keys struct {
	mu      sync.Mutex
	keys    []*Key
	manual  bool
	rand    io.Reader
	rotate  time.Duration
	keepFor time.Duration
}

// Rotation defaults: a fresh key daily; tickets stay openable for a week,
// RFC 8446 §4.6.1's longest ticket lifetime.
const (
	DefaultRotation = 24 * time.Hour
	DefaultKeep     = 7 * 24 * time.Hour
)

// Set replaces the keys with the application's: secrets[0] seals, every
// one opens. No automatic rotation happens afterwards.
func (k *Keys) Set(secrets [][32]byte, now time.Time) error {
	keys := make([]*Key, 0, len(secrets))
	for _, s := range secrets {
		key, err := NewKey(s, now)
		if err != nil {
			return err
		}
		keys = append(keys, key)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys, k.manual = keys, true
	return nil
}

// current returns the keys to use at now, rotating automatic keys.
func (k *Keys) current(random io.Reader, now time.Time) ([]*Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.manual {
		return k.keys, nil
	}
	if len(k.keys) == 0 || now.Sub(k.keys[0].created) >= DefaultRotation {
		var secret [32]byte
		if random == nil {
			random = rand.Reader
		}
		if _, err := io.ReadFull(random, secret[:]); err != nil {
			return nil, err
		}
		key, err := NewKey(secret, now)
		if err != nil {
			return nil, err
		}
		keys := []*Key{key}
		for _, old := range k.keys {
			if now.Sub(old.created) < DefaultRotation+DefaultKeep {
				keys = append(keys, old)
			}
		}
		k.keys = keys
	}
	return k.keys, nil
}

// Seal encrypts a session into a ticket with the current key.
func (k *Keys) Seal(s *State, random io.Reader, now time.Time) ([]byte, error) {
	keys, err := k.current(random, now)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("session: no ticket key")
	}
	key := keys[0]
	if random == nil {
		random = rand.Reader
	}
	plain, err := s.Marshal()
	if err != nil {
		return nil, err
	}
	out := make([]byte, nameLen+nonceLen, nameLen+nonceLen+len(plain)+key.aead.Overhead())
	copy(out, key.name[:])
	if _, err := io.ReadFull(random, out[nameLen:]); err != nil {
		return nil, err
	}
	return key.aead.Seal(out, out[nameLen:], plain, out[:nameLen]), nil
}

// Open decrypts a ticket; nil means "not ours, or tampered with, or sealed
// by a retired key" — in every case, do a full handshake.
func (k *Keys) Open(ticket []byte, now time.Time) *State {
	if len(ticket) < nameLen+nonceLen {
		return nil
	}
	keys, err := k.current(nil, now)
	if err != nil {
		return nil
	}
	for _, key := range keys {
		if subtle.ConstantTimeCompare(key.name[:], ticket[:nameLen]) != 1 {
			continue
		}
		plain, err := key.aead.Open(nil, ticket[nameLen:nameLen+nonceLen], ticket[nameLen+nonceLen:], ticket[:nameLen])
		if err != nil {
			return nil
		}
		s, err := Unmarshal(plain)
		if err != nil {
			return nil
		}
		return s
	}
	return nil
}
