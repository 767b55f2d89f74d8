package provider

import (
	"bytes"
	"crypto/ecdh"
	"errors"
	"strings"
	"testing"
)

func TestEnvironmentChoosesTheDefault(t *testing.T) {
	for _, tc := range []struct {
		value, want, wantErr string
	}{
		{"", "stdlib", ""},
		{"stdlib", "stdlib", ""},
		// Never a silent fallback: an unknown name is an error that says
		// which names there are.
		{"bogus", "", `TLSFLOW_PROVIDER=bogus: provider: no provider "bogus" (this program has stdlib)`},
		// This test binary does not link provider/openssl: the error says
		// how to get it in.
		{"openssl", "", `import _ "github.com/tlsflow/tlsflow/provider/openssl"`},
	} {
		p, err := fromEnv(tc.value)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("TLSFLOW_PROVIDER=%q: error %v, want one containing %q", tc.value, err, tc.wantErr)
			}
			continue
		}
		if err != nil || p.Name() != tc.want {
			t.Errorf("TLSFLOW_PROVIDER=%q: %v, %v; want %s", tc.value, p, err, tc.want)
		}
	}
}

type named struct {
	Stdlib
	name string
}

func (n named) Name() string { return n.name }

func TestSetDefaultOverridesTheEnvironment(t *testing.T) {
	defer SetDefault(nil)
	SetDefault(named{name: "mine"})
	if p, err := Default(); err != nil || p.Name() != "mine" {
		t.Fatalf("Default() = %v, %v; want the provider SetDefault set", p, err)
	}
	SetDefault(nil)
	if p, err := Default(); err != nil || p.Name() != "stdlib" {
		t.Fatalf("after SetDefault(nil), Default() = %v, %v; want stdlib (TLSFLOW_PROVIDER is unset in tests)", p, err)
	}
}

func TestRegisterOpensOnceAndReportsFailure(t *testing.T) {
	opened := 0
	Register("test-failing", func() (Provider, error) { opened++; return nil, errors.New("libfoo missing") })
	t.Cleanup(func() { // the registry is the process's: leave it as it was for the other tests and -count
		registry.Lock()
		delete(registry.open, "test-failing")
		registry.Unlock()
	})
	for range 2 {
		if _, err := Open("test-failing"); err == nil || !strings.Contains(err.Error(), "test-failing: libfoo missing") {
			t.Errorf("Open = %v, want the opener's error naming the provider", err)
		}
	}
	if opened != 1 {
		t.Errorf("the opener ran %d times, want once", opened)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	Register("test-failing", nil)
}

func TestStdlibAEADs(t *testing.T) {
	for _, tc := range []struct {
		alg    AEAD
		keyLen int
	}{{AESGCM, 16}, {AESGCM, 32}, {ChaCha20Poly1305, 32}} {
		a, err := Stdlib{}.NewAEAD(tc.alg, make([]byte, tc.keyLen))
		if err != nil {
			t.Fatalf("%v-%d: %v", tc.alg, tc.keyLen*8, err)
		}
		nonce := make([]byte, a.NonceSize())
		sealed := a.Seal(nil, nonce, []byte("record"), []byte("aad"))
		if got, err := a.Open(nil, nonce, sealed, []byte("aad")); err != nil || !bytes.Equal(got, []byte("record")) {
			t.Errorf("%v-%d: Open = %q, %v", tc.alg, tc.keyLen*8, got, err)
		}
	}
	if _, err := (Stdlib{}).NewAEAD(AEAD(99), make([]byte, 16)); err == nil {
		t.Error("an unknown AEAD was made")
	}
}

func TestStdlibECDHRefusesAnInvalidPeerKey(t *testing.T) {
	k, err := Stdlib{}.GenerateECDH(ecdh.P256(), nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := make([]byte, 65)
	bad[0] = 4 // uncompressed, but (0, 0) is not on the curve
	if _, err := k.ECDH(bad); !errors.Is(err, ErrInvalidPeerKey) {
		t.Errorf("ECDH with a point off the curve = %v, want ErrInvalidPeerKey", err)
	}
	other, _ := Stdlib{}.GenerateECDH(ecdh.P256(), nil)
	a, errA := k.ECDH(other.PublicKey())
	b, errB := other.ECDH(k.PublicKey())
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("the two sides disagree: %x, %v / %x, %v", a, errA, b, errB)
	}
}
