package main

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"golang.org/x/crypto/cryptobyte"
)

func TestUnknownAndMissingFeatureFlagsAreUnimplemented(t *testing.T) {
	for _, args := range [][]string{
		{"-no-such-flag"},
		{"-dtls"},
		{"-on-resume-early-write-after-message", "2"},
		{"-expect-total-renegotiations", "1"},
	} {
		_, _, _, err := parseFlags(args)
		var unimpl *errUnimplemented
		if !errors.As(err, &unimpl) {
			t.Errorf("parseFlags(%q) = %v, want errUnimplemented", args, err)
		}
		if code := shimMain(args); code != exitUnimplemented {
			t.Errorf("shimMain(%q) = %d, want %d", args, code, exitUnimplemented)
		}
	}
}

func TestPrefixedFlagsApplyToTheirConnectionOnly(t *testing.T) {
	initial, resume, _, err := parseFlags([]string{
		"-server", "-on-resume-expect-session-miss", "-on-initial-expect-alpn", "foo",
		"-on-handshaker-max-version", "771", "-on-shim-curves", "29", "-resume-count", "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !initial.server || !resume.server || initial.resumeCnt != 1 {
		t.Errorf("unprefixed flags not applied to both: %+v / %+v", initial, resume)
	}
	if initial.expectSessionMiss || !resume.expectSessionMiss {
		t.Errorf("-on-resume-expect-session-miss: initial %v, resume %v", initial.expectSessionMiss, resume.expectSessionMiss)
	}
	if initial.expectALPN != "foo" || resume.expectALPN != "" {
		t.Errorf("-on-initial-expect-alpn: initial %q, resume %q", initial.expectALPN, resume.expectALPN)
	}
	if initial.maxVersion != 0 {
		t.Errorf("-on-handshaker-max-version reached the shim: %d", initial.maxVersion)
	}
	if !slices.Equal(initial.curves, []int{29}) {
		t.Errorf("-on-shim-curves: %v", initial.curves)
	}
}

func TestFlagWithoutParameterIsAnError(t *testing.T) {
	_, _, _, err := parseFlags([]string{"-port"})
	var unimpl *errUnimplemented
	if err == nil || errors.As(err, &unimpl) {
		t.Errorf("parseFlags(-port) = %v, want a plain error", err)
	}
}

func TestALPNListParsing(t *testing.T) {
	for _, tc := range []struct {
		wire string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"\x03foo\x03bar", []string{"foo", "bar"}, true},
		{"\x04foo", nil, false},
		{"\x00", nil, false},
	} {
		got, err := parseALPNList(tc.wire)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("parseALPNList(%q) = %q, %v; want %q, ok=%v", tc.wire, got, err, tc.want, tc.ok)
		}
	}
}

func TestSignatureSchemeReadFromRawMessages(t *testing.T) {
	for _, tc := range []struct {
		message string
		raw     []byte
		want    uint16
		ok      bool
	}{
		{"CertificateVerify", []byte{15, 0, 0, 4, 0x08, 0x04, 0, 0}, 0x0804, true},
		// curve_type 3, x25519, a 2-byte point, then ecdsa_secp256r1_sha256.
		{"ServerKeyExchange", []byte{12, 0, 0, 8, 3, 0, 29, 2, 0xaa, 0xbb, 0x04, 0x03}, 0x0403, true},
		{"ServerKeyExchange", []byte{12, 0, 0, 5, 3, 0, 29, 9, 0xaa}, 0, false},
		{"CertificateVerify", []byte{15, 0, 0}, 0, false},
		{"Finished", []byte{20, 0, 0, 2, 1, 2}, 0, false},
	} {
		got, ok := signatureSchemeOf(tc.message, tc.raw)
		if got != tc.want || ok != tc.ok {
			t.Errorf("signatureSchemeOf(%s, %x) = %#04x, %v; want %#04x, %v", tc.message, tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCipherRuleNamesOnlyImplementedSuites(t *testing.T) {
	ids, err := cipherSuites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 4 { // the three TLS 1.3 suites stay on
		t.Errorf("cipherSuites = %x", ids)
	}
	var unimpl *errUnimplemented
	if _, err := cipherSuites("ALL:3DES"); !errors.As(err, &unimpl) {
		t.Errorf("cipherSuites(ALL:3DES) = %v, want errUnimplemented", err)
	}
}

func TestSignaturePrefsMapOntoConfigAndCertificateLists(t *testing.T) {
	defaults := defaultSchemes()
	for _, tc := range []struct {
		name             string
		signing, verify  []int
		wantVerify       []tlsflow.SignatureScheme
		wantSigning      []tlsflow.SignatureScheme
		unimplemented    bool
		unimplementedSig bool
	}{
		{name: "neither: tlsflow's defaults for both"},
		{name: "signing only: the certificate's list, defaults accepted", signing: []int{0x0804, 0x0403},
			wantSigning: []tlsflow.SignatureScheme{0x0804, 0x0403}},
		{name: "verify only: the certificate keeps signing with the defaults", verify: []int{0x0403},
			wantVerify: []tlsflow.SignatureScheme{0x0403}, wantSigning: defaults},
		{name: "both, different", signing: []int{0x0403}, verify: []int{0x0804},
			wantVerify: []tlsflow.SignatureScheme{0x0804}, wantSigning: []tlsflow.SignatureScheme{0x0403}},
		{name: "sha1 scheme to verify", verify: []int{0x0201}, unimplemented: true},
		{name: "ed448 to sign", signing: []int{0x0808}, unimplementedSig: true},
		{name: "out of range", verify: []int{0x10000}, unimplemented: true},
	} {
		var unimpl *errUnimplemented
		verify, err := schemeList("-verify-prefs", tc.verify)
		if tc.unimplemented != errors.As(err, &unimpl) {
			t.Errorf("%s: -verify-prefs err = %v, want unimplemented %v", tc.name, err, tc.unimplemented)
		}
		if tc.unimplemented {
			continue
		}
		signing, err := signingSchemes("-signing-prefs", tc.signing, tc.verify != nil)
		if tc.unimplementedSig != errors.As(err, &unimpl) {
			t.Errorf("%s: -signing-prefs err = %v, want unimplemented %v", tc.name, err, tc.unimplementedSig)
		}
		if tc.unimplementedSig {
			continue
		}
		if !slices.Equal(verify, tc.wantVerify) || (verify == nil) != (tc.wantVerify == nil) {
			t.Errorf("%s: Config.SignatureSchemes %#04x, want %#04x", tc.name, verify, tc.wantVerify)
		}
		if !slices.Equal(signing, tc.wantSigning) || (signing == nil) != (tc.wantSigning == nil) {
			t.Errorf("%s: SupportedSignatureAlgorithms %#04x, want %#04x", tc.name, signing, tc.wantSigning)
		}
	}
}

func TestEveryUnimplementedFlagOfATestIsReported(t *testing.T) {
	_, _, _, err := parseFlags([]string{"-dtls", "-port", "1", "-mtu", "1000", "-no-such-flag", "x",
		"-on-resume-expect-ticket-age-skew", "5", "-dtls"})
	var unimpl *errUnimplemented
	if !errors.As(err, &unimpl) {
		t.Fatalf("parseFlags = %v, want errUnimplemented", err)
	}
	if unimpl.flag != "-dtls" || !slices.Equal(unimpl.also, []string{"-mtu", "-no-such-flag", "-expect-ticket-age-skew"}) {
		t.Errorf("first %s, also %q; want -dtls, then -mtu, -no-such-flag, -expect-ticket-age-skew once each", unimpl.flag, unimpl.also)
	}
}

func TestFlagsForFeaturesTlsflowHasAreAccepted(t *testing.T) {
	initial, _, _, err := parseFlags([]string{
		"-use-early-callback", "-use-old-client-cert-callback", "-use-custom-verify-callback",
		"-expect-verify-result", "-expect-extended-master-secret", "-tls-unique", "-export-traffic-secrets",
		"-expect-early-data-reason", "disabled", "-expect-ticket-renewal", "-expect-session-id",
		"-resumption-delay", "10", "-use-client-ca-list", "<NULL>", "-fail-early-callback",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !initial.expectVerifyResult || !initial.expectEMS || !initial.tlsUnique || !initial.exportTrafficSecrets ||
		!initial.expectTicketRenewal || !initial.expectSessionID || initial.resumptionDelay != 10 ||
		initial.useClientCAList != "<NULL>" || !initial.failEarlyCallback {
		t.Errorf("flags not recorded: %+v", initial)
	}
}

func TestSessionIDReadFromServerHello(t *testing.T) {
	hello := append([]byte{2, 0, 0, 0, 3, 3}, make([]byte, 32)...)
	for _, tc := range []struct {
		name string
		raw  []byte
		want []byte
	}{
		{"empty", slices.Concat(hello, []byte{0, 0x13, 0x01, 0}), nil},
		{"two bytes", slices.Concat(hello, []byte{2, 0xaa, 0xbb, 0x13, 0x01, 0}), []byte{0xaa, 0xbb}},
		{"truncated", slices.Concat(hello, []byte{5, 0xaa}), nil},
		{"no session_id", hello, nil},
	} {
		if got := sessionIDOf(tc.raw); !slices.Equal(got, tc.want) {
			t.Errorf("%s: sessionIDOf = %x, want %x", tc.name, got, tc.want)
		}
	}
}

func TestTrafficSecretsReadFromKeyLog(t *testing.T) {
	log := "CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 0a\nCLIENT_TRAFFIC_SECRET_0 00 c1c1\nSERVER_TRAFFIC_SECRET_0 00 5e5e\n"
	read, write, err := trafficSecrets(log, true)
	if err != nil || !slices.Equal(read, []byte{0x5e, 0x5e}) || !slices.Equal(write, []byte{0xc1, 0xc1}) {
		t.Errorf("client: read %x, write %x, %v; want 5e5e, c1c1", read, write, err)
	}
	read, write, _ = trafficSecrets(log, false)
	if !slices.Equal(read, []byte{0xc1, 0xc1}) || !slices.Equal(write, []byte{0x5e, 0x5e}) {
		t.Errorf("server: read %x, write %x; want c1c1, 5e5e", read, write)
	}
	if _, _, err := trafficSecrets("CLIENT_RANDOM 00 ff\n", true); err == nil {
		t.Error("a TLS 1.2 key log gave traffic secrets")
	}
}

func TestClientCAListNamesTheGivenAuthorities(t *testing.T) {
	names := [][]byte{
		{0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 'C', 'A', ' ', '1'},
		{0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 'C', 'A', ' ', '2'},
	}
	pool, err := clientCAList(hex.EncodeToString(names[0]) + "," + hex.EncodeToString(names[1]))
	if err != nil {
		t.Fatal(err)
	}
	if got := pool.Subjects(); !slices.EqualFunc(got, names, bytes.Equal) {
		t.Errorf("pool subjects %x, want %x", got, names)
	}
	for _, none := range []string{"", "<NULL>", "<EMPTY>"} {
		if pool, err := clientCAList(none); pool != nil || err != nil {
			t.Errorf("clientCAList(%q) = %v, %v; want no pool", none, pool, err)
		}
	}
}

// hello builds a ClientHello (typ 1) or ServerHello (typ 2) with the given
// cipher suites (ClientHello) and extension types.
func hello(typ byte, suites []uint16, exts []uint16) []byte {
	var b cryptobyte.Builder
	b.AddUint8(typ)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0x0303)
		b.AddBytes(make([]byte, 32))
		b.AddUint8(0) // session_id
		if typ == 1 {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, s := range suites {
					b.AddUint16(s)
				}
			})
			b.AddUint8(1)
			b.AddUint8(0)
		} else {
			b.AddUint16(0xc02f)
			b.AddUint8(0)
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range exts {
				b.AddUint16(e)
				b.AddUint16(0)
			}
		})
	})
	return b.BytesOrPanic()
}

func TestSecureRenegotiationReadFromThePeersHello(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
		want bool
	}{
		{"ClientHello with renegotiation_info", hello(1, []uint16{0xc02f}, []uint16{0x000a, 0xff01}), true},
		{"ClientHello with the SCSV", hello(1, []uint16{0xc02f, 0x00ff}, []uint16{0x000a}), true},
		{"ClientHello without either", hello(1, []uint16{0xc02f}, []uint16{0x000a}), false},
		{"ServerHello with renegotiation_info", hello(2, nil, []uint16{0xff01}), true},
		{"ServerHello without it", hello(2, nil, []uint16{0x0017}), false},
		{"truncated", hello(2, nil, []uint16{0xff01})[:40], false},
		{"nothing", nil, false},
	} {
		if got := helloSupportsSecureRenegotiation(tc.raw); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCredentialFlagsApplyToTheLastCredential(t *testing.T) {
	initial, resume, _, err := parseFlags([]string{
		"-cert-file", "default.pem", "-key-file", "default.key",
		"-new-x509-credential", "-cert-file", "a.pem", "-key-file", "a.key", "-must-match-issuer",
		"-on-resume-new-x509-credential", "-on-resume-cert-file", "r.pem", "-on-resume-signing-prefs", "2052",
		"-expect-selected-credential", "-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if initial.certFile != "default.pem" || initial.keyFile != "default.key" {
		t.Errorf("default certificate: %q %q", initial.certFile, initial.keyFile)
	}
	want := []credential{{certFile: "a.pem", keyFile: "a.key", mustMatchIssuer: true}}
	if !slices.EqualFunc(initial.credentials, want, func(a, b credential) bool {
		return a.certFile == b.certFile && a.keyFile == b.keyFile && a.mustMatchIssuer == b.mustMatchIssuer && a.signingPrefs == nil
	}) {
		t.Errorf("initial credentials = %+v, want %+v", initial.credentials, want)
	}
	if len(resume.credentials) != 2 || resume.credentials[1].certFile != "r.pem" ||
		!slices.Equal(resume.credentials[1].signingPrefs, []int{2052}) || resume.signingPrefs != nil {
		t.Errorf("resume credentials = %+v (signing prefs %v)", resume.credentials, resume.signingPrefs)
	}
	if !initial.expectSelectedGiven || initial.expectSelected != -1 {
		t.Errorf("-expect-selected-credential: %v %d", initial.expectSelectedGiven, initial.expectSelected)
	}
}

func TestPerCredentialFeaturesTlsflowLacksAreUnimplemented(t *testing.T) {
	for _, args := range [][]string{
		{"-new-x509-credential", "-trust-anchor-id", "AQEB"},
		{"-must-match-issuer"}, // on the default certificate
	} {
		_, _, _, err := parseFlags(args)
		var unimpl *errUnimplemented
		if !errors.As(err, &unimpl) {
			t.Errorf("parseFlags(%q) = %v, want errUnimplemented", args, err)
		}
	}
	// Accepted by the parser, refused once the shim knows its role.
	_, _, err := loadCredentials([]credential{{certFile: "a", keyFile: "b", mustMatchIssuer: true}}, true, false)
	var unimpl *errUnimplemented
	if !errors.As(err, &unimpl) {
		t.Errorf("loadCredentials(-must-match-issuer, server) = %v, want errUnimplemented", err)
	}
}

func TestOCSPAndSCTFlags(t *testing.T) {
	// Two SCTs, "ab" and "c", in a SignedCertificateTimestampList.
	list := []byte{0, 7, 0, 2, 'a', 'b', 0, 1, 'c'}
	b64 := base64.StdEncoding.EncodeToString
	initial, _, _, err := parseFlags([]string{
		"-enable-ocsp-stapling", "-enable-signed-cert-timestamps",
		"-ocsp-response", b64([]byte("staple")), "-signed-cert-timestamps", b64(list),
		"-expect-ocsp-response", b64([]byte("staple")), "-expect-signed-cert-timestamps", b64(list),
		"-new-x509-credential", "-ocsp-response", b64([]byte("other")), "-signed-cert-timestamps", b64(list),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{[]byte("ab"), []byte("c")}
	if string(initial.ocspResponse) != "staple" || !slices.EqualFunc(initial.scts, want, bytes.Equal) {
		t.Errorf("default certificate: staple %q, SCTs %q", initial.ocspResponse, initial.scts)
	}
	if c := initial.credentials[0]; string(c.ocspResponse) != "other" || !slices.EqualFunc(c.scts, want, bytes.Equal) {
		t.Errorf("credential: staple %q, SCTs %q", c.ocspResponse, c.scts)
	}
	if !bytes.Equal(sctListWire(initial.scts), initial.expectSCTs) || string(initial.expectOCSP) != "staple" {
		t.Errorf("expectations: %x %q", initial.expectSCTs, initial.expectOCSP)
	}
	// An empty list, an empty SCT, a wrong length: refused (not exit 89),
	// as BoringSSL refuses them (SignedCertificateTimestampListInvalid-Server).
	for _, bad := range [][]byte{{0, 0}, {0, 2, 0, 0}, {0, 3, 0, 2, 'a'}, {0}} {
		_, _, _, err := parseFlags([]string{"-signed-cert-timestamps", b64(bad)})
		var unimpl *errUnimplemented
		if err == nil || errors.As(err, &unimpl) {
			t.Errorf("-signed-cert-timestamps %x: %v, want a parse error", bad, err)
		}
	}
	if sctListWire(nil) != nil {
		t.Error("sctListWire(nil) is not nil")
	}
}

func TestFirstCertificateReadFromCertificateMessages(t *testing.T) {
	leaf, other := []byte("leaf DER"), []byte("issuer DER")
	entries := func(tls13 bool) []byte {
		var b cryptobyte.Builder
		b.AddUint8(11) // HandshakeType certificate
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			if tls13 {
				b.AddUint8(0) // certificate_request_context
			}
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, der := range [][]byte{leaf, other} {
					b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(der) })
					if tls13 {
						b.AddUint16(0) // extensions
					}
				}
			})
		})
		return b.BytesOrPanic()
	}
	for _, tls13 := range []bool{false, true} {
		got, err := firstCertificate(entries(tls13), tls13)
		if err != nil || !bytes.Equal(got, leaf) {
			t.Errorf("TLS 1.3 %v: firstCertificate = %q, %v; want %q", tls13, got, err, leaf)
		}
	}
	if _, err := firstCertificate([]byte{11, 0, 0, 3, 0, 0, 0}, false); err == nil {
		t.Error("an empty certificate_list gave no error")
	}
}

func TestSigningPrefsApplyToTheirCredential(t *testing.T) {
	ca := pki.MustNewCA("shim test CA", pki.ECDSAP256)
	dir := t.TempDir()
	files := func(name string, kt pki.KeyType) (string, string) {
		leaf := ca.MustServer(kt, "localhost")
		certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
		if err := os.WriteFile(certFile, leaf.ChainPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, leaf.KeyPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		return certFile, keyFile
	}
	rsaCert, rsaKey := files("rsa", pki.RSA2048)
	ecCert, ecKey := files("ecdsa", pki.ECDSAP256)
	creds := []credential{
		{certFile: rsaCert, keyFile: rsaKey, signingPrefs: []int{0x0805}},
		{certFile: ecCert, keyFile: ecKey},
	}
	for _, tt := range []struct {
		name        string
		verifyPrefs bool
		want        [][]tlsflow.SignatureScheme
	}{
		{"without -verify-prefs the second signs with Config.SignatureSchemes", false,
			[][]tlsflow.SignatureScheme{{tlsflow.PSSWithSHA384}, nil}},
		{"with -verify-prefs the second signs with tlsflow's defaults", true,
			[][]tlsflow.SignatureScheme{{tlsflow.PSSWithSHA384}, defaultSchemes()}},
	} {
		certs, _, err := loadCredentials(creds, true, tt.verifyPrefs)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for i, c := range certs {
			if got := c.SupportedSignatureAlgorithms; !slices.Equal(got, tt.want[i]) || (got == nil) != (tt.want[i] == nil) {
				t.Errorf("%s: credential %d: SupportedSignatureAlgorithms %v, want %v", tt.name, i, got, tt.want[i])
			}
		}
	}
	creds[1].signingPrefs = []int{0x0203} // ecdsa_sha1
	var unimpl *errUnimplemented
	if _, _, err := loadCredentials(creds, true, false); !errors.As(err, &unimpl) {
		t.Errorf("a credential signing with ecdsa_sha1: err = %v, want errUnimplemented", err)
	}
}

func TestPSKCredentialFlagsMakeImportedExternalPSKs(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	initial, resume, _, err := parseFlags([]string{
		"-new-x509-credential", "-cert-file", "a.pem", "-key-file", "a.key",
		"-new-psk-credential", "-psk-importer-key", b64("0123456789abcdef0123456789abcdef"),
		"-psk-importer-identity", b64("psk1"), "-psk-importer-context", b64("context1"), "-psk-importer-sha384",
		"-on-resume-new-psk-credential", "-on-resume-psk-importer-key", b64("fedcba9876543210fedcba9876543210"),
		"-on-resume-psk-importer-identity", b64("psk2"), "-on-resume-psk-importer-sha256",
		"-expect-no-peer-cert", "-expect-selected-credential", "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(initial.credentials) != 2 || initial.credentials[0].psk != nil || initial.credentials[0].certFile != "a.pem" {
		t.Fatalf("initial credentials = %+v, want the x509 one, then the PSK", initial.credentials)
	}
	want := tlsflow.ExternalPSK{Identity: []byte("psk1"), Key: []byte("0123456789abcdef0123456789abcdef"),
		Hash: crypto.SHA384, Import: true, Context: []byte("context1")}
	if got := initial.credentials[1].psk; got == nil || !samePSK(*got, want) {
		t.Errorf("PSK credential = %+v, want %+v", got, want)
	}
	if len(resume.credentials) != 3 || resume.credentials[2].psk == nil ||
		string(resume.credentials[2].psk.Identity) != "psk2" || resume.credentials[2].psk.Hash != crypto.SHA256 ||
		resume.credentials[2].psk.Context != nil {
		t.Errorf("resume credentials = %+v, want a third, psk2 for SHA-256 without a context", resume.credentials)
	}
	if !initial.expectNoPeerCert || !resume.expectNoPeerCert {
		t.Error("-expect-no-peer-cert not recorded")
	}

	certs, psks, err := loadCredentials(initial.credentials[1:], false, false)
	if err != nil || certs != nil || len(psks) != 1 || !samePSK(psks[0], want) {
		t.Errorf("loadCredentials = %v, %+v, %v; want no certificate and the PSK", certs, psks, err)
	}
}

func samePSK(a, b tlsflow.ExternalPSK) bool {
	return bytes.Equal(a.Identity, b.Identity) && bytes.Equal(a.Key, b.Key) && a.Hash == b.Hash &&
		a.Import == b.Import && bytes.Equal(a.Context, b.Context) && a.WithoutECDHE == b.WithoutECDHE
}

func TestMisplacedOrIncompletePSKFlagsAreErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-psk-importer-key", "AAAA"},                                             // no credential
		{"-new-x509-credential", "-psk-importer-identity", "AAAA"},                // not a PSK credential
		{"-new-psk-credential", "-psk-importer-context", "not base64!"},           // not base64
		{"-cert-file", "a.pem", "-psk-importer-sha256"},                           // the default certificate
		{"-on-resume-new-psk-credential", "-on-initial-psk-importer-key", "AAAA"}, // initial has none
	} {
		_, _, _, err := parseFlags(args)
		var unimpl *errUnimplemented
		if err == nil || errors.As(err, &unimpl) {
			t.Errorf("parseFlags(%q) = %v, want a plain error", args, err)
		}
	}
	full := tlsflow.ExternalPSK{Identity: []byte("id"), Key: bytes.Repeat([]byte{1}, 32), Hash: crypto.SHA256, Import: true}
	for _, tc := range []struct {
		name string
		edit func(*credential)
	}{
		{"no key", func(c *credential) { c.psk.Key = nil }},
		{"no identity", func(c *credential) { c.psk.Identity = nil }},
		{"no hash", func(c *credential) { c.psk.Hash = 0 }},
		{"a certificate file", func(c *credential) { c.certFile = "a.pem" }},
		{"signing preferences", func(c *credential) { c.signingPrefs = []int{0x0804} }},
	} {
		p := full
		c := credential{psk: &p}
		tc.edit(&c)
		if _, _, err := loadCredentials([]credential{c}, true, false); err == nil {
			t.Errorf("%s: loadCredentials accepted the PSK credential", tc.name)
		}
	}
}

func TestSelectedCredentialCountsPSKsAndCertificates(t *testing.T) {
	creds := []credential{
		{psk: &tlsflow.ExternalPSK{Identity: []byte("psk1")}},
		{certFile: "no-such-file.pem"},
		{psk: &tlsflow.ExternalPSK{Identity: []byte("psk2")}},
	}
	for _, tc := range []struct {
		identity string
		want     int
	}{{"psk1", 0}, {"psk2", 2}} {
		got, err := selectedCredential([]byte(tc.identity), nil, 0, true, creds, "")
		if err != nil || got != tc.want {
			t.Errorf("PSK %q: selectedCredential = %d, %v; want %d", tc.identity, got, err, tc.want)
		}
	}
	if _, err := selectedCredential([]byte("psk3"), nil, 0, true, creds, ""); err == nil {
		t.Error("an unconfigured PSK identity was named")
	}
	// Neither a PSK nor a certificate: no credential was selected, which
	// -expect-selected-credential writes -1 (a client that was asked for
	// none, or had none to send).
	if got, err := selectedCredential(nil, nil, 0, true, creds, ""); err != nil || got != -1 {
		t.Errorf("neither a PSK nor a Certificate sent: selectedCredential = %d, %v; want -1", got, err)
	}
	if _, err := selectedCredential(nil, nil, 0, true, creds, "default.pem"); err == nil {
		t.Error("nothing sent, yet the default certificate was named")
	}
}

// A BoringSSL client with PSK credentials accepts only a PSK handshake
// unless -verify-peer; the shim expresses that with tlsflow's rule (no
// ServerName, no InsecureSkipVerify: PSK only).
func TestPSKClientAcceptsCertificatesOnlyWithVerifyPeer(t *testing.T) {
	psk := &tlsflow.ExternalPSK{Identity: []byte("psk1"), Key: bytes.Repeat([]byte{1}, 32), Hash: crypto.SHA256, Import: true}
	for _, tc := range []struct {
		name          string
		s             settings
		wantInsecure  bool
		unimplemented bool
	}{
		{name: "PSK only", s: settings{credentials: []credential{{psk: psk}}}},
		{name: "-verify-peer: PSK or certificate", s: settings{verifyPeer: true, credentials: []credential{{psk: psk}}},
			wantInsecure: true},
		{name: "no PSK: any certificate, as before", s: settings{}, wantInsecure: true},
		{name: "PSK only with a server name", s: settings{hostName: "example.com", credentials: []credential{{psk: psk}}},
			unimplemented: true},
	} {
		cfg := new(tlsflow.Config)
		cache := &watchingCache{inner: tlsflow.NewLRUClientSessionCache(1)}
		err := configure(cfg, cache, &tc.s, &tc.s, new(observer), nil)
		var unimpl *errUnimplemented
		if tc.unimplemented {
			if !errors.As(err, &unimpl) {
				t.Errorf("%s: configure = %v, want errUnimplemented", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if cfg.InsecureSkipVerify != tc.wantInsecure || cfg.ServerName != "" {
			t.Errorf("%s: InsecureSkipVerify %v, ServerName %q; want %v and none", tc.name, cfg.InsecureSkipVerify, cfg.ServerName, tc.wantInsecure)
		}
		if wantPSKs := len(tc.s.credentials); len(cfg.ExternalPSKs) != wantPSKs {
			t.Errorf("%s: %d ExternalPSKs, want %d", tc.name, len(cfg.ExternalPSKs), wantPSKs)
		}
	}
}

func TestServerWithOnlyPSKsNeedsNoCertificate(t *testing.T) {
	psk := &tlsflow.ExternalPSK{Identity: []byte("psk1"), Key: bytes.Repeat([]byte{1}, 32), Hash: crypto.SHA384, Import: true}
	s := &settings{server: true, credentials: []credential{{psk: psk}}}
	cfg := new(tlsflow.Config)
	if err := configure(cfg, &watchingCache{inner: tlsflow.NewLRUClientSessionCache(1)}, s, s, new(observer), nil); err != nil {
		t.Fatal(err)
	}
	if cfg.Certificates != nil || len(cfg.ExternalPSKs) != 1 || !samePSK(cfg.ExternalPSKs[0], *psk) {
		t.Errorf("Certificates %v, ExternalPSKs %+v; want none and the PSK", cfg.Certificates, cfg.ExternalPSKs)
	}
	// Without a certificate or PSK (a PAKE credential), still unimplemented.
	s = &settings{server: true}
	var unimpl *errUnimplemented
	if err := configure(new(tlsflow.Config), nil, s, s, new(observer), nil); !errors.As(err, &unimpl) {
		t.Errorf("a server with nothing: configure = %v, want errUnimplemented", err)
	}
}
