package main

import (
	"bytes"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// TestBenchPrintsEveryCaseWithRatios: `tlsflow bench` names each provider
// with its FIPS status, measures every case on crypto/tls and on tlsflow
// with each provider, and prints the rates with their ratios, the
// primitive bound and each stack's share of it ("-" only where there is no
// bound), and the allocations.
func TestBenchPrintsEveryCaseWithRatios(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	var out bytes.Buffer
	if err := runBench([]string{"--n", "2"}, &out); err != nil {
		t.Fatalf("bench failed: %v\n%s", err, out.String())
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS is %d after bench, want %d restored", got, procs)
	}
	providers := 0
	for _, name := range []string{"stdlib", "openssl"} {
		if regexp.MustCompile(`(?m)^Provider ` + name + `: .+, FIPS mode (true|false)$`).MatchString(out.String()) {
			providers++
		} else if name == "stdlib" || os.Getenv("CI") == "true" {
			t.Errorf("no line naming provider %s and its FIPS mode:\n%s", name, out.String())
		}
	}
	for _, c := range benchCases {
		rates := `\d+` + strings.Repeat(`\s+\d+\s+\d+\.\d\d`, providers)
		bound := `\d+` + strings.Repeat(`\s+\d+\.\d\d`, providers+1)
		if c.resume && c.version == tlsflow.VersionTLS12 {
			bound = `-` + strings.Repeat(`\s+-`, providers+1)
		}
		allocs := `\d+` + strings.Repeat(`\s+\d+`, providers)
		row := regexp.MustCompile(regexp.QuoteMeta(c.name) + `\s+` + rates + `\s+` + bound + `\s+` + allocs + `\s*\n`)
		if !row.MatchString(out.String()) {
			t.Errorf("no result row for %q:\n%s", c.name, out.String())
		}
	}
}

func TestBenchRefusesZeroHandshakes(t *testing.T) {
	var out bytes.Buffer
	if err := runBench([]string{"--n", "0"}, &out); err == nil {
		t.Error("bench --n 0 succeeded")
	}
}

// TestBenchBoundListsTheCasesOperations: each case's primitive bound is
// made of the public-key operations its key exchange and certificates call
// for (server certificates ECDSA P-256 or RSA-2048, client certificate
// ECDSA P-256, all issued by an ECDSA P-256 CA), and every one runs.
func TestBenchBoundListsTheCasesOperations(t *testing.T) {
	x25519 := []string{"X25519 key generation", "X25519 key generation", "X25519 shared secret", "X25519 shared secret"}
	mlkem := []string{"ML-KEM-768 key generation", "ML-KEM-768 encapsulation", "ML-KEM-768 decapsulation"}
	ecdsaSig := []string{"ECDSA P-256 sign", "ECDSA P-256 verify"}
	rsaSig := []string{"RSA-2048 PSS sign", "RSA-2048 PSS verify"}
	rsaKex := []string{"RSA-2048 PKCS#1 v1.5 encrypt", "RSA-2048 PKCS#1 v1.5 decrypt"}
	chain := []string{"ECDSA P-256 verify"} // the leaf's signature by the CA
	want := map[string][]string{
		"TLS 1.3 full, X25519, ECDSA P-256":          slices.Concat(x25519, ecdsaSig, chain),
		"TLS 1.3 full, X25519MLKEM768, ECDSA P-256":  slices.Concat(x25519, mlkem, ecdsaSig, chain),
		"TLS 1.2 full, ECDHE-ECDSA X25519":           slices.Concat(x25519, ecdsaSig, chain),
		"TLS 1.2 full, RSA key exchange (RSA-2048)":  slices.Concat(rsaKex, chain),
		"TLS 1.2 full, ECDHE-RSA-2048 + client cert": slices.Concat(x25519, rsaSig, chain, ecdsaSig, chain),
		"TLS 1.3 resumed (psk_dhe_ke)":               x25519,
		"TLS 1.2 resumed (ticket)":                   nil,
	}
	env, err := newBenchEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range benchCases {
		w, ok := want[c.name]
		if !ok {
			t.Errorf("%s: no expected operations in this test", c.name)
			continue
		}
		ops, err := env.boundOps(c)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		for _, op := range ops {
			if err := op.run(); err != nil {
				t.Errorf("%s: %s: %v", c.name, op.prim, err)
			}
			got = append(got, op.prim)
		}
		slices.Sort(got)
		w = slices.Sorted(slices.Values(w))
		if !slices.Equal(got, w) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, w)
		}
	}
}
