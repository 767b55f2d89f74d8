package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/trace"
)

// sayLiterals returns every say{en, de} written in the command's source
// (not its tests), with where it is. A part that is not a string literal
// (a message name put into the sentence) reads as %v.
func sayLiterals(t *testing.T) map[string]say {
	t.Helper()
	literalsOnce.Do(func() { literals = parseSayLiterals(t) })
	return literals
}

var (
	literalsOnce sync.Once
	literals     map[string]say
)

func parseSayLiterals(t *testing.T) map[string]say {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := map[string]say{}
	var text func(ast.Expr) (string, bool)
	text = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			return s, err == nil && e.Kind == token.STRING
		case *ast.BinaryExpr:
			a, ok1 := text(e.X)
			b, ok2 := text(e.Y)
			return a + b, ok1 || ok2
		}
		return "%v", false
	}
	isSay := func(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "say" }
	add := func(lit *ast.CompositeLit) {
		if len(lit.Elts) == 0 {
			return // say{}: nothing to say
		}
		if len(lit.Elts) != 2 {
			t.Errorf("%s: a say with %d parts", fset.Position(lit.Pos()), len(lit.Elts))
			return
		}
		var parts [2]string
		literal := false
		for i, el := range lit.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				el = kv.Value
			}
			var ok bool
			parts[i], ok = text(el)
			literal = literal || ok
		}
		if literal { // say{usageEnglish, usageGerman} is checked by its constants' test
			found[fset.Position(lit.Pos()).String()] = say{parts[0], parts[1]}
		}
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			switch typ := lit.Type.(type) {
			case *ast.Ident:
				if isSay(typ) {
					add(lit)
				}
			case *ast.MapType, *ast.ArrayType:
				var elt ast.Expr
				if m, ok := typ.(*ast.MapType); ok {
					elt = m.Value
				} else {
					elt = typ.(*ast.ArrayType).Elt
				}
				if !isSay(elt) {
					return true
				}
				for _, el := range lit.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						el = kv.Value
					}
					if inner, ok := el.(*ast.CompositeLit); ok && inner.Type == nil {
						add(inner)
					}
				}
			}
			return true
		})
	}
	if len(found) < 100 {
		t.Fatalf("found only %d say literals: the walk is broken", len(found))
	}
	return found
}

// TestEverySentenceHasBothLanguages: every sentence the command can print
// is written in English and German, with the same arguments, and the
// German is not the English (names such as ALPN aside).
func TestEverySentenceHasBothLanguages(t *testing.T) {
	if usageEnglish == usageGerman || strings.Count(usageEnglish, "\n") != strings.Count(usageGerman, "\n") {
		t.Error("the list of commands is not in both languages, line for line")
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	name := regexp.MustCompile(`^[A-Z0-9 ./()-]*$`)
	for where, s := range sayLiterals(t) {
		switch {
		case s.en == "" || s.de == "":
			t.Errorf("%s: %q / %q lacks a language", where, s.en, s.de)
		case s.en == s.de && !name.MatchString(s.en):
			t.Errorf("%s: %q is not translated", where, s.en)
		case strings.Join(verbs.FindAllString(s.en, -1), " ") != strings.Join(verbs.FindAllString(s.de, -1), " "):
			t.Errorf("%s: %q and %q take different arguments", where, s.en, s.de)
		}
	}
}

// englishLines returns the lines of German output that still speak
// English: a sentence of the command's own English, or common English
// words. Decoded fields (data), the library's own words (a quoted detail)
// and names from the RFCs are no sentences.
func englishLines(t *testing.T, text string) []string {
	t.Helper()
	fragmentsOnce.Do(func() {
		for _, s := range sayLiterals(t) {
			for _, f := range regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`).Split(s.en, -1) {
				if f = strings.TrimSpace(f); strings.Count(f, " ") >= 2 && len(f) >= 15 && !strings.Contains(s.de, f) {
					fragments = append(fragments, f)
				}
			}
		}
	})
	words := regexp.MustCompile(`\b(the|and|with|from|which|were|not|this|that|would|could|before|after|only|its|sent|received|step|failed|handshake)\b`)
	var bad []string
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "      ") || strings.Contains(line, "Detail (Wortlaut von tlsflow, englisch):") {
			continue
		}
		// Names from the RFCs in German sentences: the content type of a
		// record ("des handshake-Records"), the man in the middle.
		plain := regexp.MustCompile(`\b[a-z_]+-Records?\b`).ReplaceAllString(strings.ReplaceAll(line, "Man-in-the-Middle", ""), "")
		hit := words.FindString(plain)
		for _, f := range fragments {
			if strings.Contains(line, f) {
				hit = f
				break
			}
		}
		if hit != "" {
			bad = append(bad, hit+": "+line)
		}
	}
	return bad
}

var (
	fragmentsOnce sync.Once
	fragments     []string // of the English sentences, not in their German
)

// TestGermanIsWhole runs every tamper case, and explains each way a
// connection fails, in German: no English sentence may come through, in
// the timeline (the trace's own words), the report, the causes, the fixes
// or the "Warum".
func TestGermanIsWhole(t *testing.T) {
	t.Parallel()
	cases := [][]string{{}, {"--flow", "tls13"}, {"--flow", "resume"}, {"--flow", "client-auth"}}
	for _, name := range tamperNames {
		cases = append(cases, []string{"--tamper", name})
		cases = append(cases, []string{"--tamper", name, "--flow", "seed"}, []string{"--tamper", name, "--flow", "tls13"})
	}
	for _, args := range cases {
		var out bytes.Buffer
		err := runDemo(append([]string{"--lang", "de"}, args...), &out)
		var ue *usageError
		if err != nil && !asUsage(err, &ue) {
			t.Errorf("demo %s: %v", strings.Join(args, " "), err)
			continue
		}
		if bad := englishLines(t, out.String()); len(bad) > 0 {
			t.Errorf("demo --lang de %s speaks English:\n%s", strings.Join(args, " "), strings.Join(bad, "\n"))
		}
	}
	// connect's account of a handshake, and a failure, as a user sees them.
	c := sharedCerts(t)
	pskServer := startTLSServer(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{{Identity: []byte("device-17"), Key: testPSK[:]}}})
	for _, args := range [][]string{{"--ca", c.caFile, startTLSServer(t, serverConfig(c))}, {"--ca", c.caFile, "--reconnect", startTLSServer(t, serverConfig(c))},
		{"--ca", c.caFile, "--tls1.2", startTLSServer(t, serverConfig(c))}, {"--ca", c.otherCAFile, startTLSServer(t, serverConfig(c))},
		append(slices.Clone(testPSKFlags), "--reconnect", pskServer), {"--psk-identity", "device-17", "--psk", otherPSKHex, pskServer},
		append(slices.Clone(testPSKFlags), startTLSServer(t, serverConfig(c)))} {
		var out, errOut bytes.Buffer
		runConnect(context.Background(), append([]string{"--lang", "de"}, args...), &out, &errOut)
		if bad := englishLines(t, out.String()+errOut.String()); len(bad) > 0 {
			t.Errorf("connect --lang de %s speaks English:\n%s", strings.Join(args, " "), strings.Join(bad, "\n"))
		}
	}
	for _, fc := range failureCases(t) {
		var out bytes.Buffer
		explain(german, fc.f).write(&out, german, "  ")
		if bad := englishLines(t, out.String()); len(bad) > 0 {
			t.Errorf("%s, in German, speaks English:\n%s\n%s", fc.name, strings.Join(bad, "\n"), out.String())
		}
		var en bytes.Buffer
		explain(english, fc.f).write(&en, english, "  ")
		if en.String() == out.String() {
			t.Errorf("%s: the German diagnosis is the English one", fc.name)
		}
	}
}

func asUsage(err error, ue **usageError) bool { return errors.As(err, ue) }

type failureCase struct {
	name string
	f    *failure
}

// failureCases are failures to explain: real ones from a tlsflow client
// against peers that fail in each way, and every alert, sent and
// received, by each side and each command.
func failureCases(t *testing.T) []failureCase {
	t.Helper()
	c := sharedCerts(t)
	var cases []failureCase
	client := func(name string, err error, connected bool) {
		step := -1
		if connected {
			step = 1
		}
		cases = append(cases, failureCase{name, &failure{err: err, side: trace.Client, speaker: speakerConnect, addr: "127.0.0.1:1",
			lastStep: step, lastMsg: "ClientHello", connected: connected, timeout: time.Second}})
	}
	dial := func(addr string, cfg *tlsflow.Config) error {
		raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer raw.Close()
		conn := tlsflow.Client(raw, cfg)
		conn.SetDeadline(time.Now().Add(300 * time.Millisecond))
		return conn.Handshake()
	}
	cfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}
	client("refused", dial(closedPort(t), cfg), false)
	for name, answer := range map[string]func(net.Conn){
		"closed":       func(net.Conn) {},
		"reset":        func(c net.Conn) { c.(*net.TCPConn).SetLinger(0) },
		"random bytes": func(c net.Conn) { c.Write([]byte{0x9c, 0xa9, 0x3f, 0x76, 0xcf}) },
		"SSH":          func(c net.Conn) { io.WriteString(c, "SSH-2.0-x\r\n") },
		"HTTP":         func(c net.Conn) { io.WriteString(c, "HTTP/1.1 400 Bad\r\n\r\n") },
		"FTP banner":   func(c net.Conn) { io.WriteString(c, "220 ready\r\n") },
		"close_notify": func(c net.Conn) { c.Write([]byte{21, 3, 3, 0, 2, 1, 0}) },
		"malformed":    func(c net.Conn) { c.Write([]byte{22, 3, 3, 0, 8, 2, 0, 0, 4, 3, 3, 0, 0}) },
		"silent":       func(net.Conn) { time.Sleep(time.Second) },
	} {
		client(name, dial(rawServer(t, answer), cfg), true)
	}
	client("timeout before TCP", context.DeadlineExceeded, false)
	client("no such host", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "nowhere.invalid"}}, false)
	addr := startTLSServer(t, serverConfig(c))
	client("unknown CA", dial(addr, &tlsflow.Config{RootCAs: c.otherCA.Pool, ServerName: "localhost"}), true)
	client("wrong name", dial(addr, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "example.com"}), true)
	client("expired", dial(addr, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", Time: func() time.Time { return time.Now().AddDate(5, 0, 0) }}), true)

	// Every alert, sent and received, by each side, in each command's
	// terms, at a step of the handshake and after it.
	for code := range alertMeanings {
		for _, received := range []bool{false, true} {
			for _, side := range []trace.Side{trace.Client, trace.Server} {
				for _, sp := range []speaker{speakerConnect, speakerServe, speakerDemo} {
					for _, where := range []struct {
						step int
						msg  string
					}{{1, "after ClientHello"}, {3, "Certificate"}, {7, "Finished"}, {7, "after Finished"}, {8, "after Finished and application data"}} {
						err := &tlsflow.Error{Alert: tlsflow.AlertError(code), Received: received, Step: where.step, Message: where.msg,
							Reason: "the library's words"}
						cases = append(cases, failureCase{fmt.Sprintf("alert %d received=%v by the %s (speaker %d) at %d %s", code, received, side, sp, where.step, where.msg),
							&failure{err: err, side: side, speaker: sp, lastStep: -1, askedForCert: true, requestedCAs: "CN=some CA",
								files: generatedFiles{ca: "ca.pem", clientCert: "client.pem", clientKey: "client.key"}}})
					}
				}
			}
		}
	}
	local := &tlsflow.Error{Alert: tlsflow.AlertError(80), Local: true, Step: 0, Reason: "configuration: …"}
	cases = append(cases, failureCase{"local", &failure{err: local, side: trace.Client, lastStep: -1}},
		failureCase{"no common suite", &failure{err: &tlsflow.Error{Alert: tlsflow.AlertError(40), Step: 2, Message: "ServerHello",
			Reason: "no common cipher suite: …"}, side: trace.Server, speaker: speakerServe, lastStep: -1}},
		failureCase{"no client certificate", &failure{err: &tlsflow.Error{Alert: tlsflow.AlertError(116), Step: 5, Message: "Certificate",
			Reason: "the server requires a client certificate, and the client sent none"}, side: trace.Server, speaker: speakerServe, lastStep: -1}},
		failureCase{"downgrade", &failure{err: &tlsflow.Error{Alert: tlsflow.AlertError(47), Step: 2, Message: "ServerHello",
			Reason: "downgrade sentinel"}, side: trace.Client, lastStep: -1}},
		failureCase{"not TLS at all", &failure{err: errors.New("something else"), side: trace.Client, lastStep: -1}})
	return cases
}
