package record_test

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
)

// TestAEAD13MatchesRFC8448 opens the protected records of RFC 8448 §3 and §4
// in order with the keys printed there, then seals the same plaintexts with
// a fresh cipher and expects the very same record bytes.
func TestAEAD13MatchesRFC8448(t *testing.T) {
	type rec struct {
		typ     record.ContentType
		payload string
		record  string
	}
	tests := []struct {
		name    string
		key, iv string
		records []rec // in sequence-number order from 0
	}{
		{"§3 server handshake: EncryptedExtensions..Finished", s3ServerHandshakeKey, s3ServerHandshakeIV,
			[]rec{{record.Handshake, s3ServerHandshakePayload, s3ServerHandshakeRecord}}},
		{"§3 client handshake: Finished", s3ClientHandshakeKey, s3ClientHandshakeIV,
			[]rec{{record.Handshake, s3ClientFinishedPayload, s3ClientFinishedRecord}}},
		{"§3 server application: NewSessionTicket, data, close_notify", s3ServerAppKey, s3ServerAppIV, []rec{
			{record.Handshake, s3NewSessionTicketPayload, s3NewSessionTicketRecord},
			{record.ApplicationData, s3ServerAppDataPayload, s3ServerAppDataRecord},
			{record.Alert, s3ServerAlertPayload, s3ServerAlertRecord},
		}},
		{"§3 client application: data, close_notify", s3ClientAppKey, s3ClientAppIV, []rec{
			{record.ApplicationData, s3ClientAppDataPayload, s3ClientAppDataRecord},
			{record.Alert, s3ClientAlertPayload, s3ClientAlertRecord},
		}},
		{"§4 client 0-RTT data", s4EarlyKey, s4EarlyIV,
			[]rec{{record.ApplicationData, s4EarlyDataPayload, s4EarlyDataRecord}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opener := record.NewAEAD13(newGCM(t, unhex(tt.key)), unhex(tt.iv), 0)
			sealer := record.NewAEAD13(newGCM(t, unhex(tt.key)), unhex(tt.iv), 0)
			for seq, r := range tt.records {
				hdr, fragment := splitRecord(unhex(r.record))
				typ, payload, err := opener.Open(hdr, fragment)
				if err != nil {
					t.Fatalf("record %d: Open: %v", seq, err)
				}
				if typ != r.typ || !bytes.Equal(payload, unhex(r.payload)) {
					t.Errorf("record %d: Open = %s %x, want %s %x", seq, typ, payload, r.typ, unhex(r.payload))
				}
				sealed, err := sealer.Seal(nil, r.typ, 0x0303, unhex(r.payload))
				if err != nil {
					t.Fatalf("record %d: Seal: %v", seq, err)
				}
				if !bytes.Equal(sealed, unhex(r.record)) {
					t.Errorf("record %d: Seal =\n %x\nwant\n %x", seq, sealed, unhex(r.record))
				}
			}
			if n := uint64(len(tt.records)); opener.Sequence() != n || sealer.Sequence() != n {
				t.Errorf("Sequence() = %d (open), %d (seal); want %d", opener.Sequence(), sealer.Sequence(), n)
			}
		})
	}
}

// seal13 protects an arbitrary TLSInnerPlaintext with sequence number 0,
// bypassing NewAEAD13, to make records our Seal would never produce.
func seal13(aead cipher.AEAD, iv, inner []byte) []byte {
	hdr := []byte{23, 3, 3, 0, 0}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+aead.Overhead()))
	return aead.Seal(hdr, iv, inner, hdr) // seq 0: the nonce is the IV itself
}

func TestAEAD13RefusesBadRecords(t *testing.T) {
	key, iv := unhex(s3ClientAppKey), unhex(s3ClientAppIV)
	aead := newGCM(t, key)
	good := unhex(s3ClientAppDataRecord)
	flipLast := append([]byte(nil), good...)
	flipLast[len(flipLast)-1] ^= 1
	flipBody := append([]byte(nil), good...)
	flipBody[record.HeaderLen] ^= 0x80
	alteredHeader := append([]byte(nil), good...)
	alteredHeader[2] = 1 // legacy_record_version is authenticated as part of the AAD

	tests := []struct {
		name   string
		record []byte
		alert  alert.Alert
		kind   error
	}{
		{"tag altered", flipLast, alert.BadRecordMAC, record.ErrBadRecordMAC},
		{"ciphertext altered", flipBody, alert.BadRecordMAC, record.ErrBadRecordMAC},
		{"header altered (it is the additional data)", alteredHeader, alert.BadRecordMAC, record.ErrBadRecordMAC},
		{"shorter than the tag", []byte{23, 3, 3, 0, 15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, alert.BadRecordMAC, record.ErrBadRecordMAC},
		{"inner plaintext all padding, no content type", seal13(aead, iv, make([]byte, 20)), alert.UnexpectedMessage, record.ErrEmptyInnerPlaintext},
		{"inner plaintext of zero bytes", seal13(aead, iv, nil), alert.UnexpectedMessage, record.ErrEmptyInnerPlaintext},
		{"protected change_cipher_spec", seal13(aead, iv, []byte{1, 20}), alert.UnexpectedMessage, record.ErrUnexpectedRecord},
		{"protected alert of 3 bytes", seal13(aead, iv, []byte{1, 0, 0, 21}), alert.DecodeError, record.ErrMalformedRecord},
		{"inner plaintext of 2^14+2 bytes", seal13(aead, iv, append(make([]byte, record.MaxPlaintext), 23, 0)), alert.RecordOverflow, record.ErrRecordOverflow},
		{"unprotected handshake record", []byte{22, 3, 3, 0, 4, 20, 0, 0, 0}, alert.UnexpectedMessage, record.ErrUnexpectedRecord},
		{"unprotected alert record", []byte{21, 3, 3, 0, 2, 2, 40}, alert.UnexpectedMessage, record.ErrUnexpectedRecord},
		{"change_cipher_spec that is not 01", []byte{20, 3, 3, 0, 1, 2}, alert.UnexpectedMessage, record.ErrUnexpectedRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := record.NewAEAD13(newGCM(t, key), iv, 0)
			hdr, fragment := splitRecord(tt.record)
			_, _, err := c.Open(hdr, fragment)
			wantAlert(t, err, tt.alert, tt.kind)
		})
	}

	// The refusals that happen before or at authentication leave the
	// sequence number alone, so the genuine record still opens.
	c := record.NewAEAD13(newGCM(t, key), iv, 0)
	hdr, fragment := splitRecord(flipLast)
	if _, _, err := c.Open(hdr, fragment); err == nil {
		t.Fatal("altered record opened")
	}
	hdr, fragment = splitRecord(good)
	if _, payload, err := c.Open(hdr, fragment); err != nil || !bytes.Equal(payload, unhex(s3ClientAppDataPayload)) {
		t.Errorf("after a failed Open, the genuine record: %x, %v", payload, err)
	}
}

func TestAEAD13PassesCompatibilityChangeCipherSpecThrough(t *testing.T) {
	c := record.NewAEAD13(newGCM(t, unhex(s3ServerHandshakeKey)), unhex(s3ServerHandshakeIV), 0)
	hdr, fragment := splitRecord(unhex(s7ChangeCipherSpecRecord))
	typ, payload, err := c.Open(hdr, fragment)
	if err != nil || typ != record.ChangeCipherSpec || !bytes.Equal(payload, []byte{1}) {
		t.Fatalf("Open(change_cipher_spec) = %s %x %v, want change_cipher_spec 01", typ, payload, err)
	}
	if c.Sequence() != 0 {
		t.Errorf("an unprotected change_cipher_spec consumed sequence number; Sequence() = %d", c.Sequence())
	}
}

func TestAEAD13Padding(t *testing.T) {
	key, iv := unhex(s3ClientAppKey), unhex(s3ClientAppIV)
	tests := []struct {
		name      string
		padTo     int
		payload   int
		wantInner int // TLSInnerPlaintext length
	}{
		{"no padding", 0, 100, 101},
		{"pad to 256", 256, 100, 256},
		{"exact multiple needs no padding", 256, 255, 256},
		{"one over a multiple", 256, 256, 512},
		{"padding never exceeds 2^14+1", 4096, record.MaxPlaintext, record.MaxPlaintext + 1},
		{"padding capped at 2^14+1", 1000, record.MaxPlaintext - 10, record.MaxPlaintext + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte{0xab}, tt.payload)
			sealer := record.NewAEAD13(newGCM(t, key), iv, tt.padTo)
			rec, err := sealer.Seal([]byte("prefix"), record.ApplicationData, 0x0301, payload)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(rec, []byte("prefix")) {
				t.Fatalf("Seal did not append to dst")
			}
			rec = rec[len("prefix"):]
			if got := len(rec) - record.HeaderLen - 16; got != tt.wantInner {
				t.Errorf("inner plaintext is %d bytes, want %d", got, tt.wantInner)
			}
			if !bytes.Equal(rec[:3], []byte{23, 3, 3}) {
				t.Errorf("outer header %x, want application_data 0x0303 whatever version Seal is given", rec[:3])
			}
			opener := record.NewAEAD13(newGCM(t, key), iv, 0)
			hdr, fragment := splitRecord(rec)
			typ, got, err := opener.Open(hdr, fragment)
			if err != nil || typ != record.ApplicationData || !bytes.Equal(got, payload) {
				t.Errorf("Open = %s, %d bytes, %v; want the %d-byte payload back", typ, len(got), err, len(payload))
			}
		})
	}
}

// TLS 1.2 records round-trip through Seal and Open for both nonce
// constructions, and a record sealed at one sequence number does not open
// at another (the sequence number is in the additional data).
func TestAEAD12SealOpen(t *testing.T) {
	key16, key32 := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 32)
	tests := []struct {
		name     string
		aead     func() cipher.AEAD
		iv       []byte
		explicit bool
		overhead int
	}{
		{"AES-GCM, explicit nonce (RFC 5288)", func() cipher.AEAD { return newGCM(t, key16) }, []byte{9, 9, 9, 9}, true, 8 + 16},
		{"ChaCha20-Poly1305, XORed nonce (RFC 7905)", func() cipher.AEAD { return newChaCha(t, key32) }, bytes.Repeat([]byte{7}, 12), false, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealer := record.NewAEAD12(tt.aead(), tt.iv, tt.explicit)
			opener := record.NewAEAD12(tt.aead(), tt.iv, tt.explicit)
			for i, msg := range []string{"first", "second", ""} {
				rec, err := sealer.Seal(nil, record.ApplicationData, 0x0303, []byte(msg))
				if err != nil {
					t.Fatal(err)
				}
				if len(rec) != record.HeaderLen+len(msg)+tt.overhead {
					t.Errorf("record %d is %d bytes, want %d", i, len(rec), record.HeaderLen+len(msg)+tt.overhead)
				}
				if tt.explicit && binary.BigEndian.Uint64(rec[5:13]) != uint64(i) {
					t.Errorf("explicit nonce %x, want the sequence number %d", rec[5:13], i)
				}
				hdr, fragment := splitRecord(rec)
				typ, got, err := opener.Open(hdr, fragment)
				if err != nil || typ != record.ApplicationData || string(got) != msg {
					t.Errorf("record %d: Open = %s %q %v, want %q", i, typ, got, err, msg)
				}
			}

			// Sealed at sequence 3, opened by a receiver at 0: refused.
			rec, _ := sealer.Seal(nil, record.ApplicationData, 0x0303, []byte("replayed?"))
			fresh := record.NewAEAD12(tt.aead(), tt.iv, tt.explicit)
			hdr, fragment := splitRecord(rec)
			_, _, err := fresh.Open(hdr, fragment)
			wantAlert(t, err, alert.BadRecordMAC, record.ErrBadRecordMAC)

			// A truncated fragment is an authentication failure, not a panic.
			for n := 0; n < tt.overhead; n++ {
				hdr, fragment := splitRecord(rec)
				fragment = fragment[:n]
				binary.BigEndian.PutUint16(hdr[3:], uint16(n))
				_, _, err := record.NewAEAD12(tt.aead(), tt.iv, tt.explicit).Open(hdr, fragment)
				wantAlert(t, err, alert.BadRecordMAC, record.ErrBadRecordMAC)
			}
		})
	}
}

func TestSealRefusesOversizePayload(t *testing.T) {
	ciphers := map[string]record.Cipher{
		"plaintext": record.Plaintext(false),
		"TLS 1.2":   record.NewAEAD12(newGCM(t, make([]byte, 16)), make([]byte, 4), true),
		"TLS 1.3":   record.NewAEAD13(newGCM(t, make([]byte, 16)), make([]byte, 12), 0),
	}
	for name, c := range ciphers {
		dst := []byte("keep")
		out, err := c.Seal(dst, record.ApplicationData, 0x0303, make([]byte, record.MaxPlaintext+1))
		if err == nil {
			t.Errorf("%s: sealed a 2^14+1-byte payload", name)
		}
		if string(out) != "keep" {
			t.Errorf("%s: Seal changed dst on error: %q", name, out)
		}
		if c.Sequence() != 0 {
			t.Errorf("%s: a refused Seal consumed a sequence number", name)
		}
	}
}

func TestNewAEADPanicsOnWrongIVLength(t *testing.T) {
	gcm := newGCM(t, make([]byte, 16))
	tests := []struct {
		name string
		f    func()
	}{
		{"TLS 1.2 GCM with a 12-byte IV", func() { record.NewAEAD12(gcm, make([]byte, 12), true) }},
		{"TLS 1.2 ChaCha with a 4-byte IV", func() { record.NewAEAD12(gcm, make([]byte, 4), false) }},
		{"TLS 1.3 with a 4-byte IV", func() { record.NewAEAD13(gcm, make([]byte, 4), 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			tt.f()
		})
	}
}

func TestContentTypeString(t *testing.T) {
	for typ, want := range map[record.ContentType]string{
		20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data", 24: "content_type(24)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("ContentType(%d).String() = %q, want %q", typ, got, want)
		}
	}
}
