package keys

import (
	"errors"
	"fmt"
)

// Labels of RFC 5246 §7.4.9 for the Finished verify_data.
const (
	LabelClientFinished = "client finished"
	LabelServerFinished = "server finished"
)

const (
	labelMasterSecret         = "master secret"          // RFC 5246 §8.1
	labelExtendedMasterSecret = "extended master secret" // RFC 7627 §4
	labelKeyExpansion         = "key expansion"          // RFC 5246 §6.3

	masterSecretLen = 48 // RFC 5246 §8.1: master_secret is always 48 bytes
	verifyDataLen   = 12 // RFC 5246 §7.4.9: verify_data_length for every defined suite
)

// PRF is P_hash of RFC 5246 §5: PRF(secret, label, seed) = P_<hash>(secret,
// label + seed), cut to n bytes. n <= 0 gives an empty result.
//
//	P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
//	                       HMAC_hash(secret, A(2) + seed) + ...
//	A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
func PRF(h Hash, secret []byte, label string, seed []byte, n int) []byte {
	if n <= 0 {
		return []byte{}
	}
	labelSeed := make([]byte, 0, len(label)+len(seed))
	labelSeed = append(labelSeed, label...)
	labelSeed = append(labelSeed, seed...)

	mac := h.acquireMAC(secret)
	defer releaseMAC(mac)
	out := make([]byte, 0, n+h.Size())
	a := labelSeed // A(0)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil) // A(i)

		mac.Reset()
		mac.Write(a)
		mac.Write(labelSeed)
		out = mac.Sum(out)
	}
	return out[:n:n]
}

// MasterSecret is RFC 5246 §8.1:
//
//	master_secret = PRF(pre_master_secret, "master secret",
//	                    ClientHello.random + ServerHello.random)[0..47]
func MasterSecret(h Hash, preMaster, clientRandom, serverRandom []byte) []byte {
	return PRF(h, preMaster, labelMasterSecret, concat(clientRandom, serverRandom), masterSecretLen)
}

// ExtendedMasterSecret is RFC 7627 §4. sessionHash is Hash(handshake_messages)
// from the ClientHello up to and including the ClientKeyExchange (§3): it
// binds the master secret to the whole handshake, not just the two randoms.
//
//	master_secret = PRF(pre_master_secret, "extended master secret",
//	                    session_hash)[0..47]
func ExtendedMasterSecret(h Hash, preMaster, sessionHash []byte) []byte {
	return PRF(h, preMaster, labelExtendedMasterSecret, sessionHash, masterSecretLen)
}

// KeyBlock12 computes and splits the key_block of RFC 5246 §6.3:
//
//	key_block = PRF(SecurityParameters.master_secret, "key expansion",
//	                SecurityParameters.server_random +
//	                SecurityParameters.client_random)
//
// AEAD suites have no MAC keys (mac_key_length 0), so the block is
// client_write_key, server_write_key, client_write_IV, server_write_IV. ivLen
// is the implicit part of the nonce: 4 for the GCM salt (RFC 5288 §3), 12 for
// ChaCha20-Poly1305 (RFC 7905 §2). Note the seed order: server random first.
func KeyBlock12(h Hash, master, clientRandom, serverRandom []byte, keyLen, ivLen int) (clientKey, serverKey, clientIV, serverIV []byte) {
	if keyLen < 0 || ivLen < 0 {
		return nil, nil, nil, nil
	}
	block := PRF(h, master, labelKeyExpansion, concat(serverRandom, clientRandom), 2*keyLen+2*ivLen)
	next := func(n int) []byte {
		part := block[:n:n] // full slice expression: an append by the caller cannot spill into the next key
		block = block[n:]
		return part
	}
	clientKey = next(keyLen)
	serverKey = next(keyLen)
	clientIV = next(ivLen)
	serverIV = next(ivLen)
	return clientKey, serverKey, clientIV, serverIV
}

// Finished12 is the verify_data of RFC 5246 §7.4.9:
//
//	verify_data = PRF(master_secret, finished_label,
//	                  Hash(handshake_messages))[0..verify_data_length-1]
//
// label is LabelClientFinished or LabelServerFinished; transcriptHash is
// Hash(handshake_messages), every handshake message up to but not including
// this Finished.
func Finished12(h Hash, master []byte, label string, transcriptHash []byte) []byte {
	return PRF(h, master, label, transcriptHash, verifyDataLen)
}

// Exporter12 is the keying material exporter of RFC 5705 §4:
//
//	PRF(master_secret, label, client_random + server_random
//	    [+ context_value_length + context_value])[length]
//
// A nil context means "no context" and leaves the context fields out; a
// non-nil empty context is a zero-length context and adds a zero
// context_value_length. The two give different outputs, as RFC 5705 requires.
//
// Labels the TLS 1.2 key derivation itself uses are refused: RFC 5705 §6
// reserves "client finished", "server finished", "master secret" and "key
// expansion", and RFC 7627 adds "extended master secret"; exporting under one
// of them could reproduce a value the protocol relies on.
func Exporter12(h Hash, master, clientRandom, serverRandom []byte, label string, context []byte, n int) ([]byte, error) {
	switch label {
	case LabelClientFinished, LabelServerFinished, labelMasterSecret, labelExtendedMasterSecret, labelKeyExpansion:
		return nil, fmt.Errorf("keys: exporter label %q is reserved (RFC 5705 §6, RFC 7627)", label)
	}
	if n < 0 {
		return nil, errors.New("keys: exporter length is negative")
	}
	if len(context) > 0xffff {
		return nil, errors.New("keys: exporter context longer than 65535 bytes (context_value_length is a uint16)")
	}
	seed := concat(clientRandom, serverRandom)
	if context != nil {
		seed = append(seed, byte(len(context)>>8), byte(len(context)))
		seed = append(seed, context...)
	}
	return PRF(h, master, label, seed, n), nil
}

func concat(a, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(b))
	out = append(out, a...)
	return append(out, b...)
}
