// Package providertest gives tests every provider this build has, so a test
// of a primitive's user runs once per provider.
package providertest

import (
	"os"
	"testing"

	"github.com/tlsflow/tlsflow/provider"
	"github.com/tlsflow/tlsflow/provider/openssl"
)

// All returns the standard library provider and, when it opens, the OpenSSL
// one. In a cgo build with CI=true an OpenSSL provider that does not open
// (libcrypto missing) fails the test: CI must run both. Without cgo there
// is none to run, and the test says so in its log.
func All(t testing.TB) []provider.Provider {
	t.Helper()
	all := []provider.Provider{provider.Stdlib{}}
	p, err := openssl.New()
	switch {
	case err == nil:
		all = append(all, p)
	case cgo && os.Getenv("CI") == "true":
		t.Fatalf("the OpenSSL provider does not open in CI: %v", err)
	default:
		t.Logf("testing without the OpenSSL provider: %v", err)
	}
	return all
}

// Run runs f as a subtest per provider, named after it.
func Run(t *testing.T, f func(t *testing.T, p provider.Provider)) {
	t.Helper()
	for _, p := range All(t) {
		t.Run(p.Name(), func(t *testing.T) { f(t, p) })
	}
}
