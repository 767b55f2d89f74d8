package probe

import (
	"context"
	"slices"
)

// downgrade asks whether the server refuses a fallback (RFC 7507): a
// client that retries with a lower version after a failed handshake adds
// TLS_FALLBACK_SCSV, and a server that supports a higher version must then
// answer inappropriate_fallback, so that a man in the middle who broke the
// first attempt gains nothing. The hello offers the second-highest accepted
// version. (The RFC 8446 §4.1.3 sentinels are read in the versions stage.)
func (p *prober) downgrade(ctx context.Context) {
	var accepted []uint16
	for _, v := range probedVersions {
		if v >= versionTLS10 && p.report.accepted(v) {
			accepted = append(accepted, v)
		}
	}
	if len(accepted) < 2 {
		return // nothing to fall back to
	}
	lower := accepted[len(accepted)-2]
	suites := p.report.suitesFor(lower)
	if len(suites) == 0 {
		suites = offerFor(lower)
	}
	spec := versionSpec(lower, append(slices.Clone(suites), fallbackSCSV))
	a, err := p.hello(ctx, spec)
	switch {
	case err != nil:
		stop(p.report, "downgrade protection", err)
	case a.alert != nil && a.alert.description == alertInappropriateFallbk:
		p.report.FallbackSCSV = ptr(true)
	case a.alert != nil:
		p.report.incomplete("downgrade protection", "the fallback hello (%s) was refused with %s, not inappropriate_fallback",
			versionName(lower), a.alert)
	default:
		p.report.FallbackSCSV = ptr(negotiated(a.hello) != lower)
	}
}
