package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// Every handshake message printed in RFC 8448 that this package models must
// parse, and marshal back to exactly the printed bytes.
func TestRFC8448MessagesParseAndMarshalByteExact(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hex   string
		fresh func() Message
	}{
		{"§3 ClientHello", rfc8448ClientHello, func() Message { return new(ClientHello) }},
		{"§3 ServerHello", rfc8448ServerHello, func() Message { return new(ServerHello) }},
		{"§3 EncryptedExtensions", rfc8448EncryptedExtensions, func() Message { return new(EncryptedExtensions) }},
		{"§3 Certificate", rfc8448Certificate, func() Message { return new(Certificate13) }},
		{"§3 CertificateVerify", rfc8448CertificateVerify, func() Message { return new(CertificateVerify) }},
		{"§3 server Finished", rfc8448ServerFinished, func() Message { return new(Finished) }},
		{"§3 NewSessionTicket", rfc8448NewSessionTicket, func() Message { return new(NewSessionTicket13) }},
		{"§4 ClientHello with PSK", rfc8448ResumeClientHello, func() Message { return new(ClientHello) }},
		{"§4 ServerHello with PSK", rfc8448ResumeServerHello, func() Message { return new(ServerHello) }},
		{"§4 EncryptedExtensions with early_data", rfc8448ResumeEncryptedExtensions, func() Message { return new(EncryptedExtensions) }},
		{"§4 EndOfEarlyData", rfc8448EndOfEarlyData, func() Message { return new(EndOfEarlyData) }},
		{"§5 HelloRetryRequest", rfc8448HelloRetryRequest, func() Message { return new(ServerHello) }},
		{"§5 ClientHello after HelloRetryRequest", rfc8448RetryClientHello, func() Message { return new(ClientHello) }},
		{"§6 CertificateRequest", rfc8448CertificateRequest, func() Message { return new(CertificateRequest13) }},
		{"§6 client CertificateVerify", rfc8448ClientCertificateVerify, func() Message { return new(CertificateVerify) }},
		{"§7 ClientHello with legacy_session_id", rfc8448CompatClientHello, func() Message { return new(ClientHello) }},
		{"§7 ServerHello with legacy_session_id_echo", rfc8448CompatServerHello, func() Message { return new(ServerHello) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := unhex(t, tc.hex)
			m := tc.fresh()
			if err := m.Unmarshal(in); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if out := must(m.Marshal()); !bytes.Equal(out, in) {
				t.Fatalf("Marshal differs from RFC 8448:\n got %x\nwant %x", out, in)
			}
		})
	}
}

func parseRFC8448[M any, PM interface {
	*M
	Message
}](t *testing.T, hexMsg string) *M {
	t.Helper()
	m := PM(new(M))
	if err := m.Unmarshal(unhex(t, hexMsg)); err != nil {
		t.Fatalf("Unmarshal %v: %v", m.Type(), err)
	}
	return (*M)(m)
}

func extTypes(e Extensions) []ExtensionType {
	var ts []ExtensionType
	for _, x := range e {
		ts = append(ts, x.Type)
	}
	return ts
}

// decodeExt decodes extension t of e into v, failing the test if it is
// absent or malformed.
func decodeExt(t *testing.T, e Extensions, typ ExtensionType, v ExtensionData) {
	t.Helper()
	found, err := e.Decode(typ, v)
	if !found || err != nil {
		t.Fatalf("Decode(%v) = %v, %v", typ, found, err)
	}
}

func TestRFC8448Section3ClientHelloFields(t *testing.T) {
	ch := parseRFC8448[ClientHello](t, rfc8448ClientHello)
	if ch.Version != 0x0303 {
		t.Errorf("legacy_version = %#04x, want 0x0303", ch.Version)
	}
	if want := unhex(t, "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"); !bytes.Equal(ch.Random[:], want) {
		t.Errorf("random = %x, want %x", ch.Random, want)
	}
	if ch.SessionID != nil {
		t.Errorf("legacy_session_id = %x, want empty", ch.SessionID)
	}
	if want := []uint16{0x1301, 0x1303, 0x1302}; !reflect.DeepEqual(ch.CipherSuites, want) {
		t.Errorf("cipher_suites = %04x, want %04x", ch.CipherSuites, want)
	}
	if want := []uint8{0}; !reflect.DeepEqual(ch.CompressionMethods, want) {
		t.Errorf("legacy_compression_methods = %x, want 00", ch.CompressionMethods)
	}
	wantTypes := []ExtensionType{ExtServerName, ExtRenegotiationInfo, ExtSupportedGroups, ExtSessionTicket,
		ExtKeyShare, ExtSupportedVersions, ExtSignatureAlgorithms, ExtPSKKeyExchangeModes, ExtensionType(28)}
	if got := extTypes(ch.Extensions); !reflect.DeepEqual(got, wantTypes) {
		t.Errorf("extensions = %v, want %v", got, wantTypes)
	}

	var sn ServerName
	decodeExt(t, ch.Extensions, ExtServerName, &sn)
	if sn.HostName != "server" {
		t.Errorf("server_name = %q, want \"server\"", sn.HostName)
	}
	var ri RenegotiationInfo
	decodeExt(t, ch.Extensions, ExtRenegotiationInfo, &ri)
	if len(ri) != 0 {
		t.Errorf("renegotiation_info = %x, want empty", []byte(ri))
	}
	var groups SupportedGroups
	decodeExt(t, ch.Extensions, ExtSupportedGroups, &groups)
	if want := (SupportedGroups{0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104}); !reflect.DeepEqual(groups, want) {
		t.Errorf("supported_groups = %04x, want %04x", groups, want)
	}
	if ticket, ok := ch.Extensions.Find(ExtSessionTicket); !ok || len(ticket) != 0 {
		t.Errorf("session_ticket = %x, %v; want empty, present", ticket, ok)
	}
	var shares KeyShareClientHello
	decodeExt(t, ch.Extensions, ExtKeyShare, &shares)
	wantShare := KeyShareEntry{Group: 0x001d, KeyExchange: unhex(t, "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c")}
	if len(shares) != 1 || !reflect.DeepEqual(shares[0], wantShare) {
		t.Errorf("key_share = %+v, want one x25519 share %x", shares, wantShare.KeyExchange)
	}
	var versions SupportedVersionsClient
	decodeExt(t, ch.Extensions, ExtSupportedVersions, &versions)
	if want := (SupportedVersionsClient{0x0304}); !reflect.DeepEqual(versions, want) {
		t.Errorf("supported_versions = %04x, want 0304", versions)
	}
	var sigs SignatureAlgorithms
	decodeExt(t, ch.Extensions, ExtSignatureAlgorithms, &sigs)
	if want := (SignatureAlgorithms{0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806,
		0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202}); !reflect.DeepEqual(sigs, want) {
		t.Errorf("signature_algorithms = %04x, want %04x", sigs, want)
	}
	var modes PSKKeyExchangeModes
	decodeExt(t, ch.Extensions, ExtPSKKeyExchangeModes, &modes)
	if want := (PSKKeyExchangeModes{1}); !reflect.DeepEqual(modes, want) {
		t.Errorf("psk_key_exchange_modes = %x, want 01 (psk_dhe_ke)", []byte(modes))
	}
}

func TestRFC8448Section3ServerFlightFields(t *testing.T) {
	sh := parseRFC8448[ServerHello](t, rfc8448ServerHello)
	if sh.IsHelloRetryRequest() || sh.CipherSuite != 0x1301 || sh.SessionID != nil {
		t.Errorf("ServerHello = %+v, want TLS_AES_128_GCM_SHA256, empty session id, not HRR", sh)
	}
	if want := unhex(t, "a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928"); !bytes.Equal(sh.Random[:], want) {
		t.Errorf("random = %x, want %x", sh.Random, want)
	}
	var share KeyShareServerHello
	decodeExt(t, sh.Extensions, ExtKeyShare, &share)
	if want := unhex(t, "c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f"); share.Group != 0x001d || !bytes.Equal(share.KeyExchange, want) {
		t.Errorf("key_share = %04x %x, want x25519 %x", share.Group, share.KeyExchange, want)
	}
	var version SupportedVersionServer
	decodeExt(t, sh.Extensions, ExtSupportedVersions, &version)
	if version != 0x0304 {
		t.Errorf("selected_version = %#04x, want 0x0304", uint16(version))
	}

	ee := parseRFC8448[EncryptedExtensions](t, rfc8448EncryptedExtensions)
	if got, want := extTypes(ee.Extensions), []ExtensionType{ExtSupportedGroups, ExtensionType(28), ExtServerName}; !reflect.DeepEqual(got, want) {
		t.Errorf("EncryptedExtensions = %v, want %v", got, want)
	}
	if present, err := ee.Extensions.Empty(ExtServerName); !present || err != nil {
		t.Errorf("server_name acknowledgement: present %v, err %v", present, err)
	}

	cert := parseRFC8448[Certificate13](t, rfc8448Certificate)
	if len(cert.Context) != 0 || len(cert.Entries) != 1 {
		t.Fatalf("Certificate = context %x, %d entries; want empty, 1", cert.Context, len(cert.Entries))
	}
	if e := cert.Entries[0]; len(e.Data) != 0x1b0 || !bytes.HasPrefix(e.Data, unhex(t, "308201ac")) || e.Extensions != nil {
		t.Errorf("entry = %d bytes starting %x, extensions %v; want 432-byte DER certificate, none", len(e.Data), e.Data[:4], e.Extensions)
	}

	cv := parseRFC8448[CertificateVerify](t, rfc8448CertificateVerify)
	if cv.SignatureScheme != 0x0804 || len(cv.Signature) != 128 || !bytes.HasPrefix(cv.Signature, unhex(t, "5a747c5d")) {
		t.Errorf("CertificateVerify = %04x, %d-byte signature; want rsa_pss_rsae_sha256, 128 bytes", cv.SignatureScheme, len(cv.Signature))
	}

	fin := parseRFC8448[Finished](t, rfc8448ServerFinished)
	if want := unhex(t, "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718"); !bytes.Equal(fin.VerifyData, want) {
		t.Errorf("verify_data = %x, want %x", fin.VerifyData, want)
	}

	nst := parseRFC8448[NewSessionTicket13](t, rfc8448NewSessionTicket)
	if nst.Lifetime != 30 || nst.AgeAdd != 0xfad6aac5 || !bytes.Equal(nst.Nonce, []byte{0, 0}) || len(nst.Ticket) != 0xb2 {
		t.Errorf("NewSessionTicket = lifetime %d, age_add %#x, nonce %x, %d-byte ticket", nst.Lifetime, nst.AgeAdd, nst.Nonce, len(nst.Ticket))
	}
	var ed EarlyDataIndication
	decodeExt(t, nst.Extensions, ExtEarlyData, &ed)
	if want := (EarlyDataIndication{MaxEarlyDataSize: 1024, InNewSessionTicket: true}); ed != want {
		t.Errorf("early_data = %+v, want %+v", ed, want)
	}
}

// RFC 8448 §4 prints the ClientHello the binder covers ("ClientHello
// prefix") and, in the record payload, the ClientHello with its binder: the
// prefix is the full message minus BindersLen bytes.
func TestRFC8448Section4BindersCutTheClientHello(t *testing.T) {
	ch := parseRFC8448[ClientHello](t, rfc8448ResumeClientHello)
	if last := ch.Extensions[len(ch.Extensions)-1]; last.Type != ExtPreSharedKey {
		t.Fatalf("last extension = %v, want pre_shared_key", last.Type)
	}
	var psk PreSharedKeyClientHello
	decodeExt(t, ch.Extensions, ExtPreSharedKey, &psk)
	if len(psk.Identities) != 1 || len(psk.Identities[0].Identity) != 0xb2 || psk.Identities[0].ObfuscatedTicketAge != 0xfad6aacb {
		t.Errorf("identities = %+v, want one 178-byte ticket with age 0xfad6aacb", psk.Identities)
	}
	wantBinder := unhex(t, "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d")
	if len(psk.Binders) != 1 || !bytes.Equal(psk.Binders[0], wantBinder) {
		t.Errorf("binders = %x, want [%x]", psk.Binders, wantBinder)
	}
	if psk.BindersLen() != 35 {
		t.Errorf("BindersLen = %d, want 35", psk.BindersLen())
	}
	full := must(ch.Marshal())
	if prefix := unhex(t, rfc8448ResumeClientHelloPrefix); !bytes.Equal(full[:len(full)-psk.BindersLen()], prefix) {
		t.Errorf("ClientHello minus binders differs from RFC 8448 \"ClientHello prefix\"")
	}
	if present, err := ch.Extensions.Empty(ExtEarlyData); !present || err != nil {
		t.Errorf("early_data in ClientHello: present %v, err %v", present, err)
	}

	sh := parseRFC8448[ServerHello](t, rfc8448ResumeServerHello)
	var sel PreSharedKeyServerHello
	decodeExt(t, sh.Extensions, ExtPreSharedKey, &sel)
	if sel.SelectedIdentity != 0 {
		t.Errorf("selected_identity = %d, want 0", sel.SelectedIdentity)
	}
	ee := parseRFC8448[EncryptedExtensions](t, rfc8448ResumeEncryptedExtensions)
	if present, err := ee.Extensions.Empty(ExtEarlyData); !present || err != nil {
		t.Errorf("early_data in EncryptedExtensions: present %v, err %v", present, err)
	}
}

func TestRFC8448Section5HelloRetryRequestFields(t *testing.T) {
	hrr := parseRFC8448[ServerHello](t, rfc8448HelloRetryRequest)
	if !hrr.IsHelloRetryRequest() {
		t.Fatal("RFC 8448 §5 HelloRetryRequest not recognised")
	}
	var sel KeyShareHelloRetryRequest
	decodeExt(t, hrr.Extensions, ExtKeyShare, &sel)
	if sel.SelectedGroup != 0x0017 {
		t.Errorf("selected_group = %#04x, want secp256r1", sel.SelectedGroup)
	}
	var cookie Cookie
	decodeExt(t, hrr.Extensions, ExtCookie, &cookie)
	if len(cookie) != 0x72 {
		t.Errorf("cookie is %d bytes, want 114", len(cookie))
	}

	ch2 := parseRFC8448[ClientHello](t, rfc8448RetryClientHello)
	var echoed Cookie
	decodeExt(t, ch2.Extensions, ExtCookie, &echoed)
	if !bytes.Equal(echoed, cookie) {
		t.Error("second ClientHello cookie differs from the HelloRetryRequest's")
	}
	var shares KeyShareClientHello
	decodeExt(t, ch2.Extensions, ExtKeyShare, &shares)
	if len(shares) != 1 || shares[0].Group != 0x0017 || len(shares[0].KeyExchange) != 65 {
		t.Errorf("key_share = %+v, want one 65-byte secp256r1 share", shares)
	}
}

func TestRFC8448Section6CertificateRequestFields(t *testing.T) {
	cr := parseRFC8448[CertificateRequest13](t, rfc8448CertificateRequest)
	if len(cr.Context) != 0 {
		t.Errorf("certificate_request_context = %x, want empty", cr.Context)
	}
	var sigs SignatureAlgorithms
	decodeExt(t, cr.Extensions, ExtSignatureAlgorithms, &sigs)
	if len(sigs) != 15 || sigs[0] != 0x0403 {
		t.Errorf("signature_algorithms = %04x", sigs)
	}
	cv := parseRFC8448[CertificateVerify](t, rfc8448ClientCertificateVerify)
	if cv.SignatureScheme != 0x0403 || len(cv.Signature) != 0x47 {
		t.Errorf("client CertificateVerify = %04x with %d bytes, want ecdsa_secp256r1_sha256, 71", cv.SignatureScheme, len(cv.Signature))
	}
}

func TestRFC8448Section7CompatibilityModeSessionID(t *testing.T) {
	ch := parseRFC8448[ClientHello](t, rfc8448CompatClientHello)
	sh := parseRFC8448[ServerHello](t, rfc8448CompatServerHello)
	if len(ch.SessionID) != 32 || !bytes.Equal(sh.SessionID, ch.SessionID) {
		t.Errorf("legacy_session_id %x, echo %x; want 32 bytes echoed", ch.SessionID, sh.SessionID)
	}
}

// Vectors copied from RFC 8448 (hex as printed in the RFC), by section.
const (
	// §3 ClientHello (196 octets), line 177 of rfc8448.txt
	rfc8448ClientHello = "" +
		"010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece700000613011303130201" +
		"0000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400" +
		"230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b00" +
		"03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c" +
		"00024001"
	// §3 ServerHello (90 octets), line 241 of rfc8448.txt
	rfc8448ServerHello = "" +
		"020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024" +
		"001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304"
	// §3 EncryptedExtensions (40 octets), line 376 of rfc8448.txt
	rfc8448EncryptedExtensions = "" +
		"080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000"
	// §3 Certificate (445 octets), line 382 of rfc8448.txt
	rfc8448Certificate = "" +
		"0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a" +
		"06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a" +
		"0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98" +
		"0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312" +
		"0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0" +
		"3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355" +
		"1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f" +
		"8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102" +
		"702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8" +
		"f8961229ac9187b42b4de10000"
	// §3 CertificateVerify (136 octets), line 415 of rfc8448.txt
	rfc8448CertificateVerify = "" +
		"0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d3" +
		"3a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c" +
		"9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3"
	// §3 Finished (36 octets), line 441 of rfc8448.txt
	rfc8448ServerFinished = "" +
		"140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718"
	// §3 NewSessionTicket (205 octets), line 764 of rfc8448.txt
	rfc8448NewSessionTicket = "" +
		"040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf" +
		"1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827" +
		"db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228" +
		"bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a" +
		"e4d3570008002a000400000400"
	// §4 ClientHello with binder: the handshake record "payload (512 octets)",
	// line 972 of rfc8448.txt (the "ClientHello (477 octets)" above it stops
	// before the binders)
	rfc8448ResumeClientHello = "" +
		"010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d9500000613011303130201" +
		"0001cd0000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400" +
		"3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b00" +
		"03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c" +
		"000240010015005700000000000000000000000000000000000000000000000000000000000000000000000000000000" +
		"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
		"2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c936" +
		"7c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3" +
		"664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf2" +
		"97b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb002120" +
		"3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d"
	// §4 ClientHello prefix (477 octets), line 921 of rfc8448.txt
	rfc8448ResumeClientHelloPrefix = "" +
		"010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d9500000613011303130201" +
		"0001cd0000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400" +
		"3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b00" +
		"03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c" +
		"000240010015005700000000000000000000000000000000000000000000000000000000000000000000000000000000" +
		"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
		"2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c936" +
		"7c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3" +
		"664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf2" +
		"97b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb"
	// §4 ServerHello (96 octets), line 1110 of rfc8448.txt
	rfc8448ResumeServerHello = "" +
		"0200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f559ea2d00130100003400290002" +
		"000000330024001d0020121761ee42c333e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea31002b00020304"
	// §4 EncryptedExtensions (44 octets), line 1255 of rfc8448.txt
	rfc8448ResumeEncryptedExtensions = "" +
		"080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000002a0000"
	// §4 EndOfEarlyData (4 octets), line 1431 of rfc8448.txt
	rfc8448EndOfEarlyData = "" +
		"05000000"
	// §5 ServerHello (176 octets), line 1656 of rfc8448.txt
	rfc8448HelloRetryRequest = "" +
		"020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c00130100008400330002" +
		"0017002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd0030953f4edf6256" +
		"36e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16" +
		"aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002b00020304"
	// §5 ClientHello (512 octets), line 1710 of rfc8448.txt
	rfc8448RetryClientHello = "" +
		"010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f00000613011303130201" +
		"0001cd0000000b0009000006736572766572ff01000100000a00080006001d001700180033004700450017004104a6da" +
		"7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f0151812677c4d6d2237e85cf01d6910cfb83954e" +
		"76ba7352830534159897e8065780002b0003020304000d0020001e040305030603020308040805080604010501060102" +
		"010402050206020202002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd00" +
		"30953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b" +
		"0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002d00020101001c00024001001500" +
		"af0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
		"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
		"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
		"0000000000000000000000000000000000000000000000000000000000000000"
	// §6 CertificateRequest (43 octets), line 2591 of rfc8448.txt
	rfc8448CertificateRequest = "" +
		"0d000027000024000d0020001e040305030603020308040805080604010501060102010402050206020202"
	// §6 CertificateVerify (79 octets), line 2616 of rfc8448.txt
	rfc8448ClientCertificateVerify = "" +
		"0f00004b040300473045022100d7a4d34bd54f55fee1a89625678c3dd5e5f60dac73ec940c5c7b9304a02084a9022028" +
		"9f595ed488b9ac689a3d192b1a8bb38f34af7874c059c9806a1f38269353e8"
	// §7 ClientHello (224 octets), line 3075 of rfc8448.txt
	rfc8448CompatClientHello = "" +
		"010000dc03034e640a3f2c2738f09c9418bd78edccd7559d0531199276d4d92a0e9ee9d77d0920a80c165581a8e0d06c" +
		"0018d54d3a06dd32cfd4051eb026fad3fd0ba99269e6ef00061301130313020100008d0000000b000900000673657276" +
		"6572ff01000100000a00140012001d00170018001901000101010201030104003300260024001d00208e7292cf3056db" +
		"b0d25fcbe55c107dc9bbf83dd9708f39203ba341249a7d9b63002b0003020304000d0020001e04030503060302030804" +
		"0805080604010501060102010402050206020202002d00020101001c00024001"
	// §7 ServerHello (122 octets), line 3153 of rfc8448.txt
	rfc8448CompatServerHello = "" +
		"020000760303e5dd5948c435f7a38f0f0130708dc322d9df09abd4838117c183a7bb6d994f2c20a80c165581a8e0d06c" +
		"0018d54d3a06dd32cfd4051eb026fad3fd0ba99269e6ef130100002e00330024001d00203e30f0f4ba551afd62768341" +
		"175f5265e4daf0c8841617aa4fafdd2142320c22002b00020304"
)
