package trace

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current renderer")

var fixtures = []string{"tls12", "tls13"}

func readFixture(t *testing.T, name string) []Event {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := ReadJSONLines(f)
	if err != nil {
		t.Fatalf("%s.jsonl: %v", name, err)
	}
	return events
}

func render(events []Event, opt Options) string {
	var out bytes.Buffer
	hook := NewRenderer(&out, opt)
	for _, e := range events {
		hook(e)
	}
	return out.String()
}

// TestTextMatchesGolden renders the recorded TLS 1.2 and TLS 1.3
// handshakes in English and German, as the demo shows them (in wire order,
// each message once, with secrets).
func TestTextMatchesGolden(t *testing.T) {
	for _, fx := range fixtures {
		for _, lang := range []string{"en", "de"} {
			name := fx + "." + lang + ".golden"
			t.Run(name, func(t *testing.T) {
				got := render(WireOrder(readFixture(t, fx)), Options{Lang: lang, SentOnly: true, Secrets: true})
				path := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("%s differs (rerun with -update if the change is intended):\n%s", path, firstDiff(got, string(want)))
				}
			})
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}

// TestTLS12IsGroupedByTheNotesSteps checks that a TLS 1.2 trace in wire
// order reads as the note's flow, 0 1 2 3 4 5 6 7 6 7 8: a title comes
// back only where the wire does (each side's ChangeCipherSpec and
// Finished), in both languages.
func TestTLS12IsGroupedByTheNotesSteps(t *testing.T) {
	events := WireOrder(readFixture(t, "tls12"))
	for _, lang := range []string{"en", "de"} {
		text := render(events, Options{Lang: lang, SentOnly: true})
		if got, want := stepTitleSequence(text), "0 1 2 3 4 5 6 7 6 7 8"; got != want {
			t.Errorf("%s: step titles %s, want %s:\n%s", lang, got, want, text)
		}
	}
}

// stepTitleSequence lists the numbers of the "Step n —" titles of a text
// trace, in order.
func stepTitleSequence(text string) string {
	var steps []string
	for _, m := range regexp.MustCompile(`(?m)^(?:Step|Schritt) (\d) — `).FindAllStringSubmatch(text, -1) {
		steps = append(steps, m[1])
	}
	return strings.Join(steps, " ")
}

// TestWireOrderDoesNotDependOnScheduling interleaves the two sides of the
// recordings at random, as two goroutines sharing a hook would, and gets
// the same order back every time; without WireOrder the same trace shows
// steps out of order.
func TestWireOrderDoesNotDependOnScheduling(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, fx := range fixtures {
		events := readFixture(t, fx)
		want := WireOrder(events)
		if len(want) != len(events) {
			t.Fatalf("%s: WireOrder returned %d events of %d", fx, len(want), len(events))
		}
		var lanes [2][]Event
		for _, e := range events {
			lanes[laneOf(e.Side)] = append(lanes[laneOf(e.Side)], e)
		}
		for run := 0; run < 20; run++ {
			shuffled := make([]Event, 0, len(events))
			i, j := 0, 0
			for i < len(lanes[0]) || j < len(lanes[1]) {
				if j == len(lanes[1]) || i < len(lanes[0]) && rng.IntN(2) == 0 {
					shuffled, i = append(shuffled, lanes[0][i]), i+1
				} else {
					shuffled, j = append(shuffled, lanes[1][j]), j+1
				}
			}
			got := WireOrder(shuffled)
			for k := range want {
				if got[k].Side != want[k].Side || got[k].Kind != want[k].Kind || got[k].Message != want[k].Message || !got[k].Time.Equal(want[k].Time) {
					t.Fatalf("%s run %d: event %d is %s %s %s, want %s %s %s", fx, run, k,
						got[k].Side, got[k].Kind, got[k].Message, want[k].Side, want[k].Kind, want[k].Message)
				}
			}
		}
		if fx == "tls12" {
			// A server that ran ahead (its whole flight, then its checks of
			// the client's) is what the demo used to print as is.
			ahead := append(append([]Event(nil), lanes[1][:8]...), lanes[0]...)
			ahead = append(ahead, lanes[1][8:]...)
			if got := stepTitleSequence(render(ahead, Options{Lang: "en", SentOnly: true})); got == "0 1 2 3 4 5 6 7 6 7 8" {
				t.Errorf("the unordered trace already reads as the note's flow; the test proves nothing")
			}
		}
	}
}

// TestWireOrderPutsEachReplyAfterItsMessage: nothing a side received
// comes before the other side sent it.
func TestWireOrderPutsEachReplyAfterItsMessage(t *testing.T) {
	for _, fx := range fixtures {
		sent := map[string]int{}
		received := map[string]int{}
		for i, e := range WireOrder(readFixture(t, fx)) {
			k, ok := keyOf(e)
			if !ok {
				continue
			}
			key := fmt.Sprint(e.Side, k)
			if e.Direction == Sent {
				sent[key]++
				continue
			}
			peer := Client
			if e.Side == Client {
				peer = Server
			}
			received[key]++
			if sent[fmt.Sprint(peer, k)] < received[key] {
				t.Errorf("%s: event %d, %s received %s %q before the %s sent it", fx, i, e.Side, e.Kind, e.Message, peer)
			}
		}
	}
}

// TestTLS13SaysWhichStepEachMessageTakesOver protects the TLS 1.3 layout:
// each message carries the note's step it stands for, under the part of
// RFC 8446's flow it belongs to.
func TestTLS13SaysWhichStepEachMessageTakesOver(t *testing.T) {
	events := readFixture(t, "tls13")
	for _, tc := range []struct {
		lang string
		want []string // regular expressions, in order
	}{
		{"en", []string{
			`(?m)^Step 1 — ClientHello`, // before ServerHello the version is unknown
			`(?m)^TLS 1\.3 · Key exchange`,
			`server → client ServerHello \(\d+ bytes\) — step 2`,
			`server derives the server's handshake traffic secret \(SERVER_HANDSHAKE_TRAFFIC_SECRET\) — step 5 \(keys\)`,
			`(?m)^TLS 1\.3 · Server parameters`,
			`server → client EncryptedExtensions \(\d+ bytes\) — step 2`,
			`server → client CertificateRequest \(\d+ bytes\) — step 3`,
			`(?m)^TLS 1\.3 · Authentication`,
			`server → client Certificate \(\d+ bytes\) — step 3`,
			`server → client CertificateVerify \(\d+ bytes\) — step 3`,
			`server → client Finished \(\d+ bytes\) — step 7`,
			`client verified Finished ✓: .* — step 7`,
			`client → server Certificate \(\d+ bytes\) — step 5`,
			`client → server CertificateVerify \(\d+ bytes\) — step 5`,
			`client → server Finished \(\d+ bytes\) — step 7`,
			`(?m)^TLS 1\.3 · Application data`,
			`client → server application data — step 8`,
		}},
		{"de", []string{
			`(?m)^Schritt 1 — ClientHello`,
			`(?m)^TLS 1\.3 · Schlüsselaustausch`,
			`Server → Client ServerHello \(\d+ Bytes\) — Schritt 2`,
			`Server leitet den Handshake-Schlüssel des Servers ab \(SERVER_HANDSHAKE_TRAFFIC_SECRET\) — Schritt 5 \(Schlüssel\)`,
			`Server → Client EncryptedExtensions \(\d+ Bytes\) — Schritt 2`,
			`Server → Client Certificate \(\d+ Bytes\) — Schritt 3`,
			`Server → Client Finished \(\d+ Bytes\) — Schritt 7`,
			`Client hat Finished geprüft ✓: die Prüfsequenz stimmt.* — Schritt 7`,
			`Client → Server Certificate \(\d+ Bytes\) — Schritt 5`,
			`Client → Server Finished \(\d+ Bytes\) — Schritt 7`,
		}},
	} {
		text := render(events, Options{Lang: tc.lang, SentOnly: true})
		rest := text
		for _, re := range tc.want {
			loc := regexp.MustCompile(re).FindStringIndex(rest)
			if loc == nil {
				t.Fatalf("%s: no %q in what follows:\n%s\n\nwhole text:\n%s", tc.lang, re, rest, text)
			}
			rest = rest[loc[1]:]
		}
		if regexp.MustCompile(`(?m)^(Step|Schritt) [2-8] `).MatchString(text) {
			t.Errorf("%s: a TLS 1.3 event got a TLS 1.2 step title:\n%s", tc.lang, text)
		}
	}
}

// TestGermanUsesTheNotesTerms checks the words a student finds in the note.
func TestGermanUsesTheNotesTerms(t *testing.T) {
	de := render(readFixture(t, "tls12"), Options{Lang: "de", SentOnly: true})
	for _, want := range []string{"Zufallszahl:", "Zertifikat 0 Inhaber:", "Zertifikat 0 Aussteller:",
		"akzeptierte Zertifizierungsstellen:", "Prüfsequenz (verify_data):", "angebotene Cipher-Suites:",
		"Cipher-Suite:", "Sitzungs-ID:", "2 Zertifikat(e)", "Client → Server ClientHello", "Schlüssel"} {
		if !strings.Contains(de, want) {
			t.Errorf("German text lacks %q", want)
		}
	}
	for _, english := range []string{"random:", "certificate 0", "bytes)", "client →", "Step "} {
		if strings.Contains(de, english) {
			t.Errorf("German text contains the English %q", english)
		}
	}
}

func TestFieldLabels(t *testing.T) {
	for _, tc := range []struct {
		lang, name, want string
	}{
		{"en", "random", "random"},
		{"de", "random", "Zufallszahl"},
		{"de", "certificate[1].issuer", "Zertifikat 1 Aussteller"},
		{"en", "certificate[12].not_after", "certificate 12 valid until"},
		{"de", "certificate[0].some_new_field", "Zertifikat 0 some_new_field"},
		{"de", "certificate[x].issuer", "certificate[x].issuer"}, // not an index: as is
		{"de", "certificate[-1].issuer", "certificate[-1].issuer"},
		{"de", "brand_new_field", "brand_new_field"},
	} {
		r := &textRenderer{lang: pickLanguage(tc.lang)}
		if got := r.label(tc.name); got != tc.want {
			t.Errorf("%s label(%q) = %q, want %q", tc.lang, tc.name, got, tc.want)
		}
	}
}

func TestFieldValues(t *testing.T) {
	long := strings.Repeat("ab", 1216) // an X25519MLKEM768 key share
	for _, tc := range []struct {
		lang, value, want string
	}{
		{"de", "(empty)", "(leer)"},
		{"de", "true", "ja"},
		{"en", "2 certificate(s)", "2 certificate(s)"},
		{"de", "2 certificate(s)", "2 Zertifikat(e)"},
		{"de", "x certificate(s)", "x certificate(s)"},
		{"en", long, strings.Repeat("ab", 16) + "…(1216 bytes)"},
		{"de", long, strings.Repeat("ab", 16) + "…(1216 Bytes)"},
		{"en", strings.Repeat("ab", 48), strings.Repeat("ab", 48)}, // SHA-384 verify_data in full
		{"en", strings.Repeat("xy", 100), strings.Repeat("xy", 100)},
		{"de", "3045022034b5…(71 bytes)", "3045022034b5…(71 Bytes)"},
		{"de", "zz…(71 bytes)", "zz…(71 bytes)"},
	} {
		r := &textRenderer{lang: pickLanguage(tc.lang)}
		if got := r.value(tc.value); got != tc.want {
			t.Errorf("%s value(%.20q…) = %q, want %q", tc.lang, tc.value, got, tc.want)
		}
	}
}

// TestEveryStringHasBothLanguages keeps the tables complete.
func TestEveryStringHasBothLanguages(t *testing.T) {
	check := func(where string, s tr) {
		if s.en == "" || s.de == "" {
			t.Errorf("%s: %+v lacks a language", where, s)
		}
		if strings.Count(s.en, "%") != strings.Count(s.de, "%") {
			t.Errorf("%s: %q and %q take different arguments", where, s.en, s.de)
		}
	}
	v := reflect.ValueOf(words)
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		check("words."+v.Type().Field(i).Name, tr{en: f.Field(0).String(), de: f.Field(1).String()})
	}
	for i, s := range stepTitles {
		check(fmt.Sprint("stepTitles[", i, "]"), s)
	}
	for i, s := range []tr{step3RSA, step3ECDHE, step5RSA, step5ECDHE} {
		check(fmt.Sprint("step 3 and 5 by key exchange ", i), s)
	}
	for _, p := range []phase{phaseKeyExchange, phaseParameters, phaseAuth, phaseData, phasePost} {
		check("phaseTitles "+string(p), phaseTitles[p])
	}
	check("certificateCount", certificateCount)
	for name, m := range map[string]map[string]tr{"fieldLabels": fieldLabels, "valueWords": valueWords,
		"keyLabels": keyLabels, "checks": checks, "notes": notes, "places": places} {
		for k, s := range m {
			check(name+"["+k+"]", s)
		}
	}
}

func TestEventsRenderedReadably(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		opt  Options
		e    Event
		want []string
	}{
		{"error with step and message", Options{Lang: "en"},
			Event{Time: at, Side: Server, Kind: KindError, Direction: Local, Step: 5, Version: 0x0303, Message: "CertificateVerify",
				Fields: []Field{{"error", "bad signature"}}, Err: errors.New("bad signature")},
			[]string{"server: handshake FAILED at step 5, CertificateVerify\n", "error: bad signature\n"}},
		{"error in German", Options{Lang: "de"},
			Event{Time: at, Side: Client, Kind: KindError, Direction: Local, Step: -1, Fields: []Field{{"error", "EOF"}}},
			[]string{"Client: Handshake FEHLGESCHLAGEN\n", "Fehler: EOF\n"}},
		{"fatal alert received", Options{Lang: "en"},
			Event{Side: Client, Kind: KindAlert, Direction: Received, Step: -1, Message: "bad_certificate",
				Fields: []Field{{"level", "fatal"}}},
			[]string{"server → client alert bad_certificate\n", "level: fatal\n"}},
		{"note translated", Options{Lang: "de"},
			Event{Side: Client, Kind: KindNote, Direction: Local, Step: 1, Message: "resumption offered"},
			[]string{"Client: Wiederaufnahme der Sitzung angeboten\n"}},
		{"unknown note as is", Options{Lang: "de"},
			Event{Side: Client, Kind: KindNote, Direction: Local, Step: 1, Message: "something new"},
			[]string{"Client: something new\n"}},
		{"secret shown when asked", Options{Lang: "en", Secrets: true},
			Event{Side: Client, Kind: KindKeys, Direction: Local, Step: 5, Message: "CLIENT_RANDOM", Secret: []byte{0xde, 0xad}},
			[]string{"client derives the master secret", "(CLIENT_RANDOM)\n", "secret: dead\n"}},
		{"secret asked for but not traced", Options{Lang: "de", Secrets: true},
			Event{Side: Client, Kind: KindKeys, Direction: Local, Step: 5, Message: "CLIENT_RANDOM"},
			[]string{"Geheimnis: (nicht im Trace: braucht ein Key-Log)\n"}},
		{"key update after the handshake", Options{Lang: "en"},
			Event{Side: Server, Kind: KindKeys, Direction: Local, Step: 8, Version: 0x0304, Message: "key update",
				Fields: []Field{{"direction", "us → peer"}}},
			[]string{"TLS 1.3 · After the handshake", "server derives new traffic keys (key update) — step 8 (keys)\n"}},
		{"TLS 1.3 ChangeCipherSpec explained", Options{Lang: "en"},
			Event{Side: Client, Kind: KindChangeCipherSpec, Direction: Sent, Step: 6, Version: 0x0304},
			[]string{"client → server ChangeCipherSpec — no meaning in TLS 1.3"}},
		{"hex dump", Options{Lang: "en", Hex: true},
			Event{Side: Client, Kind: KindMessage, Direction: Sent, Step: 4, Message: "ServerHelloDone",
				Raw: []byte{0x0e, 0, 0, 0}},
			[]string{"client → server ServerHelloDone (4 bytes)\n      0000  0e 00 00 00\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render([]Event{tc.e}, tc.opt)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestStepZeroSaysThePortUsed: the connection of the recording went to a
// random port, not HTTPS's 443, and step 0 says which.
func TestStepZeroSaysThePortUsed(t *testing.T) {
	events := WireOrder(readFixture(t, "tls12"))
	_, port, _ := strings.Cut(events[0].Field("remote"), ":")
	for lang, want := range map[string]string{
		"en": "client: TCP connection open to port " + port + "\n",
		"de": "Client: TCP-Verbindung zu Port " + port + " steht\n",
	} {
		text := render(events[:2], Options{Lang: lang})
		if !strings.Contains(text, want) || strings.Contains(text, "port 443)") || strings.Contains(text, "Port 443)") {
			t.Errorf("%s: step 0 does not say the port %s:\n%s", lang, port, text)
		}
	}
}

// TestStepTitlesFollowTheKeyExchange: with ECDHE the client sends a key
// share, not the pre-master secret, and the server signs its own.
func TestStepTitlesFollowTheKeyExchange(t *testing.T) {
	hello := func(suite string) Event {
		return Event{Side: Server, Kind: KindMessage, Direction: Sent, Step: 2, Version: 0x0303, Message: "ServerHello",
			Fields: []Field{{"cipher_suite", suite}}}
	}
	cke := Event{Side: Client, Kind: KindMessage, Direction: Sent, Step: 5, Version: 0x0303, Message: "ClientKeyExchange"}
	cert := Event{Side: Server, Kind: KindMessage, Direction: Sent, Step: 3, Version: 0x0303, Message: "Certificate"}
	for _, tc := range []struct {
		suite string
		want  []string
		not   []string
	}{
		{"TLS_RSA_WITH_AES_128_GCM_SHA256", []string{"Step 3 — Certificate: the server's X.509 chain, whose RSA key",
			"Step 5 — ClientKeyExchange: the client sends the pre-master secret, encrypted to the server's RSA key"}, []string{"key share"}},
		{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", []string{"Step 3 — Certificate and ServerKeyExchange: ", "ECDHE key share signed",
			"Step 5 — ClientKeyExchange: the client sends its ECDHE key share"}, []string{"sends the pre-master secret"}},
	} {
		text := render([]Event{hello(tc.suite), cert, cke}, Options{Lang: "en"})
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: lacks %q:\n%s", tc.suite, w, text)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(text, n) {
				t.Errorf("%s: says %q:\n%s", tc.suite, n, text)
			}
		}
	}
}

// TestSummariesSayWhatApplies: TLS 1.3 has no extended_master_secret
// extension, and an empty list says so instead of leaving a blank.
func TestSummariesSayWhatApplies(t *testing.T) {
	done := func(v uint16) Event {
		return Event{Side: Client, Kind: KindHandshakeDone, Direction: Local, Step: 7, Version: v,
			Fields: []Field{{"extended_master_secret", "false"}}}
	}
	nst := Event{Side: Server, Kind: KindMessage, Direction: Sent, Step: 8, Version: 0x0304, Message: "NewSessionTicket",
		Fields: []Field{{"ticket_nonce", "00"}, {"extensions", ""}}}
	for _, tc := range []struct {
		e          Event
		lang, want string
	}{
		{done(0x0304), "en", "extended master secret (RFC 7627): n/a (TLS 1.3"},
		{done(0x0304), "de", "Extended Master Secret (RFC 7627): entfällt"},
		{done(0x0303), "en", "extended master secret (RFC 7627): no\n"},
		{nst, "en", "extensions:   (none)\n"},
		{nst, "de", "Erweiterungen: (keine)\n"},
	} {
		if got := render([]Event{tc.e}, Options{Lang: tc.lang}); !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: lacks %q:\n%s", tc.lang, tc.e.Kind, tc.want, got)
		}
	}
}

// TestErrorHeadlines: an error says its step once, how it ended (EndOf),
// and after the handshake that the connection ended, not the handshake.
func TestErrorHeadlines(t *testing.T) {
	errEvent := func(side Side, step int, msg string, v uint16, fields ...Field) Event {
		return Event{Side: side, Kind: KindError, Direction: Local, Step: step, Version: v, Message: msg, Fields: fields}
	}
	done := Event{Side: Server, Kind: KindHandshakeDone, Direction: Local, Step: 7, Version: 0x0304}
	for _, tc := range []struct {
		name   string
		events []Event
		want   string
		not    []string
	}{
		{"TLS 1.3 says the step once", []Event{errEvent(Client, 7, "after Finished", 0x0304,
			Field{"alert", "bad_record_mac (received)"}, Field{"ended", "alert_received"}, Field{"cause", "c"})},
			"client: handshake FAILED at step 7, after Finished: alert bad_record_mac received from the server\n", []string{"— step 7"}},
		{"an alert sent", []Event{errEvent(Server, 5, "CertificateVerify", 0x0303,
			Field{"error", "e"}, Field{"alert", "decrypt_error (sent)"}, Field{"ended", "alert_sent"}, Field{"cause", "c"}, Field{"fix", "f"})},
			"server: handshake FAILED at step 5, CertificateVerify: alert decrypt_error sent\n      cause: c\n      fix:   f\n", []string{"error:", "alert:"}},
		{"closed without an alert is no close_notify", []Event{errEvent(Client, 1, "after ClientHello", 0,
			Field{"alert", "none (the connection just ended)"}, Field{"ended", "closed"})},
			"client: handshake FAILED at step 1, after ClientHello: the server closed TCP without an alert\n", []string{"close_notify"}},
		{"after the handshake the connection ends", []Event{done, errEvent(Server, 8, "", 0x0304,
			Field{"alert", "none (the connection just ended)"}, Field{"ended", "closed"})},
			"server: connection ended at step 8: the client closed TCP without an alert\n", []string{"handshake FAILED"}},
		{"a reset", []Event{errEvent(Client, -1, "", 0, Field{"error", "read: connection reset by peer"}, Field{"ended", "reset"})},
			"client: handshake FAILED: the TCP connection was reset\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(tc.events, Options{Lang: "en"})
			if !strings.Contains(got, tc.want) {
				t.Errorf("lacks %q:\n%s", tc.want, got)
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("says %q:\n%s", n, got)
				}
			}
		})
	}
}

func TestSecretsOnlyWhenAsked(t *testing.T) {
	events := readFixture(t, "tls13")
	var secret string
	for _, e := range events {
		if len(e.Secret) > 0 {
			secret = hex.EncodeToString(e.Secret)
			break
		}
	}
	if secret == "" {
		t.Fatal("fixture has no secret; record it with a key log")
	}
	for _, format := range []Format{FormatText, FormatJSON} {
		if out := render(events, Options{Format: format}); strings.Contains(out, secret) {
			t.Errorf("%s without Secrets shows a secret", format)
		}
		if out := render(events, Options{Format: format, Secrets: true}); !strings.Contains(out, secret) {
			t.Errorf("%s with Secrets lacks the secret", format)
		}
	}
}

func TestSentOnlyShowsEachMessageOnce(t *testing.T) {
	events := readFixture(t, "tls12")
	for _, tc := range []struct {
		sentOnly bool
		want     int
	}{{true, 1}, {false, 2}} {
		text := render(events, Options{Lang: "en", SentOnly: tc.sentOnly})
		if n := strings.Count(text, "server → client ServerHello "); n != tc.want {
			t.Errorf("SentOnly=%t: ServerHello shown %d times, want %d", tc.sentOnly, n, tc.want)
		}
	}
	var out bytes.Buffer
	hook := NewRenderer(&out, Options{Format: FormatJSON, SentOnly: true})
	hook(Event{Side: Server, Kind: KindMessage, Direction: Received, Step: 1, Message: "ClientHello"})
	if out.Len() != 0 {
		t.Errorf("JSON with SentOnly wrote a received message: %s", out.String())
	}
}

// TestJSONLinesFollowTheSchema checks every line of a rendered handshake
// against JSON.md: exactly the documented keys, each with its JSON type.
func TestJSONLinesFollowTheSchema(t *testing.T) {
	types := map[string]string{
		"time": "string", "side": "string", "kind": "string", "direction": "string", "step": "number",
		"version": "number", "message": "string", "fields": "array", "raw": "string", "error": "string",
	}
	errEvent := Event{Time: time.Now(), Side: Client, Kind: KindError, Step: 3, Err: errors.New("boom")}
	for _, fx := range fixtures {
		out := render(append(readFixture(t, fx), errEvent), Options{Format: FormatJSON, Secrets: true})
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for n, line := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s line %d is not JSON: %v\n%s", fx, n+1, err, line)
			}
			for key, typ := range types {
				v, ok := m[key]
				if !ok {
					t.Fatalf("%s line %d lacks %q: %s", fx, n+1, key, line)
				}
				if got := jsonType(v); got != typ {
					t.Fatalf("%s line %d: %q is %s, want %s: %s", fx, n+1, key, got, typ, line)
				}
			}
			for key, v := range m {
				if _, ok := types[key]; !ok && key != "secret" {
					t.Errorf("%s line %d: undocumented key %q", fx, n+1, key)
				}
				if key == "secret" || key == "raw" {
					if _, err := hex.DecodeString(v.(string)); err != nil {
						t.Errorf("%s line %d: %q is not hex: %v", fx, n+1, key, err)
					}
				}
			}
			if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
				t.Errorf("%s line %d: time: %v", fx, n+1, err)
			}
			for _, f := range m["fields"].([]any) {
				obj, ok := f.(map[string]any)
				if !ok || len(obj) != 2 || jsonType(obj["name"]) != "string" || jsonType(obj["value"]) != "string" {
					t.Errorf("%s line %d: field %v is not {name, value} strings", fx, n+1, f)
				}
			}
		}
		if last := lines[len(lines)-1]; !strings.Contains(last, `"error":"boom"`) {
			t.Errorf("error event line lacks its error: %s", last)
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// TestJSONRoundTrip: what the JSON renderer writes, ReadJSONLines reads
// back as the same events, and writing them again gives the same bytes.
func TestJSONRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011, time.FixedZone("CET", 3600))
	events := []Event{
		{Time: at, Side: Client, Kind: KindMessage, Direction: Sent, Step: 1, Message: "ClientHello",
			Fields: []Field{{"random", "00ff"}, {"server_name", "<a&b>"}}, Raw: []byte{1, 0, 0, 2, 0xff, 0}},
		{Time: at, Side: Server, Kind: KindKeys, Direction: Local, Step: 5, Version: 0x0304,
			Message: "SERVER_HANDSHAKE_TRAFFIC_SECRET", Secret: []byte{9, 8, 7}},
		{Time: at, Side: Server, Kind: KindError, Direction: Local, Step: -1, Err: errors.New("it broke")},
		{Side: Client, Kind: KindConnect, Step: 0}, // zero time, no direction
	}
	out := render(events, Options{Format: FormatJSON, Secrets: true})
	back, err := ReadJSONLines(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(events) {
		t.Fatalf("read %d events, wrote %d", len(back), len(events))
	}
	for i := range events {
		want, got := events[i], back[i]
		if !got.Time.Equal(want.Time) || (want.Err == nil) != (got.Err == nil) ||
			(want.Err != nil && got.Err.Error() != want.Err.Error()) {
			t.Errorf("event %d: time %v err %v, want %v %v", i, got.Time, got.Err, want.Time, want.Err)
		}
		got.Time, want.Time, got.Err, want.Err = time.Time{}, time.Time{}, nil, nil
		if want.Fields == nil {
			want.Fields = []Field{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, want)
		}
	}

	// A recorded fixture survives read and write byte for byte.
	for _, fx := range fixtures {
		raw, err := os.ReadFile(filepath.Join("testdata", fx+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if again := render(readFixture(t, fx), Options{Format: FormatJSON, Secrets: true}); again != string(raw) {
			t.Errorf("%s.jsonl changes on a round trip: %s", fx, firstDiff(again, string(raw)))
		}
	}

	// json.Marshal of an Event writes the same schema.
	line, err := json.Marshal(events[0])
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(out, "\n", 2)[0]; string(line) != strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(
		first, "<", `\u003c`), ">", `\u003e`), "&", `\u0026`) {
		t.Errorf("json.Marshal(Event) = %s\nrenderer wrote    %s", line, first)
	}
}

func TestReadJSONLinesRejectsMalformedLines(t *testing.T) {
	good := `{"time":"2026-01-01T00:00:00Z","side":"client","kind":"connect","direction":"local","step":0,"version":0,"message":"","fields":[],"raw":"","error":""}`
	for _, tc := range []struct {
		name, input, want string
	}{
		{"not JSON", good + "\n{oops\n", "line 2"},
		{"step not a number", `{"kind":"message","step":"one"}`, "line 1"},
		{"version out of range", `{"kind":"message","version":70000}`, "line 1"},
		{"raw not hex", `{"kind":"message","raw":"AQID"}`, `"raw"`},
		{"secret not hex", `{"kind":"keys","secret":"zz"}`, `"secret"`},
		{"no kind", `{"side":"client"}`, `no "kind"`},
		{"bad time", `{"kind":"connect","time":"yesterday"}`, `"time"`},
		{"field value not a string", `{"kind":"message","fields":[{"name":"a","value":1}]}`, "line 1"},
		{"line too long", good + "\n\n" + `{"kind":"message","raw":"` + strings.Repeat("00", maxJSONLine) + `"}`, "line 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSONLines(strings.NewReader(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one mentioning %s", err, tc.want)
			}
		})
	}
	events, err := ReadJSONLines(strings.NewReader("\n" + good + "\n\n" + `{"kind":"note","future_key":[1,2]}` + "\n"))
	if err != nil || len(events) != 2 || events[1].Step != -1 {
		t.Errorf("blank lines, unknown keys, missing step: %+v, %v; want 2 events, the second at step -1", events, err)
	}
}

func TestColor(t *testing.T) {
	for _, fx := range fixtures {
		events := readFixture(t, fx)
		for _, lang := range []string{"en", "de"} {
			if out := render(events, Options{Lang: lang}); strings.IndexByte(out, 0x1b) >= 0 {
				t.Errorf("%s %s: Color=false output has an escape byte", fx, lang)
			}
			out := render(events, Options{Lang: lang, Color: true})
			for _, want := range []string{ansiCyan + words.client.in(pickLanguage(lang)) + " → ", ansiBold, ansiGreen, ansiReset} {
				if !strings.Contains(out, want) {
					t.Errorf("%s %s: Color=true output lacks %q", fx, lang, want)
				}
			}
		}
	}
	if out := render([]Event{{Side: Client, Kind: KindError, Step: -1}}, Options{Color: true}); !strings.Contains(out, ansiRed) {
		t.Errorf("error not red: %q", out)
	}
	if out := render([]Event{{Side: Client, Kind: KindMessage, Step: 1, Message: "ClientHello"}}, Options{Format: FormatJSON, Color: true}); strings.IndexByte(out, 0x1b) >= 0 {
		t.Errorf("JSON has colour: %q", out)
	}
}

func TestColorAuto(t *testing.T) {
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if ColorAuto(&bytes.Buffer{}) {
		t.Error("ColorAuto(bytes.Buffer) = true")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ColorAuto(f) {
		t.Error("ColorAuto(regular file) = true")
	}
	// /dev/null is a character device like a terminal: the check we make
	// without cgo or x/term sees it as one.
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	if fi, err := dev.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Skip("no character device to test with")
	}
	if !ColorAuto(dev) {
		t.Error("ColorAuto(character device) = false with NO_COLOR unset")
	}
	for _, env := range []struct{ key, value string }{{"NO_COLOR", "1"}, {"TERM", "dumb"}} {
		t.Run(env.key+"="+env.value, func(t *testing.T) {
			t.Setenv(env.key, env.value)
			if ColorAuto(dev) {
				t.Errorf("ColorAuto = true with %s=%s", env.key, env.value)
			}
		})
	}
}

func TestLanguageFromOptionsAndEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		lang, lcAll, lcMsg, envL string
		want                     language
	}{
		{"LANG=de_DE.UTF-8", "", "", "", "de_DE.UTF-8", german},
		{"LANG=en_US.UTF-8", "", "", "", "en_US.UTF-8", english},
		{"nothing set", "", "", "", "", english},
		{"LC_ALL wins over LANG", "", "C", "", "de_DE.UTF-8", english},
		{"LC_MESSAGES wins over LANG", "", "", "de_AT", "en_GB", german},
		{"Options.Lang wins", "en", "", "", "de_DE.UTF-8", english},
		{"Options.Lang de-CH", "de-CH", "", "", "", german},
		{"unknown language", "fr", "", "", "", english},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LC_ALL", tc.lcAll)
			t.Setenv("LC_MESSAGES", tc.lcMsg)
			t.Setenv("LANG", tc.envL)
			out := render([]Event{{Side: Client, Kind: KindConnect, Step: 0}}, Options{Lang: tc.lang})
			want := fmt.Sprintf(words.step.in(tc.want), 0, stepTitles[0].in(tc.want))
			if !strings.Contains(out, want) {
				t.Errorf("output %q, want the title %q", out, want)
			}
		})
	}
}

// TestRendererIsSafeForConcurrentUse runs both sides' events at once
// (with -race) and checks that no event's lines are torn apart.
func TestRendererIsSafeForConcurrentUse(t *testing.T) {
	events := readFixture(t, "tls13")
	for _, format := range []Format{FormatText, FormatJSON} {
		var out bytes.Buffer
		hook := NewRenderer(&out, Options{Format: format, Hex: true})
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, e := range events {
					hook(e)
				}
			}()
		}
		wg.Wait()
		if format == FormatJSON {
			got, err := ReadJSONLines(&out)
			if err != nil || len(got) != 4*len(events) {
				t.Errorf("JSON from 4 goroutines: %d events, %v; want %d", len(got), err, 4*len(events))
			}
			continue
		}
		single := render(events, Options{Format: format, Hex: true})
		if n, want := strings.Count(out.String(), "      0000  "), 4*strings.Count(single, "      0000  "); n != want {
			t.Errorf("text from 4 goroutines has %d hex dumps, want %d", n, want)
		}
	}
}

// FuzzReadJSONLines: no input panics the reader or the renderers that
// replay what it read.
func FuzzReadJSONLines(f *testing.F) {
	for _, fx := range fixtures {
		raw, err := os.ReadFile(filepath.Join("testdata", fx+".jsonl"))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.SplitN(string(raw), "\n", 6) {
			f.Add(line)
		}
	}
	f.Add(`{"kind":"message","version":772,"step":99,"fields":[{"name":"certificate[99999999999999999999].x","value":"` + strings.Repeat("a", 200) + `"}]}`)
	f.Fuzz(func(t *testing.T, input string) {
		events, err := ReadJSONLines(strings.NewReader(input))
		if err != nil {
			return
		}
		for _, opt := range []Options{{Lang: "en", Hex: true, Secrets: true, Color: true}, {Lang: "de"}, {Format: FormatJSON}} {
			render(events, opt)
		}
	})
}
