package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tlsflow/tlsflow/internal/wire"
)

// probedVersions are asked for oldest first.
var probedVersions = []uint16{versionSSL30, versionTLS10, versionTLS11, versionTLS12, versionTLS13}

// offerFor is the suites a hello for version v offers: TLS 1.3's for TLS
// 1.3; otherwise every suite defined for v.
func offerFor(v uint16) []uint16 {
	if v >= versionTLS13 {
		return suiteIDs(suites13)
	}
	var ids []uint16
	for _, s := range suites12 {
		if !s.TLS12 || v >= versionTLS12 {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func suiteIDs(list []suite) []uint16 {
	ids := make([]uint16, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}

// versionSpec is the hello that asks whether version v is accepted.
func versionSpec(v uint16, suites []uint16) helloSpec {
	spec := helloSpec{version: v, suites: suites, extras: v >= versionTLS10 && v <= versionTLS12}
	switch {
	case v >= versionTLS13:
		spec.groups = groupIDs(groups13)
		spec.keyShares = []uint16{groupX25519}
	case v >= versionTLS10:
		spec.groups = groupIDs(groups12)
	}
	if v == versionTLS12 {
		spec.alpn = []string{"h2", "http/1.1"}
	}
	return spec
}

// negotiated is the version a ServerHello chose (RFC 8446 §4.2.1: in
// supported_versions when present).
func negotiated(sh *wire.ServerHello) uint16 {
	var v wire.SupportedVersionServer
	if found, err := sh.Extensions.Decode(wire.ExtSupportedVersions, &v); found && err == nil {
		return uint16(v)
	}
	return sh.Version
}

// versions sends one hello per version, SSL 3.0 to TLS 1.3. A version is
// accepted when the ServerHello (or HelloRetryRequest) chooses it.
func (p *prober) versions(ctx context.Context) {
	r := p.report
	var firstErr error
	for _, v := range probedVersions {
		vr := VersionResult{Name: versionName(v), ID: fmt.Sprintf("0x%04x", v), version: v}
		a, err := p.hello(ctx, versionSpec(v, offerFor(v)))
		switch {
		case errors.Is(err, errBudget) || ctx.Err() != nil:
			r.incomplete("versions", "%s not probed: %v", vr.Name, err)
			vr.Answer = "not probed"
		case err != nil:
			if firstErr == nil {
				firstErr = err
			}
			vr.Answer = err.Error()
		case a.alert != nil:
			r.Reachable = true
			vr.Answer = "alert " + a.alert.String()
		default:
			r.Reachable = true
			got := negotiated(a.hello)
			vr.Accepted = got == v
			vr.Answer = "ServerHello " + versionName(got)
			if a.hello.IsHelloRetryRequest() {
				vr.Answer = "HelloRetryRequest " + versionName(got)
			}
			if vr.Accepted && v <= versionTLS12 {
				p.hellos[v] = a.hello
			}
		}
		r.Versions = append(r.Versions, vr)
		if vr.Accepted {
			r.AcceptedVersions = append(r.AcceptedVersions, vr.Name)
		}
	}
	if !r.Reachable && firstErr != nil {
		r.Unreachable = firstErr.Error()
	}
	p.helloFindings()
}

// helloFindings reads the TLS 1.2 ServerHello's answers to the offered
// extensions, and the downgrade sentinels of every pre-1.3 ServerHello of a
// TLS 1.3 server.
func (p *prober) helloFindings() {
	r := p.report
	if sh := p.hellos[versionTLS12]; sh != nil {
		r.ExtendedMasterSecret = ptr(sh.Extensions.Has(wire.ExtExtendedMasterSecret))
		r.SecureRenegotiation = ptr(sh.Extensions.Has(wire.ExtRenegotiationInfo))
		r.SessionTicketExt = ptr(sh.Extensions.Has(wire.ExtSessionTicket))
	} else if sh := p.highestOld(); sh != nil {
		r.SecureRenegotiation = ptr(sh.Extensions.Has(wire.ExtRenegotiationInfo))
		r.ExtendedMasterSecret = ptr(sh.Extensions.Has(wire.ExtExtendedMasterSecret))
	}
	if !r.accepted(versionTLS13) {
		return
	}
	marked, seen := true, false
	for v, sh := range p.hellos {
		// RFC 8446 §4.1.3: "DOWNGRD" then 01 when negotiating TLS 1.2, 00
		// when negotiating TLS 1.1 or below.
		want := append([]byte("DOWNGRD"), 0)
		if v == versionTLS12 {
			want[7] = 1
		}
		seen = true
		if !bytes.Equal(sh.Random[24:], want) {
			marked = false
		}
	}
	if seen {
		r.DowngradeSentinel = ptr(marked)
	}
}

// highestOld is the ServerHello of the newest accepted version below TLS 1.2.
func (p *prober) highestOld() *wire.ServerHello {
	for _, v := range slices.Backward([]uint16{versionSSL30, versionTLS10, versionTLS11}) {
		if sh := p.hellos[v]; sh != nil {
			return sh
		}
	}
	return nil
}
