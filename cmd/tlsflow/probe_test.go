package main

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/probe"
)

// TestProbeCommand runs the built command against a tlsflow server: the
// text in English and German, the JSON document, and the exit statuses
// scripts rely on.
func TestProbeCommand(t *testing.T) {
	c := sharedCerts(t)
	cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{{Certificate: c.server.Chain, PrivateKey: c.server.Key}}}
	port := freePort(t)
	serveInProcess(t, port, cfg)
	addr := net.JoinHostPort("localhost", strconv.Itoa(port))

	r := runCLI(t, nil, "probe", "--pace", "0", "--ca", c.caFile, addr)
	// pki's leaves expire in a day: a warning, nothing bad.
	if r.code != 0 {
		t.Fatalf("probe of a well-configured tlsflow server: %s", r)
	}
	wantOutput(t, "probe text", r.stdout, `TLS 1\.2 +accepted`, `TLS 1\.3 +accepted`, `Cipher suites`,
		`TLS_AES_128_GCM_SHA256`, `Groups`, `X25519MLKEM768`, `Certificate chain`, `Findings`,
		`good +Certificate chain trusted`, `handshakes\. Worst rating: warn\.`)
	if r.stderr != "" {
		t.Errorf("progress on stderr although stdout is not a terminal:\n%s", r.stderr)
	}

	de := runCLI(t, nil, "probe", "--pace", "0", "--lang", "de", "--ca", c.caFile, addr)
	wantOutput(t, "probe --lang de", de.stdout, `TLS 1\.2 +angenommen`, `Befunde`, `Zertifikatskette vertrauenswürdig`, `Schlechteste Bewertung`)

	j := runCLI(t, nil, "probe", "--pace", "0", "--json", addr) // no --ca: the chain is not trusted
	if j.code != 1 {
		t.Errorf("probe --json of an untrusted chain: exit status %d, want 1 (a finding rated bad)\n%s", j.code, j)
	}
	var doc probe.Report
	if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil {
		t.Fatalf("probe --json is not one JSON document: %v\n%s", err, j.stdout)
	}
	if strings.Join(doc.AcceptedVersions, ",") != "TLS 1.2,TLS 1.3" || len(doc.CipherSuites) != 2 || doc.CipherSuites[1].Suites[0].Name == "" {
		t.Errorf("JSON names versions %v and suites %+v", doc.AcceptedVersions, doc.CipherSuites)
	}

	closed := freePort(t) // nothing listens there
	u := runCLI(t, nil, "probe", "--pace", "0", net.JoinHostPort("127.0.0.1", strconv.Itoa(closed)))
	if u.code != 3 || !strings.Contains(u.stdout, "No TLS answer") {
		t.Errorf("probe of a closed port: want exit status 3 and no TLS answer\n%s", u)
	}
	if bad := runCLI(t, nil, "probe", "--starttls", "xmpp", addr); bad.code != 2 {
		t.Errorf("probe --starttls xmpp: exit status %d, want 2 (usage)", bad.code)
	}
	if help := runCLI(t, nil, "probe", "--help"); help.code != 0 || !strings.Contains(help.stdout, "Exit status: 0 when no finding is rated bad") {
		t.Errorf("probe --help:\n%s", help)
	}
}
