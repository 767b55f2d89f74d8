package wire

import (
	"bytes"
	"strings"
	"testing"
)

var zeroRandom = strings.Repeat("00", 32)

// clientHelloBody lays out a ClientHello body from hex pieces.
func clientHelloBody(sessionID, cipherSuites, compression, extensions string) string {
	return "0303" + zeroRandom + sessionID + cipherSuites + compression + extensions
}

func serverHelloBody(sessionID, compression, extensions string) string {
	return "0303" + zeroRandom + sessionID + "1301" + compression + extensions
}

func TestClientHelloRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		field string
	}{
		{"empty cipher_suites", clientHelloBody("00", "0000", "0100", "0000"), "cipher_suites"},
		{"odd-length cipher_suites", clientHelloBody("00", "0003 130113", "0100", "0000"), "cipher_suites"},
		{"cipher_suites longer than the message", clientHelloBody("00", "00ff 1301", "0100", "0000"), "cipher_suites"},
		{"legacy_session_id of 33 bytes", clientHelloBody("21"+strings.Repeat("aa", 33), "0002 1301", "0100", "0000"), "legacy_session_id"},
		{"legacy_session_id longer than the message", clientHelloBody("20 0102", "", "", ""), "legacy_session_id"},
		{"empty legacy_compression_methods", clientHelloBody("00", "0002 1301", "00", "0000"), "legacy_compression_methods"},
		{"extensions block longer than the message", clientHelloBody("00", "0002 1301", "0100", "0005 0017 0000"), "extensions"},
		{"one stray byte where extensions would be", clientHelloBody("00", "0002 1301", "0100", "00"), "extensions"},
		{"duplicate extension", clientHelloBody("00", "0002 1301", "0100", "0008 000a 0000 000a 0000"), "duplicate extension supported_groups"},
		{"bytes after the extensions", clientHelloBody("00", "0002 1301", "0100", "0000 0000"), "trailing bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDecodeError(t, new(ClientHello).Unmarshal(frame(t, TypeClientHello, tc.body)), "ClientHello", tc.field)
		})
	}
}

func TestClientHelloRequiresPreSharedKeyLast(t *testing.T) {
	notLast := frame(t, TypeClientHello, clientHelloBody("00", "0002 1301", "0100", "0008 0029 0000 0017 0000"))
	wantIllegalParameter(t, new(ClientHello).Unmarshal(notLast), "ClientHello", "pre_shared_key")

	last := frame(t, TypeClientHello, clientHelloBody("00", "0002 1301", "0100", "0008 0017 0000 0029 0000"))
	if err := new(ClientHello).Unmarshal(last); err != nil {
		t.Fatalf("pre_shared_key last: %v", err)
	}
}

// RFC 5246 §7.4.1.2: a TLS 1.2 hello may end right after the compression
// method(s), with no extensions block at all.
func TestHelloWithoutExtensionsBlockIsAccepted(t *testing.T) {
	var ch ClientHello
	if err := ch.Unmarshal(frame(t, TypeClientHello, clientHelloBody("00", "0004 c02f 009c", "0100", ""))); err != nil {
		t.Fatalf("ClientHello: %v", err)
	}
	if ch.Extensions != nil || len(ch.CipherSuites) != 2 || ch.CipherSuites[1] != 0x009c {
		t.Fatalf("ClientHello = %+v", ch)
	}
	var sh ServerHello
	if err := sh.Unmarshal(frame(t, TypeServerHello, serverHelloBody("00", "00", ""))); err != nil {
		t.Fatalf("ServerHello: %v", err)
	}
	if sh.Extensions != nil || sh.CipherSuite != 0x1301 {
		t.Fatalf("ServerHello = %+v", sh)
	}
}

func TestServerHelloRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		field string
	}{
		{"legacy_session_id_echo of 33 bytes", serverHelloBody("21"+strings.Repeat("aa", 33), "00", "0000"), "legacy_session_id_echo"},
		{"missing legacy_compression_method", serverHelloBody("00", "", ""), "legacy_compression_method"},
		{"extension_data longer than the block", serverHelloBody("00", "00", "0006 002b 0004 0304"), "extensions"},
		{"duplicate extension", serverHelloBody("00", "00", "000c 002b 0002 0304 002b 0002 0304"), "duplicate extension supported_versions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDecodeError(t, new(ServerHello).Unmarshal(frame(t, TypeServerHello, tc.body)), "ServerHello", tc.field)
		})
	}
}

func TestServerHelloRejectsCompression(t *testing.T) {
	err := new(ServerHello).Unmarshal(frame(t, TypeServerHello, serverHelloBody("00", "01", "0000")))
	wantIllegalParameter(t, err, "ServerHello", "legacy_compression_method")
}

func TestIsHelloRetryRequestLooksOnlyAtRandom(t *testing.T) {
	hrr := &ServerHello{Random: HelloRetryRequestRandom}
	if !hrr.IsHelloRetryRequest() {
		t.Error("ServerHello with the HelloRetryRequest random not recognised")
	}
	sh := &ServerHello{Random: HelloRetryRequestRandom}
	sh.Random[31] ^= 1
	if sh.IsHelloRetryRequest() {
		t.Error("ServerHello with a different random taken for a HelloRetryRequest")
	}
}

func TestEmptyBodyMessagesMarshalToBareHeader(t *testing.T) {
	for _, m := range []Message{&HelloRequest{}, &ServerHelloDone{}, &EndOfEarlyData{}} {
		enc := must(m.Marshal())
		if len(enc) != 4 || enc[0] != byte(m.Type()) || enc[1]|enc[2]|enc[3] != 0 {
			t.Errorf("%v.Marshal() = %x, want %02x000000", m.Type(), enc, byte(m.Type()))
		}
	}
}

// In TLS 1.3 the compression byte is a constant, so another value is a
// decoding failure (decode_error), in a HelloRetryRequest as in a
// ServerHello; in TLS 1.2 it is a choice the client did not offer
// (illegal_parameter).
func TestServerHelloCompressionAlertDependsOnVersion(t *testing.T) {
	tls13 := serverHelloBody("00", "01", "0006 002b 0002 0304")
	wantDecodeError(t, new(ServerHello).Unmarshal(frame(t, TypeServerHello, tls13)), "ServerHello", "legacy_compression_method")
	tls12 := serverHelloBody("00", "01", "")
	wantIllegalParameter(t, new(ServerHello).Unmarshal(frame(t, TypeServerHello, tls12)), "ServerHello", "legacy_compression_method")
}

// A ServerHello without extensions omits the block (RFC 5246 §7.4.1.4): a
// client that sent none may not expect even an empty one.
func TestServerHelloWithoutExtensionsOmitsTheBlock(t *testing.T) {
	got := must((&ServerHello{Version: 0x0303, CipherSuite: 0x1301}).Marshal())
	want := frame(t, TypeServerHello, serverHelloBody("00", "00", ""))
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal = %x, want %x (no extensions block)", got, want)
	}
	var back ServerHello
	if err := back.Unmarshal(got); err != nil || len(back.Extensions) != 0 {
		t.Fatalf("Unmarshal = %v, %d extensions; want nil, 0", err, len(back.Extensions))
	}
}
