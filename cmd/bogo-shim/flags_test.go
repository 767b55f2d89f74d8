package main

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"slices"
	"testing"

	"github.com/tlsflow/tlsflow"
)

func TestUnknownAndMissingFeatureFlagsAreUnimplemented(t *testing.T) {
	for _, args := range [][]string{
		{"-no-such-flag"},
		{"-dtls"},
		{"-on-resume-enable-early-data"},
		{"-expect-total-renegotiations", "1"},
	} {
		_, _, err := parseFlags(args)
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
	initial, resume, err := parseFlags([]string{
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
	_, _, err := parseFlags([]string{"-port"})
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

func TestSignaturePrefsMapOntoOneListOrAreUnimplemented(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	both := sigUse{tls12: true, tls13: true}
	serverRSA := sigUse{own: rsaKey.Public(), tls12: true, tls13: true}
	clientNoCert := sigUse{verifies: true, tls12: true, tls13: true}
	for _, tc := range []struct {
		name            string
		signing, verify []int
		use             sigUse
		want            []tlsflow.SignatureScheme
		unimplemented   bool
	}{
		{name: "neither: tlsflow's defaults", use: clientNoCert},
		{name: "signing only, peer never checked", signing: []int{0x0804, 0x0403}, use: serverRSA,
			want: []tlsflow.SignatureScheme{0x0804, 0x0403}},
		{name: "signing only would narrow what we accept", signing: []int{0x0804}, use: clientNoCert, unimplemented: true},
		{name: "verify only, we never sign", verify: []int{0x0403}, use: clientNoCert, want: []tlsflow.SignatureScheme{0x0403}},
		{name: "verify only, our RSA key signs as by default", verify: []int{0x0403, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601},
			use: serverRSA, want: []tlsflow.SignatureScheme{0x0403, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601}},
		{name: "verify only would leave our RSA key nothing", verify: []int{0x0403}, use: serverRSA, unimplemented: true},
		{name: "verify only would narrow our RSA signatures", verify: []int{0x0806}, use: serverRSA, unimplemented: true},
		{name: "verify only, PKCS #1 cannot sign in TLS 1.3", verify: []int{0x0401}, use: serverRSA, unimplemented: true},
		{name: "both, equal", signing: []int{0x0804}, verify: []int{0x0804}, use: serverRSA, want: []tlsflow.SignatureScheme{0x0804}},
		{name: "both, different", signing: []int{0x0403}, verify: []int{0x0804}, use: both, unimplemented: true},
		{name: "sha1 scheme", verify: []int{0x0201}, use: both, unimplemented: true},
		{name: "out of range", verify: []int{0x10000}, use: both, unimplemented: true},
	} {
		got, err := signatureSchemes(tc.signing, tc.verify, tc.use)
		var unimpl *errUnimplemented
		if tc.unimplemented != errors.As(err, &unimpl) {
			t.Errorf("%s: err = %v, want unimplemented %v", tc.name, err, tc.unimplemented)
		}
		if !tc.unimplemented && !slices.Equal(got, tc.want) {
			t.Errorf("%s: schemes %#04x, want %#04x", tc.name, got, tc.want)
		}
	}
}
