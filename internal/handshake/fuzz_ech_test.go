package handshake

import (
	"testing"

	"github.com/tlsflow/tlsflow/internal/wire"
)

// FuzzECHInner feeds decrypted payloads to the server's rebuilding of the
// inner ClientHello (draft-ietf-tls-esni-25 §5.1), against a fixed outer
// hello: whatever the plaintext — a hostile client seals what it likes
// with the server's public key — it must end in a hello every ClientHello
// rule holds for, or an alert, never a panic, and never a hello larger
// than the outer one and the plaintext together (no amplification).
func FuzzECHInner(f *testing.F) {
	outer := &wire.ClientHello{Version: 0x0303, SessionID: make([]byte, 32), CipherSuites: []uint16{0x1301}, CompressionMethods: []uint8{0}}
	outer.Extensions.Add(wire.ExtServerName, &wire.ServerName{HostName: "public.example"})
	outer.Extensions.Add(wire.ExtSupportedGroups, &wire.SupportedGroups{0x001d})
	outer.Extensions.Add(wire.ExtSupportedVersions, &wire.SupportedVersionsClient{0x0304})
	outer.Extensions.Add(wire.ExtKeyShare, &wire.KeyShareClientHello{{Group: 0x001d, KeyExchange: make([]byte, 32)}})
	outerRaw, err := outer.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	inner := &wire.ClientHello{Version: 0x0303, CipherSuites: []uint16{0x1301}, CompressionMethods: []uint8{0}}
	inner.Extensions.Add(wire.ExtServerName, &wire.ServerName{HostName: "secret.example"})
	inner.Extensions.Add(wire.ExtECHOuterExtensions, wire.OuterExtensions{wire.ExtSupportedGroups, wire.ExtSupportedVersions, wire.ExtKeyShare})
	inner.Extensions.Add(wire.ExtEncryptedClientHello, wire.ECHClientHello{Type: wire.ECHInner})
	body, err := inner.Body()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(body, make([]byte, 20)...))
	f.Add(body)
	f.Add(append(body, 1))
	// The largest plaintext a payload<1..2^16-1> holds after the AEAD tag:
	// all padding, which must still cost one pass and no more.
	f.Add(append(body, make([]byte, 1<<16-1-16-len(body))...))
	f.Fuzz(func(t *testing.T, plaintext []byte) {
		s := NewServer(&Config{})
		got, raw, err := s.decodeInner(outer, plaintext)
		if err != nil {
			return
		}
		if len(raw) > len(outerRaw)+len(plaintext) {
			t.Fatalf("the inner hello has %d bytes from %d of outer hello and %d of plaintext", len(raw), len(outerRaw), len(plaintext))
		}
		if string(got.SessionID) != string(outer.SessionID) {
			t.Fatalf("the inner hello's session ID is not the outer one's")
		}
		if !got.Extensions.Has(wire.ExtEncryptedClientHello) || got.Extensions.Has(wire.ExtECHOuterExtensions) {
			t.Fatalf("an inner hello without its encrypted_client_hello, or with ech_outer_extensions left in it, was accepted")
		}
	})
}
