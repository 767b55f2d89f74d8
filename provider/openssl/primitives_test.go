//go:build cgo

package openssl

// BenchmarkPrimitive measures each primitive a provider could route, the
// standard library's beside OpenSSL's, in the same run: the evidence for
// what this provider routes (doc.go) and what it leaves to Go.
//
//   BenchmarkPrimitive/<primitive>/{stdlib,openssl}
//
// Routed ones go through the providers (Stdlib and *Provider), with the key
// import cached as in a server's life; the others call golang-fips/openssl
// directly, as a route would.

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"syscall"
	"testing"
	"time"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"

	"github.com/tlsflow/tlsflow/provider"
)

func BenchmarkPrimitive(b *testing.B) {
	p, err := New()
	if err != nil {
		b.Skipf("OpenSSL provider: %v", err)
	}
	var std provider.Stdlib
	digest := sha256.Sum256([]byte("signed content"))
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	ct, _ := rsa.EncryptPKCS1v15(rand.Reader, &rsaTestKey.PublicKey, make([]byte, 48))
	sig, _ := rsaTestKey.Sign(rand.Reader, digest[:], crypto.SHA256)
	osslPub, _ := openssl.NewPublicKeyRSA(bbig.Enc(rsaTestKey.N), bbig.Enc(big.NewInt(int64(rsaTestKey.E))))
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	osslEd, _ := openssl.GenerateKeyEd25519()

	pair := func(name string, stdlib, ossl func() error) {
		b.Run(name+"/stdlib", func(b *testing.B) { loop(b, stdlib) })
		b.Run(name+"/openssl", func(b *testing.B) { loop(b, ossl) })
	}
	// Routed.
	pair("RSA2048-sign-PKCS1v15",
		func() error { _, err := std.Sign(rsaTestKey, rand.Reader, digest[:], crypto.SHA256); return err },
		func() error { _, err := p.Sign(rsaTestKey, rand.Reader, digest[:], crypto.SHA256); return err })
	pair("RSA2048-sign-PSS",
		func() error { _, err := std.Sign(rsaTestKey, rand.Reader, digest[:], pss); return err },
		func() error { _, err := p.Sign(rsaTestKey, rand.Reader, digest[:], pss); return err })
	pair("RSA2048-kex-decrypt",
		func() error {
			_, err := rsaTestKey.Decrypt(rand.Reader, ct, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 48})
			return err
		},
		func() error { _, _, err := p.DecryptRSANoPadding(rsaTestKey, ct); return err })
	pair("ECDSA-P256-sign",
		func() error { _, err := std.Sign(ec256, rand.Reader, digest[:], crypto.SHA256); return err },
		func() error { _, err := p.Sign(ec256, rand.Reader, digest[:], crypto.SHA256); return err })
	// Not routed.
	osslEC384, _ := openssl.NewPrivateKeyECDSA("P-384", bbig.Enc(ec384.X), bbig.Enc(ec384.Y), bbig.Enc(ec384.D))
	pair("ECDSA-P384-sign",
		func() error { _, err := std.Sign(ec384, rand.Reader, digest[:], crypto.SHA384); return err },
		func() error { _, err := openssl.SignMarshalECDSA(osslEC384, digest[:]); return err })
	pair("RSA2048-verify-PKCS1v15",
		func() error { return std.Verify(&rsaTestKey.PublicKey, digest[:], sig, crypto.SHA256) },
		func() error {
			// A peer's key, imported for each handshake.
			pub, err := openssl.NewPublicKeyRSA(bbig.Enc(rsaTestKey.N), bbig.Enc(big.NewInt(int64(rsaTestKey.E))))
			if err != nil {
				return err
			}
			return openssl.VerifyRSAPKCS1v15(pub, crypto.SHA256, digest[:], sig)
		})
	pair("RSA2048-encrypt-PKCS1v15",
		func() error {
			_, err := rsa.EncryptPKCS1v15(rand.Reader, &rsaTestKey.PublicKey, make([]byte, 48))
			return err
		},
		func() error { _, err := openssl.EncryptRSAPKCS1(osslPub, make([]byte, 48)); return err })
	pair("Ed25519-sign",
		func() error { ed25519.Sign(edKey, digest[:]); return nil },
		func() error { _, err := openssl.SignEd25519(osslEd, digest[:]); return err })
	for _, c := range []struct {
		name  string
		curve ecdh.Curve
	}{{"P-256", ecdh.P256()}, {"P-384", ecdh.P384()}} {
		peer, _ := c.curve.GenerateKey(rand.Reader)
		pair("ECDH-"+c.name+"-keygen-and-agree",
			func() error {
				k, err := std.GenerateECDH(c.curve, nil)
				if err != nil {
					return err
				}
				_, err = k.ECDH(peer.PublicKey().Bytes())
				return err
			},
			func() error {
				k, _, err := openssl.GenerateKeyECDH(c.name)
				if err != nil {
					return err
				}
				pub, err := openssl.NewPublicKeyECDH(c.name, peer.PublicKey().Bytes())
				if err != nil {
					return err
				}
				_, err = openssl.ECDH(k, pub)
				return err
			})
	}
	for _, n := range []int{64, 16384} {
		stdBlock, _ := aes.NewCipher(make([]byte, 16))
		stdGCM, _ := cipher.NewGCM(stdBlock)
		osslBlock, _ := openssl.NewAESCipher(make([]byte, 16))
		osslGCM, _ := cipher.NewGCM(osslBlock)
		buf, nonce := make([]byte, n, n+16), make([]byte, 12)
		name := "AES-128-GCM-seal-" + map[int]string{64: "64B", 16384: "16KiB"}[n]
		pair(name,
			func() error { stdGCM.Seal(buf[:0], nonce, buf, nil); return nil },
			func() error { osslGCM.Seal(buf[:0], nonce, buf, nil); return nil })
	}
	msg := make([]byte, 1024)
	pair("SHA-256-1KiB",
		func() error { h := sha256.New(); h.Write(msg); h.Sum(nil); return nil },
		func() error { h := openssl.NewSHA256(); h.Write(msg); h.Sum(nil); return nil })
	key := make([]byte, 32)
	pair("HMAC-SHA-256-32B",
		func() error { h := hmac.New(sha256.New, key); h.Write(key); h.Sum(nil); return nil },
		func() error { h := openssl.NewHMAC(openssl.NewSHA256, key); h.Write(key); h.Sum(nil); return nil })
	out := make([]byte, 32)
	pair("random-32B",
		func() error { _, err := rand.Read(out); return err },
		func() error { _, err := openssl.RandReader.Read(out); return err })
}

// loop runs f b.N times and reports, beside the wall time, cpu-ns/op: the
// process's CPU time per op (getrusage), which a busy machine's time
// slicing does not inflate.
func loop(b *testing.B, f func() error) {
	b.ReportAllocs()
	var ops int
	start := processCPU()
	for b.Loop() {
		ops++
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-start).Nanoseconds())/float64(ops), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
