package wire

import (
	"bytes"
	"testing"
)

// FuzzECH feeds one input to every Encrypted Client Hello decoder: the
// ECHConfigList a client is configured with or a server sends as
// retry_configs, the encrypted_client_hello extension, ech_outer_extensions
// and EncodedClientHelloInner. None may panic; what the first three accept
// must marshal back to the same bytes.
func FuzzECH(f *testing.F) {
	config := &ECHConfig{ConfigID: 7, KEM: 0x20, PublicKey: bytes.Repeat([]byte{1}, 32),
		CipherSuites: []HPKESymmetricCipherSuite{{1, 1}, {1, 3}}, MaxNameLength: 16, PublicName: []byte("public.example"),
		Extensions: []ECHConfigExtension{{Type: 0xfa, Data: []byte{1}}}}
	raw := must(config.Marshal())
	f.Add(must(MarshalECHConfigList(raw, raw)))
	f.Add(must(ECHClientHello{Type: ECHOuter, CipherSuite: HPKESymmetricCipherSuite{1, 1}, ConfigID: 7, Enc: []byte{1, 2}, Payload: []byte{3}}.Marshal()))
	f.Add(must(ECHClientHello{Type: ECHInner}.Marshal()))
	f.Add(must(OuterExtensions{ExtKeyShare, ExtSupportedGroups}.Marshal()))
	for _, s := range samples() {
		if ch, ok := s.msg.(*ClientHello); ok {
			f.Add(append(must(ch.Body()), 0, 0, 0))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if configs, err := ParseECHConfigList(in); err == nil {
			var raws [][]byte
			for _, c := range configs {
				if c.Version == ECHVersion {
					if again := must(c.Marshal()); !bytes.Equal(again, c.Raw) {
						t.Fatalf("ECHConfig re-marshals to %x, read from %x", again, c.Raw)
					}
				}
				raws = append(raws, c.Raw)
			}
			if out := must(MarshalECHConfigList(raws...)); !bytes.Equal(out, in) {
				t.Fatalf("ECHConfigList re-marshals to %x, read from %x", out, in)
			}
		}
		var ext ECHClientHello
		if ext.Unmarshal(in) == nil {
			if out := must(ext.Marshal()); !bytes.Equal(out, in) {
				t.Fatalf("encrypted_client_hello re-marshals to %x, read from %x", out, in)
			}
		}
		var refs OuterExtensions
		if refs.Unmarshal(in) == nil {
			if out := must(refs.Marshal()); !bytes.Equal(out, in) {
				t.Fatalf("ech_outer_extensions re-marshals to %x, read from %x", out, in)
			}
		}
		var encoded EncodedClientHelloInner
		if encoded.Unmarshal(in) == nil && encoded.Padding < 0 {
			t.Fatalf("negative padding")
		}
	})
}
