package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/trace"
)

// The recordings the view tests draw: both sides of one connection each.
const (
	fixture12 = "../../trace/testdata/tls12.jsonl"
	fixture13 = "../../trace/testdata/tls13.jsonl"
)

func mustRecording(t *testing.T, path string) []trace.Event {
	t.Helper()
	events, err := readRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestViewServesTheRecordingWithoutSecrets(t *testing.T) {
	events := mustRecording(t, fixture13)
	if events[5].Kind != trace.KindKeys || len(events[5].Secret) == 0 {
		t.Fatalf("fixture event 5 = %s %s, want a keys event with a secret", events[5].Kind, events[5].Message)
	}
	h, err := newViewHandler(events)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	body, resp := httpGet(t, srv.URL+"/events.json", "")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("/events.json Content-Type = %q, want application/json", ct)
	}
	if bytes.Contains(body, []byte(`"secret"`)) {
		t.Errorf("/events.json serves key material:\n%.300s", body)
	}
	var served []trace.Event
	if err := json.Unmarshal(body, &served); err != nil {
		t.Fatalf("/events.json is not a JSON array of events: %v", err)
	}
	if len(served) != len(events) {
		t.Fatalf("/events.json has %d events, the recording %d", len(served), len(events))
	}
	for i := range events {
		if served[i].Message != events[i].Message || !bytes.Equal(served[i].Raw, events[i].Raw) ||
			!slices.Equal(served[i].Fields, events[i].Fields) {
			t.Errorf("/events.json event %d = %s %q, want %s %q", i, served[i].Kind, served[i].Message, events[i].Kind, events[i].Message)
		}
	}

	page, resp := httpGet(t, srv.URL+"/", "")
	if !bytes.Contains(page, []byte(`<script src="view.js"`)) {
		t.Errorf("/ is not the page:\n%s", page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("/ Content-Security-Policy = %q, want scripts from the page's origin only", csp)
	}
	for _, asset := range []string{"/view.js", "/view.css"} {
		if _, resp := httpGet(t, srv.URL+asset, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", asset, resp.Status)
		}
	}
}

func TestViewAnswersOnlyToLocalhostOrAnIPAddress(t *testing.T) {
	h, err := newViewHandler(mustRecording(t, fixture13))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, tc := range []struct {
		host string
		want int
	}{
		{"localhost" + port, http.StatusOK},
		{"127.0.0.1" + port, http.StatusOK},
		{"[::1]" + port, http.StatusOK},
		{"192.0.2.7" + port, http.StatusOK},                                  // a LAN address when listening on all interfaces
		{"attacker.example" + port, http.StatusMisdirectedRequest},           // DNS rebinding: a page's own name now pointing here
		{"localhost.attacker.example" + port, http.StatusMisdirectedRequest}, // not localhost
	} {
		if _, resp := httpGet(t, srv.URL+"/events.json", tc.host); resp.StatusCode != tc.want {
			t.Errorf("Host %s: %s, want %d", tc.host, resp.Status, tc.want)
		}
	}
}

func TestViewRefusesBadCommandLinesAndRecordings(t *testing.T) {
	dir := t.TempDir()
	badLine := filepath.Join(dir, "bad.jsonl")
	lines, err := os.ReadFile(fixture13)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(lines, []byte("\n"))
	os.WriteFile(badLine, append(append(first, '\n'), `{"kind":"message","raw":"zz"}`+"\n"...), 0o600)
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, []byte("\n\n"), 0o600)

	for _, tc := range []struct {
		name      string
		args      []string
		wantUsage bool
		wantText  string
	}{
		{"two recordings", []string{fixture12, fixture13}, true, "one recording"},
		{"a flow with a recording", []string{"--flow", "tls12", fixture12}, true, "--flow"},
		{"an unknown flow", []string{"--flow", "ssl3"}, true, `"ssl3"`},
		{"an unknown flag", []string{"--open"}, true, "open"},
		{"a missing file", []string{filepath.Join(dir, "nothing.jsonl")}, false, "nothing.jsonl"},
		{"a bad line", []string{badLine}, false, "bad.jsonl: trace: JSON line 2"},
		{"no events", []string{empty}, false, "no trace events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runView(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tc.args...), &out)
			var ue *usageError
			if err == nil || errors.As(err, &ue) != tc.wantUsage || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("view %s: error %v, want a usage error %v saying %q", strings.Join(tc.args, " "), err, tc.wantUsage, tc.wantText)
			}
		})
	}
}

func TestViewLiveHandshakeRecordsEveryStepOfBothSides(t *testing.T) {
	for _, tc := range []struct {
		flow    string
		version string
		sent    []string // client's and server's messages, as sent
	}{
		{"tls12", "TLS 1.2", []string{"client ClientHello", "server ServerHello", "server Certificate",
			"server ServerKeyExchange", "server CertificateRequest", "server ServerHelloDone", "client Certificate",
			"client ClientKeyExchange", "client CertificateVerify", "client Finished", "server Finished"}},
		{"tls13", "TLS 1.3", []string{"client ClientHello", "server ServerHello", "server EncryptedExtensions",
			"server CertificateRequest", "server Certificate", "server CertificateVerify", "server Finished",
			"client Certificate", "client CertificateVerify", "client Finished"}},
	} {
		t.Run(tc.flow, func(t *testing.T) {
			events, err := liveHandshake(context.Background(), tc.flow)
			if err != nil {
				t.Fatal(err)
			}
			var sent []string
			done := map[trace.Side]string{}
			for _, e := range events {
				switch {
				case e.Kind == trace.KindMessage && e.Direction == trace.Sent && e.Message != "NewSessionTicket":
					sent = append(sent, string(e.Side)+" "+e.Message)
				case e.Kind == trace.KindHandshakeDone:
					done[e.Side] = e.Field("version")
				}
			}
			if !slices.Equal(sent, tc.sent) {
				t.Errorf("messages sent:\n %s\nwant\n %s", strings.Join(sent, "\n "), strings.Join(tc.sent, "\n "))
			}
			if done[trace.Client] != tc.version || done[trace.Server] != tc.version {
				t.Errorf("handshake done: client %q, server %q; want %s on both", done[trace.Client], done[trace.Server], tc.version)
			}
		})
	}
}

func TestViewWithoutAFileServesALiveHandshake(t *testing.T) {
	url := startViewCommand(t, "--flow", "tls12")
	body, resp := httpGet(t, url+"events.json", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %sevents.json: %s", url, resp.Status)
	}
	var events []trace.Event
	if err := json.Unmarshal(body, &events); err != nil {
		t.Fatalf("events.json: %v", err)
	}
	sides := map[trace.Side]bool{}
	for _, e := range events {
		if e.Kind == trace.KindHandshakeDone && e.Field("version") == "TLS 1.2" {
			sides[e.Side] = true
		}
	}
	if !sides[trace.Client] || !sides[trace.Server] {
		t.Errorf("events.json of view --flow tls12 has no TLS 1.2 handshake done on both sides (%d events)", len(events))
	}
}

// TestViewPageDrawsTheHandshakeAndShowsAClickedMessage runs "tlsflow view
// FILE" on its own listener, opens the page in headless Chromium, reads the
// diagram's arrows and clicks one with a real mouse event: the side panel
// must show that message's fields and bytes. Then the "#select=N" address
// must show another message the same way.
func TestViewPageDrawsTheHandshakeAndShowsAClickedMessage(t *testing.T) {
	browser := startChromium(t)
	for _, tc := range []struct {
		fixture string
		arrows  []string // "from: label", top to bottom
		click   string   // "side Message" of the message clicked, as sent
		hash    string   // the message selected through the address
	}{
		{fixture12, []string{
			"client: ClientHello — step 1", "server: ServerHello — step 2", "server: Certificate — step 3",
			"server: CertificateRequest — step 3", "server: ServerHelloDone — step 4",
			"client: Certificate — step 5", "client: ClientKeyExchange — step 5", "client: CertificateVerify — step 5",
			"client: ChangeCipherSpec — step 6", "client: Finished — step 7",
			"server: NewSessionTicket — step 7", "server: ChangeCipherSpec — step 6", "server: Finished — step 7",
			"client: application data — step 8", "server: application data — step 8",
			"server: Alert: close_notify", "client: Alert: close_notify",
		}, "client ClientHello", "client ClientKeyExchange"},
		{fixture13, []string{
			"client: ClientHello — step 1", "server: ServerHello — step 2", "server: ChangeCipherSpec — step 6",
			"server: EncryptedExtensions — step 2", "server: CertificateRequest — step 3",
			"server: Certificate — step 3", "server: CertificateVerify — step 3", "server: Finished — step 7",
			"client: ChangeCipherSpec — step 6", "client: Certificate — step 5", "client: CertificateVerify — step 5",
			"client: Finished — step 7", "server: NewSessionTicket — step 8", "client: application data — step 8",
			"server: application data — step 8", "server: Alert: close_notify", "client: Alert: close_notify",
		}, "server Certificate", "client Finished"},
	} {
		t.Run(filepath.Base(tc.fixture), func(t *testing.T) {
			// Both sides' events, drawn in the order of the wire.
			events := trace.WireOrder(mustRecording(t, tc.fixture))
			click, hash := sentIndex(t, events, tc.click), sentIndex(t, events, tc.hash)
			url := startViewCommand(t, tc.fixture)
			page := browser.open(t, url)
			page.waitFor(t, `document.body.dataset.ready === "true"`)

			var arrows []string
			page.eval(t, `Array.from(document.querySelectorAll("[data-msg]"), g => g.dataset.from + ": " + g.querySelector("text").textContent)`, &arrows)
			if !slices.Equal(arrows, tc.arrows) {
				t.Errorf("the diagram's arrows:\n %s\nwant\n %s", strings.Join(arrows, "\n "), strings.Join(tc.arrows, "\n "))
			}
			var summary string
			page.eval(t, `document.getElementById("summary").textContent`, &summary)
			if !strings.HasPrefix(summary, tlsVersionName(events)) {
				t.Errorf("summary = %q, want it to start with %s", summary, tlsVersionName(events))
			}

			// Before the click the panel shows no message.
			var fields [][2]string
			page.eval(t, `Array.from(document.querySelectorAll("#fields tr"), r => [r.cells[0].textContent, r.cells[1].textContent])`, &fields)
			if len(fields) != 0 {
				t.Fatalf("the panel shows fields before any click: %q", fields)
			}
			page.click(t, fmt.Sprintf(`[data-msg="%d"]`, click))
			page.checkPanelShows(t, events, click)

			page.eval(t, fmt.Sprintf(`location.hash = "#select=%d"`, hash), nil)
			page.waitFor(t, fmt.Sprintf(`document.querySelector('[data-msg="%d"]').classList.contains("selected")`, hash))
			page.checkPanelShows(t, events, hash)
		})
	}
}

// sentIndex finds the event of "side Message", as sent.
func sentIndex(t *testing.T, events []trace.Event, what string) int {
	t.Helper()
	for i, e := range events {
		if e.Kind == trace.KindMessage && e.Direction == trace.Sent && string(e.Side)+" "+e.Message == what {
			return i
		}
	}
	t.Fatalf("no %s sent in the recording", what)
	return -1
}

func tlsVersionName(events []trace.Event) string {
	for _, e := range events {
		if e.Kind == trace.KindHandshakeDone {
			return e.Field("version")
		}
	}
	return "?"
}

// checkPanelShows checks that the side panel shows event i: its label, every
// field in order, and its bytes, the first line of the hex dump exactly.
func (p *cdpPage) checkPanelShows(t *testing.T, events []trace.Event, i int) {
	t.Helper()
	e := events[i]
	var title, dump string
	var fields [][2]string
	p.eval(t, `document.querySelector("#panel h2")?.textContent ?? ""`, &title)
	p.eval(t, `Array.from(document.querySelectorAll("#fields tr"), r => [r.cells[0].textContent, r.cells[1].textContent])`, &fields)
	p.eval(t, `document.getElementById("bytes")?.textContent ?? ""`, &dump)
	if want := fmt.Sprintf("%s — step %d", e.Message, e.Step); title != want {
		t.Errorf("after selecting event %d the panel's title is %q, want %q", i, title, want)
	}
	var want [][2]string
	for _, f := range e.Fields {
		want = append(want, [2]string{f.Name, f.Value})
	}
	if !slices.Equal(fields, want) {
		t.Errorf("after selecting event %d (%s) the panel's fields are\n %q\nwant\n %q", i, e.Message, fields, want)
	}
	// 16 bytes a line, or 8 where the panel is narrower than that with
	// the ASCII column (TestViewFitsTheWindow).
	n := 16
	if line, _, _ := strings.Cut(dump, "\n"); len(e.Raw) > 8 && !strings.HasPrefix(line, fmt.Sprintf("0000  % x", e.Raw[:min(16, len(e.Raw))])) {
		n = 8
	}
	firstLine := fmt.Sprintf("0000  % x", e.Raw[:min(n, len(e.Raw))])
	if line, _, _ := strings.Cut(dump, "\n"); !strings.HasPrefix(line, firstLine) {
		t.Errorf("after selecting event %d (%s) the panel's bytes begin %q, want %q", i, e.Message, line, firstLine)
	}
	if lines := strings.Count(dump, "\n") + 1; lines != (len(e.Raw)+n-1)/n {
		t.Errorf("the hex dump of event %d has %d lines for %d bytes at %d a line", i, lines, len(e.Raw), n)
	}
}

// startViewCommand runs "tlsflow view --addr 127.0.0.1:0 ARGS" until the
// test ends and returns the URL it prints.
func startViewCommand(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	exited := make(chan error, 1)
	go func() {
		err := runView(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), pw)
		pw.Close()
		exited <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-exited; err != nil {
			t.Errorf("tlsflow view ended with %v", err)
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), " at http://"); ok {
				url, _, _ := strings.Cut(rest, " ")
				urls <- "http://" + url
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case url := <-urls:
		return url
	case err := <-exited:
		exited <- err
		t.Fatalf("tlsflow view %s ended before printing its URL: %v", strings.Join(args, " "), err)
	case <-time.After(20 * time.Second):
		t.Fatalf("tlsflow view %s printed no URL within 20 s", strings.Join(args, " "))
	}
	return ""
}

func httpGet(t *testing.T, url, host string) ([]byte, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body, resp
}

// requireChromium is the root package's requirePeer for this package (test
// files cannot share helpers across packages): a missing browser skips the
// test, except in CI (CI=true), where ./test.sh has installed it.
func requireChromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; ./test.sh installs it")
		}
		t.Skip("chromium is not installed (run ./test.sh to install it)")
	}
	return path
}

// cdpBrowser is headless Chromium driven over the Chrome DevTools Protocol
// through --remote-debugging-pipe: JSON messages, each ended by a NUL
// byte, written to the browser's fd 3 and read from its fd 4.
type cdpBrowser struct {
	cmd    *exec.Cmd
	toCDP  *os.File
	stderr *syncBuffer

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpReply
	closed  chan struct{} // the browser's end of the pipe is gone
}

type cdpReply struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startChromium(t *testing.T) *cdpBrowser {
	t.Helper()
	chromium := requireChromium(t)
	profile := t.TempDir()
	toBrowser, toCDP, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromCDP, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &cdpBrowser{toCDP: toCDP, stderr: &syncBuffer{}, pending: map[int]chan cdpReply{}, closed: make(chan struct{})}
	// The flags of a quiet, isolated headless browser: as root it needs
	// --no-sandbox; the others stop it calling home on a closed network.
	b.cmd = exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--user-data-dir="+profile, "--window-size=1280,900", "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser} // its fd 3 and fd 4
	b.cmd.Stderr = b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	go b.readReplies(fromCDP)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.call(ctx, "", "Browser.close", nil) // answered or not, then wait
		done := make(chan struct{})
		go func() { b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			b.cmd.Process.Kill()
			<-done
		}
		toCDP.Close()
	})
	return b
}

func (b *cdpBrowser) readReplies(r io.ReadCloser) {
	defer close(b.closed)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var reply cdpReply
		if json.Unmarshal(msg[:len(msg)-1], &reply) != nil || reply.ID == 0 {
			continue // an event: this test waits by polling instead
		}
		b.mu.Lock()
		ch := b.pending[reply.ID]
		delete(b.pending, reply.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- reply
		}
	}
}

// call sends one CDP command (to a page when session is set) and waits
// for its answer.
func (b *cdpBrowser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpReply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if _, err := b.toCDP.Write(append(data, 0)); err != nil {
		return nil, fmt.Errorf("%s: writing to the browser: %w", method, err)
	}
	select {
	case reply := <-ch:
		if reply.Error != nil {
			return nil, fmt.Errorf("%s: %s (%d)", method, reply.Error.Message, reply.Error.Code)
		}
		return reply.Result, nil
	case <-b.closed:
		return nil, fmt.Errorf("%s: the browser closed the pipe", method)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// cdpPage is one tab, attached in a flat session.
type cdpPage struct {
	b       *cdpBrowser
	session string
}

func (b *cdpBrowser) must(t *testing.T, session, method string, params any, result any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	raw, err := b.call(ctx, session, method, params)
	if err != nil {
		t.Fatalf("Chromium: %v\nits stderr:\n%s", err, b.stderr)
	}
	if result != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			t.Fatalf("Chromium: %s answered %s: %v", method, raw, err)
		}
	}
}

func (b *cdpBrowser) open(t *testing.T, url string) *cdpPage {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.must(t, "", "Target.createTarget", map[string]any{"url": url}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.must(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	return &cdpPage{b: b, session: attached.SessionID}
}

// evaluate runs a JavaScript expression in the page and decodes its value
// into result (if not nil).
func (p *cdpPage) evaluate(expr string, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	raw, err := p.b.call(ctx, p.session, "Runtime.evaluate",
		map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("%s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, result)
}

func (p *cdpPage) eval(t *testing.T, expr string, result any) {
	t.Helper()
	if err := p.evaluate(expr, result); err != nil {
		t.Fatalf("in the page: %v", err)
	}
}

// waitFor polls a JavaScript condition until it holds (10 s at most).
func (p *cdpPage) waitFor(t *testing.T, cond string) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var ok bool
		if last = p.evaluate("!!("+cond+")", &ok); last == nil && ok {
			return
		}
	}
	var text string
	p.evaluate("document.body ? document.body.innerText : ''", &text)
	t.Fatalf("the page never got to %s (last error: %v); it shows:\n%s\nChromium's stderr:\n%s", cond, last, text, p.b.stderr)
}

// click scrolls the element into view and clicks its middle with the
// mouse, as a user would: a press and a release through Input, not a
// synthetic DOM event.
func (p *cdpPage) click(t *testing.T, selector string) {
	t.Helper()
	var at struct {
		X, Y float64
		Hit  bool
	}
	p.eval(t, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.scrollIntoView({block: "center"});
		const r = el.getBoundingClientRect();
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		const hit = document.elementFromPoint(x, y);
		return {X: x, Y: y, Hit: !!hit && el.contains(hit)};
	})()`, selector), &at)
	if !at.Hit {
		t.Fatalf("%s is not what the mouse would hit at (%.0f, %.0f)", selector, at.X, at.Y)
	}
	p.b.must(t, p.session, "Input.dispatchMouseEvent", map[string]any{"type": "mouseMoved", "x": at.X, "y": at.Y}, nil)
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		p.b.must(t, p.session, "Input.dispatchMouseEvent",
			map[string]any{"type": typ, "x": at.X, "y": at.Y, "button": "left", "clickCount": 1}, nil)
	}
}

// TestViewFitsTheWindow opens the page at 1400 and 1000 px wide, as
// screenshots (kept in $TLSFLOW_SCREENSHOTS if set) would show it: the hex
// dump's ASCII column is visible without scrolling sideways, the page does
// not scroll sideways, and no name in the fields (TLS_CHACHA20_POLY1305_SHA256)
// is broken in the middle where it would fit on a line of its own.
func TestViewFitsTheWindow(t *testing.T) {
	browser := startChromium(t)
	events := trace.WireOrder(mustRecording(t, fixture13))
	hello := sentIndex(t, events, "client ClientHello")
	url := startViewCommand(t, fixture13)
	dir := os.Getenv("TLSFLOW_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, width := range []int{1400, 1000} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			page := browser.open(t, url)
			browser.must(t, page.session, "Emulation.setDeviceMetricsOverride",
				map[string]any{"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
			page.waitFor(t, `document.body.dataset.ready === "true"`)
			page.eval(t, fmt.Sprintf(`location.hash = "#select=%d"`, hello), nil)
			page.waitFor(t, `document.getElementById("bytes")`)
			page.eval(t, `document.getElementById("bytes").scrollIntoView({block: "center"})`, nil)

			var shot struct {
				Data []byte `json:"data"`
			}
			browser.must(t, page.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
			file := filepath.Join(dir, fmt.Sprintf("view-%d.png", width))
			if err := os.WriteFile(file, shot.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", file)

			var m struct {
				DumpScroll, DumpClient, PageScroll, Window int
				Broken                                     []string
				FirstLine                                  string
			}
			page.eval(t, `(() => {
				const pre = document.getElementById("bytes");
				const broken = [];
				for (const td of document.querySelectorAll("#fields td")) {
					const node = td.firstChild;
					if (!node || node.nodeType !== Node.TEXT_NODE) continue;
					const cs = getComputedStyle(td);
					const room = td.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
					for (const w of node.data.matchAll(/[^\s,]+/g)) {
						const r = document.createRange();
						r.setStart(node, w.index);
						r.setEnd(node, w.index + w[0].length);
						const lines = new Set(Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top)));
						// A word that would fit on a line of its own must not break.
						const probe = document.createElement("span");
						probe.style.whiteSpace = "nowrap";
						probe.textContent = w[0];
						td.append(probe);
						const natural = probe.getBoundingClientRect().width;
						probe.remove();
						if (lines.size > 1 && natural <= room) broken.push(w[0]);
					}
				}
				return {DumpScroll: pre.scrollWidth, DumpClient: pre.clientWidth, FirstLine: pre.textContent.split("\n")[0],
					PageScroll: document.documentElement.scrollWidth, Window: window.innerWidth, Broken: broken};
			})()`, &m)
			if m.DumpScroll > m.DumpClient {
				t.Errorf("at %d px the hex dump scrolls sideways: %d px of content in %d px (screenshot %s)", width, m.DumpScroll, m.DumpClient, file)
			}
			if m.PageScroll > m.Window {
				t.Errorf("at %d px the page scrolls sideways: %d px wide (screenshot %s)", width, m.PageScroll, file)
			}
			if width == 1400 && !strings.HasPrefix(m.FirstLine, fmt.Sprintf("0000  % x  ", events[hello].Raw[:16])) {
				t.Errorf("at 1400 px the hex dump does not show 16 bytes a line: %q", m.FirstLine)
			}
			if len(m.Broken) > 0 {
				t.Errorf("at %d px these words break in the middle: %q (screenshot %s)", width, m.Broken, file)
			}
		})
	}
}

// TestViewTellsHowTheConnectionEnded: an error is drawn with its step and
// the ending every renderer takes from the "ended" field: a server that
// closed TCP sent no close_notify, and after the handshake it is the
// connection that ended, not the handshake that failed.
func TestViewTellsHowTheConnectionEnded(t *testing.T) {
	browser := startChromium(t)
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		events  []trace.Event
		note    string
		summary string
	}{
		{"the server closed TCP after the ClientHello", []trace.Event{
			{Time: at, Side: trace.Client, Kind: trace.KindMessage, Direction: trace.Sent, Step: 1, Message: "ClientHello"},
			{Time: at, Side: trace.Client, Kind: trace.KindError, Direction: trace.Local, Step: 1, Message: "after ClientHello",
				Fields: []trace.Field{{Name: "alert", Value: "none (the connection just ended)"}, {Name: "ended", Value: "closed"}}},
		}, "✗ handshake failed at step 1, after ClientHello: the server closed TCP without an alert",
			"client: handshake failed at step 1, after ClientHello: the server closed TCP without an alert"},
		{"the client closed TCP after HTTP/2", []trace.Event{
			{Time: at, Side: trace.Server, Kind: trace.KindHandshakeDone, Direction: trace.Local, Step: 7, Version: 0x0304},
			{Time: at, Side: trace.Server, Kind: trace.KindError, Direction: trace.Local, Step: 8, Version: 0x0304,
				Fields: []trace.Field{{Name: "alert", Value: "none (the connection just ended)"}, {Name: "ended", Value: "closed"}}},
		}, "✗ connection ended at step 8: the client closed TCP without an alert",
			"server: connection ended at step 8: the client closed TCP without an alert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec bytes.Buffer
			hook := trace.NewRenderer(&rec, trace.Options{Format: trace.FormatJSON})
			for _, e := range tc.events {
				hook(e)
			}
			file := filepath.Join(t.TempDir(), "failed.jsonl")
			if err := os.WriteFile(file, rec.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			page := browser.open(t, startViewCommand(t, file))
			page.waitFor(t, `document.body.dataset.ready === "true"`)
			var notes []string
			var summary string
			page.eval(t, `Array.from(document.querySelectorAll(".note.error text"), n => n.textContent)`, &notes)
			page.eval(t, `document.getElementById("summary").textContent`, &summary)
			if len(notes) != 1 || notes[0] != tc.note || summary != tc.summary {
				t.Errorf("the page says %q and %q; want %q and %q", notes, summary, tc.note, tc.summary)
			}
		})
	}
}
