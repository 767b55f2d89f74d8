package probe

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// CertReport is the server's certificate chain as sent, and what is wrong
// with it.
type CertReport struct {
	Version string     `json:"version"` // of the handshake that fetched it
	Chain   []CertInfo `json:"chain"`   // in the order sent, leaf first
	// Trusted: the chain leads to a trust anchor (the system's, or --ca).
	Trusted    bool   `json:"trusted"`
	TrustError string `json:"trust_error,omitempty"`
	// Incomplete: the last certificate sent is not self-signed and no
	// anchor issued it: an intermediate is missing (or the issuer is
	// unknown here).
	Incomplete bool `json:"incomplete"`
	SelfSigned bool `json:"self_signed"` // a single self-signed certificate
	// UntrustedRoot: the chain sent holds a self-signed CA that is not a
	// trust anchor here.
	UntrustedRoot bool   `json:"untrusted_root"`
	NameChecked   string `json:"name_checked,omitempty"`
	NameMatches   bool   `json:"name_matches"`
	// Ordered: each certificate is issued by the next one (RFC 8446
	// §4.4.2 only asks that each certifies the one before; RFC 5246 §7.4.2
	// requires the order).
	Ordered     bool      `json:"ordered"`
	Expired     bool      `json:"expired"`
	NotYetValid bool      `json:"not_yet_valid"`
	NotAfter    time.Time `json:"not_after"`
	// DaysLeft is the whole days until NotAfter (negative once expired).
	DaysLeft   int   `json:"days_left"`
	OCSPStaple *bool `json:"ocsp_staple,omitempty"` // nil: not asked (a TLS 1.2 probe hello only)
	SCTs       int   `json:"scts"`                  // from the TLS extension
}

// CertInfo describes one certificate.
type CertInfo struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	Key                string    `json:"key"` // "RSA", "ECDSA", "Ed25519"
	KeyBits            int       `json:"key_bits"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SelfSigned         bool      `json:"self_signed"`
	cert               *x509.Certificate
}

// certificate fetches the chain with a tlsflow handshake (which also shows
// the OCSP staple, the SCTs and the ALPN choice), or, for a server tlsflow
// cannot complete a handshake with (CBC suites only, TLS 1.0...), from the
// plaintext TLS 1.2-and-older Certificate message of a probe hello.
func (p *prober) certificate(ctx context.Context) {
	r := p.report
	cfg := &tlsflow.Config{NextProtos: []string{"h2", "http/1.1"}, CipherSuites: allImplemented()}
	conn, done, err := p.handshake(ctx, cfg)
	if err == nil {
		st := conn.ConnectionState()
		done()
		r.ALPN = st.NegotiatedProtocol
		r.Certificate = p.analyzeChain(st.PeerCertificates)
		r.Certificate.Version = versionName(st.Version)
		r.Certificate.OCSPStaple = ptr(len(st.OCSPResponse) > 0)
		r.Certificate.SCTs = len(st.SignedCertificateTimestamps)
		return
	}
	if stop(r, "certificate", err) {
		return
	}
	libErr := err
	if sh := p.hellos[versionTLS12]; sh != nil {
		if data, ok := sh.Extensions.Find(wire.ExtALPN); ok {
			var alpn wire.ALPN
			if alpn.Unmarshal(data) == nil && len(alpn) == 1 {
				r.ALPN = alpn[0]
			}
		}
	}
	for _, v := range []uint16{versionTLS12, versionTLS11, versionTLS10, versionSSL30} {
		suites := r.suitesFor(v)
		if len(suites) == 0 {
			continue
		}
		spec := versionSpec(v, suites)
		spec.until = wire.TypeServerHelloDone
		a, err := p.hello(ctx, spec)
		if err != nil {
			stop(r, "certificate", err)
			return
		}
		var chain []*x509.Certificate
		for _, der := range a.chain {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				r.incomplete("certificate", "a certificate does not parse: %v", err)
				return
			}
			chain = append(chain, c)
		}
		if len(chain) > 0 {
			r.Certificate = p.analyzeChain(chain)
			r.Certificate.Version = versionName(v)
			return
		}
	}
	r.incomplete("certificate", "no handshake showed the certificate: %v", libErr)
}

// allImplemented is every suite the tlsflow client can complete a handshake
// with, the RSA key exchange included: the certificate stage wants any
// handshake at all.
func allImplemented() []uint16 {
	var ids []uint16
	for _, s := range append(tlsflow.CipherSuites(), tlsflow.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}

// analyzeChain judges a chain as sent.
func (p *prober) analyzeChain(chain []*x509.Certificate) *CertReport {
	name := p.serverName
	if name == "" {
		name = p.host
	}
	return analyzeChain(chain, name, p.opt.RootCAs, p.opt.Now())
}

func analyzeChain(chain []*x509.Certificate, name string, roots *x509.CertPool, now time.Time) *CertReport {
	cr := &CertReport{Ordered: true}
	if len(chain) == 0 {
		cr.TrustError = "the server sent no certificate"
		return cr
	}
	for _, c := range chain {
		cr.Chain = append(cr.Chain, describe(c))
	}
	leaf, last := chain[0], chain[len(chain)-1]
	cr.NotAfter = leaf.NotAfter
	cr.Expired = now.After(leaf.NotAfter)
	cr.NotYetValid = now.Before(leaf.NotBefore)
	cr.DaysLeft = int(leaf.NotAfter.Sub(now).Hours() / 24)
	for i := 0; i+1 < len(chain); i++ {
		if !issued(chain[i+1], chain[i]) {
			cr.Ordered = false
		}
	}
	if name != "" {
		cr.NameChecked = name
		cr.NameMatches = leaf.VerifyHostname(name) == nil
	}
	cr.SelfSigned = len(chain) == 1 && issued(leaf, leaf)
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	// Verify at the nearest moment the leaf is valid, so that an expired
	// chain is reported once, as expired, and its trust is still judged.
	at := now
	switch {
	case cr.Expired:
		at = leaf.NotAfter.Add(-time.Second)
	case cr.NotYetValid:
		at = leaf.NotBefore.Add(time.Second)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	cr.Trusted = err == nil
	if err != nil {
		cr.TrustError = err.Error()
		// Why not, as far as the chain shows: it ends in a self-signed CA
		// that is no anchor here, or nothing sent issued the last
		// certificate (an intermediate is missing, or the CA is unknown).
		selfSignedCA := slices.ContainsFunc(chain[1:], func(c *x509.Certificate) bool { return issued(c, c) })
		cr.UntrustedRoot = selfSignedCA
		cr.Incomplete = !selfSignedCA && !issued(last, last)
	}
	return cr
}

// issued reports whether parent issued child: names chain and the
// signature verifies.
func issued(parent, child *x509.Certificate) bool {
	return bytes.Equal(child.RawIssuer, parent.RawSubject) && child.CheckSignatureFrom(parent) == nil
}

func describe(c *x509.Certificate) CertInfo {
	ci := CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		SignatureAlgorithm: c.SignatureAlgorithm.String(), SelfSigned: issued(c, c), cert: c}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		ci.Key, ci.KeyBits = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		ci.Key, ci.KeyBits = "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		ci.Key, ci.KeyBits = "Ed25519", 256
	default:
		ci.Key = fmt.Sprintf("%v", c.PublicKeyAlgorithm)
	}
	return ci
}
