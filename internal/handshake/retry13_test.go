package handshake

import (
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// TestSecondClientHelloRule: after a HelloRetryRequest the second
// ClientHello is the first but for the changes RFC 8446 §4.1.2 lists.
func TestSecondClientHelloRule(t *testing.T) {
	first := func() *wire.ClientHello {
		h := &wire.ClientHello{Version: suites.VersionTLS12, SessionID: []byte{1, 2, 3},
			CipherSuites: []uint16{suite13, suite12}, CompressionMethods: []uint8{0}}
		h.Random[0] = 7
		h.Extensions.Add(wire.ExtServerName, &wire.ServerName{HostName: "a.example"})
		h.Extensions.Add(wire.ExtSupportedVersions, &wire.SupportedVersionsClient{suites.VersionTLS13, suites.VersionTLS12})
		h.Extensions.Add(wire.ExtKeyShare, &wire.KeyShareClientHello{{Group: suites.GroupX25519, KeyExchange: []byte{1}}})
		h.Extensions.AddEmpty(wire.ExtEarlyData)
		h.Extensions.Add(wire.ExtPreSharedKey, wire.PreSharedKeyClientHello{
			Identities: []wire.PSKIdentity{{Identity: []byte("one")}, {Identity: []byte("two")}},
			Binders:    [][]byte{make([]byte, 32), make([]byte, 32)}})
		return h
	}
	second := func(change func(*wire.ClientHello)) *wire.ClientHello {
		h := first()
		h.Extensions = removeExtension(h.Extensions, wire.ExtEarlyData)
		h.Extensions = replaceExtension(h.Extensions, wire.ExtKeyShare, &wire.KeyShareClientHello{{Group: suites.GroupP256, KeyExchange: []byte{2}}})
		cookie := wire.Cookie("cookie")
		h.Extensions = replaceExtension(h.Extensions, wire.ExtCookie, &cookie)
		if change != nil {
			change(h)
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		change func(*wire.ClientHello)
		want   string // "" allowed, else a word of the error
	}{
		{"the allowed changes", nil, ""},
		{"padding added", func(h *wire.ClientHello) {
			h.Extensions = replaceExtension(h.Extensions, wire.ExtPadding, rawExtension(make([]byte, 20)))
		}, ""},
		{"a PSK dropped, binders updated", func(h *wire.ClientHello) {
			h.Extensions = replaceExtension(h.Extensions, wire.ExtPreSharedKey, wire.PreSharedKeyClientHello{
				Identities: []wire.PSKIdentity{{Identity: []byte("two"), ObfuscatedTicketAge: 9}}, Binders: [][]byte{make([]byte, 32)}})
		}, ""},
		{"a new PSK", func(h *wire.ClientHello) {
			h.Extensions = replaceExtension(h.Extensions, wire.ExtPreSharedKey, wire.PreSharedKeyClientHello{
				Identities: []wire.PSKIdentity{{Identity: []byte("three")}}, Binders: [][]byte{make([]byte, 32)}})
		}, "PSK identity"},
		{"pre_shared_key dropped", func(h *wire.ClientHello) { h.Extensions = removeExtension(h.Extensions, wire.ExtPreSharedKey) }, "pre_shared_key"},
		{"server_name changed", func(h *wire.ClientHello) {
			h.Extensions = replaceExtension(h.Extensions, wire.ExtServerName, &wire.ServerName{HostName: "b.example"})
		}, "server_name"},
		{"supported_versions dropped", func(h *wire.ClientHello) { h.Extensions = removeExtension(h.Extensions, wire.ExtSupportedVersions) }, "supported_versions is gone"},
		{"early_data kept", func(h *wire.ClientHello) {
			h.Extensions = replaceExtension(h.Extensions, wire.ExtEarlyData, rawExtension(nil))
		}, "early_data"},
		{"an extension added", func(h *wire.ClientHello) {
			h.Extensions = replaceExtension(h.Extensions, wire.ExtALPN, &wire.ALPN{"h2"})
		}, "added"},
		{"extensions reordered", func(h *wire.ClientHello) { h.Extensions[0], h.Extensions[1] = h.Extensions[1], h.Extensions[0] }, "where the first had"},
		{"compression methods changed", func(h *wire.ClientHello) { h.CompressionMethods = []uint8{0, 1} }, "legacy_compression_methods"},
		{"cipher suites changed", func(h *wire.ClientHello) { h.CipherSuites = []uint16{suite13} }, "cipher_suites"},
		{"random changed", func(h *wire.ClientHello) { h.Random[0]++ }, "random"},
		{"session ID changed", func(h *wire.ClientHello) { h.SessionID = nil }, "legacy_session_id"},
		{"legacy_version changed", func(h *wire.ClientHello) { h.Version = 0x0301 }, "legacy_version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSecondClientHello(first(), second(tc.change))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "illegal_parameter")):
				t.Fatalf("error = %v; want illegal_parameter naming %q", err, tc.want)
			}
		})
	}
}
