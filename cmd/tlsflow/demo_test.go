package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
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

// TestDemoIsOneTimelineInWireOrder runs every --flow 20 times: the two
// sides' events come from two goroutines, but the output is one timeline
// in wire order, the same every time (up to random bytes, ports and
// sizes), whose titles come back only where the wire does: in TLS 1.2 the
// note's flow 0 1 2 3 4 5 6 7 6 7 8.
func TestDemoIsOneTimelineInWireOrder(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LANG", "C.UTF-8")
	tls13 := "0 1 KE params auth data"
	for flow, want := range map[string]string{
		"seed":        "0 1 2 3 4 5 6 7 6 7 8",
		"tls12":       "0 1 2 3 4 5 6 7 6 7 8",
		"tls13":       tls13,
		"client-auth": "0 1 KE params auth post data",
		"resume":      "first " + tls13 + " second " + tls13,
		"ech":         tls13,
	} {
		t.Run(flow, func(t *testing.T) {
			var first string
			for run := 0; run < 20; run++ {
				var out bytes.Buffer
				if err := runDemo([]string{"--flow", flow}, &out); err != nil {
					t.Fatalf("run %d: %v\n%s", run, err, out.String())
				}
				if got := titles(out.String()); got != want {
					t.Fatalf("run %d: titles %s, want %s:\n%s", run, got, want, out.String())
				}
				shape := timelineShape(out.String())
				if run == 0 {
					first = shape
				} else if shape != first {
					t.Fatalf("run %d differs from run 0 at %s", run, firstDifference(shape, first))
				}
			}
		})
	}
}

// titles lists the step and phase titles of a demo's output, and its
// connections.
func titles(text string) string {
	short := map[string]string{"Key exchange": "KE", "Server parameters": "params", "Authentication": "auth",
		"Application data": "data", "After the handshake": "post", "First connection": "first", "Second connection": "second"}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^(?:Step (\d) —|TLS 1\.3 · ([A-Za-z ]+)|\n?=== ([A-Za-z ]+):)`).FindAllStringSubmatch(text, -1) {
		switch {
		case m[1] != "":
			got = append(got, m[1])
		case m[2] != "":
			got = append(got, short[strings.TrimSpace(m[2])])
		default:
			got = append(got, short[m[3]])
		}
	}
	return strings.Join(got, " ")
}

// timelineShape is the output without the decoded fields, with numbers
// (ports, sizes) masked: what must not change from run to run.
func timelineShape(text string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if !strings.HasPrefix(line, "      ") {
			b.WriteString(regexp.MustCompile(`\d+`).ReplaceAllString(line, "#"))
		}
	}
	return b.String()
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: %q vs %q", i+1, al[i], bl[i])
		}
	}
	return "the end"
}

// TestDemoSaysWhatItShows: the port actually used, that the default flow is
// the note's classic RSA key exchange without forward secrecy, and with
// ECDHE a key share in step 5, not the pre-master secret.
func TestDemoSaysWhatItShows(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LANG", "C.UTF-8")
	var out bytes.Buffer
	if err := runDemo(nil, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	m := regexp.MustCompile(`client: TCP connection open to port (\d+)\n      local: +\S+\n      remote: +127\.0\.0\.1:(\d+)\n`).FindStringSubmatch(text)
	if m == nil || m[1] != m[2] || m[1] == "443" || strings.Contains(text, "(HTTPS: port 443)") {
		t.Errorf("step 0 does not say the port used:\n%s", text)
	}
	wantOutput(t, "demo", text, `course note's classic flow: the RSA key exchange`, `no forward secrecy`, `Modern peers use ECDHE`,
		`Step 5 — ClientKeyExchange: the client sends the pre-master secret, encrypted to the server's RSA key`)

	out.Reset()
	if err := runDemo([]string{"--suite", "ecdhe-ecdsa"}, &out); err != nil {
		t.Fatal(err)
	}
	text = out.String()
	wantOutput(t, "demo --suite ecdhe-ecdsa", text, `Step 3 — Certificate and ServerKeyExchange: .*ECDHE key share signed`,
		`Step 5 — ClientKeyExchange: the client sends its ECDHE key share`)
	if strings.Contains(text, "sends the pre-master secret") || strings.Contains(text, "classic flow") {
		t.Errorf("the ECDHE flow says the client sends the pre-master secret, or calls itself the classic flow:\n%s", text)
	}
}

func TestDemoRejectsUnknownSuite(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo([]string{"--suite", "rc4"}, &out); err == nil {
		t.Fatal("demo accepted --suite rc4")
	}
}

// TestDemoFlows runs each --flow of the built command and checks what
// makes it that flow.
func TestDemoFlows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flow string
		want []string
	}{
		{"seed", []string{`the course note's flow: TLS 1\.2, TLS_RSA_WITH_AES_128_GCM_SHA256, client certificate required`,
			`server → client CertificateRequest`, `client → server ClientKeyExchange`, `client → server CertificateVerify`,
			`Step 7 — Finished`, `Hello, demo client: .* TLS 1\.2`}},
		{"tls12", []string{`TLS 1\.2 with ECDHE: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`, `server → client ServerKeyExchange`,
			`client verified ServerKeyExchange`, `Step 7 — Finished`, `Hello, anonymous client: .* TLS 1\.2`}},
		{"tls13", []string{`TLS 1\.3 with tlsflow's defaults`, `TLS 1\.3 · Key exchange`, `server → client EncryptedExtensions`,
			`server → client CertificateVerify`, `Hello, anonymous client: .* TLS 1\.3`}},
		{"resume", []string{`First connection`, `server → client Certificate `, `server → client NewSessionTicket`,
			`Second connection`, `client: session resumption offered`, `server: session resumption accepted`,
			`\(resumed session\)`, `second connection: DidResume = true, the server sent 0 Certificate message\(s\)`, `Resumed: no Certificate`}},
		{"client-auth", []string{`TLS 1\.3 with a client certificate the server requires`, `server → client CertificateRequest`,
			`client → server Certificate `, `client → server CertificateVerify`, `Hello, demo client: .* TLS 1\.3`}},
		{"ech", []string{`TLS 1\.3 with Encrypted Client Hello`, `client → server ClientHello`, `server name \(SNI\): +public\.example`,
			`encrypted_client_hello: +outer: config_id 1`, `client: ClientHelloInner`, `server name \(SNI\): +localhost`,
			`server: ClientHelloInner`, `server → client ServerHello`, `encrypted_client_hello: accepted`, `Hello, anonymous client: .* TLS 1\.3`}},
	}
	for _, tt := range tests {
		t.Run(tt.flow, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "demo", "--flow", tt.flow)
			if r.code != 0 {
				t.Fatalf("demo --flow %s failed\n%s", tt.flow, r)
			}
			wantOutput(t, "demo --flow "+tt.flow, r.stdout, tt.want...)
			wantOutput(t, "demo --flow "+tt.flow, r.stdout, `Server answered: 200 OK`)
			if tt.flow == "resume" {
				second := r.stdout[strings.Index(r.stdout, "Second connection"):]
				if strings.Contains(second, "server → client Certificate ") {
					t.Errorf("the resumed handshake shows a Certificate:\n%s", second)
				}
			}
		})
	}
}

func TestDemoSpeaksGerman(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "demo", "--flow", "tls13", "--lang", "de")
	if r.code != 0 {
		t.Fatalf("demo --lang de failed\n%s", r)
	}
	wantOutput(t, "demo --lang de", r.stdout, `TLS 1\.3 mit den Voreinstellungen`, `Erzeuge eine Zertifizierungsstelle`,
		`Schritt 1 — ClientHello`, `Client → Server ClientHello`, `Der Server antwortet: 200 OK`)
	r = runCLI(t, cliEnv("LANG=de_DE.UTF-8"), "demo", "--tamper", "ClientHello")
	if r.code != 0 {
		t.Fatalf("demo --tamper ClientHello in German failed\n%s", r)
	}
	wantOutput(t, "demo --tamper in German", r.stdout, `Man-in-the-Middle hat verändert: `, `Der Server hat es bemerkt:`,
		`Schritt: 7, Finished`, `Alert:   decrypt_error \(an den Client gesendet\)`, `Der Client erfuhr es:`, `Schritt: 7, nach Finished`,
		`Alert:   decrypt_error \(vom Server empfangen\)`, `Warum: `)
}

// TestDemoTamper runs every --tamper case and checks, on both sides, the
// step, the message and the alert the report gives (the side that noticed
// first), that the timeline shows the change right after the message it
// hit and each failure once, with its step said once. The cases run in
// this process (the race detector watches the man in the middle, and RSA
// keys are made once per case); TestDemoSpeaksGerman runs one through the
// command.
func TestDemoTamper(t *testing.T) {
	t.Parallel()
	type verdict struct {
		side, verb, where, alert string // verb: "noticed" (alert sent) or "was told" (received)
	}
	noticed := func(side, where, alert string) verdict { return verdict{side, "noticed", where, alert} }
	told := func(side, where, alert string) verdict { return verdict{side, "was told", where, alert} }
	tests := []struct {
		flow, tamper string // flow "" is the default for the case
		changed      string // what the man in the middle says he changed
		after        string // the timeline line the change follows
		first, then  verdict
		why          string
	}{
		{"", "ClientHello", `of ClientHello client → server, 0x00 → 0x01: the first byte of the type of the extended_master_secret`,
			`client → server ClientHello`, noticed("server", "7, Finished", "decrypt_error"), told("client", "7, after Finished", "decrypt_error"),
			"Finished is a MAC over the transcript"},
		{"seed", "ClientHello", `of ClientHello client → server`, `client → server ClientHello`,
			noticed("server", "5, CertificateVerify", "decrypt_error"), told("client", "7, after Finished", "decrypt_error"),
			"signs its transcript in CertificateVerify"},
		{"", "ServerHello", `of ServerHello server → client, .*: the first byte of the server random`, `server → client ServerHello`,
			noticed("client", "3, ServerKeyExchange", "decrypt_error"), told("server", "4, after ServerHelloDone", "decrypt_error"),
			"together with both randoms"},
		{"", "Certificate", `of Certificate server → client, .*: the last byte of the server certificate`, `server → client Certificate`,
			noticed("client", "3, Certificate", "unknown_ca"), told("server", "4, after ServerHelloDone", "unknown_ca"), "no longer verifies"},
		{"", "ServerKeyExchange", `of ServerKeyExchange server → client, .*: the last byte of the server's ECDHE public key`,
			`server → client ServerKeyExchange`, noticed("client", "3, ServerKeyExchange", "decrypt_error"),
			told("server", "4, after ServerHelloDone", "decrypt_error"), "covers its ECDHE key share"},
		{"", "ClientKeyExchange", `of ClientKeyExchange client → server, .*: the last byte of the client's ECDHE public key`,
			`client → server ClientKeyExchange`, noticed("server", "7, Finished", "bad_record_mac"), told("client", "7, after Finished", "bad_record_mac"),
			"derives another pre-master secret"},
		{"seed", "ClientKeyExchange", `of ClientKeyExchange client → server, .*: a byte in the middle of the pre-master secret`,
			`client → server ClientKeyExchange`, noticed("server", "5, CertificateVerify", "decrypt_error"), told("client", "7, after Finished", "decrypt_error"),
			"padding oracle"},
		{"", "CertificateVerify", `of CertificateVerify client → server, .*: the last byte of the client's signature`,
			`client → server CertificateVerify`, noticed("server", "5, CertificateVerify", "decrypt_error"), told("client", "7, after Finished", "decrypt_error"),
			"proves that the client holds"},
		{"", "Finished", `of the handshake record client → server \(it carries the client's Finished\)`, `client → server Finished`,
			noticed("server", "7, Finished", "bad_record_mac"), told("client", "7, after Finished", "bad_record_mac"), "first of them"},
		{"", "record", `of the application_data record client → server \(it carries the HTTP request\)`, `client → server application data`,
			noticed("server", "8", "bad_record_mac"), told("client", "8, application data", "bad_record_mac"), "step 8"},
		{"tls13", "ClientHello", `of ClientHello client → server, .*: the first byte of the client random`, `client → server ClientHello`,
			noticed("client", "2, after ServerHello", "bad_record_mac"), noticed("server", "7, after Finished", "bad_record_mac"), "into the key schedule"},
		{"tls13", "ServerHello", `of ServerHello server → client`, `server → client ServerHello`,
			noticed("client", "2, after ServerHello", "bad_record_mac"), noticed("server", "7, after Finished", "bad_record_mac"), "into the key schedule"},
		{"tls13", "Certificate", `of the application_data record server → client \(the server's encrypted flight`, `server → client EncryptedExtensions`,
			noticed("client", "2, after ServerHello", "bad_record_mac"), told("server", "7, after Finished", "bad_record_mac"), "cannot even see Certificate"},
		{"client-auth", "CertificateVerify", `of the application_data record client → server \(the client's encrypted flight: Certificate, CertificateVerify`,
			`client → server Certificate`, noticed("server", "7, after Finished", "bad_record_mac"),
			told("client", "8, after Finished and application data", "bad_record_mac"), "cannot even see CertificateVerify"},
		{"tls13", "Finished", `of the application_data record client → server \(the client's encrypted flight, ending with its Finished`,
			`client → server Finished`, noticed("server", "7, after Finished", "bad_record_mac"),
			told("client", "8, after Finished and application data", "bad_record_mac"), "cannot even see Finished"},
		{"tls13", "record", `of the application_data record client → server \(it carries the HTTP request\)`, `client → server application data`,
			noticed("server", "8", "bad_record_mac"), told("client", "8, after Finished and application data", "bad_record_mac"), "step 8"},
	}
	for _, tt := range tests {
		name := tt.tamper
		args := []string{"--lang", "en", "--tamper", tt.tamper}
		if tt.flow != "" {
			name = tt.flow + "/" + tt.tamper
			args = append(args, "--flow", tt.flow)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			if err := runDemo(args, &out); err != nil {
				t.Fatalf("demo %s failed: %v\n%s", strings.Join(args, " "), err, out.String())
			}
			what := "demo " + strings.Join(args, " ")
			text := out.String()
			// The change, right after the message it hit (its fields between).
			wantOutput(t, what, text, `(?m)^  `+tt.after+`\b.*\n(      .*\n)*  >>> the man in the middle changed byte \d+ of \d+ `+tt.changed)
			want := []string{`=== What the man in the middle caused ===`}
			for _, v := range []verdict{tt.first, tt.then} {
				dir := "sent to"
				if v.verb == "was told" {
					dir = "received from"
				}
				want = append(want, `The `+v.side+` `+v.verb+`:\n`, `    step:  `+regexp.QuoteMeta(v.where)+`\n`,
					`    alert: `+v.alert+` \(`+dir+` the (client|server)\)\n`, `    cause: \S`, `    fix:   \S`)
			}
			want = append(want, `Why: .*`+regexp.QuoteMeta(tt.why))
			wantOutput(t, what, text, want...)
			// Each side's failure once in the timeline, its step said once;
			// after the handshake it is the connection that ended.
			for _, side := range []string{"client", "server"} {
				if n := len(regexp.MustCompile(`(?m)^  `+side+`: (handshake FAILED|connection ended)`).FindAllString(text, -1)); n != 1 {
					t.Errorf("%s: the %s's failure shows %d times in the timeline:\n%s", what, side, n, text)
				}
			}
			if m := regexp.MustCompile(`(?m)^.*(FAILED|ended) at step \d.* — step \d.*$`).FindString(text); m != "" {
				t.Errorf("%s: a failure says its step twice: %q", what, m)
			}
			if m := regexp.MustCompile(`(?m)^.*handshake FAILED at step 8.*$`).FindString(text); m != "" {
				t.Errorf("%s: a failure after the handshake is called a handshake failure: %q", what, m)
			}
		})
	}
}

// TestREADMEShowsTheDemo: the README's copy of the demo's output is what
// the demo prints now, line for line (the decoded fields left out, numbers
// such as ports and sizes aside), and reads as the note's flow.
func TestREADMEShowsTheDemo(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LANG", "C.UTF-8")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## What the demo prints\n")
	_, block, ok2 := strings.Cut(after, "```text\n")
	block, _, ok3 := strings.Cut(block, "```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no ```text block under \"## What the demo prints\"")
	}
	var out bytes.Buffer
	if err := runDemo(nil, &out); err != nil {
		t.Fatal(err)
	}
	mask := func(s string) string { return regexp.MustCompile(`\d+`).ReplaceAllString(s, "#") }
	var shown []string
	for line := range strings.Lines(out.String()) {
		if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "      ") {
			shown = append(shown, mask(strings.TrimRight(line, "\n")))
		}
	}
	var copied []string
	for line := range strings.Lines(block) {
		if strings.TrimSpace(line) != "" {
			copied = append(copied, mask(strings.TrimRight(line, "\n")))
		}
	}
	if !slices.Equal(copied, shown) {
		t.Errorf("README.md's demo output is not what the demo prints: %s (run tlsflow demo and copy it, without the field lines)",
			firstDifference(strings.Join(copied, "\n"), strings.Join(shown, "\n")))
	}
	if got := titles(block); got != "0 1 2 3 4 5 6 7 6 7 8" {
		t.Errorf("README.md's demo output reads %s, not the note's flow", got)
	}
}
