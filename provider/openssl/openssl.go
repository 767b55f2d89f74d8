//go:build cgo

package openssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/golang-fips/openssl/v2"

	"github.com/tlsflow/tlsflow/provider"
)

func init() { provider.Register(Name, New) }

// Name is the provider's name, for TLSFLOW_PROVIDER.
const Name = "openssl"

// LibEnvVar names the environment variable that overrides the file name of
// the libcrypto to load (default libcrypto.so.3).
const LibEnvVar = "TLSFLOW_OPENSSL_LIBCRYPTO"

// opened loads libcrypto once per process: golang-fips/openssl can be
// initialized only once.
var opened = sync.OnceValues(func() (provider.Provider, error) {
	lib := os.Getenv(LibEnvVar)
	if lib == "" {
		lib = "libcrypto.so.3"
	}
	if err := openssl.Init(lib); err != nil {
		return nil, fmt.Errorf("loading OpenSSL's libcrypto (%s; %s names another file): %w", lib, LibEnvVar, err)
	}
	return &Provider{version: openssl.VersionText()}, nil
})

// New loads libcrypto (at the first call) and returns the OpenSSL provider.
func New() (provider.Provider, error) { return opened() }

// Provider routes the primitives listed in the package comment to OpenSSL
// and inherits the others from the standard library.
type Provider struct {
	provider.Stdlib
	version string
}

func (*Provider) Name() string { return Name }

// Version is libcrypto's version text, e.g. "OpenSSL 3.0.19 27 Jan 2026".
func (p *Provider) Version() string { return p.version }

// FIPS reports whether OpenSSL runs with its FIPS provider. The primitives
// left to the standard library are FIPS-mode only with GODEBUG=fips140=on
// as well: both must hold.
func (p *Provider) FIPS() bool { return openssl.FIPS() && p.Stdlib.FIPS() }

// Sign uses OpenSSL for the standard library's RSA and ECDSA private keys
// with the hashes TLS signs with; anything else signs itself.
func (p *Provider) Sign(key crypto.Signer, rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		h := opts.HashFunc()
		if !tlsHash(h) {
			break
		}
		ok := rsaKeys.get(k)
		if ok == nil {
			break
		}
		if pss, isPSS := opts.(*rsa.PSSOptions); isPSS {
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthEqualsHash {
				salt = h.Size()
			}
			if salt <= 0 {
				break // auto or invalid: leave it to crypto/rsa's rules
			}
			return openssl.SignRSAPSS(ok, h, digest, salt)
		}
		return openssl.SignRSAPKCS1v15(ok, h, digest)
	case *ecdsa.PrivateKey:
		ok := ecdsaKeys.get(k)
		if ok == nil {
			break
		}
		return openssl.SignMarshalECDSA(ok, digest)
	}
	return p.Stdlib.Sign(key, rand, digest, opts)
}

// DecryptRSANoPadding decrypts with OpenSSL for an *rsa.PrivateKey:
// RSA_NO_PADDING, blinded and constant time in OpenSSL; golang-fips then
// re-encrypts the result and compares, against faults in the CRT
// computation. Neither failure depends on the plaintext (see
// internal/kex.checkPKCS1v15). Other keys decrypt themselves (ok false).
func (p *Provider) DecryptRSANoPadding(key crypto.Decrypter, ciphertext []byte) ([]byte, bool, error) {
	k, isRSA := key.(*rsa.PrivateKey)
	if !isRSA {
		return nil, false, nil
	}
	ok := rsaKeys.get(k)
	if ok == nil {
		return nil, false, nil
	}
	em, err := openssl.DecryptRSANoPadding(ok, ciphertext)
	return em, true, err
}

func tlsHash(h crypto.Hash) bool {
	return h == crypto.SHA256 || h == crypto.SHA384 || h == crypto.SHA512
}
