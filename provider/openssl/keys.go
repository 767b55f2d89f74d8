//go:build cgo

package openssl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"math/big"
	"runtime"
	"sync"
	"weak"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// keyCache holds OpenSSL's copy of a standard library private key for as
// long as the Go key lives: importing a key into OpenSSL costs about as much
// as a signature, and a server signs with the same few keys all its life.
// Entries are keyed by a weak pointer, so the cache never keeps a key alive;
// a cleanup drops the entry when the Go key is collected. A key OpenSSL
// cannot take (multi-prime RSA, a curve it does not route) is remembered as
// nil and left to the standard library.
type keyCache[K any, V any] struct {
	mu      sync.Mutex
	m       map[weak.Pointer[K]]*V
	convert func(*K) *V
}

func (c *keyCache[K, V]) get(k *K) *V {
	wp := weak.Make(k)
	c.mu.Lock()
	v, ok := c.m[wp]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = c.convert(k)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[weak.Pointer[K]]*V)
	}
	if _, raced := c.m[wp]; !raced {
		c.m[wp] = v
		runtime.AddCleanup(k, c.drop, wp)
	}
	c.mu.Unlock()
	return v
}

func (c *keyCache[K, V]) drop(wp weak.Pointer[K]) {
	c.mu.Lock()
	delete(c.m, wp)
	c.mu.Unlock()
}

var rsaKeys = keyCache[rsa.PrivateKey, openssl.PrivateKeyRSA]{convert: rsaKey}

var ecdsaKeys = keyCache[ecdsa.PrivateKey, openssl.PrivateKeyECDSA]{convert: ecdsaKey}

// rsaKey imports a two-prime RSA key with its CRT values, computing them if
// the key was built without Precompute (the Go key is not modified).
func rsaKey(k *rsa.PrivateKey) *openssl.PrivateKeyRSA {
	if k.N == nil || k.D == nil || len(k.Primes) != 2 {
		return nil
	}
	p, q := k.Primes[0], k.Primes[1]
	dp, dq, qinv := k.Precomputed.Dp, k.Precomputed.Dq, k.Precomputed.Qinv
	if dp == nil || dq == nil || qinv == nil {
		one := big.NewInt(1)
		dp = new(big.Int).Mod(k.D, new(big.Int).Sub(p, one))
		dq = new(big.Int).Mod(k.D, new(big.Int).Sub(q, one))
		qinv = new(big.Int).ModInverse(q, p)
		if qinv == nil {
			return nil
		}
	}
	ok, err := openssl.NewPrivateKeyRSA(bbig.Enc(k.N), bbig.Enc(big.NewInt(int64(k.E))), bbig.Enc(k.D),
		bbig.Enc(p), bbig.Enc(q), bbig.Enc(dp), bbig.Enc(dq), bbig.Enc(qinv))
	if err != nil {
		return nil
	}
	return ok
}

// ecdsaKey imports a P-256 key; the other curves stay with Go, which signs
// on P-384 3.4 times faster than OpenSSL 3.0 here.
func ecdsaKey(k *ecdsa.PrivateKey) *openssl.PrivateKeyECDSA {
	if k.Curve != elliptic.P256() {
		return nil
	}
	const curve = "P-256"
	//lint:ignore SA1019 X, Y and D are how golang-fips takes a key; the fields stay valid.
	ok, err := openssl.NewPrivateKeyECDSA(curve, bbig.Enc(k.X), bbig.Enc(k.Y), bbig.Enc(k.D))
	if err != nil {
		return nil
	}
	return ok
}
