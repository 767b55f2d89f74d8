package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestConnectECHToServe: serve --ech prints a configuration list and a
// connect line using it; that line connects with ECH accepted. A client
// with a configuration the server does not have is told the server
// rejected ECH, and given the line to try with the server's new list.
func TestConnectECHToServe(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--ech", "public.example", "--key-type", "ecdsa")
	m := s.waitFor(t, `\n  (tlsflow connect --ca (\S+) --ech (\S+) --http localhost:(\d+))\n`)
	line, ca, list, port := m[1], m[2], m[3], m[4]
	r := runCLI(t, nil, strings.Fields(line)[1:]...)
	if r.code != 0 {
		t.Fatalf("%s failed\n%s\n--- serve:\n%s", line, r, s.output())
	}
	wantOutput(t, line, r.stdout, `server name \(SNI\): +public\.example`, `ClientHelloInner`, `server name \(SNI\): +localhost`,
		`Encrypted Client Hello: +accepted: the server name went encrypted`, `HTTP/1\.1 200 OK`)

	other := startServe(t, "--ech", "public.example", "--key-type", "ecdsa")
	m2 := other.waitFor(t, `--ech (\S+) --http localhost:(\d+)\n`)
	r = runCLI(t, nil, "connect", "--trace", "none", "--ca", ca, "--ech", m2[1], "localhost:"+port)
	if r.code == 0 {
		t.Fatalf("connect with another server's ECH configuration succeeded\n%s", r)
	}
	wantOutput(t, "connect with a stale --ech", r.stdout+r.stderr, `the server rejected Encrypted Client Hello`, `--ech `+regexp.QuoteMeta(list))
}
