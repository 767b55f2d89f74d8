package probe

import (
	"context"
	"slices"
	"strings"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// records asks how the server handles the record layer: a ClientHello
// split over small records (RFC 5246 §6.2.1: "Client message boundaries
// are not preserved in the record layer"; a server that cannot reassemble
// breaks clients with large hellos, post-quantum key shares among them),
// and record_size_limit (RFC 8449), in the TLS 1.2 ServerHello or the TLS
// 1.3 EncryptedExtensions.
func (p *prober) records(ctx context.Context) {
	r := p.report
	v := versionTLS13
	if !r.accepted(v) {
		v = versionTLS12
	}
	if !r.accepted(v) {
		return
	}
	suites := r.suitesFor(v)
	if len(suites) == 0 {
		suites = offerFor(v)
	}
	spec := versionSpec(v, suites)
	spec.fragment = 64
	a, err := p.hello(ctx, spec)
	switch {
	case err != nil && stop(r, "records", err):
		return
	case err == nil:
		r.Records.FragmentedHello = ptr(a.hello != nil)
	}
	if r.accepted(versionTLS12) {
		spec := versionSpec(versionTLS12, r.suitesFor(versionTLS12))
		if len(spec.suites) == 0 {
			spec.suites = offerFor(versionTLS12)
		}
		spec.recordSizeLimit = 512
		a, err := p.hello(ctx, spec)
		if err != nil {
			if stop(r, "records", err) {
				return
			}
		} else if a.hello != nil && negotiated(a.hello) == versionTLS12 {
			r.Records.RecordSizeLimit = ptr(a.hello.Extensions.Has(wire.ExtRecordSizeLimit))
			if *r.Records.RecordSizeLimit {
				r.Records.RecordSizeLimitIn = "TLS 1.2 ServerHello"
				return
			}
		}
	}
	if r.accepted(versionTLS13) {
		// In TLS 1.3 the answer is encrypted: a tlsflow handshake, whose
		// trace lists EncryptedExtensions' extensions.
		var inEE bool
		cfg := &tlsflow.Config{MinVersion: tlsflow.VersionTLS13, RecordSizeLimit: 512, Trace: func(e trace.Event) {
			if e.Kind == trace.KindMessage && e.Message == "EncryptedExtensions" {
				i := slices.IndexFunc(e.Fields, func(f trace.Field) bool { return f.Name == "extensions" })
				inEE = i >= 0 && strings.Contains(e.Fields[i].Value, "record_size_limit")
			}
		}}
		conn, done, err := p.handshake(ctx, cfg)
		if err != nil {
			stop(r, "records", err)
			return
		}
		_ = conn
		done()
		if inEE {
			r.Records.RecordSizeLimit, r.Records.RecordSizeLimitIn = ptr(true), "TLS 1.3 EncryptedExtensions"
		} else if r.Records.RecordSizeLimit == nil {
			r.Records.RecordSizeLimit = ptr(false)
		}
	}
}
