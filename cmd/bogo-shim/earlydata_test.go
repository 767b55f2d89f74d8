package main

import (
	"slices"
	"testing"

	"github.com/tlsflow/tlsflow"
	"golang.org/x/crypto/cryptobyte"
)

func TestRetryFlagsApplyToTheRetryOnly(t *testing.T) {
	initial, resume, retry, err := parseFlags([]string{
		"-enable-early-data", "-on-resume-expect-reject-early-data", "-on-resume-shim-writes-first",
		"-on-retry-expect-early-data-reason", "peer_declined", "-on-retry-expect-alpn", "bar",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !initial.enableEarlyData || !resume.enableEarlyData || !retry.enableEarlyData {
		t.Errorf("-enable-early-data not applied to all three: %v %v %v", initial.enableEarlyData, resume.enableEarlyData, retry.enableEarlyData)
	}
	if initial.expectRejectEarly || !resume.expectRejectEarly || retry.expectRejectEarly {
		t.Errorf("-on-resume-expect-reject-early-data: %v %v %v, want the resumption's only",
			initial.expectRejectEarly, resume.expectRejectEarly, retry.expectRejectEarly)
	}
	if retry.shimWritesFirst {
		t.Error("-on-resume-shim-writes-first reached the retry: rejected early data would be written twice")
	}
	if retry.expectEarlyDataReason != "peer_declined" || resume.expectEarlyDataReason != "" || retry.expectALPN != "bar" {
		t.Errorf("-on-retry flags: retry %q %q, resume %q", retry.expectEarlyDataReason, retry.expectALPN, resume.expectEarlyDataReason)
	}
	if initial.initialWrite != "hello" || initial.repeatInitialWrite != 1 {
		t.Errorf("initial write defaults %q ×%d, want BoringSSL's \"hello\" ×1", initial.initialWrite, initial.repeatInitialWrite)
	}
}

func TestEarlyWritesSplitAtTheTicketsLimit(t *testing.T) {
	b := func(s ...string) [][]byte {
		var out [][]byte
		for _, x := range s {
			out = append(out, []byte(x))
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		writes      [][]byte
		allowed     int
		early, late [][]byte
	}{
		{"all fit", b("hello"), 16384, b("hello"), nil},
		{"split inside a write (TLS13-EarlyData-TooMuchData-Client)", b("hello"), 2, b("he"), b("llo")},
		{"whole writes, then the rest", b("abcd", "efgh", "ijkl"), 8, b("abcd", "efgh"), b("ijkl")},
		{"nothing allowed", b("hello"), 0, nil, b("hello")},
	} {
		early, late := splitEarly(tc.writes, tc.allowed)
		if !slices.EqualFunc(early, tc.early, slices.Equal) || !slices.EqualFunc(late, tc.late, slices.Equal) {
			t.Errorf("%s: early %q, late %q; want %q, %q", tc.name, early, late, tc.early, tc.late)
		}
	}
}

func TestClientHelloExtensionsRead(t *testing.T) {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(make([]byte, 32))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x1301); b.AddUint16(0x00ff) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, ext := range []uint16{extEarlyData, extPreSharedKey} {
			b.AddUint16(ext)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {})
		}
	})
	body := b.BytesOrPanic()
	raw := append([]byte{handshakeTypeClientHello, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	suites, exts := helloContents(raw)
	if !slices.Equal(suites, []uint16{0x1301, 0x00ff}) || !slices.Equal(exts, []uint16{extEarlyData, extPreSharedKey}) {
		t.Errorf("suites %#04x, extensions %d; want 0x1301 0x00ff, early_data and pre_shared_key", suites, exts)
	}
	if !helloSupportsSecureRenegotiation(raw) {
		t.Error("the SCSV was not seen")
	}
}

func TestEarlyDataReasonsInBoringSSLsOrder(t *testing.T) {
	on := &settings{enableEarlyData: true}
	tls12Only := &settings{enableEarlyData: true, maxVersion: int(tlsflow.VersionTLS12)}
	v13 := tlsflow.ConnectionState{Version: tlsflow.VersionTLS13}
	resumed := tlsflow.ConnectionState{Version: tlsflow.VersionTLS13, DidResume: true}
	accepted := tlsflow.ConnectionState{Version: tlsflow.VersionTLS13, DidResume: true, EarlyDataAccepted: true}
	psk := earlyFacts{helloPSK: true, helloEarlyData: true}
	for _, tc := range []struct {
		name   string
		server bool
		s      *settings
		cs     tlsflow.ConnectionState
		f      earlyFacts
		want   string
	}{
		{"server: not enabled, whatever happened", true, &settings{}, accepted, psk, "disabled"},
		{"server: TLS 1.2", true, on, tlsflow.ConnectionState{Version: tlsflow.VersionTLS12}, psk, "protocol_version"},
		{"server: no PSK offered", true, on, v13, earlyFacts{}, "no_session_offered"},
		{"server: ticket not resumed, with a HelloRetryRequest", true, on, v13, earlyFacts{helloPSK: true, helloEarlyData: true, sawHRR: true}, "session_not_resumed"},
		{"server: ticket without early data", true, on, resumed, earlyFacts{helloPSK: true, helloEarlyData: true, rejected: "the ticket allows no early data"}, "unsupported_for_session"},
		{"server: client did not offer", true, on, resumed, earlyFacts{helloPSK: true}, "peer_declined"},
		{"server: ALPN", true, on, resumed, earlyFacts{helloPSK: true, helloEarlyData: true, rejected: "the ALPN protocol differs from the ticket's"}, "alpn_mismatch"},
		{"server: ticket age", true, on, resumed, earlyFacts{helloPSK: true, helloEarlyData: true, rejected: "the ClientHello is not fresh: its ticket age is off by 61s"}, "ticket_age_skew"},
		{"server: HelloRetryRequest", true, on, resumed, earlyFacts{helloPSK: true, helloEarlyData: true, sawHRR: true}, "hello_retry_request"},
		{"server: accepted", true, on, accepted, psk, "accept"},
		{"server: a reason BoringSSL has no name for", true, on, resumed, earlyFacts{helloPSK: true, helloEarlyData: true, rejected: "this ClientHello was seen before"}, "tlsflow: this ClientHello was seen before"},
		{"client: not enabled", false, &settings{}, v13, earlyFacts{}, "disabled"},
		{"client: TLS 1.3 disabled", false, tls12Only, tlsflow.ConnectionState{Version: tlsflow.VersionTLS12}, earlyFacts{}, "protocol_version"},
		{"client: no session", false, on, v13, earlyFacts{notOffered: "no session to resume (0-RTT needs a ticket that allows it)"}, "no_session_offered"},
		{"client: ticket without early data", false, on, resumed, earlyFacts{notOffered: "the session's ticket allows no early data (max_early_data_size 0)"}, "unsupported_for_session"},
		{"client: ALPN", false, on, resumed, earlyFacts{notOffered: `the session's ALPN protocol "foo" is not offered`}, "alpn_mismatch"},
		{"client: HelloRetryRequest", false, on, v13, earlyFacts{offered: true, sawHRR: true}, "hello_retry_request"},
		{"client: not resumed", false, on, v13, earlyFacts{offered: true}, "session_not_resumed"},
		{"client: declined", false, on, resumed, earlyFacts{offered: true}, "peer_declined"},
		{"client: accepted", false, on, accepted, earlyFacts{offered: true}, "accept"},
	} {
		if got := earlyDataReason(tc.server, tc.s, tc.cs, tc.f); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
