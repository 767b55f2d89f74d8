package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// group is a named group (IANA TLS Supported Groups registry).
type group struct {
	ID   uint16
	Name string
}

const groupX25519 uint16 = 0x001d

// groups12 are asked for in TLS 1.2 (RFC 8422 §5.1.1; the brainpool curves
// RFC 7027). Finite-field groups are not: in TLS 1.2 the server sends its
// own DH parameters whatever the client names.
var groups12 = []group{
	{0x001d, "x25519"}, {0x0017, "secp256r1"}, {0x0018, "secp384r1"}, {0x0019, "secp521r1"},
	{0x001e, "x448"}, {0x001a, "brainpoolP256r1"}, {0x001b, "brainpoolP384r1"}, {0x001c, "brainpoolP512r1"},
}

// groups13 are asked for in TLS 1.3 (RFC 8446 §4.2.7, RFC 7919, RFC 8734,
// draft-ietf-tls-ecdhe-mlkem and draft-ietf-tls-mlkem).
var groups13 = []group{
	{0x11ec, "X25519MLKEM768"}, {0x11eb, "SecP256r1MLKEM768"}, {0x11ed, "SecP384r1MLKEM1024"},
	{0x001d, "x25519"}, {0x0017, "secp256r1"}, {0x0018, "secp384r1"}, {0x0019, "secp521r1"},
	{0x001e, "x448"}, {0x001f, "brainpoolP256r1tls13"}, {0x0020, "brainpoolP384r1tls13"},
	{0x0021, "brainpoolP512r1tls13"}, {0x0100, "ffdhe2048"}, {0x0101, "ffdhe3072"},
	{0x0102, "ffdhe4096"}, {0x0103, "ffdhe6144"}, {0x0104, "ffdhe8192"},
	{0x0200, "MLKEM512"}, {0x0201, "MLKEM768"}, {0x0202, "MLKEM1024"},
}

func groupIDs(list []group) []uint16 {
	ids := make([]uint16, len(list))
	for i, g := range list {
		ids[i] = g.ID
	}
	return ids
}

// groupName is the IANA name of a group in the lists.
func groupName(id uint16) string {
	for _, list := range [][]group{groups13, groups12} {
		for _, g := range list {
			if g.ID == id {
				return g.Name
			}
		}
	}
	return fmt.Sprintf("0x%04x", id)
}

// groups asks, one group per hello, which groups each version accepts; in
// TLS 1.3 also which group the server wants when the client sends no key
// share at all (RFC 8446 §4.2.8: it must answer with a HelloRetryRequest).
func (p *prober) groups(ctx context.Context) {
	if p.report.accepted(versionTLS13) {
		p.groups13(ctx)
	}
	if p.report.accepted(versionTLS12) {
		p.groups12(ctx)
	}
}

func (p *prober) groups13(ctx context.Context) {
	r := p.report
	res := GroupResult{Version: versionName(versionTLS13)}
	suites := r.suitesFor(versionTLS13)
	if len(suites) == 0 {
		suites = offerFor(versionTLS13)
	}
	for _, g := range groups13 {
		spec := versionSpec(versionTLS13, suites)
		spec.groups = []uint16{g.ID}
		spec.keyShares = nil // an empty client_shares: the server must ask (RFC 8446 §4.2.8)
		if kex.Supported(g.ID) {
			spec.keyShares = []uint16{g.ID}
		}
		a, err := p.hello(ctx, spec)
		if err != nil {
			if stop(r, "groups", err) {
				break
			}
			continue
		}
		if a.hello != nil && negotiated(a.hello) == versionTLS13 && serverGroup(a.hello) == g.ID {
			res.Accepted = append(res.Accepted, g.Name)
			res.ids = append(res.ids, g.ID)
		}
	}
	r.Groups = append(r.Groups, res)

	// Every group offered, no share: which one does the server ask for?
	spec := versionSpec(versionTLS13, suites)
	spec.keyShares = nil
	a, err := p.hello(ctx, spec)
	switch {
	case err != nil:
		stop(r, "groups", err)
	case a.hello != nil && a.hello.IsHelloRetryRequest():
		r.HelloRetryGroup = groupName(serverGroup(a.hello))
	case a.alert != nil:
		r.HelloRetryGroup = "none: alert " + a.alert.String()
	}
}

// serverGroup is the group of a TLS 1.3 ServerHello's key_share, or of a
// HelloRetryRequest's selected_group.
func serverGroup(sh *wire.ServerHello) uint16 {
	if sh.IsHelloRetryRequest() {
		var k wire.KeyShareHelloRetryRequest
		if found, err := sh.Extensions.Decode(wire.ExtKeyShare, &k); found && err == nil {
			return k.SelectedGroup
		}
		return 0
	}
	var k wire.KeyShareServerHello
	if found, err := sh.Extensions.Decode(wire.ExtKeyShare, &k); found && err == nil {
		return k.Group
	}
	return 0
}

// groups12 offers the accepted ECDHE suites with one curve at a time and
// reads the curve from the ServerKeyExchange (RFC 8422 §5.4). In TLS 1.2
// the list also names the curves the client can verify ECDSA signatures on
// (RFC 8422 §5.1.1), so a server with only an ECDSA certificate accepts a
// curve alone only if it is the certificate's: what is found is what a
// client offering that one curve gets, as with testssl.sh.
func (p *prober) groups12(ctx context.Context) {
	r := p.report
	ecdhe := ecdheSuites(r.suitesFor(versionTLS12))
	if len(ecdhe) == 0 {
		return // no ECDHE suite: TLS 1.2 uses no named group
	}
	res := GroupResult{Version: versionName(versionTLS12)}
	for _, g := range groups12 {
		spec := versionSpec(versionTLS12, ecdhe)
		spec.groups = []uint16{g.ID}
		spec.until = wire.TypeServerKeyExchange
		a, err := p.hello(ctx, spec)
		if err != nil {
			if stop(r, "groups", err) {
				break
			}
			continue
		}
		if a.skx != nil && a.skx.Group == g.ID {
			res.Accepted = append(res.Accepted, g.Name)
			res.ids = append(res.ids, g.ID)
		}
	}
	r.Groups = append(r.Groups, res)
}

// ecdheSuites keeps the ECDHE suites of ids.
func ecdheSuites(ids []uint16) []uint16 {
	var out []uint16
	for _, id := range ids {
		if strings.HasPrefix(suiteName(id), "TLS_ECDHE_") {
			out = append(out, id)
		}
	}
	return out
}

// stop records why a stage lost a probe and says whether the stage must
// end: the budget is used up or the probe was cancelled. A hello without
// an answer counts as refused: some servers hang up on a hello they do not
// like instead of sending an alert.
func stop(r *Report, stage string, err error) bool {
	if errors.Is(err, errBudget) || errors.Is(err, context.Canceled) {
		r.incomplete(stage, "%v", err)
		return true
	}
	if !errors.Is(err, errNoAnswer) {
		r.incomplete(stage, "%v", err)
	}
	return false
}

func isBudget(err error) bool { return errors.Is(err, errBudget) }
