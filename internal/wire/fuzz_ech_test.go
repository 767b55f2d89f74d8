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
	// At the limits of the presentation language: a list of 2^16-1 bytes,
	// one claiming that length and holding a byte less, and an outer
	// extension with the largest payload.
	limit := limitECHConfig()
	f.Add(must(MarshalECHConfigList(limit)))
	f.Add(append([]byte{0xff, 0xff}, limit[:len(limit)-1]...))
	f.Add(must(ECHClientHello{Type: ECHOuter, CipherSuite: HPKESymmetricCipherSuite{1, 1}, Payload: make([]byte, 1<<16-1)}.Marshal()))
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
		if encoded.Unmarshal(in) == nil {
			if out := must(encoded.Marshal()); !bytes.Equal(out, in) {
				t.Fatalf("EncodedClientHelloInner re-marshals to %x, read from %x", out, in)
			}
		}
	})
}

// limitECHConfig is an ECHConfig of 2^16-1 bytes: alone, it fills an
// ECHConfigList<4..2^16-1>.
func limitECHConfig() []byte {
	config := &ECHConfig{ConfigID: 7, KEM: 0x20, PublicKey: bytes.Repeat([]byte{1}, 32),
		CipherSuites: []HPKESymmetricCipherSuite{{1, 1}}, PublicName: []byte("public.example")}
	base := must(config.Marshal())
	config.Extensions = []ECHConfigExtension{{Type: 0xfa, Data: make([]byte, 1<<16-1-len(base)-4)}}
	return must(config.Marshal())
}

// TestECHConfigListAtItsLimit holds FuzzECH's limit seeds to their
// checks: a list of exactly 2^16-1 bytes parses, one byte more cannot be
// built, and a list claiming more than it holds is refused.
func TestECHConfigListAtItsLimit(t *testing.T) {
	raw := limitECHConfig()
	list, err := MarshalECHConfigList(raw)
	if err != nil || len(list) != 2+1<<16-1 {
		t.Fatalf("list of %d bytes, %v; want 2+65535", len(list), err)
	}
	if configs, err := ParseECHConfigList(list); err != nil || len(configs) != 1 {
		t.Fatalf("the list at the limit: %d configs, %v", len(configs), err)
	}
	if _, err := MarshalECHConfigList(append(raw, 0)); err == nil {
		t.Errorf("a list one byte over 2^16-1 was built")
	}
	if _, err := ParseECHConfigList(append([]byte{0xff, 0xff}, raw[:len(raw)-1]...)); err == nil {
		t.Errorf("a list claiming 65535 bytes and holding 65534 was parsed")
	}
}
