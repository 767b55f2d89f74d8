package main

import (
	"bytes"
	"regexp"
	"testing"
)

// TestBenchPrintsEveryCaseWithRatios: `tlsflow bench` measures every case
// on both stacks and prints the figures with their ratio.
func TestBenchPrintsEveryCaseWithRatios(t *testing.T) {
	var out bytes.Buffer
	if err := runBench([]string{"--n", "2"}, &out); err != nil {
		t.Fatalf("bench failed: %v\n%s", err, out.String())
	}
	for _, c := range benchCases {
		row := regexp.MustCompile(regexp.QuoteMeta(c.name) + `\s+\d+\s+\d+\s+\d+\.\d\d\s+\d+\s+\d+\n`)
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
