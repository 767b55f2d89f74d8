package wire

import (
	"bytes"
	"reflect"
	"testing"
)

func TestImportedIdentityRoundTrip(t *testing.T) {
	id := ImportedIdentity{ExternalIdentity: []byte("client1"), Context: []byte("ctx"), TargetProtocol: 0x0304, TargetKDF: KDFHKDFSHA384}
	raw, err := id.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 7, 'c', 'l', 'i', 'e', 'n', 't', '1', 0, 3, 'c', 't', 'x', 0x03, 0x04, 0x00, 0x02}
	if !bytes.Equal(raw, want) {
		t.Fatalf("Marshal = %x, want %x", raw, want)
	}
	var back ImportedIdentity
	if err := back.Unmarshal(raw); err != nil || !bytes.Equal(back.ExternalIdentity, id.ExternalIdentity) ||
		!bytes.Equal(back.Context, id.Context) || back.TargetProtocol != 0x0304 || back.TargetKDF != KDFHKDFSHA384 {
		t.Fatalf("Unmarshal = %+v, %v", back, err)
	}
}

func TestImportedIdentityRefuses(t *testing.T) {
	if _, err := (ImportedIdentity{}).Marshal(); err == nil {
		t.Error("an empty external_identity marshalled")
	}
	if _, err := (ImportedIdentity{ExternalIdentity: make([]byte, 1<<16-8)}).Marshal(); err == nil {
		t.Error("an ImportedIdentity longer than a PskIdentity marshalled")
	}
	for _, raw := range [][]byte{
		nil,
		{0, 0, 0, 0, 3, 4, 0, 1},            // empty external_identity
		{0, 1, 'a', 0, 0, 3, 4, 0},          // short
		{0, 1, 'a', 0, 0, 3, 4, 0, 1, 0xff}, // trailing
		[]byte("a plain PSK identity"),
	} {
		var id ImportedIdentity
		if err := id.Unmarshal(raw); err == nil {
			t.Errorf("Unmarshal(%x) = %+v, want an error", raw, id)
		}
	}
}

// FuzzImportedIdentity: a server parses every identity a client offers as
// an ImportedIdentity first (RFC 9258 §5.1): Unmarshal never panics, and
// what it accepts marshals back to the input and parses to an equal value.
func FuzzImportedIdentity(f *testing.F) {
	f.Add([]byte{0, 7, 'c', 'l', 'i', 'e', 'n', 't', '1', 0, 3, 'c', 't', 'x', 0x03, 0x04, 0x00, 0x02})
	f.Add([]byte("a ticket, not an imported identity"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var id ImportedIdentity
		if err := id.Unmarshal(in); err != nil {
			return
		}
		out, err := id.Marshal()
		if err != nil {
			t.Fatalf("Marshal of what Unmarshal accepted (%x): %v", in, err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("Marshal(Unmarshal(x)) != x:\n  in %x\n out %x", in, out)
		}
		var back ImportedIdentity
		if err := back.Unmarshal(out); err != nil || !reflect.DeepEqual(id, back) {
			t.Fatalf("re-Unmarshal: %+v, %v; want %+v", back, err, id)
		}
	})
}
