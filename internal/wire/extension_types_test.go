package wire

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// extSample is a populated extension_data value, its exact encoding, and a
// constructor for an empty one.
type extSample struct {
	name  string
	value ExtensionData
	hex   string
	fresh func() ExtensionData
}

func extSamples() []extSample {
	return []extSample{
		{"ServerName", &ServerName{HostName: "server"}, "0009 00 0006 736572766572", func() ExtensionData { return new(ServerName) }},
		{"SupportedGroups", &SupportedGroups{0x001d, 0x0017, 0x11ec}, "0006 001d 0017 11ec", func() ExtensionData { return new(SupportedGroups) }},
		{"ECPointFormats", &ECPointFormats{0}, "01 00", func() ExtensionData { return new(ECPointFormats) }},
		{"SignatureAlgorithms", &SignatureAlgorithms{0x0403, 0x0804}, "0004 0403 0804", func() ExtensionData { return new(SignatureAlgorithms) }},
		{"ALPN", &ALPN{"h2", "http/1.1"}, "000c 02 6832 08 687474702f312e31", func() ExtensionData { return new(ALPN) }},
		{"RenegotiationInfo initial", &RenegotiationInfo{}, "00", func() ExtensionData { return new(RenegotiationInfo) }},
		{"RenegotiationInfo renegotiating", &RenegotiationInfo{1, 2, 3}, "03 010203", func() ExtensionData { return new(RenegotiationInfo) }},
		{"SupportedVersionsClient", &SupportedVersionsClient{0x0304, 0x0303}, "04 0304 0303", func() ExtensionData { return new(SupportedVersionsClient) }},
		{"SupportedVersionServer", ptr(SupportedVersionServer(0x0304)), "0304", func() ExtensionData { return new(SupportedVersionServer) }},
		{"KeyShareClientHello", &KeyShareClientHello{{Group: 0x001d, KeyExchange: []byte{1, 2}}, {Group: 0x0017, KeyExchange: []byte{3}}},
			"000b 001d 0002 0102 0017 0001 03", func() ExtensionData { return new(KeyShareClientHello) }},
		{"KeyShareClientHello empty", new(KeyShareClientHello), "0000", func() ExtensionData { return new(KeyShareClientHello) }},
		{"KeyShareServerHello", &KeyShareServerHello{Group: 0x001d, KeyExchange: []byte{9, 8, 7}}, "001d 0003 090807", func() ExtensionData { return new(KeyShareServerHello) }},
		{"KeyShareHelloRetryRequest", &KeyShareHelloRetryRequest{SelectedGroup: 0x0017}, "0017", func() ExtensionData { return new(KeyShareHelloRetryRequest) }},
		{"PSKKeyExchangeModes", &PSKKeyExchangeModes{1, 0}, "02 0100", func() ExtensionData { return new(PSKKeyExchangeModes) }},
		{"PreSharedKeyClientHello", &PreSharedKeyClientHello{
			Identities: []PSKIdentity{{Identity: []byte{0xaa}, ObfuscatedTicketAge: 0x01020304}, {Identity: []byte{0xbb, 0xcc}, ObfuscatedTicketAge: 5}},
			Binders:    [][]byte{seq(0, 32), seq(0x40, 48)},
		}, "000f 0001 aa 01020304 0002 bbcc 00000005" +
			"0052 20 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
			"30 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f",
			func() ExtensionData { return new(PreSharedKeyClientHello) }},
		{"PreSharedKeyServerHello", &PreSharedKeyServerHello{SelectedIdentity: 1}, "0001", func() ExtensionData { return new(PreSharedKeyServerHello) }},
		{"Cookie", &Cookie{0xc0, 0x0c}, "0002 c00c", func() ExtensionData { return new(Cookie) }},
		{"CertificateAuthorities", &CertificateAuthorities{{0x30, 0}, {0x30, 1, 2}}, "0009 0002 3000 0003 300102", func() ExtensionData { return new(CertificateAuthorities) }},
		{"EarlyDataIndication in NewSessionTicket", &EarlyDataIndication{MaxEarlyDataSize: 0x4000, InNewSessionTicket: true}, "00004000", func() ExtensionData { return new(EarlyDataIndication) }},
		{"EarlyDataIndication in ClientHello", &EarlyDataIndication{}, "", func() ExtensionData { return new(EarlyDataIndication) }},
		{"StatusRequest OCSP", ptr(OCSPStatusRequest), "01 0000 0000", func() ExtensionData { return new(StatusRequest) }},
		{"StatusRequest of another type", &StatusRequest{StatusType: 2, Request: []byte{9, 9}}, "02 0909", func() ExtensionData { return new(StatusRequest) }},
		{"CertificateStatusExt", &CertificateStatusExt{OCSPResponse: []byte{0x30, 1}}, "01 000002 3001", func() ExtensionData { return new(CertificateStatusExt) }},
		{"SignedCertificateTimestamps", &SignedCertificateTimestamps{{1, 2}, {3}}, "0007 0002 0102 0001 03", func() ExtensionData { return new(SignedCertificateTimestamps) }},
		{"CertificateTypeList", &CertificateTypeList{Ext: ExtServerCertificateType, Types: []CertificateType{2, 0}}, "02 0200",
			func() ExtensionData { return &CertificateTypeList{Ext: ExtServerCertificateType} }},
		{"CertificateTypeList with an unknown type", &CertificateTypeList{Ext: ExtClientCertificateType, Types: []CertificateType{5, 0}}, "02 0500",
			func() ExtensionData { return &CertificateTypeList{Ext: ExtClientCertificateType} }},
		{"CertificateTypeSelected", &CertificateTypeSelected{Ext: ExtClientCertificateType, Type: 2}, "02",
			func() ExtensionData { return &CertificateTypeSelected{Ext: ExtClientCertificateType} }},
	}
}

func ptr[T any](v T) *T { return &v }

// normalizeEmpty turns an empty-but-non-nil slice value into nil, which is
// what Unmarshal produces for an empty vector.
func normalizeEmpty(v ExtensionData) ExtensionData {
	switch v := v.(type) {
	case *RenegotiationInfo:
		if len(*v) == 0 {
			return new(RenegotiationInfo)
		}
	}
	return v
}

func TestExtensionDataRoundTrip(t *testing.T) {
	for _, s := range extSamples() {
		t.Run(s.name, func(t *testing.T) {
			want := unhex(t, s.hex)
			enc := must(s.value.Marshal())
			if !bytes.Equal(enc, want) {
				t.Fatalf("Marshal = %x, want %x", enc, want)
			}
			got := s.fresh()
			if err := got.Unmarshal(enc); err != nil {
				t.Fatalf("Unmarshal(Marshal()) = %v", err)
			}
			if !reflect.DeepEqual(got, normalizeEmpty(s.value)) {
				t.Fatalf("round trip changed the value: got %+v, want %+v", got, s.value)
			}
			if again := must(got.Marshal()); !bytes.Equal(again, enc) {
				t.Fatalf("re-Marshal = %x, want %x", again, enc)
			}
		})
	}
}

func TestExtensionDataRejectsTruncationAndTrailingBytes(t *testing.T) {
	for _, s := range extSamples() {
		if s.name == "StatusRequest of another type" {
			continue // its body is opaque to tlsflow: every length is one
		}
		t.Run(s.name, func(t *testing.T) {
			enc := unhex(t, s.hex)
			for n := 0; n < len(enc); n++ {
				if n == 0 && s.name == "EarlyDataIndication in NewSessionTicket" {
					continue // the empty form is the ClientHello one
				}
				if err := s.fresh().Unmarshal(enc[:n]); err == nil {
					t.Fatalf("accepted the first %d of %d bytes", n, len(enc))
				} else if _, _, _, ok := errorParts(err); !ok {
					t.Fatalf("prefix %d: error %v is not a wire error", n, err)
				}
			}
			err := s.fresh().Unmarshal(append(enc, 0))
			if _, field, _, ok := errorParts(err); !ok || field != "trailing bytes" && s.name != "EarlyDataIndication in ClientHello" {
				t.Fatalf("with a trailing byte: error = %v, want trailing bytes", err)
			}
		})
	}
}

func TestExtensionDataRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		into    ExtensionData
		hex     string
		message string
		field   string
		illegal bool
	}{
		{"server_name list empty", new(ServerName), "0000", "server_name extension", "server_name_list", false},
		{"server_name HostName empty", new(ServerName), "0003 00 0000", "server_name extension", "server_name_list", false},
		{"server_name second host_name", new(ServerName), "000c 00 0003 616263 00 0003 646566", "server_name extension", "second host_name", false},
		{"server_name only other name types", new(ServerName), "0006 01 0003 616263", "server_name extension", "no host_name", false},
		{"server_name NUL byte", new(ServerName), "0006 00 0003 610062", "server_name extension", "NUL", false},
		{"server_name trailing dot", new(ServerName), "0006 00 0003 61622e", "server_name extension", "trailing dot", false},
		{"server_name entry overruns list", new(ServerName), "0005 00 0003 6162", "server_name extension", "server_name_list", false},
		{"supported_groups empty", new(SupportedGroups), "0000", "supported_groups extension", "named_group_list", false},
		{"supported_groups odd length", new(SupportedGroups), "0003 001d00", "supported_groups extension", "named_group_list", false},
		{"ec_point_formats empty", new(ECPointFormats), "00", "ec_point_formats extension", "ec_point_format_list", false},
		{"signature_algorithms empty", new(SignatureAlgorithms), "0000", "signature_algorithms extension", "supported_signature_algorithms", false},
		{"signature_algorithms odd length", new(SignatureAlgorithms), "0001 04", "signature_algorithms extension", "supported_signature_algorithms", false},
		{"ALPN empty list", new(ALPN), "0000", "application_layer_protocol_negotiation extension", "protocol_name_list", false},
		{"ALPN empty ProtocolName", new(ALPN), "0004 02 6832 00", "application_layer_protocol_negotiation extension", "ProtocolName", false},
		{"ALPN name overruns list", new(ALPN), "0003 03 6832", "application_layer_protocol_negotiation extension", "ProtocolName", false},
		{"renegotiation_info missing length", new(RenegotiationInfo), "", "renegotiation_info extension", "renegotiated_connection", false},
		{"supported_versions empty", new(SupportedVersionsClient), "00", "supported_versions extension", "versions", false},
		{"supported_versions odd length", new(SupportedVersionsClient), "03 030403", "supported_versions extension", "versions", false},
		{"supported_versions 255 bytes", new(SupportedVersionsClient), "ff" + strings.Repeat("03", 255), "supported_versions extension", "versions", false},
		{"selected_version short", new(SupportedVersionServer), "03", "supported_versions extension", "selected_version", false},
		{"key_share empty key_exchange", new(KeyShareClientHello), "0004 001d 0000", "key_share extension", "KeyShareEntry", false},
		{"key_share same group twice", new(KeyShareClientHello), "000a 001d 0001 01 001d 0001 02", "key_share extension", "one group", true},
		{"key_share server empty key_exchange", new(KeyShareServerHello), "001d 0000", "key_share extension", "server_share", false},
		{"psk_key_exchange_modes empty", new(PSKKeyExchangeModes), "00", "psk_key_exchange_modes extension", "ke_modes", false},
		{"pre_shared_key empty identity", new(PreSharedKeyClientHello),
			"000d 0001 aa 00000000 0000 00000000 0042" +
				"20 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
				"20 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
			"pre_shared_key extension", "PskIdentity", false},
		{"pre_shared_key identities shorter than 7", new(PreSharedKeyClientHello), "0006 0001 aa 000000", "pre_shared_key extension", "identities", false},
		{"pre_shared_key binder of 31 bytes", new(PreSharedKeyClientHello),
			"0007 0001 aa 00000000 0021 1f 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e 00",
			"pre_shared_key extension", "PskBinderEntry", false},
		{"pre_shared_key no binders", new(PreSharedKeyClientHello), "0007 0001 aa 00000000 0000", "pre_shared_key extension", "binders", false},
		{"pre_shared_key two identities one binder", new(PreSharedKeyClientHello),
			"000e 0001 aa 00000000 0001 bb 00000000 0021 20 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
			"pre_shared_key extension", "differ in number", true},
		{"cookie empty", new(Cookie), "0000", "cookie extension", "cookie", false},
		{"certificate_authorities empty DN", new(CertificateAuthorities), "0004 0000 0000", "certificate_authorities extension", "authorities", false},
		{"certificate_authorities shorter than 3", new(CertificateAuthorities), "0002 0000", "certificate_authorities extension", "authorities", false},
		{"server_certificate_type empty list", &CertificateTypeList{Ext: ExtServerCertificateType}, "00", "server_certificate_type extension", "certificate_types", false},
		{"client_certificate_type list overruns", &CertificateTypeList{Ext: ExtClientCertificateType}, "02 02", "client_certificate_type extension", "certificate_types", false},
		{"client_certificate_type X509 alone", &CertificateTypeList{Ext: ExtClientCertificateType}, "01 00", "client_certificate_type extension", "X509 alone", true},
		{"server_certificate_type selected missing", &CertificateTypeSelected{Ext: ExtServerCertificateType}, "", "server_certificate_type extension", "certificate_type", false},
		{"early_data of 2 bytes", new(EarlyDataIndication), "0000", "early_data extension", "max_early_data_size", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.into.Unmarshal(unhex(t, tc.hex))
			if tc.illegal {
				wantIllegalParameter(t, err, tc.message, tc.field)
			} else {
				wantDecodeError(t, err, tc.message, tc.field)
			}
		})
	}
}

// Unknown name types are skipped rather than rejected (RFC 6066 §3 lets the
// list grow), as long as they are framed like HostName.
func TestServerNameSkipsOtherNameTypes(t *testing.T) {
	var sn ServerName
	if err := sn.Unmarshal(unhex(t, "000c 07 0003 787878 00 0003 616263")); err != nil || sn.HostName != "abc" {
		t.Fatalf("Unmarshal = %v, HostName %q; want nil, \"abc\"", err, sn.HostName)
	}
}

func TestPreSharedKeyBindersLenCountsVectorAndPrefixes(t *testing.T) {
	p := PreSharedKeyClientHello{
		Identities: []PSKIdentity{{Identity: []byte{1}}, {Identity: []byte{2}}},
		Binders:    [][]byte{seq(0, 32), seq(0, 48)},
	}
	if got, want := p.BindersLen(), 2+1+32+1+48; got != want {
		t.Fatalf("BindersLen = %d, want %d", got, want)
	}
	enc := must(p.Marshal())
	binders := enc[len(enc)-p.BindersLen():]
	if binders[0] != 0 || binders[1] != 1+32+1+48 || binders[2] != 32 {
		t.Fatalf("the last BindersLen bytes %x do not start with the binders vector", binders)
	}
}
