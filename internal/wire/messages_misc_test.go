package wire

import (
	"fmt"
	"strings"
	"testing"
)

func TestMiscMessagesRejectMalformed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		into    Message
		body    string
		message string
		field   string
		illegal bool
	}{
		{"empty verify_data", new(Finished), "", "Finished", "verify_data", false},
		{"request_update 2", new(KeyUpdate), "02", "KeyUpdate", "request_update", true},
		{"request_update 255", new(KeyUpdate), "ff", "KeyUpdate", "request_update", true},
		{"request_update missing", new(KeyUpdate), "", "KeyUpdate", "request_update", false},
		{"EndOfEarlyData with a body", new(EndOfEarlyData), "00", "EndOfEarlyData", "trailing bytes", false},
		{"ServerHelloDone with a body", new(ServerHelloDone), "00", "ServerHelloDone", "trailing bytes", false},
		{"HelloRequest with a body", new(HelloRequest), "00", "HelloRequest", "trailing bytes", false},
		{"TLS 1.2 ticket longer than the message", new(NewSessionTicket), "00001c20 0005 0102", "NewSessionTicket", "ticket", false},
		{"TLS 1.2 ticket without lifetime", new(NewSessionTicket), "0000", "NewSessionTicket", "ticket_lifetime_hint", false},
		{"TLS 1.3 empty ticket", new(NewSessionTicket13), "00001c20 00000001 00 0000 0000", "NewSessionTicket", "ticket", false},
		{"TLS 1.3 nonce longer than the message", new(NewSessionTicket13), "00001c20 00000001 08 0102", "NewSessionTicket", "ticket_nonce", false},
		{"TLS 1.3 no extensions block", new(NewSessionTicket13), "00001c20 00000001 00 0001 aa", "NewSessionTicket", "extensions", false},
		{"TLS 1.3 duplicate extension", new(NewSessionTicket13), "00001c20 00000001 00 0001 aa 0010 002a 0004 00004000 002a 0004 00004000", "NewSessionTicket", "duplicate extension early_data", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.into.Unmarshal(frame(t, tc.into.Type(), tc.body))
			if tc.illegal {
				wantIllegalParameter(t, err, tc.message, tc.field)
			} else {
				wantDecodeError(t, err, tc.message, tc.field)
			}
		})
	}
}

// NewSessionTicket13 is the one block with an upper bound of 2^16-2
// (RFC 8446 §4.6.1): a 65535-byte extensions block must be refused, one byte
// less accepted.
func TestNewSessionTicket13ExtensionsUpperBoundIs2To16Minus2(t *testing.T) {
	ext := func(dataLen int) string {
		return fmt.Sprintf("0015%04x", dataLen) + strings.Repeat("00", dataLen) // one padding extension
	}
	head := "00001c20 00000001 00 0001 aa"
	tooLong := frame(t, TypeNewSessionTicket, head+"ffff"+ext(0xffff-4))
	wantDecodeError(t, new(NewSessionTicket13).Unmarshal(tooLong), "NewSessionTicket", "extensions")
	longest := frame(t, TypeNewSessionTicket, head+"fffe"+ext(0xfffe-4))
	if err := new(NewSessionTicket13).Unmarshal(longest); err != nil {
		t.Fatalf("65534-byte extensions block: %v", err)
	}
}

func TestKeyUpdateAcceptsBothDefinedValues(t *testing.T) {
	for _, v := range []uint8{UpdateNotRequested, UpdateRequested} {
		var k KeyUpdate
		if err := k.Unmarshal([]byte{byte(TypeKeyUpdate), 0, 0, 1, v}); err != nil || k.RequestUpdate != v {
			t.Errorf("request_update %d: %v, got %d", v, err, k.RequestUpdate)
		}
	}
}

// Finished carries no length of its own: its length is the suite's, so any
// non-empty body is accepted here and the engine checks the size.
func TestFinishedTakesWholeBodyAsVerifyData(t *testing.T) {
	var f Finished
	if err := f.Unmarshal(frame(t, TypeFinished, "0102030405060708090a0b0c")); err != nil || len(f.VerifyData) != 12 {
		t.Fatalf("Unmarshal = %v, VerifyData %x", err, f.VerifyData)
	}
}
