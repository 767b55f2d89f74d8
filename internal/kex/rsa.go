package kex

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// PreMasterSecretLen is the length of the RSA-encrypted pre-master secret:
// client_version (2 bytes) || random (46 bytes), RFC 5246 §7.4.7.1.
const PreMasterSecretLen = 48

// EncryptPreMasterSecret makes the 48-byte pre-master secret
// (client_version || 46 random bytes, RFC 5246 §7.4.7.1) and encrypts it with
// PKCS #1 v1.5 to the server's key. clientVersion must be the version the
// client offered in ClientHello.client_version, not the negotiated one, so a
// version-rollback attack shows up at the server.
//
// rand supplies the 46 random bytes (nil means crypto/rand). crypto/rsa
// ignores it for the padding since Go 1.26 (see the package comment).
func EncryptPreMasterSecret(rand io.Reader, pub *rsa.PublicKey, clientVersion uint16) (preMaster, encrypted []byte, err error) {
	if pub == nil || pub.N == nil {
		return nil, nil, errors.New("kex: RSA key exchange: server certificate has no RSA public key")
	}
	rand = orDefault(rand)
	preMaster = make([]byte, PreMasterSecretLen)
	preMaster[0] = byte(clientVersion >> 8)
	preMaster[1] = byte(clientVersion)
	if _, err := io.ReadFull(rand, preMaster[2:]); err != nil {
		return nil, nil, fmt.Errorf("kex: RSA key exchange: reading random bytes for the pre-master secret: %w", err)
	}
	// PKCS #1 v1.5 is what RFC 5246 §7.4.7.1 specifies; the deprecation in
	// crypto/rsa concerns new protocols.
	encrypted, err = rsa.EncryptPKCS1v15(rand, pub, preMaster)
	if err != nil {
		return nil, nil, fmt.Errorf("kex: RSA key exchange: encrypting the pre-master secret to the server's %d-bit key: %w",
			pub.N.BitLen(), err)
	}
	return preMaster, encrypted, nil
}

// DecryptPreMasterSecret recovers the pre-master secret from a
// ClientKeyExchange's EncryptedPreMasterSecret without revealing whether the
// padding or the version was wrong: in either case it returns, with a nil
// error, a random 48-byte secret drawn beforehand, so the handshake goes on
// and fails at Finished exactly as it would with a wrong key. An early,
// distinguishable failure would be a Bleichenbacher oracle (RFC 5246
// §7.4.7.1).
//
// The version check compares the first two bytes with clientVersion, which
// must be ClientHello.client_version; the comparison and the substitution
// are constant time.
//
// The only error returned is a failure that is not about the padding and so
// cannot be hidden: a ciphertext whose length is not the modulus size, a
// ciphertext not below the modulus, a failing random source, or the
// Decrypter itself failing. Even then preMaster is a random 48-byte secret
// (unless rand failed, then it is nil): the caller should log the error and
// carry on with that secret, sending the peer nothing different.
//
// With an *rsa.PrivateKey, Decrypt with PKCS1v15DecryptOptions{SessionKeyLen:
// 48} substitutes a random key on bad padding itself, in constant time. A
// generic crypto.Decrypter (an HSM, a remote signer) may ignore SessionKeyLen
// and return an error, or a plaintext of another length, on bad padding; we
// then use the random secret too, but the timing, and here the error, may
// differ from the good-padding path. Such keys are only as safe against
// Bleichenbacher as their Decrypt is constant time.
func DecryptPreMasterSecret(rand io.Reader, key crypto.Decrypter, ciphertext []byte, clientVersion uint16) (preMaster []byte, err error) {
	rand = orDefault(rand)
	random := make([]byte, PreMasterSecretLen)
	if _, err := io.ReadFull(rand, random); err != nil {
		return nil, fmt.Errorf("kex: RSA key exchange: reading random bytes for the substitute pre-master secret: %w", err)
	}
	if key == nil {
		return random, errors.New("kex: RSA key exchange: no private key to decrypt the pre-master secret")
	}
	// The modulus size is public, so checking it early tells an attacker
	// nothing.
	if pub, ok := key.Public().(*rsa.PublicKey); ok && pub != nil && pub.N != nil && len(ciphertext) != pub.Size() {
		return random, fmt.Errorf("kex: RSA key exchange: EncryptedPreMasterSecret is %d bytes, want %d (the modulus size)",
			len(ciphertext), pub.Size())
	}

	plaintext, err := key.Decrypt(rand, ciphertext, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: PreMasterSecretLen})
	if err != nil {
		return random, fmt.Errorf("kex: RSA key exchange: decrypting EncryptedPreMasterSecret: %w", err)
	}
	if len(plaintext) != PreMasterSecretLen {
		// Only a Decrypter that ignores SessionKeyLen gets here.
		return random, nil
	}
	versionOK := subtle.ConstantTimeByteEq(plaintext[0], byte(clientVersion>>8)) &
		subtle.ConstantTimeByteEq(plaintext[1], byte(clientVersion))
	subtle.ConstantTimeCopy(1-versionOK, plaintext, random)
	return plaintext, nil
}
