package wire

import (
	"bytes"
	"testing"
)

func TestServerKeyExchangeParamsAreTheSignedPrefix(t *testing.T) {
	m := &ServerKeyExchange{Group: 0x001d, PublicKey: seq(1, 32), SignatureScheme: 0x0804, Signature: seq(0x80, 16)}
	params := must(m.Params())
	want := append([]byte{3, 0x00, 0x1d, 32}, seq(1, 32)...)
	if !bytes.Equal(params, want) {
		t.Fatalf("Params = %x, want %x", params, want)
	}
	if enc := must(m.Marshal()); !bytes.Equal(enc[4:4+len(params)], params) {
		t.Fatalf("Marshal body %x does not start with Params %x", enc[4:], params)
	}
}

func TestKeyExchangeMessagesRejectMalformed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		into    Message
		body    string
		message string
		field   string
		illegal bool
	}{
		{"explicit_prime curve_type", new(ServerKeyExchange), "01 0017 01 04 0403 0000", "ServerKeyExchange", "curve_type", true},
		{"explicit_char2 curve_type", new(ServerKeyExchange), "02 0017 01 04 0403 0000", "ServerKeyExchange", "curve_type", true},
		{"empty point", new(ServerKeyExchange), "03 001d 00 0804 0000", "ServerKeyExchange", "point", false},
		{"point longer than the message", new(ServerKeyExchange), "03 001d 20 0102", "ServerKeyExchange", "point", false},
		{"signature longer than the message", new(ServerKeyExchange), "03 001d 01 04 0804 0002 01", "ServerKeyExchange", "signature", false},
		{"no signature", new(ServerKeyExchange), "03 001d 01 04", "ServerKeyExchange", "algorithm", false},
		{"empty EncryptedPreMasterSecret", new(ClientKeyExchangeRSA), "0000", "ClientKeyExchange", "EncryptedPreMasterSecret", false},
		{"SSL 3.0 style unprefixed EncryptedPreMasterSecret", new(ClientKeyExchangeRSA), "0102030405", "ClientKeyExchange", "EncryptedPreMasterSecret", false},
		{"empty ecdh_Yc", new(ClientKeyExchangeECDHE), "00", "ClientKeyExchange", "ecdh_Yc", false},
		{"ecdh_Yc longer than the message", new(ClientKeyExchangeECDHE), "41 04", "ClientKeyExchange", "ecdh_Yc", false},
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
