package tlsflow_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Attacks with certificates whose keys tlsflow cannot use: keys crypto/x509
// does not parse, and RSA moduli too large to verify with at a sane cost.

// unparseableKeys are SubjectPublicKeyInfos crypto/x509 leaves as a nil
// PublicKey: a chain with one still verifies, since only the CA's key
// signs it.
var unparseableKeys = []struct {
	name string
	spki func() []byte
}{
	{"RSA-PSS", testpeer.RSAPSSSPKI},
	{"Ed448", testpeer.Ed448SPKI},
	{"ML-DSA-65", testpeer.MLDSA65SPKI},
}

// forgedChain is a chain from the shared CA whose leaf has the given SPKI.
func forgedChain(t *testing.T, spki []byte, usage x509.ExtKeyUsage) [][]byte {
	t.Helper()
	ca := sharedCerts().ca
	leaf, err := testpeer.CertWithSPKI(issuer(ca), testpeer.Template("forged", []x509.ExtKeyUsage{usage}, "localhost"), spki)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{leaf, ca.DER}
}

var requestingModes = []struct {
	name string
	auth tlsflow.ClientAuthType
}{
	{"RequestClientCert", tlsflow.RequestClientCert},
	{"RequireAnyClientCert", tlsflow.RequireAnyClientCert},
	{"VerifyClientCertIfGiven", tlsflow.VerifyClientCertIfGiven},
	{"RequireAndVerifyClientCert", tlsflow.RequireAndVerifyClientCert},
}

// TestServerRefusesClientCertificateWithUnusableKey: a client presents a
// chain its server's ClientCAs issued, but the leaf's key is one the
// server cannot parse, so it cannot check a CertificateVerify either. The
// client leaves CertificateVerify out and finishes with the right keys.
// The server must refuse the certificate itself with unsupported_certificate
// (RFC 5246 §7.4.6, RFC 8446 §4.4.2.4: a certificate the server cannot
// use), at the client Certificate (step 5), under every ClientAuth mode
// that asks for one; today it completes the handshake with a client that
// proved nothing.
func TestServerRefusesClientCertificateWithUnusableKey(t *testing.T) {
	for _, v := range versions {
		for _, mode := range requestingModes {
			for _, key := range unparseableKeys {
				t.Run(v.name+"/"+mode.name+"/"+key.name, func(t *testing.T) {
					cfg := tlsflowServerConfig(v.v)
					cfg.ClientAuth, cfg.ClientCAs = mode.auth, sharedCerts().ca.Pool
					p, done := hostileClient(t, cfg, nil)
					o := &testpeer.ClientOptions{
						Chain:  forgedChain(t, key.spki(), x509.ExtKeyUsageClientAuth),
						Script: testpeer.Script{Skip: testpeer.SkipType(wire.TypeCertificateVerify)},
					}
					flowErr := clientHandshake(p, v.v, o)
					wantVictimAlert(t, "server", done, sent(alert.UnsupportedCertificate, 5, "Certificate"))
					wantPeerAlert(t, p, flowErr, alert.UnsupportedCertificate)
				})
			}
		}
	}
}

// TestServerRequiresCertificateVerifyForUsableClientKey: a client with a
// usable ECDSA certificate that skips CertificateVerify has proved nothing;
// the TLS 1.2 server waits for the CertificateVerify and fails on the
// ChangeCipherSpec that comes instead (RFC 5246 §7.4.8: required after a
// certificate with signing capability).
func TestServerRequiresCertificateVerifyForUsableClientKey(t *testing.T) {
	for _, mode := range requestingModes {
		t.Run(mode.name, func(t *testing.T) {
			cfg := tlsflowServerConfig(tlsflow.VersionTLS12)
			cfg.ClientAuth, cfg.ClientCAs = mode.auth, sharedCerts().ca.Pool
			p, done := hostileClient(t, cfg, nil)
			o := &testpeer.ClientOptions{
				Chain:  sharedCerts().client.Chain,
				Signer: sharedCerts().client.Key,
				Script: testpeer.Script{Skip: testpeer.SkipType(wire.TypeCertificateVerify)},
			}
			flowErr := p.ClientHandshake12(o)
			wantVictimAlert(t, "server", done, sent(alert.UnexpectedMessage, anyStep, ""))
			wantPeerAlert(t, p, flowErr, alert.UnexpectedMessage)
		})
	}
}

// TestClientRefusesServerCertificateWithUnusableKey: a hostile server
// presents a valid chain whose leaf key the client cannot parse. The
// client must refuse the certificate with unsupported_certificate at the
// server's Certificate (step 3), whether it verifies chains or not
// (InsecureSkipVerify): it can never check the server's signature.
func TestClientRefusesServerCertificateWithUnusableKey(t *testing.T) {
	for _, v := range versions {
		for _, insecure := range []bool{false, true} {
			for _, key := range unparseableKeys {
				name := fmt.Sprintf("%s/InsecureSkipVerify=%v/%s", v.name, insecure, key.name)
				t.Run(name, func(t *testing.T) {
					cfg := tlsflowClientConfig(v.v)
					cfg.InsecureSkipVerify = insecure
					p, done := hostileServer(t, cfg, nil)
					flowErr := serverHandshake(p, v.v, &testpeer.ServerOptions{
						Chain: forgedChain(t, key.spki(), x509.ExtKeyUsageServerAuth)})
					wantVictimAlert(t, "client", done, sent(alert.UnsupportedCertificate, 3, "Certificate"))
					wantPeerAlert(t, p, flowErr, alert.UnsupportedCertificate)
				})
			}
		}
	}
}

var bigRSACache sync.Map // "leaf/8193/usage" -> [][]byte

// bigRSA makes a chain whose leaf, or intermediate, has an RSA modulus of
// the given size (fake: no private key, no key generation). The leaf of
// the intermediate case has a real ECDSA key (the shared client's) but a
// signature that the big key cannot verify, so that chain can only fail.
func bigRSA(t *testing.T, where string, bits int, usage x509.ExtKeyUsage) [][]byte {
	t.Helper()
	key := fmt.Sprintf("%s/%d/%d", where, bits, usage)
	if c, ok := bigRSACache.Load(key); ok {
		return c.([][]byte)
	}
	ca := sharedCerts().ca
	var chain [][]byte
	switch where {
	case "leaf":
		der, err := testpeer.CertWithKey(issuer(ca), testpeer.Template("big RSA leaf", []x509.ExtKeyUsage{usage}, "localhost"), testpeer.FakeRSAKey(bits))
		if err != nil {
			t.Fatal(err)
		}
		chain = [][]byte{der, ca.DER}
	case "intermediate":
		inter, err := testpeer.CertWithKey(issuer(ca), testpeer.IntermediateTemplate("big RSA intermediate"), testpeer.FakeRSAKey(bits))
		if err != nil {
			t.Fatal(err)
		}
		interCert, err := x509.ParseCertificate(inter)
		if err != nil {
			t.Fatal(err)
		}
		// Signed as if by the intermediate's key (RSA, a signature as long
		// as its modulus), so that checking it means an RSA verification
		// with the big key.
		leafKey := sharedCerts().client.Key
		leaf, err := testpeer.IssuedBy(interCert, testpeer.Template("leaf", []x509.ExtKeyUsage{usage}, "localhost"),
			leafKey.Public(), sharedCerts().rsa.Key)
		if err == nil {
			leaf, err = testpeer.ForgeSignature(leaf, (bits+7)/8)
		}
		if err != nil {
			t.Fatal(err)
		}
		chain = [][]byte{leaf, inter, ca.DER}
	}
	bigRSACache.Store(key, chain)
	return chain
}

// sizeWords are what an error refusing a key for its size would say.
var sizeWords = []string{"modulus", "too large", "too big", "exceeds", "limit", "at most"}

func mentionsSize(err error) bool {
	s := strings.ToLower(err.Error())
	for _, w := range sizeWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// TestPeerRSAKeysAboveTheLimitAreRefusedBeforeAnySignatureCheck: an RSA
// key of limits.Default.RSABits+1 bits anywhere in the peer's chain (leaf
// or intermediate) is refused with unsupported_certificate at the
// Certificate, before any signature is checked with it: verifying with a
// huge modulus costs the verifier CPU the peer chooses (CVE-2023-29409's
// class). Both sides, both versions. At the limit the key is not refused
// for its size: the handshake fails later for another reason (these keys
// are fake, so a signature or the chain does not verify).
func TestPeerRSAKeysAboveTheLimitAreRefusedBeforeAnySignatureCheck(t *testing.T) {
	for _, v := range versions {
		for _, where := range []string{"leaf", "intermediate"} {
			for _, bits := range []int{limits.Default.RSABits, limits.Default.RSABits + 1} {
				over := bits > limits.Default.RSABits
				name := fmt.Sprintf("%s/%s/%d", v.name, where, bits)
				t.Run("server refuses client/"+name, func(t *testing.T) {
					cfg := tlsflowServerConfig(v.v)
					cfg.ClientAuth, cfg.ClientCAs = tlsflow.RequireAndVerifyClientCert, sharedCerts().ca.Pool
					p, done := hostileClient(t, cfg, nil)
					flowErr := clientHandshake(p, v.v, &testpeer.ClientOptions{Chain: bigRSA(t, where, bits, x509.ExtKeyUsageClientAuth)})
					checkRSASizeOutcome(t, "server", done, over, 5)
					if over {
						wantPeerAlert(t, p, flowErr, alert.UnsupportedCertificate)
					}
				})
				t.Run("client refuses server/"+name, func(t *testing.T) {
					p, done := hostileServer(t, tlsflowClientConfig(v.v), nil)
					o := &testpeer.ServerOptions{Chain: bigRSA(t, where, bits, x509.ExtKeyUsageServerAuth)}
					if where == "intermediate" {
						o.Signer = sharedCerts().client.Key // the leaf's real key
					}
					flowErr := serverHandshake(p, v.v, o)
					checkRSASizeOutcome(t, "client", done, over, 3)
					if over {
						wantPeerAlert(t, p, flowErr, alert.UnsupportedCertificate)
					}
				})
			}
		}
	}
}

func checkRSASizeOutcome(t *testing.T, who string, done <-chan error, over bool, step int) {
	t.Helper()
	if over {
		wantVictimAlert(t, who, done, sent(alert.UnsupportedCertificate, step, "Certificate"))
		return
	}
	err := victimErr(t, done)
	if err == nil {
		t.Fatalf("%s: a handshake with a fake RSA key completed", who)
	}
	var ae *tlsflow.Error
	if errors.As(err, &ae) && ae.Alert == alert.UnsupportedCertificate || mentionsSize(err) {
		t.Errorf("%s: a key of exactly limits.Default.RSABits (%d) bits was refused for its size: %v; want a failure for another reason",
			who, limits.Default.RSABits, err)
	}
}
