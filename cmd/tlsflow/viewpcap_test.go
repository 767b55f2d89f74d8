package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow/trace"
)

// hellosPcap is a capture made in code (capture's synthetic test
// capture): a tlsflow ClientHello and ServerHello on port 8443, then a
// record the server encrypted.
const hellosPcap = "testdata/hellos.pcap"

func TestViewPcapWritesEachConnection(t *testing.T) {
	var text bytes.Buffer
	if err := runView(context.Background(), []string{"--pcap", hellosPcap, "--trace", "text", "--lang", "en"}, &text); err != nil {
		t.Fatal(err)
	}
	wantOutput(t, "view --pcap --trace text", text.String(),
		`#1 127\.0\.0\.1:40000 → 127\.0\.0\.2:8443  TLS 1\.3  TLS_AES_256_GCM_SHA384`,
		`client: TCP connection open to port 8443`,
		`client → server ClientHello \(1475 bytes\)`,
		`server → client ServerHello \(1210 bytes\) — step 2`,
		`server → client encrypted records`,
		`reason: +no key log`)

	var lines bytes.Buffer
	if err := runView(context.Background(), []string{"--pcap", hellosPcap, "--trace", "json"}, &lines); err != nil {
		t.Fatal(err)
	}
	events, err := trace.ReadJSONLines(&lines)
	if err != nil {
		t.Fatalf("--trace json is not trace JSON lines: %v", err)
	}
	if len(events) != 5 || events[1].Message != "ClientHello" || events[1].Direction != trace.Sent {
		t.Errorf("--trace json: %d events, the second %s %s", len(events), events[1].Direction, events[1].Message)
	}
}

func TestViewPcapServesTheChosenConnection(t *testing.T) {
	var pc pcapFlags
	pc.pcap = hellosPcap
	var out bytes.Buffer
	events, what, err := pc.run(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 || what != "connection 1 of "+hellosPcap {
		t.Errorf("the page would show %d events of %q", len(events), what)
	}
	wantOutput(t, "view --pcap", out.String(), `1 TLS connection\(s\) in testdata/hellos.pcap`, `#1 127\.0\.0\.1:40000`)
}

func TestViewPcapRefusesBadCommandLines(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		wantUsage bool
		want      string
	}{
		{"a key log without a capture", []string{"--keylog", "k.log"}, true, "--pcap FILE"},
		{"a capture and a recording", []string{"--pcap", hellosPcap, "x.jsonl"}, true, "no recording"},
		{"a capture and a flow", []string{"--pcap", hellosPcap, "--flow", "tls12"}, true, "--flow"},
		{"an unknown format", []string{"--pcap", hellosPcap, "--trace", "xml"}, true, `"xml"`},
		{"a connection not there", []string{"--pcap", hellosPcap, "--conn", "2"}, true, "has 1 TLS connection"},
		{"no such capture", []string{"--pcap", "testdata/nothing.pcap"}, false, "nothing.pcap"},
		{"not a capture", []string{"--pcap", "viewpcap.go"}, false, "not a pcap or pcapng capture"},
		{"no such key log", []string{"--pcap", hellosPcap, "--keylog", "testdata/nothing.log"}, false, "nothing.log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runView(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tc.args...), &out)
			var ue *usageError
			if err == nil || errors.As(err, &ue) != tc.wantUsage || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("runView(%q) = %v, want a usage error %v containing %q", tc.args, err, tc.wantUsage, tc.want)
			}
		})
	}
}
