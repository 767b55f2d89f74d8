//go:build unix

package tlsflow_test

// The primitive bound of a handshake case: the public-key operations both
// sides must perform, each timed with a direct standard-library call in the
// same benchmark run. No implementation can make a handshake cheaper than
// the sum of these, so bound-share (bound ÷ cpu-ns/op) says how much of a
// handshake's cost is the unavoidable public-key work and how much is
// everything else: parsing, hashing, record protection, allocation, the
// harness.
//
// What is left out, on purpose: hashing the transcript and the signed
// content (a few hundred bytes through SHA-256, well under a microsecond),
// HKDF, AEAD, and X.509 parsing. Only operations on a public or private key
// are in the bound.

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// pkOp is one public-key operation of a handshake, ready to be timed: its
// inputs (keys, peer shares, signatures, ciphertexts) are made when the op
// is built, so run does the operation alone.
type pkOp struct {
	who  string // the side that performs it, and for which message
	prim string // the primitive, as in primitiveName and the names below
	run  func() error
}

// The primitives that are not named after a certificate key.
const (
	primX25519KeyGen = "X25519 key generation"
	primX25519Shared = "X25519 shared secret"
	primMLKEMKeyGen  = "ML-KEM-768 key generation"
	primMLKEMEncaps  = "ML-KEM-768 encapsulation"
	primMLKEMDecaps  = "ML-KEM-768 decapsulation"
)

// keyName names a certificate key as the primitives built on it are named:
// "ECDSA P-256", "RSA-2048", "Ed25519".
func keyName(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// Sign and verify are named after the key; RSA signatures in these cases
// are RSA-PSS (rsa_pss_rsae_sha256, first in both stacks' preference).
func signName(pub crypto.PublicKey) string {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return keyName(pub) + " PSS sign"
	}
	return keyName(pub) + " sign"
}

func verifyName(pub crypto.PublicKey) string {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return keyName(pub) + " PSS verify"
	}
	return keyName(pub) + " verify"
}

func rsaEncryptName(pub crypto.PublicKey) string { return keyName(pub) + " PKCS#1 v1.5 encrypt" }
func rsaDecryptName(pub crypto.PublicKey) string { return keyName(pub) + " PKCS#1 v1.5 decrypt" }

// x25519Exchange is one X25519 key exchange, both sides: each generates a
// key pair and computes the shared secret from the other's public key
// (RFC 7748 §6.1).
func x25519Exchange(tb testing.TB) []pkOp {
	peer, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	mine, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	keyGen := func() error { _, err := ecdh.X25519().GenerateKey(rand.Reader); return err }
	shared := func() error {
		// Parsing the peer's 32 bytes is part of the operation.
		pub, err := ecdh.X25519().NewPublicKey(peer.PublicKey().Bytes())
		if err != nil {
			return err
		}
		_, err = mine.ECDH(pub)
		return err
	}
	return []pkOp{
		{"client: key_share", primX25519KeyGen, keyGen},
		{"server: key_share", primX25519KeyGen, keyGen},
		{"client: shared secret", primX25519Shared, shared},
		{"server: shared secret", primX25519Shared, shared},
	}
}

// mlkemExchange is the ML-KEM-768 half of X25519MLKEM768
// (draft-ietf-tls-ecdhe-mlkem §3): the client generates a decapsulation
// key, the server parses the encapsulation key and encapsulates to it, the
// client decapsulates the ciphertext.
func mlkemExchange(tb testing.TB) []pkOp {
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		tb.Fatal(err)
	}
	ekBytes := dk.EncapsulationKey().Bytes()
	_, ct := dk.EncapsulationKey().Encapsulate()
	return []pkOp{
		{"client: key_share", primMLKEMKeyGen, func() error { _, err := mlkem.GenerateKey768(); return err }},
		{"server: key_share", primMLKEMEncaps, func() error {
			ek, err := mlkem.NewEncapsulationKey768(ekBytes)
			if err != nil {
				return err
			}
			ek.Encapsulate()
			return nil
		}},
		{"client: shared secret", primMLKEMDecaps, func() error { _, err := dk.Decapsulate(ct); return err }},
	}
}

// signOps are one handshake signature: the signer makes it with key and the
// peer verifies it with the public key (TLS 1.3 CertificateVerify, TLS 1.2
// ServerKeyExchange or CertificateVerify). The digest stands for the hash
// of the signed content, which is not part of the bound.
func signOps(tb testing.TB, signer, verifier, message string, key crypto.PrivateKey) []pkOp {
	priv, ok := key.(crypto.Signer)
	if !ok {
		tb.Fatalf("%s: %T is not a crypto.Signer", message, key)
	}
	pub := priv.Public()
	digest := sha256.Sum256([]byte(message))
	var opts crypto.SignerOpts = crypto.SHA256
	signed := digest[:]
	if _, ok := pub.(*rsa.PublicKey); ok {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	}
	if _, ok := pub.(ed25519.PublicKey); ok {
		opts, signed = crypto.Hash(0), []byte(message) // Ed25519 signs the message itself
	}
	sig, err := priv.Sign(rand.Reader, signed, opts)
	if err != nil {
		tb.Fatalf("%s: %v", message, err)
	}
	verify := func() error { return verifySignature(pub, signed, sig) }
	if err := verify(); err != nil {
		tb.Fatalf("%s: %v", message, err)
	}
	return []pkOp{
		{signer + ": " + message, signName(pub), func() error { _, err := priv.Sign(rand.Reader, signed, opts); return err }},
		{verifier + ": " + message, verifyName(pub), verify},
	}
}

// verifySignature checks sig over signed (a SHA-256 digest, or the message
// for Ed25519) with pub.
func verifySignature(pub crypto.PublicKey, signed, sig []byte) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, signed, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case *rsa.PublicKey:
		return rsa.VerifyPSS(k, crypto.SHA256, signed, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case ed25519.PublicKey:
		if !ed25519.Verify(k, signed, sig) {
			return errors.New("Ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("no verifier for %T", pub)
}

// chainOps are the signature checks that validating cert's chain needs:
// each certificate's signature, checked with its issuer's key, up to the
// root. The root ends the chain (pki sends it, RFC 8446 §4.4.2 allows it)
// and is a trust anchor: its self-signature is not checked.
func chainOps(tb testing.TB, verifier string, cert tlsflow.Certificate) []pkOp {
	var chain []*x509.Certificate
	for i, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			tb.Fatalf("%s: certificate %d: %v", verifier, i, err)
		}
		chain = append(chain, c)
	}
	root := chain[len(chain)-1]
	if len(chain) < 2 || root.CheckSignatureFrom(root) != nil {
		tb.Fatalf("%s: the chain of %d certificates does not end at a self-signed root", verifier, len(chain))
	}
	var ops []pkOp
	for i, c := range chain[:len(chain)-1] {
		issuer := chain[i+1]
		var digest []byte
		switch c.SignatureAlgorithm {
		case x509.ECDSAWithSHA256:
			d := sha256.Sum256(c.RawTBSCertificate)
			digest = d[:]
		case x509.PureEd25519:
			digest = c.RawTBSCertificate
		default:
			tb.Fatalf("%s: certificate %d is signed with %v, which chainOps does not time", verifier, i, c.SignatureAlgorithm)
		}
		pub, sig := issuer.PublicKey, c.Signature
		verify := func() error { return verifySignature(pub, digest, sig) }
		if err := verify(); err != nil {
			tb.Fatalf("%s: certificate %d: %v", verifier, i, err)
		}
		ops = append(ops, pkOp{fmt.Sprintf("%s: certificate %d signed by %q", verifier, i, issuer.Subject.CommonName),
			verifyName(pub), verify})
	}
	return ops
}

// rsaKexOps are the TLS 1.2 RSA key exchange (RFC 5246 §7.4.7.1): the client
// encrypts the 48-byte pre-master secret to the server's key, the server
// decrypts it the way both stacks do, without a distinguishable error.
func rsaKexOps(tb testing.TB, key crypto.PrivateKey) []pkOp {
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		tb.Fatalf("RSA key exchange: the server key is %T, not RSA", key)
	}
	preMaster := make([]byte, 48)
	rand.Read(preMaster)
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, preMaster)
	if err != nil {
		tb.Fatal(err)
	}
	pub := priv.Public()
	return []pkOp{
		{"client: ClientKeyExchange", rsaEncryptName(pub), func() error {
			_, err := rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, preMaster)
			return err
		}},
		{"server: ClientKeyExchange", rsaDecryptName(pub), func() error {
			_, err := priv.Decrypt(rand.Reader, ct, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 48})
			return err
		}},
	}
}

// boundTimer times passes over a list of operations with the process CPU
// time, the clock of cpu-ns/op. BenchmarkHandshake spreads its passes among
// the handshakes, so that both see the same machine: on a shared host the
// CPU time of the same work drifts with what runs beside it.
type boundTimer struct {
	used   time.Duration
	passes int
}

// pass runs every operation once.
func (t *boundTimer) pass(ops []pkOp) error {
	start := processCPU()
	for _, op := range ops {
		if err := op.run(); err != nil {
			return fmt.Errorf("%s (%s): %w", op.prim, op.who, err)
		}
	}
	used := processCPU() - start
	if start < 0 || used < 0 {
		return errors.New("getrusage failed")
	}
	t.used += used
	t.passes++
	return nil
}

// perPass is the CPU time of one pass, or zero before the first.
func (t *boundTimer) perPass() time.Duration {
	if t.passes == 0 {
		return 0
	}
	return t.used / time.Duration(t.passes)
}

// boundReps is how many passes over the list one measurement of b.N
// handshakes makes: half as many as handshakes, within [5, 100].
func boundReps(n int) int { return min(max(n/2, 5), 100) }

// expectedPrimitives derives, independently of the per-case lists in
// handshakeBenches, the primitives a case needs from what it negotiates and
// the keys it is configured with.
func expectedPrimitives(bc handshakeBench, p benchPeers) []string {
	var want []string
	resumed12 := bc.want.resumed && bc.want.version == tlsflow.VersionTLS12
	if resumed12 {
		return nil // RFC 5077 §3.1: the abbreviated handshake has no key exchange
	}
	if bc.want.group == tlsflow.X25519 || bc.want.group == tlsflow.X25519MLKEM768 {
		want = append(want, primX25519KeyGen, primX25519KeyGen, primX25519Shared, primX25519Shared)
	}
	if bc.want.group == tlsflow.X25519MLKEM768 {
		want = append(want, primMLKEMKeyGen, primMLKEMEncaps, primMLKEMDecaps)
	}
	if bc.want.resumed {
		return want // TLS 1.3 psk_dhe_ke: the PSK authenticates, no certificates
	}
	server := p.flowServer.Certificates[0]
	serverPub := server.PrivateKey.(crypto.Signer).Public()
	if bc.want.group == 0 { // TLS 1.2 RSA key exchange: no signature from the server
		want = append(want, rsaEncryptName(serverPub), rsaDecryptName(serverPub))
	} else {
		want = append(want, signName(serverPub), verifyName(serverPub))
	}
	issuerVerifies := func(chain [][]byte) {
		for i := 0; i+1 < len(chain); i++ {
			issuer, _ := x509.ParseCertificate(chain[i+1])
			want = append(want, verifyName(issuer.PublicKey))
		}
	}
	issuerVerifies(server.Certificate)
	if bc.want.clientCert {
		client := p.flowClient.Certificates[0]
		clientPub := client.PrivateKey.(crypto.Signer).Public()
		want = append(want, signName(clientPub), verifyName(clientPub))
		issuerVerifies(client.Certificate)
	}
	return want
}

// TestPrimitiveBoundMatchesEachCase: each handshake case lists the
// public-key operations its negotiated parameters and configured keys call
// for — no more, no fewer — and every listed operation runs. Only TLS 1.2
// ticket resumption may have none.
func TestPrimitiveBoundMatchesEachCase(t *testing.T) {
	for _, bc := range handshakeBenches() {
		t.Run(bc.name, func(t *testing.T) {
			p := bc.peers()
			ops := bc.bound(t, p)
			if len(ops) == 0 && !(bc.want.resumed && bc.want.version == tlsflow.VersionTLS12) {
				t.Fatal("no public-key operation listed")
			}
			var got []string
			for _, op := range ops {
				if op.who == "" || op.run == nil {
					t.Errorf("%s: incomplete op %+v", op.prim, op)
				}
				if err := op.run(); err != nil {
					t.Errorf("%s (%s): %v", op.prim, op.who, err)
				}
				got = append(got, op.prim)
			}
			want := expectedPrimitives(bc, p)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("primitives\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestPrimitiveBoundIsTimed: a pass over a list takes CPU time, and an
// operation that fails fails the pass.
func TestPrimitiveBoundIsTimed(t *testing.T) {
	var bt boundTimer
	if d := bt.perPass(); d != 0 {
		t.Errorf("perPass before any pass = %v, want 0", d)
	}
	ops := x25519Exchange(t)
	for range 3 {
		if err := bt.pass(ops); err != nil {
			t.Fatal(err)
		}
	}
	if bt.passes != 3 || bt.perPass() <= 0 {
		t.Errorf("after 3 passes: %d passes, %v per pass; want 3 and a positive time", bt.passes, bt.perPass())
	}
	failing := []pkOp{{"test", "always fails", func() error { return errors.New("boom") }}}
	if err := bt.pass(failing); err == nil {
		t.Error("a pass ignored an operation that failed")
	}
}
