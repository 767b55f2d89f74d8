package main

// The primitive bound of `tlsflow bench`: the public-key operations one
// handshake of a case performs, both sides, each a direct standard-library
// call with the case's keys. Hashing, HKDF, record protection and X.509
// parsing are left out: only operations on a key count. bench_bound_test.go
// in the root package has the same lists for the go test benchmarks.

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// pkOp is one public-key operation, its inputs made beforehand.
type pkOp struct {
	prim string // e.g. "X25519 key generation", "ECDSA P-256 sign"
	run  func() error
}

// boundOps lists the operations of one handshake of c:
//
//   - TLS 1.3 full: an X25519 exchange (2 key generations, 2 shared
//     secrets), for X25519MLKEM768 also ML-KEM-768 key generation (client),
//     encapsulation (server) and decapsulation (client); the server signs
//     CertificateVerify and the client verifies it (ECDSA P-256); the client
//     checks the server's chain: the leaf's signature by the CA (ECDSA
//     P-256). The root ends the chain and is trusted, not checked.
//   - TLS 1.2 ECDHE: the same, with the signature over ServerKeyExchange;
//     with a client certificate also the client's CertificateVerify (ECDSA
//     P-256) signed and verified and the server's check of the client's
//     chain (one ECDSA P-256 signature by the CA).
//   - TLS 1.2 RSA key exchange: RSA-2048 PKCS #1 v1.5 encryption of the
//     pre-master secret (client) and decryption (server), and the client's
//     check of the server's chain.
//   - TLS 1.3 resumption (psk_dhe_ke): the X25519 exchange alone.
//   - TLS 1.2 ticket resumption: nothing.
func (e *benchEnv) boundOps(c benchCase) ([]pkOp, error) {
	if c.resume && c.version == tlsflow.VersionTLS12 {
		return nil, nil
	}
	var ops []pkOp
	if c.group != 0 {
		x, err := x25519Ops()
		if err != nil {
			return nil, err
		}
		ops = append(ops, x...)
	}
	if c.group == tlsflow.X25519MLKEM768 {
		m, err := mlkemOps()
		if err != nil {
			return nil, err
		}
		ops = append(ops, m...)
	}
	if c.resume {
		return ops, nil
	}
	server := e.leaf(c)
	if c.group == 0 {
		r, err := rsaKexOps(server.Key)
		if err != nil {
			return nil, err
		}
		ops = append(ops, r...)
	} else {
		s, err := signatureOps(server.Key)
		if err != nil {
			return nil, err
		}
		ops = append(ops, s...)
	}
	v, err := certOp(server, e.ca)
	if err != nil {
		return nil, err
	}
	ops = append(ops, v)
	if c.clientCert {
		s, err := signatureOps(e.cli.Key)
		if err != nil {
			return nil, err
		}
		v, err := certOp(e.cli, e.ca)
		if err != nil {
			return nil, err
		}
		ops = append(append(ops, s...), v)
	}
	return ops, nil
}

func x25519Ops() ([]pkOp, error) {
	peer, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	mine, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	keyGen := pkOp{"X25519 key generation", func() error { _, err := ecdh.X25519().GenerateKey(rand.Reader); return err }}
	shared := pkOp{"X25519 shared secret", func() error {
		pub, err := ecdh.X25519().NewPublicKey(peer.PublicKey().Bytes())
		if err == nil {
			_, err = mine.ECDH(pub)
		}
		return err
	}}
	return []pkOp{keyGen, keyGen, shared, shared}, nil
}

func mlkemOps() ([]pkOp, error) {
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		return nil, err
	}
	ek := dk.EncapsulationKey().Bytes()
	_, ct := dk.EncapsulationKey().Encapsulate()
	return []pkOp{
		{"ML-KEM-768 key generation", func() error { _, err := mlkem.GenerateKey768(); return err }},
		{"ML-KEM-768 encapsulation", func() error {
			k, err := mlkem.NewEncapsulationKey768(ek)
			if err == nil {
				k.Encapsulate()
			}
			return err
		}},
		{"ML-KEM-768 decapsulation", func() error { _, err := dk.Decapsulate(ct); return err }},
	}, nil
}

// signatureOps are one handshake signature made and verified: ECDSA with
// SHA-256, or RSA-PSS with SHA-256 (rsa_pss_rsae_sha256, which both stacks
// prefer for RSA keys).
func signatureOps(key crypto.Signer) ([]pkOp, error) {
	digest := sha256.Sum256([]byte("signed content"))
	var opts crypto.SignerOpts = crypto.SHA256
	pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	name := "ECDSA P-256"
	if _, ok := key.Public().(*rsa.PublicKey); ok {
		opts, name = pss, "RSA-2048 PSS"
	}
	sig, err := key.Sign(rand.Reader, digest[:], opts)
	if err != nil {
		return nil, err
	}
	verify := func() error {
		switch pub := key.Public().(type) {
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, digest[:], sig) {
				return errors.New("ECDSA signature does not verify")
			}
			return nil
		case *rsa.PublicKey:
			return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, pss)
		}
		return fmt.Errorf("no verifier for %T", key.Public())
	}
	if err := verify(); err != nil {
		return nil, err
	}
	return []pkOp{
		{name + " sign", func() error { _, err := key.Sign(rand.Reader, digest[:], opts); return err }},
		{name + " verify", verify},
	}, nil
}

// certOp checks the leaf's signature with the CA's ECDSA P-256 key.
func certOp(leaf *pki.Leaf, ca *pki.Authority) (pkOp, error) {
	pub, ok := ca.Cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || leaf.Cert.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		return pkOp{}, fmt.Errorf("the CA signs with %v, not ECDSA with SHA-256", leaf.Cert.SignatureAlgorithm)
	}
	digest := sha256.Sum256(leaf.Cert.RawTBSCertificate)
	op := pkOp{"ECDSA P-256 verify", func() error {
		if !ecdsa.VerifyASN1(pub, digest[:], leaf.Cert.Signature) {
			return errors.New("the certificate's signature does not verify")
		}
		return nil
	}}
	return op, op.run()
}

// rsaKexOps are the RSA key exchange: the pre-master secret encrypted to
// the server's key and decrypted as both stacks do (no distinguishable
// error, RFC 5246 §7.4.7.1).
func rsaKexOps(key crypto.Signer) ([]pkOp, error) {
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("RSA key exchange with a %T key", key)
	}
	preMaster := make([]byte, 48)
	rand.Read(preMaster)
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, preMaster)
	if err != nil {
		return nil, err
	}
	return []pkOp{
		{"RSA-2048 PKCS#1 v1.5 encrypt", func() error {
			_, err := rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, preMaster)
			return err
		}},
		{"RSA-2048 PKCS#1 v1.5 decrypt", func() error {
			_, err := priv.Decrypt(rand.Reader, ct, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 48})
			return err
		}},
	}, nil
}

// timeBound runs the list reps times and returns the process CPU time of
// one pass, the clock the handshakes are measured with. Zero for no ops.
func timeBound(ops []pkOp, reps int) (time.Duration, error) {
	if len(ops) == 0 || reps < 1 {
		return 0, nil
	}
	start := processCPU()
	for range reps {
		for _, op := range ops {
			if err := op.run(); err != nil {
				return 0, fmt.Errorf("%s: %w", op.prim, err)
			}
		}
	}
	return (processCPU() - start) / time.Duration(reps), nil
}
