package kex

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/tlsflow/tlsflow/provider"
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
// A provider that decrypts the key itself (provider/openssl, for an
// *rsa.PrivateKey) returns the raw c^d mod n, and checkPKCS1v15 below judges
// padding and version together, in constant time: see there why. Otherwise
// the key decrypts. With an *rsa.PrivateKey, Decrypt with
// PKCS1v15DecryptOptions{SessionKeyLen: 48} substitutes a random key on bad
// padding itself, in constant time. A
// generic crypto.Decrypter (an HSM, a remote signer) may ignore SessionKeyLen
// and return an error, or a plaintext of another length, on bad padding; we
// then use the random secret too, but the timing, and here the error, may
// differ from the good-padding path. Such keys are only as safe against
// Bleichenbacher as their Decrypt is constant time.
func DecryptPreMasterSecret(p provider.Provider, rand io.Reader, key crypto.Decrypter, ciphertext []byte, clientVersion uint16) (preMaster []byte, err error) {
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
	pub, _ := key.Public().(*rsa.PublicKey)
	if pub != nil && pub.N != nil && len(ciphertext) != pub.Size() {
		return random, fmt.Errorf("kex: RSA key exchange: EncryptedPreMasterSecret is %d bytes, want %d (the modulus size)",
			len(ciphertext), pub.Size())
	}

	if pub != nil && pub.N != nil {
		em, ok, err := provider.OrStdlib(p).DecryptRSANoPadding(key, ciphertext)
		if ok {
			if err != nil {
				// Only a ciphertext not below the modulus, or the provider's
				// fault check, fails: neither depends on the plaintext.
				return random, fmt.Errorf("kex: RSA key exchange: decrypting EncryptedPreMasterSecret: %w", err)
			}
			if pub.Size() < PreMasterSecretLen+11 {
				// Public: a modulus too small for 48 bytes and 8 of padding.
				return random, fmt.Errorf("kex: RSA key exchange: a %d-bit key cannot carry a pre-master secret", pub.N.BitLen())
			}
			if len(em) != pub.Size() {
				return random, fmt.Errorf("kex: RSA key exchange: the provider's raw decryption gave %d bytes, want %d", len(em), pub.Size())
			}
			return checkPKCS1v15(em, random, clientVersion), nil
		}
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

// checkPKCS1v15 takes the raw decryption em (modulus-sized) of an
// EncryptedPreMasterSecret and returns the pre-master secret, or random if
// em is not what RFC 5246 §7.4.7.1 allows, without a branch or a memory
// access that depends on which:
//
//	em = 0x00 || 0x02 || PS || 0x00 || client_version || random[46]
//
// with PS at least 8 nonzero bytes (RFC 8017 §7.2.2) — and since the
// message must be exactly 48 bytes, PS fills every byte up to the zero at
// len(em)-49. So each check is at a fixed, public position: the two first
// bytes, no zero in PS, the zero separator, the version. One mask collects
// them and chooses between the plaintext and the substitute.
//
// Why here, and not in OpenSSL: OpenSSL 3.0's PKCS #1 v1.5 mode fails with
// an error on bad padding (implicit rejection came only in 3.2), an oracle
// by itself; its TLS padding mode (RSA_PKCS1_WITH_TLS_PADDING) is constant
// time, but golang-fips/openssl does not expose it and its result differs
// across OpenSSL versions. Raw decryption (RSA_NO_PADDING) is blinded and
// constant time in OpenSSL, and fails only for a ciphertext not below the
// modulus or a fault in the CRT computation (golang-fips re-encrypts and
// compares), neither of which depends on the padding. So everything that
// does depend on the padding happens in this function, once, whatever the
// provider. The caller has checked len(em) >= 59, the smallest modulus that
// holds 48 bytes and 8 of PS (the limits policy refuses such keys long
// before).
func checkPKCS1v15(em, random []byte, clientVersion uint16) []byte {
	k := len(em)
	sep := k - PreMasterSecretLen - 1 // index of the 0x00 separator
	good := subtle.ConstantTimeByteEq(em[0], 0) & subtle.ConstantTimeByteEq(em[1], 2)
	for _, b := range em[2:sep] {
		good &= 1 ^ subtle.ConstantTimeByteEq(b, 0)
	}
	good &= subtle.ConstantTimeByteEq(em[sep], 0)
	msg := em[sep+1:]
	good &= subtle.ConstantTimeByteEq(msg[0], byte(clientVersion>>8)) &
		subtle.ConstantTimeByteEq(msg[1], byte(clientVersion))
	preMaster := make([]byte, PreMasterSecretLen)
	copy(preMaster, msg)
	subtle.ConstantTimeCopy(1-good, preMaster, random)
	clear(em)
	return preMaster
}
