// Package pki makes certificate authorities, certificates and keys in
// code, for tests, the demo and the command line's generated certificates.
//
// FOR TESTS AND DEMOS ONLY. NEVER USE THESE KEYS OR CERTIFICATES FOR ANYTHING REAL.
// RSA-2048 keys are slow to generate, so the package keeps a small pool of
// them per process and hands the same keys out again and again: two
// certificates made in one process may share a private key. Keys are not
// protected in any way.
//
// Because pooled keys repeat, every CA's subject carries a unique serial
// number besides its common name: two CAs given the same name still have
// different distinguished names, so a certificate from one never chains to
// the other even when they happen to share a key.
package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// KeyType says which kind of key a certificate gets.
type KeyType int

const (
	RSA2048 KeyType = iota
	ECDSAP256
	ECDSAP384
	Ed25519
)

func (kt KeyType) String() string {
	switch kt {
	case RSA2048:
		return "RSA-2048"
	case ECDSAP256:
		return "ECDSA-P256"
	case ECDSAP384:
		return "ECDSA-P384"
	case Ed25519:
		return "Ed25519"
	}
	return fmt.Sprintf("KeyType(%d)", int(kt))
}

// Authority is a CA that issues certificates: a root made by NewCA or an
// intermediate made by NewIntermediate.
type Authority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	DER  []byte
	// Pool holds the root at the top of this authority's chain: the trust
	// anchors that verify anything it issues. For a root, that is itself.
	Pool *x509.CertPool

	// above holds the DER of the CAs above this one, nearest first, up to
	// and including the root; empty for a root.
	above [][]byte
}

// Leaf is an end-entity certificate and its key.
type Leaf struct {
	// Chain is the leaf's DER first, then the issuing CA's, then any CAs
	// above it up to and including the root: what a TLS Certificate message
	// carries (RFC 8446 §4.4.2 allows sending the root too).
	Chain [][]byte
	Key   crypto.Signer
	Cert  *x509.Certificate
}

// LeafOptions describe a certificate to issue. Zero values get defaults.
type LeafOptions struct {
	KeyType  KeyType
	DNSNames []string
	IPs      []net.IP
	// ExtKeyUsage defaults (when nil) to ServerAuth; Server and Client set
	// ServerAuth and ClientAuth. A non-nil empty slice means no EKU
	// extension at all.
	ExtKeyUsage []x509.ExtKeyUsage
	// NotBefore defaults to an hour ago and NotAfter to a day from now.
	NotBefore, NotAfter time.Time
	// CommonName defaults to the first DNS name, else the first IP, else
	// "tlsflow test leaf".
	CommonName string
	// MustStaple adds RFC 7633's TLS feature extension with
	// status_request: a client must get a verified OCSP staple with it.
	MustStaple bool
}

// caValidity is long enough for any test run or demo session.
const caValidity = 10 * 365 * 24 * time.Hour

// NewCA makes a self-signed root CA with the given common name and key type.
func NewCA(name string, kt KeyType) (*Authority, error) {
	key, err := newKey(kt)
	if err != nil {
		return nil, fmt.Errorf("testpki: CA %q: %w", name, err)
	}
	tmpl, err := caTemplate(name)
	if err != nil {
		return nil, fmt.Errorf("testpki: CA %q: %w", name, err)
	}
	der, cert, err := create(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("testpki: CA %q: %w", name, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &Authority{Cert: cert, Key: key, DER: der, Pool: pool}, nil
}

// NewIntermediate makes a CA certified by a. Its Pool is a's Pool: leaves
// it issues verify against the root, with the intermediates in their Chain.
func (a *Authority) NewIntermediate(name string, kt KeyType) (*Authority, error) {
	key, err := newKey(kt)
	if err != nil {
		return nil, fmt.Errorf("testpki: intermediate CA %q: %w", name, err)
	}
	tmpl, err := caTemplate(name)
	if err != nil {
		return nil, fmt.Errorf("testpki: intermediate CA %q: %w", name, err)
	}
	der, cert, err := create(tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return nil, fmt.Errorf("testpki: intermediate CA %q: %w", name, err)
	}
	above := append([][]byte{a.DER}, a.above...)
	return &Authority{Cert: cert, Key: key, DER: der, Pool: a.Pool, above: above}, nil
}

// Issue makes a leaf certificate signed by a.
func (a *Authority) Issue(opts LeafOptions) (*Leaf, error) {
	key, err := newKey(opts.KeyType)
	if err != nil {
		return nil, fmt.Errorf("testpki: leaf: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, fmt.Errorf("testpki: leaf: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: opts.CommonName},
		DNSNames:     opts.DNSNames,
		IPAddresses:  opts.IPs,
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  opts.ExtKeyUsage,
	}
	if tmpl.Subject.CommonName == "" {
		switch {
		case len(opts.DNSNames) > 0:
			tmpl.Subject.CommonName = opts.DNSNames[0]
		case len(opts.IPs) > 0:
			tmpl.Subject.CommonName = opts.IPs[0].String()
		default:
			tmpl.Subject.CommonName = "tlsflow test leaf"
		}
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(24 * time.Hour)
	}
	if tmpl.ExtKeyUsage == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if opts.MustStaple {
		// TLSFeature ::= SEQUENCE OF INTEGER, with status_request (5).
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{
			Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}, Value: []byte{0x30, 0x03, 0x02, 0x01, 0x05}})
	}
	if opts.KeyType == RSA2048 {
		// The TLS 1.2 RSA key exchange encrypts to this key; OpenSSL
		// checks for keyEncipherment when keyUsage is present.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	der, cert, err := create(tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return nil, fmt.Errorf("testpki: leaf %q: %w", tmpl.Subject.CommonName, err)
	}
	chain := append([][]byte{der, a.DER}, a.above...)
	return &Leaf{Chain: chain, Key: key, Cert: cert}, nil
}

// Server issues a server certificate (EKU serverAuth) for names, each a DNS
// name or an IP address.
func (a *Authority) Server(kt KeyType, names ...string) (*Leaf, error) {
	opts := LeafOptions{KeyType: kt, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			opts.IPs = append(opts.IPs, ip)
		} else {
			opts.DNSNames = append(opts.DNSNames, n)
		}
	}
	return a.Issue(opts)
}

// Client issues a client certificate (EKU clientAuth) with the given
// common name.
func (a *Authority) Client(kt KeyType, commonName string) (*Leaf, error) {
	return a.Issue(LeafOptions{
		KeyType:     kt,
		CommonName:  commonName,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// MustNewCA is NewCA for test fixtures: it panics on error.
func MustNewCA(name string, kt KeyType) *Authority { return must(NewCA(name, kt)) }

// MustNewIntermediate is NewIntermediate that panics on error.
func (a *Authority) MustNewIntermediate(name string, kt KeyType) *Authority {
	return must(a.NewIntermediate(name, kt))
}

// MustIssue is Issue that panics on error.
func (a *Authority) MustIssue(opts LeafOptions) *Leaf { return must(a.Issue(opts)) }

// MustServer is Server that panics on error.
func (a *Authority) MustServer(kt KeyType, names ...string) *Leaf {
	return must(a.Server(kt, names...))
}

// MustClient is Client that panics on error.
func (a *Authority) MustClient(kt KeyType, commonName string) *Leaf {
	return must(a.Client(kt, commonName))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// CertPEM returns the authority's certificate in PEM, for a CA file given to
// openssl (-CAfile) or any other peer.
func (a *Authority) CertPEM() []byte { return certPEM(a.DER) }

// CertPEM returns the leaf certificate alone in PEM (openssl -cert).
func (l *Leaf) CertPEM() []byte { return certPEM(l.Chain[0]) }

// ChainPEM returns the whole Chain in PEM, leaf first (openssl
// -cert_chain, or a full-chain file).
func (l *Leaf) ChainPEM() []byte {
	var b bytes.Buffer
	for _, der := range l.Chain {
		b.Write(certPEM(der))
	}
	return b.Bytes()
}

// KeyPEM returns the private key as an unencrypted PKCS #8 "PRIVATE KEY"
// PEM block (openssl -key). It panics if Key was replaced by one that PKCS
// #8 cannot hold, such as a hardware key: keys made here always can.
func (l *Leaf) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		panic(fmt.Sprintf("testpki: KeyPEM: %T key: %v", l.Key, err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func caTemplate(name string) (*x509.Certificate, error) {
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		// The subject serial number makes every CA's name unique (see the
		// package comment).
		Subject: pkix.Name{
			CommonName:   name,
			Organization: []string{"tlsflow test PKI"},
			SerialNumber: serial.Text(16),
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil
}

// create signs tmpl with signer as parent and parses the result back.
func create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) ([]byte, *x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("creating certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the certificate just made: %w", err)
	}
	return der, cert, nil
}

// serialNumber is a random positive 127-bit integer (RFC 5280 §4.1.2.2
// allows up to 20 octets).
func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("drawing a serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func newKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case RSA2048:
		return pooledRSAKey()
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case Ed25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	}
	return nil, fmt.Errorf("unknown key type %v", kt)
}

// rsaPoolSize RSA-2048 keys are generated on first use, each at most once
// per process, and handed out in turn. TEST KEYS ONLY.
const rsaPoolSize = 6

var (
	rsaPool [rsaPoolSize]struct {
		once sync.Once
		key  *rsa.PrivateKey
		err  error
	}
	rsaNext atomic.Uint32
)

func pooledRSAKey() (*rsa.PrivateKey, error) {
	slot := &rsaPool[(rsaNext.Add(1)-1)%rsaPoolSize]
	slot.once.Do(func() {
		slot.key, slot.err = rsa.GenerateKey(rand.Reader, 2048)
	})
	if slot.err != nil {
		return nil, fmt.Errorf("generating an RSA-2048 key: %w", slot.err)
	}
	return slot.key, nil
}
