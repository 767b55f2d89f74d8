package tlsflow

import (
	"bytes"
	"crypto/x509"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/tlsflow/tlsflow/pki"
)

func TestParsedCertificatesAreSharedWhileHeld(t *testing.T) {
	ca := pki.MustNewCA("cache test CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.ECDSAP256, "cache.example")
	der := leaf.Chain[0]
	cache := certificateCache{entries: make(map[string]weak.Pointer[x509.Certificate])}

	first, err := cache.parse(der)
	if err != nil {
		t.Fatal(err)
	}
	// A copy of the DER, as the next handshake's Certificate message would bring.
	second, err := cache.parse(bytes.Clone(der))
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatal("the same DER parsed twice while the first certificate is held: want one shared *x509.Certificate")
	}
	other, err := cache.parse(ca.DER)
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Fatal("a different DER returned the cached certificate")
	}
	if got := cache.len(); got != 2 {
		t.Fatalf("cache holds %d entries, want 2", got)
	}
	runtime.KeepAlive(first)
	runtime.KeepAlive(other)
}

func TestParsedCertificatesAreForgottenWhenFreed(t *testing.T) {
	ca := pki.MustNewCA("cache test CA", pki.ECDSAP256)
	cache := certificateCache{entries: make(map[string]weak.Pointer[x509.Certificate])}
	for i := range 50 {
		leaf := ca.MustServer(pki.ECDSAP256, "cache.example")
		if _, err := cache.parse(leaf.Chain[0]); err != nil {
			t.Fatalf("certificate %d: %v", i, err)
		}
	}
	// Nothing holds the certificates: the collector frees them and the
	// cleanups remove their entries, so the cache does not grow with the
	// number of distinct certificates a peer has sent.
	deadline := time.Now().Add(10 * time.Second)
	for cache.len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries still cached after their certificates became unreachable", cache.len())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestParsedCertificatesDoNotCacheErrors(t *testing.T) {
	cache := certificateCache{entries: make(map[string]weak.Pointer[x509.Certificate])}
	if _, err := cache.parse([]byte{0x30, 0x03, 0x02, 0x01}); err == nil {
		t.Fatal("a truncated certificate parsed")
	}
	if got := cache.len(); got != 0 {
		t.Fatalf("a failed parse left %d entries", got)
	}
}
