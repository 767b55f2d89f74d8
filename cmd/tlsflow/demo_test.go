package main

import (
	"bytes"
	"regexp"
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
		`Schritt: 7, Finished`, `Alert:   decrypt_error \(an die Gegenseite gesendet\)`, `Warum: `)
}

// TestDemoTamper runs every --tamper case and checks that the side that
// must notice does, at the step and with the alert the help promises, and
// that the other side hears of it. The cases run in this process (the race
// detector watches the man in the middle, and RSA keys are made once);
// TestDemoSpeaksGerman runs one through the command.
func TestDemoTamper(t *testing.T) {
	t.Parallel()
	const (
		client = "client"
		server = "server"
	)
	tests := []struct {
		flow, tamper string // flow "" is the default for the case
		changed      string // what the man in the middle says he changed
		noticer      string
		step         string // "7, Finished"; "" when the step is not the point
		alert        string
		why          string
	}{
		{"", "ClientHello", `of ClientHello client → server, 0x00 → 0x01: the first byte of the type of the extended_master_secret`,
			server, "7, Finished", "decrypt_error", "Finished is a MAC over the transcript"},
		{"seed", "ClientHello", `of ClientHello client → server`, server, "5, CertificateVerify", "decrypt_error", "signs its transcript in CertificateVerify"},
		{"", "ServerHello", `of ServerHello server → client, .*: the first byte of the server random`,
			client, "3, ServerKeyExchange", "decrypt_error", "together with both randoms"},
		{"", "Certificate", `of Certificate server → client, .*: the last byte of the server certificate`,
			client, "3, Certificate", "unknown_ca", "no longer verifies"},
		{"", "ServerKeyExchange", `of ServerKeyExchange server → client, .*: the last byte of the server's ECDHE public key`,
			client, "3, ServerKeyExchange", "decrypt_error", "covers its ECDHE key share"},
		{"", "ClientKeyExchange", `of ClientKeyExchange client → server, .*: the last byte of the client's ECDHE public key`,
			server, "", "bad_record_mac", "derives another pre-master secret"},
		{"seed", "ClientKeyExchange", `of ClientKeyExchange client → server, .*: a byte in the middle of the pre-master secret`,
			server, "5, CertificateVerify", "decrypt_error", "padding oracle"},
		{"", "CertificateVerify", `of CertificateVerify client → server, .*: the last byte of the client's signature`,
			server, "5, CertificateVerify", "decrypt_error", "proves that the client holds"},
		{"", "Finished", `of the handshake record client → server \(it carries the client's Finished\)`,
			server, "", "bad_record_mac", "first of them"},
		{"", "record", `of the application_data record client → server \(it carries the HTTP request\)`,
			server, "", "bad_record_mac", "step 8"},
		{"tls13", "ClientHello", `of ClientHello client → server, .*: the first byte of the client random`,
			client, "2, after ServerHello", "bad_record_mac", "into the key schedule"},
		{"tls13", "ServerHello", `of ServerHello server → client`, client, "2, after ServerHello", "bad_record_mac", "into the key schedule"},
		{"tls13", "Certificate", `of the application_data record server → client \(the server's encrypted flight`,
			client, "", "bad_record_mac", "cannot even see Certificate"},
		{"client-auth", "CertificateVerify", `of the application_data record client → server \(the client's encrypted flight: Certificate, CertificateVerify`,
			server, "", "bad_record_mac", "cannot even see CertificateVerify"},
		{"tls13", "Finished", `of the application_data record client → server \(the client's encrypted flight, ending with its Finished`,
			server, "", "bad_record_mac", "cannot even see Finished"},
		{"tls13", "record", `of the application_data record client → server \(it carries the HTTP request\)`,
			server, "", "bad_record_mac", "step 8"},
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
			other := map[string]string{client: server, server: client}[tt.noticer]
			want := []string{`>>> Man in the middle changed byte \d+ of \d+ ` + tt.changed,
				`handshake FAILED|connection ended`,
				`=== What the man in the middle caused ===`, `The ` + tt.noticer + ` noticed:`}
			if tt.step != "" {
				want = append(want, `step:  `+regexp.QuoteMeta(tt.step)+`\n`)
			}
			want = append(want, `alert: `+tt.alert+` \(sent to the peer\)`, `cause: `,
				`The `+other+` (was told|noticed):`, `alert: `+tt.alert, `Why: .*`+regexp.QuoteMeta(tt.why))
			wantOutput(t, "demo "+strings.Join(args, " "), out.String(), want...)
		})
	}
}
