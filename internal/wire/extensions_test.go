package wire

import (
	"bytes"
	"reflect"
	"testing"
)

func TestExtensionsFindHasDecodeLookUpByType(t *testing.T) {
	var e Extensions
	e.Add(ExtSupportedGroups, SupportedGroups{0x001d})
	e.AddEmpty(ExtExtendedMasterSecret)

	if data, ok := e.Find(ExtSupportedGroups); !ok || !bytes.Equal(data, []byte{0, 2, 0, 0x1d}) {
		t.Errorf("Find(supported_groups) = %x, %v; want 0002001d, true", data, ok)
	}
	if data, ok := e.Find(ExtExtendedMasterSecret); !ok || len(data) != 0 {
		t.Errorf("Find(extended_master_secret) = %x, %v; want empty, true", data, ok)
	}
	if _, ok := e.Find(ExtKeyShare); ok {
		t.Error("Find(key_share) found an absent extension")
	}
	if !e.Has(ExtExtendedMasterSecret) || e.Has(ExtALPN) {
		t.Error("Has disagrees with the list")
	}

	var groups SupportedGroups
	if found, err := e.Decode(ExtSupportedGroups, &groups); !found || err != nil || !reflect.DeepEqual(groups, SupportedGroups{0x001d}) {
		t.Errorf("Decode(supported_groups) = %v, %v, %v", found, err, groups)
	}
	var alpn ALPN
	if found, err := e.Decode(ExtALPN, &alpn); found || err != nil {
		t.Errorf("Decode(absent ALPN) = %v, %v; want false, nil", found, err)
	}
	var shares KeyShareClientHello
	if found, err := e.Decode(ExtExtendedMasterSecret, &shares); !found || err == nil {
		t.Errorf("Decode of malformed data = %v, %v; want true and an error", found, err)
	}
}

func TestExtensionsEmptyRejectsExtensionData(t *testing.T) {
	e := Extensions{
		{Type: ExtExtendedMasterSecret},
		{Type: ExtPostHandshakeAuth, Data: []byte{0}},
	}
	if present, err := e.Empty(ExtExtendedMasterSecret); !present || err != nil {
		t.Errorf("Empty(extended_master_secret) = %v, %v; want true, nil", present, err)
	}
	present, err := e.Empty(ExtPostHandshakeAuth)
	if !present {
		t.Error("Empty(post_handshake_auth) did not report the extension present")
	}
	wantDecodeError(t, err, "post_handshake_auth extension", "extension_data")
	if present, err := e.Empty(ExtEarlyData); present || err != nil {
		t.Errorf("Empty(absent) = %v, %v; want false, nil", present, err)
	}
}

func TestExtensionsAddKeepsWireOrder(t *testing.T) {
	var e Extensions
	e.AddEmpty(ExtSessionTicket)
	e.Add(ExtSupportedVersions, SupportedVersionServer(0x0304))
	e.AddEmpty(ExtExtendedMasterSecret)
	got := must((&EncryptedExtensions{Extensions: e}).Marshal())
	want := frame(t, TypeEncryptedExtensions, "000e 0023 0000 002b 0002 0304 0017 0000")
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal = %x, want %x", got, want)
	}
}

func TestExtensionsBlockRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		field string
	}{
		{"duplicate extension type", "0008 0017 0000 0017 0000", "duplicate extension extended_master_secret"},
		{"duplicate unknown type", "000a 0063 0002 4001 0063 0000", "duplicate extension extension(99)"},
		{"extension_data overruns the block", "0006 0017 0003 0000", "extensions"},
		{"block overruns the message", "0008 0017 0000", "extensions"},
		{"half an extension header", "0002 0017", "extensions"},
		{"bytes after the block", "0004 0017 0000 00", "trailing bytes"},
		{"no block at all", "", "extensions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := new(EncryptedExtensions).Unmarshal(frame(t, TypeEncryptedExtensions, tc.body))
			wantDecodeError(t, err, "EncryptedExtensions", tc.field)
		})
	}
}

// Duplicates are rejected in every block that carries extensions, not only
// in EncryptedExtensions.
func TestEveryExtensionsBlockRejectsDuplicates(t *testing.T) {
	dup := Extensions{{Type: ExtKeyShare, Data: []byte{0, 0x1d}}, {Type: ExtKeyShare, Data: []byte{0, 0x17}}}
	for _, m := range []Message{
		&ClientHello{CipherSuites: []uint16{0x1301}, CompressionMethods: []uint8{0}, Extensions: dup},
		&ServerHello{Extensions: dup},
		&Certificate13{Entries: []CertificateEntry{{Data: []byte{1}, Extensions: dup}}},
		&CertificateRequest13{Extensions: dup},
		&NewSessionTicket13{Ticket: []byte{1}, Extensions: dup},
		&EncryptedExtensions{Extensions: dup},
	} {
		t.Run(m.Type().String(), func(t *testing.T) {
			fresh := reflect.New(reflect.TypeOf(m).Elem()).Interface().(Message)
			wantDecodeError(t, fresh.Unmarshal(must(m.Marshal())), m.Type().String(), "duplicate extension key_share")
		})
	}
}

// The duplicate check has two forms, pairwise for small blocks and a set
// for large ones: both reject a duplicate wherever it sits, and both keep
// every extension of a block without one, in wire order.
func TestExtensionsDuplicatesInSmallAndLargeBlocks(t *testing.T) {
	for _, n := range []int{2, 31, 32, 33, 300} {
		var exts Extensions
		for i := range n {
			exts = append(exts, Extension{Type: ExtensionType(0x7000 + i), Data: []byte{byte(i)}})
		}
		got := new(EncryptedExtensions)
		if err := got.Unmarshal(must((&EncryptedExtensions{Extensions: exts}).Marshal())); err != nil {
			t.Fatalf("%d distinct extensions: %v", n, err)
		}
		if !reflect.DeepEqual(got.Extensions, exts) {
			t.Fatalf("%d distinct extensions: read back %v", n, got.Extensions)
		}
		for _, at := range []int{1, n / 2, n - 1} {
			dup := append(Extensions(nil), exts...)
			dup[at].Type = dup[at-1].Type
			if at > 1 {
				dup[at].Type = dup[0].Type
			}
			err := new(EncryptedExtensions).Unmarshal(must((&EncryptedExtensions{Extensions: dup}).Marshal()))
			wantDecodeError(t, err, "EncryptedExtensions", "duplicate extension "+dup[at].Type.String())
		}
	}
}
