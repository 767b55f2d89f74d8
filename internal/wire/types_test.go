package wire

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestHandshakeTypeStringUsesRFCNames(t *testing.T) {
	for _, tc := range []struct {
		t    HandshakeType
		want string
	}{
		{TypeHelloRequest, "HelloRequest"},
		{TypeClientHello, "ClientHello"},
		{TypeServerHello, "ServerHello"},
		{TypeNewSessionTicket, "NewSessionTicket"},
		{TypeEndOfEarlyData, "EndOfEarlyData"},
		{TypeEncryptedExtensions, "EncryptedExtensions"},
		{TypeCertificate, "Certificate"},
		{TypeServerKeyExchange, "ServerKeyExchange"},
		{TypeCertificateRequest, "CertificateRequest"},
		{TypeServerHelloDone, "ServerHelloDone"},
		{TypeCertificateVerify, "CertificateVerify"},
		{TypeClientKeyExchange, "ClientKeyExchange"},
		{TypeFinished, "Finished"},
		{TypeCertificateStatus, "CertificateStatus"},
		{TypeKeyUpdate, "KeyUpdate"},
		{TypeMessageHash, "message_hash"},
		{HandshakeType(3), "HandshakeType(3)"},
		{HandshakeType(255), "HandshakeType(255)"},
	} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("HandshakeType(%d).String() = %q, want %q", uint8(tc.t), got, tc.want)
		}
	}
}

func TestExtensionTypeStringUsesRFCNames(t *testing.T) {
	for _, tc := range []struct {
		t    ExtensionType
		want string
	}{
		{ExtServerName, "server_name"},
		{ExtStatusRequest, "status_request"},
		{ExtSupportedGroups, "supported_groups"},
		{ExtECPointFormats, "ec_point_formats"},
		{ExtSignatureAlgorithms, "signature_algorithms"},
		{ExtALPN, "application_layer_protocol_negotiation"},
		{ExtSCT, "signed_certificate_timestamp"},
		{ExtPadding, "padding"},
		{ExtEncryptThenMAC, "encrypt_then_mac"},
		{ExtExtendedMasterSecret, "extended_master_secret"},
		{ExtSessionTicket, "session_ticket"},
		{ExtPreSharedKey, "pre_shared_key"},
		{ExtEarlyData, "early_data"},
		{ExtSupportedVersions, "supported_versions"},
		{ExtCookie, "cookie"},
		{ExtPSKKeyExchangeModes, "psk_key_exchange_modes"},
		{ExtCertificateAuthorities, "certificate_authorities"},
		{ExtPostHandshakeAuth, "post_handshake_auth"},
		{ExtSignatureAlgorithmsCert, "signature_algorithms_cert"},
		{ExtKeyShare, "key_share"},
		{ExtRenegotiationInfo, "renegotiation_info"},
		{ExtensionType(99), "extension(99)"},
		{ExtRecordSizeLimit, "record_size_limit"},
		{ExtEncryptedClientHello, "encrypted_client_hello"},
		{ExtECHOuterExtensions, "ech_outer_extensions"},
		{ExtensionType(0xfe0c), "extension(65036)"},
	} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("ExtensionType(%d).String() = %q, want %q", uint16(tc.t), got, tc.want)
		}
	}
}

func TestParseHeaderReadsTypeAndUint24Length(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		wantT   HandshakeType
		wantLen int
		wantOK  bool
	}{
		{"empty", nil, 0, 0, false},
		{"three bytes", []byte{1, 0, 0}, 0, 0, false},
		{"exact header", []byte{2, 0, 0, 0}, TypeServerHello, 0, true},
		{"uint24 big-endian", []byte{11, 0x01, 0x02, 0x03, 0xff}, TypeCertificate, 0x010203, true},
		{"maximum length", []byte{20, 0xff, 0xff, 0xff}, TypeFinished, 1<<24 - 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, n, ok := ParseHeader(tc.in)
			if typ != tc.wantT || n != tc.wantLen || ok != tc.wantOK {
				t.Fatalf("ParseHeader(%x) = %v, %d, %v; want %v, %d, %v", tc.in, typ, n, ok, tc.wantT, tc.wantLen, tc.wantOK)
			}
		})
	}
}

func TestHelloRetryRequestRandomIsSHA256OfLabel(t *testing.T) {
	if want := sha256.Sum256([]byte("HelloRetryRequest")); HelloRetryRequestRandom != want {
		t.Fatalf("HelloRetryRequestRandom = %x, want SHA-256(\"HelloRetryRequest\") = %x", HelloRetryRequestRandom, want)
	}
}

func TestMessageHashIsFramedAsType254(t *testing.T) {
	hash := seq(0x10, 32)
	got := MessageHash(hash)
	want := append([]byte{254, 0, 0, 32}, hash...)
	if !bytes.Equal(got, want) {
		t.Fatalf("MessageHash = %x, want %x", got, want)
	}
}

// Every message satisfies Message with a pointer receiver, and Type matches
// the type byte Marshal writes.
func TestMessageTypeMatchesMarshaledTypeByte(t *testing.T) {
	for _, s := range samples() {
		if got := HandshakeType(must(s.msg.Marshal())[0]); got != s.msg.Type() {
			t.Errorf("%s: Marshal writes msg_type %v, Type() says %v", s.name, got, s.msg.Type())
		}
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			enc := must(s.msg.Marshal())
			if typ, n, ok := ParseHeader(enc); !ok || typ != s.msg.Type() || n != len(enc)-4 {
				t.Fatalf("Marshal header = %v, %d, %v for %d bytes", typ, n, ok, len(enc))
			}
			got := s.fresh()
			if err := got.Unmarshal(enc); err != nil {
				t.Fatalf("Unmarshal(Marshal()) = %v", err)
			}
			if !reflect.DeepEqual(got, s.msg) {
				t.Fatalf("round trip changed the value:\n got %+v\nwant %+v", got, s.msg)
			}
			if again := must(got.Marshal()); !bytes.Equal(again, enc) {
				t.Fatalf("re-Marshal = %x, want %x", again, enc)
			}
		})
	}
}

// Cutting a message anywhere must fail, whether the header still claims the
// full length or is rewritten to match the shorter body; the only shorter
// bodies allowed are a TLS 1.2 hello cut exactly before its extensions and a
// shorter verify_data.
func TestMessagesRejectTruncationAtEveryLength(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			enc := must(s.msg.Marshal())
			name := s.msg.Type().String()
			for n := 0; n < len(enc); n++ {
				if err := s.fresh().Unmarshal(enc[:n]); err == nil {
					t.Fatalf("Unmarshal accepted the first %d of %d bytes", n, len(enc))
				} else if msg, _, _, ok := errorParts(err); !ok || msg != name {
					t.Fatalf("prefix %d: error %v does not name %s", n, err, name)
				}
			}
			body := enc[4:]
			for n := 0; n < len(body); n++ {
				err := s.fresh().Unmarshal(reframe(s.msg.Type(), body[:n]))
				allowed := n == s.optionalTail && n > 0 || s.msg.Type() == TypeFinished && n > 0
				switch {
				case err == nil && !allowed:
					t.Fatalf("Unmarshal accepted a body cut to %d of %d bytes", n, len(body))
				case err != nil && allowed:
					t.Fatalf("body cut to %d bytes is valid, got %v", n, err)
				}
				if msg, _, _, ok := errorParts(err); err != nil && (!ok || msg != name) {
					t.Fatalf("body cut to %d: error %v does not name %s", n, err, name)
				}
			}
		})
	}
}

func TestMessagesRejectTrailingBytes(t *testing.T) {
	for _, s := range samples() {
		if s.msg.Type() == TypeFinished {
			continue // verify_data is the whole body, so there is nothing to trail
		}
		t.Run(s.name, func(t *testing.T) {
			enc := must(s.msg.Marshal())
			err := s.fresh().Unmarshal(reframe(s.msg.Type(), append(enc[4:len(enc):len(enc)], 0)))
			msg, _, illegal, ok := errorParts(err)
			if !ok || illegal || msg != s.msg.Type().String() {
				t.Fatalf("error = %v, want a DecodeError for %s", err, s.msg.Type())
			}
		})
	}
}

func TestMessagesRejectWrongTypeByte(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			enc := must(s.msg.Marshal())
			enc[0] ^= 0x40
			wantDecodeError(t, s.fresh().Unmarshal(enc), s.msg.Type().String(), "msg_type")
		})
	}
}

func TestMessagesRejectHeaderLengthMismatch(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			enc := must(s.msg.Marshal())
			longer := append(enc[:len(enc):len(enc)], 0) // one byte more than the header declares
			wantDecodeError(t, s.fresh().Unmarshal(longer), s.msg.Type().String(), "length")
			enc[3]++ // header declares one byte more than there is
			wantDecodeError(t, s.fresh().Unmarshal(enc), s.msg.Type().String(), "length")
		})
	}
}

func TestUnmarshalErrorLeavesValueUnchanged(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			enc := must(s.msg.Marshal())
			got := s.fresh()
			if err := got.Unmarshal(enc); err != nil {
				t.Fatal(err)
			}
			before := must(got.Marshal())
			if err := got.Unmarshal(enc[:len(enc)-1]); err == nil {
				t.Fatal("truncated message accepted")
			}
			if after := must(got.Marshal()); !bytes.Equal(before, after) {
				t.Fatalf("failed Unmarshal changed the value: %x -> %x", before, after)
			}
		})
	}
}

// Building a message fails, and never panics, when a field is longer than
// its length prefix: the error names the message and unwraps to a
// MarshalError. Each case is data a peer or a configuration sized.
func TestMarshalFailsWhenAFieldOverflowsItsLengthPrefix(t *testing.T) {
	bigCookie := Cookie(make([]byte, 65530)) // with its headers, over a 2-byte extensions block
	var hello ClientHello
	hello.CipherSuites, hello.CompressionMethods = []uint16{0x1301}, []uint8{0}
	hello.Extensions.Add(ExtCookie, &bigCookie)
	names := make(CertificateAuthorities, 700)
	for i := range names {
		names[i] = make([]byte, 100) // 70,000 bytes of CA names
	}
	var req CertificateRequest13
	req.Extensions.Add(ExtCertificateAuthorities, &names)
	for _, tc := range []struct {
		name string
		msg  Message
		want string
	}{
		{"session ID over 32 bytes", &ClientHello{SessionID: make([]byte, 256)}, "ClientHello"},
		{"cookie echoed in a ClientHello", &hello, "ClientHello"},
		{"ticket over 2^16-1 bytes", &NewSessionTicket{Ticket: make([]byte, 1<<16)}, "NewSessionTicket"},
		{"CA names over 2^16-1 bytes (TLS 1.2)", &CertificateRequest{CertificateTypes: []uint8{1},
			SignatureAlgorithms: []uint16{0x0403}, CertificateAuthorities: names}, "CertificateRequest"},
		{"CA names over 2^16-1 bytes (TLS 1.3)", &req, "certificate_authorities"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.msg.Marshal()
			var me *MarshalError
			if err == nil || !errors.As(err, &me) || out != nil {
				t.Fatalf("Marshal() = %d bytes, %v; want no bytes and a *MarshalError", len(out), err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

func TestErrorStringsNameMessageAndField(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&DecodeError{Message: "ClientHello", Field: "cipher_suites"}, "wire: cannot decode ClientHello: cipher_suites"},
		{&DecodeError{Message: "Finished"}, "wire: cannot decode Finished"},
		{&IllegalParameterError{Message: "KeyUpdate", Field: "request_update"}, "wire: illegal parameter in KeyUpdate: request_update"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
