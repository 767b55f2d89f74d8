package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemoPrintsTheNotesFlow runs the demo as a user would and checks that
// every step of the course note appears, in order, with the messages the
// note names, and that the HTTP GET over the connection was answered.
func TestDemoPrintsTheNotesFlow(t *testing.T) {
	// The trace speaks the locale's language; this test reads English.
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "C.UTF-8")
	for _, suite := range []string{"rsa", "ecdhe-rsa", "ecdhe-ecdsa"} {
		t.Run(suite, func(t *testing.T) {
			var out bytes.Buffer
			if err := runDemo([]string{"--suite", suite}, &out); err != nil {
				t.Fatalf("demo failed: %v\n%s", err, out.String())
			}
			text := out.String()
			last := -1
			for _, want := range []string{
				"Step 0", "client → server ClientHello", "Step 2", "server → client ServerHello",
				"Step 3", "server → client Certificate", "server → client CertificateRequest",
				"Step 4", "server → client ServerHelloDone",
				"Step 5", "client → server Certificate", "client → server ClientKeyExchange",
				"client → server CertificateVerify",
				"Step 6", "client → server ChangeCipherSpec", "Step 7", "client → server Finished",
				"server verified Finished", "server → client Finished", "client verified Finished",
				"Step 8", "Server answered: 200 OK", "Hello, demo client",
			} {
				i := strings.Index(text[last+1:], want)
				if i < 0 {
					t.Fatalf("demo output lacks %q after position %d:\n%s", want, last, text)
				}
				last += 1 + i
			}
			if suite != "rsa" && !strings.Contains(text, "server → client ServerKeyExchange") {
				t.Errorf("ECDHE demo shows no ServerKeyExchange:\n%s", text)
			}
		})
	}
}

func TestDemoRejectsUnknownSuite(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo([]string{"--suite", "rc4"}, &out); err == nil {
		t.Fatal("demo accepted --suite rc4")
	}
}
