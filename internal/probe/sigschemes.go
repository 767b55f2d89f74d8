package probe

import (
	"context"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// probedSchemes are asked for one at a time (RFC 8446 §4.2.3 names).
var probedSchemes = []uint16{
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808,
	0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
	0x0401, 0x0501, 0x0601, 0x0201, 0x0203,
}

// signatureSchemes asks which schemes the server signs its handshake with.
// TLS 1.2: a probe hello offering the accepted ECDHE suites and one scheme,
// read up to the ServerKeyExchange, whose signature names the scheme the
// server used (RFC 5246 §7.4.3). TLS 1.3 signs in the encrypted
// CertificateVerify, so there a tlsflow handshake offering one scheme
// tells, for the schemes tlsflow implements.
func (p *prober) signatureSchemes(ctx context.Context) {
	r := p.report
	r.SignatureSchemes = map[string][]string{}
	if ecdhe := ecdheSuites(r.suitesFor(versionTLS12)); len(ecdhe) > 0 {
		var got []string
		for _, s := range probedSchemes {
			spec := versionSpec(versionTLS12, ecdhe)
			spec.sigSchemes = []uint16{s}
			spec.until = wire.TypeServerKeyExchange
			a, err := p.hello(ctx, spec)
			if err != nil {
				if stop(r, "signature schemes", err) {
					return
				}
				continue
			}
			if a.skx != nil && a.skx.SignatureScheme == s {
				got = append(got, signature.Name(s))
			}
		}
		r.SignatureSchemes[versionName(versionTLS12)] = got
	}
	if r.accepted(versionTLS13) {
		var got []string
		var implemented int
		for _, s := range probedSchemes {
			if !signature.Supported(s) || s == 0x0401 || s == 0x0501 || s == 0x0601 {
				continue // not implemented, or PKCS #1 v1.5, which TLS 1.3 forbids here (RFC 8446 §4.2.3)
			}
			implemented++
			// tlsflow sends no separate signature_algorithms_cert, so the
			// one list also says which signatures in certificates the
			// client can check (RFC 8446 §4.2.3), and a server may refuse
			// a chain signed otherwise. The PKCS #1 v1.5 schemes cover
			// RSA-signed chains without allowing them in CertificateVerify.
			cfg := &tlsflow.Config{MinVersion: tlsflow.VersionTLS13, SignatureSchemes: []tlsflow.SignatureScheme{
				tlsflow.SignatureScheme(s), tlsflow.PKCS1WithSHA256, tlsflow.PKCS1WithSHA384, tlsflow.PKCS1WithSHA512}}
			_, done, err := p.handshake(ctx, cfg)
			if err != nil {
				if isBudget(err) || ctx.Err() != nil {
					r.incomplete("signature schemes", "%v", err)
					return
				}
				continue
			}
			done()
			got = append(got, signature.Name(s))
		}
		r.SignatureSchemes[versionName(versionTLS13)] = got
		r.incomplete("signature schemes", "TLS 1.3: only the %d schemes tlsflow implements were asked for", implemented)
	}
}
