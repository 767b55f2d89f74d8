package keys_test

import (
	"bytes"
	"crypto"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow/internal/keys"
)

// SHA-384 has no RFC 8448 trace, so these known answers come from OpenSSL
// 3.0's TLS13-KDF, written independently of ours:
//
//	extract() { openssl kdf -keylen 48 -kdfopt digest:SHA384 -kdfopt mode:EXTRACT_ONLY -kdfopt hexkey:$1 \
//	            ${2:+-kdfopt hexsalt:$2 -kdfopt 'prefix:tls13 ' -kdfopt label:derived} TLS13-KDF; }
//	expand()  { openssl kdf -keylen $4 -kdfopt digest:SHA384 -kdfopt mode:EXPAND_ONLY -kdfopt hexkey:$1 \
//	            -kdfopt 'prefix:tls13 ' -kdfopt "label:$2" ${3:+-kdfopt hexdata:$3} TLS13-KDF; }
//	EMPTY=$(printf '' | openssl sha384 -r | cut -c1-96)   # Hash("")
//
// Given a salt, OpenSSL's EXTRACT_ONLY first takes Derive-Secret(salt,
// "derived", "") as RFC 8446 §7.1 does between stages. The comment on each
// value is its command.
const (
	sha384PSK   = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30"
	sha384ECDHE = "5152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788" // 56 bytes, as X448 would give
	sha384TH1   = "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50"
	sha384TH2   = "6162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f90"
	sha384TH3   = "9192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0"

	sha384Early             = "e64174c689bb335160bd24e716e8b2280fd85bf5277d32840aa09af4872a6bfb91d02569cafaa7f3dddfec54b791287a" // extract $sha384PSK
	sha384ExtBinder         = "83d8e29c31d62e58b4846cfcc39946d290db51434211a0a09ac15fa0f74e32538d5d0125df25abe9ac9163a99fbcdcf7" // expand $sha384Early "ext binder" $EMPTY 48
	sha384ResBinder         = "def81d1ce438feb5868129e9132f8ad56c15d81e189a5347176ece5257de5fcbc9a15b48cd051f3aba6a992b374a34ea" // expand $sha384Early "res binder" $EMPTY 48
	sha384ImpBinder         = "49b34f6e3e840692a0c3e6a0a27b43b42e078a83bca53916e0e2e87bbc3c90c655db39982cbb116347f802b25bfe801f" // expand $sha384Early "imp binder" $EMPTY 48
	sha384ClientEarly       = "8fcc370b8422359cff92396fad4c690d0ca2c9c6c547cef9235db755a07bf944bfa53990df3e16a79e7ec9cc296cc785" // expand $sha384Early "c e traffic" $sha384TH1 48
	sha384Handshake         = "6e67beaa33b415610b6b48bc7709f6fca0c7cb63a1b4c4cd8546c4f5a0da663c7623018a07cff71a701b281e00766e9b" // extract $sha384ECDHE $sha384Early
	sha384ClientHandshake   = "1ee7f68d4c1623ccbfaa878b071fc7df017120f370637f181ffe5d6d4d656aec940d9e9870c813f17a9339ad73a4b0d8" // expand $sha384Handshake "c hs traffic" $sha384TH1 48
	sha384ServerHandshake   = "e42b175ef2a3a51be04361cc7ea7b98fab601d95e3addf084c7bac828f261e8cb4116bbc4dc4299b49d7607cde9419d6" // expand $sha384Handshake "s hs traffic" $sha384TH1 48
	sha384Master            = "53f40788f6bdabdbebb94e846931f912e8d353e3a17083f42256a40266a2ca43b294e3a34cf8de0c7f757e4f1f5b246a" // extract $(printf '0%.0s' {1..96}) $sha384Handshake
	sha384ClientApp         = "771649683aa170c43512b3dc190d30844e6bdd793aff95bc0b00bf1a20264efdc09832b5fc97e3e081cb9cb1a0cb7ecf" // expand $sha384Master "c ap traffic" $sha384TH2 48
	sha384ServerApp         = "5def026d997ce35b58bb6a69d0a3934c80663680090f1efb650105fc84f1e4418cd134dc06dba895b1677e7cbffadee3" // expand $sha384Master "s ap traffic" $sha384TH2 48
	sha384ExporterMaster    = "9e48741761c54d82c686883206c9998d6249da6b1b31c7da73fee423516a26f5010ee58fa658dee79d824970189dd103" // expand $sha384Master "exp master" $sha384TH2 48
	sha384ResumptionMaster  = "36110b4a28ed0586669cfc0567c5260b5ed665f6be03c3aa8fc97f7a25a878e8b4d896d490f313d59225ab8ea8fd6fdc" // expand $sha384Master "res master" $sha384TH3 48
	sha384ServerAppKey      = "36f78694d9062467aaaf7f6005e95430a411a29c173fb946e8c614ca154aae66"                                 // expand $sha384ServerApp key "" 32
	sha384ServerAppIV       = "670af22e2da7cbec915f1f73"                                                                         // expand $sha384ServerApp iv "" 12
	sha384ClientApp1        = "509da925303d65391d9326a6ff5e7cd456f7e7acec95d66aa08d303ecfb4d959af3d18f6fe0507409ee1b70ad8ff2fc9" // expand $sha384ClientApp "traffic upd" "" 48
	sha384ServerFinishedKey = "0199ad147a0391f5aa782e6501c966e74382e750a9039e86a1664c162920e4dd39307a2f291ca76d3704d57370ac2ac2" // expand $sha384ServerHandshake finished "" 48
	sha384ResumptionPSK     = "59b1fa613c8af9738961c15019079a6359821d7cd36b6bd843e331ea705ee0f861d29f6b3f24d618567a2e8d69324721" // expand $sha384ResumptionMaster resumption 0001 48
	// expand $(expand $sha384ExporterMaster EXPORTER-test $EMPTY 48) exporter $(printf context | openssl sha384 -r | cut -c1-96) 40
	sha384Exporter = "a3382d4d4c0921c0bdb5a4f221ca782931ee957c6e93ce12ec546ee4ce8e38b20f28adf44d6c3daf"
)

func TestSchedule13SHA384MatchesOpenSSL(t *testing.T) {
	h := keys.Std(crypto.SHA384)
	s := keys.NewSchedule13(h, unhex(sha384PSK))
	check(t, "early secret", s.EarlySecret(), sha384Early)
	check(t, "ext binder_key", s.BinderKey(keys.External), sha384ExtBinder)
	check(t, "res binder_key", s.BinderKey(keys.Resumption), sha384ResBinder)
	check(t, "imp binder_key", s.BinderKey(keys.Imported), sha384ImpBinder)
	check(t, "client_early_traffic_secret", s.ClientEarlyTrafficSecret(unhex(sha384TH1)), sha384ClientEarly)

	s.AdvanceToHandshake(unhex(sha384ECDHE))
	check(t, "handshake secret", s.HandshakeSecret(), sha384Handshake)
	check(t, "client_handshake_traffic_secret", s.ClientHandshakeTrafficSecret(unhex(sha384TH1)), sha384ClientHandshake)
	check(t, "server_handshake_traffic_secret", s.ServerHandshakeTrafficSecret(unhex(sha384TH1)), sha384ServerHandshake)

	s.AdvanceToMaster()
	check(t, "master secret", s.MasterSecret(), sha384Master)
	check(t, "client_application_traffic_secret_0", s.ClientApplicationTrafficSecret(unhex(sha384TH2)), sha384ClientApp)
	check(t, "server_application_traffic_secret_0", s.ServerApplicationTrafficSecret(unhex(sha384TH2)), sha384ServerApp)
	check(t, "exporter_master_secret", s.ExporterMasterSecret(unhex(sha384TH2)), sha384ExporterMaster)
	check(t, "resumption_master_secret", s.ResumptionMasterSecret(unhex(sha384TH3)), sha384ResumptionMaster)

	key, iv := keys.TrafficKey(h, unhex(sha384ServerApp), 32)
	check(t, "AES-256 write_key", key, sha384ServerAppKey)
	check(t, "write_iv", iv, sha384ServerAppIV)
	check(t, "application_traffic_secret_1 (KeyUpdate)", keys.NextTrafficSecret(h, unhex(sha384ClientApp)), sha384ClientApp1)
	check(t, "finished_key", keys.FinishedKey(h, unhex(sha384ServerHandshake)), sha384ServerFinishedKey)
	check(t, "resumption PSK", keys.ResumptionPSK(h, unhex(sha384ResumptionMaster), []byte{0, 1}), sha384ResumptionPSK)
	check(t, "exporter", keys.Exporter13(h, unhex(sha384ExporterMaster), "EXPORTER-test", []byte("context"), 40), sha384Exporter)
}

func TestSchedule13NilAndEmptyPSKMeanZeros(t *testing.T) {
	for _, psk := range [][]byte{nil, {}, make([]byte, 32)} {
		check(t, "early secret without PSK", keys.NewSchedule13(keys.Std(crypto.SHA256), psk).EarlySecret(), s3EarlySecret)
	}
}

func TestSchedule13SecretsAreCopies(t *testing.T) {
	s := keys.NewSchedule13(keys.Std(crypto.SHA256), nil)
	clear(s.EarlySecret())
	check(t, "early secret after the caller zeroed its copy", s.EarlySecret(), s3EarlySecret)
}

// A secret asked for at the wrong stage would come from the wrong secret;
// the schedule refuses loudly instead.
func TestSchedule13RefusesOutOfOrderUse(t *testing.T) {
	tests := []struct {
		name string
		use  func(s *keys.Schedule13)
	}{
		{"handshake traffic secret before AdvanceToHandshake", func(s *keys.Schedule13) { s.ClientHandshakeTrafficSecret(nil) }},
		{"master secret before AdvanceToMaster", func(s *keys.Schedule13) { s.AdvanceToHandshake(nil); s.MasterSecret() }},
		{"AdvanceToMaster from the early secret", func(s *keys.Schedule13) { s.AdvanceToMaster() }},
		{"AdvanceToHandshake twice", func(s *keys.Schedule13) { s.AdvanceToHandshake(nil); s.AdvanceToHandshake(nil) }},
		{"binder key after AdvanceToHandshake", func(s *keys.Schedule13) { s.AdvanceToHandshake(nil); s.BinderKey(keys.Resumption) }},
		{"early traffic secret after AdvanceToMaster", func(s *keys.Schedule13) {
			s.AdvanceToHandshake(nil)
			s.AdvanceToMaster()
			s.ClientEarlyTrafficSecret(nil)
		}},
		{"application traffic secret at the handshake secret", func(s *keys.Schedule13) {
			s.AdvanceToHandshake(nil)
			s.ServerApplicationTrafficSecret(nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("no panic")
				} else if msg, _ := r.(string); !strings.Contains(msg, "schedule is at") {
					t.Errorf("panic %v does not say where the schedule is", r)
				}
			}()
			tt.use(keys.NewSchedule13(keys.Std(crypto.SHA256), nil))
		})
	}
}

func TestExporter13RefusesWhatHKDFExpandLabelCannotEncode(t *testing.T) {
	em := unhex(s3ExporterMaster)
	tests := []struct {
		name  string
		label string
		n     int
	}{
		{"label of 250 bytes", strings.Repeat("x", 250), 32},
		{"negative length", "EXPORTER-test", -1},
		{"length above 255*Hash.length", "EXPORTER-test", 255*32 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys.Exporter13(keys.Std(crypto.SHA256), em, tt.label, nil, tt.n); got != nil {
				t.Errorf("Exporter13 = %x, want nil", got)
			}
		})
	}
	if got := keys.Exporter13(keys.Std(crypto.SHA256), em, strings.Repeat("x", 249), nil, 255*32); len(got) != 255*32 {
		t.Errorf("Exporter13 at the limits returned %d bytes, want %d", len(got), 255*32)
	}
}

func TestExporter13NoContextEqualsEmptyContext(t *testing.T) {
	em := unhex(s3ExporterMaster)
	a := keys.Exporter13(keys.Std(crypto.SHA256), em, "EXPORTER-test", nil, 32)
	b := keys.Exporter13(keys.Std(crypto.SHA256), em, "EXPORTER-test", []byte{}, 32)
	c := keys.Exporter13(keys.Std(crypto.SHA256), em, "EXPORTER-test", []byte{0}, 32)
	if !keys.Equal(a, b) {
		t.Errorf("nil and empty context differ in TLS 1.3 (RFC 8446 §7.5 hashes the context)")
	}
	if keys.Equal(a, c) {
		t.Errorf("a one-byte context gives the same output as no context")
	}
}

func TestExpandLabelPanicsOutsideHkdfLabelBounds(t *testing.T) {
	tests := []struct {
		name    string
		label   string
		context []byte
		n       int
	}{
		{"label over 249 bytes", strings.Repeat("l", 250), nil, 16},
		{"context over 255 bytes", "key", make([]byte, 256), 16},
		{"length over 255*Hash.length", "key", nil, 255*32 + 1},
		{"negative length", "key", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			keys.ExpandLabel(keys.Std(crypto.SHA256), make([]byte, 32), tt.label, tt.context, tt.n)
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b []byte
		want bool
	}{
		{"same bytes", []byte{1, 2, 3}, []byte{1, 2, 3}, true},
		{"last byte differs", []byte{1, 2, 3}, []byte{1, 2, 4}, false},
		{"prefix is not equal", []byte{1, 2}, []byte{1, 2, 3}, false},
		{"empty never matches", []byte{}, []byte{}, false},
		{"nil never matches", nil, nil, false},
		{"empty against non-empty", nil, []byte{1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys.Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(%x, %x) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// TestImportPSKMatchesOpenSSL: the importer of RFC 9258 §5.1, checked
// against OpenSSL's TLS13-KDF (which has no importer, only the two HKDF
// steps). The external PSK has no hash of its own, so SHA-256 derives; the
// target KDF sets the length:
//
//	EPSK=000102…1f; ID=0007636c69656e74310003637478030400$KDF   # client1, ctx, 0x0304, KDF
//	EPSKX=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt mode:EXTRACT_ONLY -kdfopt hexkey:$EPSK TLS13-KDF)
//	openssl kdf -keylen $L -kdfopt digest:SHA256 -kdfopt mode:EXPAND_ONLY -kdfopt hexkey:$EPSKX \
//	    -kdfopt 'prefix:tls13 ' -kdfopt 'label:derived psk' -kdfopt hexdata:$(sha256 of ID) TLS13-KDF
func TestImportPSKMatchesOpenSSL(t *testing.T) {
	epsk := unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	for _, tc := range []struct {
		kdf    string
		target crypto.Hash
		want   string
	}{
		{"01", crypto.SHA256, "522d1807e6b56479709decff254cccd5deb145bf6da4d7ab027758229c5f0a3f"},
		{"02", crypto.SHA384, "e508ed526e67011d3fb4f75e3d1d36d8a8c1ee143f87edbac12da750f714601641806798403373eafbf696ddceb9e409"},
	} {
		id := unhex("0007636c69656e74310003637478030400" + tc.kdf)
		check(t, "ipskx for KDF "+tc.kdf, keys.ImportPSK(keys.Std(crypto.SHA256), epsk, id, tc.target), tc.want)
	}
}

// HandshakeTrafficKeys keys one HMAC for three expansions (Reset between
// them); each must equal its own HKDF-Expand-Label with a fresh HMAC, and
// FinishedMAC with the finished_key must equal Finished13, for both hashes
// and for outputs longer than one block.
func TestHandshakeTrafficKeysMatchTheLabelsOneByOne(t *testing.T) {
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384} {
		kh := keys.Std(h)
		secret := []byte(strings.Repeat("s", h.Size()))
		th := []byte(strings.Repeat("t", h.Size()))
		for _, keyLen := range []int{16, 32, 80} {
			key, iv, fk := keys.HandshakeTrafficKeys(kh, secret, keyLen)
			wantKey, wantIV := keys.TrafficKey(kh, secret, keyLen)
			same(t, "key", key, wantKey)
			same(t, "key", key, keys.ExpandLabel(kh, secret, "key", nil, keyLen))
			same(t, "iv", iv, wantIV)
			same(t, "iv", iv, keys.ExpandLabel(kh, secret, "iv", nil, 12))
			same(t, "finished_key", fk, keys.FinishedKey(kh, secret))
			same(t, "verify_data", keys.FinishedMAC(kh, fk, th), keys.Finished13(kh, secret, th))
		}
	}
}

func same(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got  %x\n want %x", what, got, want)
	}
}
