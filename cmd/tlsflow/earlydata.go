package main

// 0-RTT early data (RFC 8446 §2.3, §4.2.10, §8) on the command line:
// connect --early-data FILE sends FILE behind the ClientHello of the
// resumed connection of --reconnect and says what became of it; serve
// --early-data reads what a resuming client sends early, shows it, and
// hands it to HTTP with each request that began in it marked as RFC 8470
// §5.1 has a front end mark it (Early-Data: 1). Early data is replayable:
// serve answers only requests that are safe to repeat, others get 425 Too
// Early (RFC 8470 §5.2).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/trace"
)

// maxEarlyData is the most 0-RTT data tlsflow carries on one connection
// (its limits policy, Config.MaxEarlyData's ceiling): a client takes no
// ticket's max_early_data_size as more, so no larger --early-data FILE
// could go early, and serve's --max-early-data cannot be more.
const maxEarlyData = 64 << 10

// defaultMaxEarlyData is what serve --early-data's tickets allow: 16 KiB,
// as OpenSSL's s_server -early_data, enough for a request with its headers.
const defaultMaxEarlyData = 16 << 10

// readEarlyFile reads connect's --early-data FILE, refusing one that
// could not go as early data at all: empty, or over maxEarlyData.
func readEarlyFile(l language, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--early-data: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEarlyData+1))
	if err != nil {
		return nil, fmt.Errorf("--early-data: %w", err)
	}
	switch {
	case len(data) == 0:
		return nil, usageSay(l, say{"--early-data %s is empty: there is nothing to send as early data",
			"--early-data %s ist leer: es gibt nichts als frühe Daten zu senden"}, path)
	case len(data) > maxEarlyData:
		return nil, usageSay(l, say{"--early-data %s has more than %d bytes: tlsflow sends at most %d bytes of early data, whatever a ticket allows",
			"--early-data %s hat mehr als %d Bytes: tlsflow sendet höchstens %d Bytes frühe Daten, was auch immer ein Ticket erlaubt"}, path, maxEarlyData, maxEarlyData)
	}
	return data, nil
}

// checkEarlyDataFlags refuses --early-data where it cannot work; FILE is
// read by readEarlyFile.
func (o *connectOptions) checkEarlyDataFlags() error {
	l := o.lang
	switch {
	case o.http:
		// As openssl s_client -early_data: FILE is what goes early. A GET
		// of --http's would go after the handshake, and s_server -www
		// refuses 0-RTT anyway.
		return usageSay(l, say{"--early-data and --http exclude each other: --early-data sends FILE as it is, before the handshake; --http sends its GET after it. To send a request early, write it into FILE",
			"--early-data und --http schließen einander aus: --early-data sendet DATEI, wie sie ist, vor dem Handshake; --http sendet sein GET danach. Um eine Anfrage früh zu senden, sie in DATEI schreiben"})
	case !o.reconnect:
		return usageSay(l, say{"--early-data sends FILE on the resumed connection of --reconnect (the first connection brings the ticket): add --reconnect",
			"--early-data sendet DATEI auf der wiederaufgenommenen Verbindung von --reconnect (die erste Verbindung bringt das Ticket): --reconnect angeben"})
	case o.versions.tls12:
		return usageSay(l, say{"--early-data needs TLS 1.3 (TLS 1.2 has no 0-RTT), and --tls1.2 allows only TLS 1.2",
			"--early-data braucht TLS 1.3 (TLS 1.2 kennt kein 0-RTT), und --tls1.2 lässt nur TLS 1.2 zu"})
	}
	return nil
}

// earlySent is what became of --early-data's FILE before the handshake.
type earlySent int

const (
	earlyWritten  earlySent = iota // written behind the ClientHello
	earlyNoTicket                  // ErrNoEarlyData: no session that allows it
	earlyTooLarge                  // the session allows less than FILE
)

// earlyAttempt is the resumed connection's try at sending FILE early.
type earlyAttempt struct {
	sent earlySent
	max  int // the session's max_early_data_size, when it allows any
}

// writeEarly sends data as early data on c, whose handshake has not
// started, if the cached session allows all of it. An empty
// WriteEarlyData first: it sends the ClientHello and tells whether 0-RTT
// is open, and the trace then says how much the ticket allows.
func writeEarly(c *tlsflow.Conn, data []byte, watch *connWatch) (earlyAttempt, error) {
	if _, err := c.WriteEarlyData(nil); errors.Is(err, tlsflow.ErrNoEarlyData) {
		return earlyAttempt{sent: earlyNoTicket}, nil
	} else if err != nil {
		return earlyAttempt{}, err
	}
	// The session's limit is in the trace's "early data offered" note
	// (ClientSessionState says only whether there is one).
	watch.mu.Lock()
	limit := watch.earlyMax
	watch.mu.Unlock()
	if limit > 0 && len(data) > limit {
		// Nothing early rather than a part: the summary then speaks of
		// FILE as a whole. The client ends the (empty) early data with
		// EndOfEarlyData if the server accepts it.
		return earlyAttempt{sent: earlyTooLarge, max: limit}, nil
	}
	if _, err := c.WriteEarlyData(data); err != nil {
		return earlyAttempt{}, err
	}
	return earlyAttempt{sent: earlyWritten, max: limit}, nil
}

// earlyDataOutcome resends FILE after the handshake unless the server read
// it early, and returns the summary's one line on early data.
func (o *connectOptions) earlyDataOutcome(conn *tlsflow.Conn, a earlyAttempt, first tlsflow.ConnectionState, cache *notifyingCache, watch *connWatch) (string, error) {
	l := o.lang
	st := conn.ConnectionState()
	n, file := len(o.early), o.earlyFile
	if a.sent == earlyWritten && st.EarlyDataAccepted {
		return l.sayf(say{"accepted: the server read the %d bytes of %s before the handshake completed (replayable: RFC 8446 §8)",
			"angenommen: der Server hat die %d Bytes von %s vor dem Ende des Handshakes gelesen (wiederholbar: RFC 8446 §8)"}, n, file), nil
	}
	conn.SetWriteDeadline(time.Now().Add(o.timeout))
	defer conn.SetWriteDeadline(time.Time{})
	if _, err := conn.Write(o.early); err != nil {
		return "", err
	}
	if a.sent == earlyWritten {
		var why string
		switch {
		case !st.DidResume:
			why = l.say(say{"the server did not resume the session (a full handshake)", "der Server hat die Sitzung nicht wiederaufgenommen (ein vollständiger Handshake)"})
		case watch.helloRetries.Load() > 0:
			why = l.say(say{"the server answered with a HelloRetryRequest, after which early data is not allowed (RFC 8446 §4.1.2)",
				"der Server hat mit einem HelloRetryRequest geantwortet, nach dem frühe Daten nicht erlaubt sind (RFC 8446 §4.1.2)"})
		default:
			why = l.say(say{"the server resumed the session but did not read them", "der Server hat die Sitzung wiederaufgenommen, sie aber nicht gelesen"})
		}
		return l.sayf(say{"rejected: %s; resent the %d bytes of %s after the handshake",
			"abgelehnt: %s; die %d Bytes von %s nach dem Handshake erneut gesendet"}, why, n, file), nil
	}
	var why string
	switch {
	case a.sent == earlyTooLarge:
		why = l.sayf(say{"%s has %d bytes, more than the %d the session's ticket allows (max_early_data_size)",
			"%s hat %d Bytes, mehr als die %d, die das Ticket der Sitzung erlaubt (max_early_data_size)"}, file, n, a.max)
	case first.Version != tlsflow.VersionTLS13:
		why = l.say(say{"the first connection was TLS 1.2, which has no early data (0-RTT is TLS 1.3's)",
			"die erste Verbindung war TLS 1.2, das keine frühen Daten kennt (0-RTT gibt es erst in TLS 1.3)"})
	default:
		why = l.say(say{"the server sent no session ticket on the first connection", "der Server hat auf der ersten Verbindung kein Sitzungsticket gesendet"})
		if cs := cache.stored.Load(); cs != nil {
			if _, state, err := cs.ResumptionState(); err == nil && !state.EarlyData {
				why = l.say(say{"the server's tickets allow no early data (no max_early_data_size in them: e.g. openssl s_server without -early_data, tlsflow serve without --early-data)",
					"die Tickets des Servers erlauben keine frühen Daten (kein max_early_data_size darin: etwa openssl s_server ohne -early_data, tlsflow serve ohne --early-data)"})
			} else if err == nil {
				why = l.say(say{"the cached session cannot carry them (the trace's note \"early data (0-RTT) not offered\" says why)",
					"die gespeicherte Sitzung kann sie nicht tragen (die Notiz „frühe Daten (0-RTT) nicht angeboten“ im Trace sagt, warum)"})
			}
		}
	}
	return l.sayf(say{"not sent: %s; sent the %d bytes of %s after the handshake",
		"nicht gesendet: %s; die %d Bytes von %s nach dem Handshake gesendet"}, why, n, file), nil
}

// answerQuiet is how long connect waits after the server's last byte
// before it takes the answer to FILE as complete: a server such as
// s_server in its plain mode answers nothing and keeps the connection.
const answerQuiet = time.Second

// printAnswer prints what the server sends back after FILE, up to
// maxHTTPBody: until it closes, goes quiet for answerQuiet, or --timeout.
// What came is printed also when the connection then fails.
func (o *connectOptions) printAnswer(conn *tlsflow.Conn, w io.Writer) error {
	l := o.lang
	var got bytes.Buffer
	var more int64
	buf := make([]byte, 16<<10)
	end := time.Now().Add(o.timeout)
	defer conn.SetReadDeadline(time.Time{})
	var err error
	for more < 16<<20 {
		deadline := time.Now().Add(answerQuiet)
		if deadline.After(end) {
			deadline = end
		}
		conn.SetReadDeadline(deadline)
		var n int
		n, err = conn.Read(buf)
		keep := min(n, maxHTTPBody-got.Len())
		got.Write(buf[:keep])
		more += int64(n - keep)
		if err != nil {
			break
		}
	}
	var ne net.Error
	closed := errors.Is(err, io.EOF)
	quiet := errors.As(err, &ne) && ne.Timeout()
	switch {
	case got.Len() > 0:
		fmt.Fprintln(w, l.sayf(say{"\nThe server answered (%d bytes):", "\nDer Server hat geantwortet (%d Bytes):"}, got.Len()+int(more)))
		w.Write(got.Bytes())
		if more > 0 {
			fmt.Fprint(w, l.sayf(say{"\n… (%d more bytes not shown)", "\n… (%d weitere Bytes nicht gezeigt)"}, more))
		}
		fmt.Fprintln(w)
	case closed:
		fmt.Fprintln(w, l.say(say{"\nThe server closed the connection without an answer.", "\nDer Server hat die Verbindung ohne Antwort geschlossen."}))
	case quiet:
		fmt.Fprintln(w, l.sayf(say{"\nNo answer from the server (it sent nothing within %v).", "\nKeine Antwort vom Server (er hat binnen %v nichts gesendet)."}, answerQuiet))
	}
	if err == nil || closed || quiet {
		return nil
	}
	return err
}

// excerpt is the start of b, quoted so that any byte prints (at most 60
// bytes of it, cut between characters), with "…" when there is more.
func excerpt(b []byte) string {
	const most = 60
	if len(b) <= most {
		return strconv.Quote(string(b))
	}
	cut := most
	for cut > most-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strconv.Quote(string(b[:cut])) + "…"
}

// readEarlyData reads a server connection's early data until
// ReadEarlyData says it is over: at most the MaxEarlyData its tickets
// allow, which the library enforces. It runs the handshake up to the
// client's EndOfEarlyData, or to its end when there is none.
func readEarlyData(c *tlsflow.Conn) ([]byte, error) {
	var early []byte
	buf := make([]byte, 4<<10)
	for {
		n, err := c.ReadEarlyData(buf)
		early = append(early, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return early, nil
		}
		if err != nil {
			return early, err
		}
	}
}

// earlyRejection is the server's reason for not reading the early data a
// client offered, from the connection's trace; "" if it read it or none
// was offered.
func earlyRejection(events []trace.Event) string {
	for _, e := range events {
		if e.Kind == trace.KindNote && e.Message == "early data rejected" {
			return e.Field("reason")
		}
	}
	return ""
}

// earlyWords says, for serve's console and page, what came early on v.
// ok is false when nothing was offered.
func (s *server) earlyWords(v *visitor) (words string, ok bool) {
	l := s.lang
	switch {
	case len(v.earlyData) > 0:
		return l.sayf(say{"%d bytes before the handshake completed, %s; replayable: anyone who copied the client's first flight can send them again (RFC 8446 §8)",
			"%d Bytes vor dem Ende des Handshakes, %s; wiederholbar: wer den ersten Flug des Clients kopiert hat, kann sie erneut senden (RFC 8446 §8)"}, len(v.earlyData), excerpt(v.earlyData)), true
	case v.Conn.ConnectionState().EarlyDataAccepted:
		return l.say(say{"accepted, but the client sent none", "angenommen, aber der Client hat keine gesendet"}), true
	case v.earlyRejected != "":
		return l.sayf(say{"offered by the client, not read (tlsflow's reason, in English: %s)",
			"vom Client angeboten, nicht gelesen (der Grund laut tlsflow, englisch: %s)"}, v.earlyRejected), true
	}
	return "", false
}

// safeToReplay: the methods RFC 9110 §9.2.1 calls safe that serve answers
// from early data; anything else waits for a request after the handshake.
func safeToReplay(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// cameEarly reports whether r arrived in early data: marked by serve's
// earlyReader, or by a front end before us (RFC 8470 §5.1: a request
// with Early-Data: 1 is treated the same, whoever marked it).
func cameEarly(r *http.Request) bool {
	for _, v := range r.Header.Values("Early-Data") {
		if v == "1" {
			return true
		}
	}
	return false
}

// tooEarly answers an unsafe request that came in early data with 425
// Too Early (RFC 8470 §5.2), without acting on it: the client may send it
// again once the handshake is complete. serve answers only after the
// handshake, which a copy of the early data cannot complete; it refuses
// as a server must that acts on early data at once (0.5-RTT), or that
// learns of it from a front end's Early-Data: 1, since the request may
// have been sent and acted on elsewhere too.
func (s *server) tooEarly(w http.ResponseWriter, r *http.Request, v *visitor) {
	l := s.lang
	who := v.Conn.RemoteAddr().String()
	s.outMu.Lock()
	fmt.Fprintln(s.out, l.sayf(say{"visitor %s: %s %s came in early data (0-RTT): answered 425 Too Early, not acted on (RFC 8470 §5.2)",
		"Besucher %s: %s %s kam in frühen Daten (0-RTT): mit 425 Too Early beantwortet, nicht ausgeführt (RFC 8470 §5.2)"}, who, r.Method, r.URL.Path))
	s.outMu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooEarly)
	fmt.Fprintln(w, l.sayf(say{"425 Too Early: this %s came in early data (0-RTT), which anyone who copied it could send again, so the server did not act on it. Send it again now that the handshake is complete (RFC 8470 §5.2).",
		"425 Too Early: dieses %s kam in frühen Daten (0-RTT), die jeder, der sie kopiert hat, erneut senden könnte; der Server hat es darum nicht ausgeführt. Jetzt, nach dem Handshake, erneut senden (RFC 8470 §5.2)."}, r.Method))
}

// requestWords says, for the page, how r arrived on a connection that
// carried early data or a request marked so.
func (s *server) requestWords(r *http.Request, v *visitor) string {
	l := s.lang
	switch {
	case cameEarly(r) && len(v.earlyData) > 0:
		return l.sayf(say{"came in early data (0-RTT), marked Early-Data: 1 (RFC 8470 §5.1); answered, as %s is safe to repeat",
			"kam in frühen Daten (0-RTT), markiert mit Early-Data: 1 (RFC 8470 §5.1); beantwortet, da %s gefahrlos wiederholt werden kann"}, r.Method)
	case cameEarly(r):
		return l.sayf(say{"says it came in early data on an earlier hop (Early-Data: 1, RFC 8470 §5.1); answered, as %s is safe to repeat",
			"sagt, sie sei auf einem früheren Abschnitt in frühen Daten gekommen (Early-Data: 1, RFC 8470 §5.1); beantwortet, da %s gefahrlos wiederholt werden kann"}, r.Method)
	}
	return l.say(say{"came after the handshake (1-RTT)", "kam nach dem Handshake (1-RTT)"})
}

// earlyReader is what serve's HTTP server reads from a connection whose
// client sent early data: that data first, then the connection's, with
// each request that began in the early data marked Early-Data: 1 (RFC
// 8470 §5.1), as a TLS front end would mark it for the server behind it.
type earlyReader struct {
	conn io.Reader

	mu   sync.Mutex
	out  []byte // marked bytes not yet returned
	mark marker // nil once no later byte can need a mark
	err  error  // the connection's error, returned after out
	buf  []byte
}

// marker follows the bytes of one connection from its first, and marks
// the requests that began in its early data.
type marker interface {
	// feed takes the next bytes and returns them marked; done reports
	// that no later byte needs looking at.
	feed(p []byte) (out []byte, done bool)
}

// newEarlyReader returns a reader of early and then conn, for HTTP/2
// (h2) or HTTP/1.x.
func newEarlyReader(conn io.Reader, early []byte, h2 bool) *earlyReader {
	var m marker = &h1Marker{starts: requestStarts(early)}
	if h2 {
		m = &h2Marker{earlyLen: len(early), preface: len(http2Preface)}
	}
	r := &earlyReader{conn: conn, mark: m}
	var done bool
	if r.out, done = m.feed(early); done {
		r.mark = nil
	}
	return r
}

func (r *earlyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	for len(r.out) == 0 && r.mark != nil && r.err == nil {
		if r.buf == nil {
			r.buf = make([]byte, 16<<10)
		}
		n, err := r.conn.Read(r.buf)
		if n > 0 {
			var done bool
			if r.out, done = r.mark.feed(r.buf[:n]); done {
				r.mark = nil
				r.buf = nil
			}
		}
		r.err = err
	}
	if len(r.out) > 0 {
		n := copy(p, r.out)
		r.out = r.out[n:]
		r.mu.Unlock()
		return n, nil
	}
	if err := r.err; err != nil {
		r.err = nil
		r.mu.Unlock()
		return 0, err
	}
	r.mu.Unlock()
	return r.conn.Read(p)
}

// earlyDataField is the header field RFC 8470 §5.1 defines, as one HTTP/1
// line.
const earlyDataField = "Early-Data: 1\r\n"

// requestStarts returns where in early the HTTP/1 requests begin that
// begin in it: the first at 0, each next where the one before it ends
// (its headers and body, read as net/http reads them). A request cut off
// by the end of early still began in it; bytes that are not a request end
// the list, as net/http answers them 400 and closes.
func requestStarts(early []byte) []int {
	if len(early) == 0 {
		return nil
	}
	starts := []int{0}
	src := bytes.NewReader(early)
	br := bufio.NewReader(src)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return starts
		}
		_, err = io.Copy(io.Discard, req.Body)
		req.Body.Close()
		if err != nil {
			return starts
		}
		end := len(early) - src.Len() - br.Buffered()
		if end >= len(early) {
			return starts
		}
		starts = append(starts, end)
	}
}

// h1Marker puts Early-Data: 1 after the request line of each HTTP/1
// request that begins at one of starts (offsets in the connection's
// bytes, ascending). The request line may end after the early data.
type h1Marker struct {
	starts []int
	pos    int // offset of the next byte fed
}

func (m *h1Marker) feed(p []byte) ([]byte, bool) {
	out := make([]byte, 0, len(p)+len(m.starts)*len(earlyDataField))
	for len(m.starts) > 0 {
		from := max(0, m.starts[0]-m.pos)
		if from >= len(p) {
			break
		}
		i := bytes.IndexByte(p[from:], '\n')
		if i < 0 {
			break
		}
		cut := from + i + 1 // just after the request line
		out = append(append(out, p[:cut]...), earlyDataField...)
		p, m.pos, m.starts = p[cut:], m.pos+cut, m.starts[1:]
	}
	m.pos += len(p)
	return append(out, p...), len(m.starts) == 0
}

// http2Preface is the client connection preface (RFC 9113 §3.4).
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// HTTP/2 frame types and flags the h2Marker looks at (RFC 9113 §6).
const (
	h2FrameHeaders      = 0x1
	h2FrameContinuation = 0x9
	h2FlagEndHeaders    = 0x4
	h2FrameHeaderLen    = 9
)

// h2EarlyDataBlock is the field early-data: 1 as an HPACK "literal header
// field without indexing — new name" (RFC 7541 §6.2.2): it leaves the
// dynamic table as it is, so what the client encodes later still decodes.
var h2EarlyDataBlock = []byte("\x00\x0aearly-data\x011")

// h2Marker marks each HTTP/2 request whose HEADERS frame began in the
// early data: the frame that ends its header block (END_HEADERS, on the
// HEADERS or its last CONTINUATION) loses that flag, and a CONTINUATION
// of the marker's own follows it with the field and END_HEADERS. A
// header block may be followed by CONTINUATION frames also after
// END_STREAM (RFC 9113 §6.2), so a request without a body gets it too.
type h2Marker struct {
	earlyLen int
	pos      int // offset of the next byte fed
	preface  int // bytes of the client preface still to come

	hdr  [h2FrameHeaderLen]byte // the frame header being read
	hdrN int
	left int // payload bytes of the current frame still to come

	maxStream uint32 // the highest stream a HEADERS frame opened
	open      uint32 // the stream whose early header block has not ended, 0 for none
	closing   uint32 // the stream to mark after the current frame's payload, 0 for none
}

func (m *h2Marker) feed(p []byte) ([]byte, bool) {
	out := make([]byte, 0, len(p)+2*(h2FrameHeaderLen+len(h2EarlyDataBlock)))
	for len(p) > 0 {
		switch {
		case m.preface > 0:
			n := min(m.preface, len(p))
			out = append(out, p[:n]...)
			p, m.pos, m.preface = p[n:], m.pos+n, m.preface-n
		case m.left > 0:
			n := min(m.left, len(p))
			out = append(out, p[:n]...)
			p, m.pos, m.left = p[n:], m.pos+n, m.left-n
			out = m.afterPayload(out)
		default:
			n := min(h2FrameHeaderLen-m.hdrN, len(p))
			copy(m.hdr[m.hdrN:], p[:n])
			p, m.pos, m.hdrN = p[n:], m.pos+n, m.hdrN+n
			if m.hdrN == h2FrameHeaderLen {
				out = m.frameHeader(out)
			}
		}
	}
	done := m.pos >= m.earlyLen && m.preface == 0 && m.hdrN == 0 && m.left == 0 && m.open == 0 && m.closing == 0
	return out, done
}

// frameHeader decides about a frame whose header is complete, appends the
// header (END_HEADERS taken off if the marker's CONTINUATION is to follow),
// and the marker's frame at once for an empty payload.
func (m *h2Marker) frameHeader(out []byte) []byte {
	h := &m.hdr
	length := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	typ, flags := h[3], h[4]
	stream := (uint32(h[5])<<24 | uint32(h[6])<<16 | uint32(h[7])<<8 | uint32(h[8])) & 0x7fffffff
	began := m.pos - h2FrameHeaderLen
	if typ == h2FrameHeaders && stream > m.maxStream {
		m.maxStream = stream
		if began < m.earlyLen {
			m.open = stream // a request that began in the early data
		}
	}
	if m.open != 0 && stream == m.open && (typ == h2FrameHeaders || typ == h2FrameContinuation) && flags&h2FlagEndHeaders != 0 {
		h[4] &^= h2FlagEndHeaders
		m.closing, m.open = stream, 0
	}
	out = append(out, h[:]...)
	m.hdrN, m.left = 0, length
	return m.afterPayload(out)
}

// afterPayload appends the marker's CONTINUATION once the frame that ended
// a marked header block has passed.
func (m *h2Marker) afterPayload(out []byte) []byte {
	if m.left > 0 || m.closing == 0 {
		return out
	}
	s, n := m.closing, len(h2EarlyDataBlock)
	out = append(out, byte(n>>16), byte(n>>8), byte(n), h2FrameContinuation, h2FlagEndHeaders,
		byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
	m.closing = 0
	return append(out, h2EarlyDataBlock...)
}
