package probe

import (
	"context"
	"fmt"
	"slices"
)

// suites finds, for each accepted version, the cipher suites the server
// accepts in the order it prefers them: offer every suite, note the one it
// chooses, offer the rest, until it refuses (one hello per accepted suite,
// plus one). Then one hello with the accepted suites reversed tells
// whether that order is the server's or just the client's.
func (p *prober) suites(ctx context.Context) {
	for _, v := range probedVersions {
		if !p.report.accepted(v) {
			continue
		}
		so := SuiteOrder{Version: versionName(v), version: v}
		order, ok := p.suiteOrder(ctx, v)
		for _, id := range order {
			so.Suites = append(so.Suites, SuiteInfo{Name: suiteName(id), ID: fmt.Sprintf("0x%04x", id), Rating: rateSuite(id), id: id})
		}
		if ok && len(order) > 1 {
			so.ServerOrder = p.whoseOrder(ctx, v, order)
		}
		p.report.CipherSuites = append(p.report.CipherSuites, so)
	}
}

// suiteOrder returns the suites v accepts, most preferred first; ok is false
// when the probe had to stop early.
func (p *prober) suiteOrder(ctx context.Context, v uint16) (order []uint16, ok bool) {
	offer := offerFor(v)
	for len(offer) > 0 {
		a, err := p.hello(ctx, versionSpec(v, offer))
		if err != nil {
			if stop(p.report, "cipher suites", err) {
				return order, false
			}
			return order, true // a hang-up instead of an alert: nothing more accepted
		}
		if a.hello == nil || negotiated(a.hello) != v {
			return order, true
		}
		chosen := a.hello.CipherSuite
		i := slices.Index(offer, chosen)
		if i < 0 {
			p.report.incomplete("cipher suites", "%s: the server chose %s, which was not offered", versionName(v), suiteName(chosen))
			return order, false
		}
		order = append(order, chosen)
		offer = slices.Delete(offer, i, i+1)
	}
	return order, true
}

// whoseOrder offers the accepted suites in reverse: a server with its own
// order still picks its first, one that follows the client picks ours.
func (p *prober) whoseOrder(ctx context.Context, v uint16, order []uint16) string {
	reversed := slices.Clone(order)
	slices.Reverse(reversed)
	a, err := p.hello(ctx, versionSpec(v, reversed))
	if err != nil || a.hello == nil {
		if err != nil {
			stop(p.report, "cipher suites", err)
		}
		return ""
	}
	switch a.hello.CipherSuite {
	case order[0]:
		return "server"
	case reversed[0]:
		return "client"
	}
	return "mixed"
}
