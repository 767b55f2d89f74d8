package keys

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"fmt"
	"hash"
	"os"
	"os/exec"
	"testing"

	"github.com/tlsflow/tlsflow/provider"
)

// TestRekeyableHMACMatchesCryptoHMAC checks the key schedule's HMAC
// against crypto/hmac for every hash, keys around each block size (a key
// longer than a block is hashed first), messages around it, reuse after
// Reset, and keys taken over from a released HMAC of the pool.
func TestRekeyableHMACMatchesCryptoHMAC(t *testing.T) {
	for _, ch := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		h := Std(ch)
		for _, keyLen := range []int{0, 1, 31, 32, 48, 63, 64, 65, 127, 128, 129, 300} {
			key := randomBytes(t, keyLen)
			for _, msgLen := range []int{0, 1, 55, 56, 64, 111, 112, 128, 1000} {
				msg := randomBytes(t, msgLen)
				want := hmac.New(ch.New, key)
				want.Write(msg)
				wantSum := want.Sum(nil)

				mac := h.acquireMAC(key)
				if _, ok := mac.(*rekeyable); !ok {
					t.Fatalf("%v: acquireMAC gave %T, want the rekeyable HMAC", ch, mac)
				}
				for round := range 3 { // the first use, then twice after Reset
					if round > 0 {
						mac.Reset()
					}
					mac.Write(msg[:msgLen/2])
					mac.Write(msg[msgLen/2:])
					prefix := []byte("prefix")
					got := mac.Sum(prefix)
					if !bytes.Equal(got[:len(prefix)], []byte("prefix")) || !bytes.Equal(got[len(prefix):], wantSum) {
						t.Fatalf("%v, key %d bytes, message %d bytes, round %d:\n got  %x\n want prefix|%x",
							ch, keyLen, msgLen, round, got, wantSum)
					}
				}
				if mac.Size() != ch.Size() || mac.BlockSize() != want.BlockSize() {
					t.Fatalf("%v: Size %d BlockSize %d, want %d %d", ch, mac.Size(), mac.BlockSize(), ch.Size(), want.BlockSize())
				}
				releaseMAC(mac)
			}
		}
	}
}

// TestReleasedHMACForgetsItsKey checks what a released HMAC keeps for the
// next user of the pool: no keyed state and digests in their empty state,
// their buffers rewritten (the last message there was a secret: HKDF-Extract
// writes the (EC)DHE shared secret into HMAC).
func TestReleasedHMACForgetsItsKey(t *testing.T) {
	h := Std(crypto.SHA256)
	secret := bytes.Repeat([]byte{0xA5}, 32)
	mac := h.acquireMAC(bytes.Repeat([]byte{0x5A}, 32))
	m := mac.(*rekeyable)
	mac.Write(secret)
	mac.Sum(nil)
	releaseMAC(mac)

	if len(m.innerKeyed) != 0 || len(m.outerKeyed) != 0 {
		t.Fatalf("released HMAC keeps keyed states of %d and %d bytes", len(m.innerKeyed), len(m.outerKeyed))
	}
	for _, b := range m.innerKeyed[:cap(m.innerKeyed)] {
		if b != 0 {
			t.Fatalf("released HMAC's inner keyed state not zeroed: %x", m.innerKeyed[:cap(m.innerKeyed)])
		}
	}
	for _, b := range m.outerKeyed[:cap(m.outerKeyed)] {
		if b != 0 {
			t.Fatalf("released HMAC's outer keyed state not zeroed: %x", m.outerKeyed[:cap(m.outerKeyed)])
		}
	}
	for name, d := range map[string]stateHash{"inner": m.inner, "outer": m.outer} {
		state, err := d.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(state, m.initial) {
			t.Errorf("released HMAC's %s digest is not in the empty state", name)
		}
		if bytes.Contains(state, secret[:16]) {
			t.Errorf("released HMAC's %s digest still holds the secret it hashed", name)
		}
	}
}

// TestAcquireMACFallsBackToTheProvidersHMAC: a provider whose hash cannot
// save its state gets its own NewHMAC, and a pooled HMAC made with one
// provider's digests is not handed to another provider's schedule.
func TestAcquireMACFallsBackToTheProvidersHMAC(t *testing.T) {
	key, msg := randomBytes(t, 32), randomBytes(t, 100)
	want := hmac.New(crypto.SHA256.New, key)
	want.Write(msg)

	opaque := Hash{Hash: crypto.SHA256, Provider: opaqueHashes{}}
	mac := opaque.acquireMAC(key)
	if _, ok := mac.(*rekeyable); ok {
		t.Fatal("a provider with opaque hashes got the rekeyable HMAC")
	}
	mac.Write(msg)
	if got := mac.Sum(nil); !bytes.Equal(got, want.Sum(nil)) {
		t.Fatalf("fallback HMAC %x, want %x", got, want.Sum(nil))
	}
	releaseMAC(mac) // not pooled; must not panic

	releaseMAC(Std(crypto.SHA256).acquireMAC(key)) // the pool now holds a stdlib HMAC (or none, after a GC)
	named := Hash{Hash: crypto.SHA256, Provider: renamed{}}
	m, ok := named.acquireMAC(key).(*rekeyable)
	if !ok {
		t.Fatal("a provider with the standard library's hashes did not get the rekeyable HMAC")
	}
	if m.provider != "renamed" {
		t.Fatalf("HMAC for provider %q came from provider %q", "renamed", m.provider)
	}
}

// TestAcquireMACUnderFIPS140 runs in a child with GODEBUG=fips140=on:
// there the standard library's HMAC must be used, so that its FIPS module
// counts every HMAC.
func TestAcquireMACUnderFIPS140(t *testing.T) {
	if os.Getenv("TLSFLOW_HMAC_FIPS_CHILD") == "1" {
		mac := Std(crypto.SHA256).acquireMAC(make([]byte, 32))
		if _, ok := mac.(*rekeyable); ok {
			t.Fatal("fips140=on, yet acquireMAC gave the rekeyable HMAC")
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestAcquireMACUnderFIPS140$", "-test.v")
	cmd.Env = append(os.Environ(), "TLSFLOW_HMAC_FIPS_CHILD=1", "GODEBUG=fips140=on")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestAcquireMACUnderFIPS140")) {
		t.Fatalf("child with fips140=on: %v\n%s", err, out)
	}
}

// opaqueHashes is the standard library with hashes that hide their state.
type opaqueHashes struct{ provider.Stdlib }

func (opaqueHashes) Name() string { return "opaque" }
func (opaqueHashes) NewHash(h crypto.Hash) hash.Hash {
	return struct{ hash.Hash }{provider.Stdlib{}.NewHash(h)}
}

type renamed struct{ provider.Stdlib }

func (renamed) Name() string { return "renamed" }

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkKeyedHMAC is keying HMAC-SHA-256 with a 32-byte secret and one
// HKDF-Expand-Label-sized message, as the key schedule does at each node.
func BenchmarkKeyedHMAC(b *testing.B) {
	key, msg := make([]byte, 32), make([]byte, 40)
	b.Run("crypto-hmac", func(b *testing.B) {
		b.ReportAllocs()
		var out [64]byte
		for b.Loop() {
			mac := hmac.New(crypto.SHA256.New, key)
			mac.Write(msg)
			mac.Sum(out[:0])
		}
	})
	b.Run("rekeyable", func(b *testing.B) {
		b.ReportAllocs()
		var out [64]byte
		h := Std(crypto.SHA256)
		for b.Loop() {
			mac := h.acquireMAC(key)
			mac.Write(msg)
			mac.Sum(out[:0])
			releaseMAC(mac)
		}
	})
}

// TestRekeyableHMACConcurrentUse runs key schedules on many goroutines at
// once, each with its own keys, through the shared pool: every HMAC must
// match crypto/hmac's, so no two schedules ever hold the same one (run
// with -race as well).
func TestRekeyableHMACConcurrentUse(t *testing.T) {
	const goroutines, rounds = 8, 200
	errs := make(chan error, goroutines)
	for g := range goroutines {
		go func() {
			h := Std(crypto.SHA256)
			key := bytes.Repeat([]byte{byte(g + 1)}, 32)
			msg := bytes.Repeat([]byte{byte(0x80 + g)}, 50)
			want := hmac.New(crypto.SHA256.New, key)
			want.Write(msg)
			wantSum := want.Sum(nil)
			for range rounds {
				mac := h.acquireMAC(key)
				mac.Write(msg)
				got := mac.Sum(nil)
				releaseMAC(mac)
				if !bytes.Equal(got, wantSum) {
					errs <- fmt.Errorf("goroutine %d: HMAC %x, want %x", g, got, wantSum)
					return
				}
			}
			errs <- nil
		}()
	}
	for range goroutines {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
