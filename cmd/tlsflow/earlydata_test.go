package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/tlsflow/tlsflow"
)

// Requests to send as early data, in files as connect's --early-data
// takes them.
const (
	earlyGET  = "GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
	earlyPOST = "POST /pay HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nAccept: text/plain\r\nConnection: close\r\n\r\nhello"
)

func writeEarlyFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "early.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// summaryLine is the line on early data in connect's summary.
var summaryLine = regexp.MustCompile(`(?m)^  early data \(0-RTT\): +(.*)$`)

// wantOneEarlyLine returns the one summary line on early data in connect's
// output, after "Connecting again", and fails if there is none or more.
func wantOneEarlyLine(t *testing.T, r cliResult) string {
	t.Helper()
	i := strings.Index(r.stdout, "Connecting again")
	if i < 0 {
		t.Fatalf("connect did not connect again\n%s", r)
	}
	if summaryLine.MatchString(r.stdout[:i]) {
		t.Errorf("the first connection's summary speaks of early data:\n%s", r.stdout[:i])
	}
	lines := summaryLine.FindAllStringSubmatch(r.stdout[i:], -1)
	if len(lines) != 1 {
		t.Fatalf("the resumed connection's summary has %d lines on early data; want one\n%s", len(lines), r)
	}
	return lines[0][1]
}

// TestConnectEarlyDataToServe runs the 0-RTT line serve --early-data
// prints, as printed: the second connection sends serve's request file
// behind its ClientHello; serve reads it before the handshake completes,
// shows it on the visitor's line with the replay warning, and answers the
// GET after the handshake with a page that marks it as early. connect's
// trace shows the 0-RTT step, its summary one line (accepted), and the
// answer.
func TestConnectEarlyDataToServe(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--early-data", "--key-type", "ecdsa")
	wantOutput(t, "serve", s.output(), `Early data \(0-RTT\): the tickets allow 16384 bytes; requests in them are marked, and those not safe to repeat answered 425 Too Early\n`)
	m := s.waitFor(t, `\n  (tlsflow connect --ca \S+ --reconnect --early-data (\S+) localhost:\d+)\n`)
	line, file := m[1], m[2]
	if b, err := os.ReadFile(file); err != nil || string(b) != earlyGET {
		t.Fatalf("serve's request file %s holds %q (%v); want %q", file, b, err, earlyGET)
	}
	r := runCLI(t, nil, strings.Fields(line)[1:]...)
	if r.code != 0 {
		t.Fatalf("%s failed\n%s\n--- serve:\n%s", line, r, s.output())
	}
	if got, want := wantOneEarlyLine(t, r), "accepted: the server read the 74 bytes of "+file+" before the handshake completed (replayable: RFC 8446 §8)"; got != want {
		t.Errorf("summary line on early data:\n got %q\nwant %q", got, want)
	}
	wantOutput(t, line, r.stdout, `Connecting again`, `client: early data \(0-RTT\) offered`, `0-RTT · Early data`,
		`client: early data \(0-RTT\), replayable[^\n]*\n\s+length in bytes: 74\n`, `client → server EndOfEarlyData`,
		`resumed:\s+yes\n`, `early data \(0-RTT\):\s+accepted`,
		`The server answered \(\d+ bytes\):\nHTTP/1\.1 200 OK\r\n`, `Content-Length: \d+`,
		`Early data \(0-RTT\):\s+74 bytes before the handshake completed, "GET / HTTP/1\.1\\r\\nHost: localhost\\r\\nAccept: text/plain\\r\\nConnect"…; replayable: anyone who copied the client's first flight can send them again \(RFC 8446 §8\)`,
		`This request:\s+came in early data \(0-RTT\), marked Early-Data: 1 \(RFC 8470 §5\.1\); answered, as GET is safe to repeat`,
		`step 6  client → server  EndOfEarlyData`)
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: TLS 1\.3, [^\n]*, resumed\n`+
		`  early data \(0-RTT\):   74 bytes before the handshake completed, "GET / HTTP/1\.1\\r\\nHost: localhost[^\n]*"…; replayable: anyone who copied the client's first flight can send them again \(RFC 8446 §8\)\n`)
	if n := strings.Count(s.output(), "  early data (0-RTT):"); n != 1 {
		t.Errorf("serve speaks of early data for %d visitors; want the resumed one only:\n%s", n, s.output())
	}
}

// TestServeEarlyDataRefusesUnsafeRequests: requests pipelined in early
// data are each marked; the GET is answered, the POST gets 425 Too Early
// and is not acted on (RFC 8470 §5.2), and serve says so.
func TestServeEarlyDataRefusesUnsafeRequests(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--early-data", "--key-type", "ecdsa")
	get := strings.Replace(earlyGET, "Connection: close\r\n", "", 1)
	file := writeEarlyFile(t, get+earlyPOST)
	r := runCLI(t, nil, "connect", "--trace", "none", "--ca", s.caFile, "--reconnect", "--early-data", file, "localhost:"+s.port)
	if r.code != 0 {
		t.Fatalf("connect failed\n%s\n--- serve:\n%s", r, s.output())
	}
	if got := wantOneEarlyLine(t, r); !strings.HasPrefix(got, "accepted: ") {
		t.Errorf("summary line on early data: %q; want accepted", got)
	}
	wantOutput(t, "connect", r.stdout, `HTTP/1\.1 200 OK\r\n`, `This request:\s+came in early data \(0-RTT\)`,
		`HTTP/1\.1 425 Too Early\r\n`, `\r\n\r\n425 Too Early: this POST came in early data \(0-RTT\), which anyone who copied it could send again, so the server did not act on it\. Send it again now that the handshake is complete \(RFC 8470 §5\.2\)\.\n`)
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: POST /pay came in early data \(0-RTT\): answered 425 Too Early, not acted on \(RFC 8470 §5\.2\)\n`)
}

// TestConnectEarlyDataNotAccepted: where the early data cannot go or is
// not read, connect sends FILE after the handshake and its one summary
// line says why: serve without --early-data issues tickets that allow
// none; a server whose tickets allow it but that does not read it
// (tlsflow without ReadEarlyData) resumes and rejects it; a FILE larger
// than the ticket allows is not sent early at all.
func TestConnectEarlyDataNotAccepted(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	notReading := serverConfig(c)
	notReading.MaxEarlyData = 16384
	plain := startServe(t, "--cert", c.serverCert, "--key", c.key)
	small := startServe(t, "--cert", c.serverCert, "--key", c.key, "--early-data", "--max-early-data", "64")
	file := writeEarlyFile(t, earlyGET)
	for _, tt := range []struct {
		name, addr, line, answer string
		serve                    *serveProcess
	}{
		{"serve without early data", plain.addr,
			"not sent: the server's tickets allow no early data (no max_early_data_size in them: e.g. openssl s_server without -early_data, tlsflow serve without --early-data); sent the 74 bytes of " + file + " after the handshake",
			`Client certificate:\s+none\nHTTP:`, plain},
		{"tickets allow it, the server does not read it", startTLSServer(t, notReading),
			"rejected: the server resumed the session but did not read them; resent the 74 bytes of " + file + " after the handshake",
			`hello from the test server, anonymous`, nil},
		{"larger than the ticket allows", small.addr,
			"not sent: " + file + " has 74 bytes, more than the 64 the session's ticket allows (max_early_data_size); sent the 74 bytes of " + file + " after the handshake",
			`Early data \(0-RTT\):\s+accepted, but the client sent none\n(?s:.*)This request:\s+came after the handshake \(1-RTT\)`, small},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, "connect", "--trace", "none", "--ca", c.caFile, "--reconnect", "--early-data", file, tt.addr)
			if r.code != 0 {
				t.Fatalf("connect failed\n%s", r)
			}
			if got := wantOneEarlyLine(t, r); got != tt.line {
				t.Errorf("summary line on early data:\n got %q\nwant %q", got, tt.line)
			}
			wantOutput(t, "connect", r.stdout, `resumed:\s+yes\n`, `The server answered \(\d+ bytes\):\nHTTP/1\.1 200 OK\r\n`, tt.answer)
			if strings.Contains(r.stdout, "came in early data") {
				t.Errorf("a request sent after the handshake is said to have come early:\n%s", r.stdout)
			}
		})
	}
	if strings.Contains(plain.output(), "early data") {
		t.Errorf("serve without --early-data speaks of early data:\n%s", plain.output())
	}
	small.waitFor(t, `visitor 127\.0\.0\.1:\d+: [^\n]*, resumed\n  early data \(0-RTT\):   accepted, but the client sent none\n`)
}

// TestEarlyDataSpeaksGerman: connect's summary line in each case, the
// answer, serve's page and its visitor's line, with --lang de: no English
// sentence comes through.
func TestEarlyDataSpeaksGerman(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	s := startServe(t, "--lang", "de", "--cert", c.serverCert, "--key", c.key, "--early-data")
	file := writeEarlyFile(t, earlyGET)
	r := runCLI(t, nil, "connect", "--lang", "de", "--ca", c.caFile, "--reconnect", "--early-data", file, s.addr)
	if r.code != 0 {
		t.Fatalf("connect failed\n%s\n--- serve:\n%s", r, s.output())
	}
	wantOutput(t, "connect --lang de", r.stdout, `frühe Daten \(0-RTT\):\s+angenommen: der Server hat die 74 Bytes von \S+ vor dem Ende des Handshakes gelesen`,
		`Der Server hat geantwortet`, `Frühe Daten \(0-RTT\):\s+74 Bytes vor dem Ende des Handshakes`, `Diese Anfrage:\s+kam in frühen Daten \(0-RTT\)`)
	if bad := englishLines(t, r.stdout+r.stderr); len(bad) > 0 {
		t.Errorf("connect --lang de --early-data speaks English:\n%s", strings.Join(bad, "\n"))
	}
	s.waitFor(t, `Besucher [^\n]*, wiederaufgenommen\n  frühe Daten \(0-RTT\):  74 Bytes vor dem Ende des Handshakes, [^\n]*; wiederholbar: `)
	if bad := englishLines(t, s.output()); len(bad) > 0 {
		t.Errorf("serve --lang de --early-data speaks English:\n%s", strings.Join(bad, "\n"))
	}

	// The other outcomes, in process as TestGermanIsWhole runs connect.
	notReading := serverConfig(c)
	notReading.MaxEarlyData = 16384
	for _, addr := range []string{startTLSServer(t, notReading), startTLSServer(t, serverConfig(c))} {
		var out, errOut bytes.Buffer
		runConnect(context.Background(), []string{"--lang", "de", "--ca", c.caFile, "--reconnect", "--early-data", file, addr}, &out, &errOut)
		wantOutput(t, "connect --lang de", out.String(), `frühe Daten \(0-RTT\):\s+(abgelehnt|nicht gesendet): `)
		said := strings.ReplaceAll(out.String(), "hello from the test server, anonymous", "") // the server's words
		if bad := englishLines(t, said+errOut.String()); len(bad) > 0 {
			t.Errorf("connect --lang de --early-data speaks English:\n%s", strings.Join(bad, "\n"))
		}
	}
}

// TestServeEarlyDataOverHTTP2: an HTTP/2 client resuming with ALPN h2 puts
// its preface and two requests in early data: the GET is answered and
// marked as early, the POST gets 425; a GET on the same connection after
// the handshake is answered as 1-RTT. The HPACK state of the connection
// stays in step: the later request's header block refers to the dynamic
// table the early ones filled.
func TestServeEarlyDataOverHTTP2(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	s := startServe(t, "--cert", c.serverCert, "--key", c.key, "--early-data")
	cache := &storedCache{ClientSessionCache: tlsflow.NewLRUClientSessionCache(4), put: make(chan struct{}, 4)}
	cfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", NextProtos: []string{"h2"}, ClientSessionCache: cache}

	// Connection 1: the handshake, and reading until the ticket is in.
	conn := dialServe(t, s, cfg)
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, conn)
	select {
	case <-cache.put:
	case <-time.After(10 * time.Second):
		t.Fatal("no ticket from serve")
	}
	conn.Close()

	// Connection 2: two requests early, one after the handshake.
	conn = dialServe(t, s, cfg)
	defer conn.Close()
	var early bytes.Buffer
	h2 := newH2Client(&early)
	h2.request(1, "GET", "/")
	h2.request(3, "POST", "/pay")
	if _, err := conn.WriteEarlyData(append([]byte(http2Preface), early.Bytes()...)); err != nil {
		t.Fatalf("WriteEarlyData: %v", err)
	}
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	if !conn.ConnectionState().EarlyDataAccepted || conn.ConnectionState().NegotiatedProtocol != "h2" {
		t.Fatalf("early data accepted %v, ALPN %q; want accepted over h2", conn.ConnectionState().EarlyDataAccepted, conn.ConnectionState().NegotiatedProtocol)
	}
	h2.w = conn
	h2.request(5, "GET", "/")
	got := readH2Answers(t, conn, 1, 3, 5)
	for _, tt := range []struct {
		stream uint32
		status string
		body   string
	}{
		{1, "200", `This request:\s+came in early data \(0-RTT\), marked Early-Data: 1`},
		{3, "425", `425 Too Early: this POST came in early data`},
		{5, "200", `This request:\s+came after the handshake \(1-RTT\)`},
	} {
		a := got[tt.stream]
		if a.status != tt.status || !regexp.MustCompile(tt.body).MatchString(a.body) {
			t.Errorf("stream %d: status %s, body:\n%s\nwant %s and %q", tt.stream, a.status, a.body, tt.status, tt.body)
		}
	}
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: POST /pay came in early data \(0-RTT\): answered 425 Too Early`)
}

func dialServe(t *testing.T, s *serveProcess, cfg *tlsflow.Config) *tlsflow.Conn {
	t.Helper()
	raw, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	return tlsflow.Client(raw, cfg)
}

// storedCache tells when a session was stored.
type storedCache struct {
	tlsflow.ClientSessionCache
	put chan struct{}
}

func (c *storedCache) Put(key string, cs *tlsflow.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs != nil {
		select {
		case c.put <- struct{}{}:
		default:
		}
	}
}

// h2Client writes HTTP/2 frames: SETTINGS first, then requests whose
// header blocks use HPACK's dynamic table, the last one split into
// HEADERS and CONTINUATION.
type h2Client struct {
	w    io.Writer
	hbuf bytes.Buffer
	enc  *hpack.Encoder
	sent bool
}

func newH2Client(w io.Writer) *h2Client {
	c := &h2Client{w: w}
	c.enc = hpack.NewEncoder(&c.hbuf)
	return c
}

func (c *h2Client) request(stream uint32, method, path string) {
	fr := http2.NewFramer(c.w, nil)
	if !c.sent {
		fr.WriteSettings()
		c.sent = true
	}
	c.hbuf.Reset()
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: method}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: "localhost"}, {Name: ":path", Value: path}, {Name: "accept", Value: "text/plain"},
		{Name: "x-tlsflow-test", Value: "indexed in the dynamic table"}} {
		c.enc.WriteField(f)
	}
	block := c.hbuf.Bytes()
	half := len(block) / 2
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: block[:half], EndStream: true})
	fr.WriteContinuation(stream, true, block[half:])
}

type h2Answer struct{ status, body string }

// readH2Answers reads frames until the streams have ended, acknowledging
// the server's SETTINGS.
func readH2Answers(t *testing.T, conn *tlsflow.Conn, streams ...uint32) map[uint32]*h2Answer {
	t.Helper()
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	got := map[uint32]*h2Answer{}
	open := len(streams)
	for _, s := range streams {
		got[s] = &h2Answer{}
	}
	for open > 0 {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading serve's HTTP/2 frames: %v (answers so far: %v)", err, got)
		}
		a := got[f.Header().StreamID]
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			a.status = f.PseudoValue("status")
			if f.StreamEnded() {
				open--
			}
		case *http2.DataFrame:
			a.body += string(f.Data())
			if f.StreamEnded() {
				open--
			}
		case *http2.GoAwayFrame, *http2.RSTStreamFrame:
			t.Fatalf("serve sent %v", f)
		}
	}
	return got
}

// TestEarlyReaderMarksHTTP1Requests: each HTTP/1 request that begins in
// the early data gets Early-Data: 1, those pipelined behind the first and
// one whose request line ends only after the early data; a request after
// it gets none, however the connection's bytes are cut into reads.
func TestEarlyReaderMarksHTTP1Requests(t *testing.T) {
	post := "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
	chunked := "PUT /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	get := "GET /c HTTP/1.1\r\nHost: x\r\n\r\n"
	stream := post + chunked + get + get
	for _, tt := range []struct {
		name  string
		early int   // bytes of stream sent early
		want  []int // requests marked, in order: 1 for marked
	}{
		{"one request, all early", len(post), []int{1, 0, 0, 0}},
		{"three requests early", len(post + chunked + get), []int{1, 1, 1, 0}},
		{"a request line cut by the end", len(post) + 3, []int{1, 1, 0, 0}},
		{"a body cut by the end", len(post) - 4, []int{1, 0, 0, 0}},
		{"headers cut by the end", len(post+chunked) + 20, []int{1, 1, 1, 0}},
		{"one byte", 1, []int{1, 0, 0, 0}},
	} {
		for _, chunk := range []int{1, 7, 4096} {
			early, rest := []byte(stream[:tt.early]), stream[tt.early:]
			r := newEarlyReader(&chunkReader{data: []byte(rest), n: chunk}, early, false)
			br := bufio.NewReader(r)
			var marks []int
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("%s, reads of %d: %v", tt.name, chunk, err)
					}
					break
				}
				io.Copy(io.Discard, req.Body)
				if req.Header.Get("Early-Data") == "1" {
					marks = append(marks, 1)
				} else {
					marks = append(marks, 0)
				}
			}
			if !equalInts(marks, tt.want) {
				t.Errorf("%s, reads of %d bytes: marked %v; want %v", tt.name, chunk, marks, tt.want)
			}
		}
	}
	if got := requestStarts([]byte("not HTTP at all\r\n\r\n")); !equalInts(got, []int{0}) {
		t.Errorf("requestStarts of bytes that are no request = %v; want [0] (net/http answers 400)", got)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// chunkReader returns data n bytes at a time.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data[:min(len(c.data), c.n)])
	c.data = c.data[n:]
	return n, nil
}

// TestEarlyReaderMarksHTTP2Requests: a request whose HEADERS frame began
// in the early data gets early-data: 1 in its header block, also when
// its CONTINUATION comes after the early data; a request that begins
// after it does not, and its header block, which refers to the dynamic
// table the earlier ones filled, still decodes. Trailers and DATA frames
// pass as they are.
func TestEarlyReaderMarksHTTP2Requests(t *testing.T) {
	var buf bytes.Buffer
	h2 := newH2Client(&buf)
	h2.request(1, "GET", "/one")
	one := buf.Len()
	h2.request(3, "GET", "/three")
	threeHalf := one + h2FrameHeaderLen + 3 // inside stream 3's HEADERS frame
	fr := http2.NewFramer(&buf, nil)
	fr.WriteData(3, false, []byte("ignored"))
	h2.request(5, "GET", "/five")
	stream := append([]byte(http2Preface), buf.Bytes()...)
	for _, tt := range []struct {
		name   string
		early  int
		marked []uint32
	}{
		{"the preface only", len(http2Preface), nil},
		{"a part of the preface", 5, nil},
		{"the first request", len(http2Preface) + one, []uint32{1}},
		{"into the second request's HEADERS", len(http2Preface) + threeHalf, []uint32{1, 3}},
		{"all", len(stream), []uint32{1, 3, 5}},
	} {
		for _, chunk := range []int{1, 5, 1 << 16} {
			r := newEarlyReader(&chunkReader{data: stream[tt.early:], n: chunk}, stream[:tt.early], true)
			out, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, []byte(http2Preface)) {
				t.Fatalf("%s: the preface did not pass", tt.name)
			}
			rd := http2.NewFramer(nil, bytes.NewReader(out[len(http2Preface):]))
			rd.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
			var marked []uint32
			for {
				f, err := rd.ReadFrame()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s, reads of %d: the marked frames do not decode: %v", tt.name, chunk, err)
				}
				if mh, ok := f.(*http2.MetaHeadersFrame); ok {
					indexed := false
					for _, hf := range mh.RegularFields() {
						indexed = indexed || hf.Name == "x-tlsflow-test" && hf.Value == "indexed in the dynamic table"
						if hf.Name == "early-data" && hf.Value == "1" {
							marked = append(marked, mh.StreamID)
						}
					}
					if mh.PseudoValue("path") == "" || !indexed {
						t.Errorf("%s, reads of %d: stream %d decodes to %v", tt.name, chunk, mh.StreamID, mh.Fields)
					}
				}
			}
			if !equalInts(u32s(marked), u32s(tt.marked)) {
				t.Errorf("%s, reads of %d: marked streams %v; want %v", tt.name, chunk, marked, tt.marked)
			}
		}
	}
}

func u32s(s []uint32) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}

// TestEarlyDataExcerptPrints: the excerpt is quoted, cut between
// characters, and marked when cut.
func TestEarlyDataExcerptPrints(t *testing.T) {
	for in, want := range map[string]string{
		"GET /\r\n":                    `"GET /\r\n"`,
		"\x00\x1b[2J":                  `"\x00\x1b[2J"`,
		strings.Repeat("a", 60):        `"` + strings.Repeat("a", 60) + `"`,
		strings.Repeat("a", 59) + "ü!": `"` + strings.Repeat("a", 59) + `"…`,
	} {
		if got := excerpt([]byte(in)); got != want {
			t.Errorf("excerpt(%q) = %s; want %s", in, got, want)
		}
	}
}

// TestConnectEarlyDataAgainstOpenSSL: connect --reconnect --early-data at
// openssl s_server -tls1_3 in its plain mode (-early_data cannot go with
// -www): with -early_data it reads FILE as early data ("Early data
// received:"); with -max_early_data alone its tickets allow it, but it
// does not read it, so it resumes and rejects it, and connect resends;
// without either its tickets allow none. s_server prints FILE once in
// each case.
func TestConnectEarlyDataAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	openssl := requirePeer(t, "openssl")
	c := sharedCerts(t)
	for _, tt := range []struct {
		name     string
		args     []string
		line     string
		accepted bool
	}{
		{"accepted", []string{"-early_data"}, `accepted: the server read the \d+ bytes of \S+ before the handshake completed \(replayable: RFC 8446 §8\)`, true},
		{"rejected", []string{"-max_early_data", "16384"}, `rejected: the server resumed the session but did not read them; resent the \d+ bytes of \S+ after the handshake`, false},
		{"tickets without early data", nil, `not sent: the server's tickets allow no early data [^;]*; sent the \d+ bytes of \S+ after the handshake`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"-tls1_3", "-cert", c.serverCert, "-key", c.key, "-naccept", "2"}, tt.args...)
			addr, output := startOpenSSLServer(t, ctx, openssl, args...)
			early := "tlsflow early data " + randomHex(t) + "\n"
			r := runCLI(t, nil, "connect", "--trace", "none", "--ca", c.caFile, "--servername", "localhost", "--reconnect",
				"--early-data", writeEarlyFile(t, early), addr)
			if r.code != 0 {
				t.Fatalf("connect to openssl s_server %s failed\n%s\n--- openssl:\n%s", strings.Join(args, " "), r, output())
			}
			if got := wantOneEarlyLine(t, r); !regexp.MustCompile("^" + tt.line + "$").MatchString(got) {
				t.Errorf("openssl s_server %s: summary line on early data %q; want %q", strings.Join(args, " "), got, tt.line)
			}
			wantOutput(t, "connect", r.stdout, `Connecting again`, `resumed:\s+yes\n`, `No answer from the server \(it sent nothing within 1s\)\.`)
			out := output()
			if n := strings.Count(out, early); n != 1 {
				t.Errorf("openssl s_server %s printed our early data %d times; want once:\n%s", strings.Join(args, " "), n, out)
			}
			if received := strings.Contains(out, "Early data received:"); received != tt.accepted {
				t.Errorf("openssl s_server %s says early data received: %v; want %v:\n%s", strings.Join(args, " "), received, tt.accepted, out)
			}
			if !strings.Contains(out, "Reused session-id") {
				t.Errorf("openssl s_server %s did not resume:\n%s", strings.Join(args, " "), out)
			}
		})
	}
}

// TestServeEarlyDataAgainstOpenSSLClient: openssl s_client keeps the
// session of a first connection (-sess_out) and resumes it with a GET as
// -early_data: serve reads it early and answers it with the page marking
// it, and s_client says "Early data was accepted".
func TestServeEarlyDataAgainstOpenSSLClient(t *testing.T) {
	t.Parallel()
	openssl := requirePeer(t, "openssl")
	s := startServe(t, "--early-data", "--key-type", "ecdsa")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	sess, early := filepath.Join(dir, "sess.pem"), writeEarlyFile(t, earlyGET)
	base := []string{"s_client", "-tls1_3", "-connect", s.addr, "-servername", "localhost", "-CAfile", s.caFile,
		"-verify_return_error", "-ign_eof", "-nocommands"}
	run := func(stdin string, args ...string) string {
		args = append(append([]string{}, base...), args...)
		cmd := exec.CommandContext(ctx, openssl, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s\n--- serve:\n%s", strings.Join(args, " "), err, out, s.output())
		}
		return string(out)
	}
	out := run(earlyGET, "-sess_out", sess)
	wantOutput(t, "openssl s_client -sess_out", out, `HTTP/1\.1 200 OK`, `Session resumed:\s+no`)
	if !strings.Contains(out, "Max Early Data: 16384") {
		t.Fatalf("openssl s_client -sess_out does not show a ticket that allows early data:\n%s", out)
	}
	// Connection 2: the request goes only as early data; stdin is empty.
	out = run("", "-sess_in", sess, "-early_data", early)
	wantOutput(t, "openssl s_client -sess_in -early_data", out, `Reused, TLSv1\.3`, `Early data was accepted`, `HTTP/1\.1 200 OK`,
		`Session resumed:\s+yes`, `Early data \(0-RTT\):\s+74 bytes before the handshake completed, "GET / HTTP/1\.1`,
		`This request:\s+came in early data \(0-RTT\), marked Early-Data: 1`)
	s.waitFor(t, `visitor 127\.0\.0\.1:\d+: TLS 1\.3, [^\n]*, resumed\n  early data \(0-RTT\):   74 bytes before the handshake completed`)
}

func randomHex(t *testing.T) string {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(n.Bytes())
}

// earlyDataUsageMistakes are the ways --early-data and --max-early-data
// can be wrong (TestMistakesOnTheCommandLineExitWithStatus2).
func earlyDataUsageMistakes(t *testing.T) []struct {
	name string
	args []string
	want string
} {
	dir := t.TempDir()
	file, empty, big := filepath.Join(dir, "get.txt"), filepath.Join(dir, "empty.txt"), filepath.Join(dir, "big.txt")
	for path, content := range map[string]string{file: earlyGET, empty: "", big: strings.Repeat("x", maxEarlyData+1)} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return []struct {
		name string
		args []string
		want string
	}{
		{"early data with http", []string{"connect", "--reconnect", "--http", "--early-data", file, "x:1"},
			"--early-data and --http exclude each other: --early-data sends FILE as it is, before the handshake; --http sends its GET after it. To send a request early, write it into FILE"},
		{"early data with http in German", []string{"connect", "--lang", "de", "--reconnect", "--http", "--early-data", file, "x:1"},
			"--early-data und --http schließen einander aus: --early-data sendet DATEI, wie sie ist, vor dem Handshake; --http sendet sein GET danach"},
		{"early data without reconnect", []string{"connect", "--early-data", file, "x:1"}, "--early-data sends FILE on the resumed connection of --reconnect"},
		{"early data with TLS 1.2", []string{"connect", "--tls1.2", "--reconnect", "--early-data", file, "x:1"}, "--early-data needs TLS 1.3"},
		{"early data over FTP", []string{"connect", "--starttls", "ftp", "--early-data", file, "x:1"}, "--http, --reconnect and --early-data do not apply"},
		{"early data file empty", []string{"connect", "--reconnect", "--early-data", empty, "x:1"}, "is empty: there is nothing to send as early data"},
		{"early data file too large", []string{"connect", "--reconnect", "--early-data", big, "x:1"}, "has more than 65536 bytes: tlsflow sends at most 65536 bytes of early data"},
		{"max early data without early data", []string{"serve", "--addr", "127.0.0.1:0", "--max-early-data", "4096"}, "--max-early-data sets what --early-data allows: add --early-data"},
		{"max early data too large", []string{"serve", "--addr", "127.0.0.1:0", "--early-data", "--max-early-data", "70000"}, "--max-early-data 70000: want 1 to 65536 bytes"},
		{"serve early data with TLS 1.2", []string{"serve", "--addr", "127.0.0.1:0", "--tls1.2", "--early-data"}, "--early-data needs TLS 1.3"},
	}
}
