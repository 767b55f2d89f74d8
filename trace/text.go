package trace

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The text format, in two layouts chosen per event, because the events
// before ServerHello cannot know the version yet:
//
//   - TLS 1.2 (and unknown): grouped under the course note's steps 0–8,
//     with a title line whenever the step changes.
//   - TLS 1.3: grouped under the parts of RFC 8446 Figure 1, each event
//     saying which of the note's steps it takes over ("Finished — step 7").
//
// In both, the titles follow the wire: only what crosses it (the TCP
// connection, messages, ChangeCipherSpec, application data) opens a step.
// What a side does about it (derive keys, check a signature, complete or
// fail the handshake) stays under the step of the last thing that crossed,
// so a title comes back only where the wire does: in TLS 1.2 each side
// sends its own ChangeCipherSpec and Finished.

const versionTLS13 = 0x0304

// ANSI SGR sequences; written only with Options.Color.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
)

// Values longer than this many hex digits are shortened (key shares of
// X25519MLKEM768 are over a kilobyte); randoms and a SHA-384 verify_data
// still show in full.
const maxHexValue = 96

type textRenderer struct {
	mu      sync.Mutex
	w       io.Writer
	opt     Options
	lang    language
	section string // the step or phase whose title was written last
	// kex is the TLS 1.2 key exchange of the suite in ServerHello, which
	// steps 3 and 5 are about: "rsa", "ecdhe" or "" before it is known.
	kex string
	// done says which sides completed their handshake: an error after it
	// ends the connection, not the handshake. finished says which sides
	// received the peer's Finished.
	done, finished map[Side]bool
}

func (r *textRenderer) event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.learn(e)
	if r.opt.skip(e) {
		return
	}
	var b strings.Builder
	if title := r.title(e); title != "" {
		b.WriteString("\n" + r.paint(ansiBold, title) + "\n")
	}
	b.WriteString("  " + r.headline(e) + "\n")
	r.fields(&b, e)
	if r.opt.Secrets && (e.Kind == KindKeys || len(e.Secret) > 0) {
		secret := r.say(words.noSecret)
		if len(e.Secret) > 0 {
			secret = fmt.Sprintf("%x", e.Secret)
		}
		fmt.Fprintf(&b, "      %s: %s\n", r.say(words.secret), secret)
	}
	if r.opt.Hex && len(e.Raw) > 0 {
		hexDump(&b, e.Raw, "      ")
	}
	io.WriteString(r.w, b.String())
}

// learn notes what later titles and headlines depend on, from every
// event, shown or not.
func (r *textRenderer) learn(e Event) {
	if r.done == nil {
		r.done, r.finished = map[Side]bool{}, map[Side]bool{}
	}
	switch {
	case e.Kind == KindMessage && e.Message == "ServerHello":
		suite := e.Field("cipher_suite")
		switch {
		case strings.HasPrefix(suite, "TLS_RSA_"):
			r.kex = "rsa"
		case strings.Contains(suite, "_ECDHE_"):
			r.kex = "ecdhe"
		}
	case e.Kind == KindMessage && e.Message == "Finished" && e.Direction == Received:
		r.finished[e.Side] = true
	case e.Kind == KindMessage && e.Message == "Finished" && e.Direction == Sent:
		// A trace of what was sent (a capture's) has no received
		// Finished: the peer received this one.
		r.finished[peerOf(e.Side)] = true
	case e.Kind == KindHandshakeDone:
		r.done[e.Side] = true
	case e.Kind == KindConnect:
		// A new connection (the demo's second, resuming one).
		r.kex = ""
		delete(r.done, e.Side)
		delete(r.finished, e.Side)
	}
}

// title returns the step or phase title to write before e, if e starts a
// new one.
func (r *textRenderer) title(e Event) string {
	if r.section != "" && !crossesWire(e) {
		return "" // a side's own doing stays under the step it answers
	}
	var key, title string
	if isEarlyData(e) {
		key, title = "0-RTT", r.say(earlyDataTitle)
	} else if e.Version == versionTLS13 {
		p := phaseOf(e)
		if p == phaseNone || r.ticketInFlight(e) {
			return ""
		}
		key, title = "1.3 "+string(p), r.say(phaseTitles[p])
	} else {
		if e.Kind == KindError || e.Step < 0 || e.Step >= len(stepTitles) {
			return ""
		}
		key = "1.2 step " + strconv.Itoa(e.Step)
		title = fmt.Sprintf(r.say(words.step), e.Step, r.say(r.stepTitle(e.Step)))
	}
	if key == r.section {
		return ""
	}
	r.section = key
	return title
}

// crossesWire reports whether e is something that went over the wire, or
// the TCP connection itself: what opens a step.
func crossesWire(e Event) bool {
	switch e.Kind {
	case KindConnect, KindMessage, KindChangeCipherSpec, KindApplicationData:
		return true
	case KindNote:
		return e.Message == "HelloRetryRequest" || isEarlyData(e)
	}
	return false
}

// isEarlyData reports whether e is 0-RTT data sent or received: a step of
// its own, between the ClientHello and the server's answer.
func isEarlyData(e Event) bool { return e.Kind == KindNote && e.Message == "early data" }

// stepTitle is the note's title of a TLS 1.2 step; steps 3 and 5 say what
// the key exchange of the suite makes of them.
func (r *textRenderer) stepTitle(step int) tr {
	switch {
	case step == 3 && r.kex == "rsa":
		return step3RSA
	case step == 3 && r.kex == "ecdhe":
		return step3ECDHE
	case step == 5 && r.kex == "rsa":
		return step5RSA
	case step == 5 && r.kex == "ecdhe":
		return step5ECDHE
	}
	return stepTitles[step]
}

// phaseOf places a TLS 1.3 event in RFC 8446 Figure 1. Checks belong to
// authentication; key derivations, ChangeCipherSpec, alerts and the like
// stay in the phase the last event opened.
func phaseOf(e Event) phase {
	switch e.Kind {
	case KindMessage:
		if e.Step == 8 {
			return phasePost // NewSessionTicket, KeyUpdate, post-handshake auth
		}
		switch e.Message {
		case "ClientHello", "ServerHello", "HelloRetryRequest":
			return phaseKeyExchange
		case "EncryptedExtensions", "CertificateRequest":
			return phaseParameters
		case "Certificate", "CertificateVerify", "Finished", "EndOfEarlyData":
			return phaseAuth
		case "NewSessionTicket", "KeyUpdate":
			return phasePost
		}
	case KindApplicationData:
		return phaseData
	case KindVerified:
		return phaseAuth
	case KindKeys:
		if e.Step == 8 {
			return phasePost
		}
	case KindNote:
		if e.Message == "HelloRetryRequest" {
			return phaseKeyExchange
		}
	}
	return phaseNone
}

// headline is the event's first line: who, which way, what, and in
// TLS 1.3 which step of the note it stands for.
func (r *textRenderer) headline(e Event) string {
	side := r.side(e.Side)
	var s string
	switch e.Kind {
	case KindConnect:
		s = r.connectLine(e)
	case KindMessage, KindChangeCipherSpec:
		name := e.Message
		if e.Kind == KindChangeCipherSpec {
			name = "ChangeCipherSpec"
		}
		s = r.arrow(e) + " " + name
		if len(e.Raw) > 0 {
			s += " (" + fmt.Sprintf(r.say(words.bytes), len(e.Raw)) + ")"
		}
	case KindKeys:
		what, ok := keyLabels[e.Message]
		if ok {
			s = fmt.Sprintf(r.say(words.derives), side, r.say(what), e.Message)
		} else {
			s = fmt.Sprintf(r.say(words.derivesBare), side, e.Message)
		}
	case KindVerified:
		s = r.paint(ansiGreen, fmt.Sprintf(r.say(words.verified), side, e.Message))
		if why, ok := checks[e.Message]; ok {
			s += fmt.Sprintf(r.say(words.because), r.say(why))
		}
	case KindApplicationData:
		s = fmt.Sprintf(r.say(words.appData), r.arrow(e))
	case KindAlert:
		s = fmt.Sprintf(r.say(words.alert), r.arrow(e), e.Message)
		if e.Field("level") == "fatal" {
			s = r.paint(ansiRed, s)
		}
	case KindHandshakeDone:
		s = fmt.Sprintf(r.say(words.done), side)
	case KindError:
		s = r.errorLine(e)
	default: // KindNote and kinds added later
		what := e.Message
		if t, ok := notes[e.Message]; ok {
			what = r.say(t)
		}
		s = fmt.Sprintf(r.say(words.note), side, what)
	}
	if e.Version == versionTLS13 {
		s += r.stepSuffix(e)
	}
	return s
}

// stepSuffix says which step of the note a TLS 1.3 event takes over.
func (r *textRenderer) stepSuffix(e Event) string {
	switch e.Kind {
	case KindHandshakeDone, KindError:
		return "" // an error says its step itself
	case KindChangeCipherSpec:
		return r.say(words.ccs13)
	case KindKeys:
		// The note derives all keys in step 5; TLS 1.3 spreads the
		// schedule over the handshake, but it is still that step's work.
		step := 5
		if e.Step == 8 {
			step = 8
		}
		return fmt.Sprintf(r.say(words.keysSuffix), step)
	}
	if e.Step < 0 || e.Step >= len(stepTitles) {
		return ""
	}
	if r.ticketInFlight(e) {
		return fmt.Sprintf(r.say(words.stepSuffix), e.Step) + r.say(words.ticketInFlight)
	}
	return fmt.Sprintf(r.say(words.stepSuffix), e.Step)
}

// ticketInFlight reports whether e is a TLS 1.3 NewSessionTicket its
// server sent with its own flight, before the client's Finished (without
// client authentication it can): it belongs after the handshake, but
// travels in the middle of it, and stays where it travelled.
func (r *textRenderer) ticketInFlight(e Event) bool {
	return e.Version == versionTLS13 && e.Kind == KindMessage && e.Message == "NewSessionTicket" &&
		e.Direction == Sent && !r.finished[e.Side]
}

// connectLine is the headline of step 0, with the port actually used:
// the client's remote port, the server's local one.
func (r *textRenderer) connectLine(e Event) string {
	side := r.side(e.Side)
	addr, line := e.Field("remote"), words.connectTo
	if e.Side == Server {
		addr, line = e.Field("local"), words.connectOn
	}
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return fmt.Sprintf(r.say(line), side, port)
	}
	return fmt.Sprintf(r.say(words.connect), side)
}

// errorLine is the headline of an error event: where, and how it ended
// (EndOf's classification). After the handshake it is the connection
// that ended, and a peer that closed it is no failure of ours.
func (r *textRenderer) errorLine(e Event) string {
	side := r.side(e.Side)
	where := ""
	if e.Step >= 0 {
		where = fmt.Sprintf(r.say(words.atStep), e.Step)
		if e.Message != "" {
			where += ", " + r.place(e.Message)
		}
	}
	end := End(e.Field("ended"))
	if end == "" {
		end = EndOf(e.Err)
	}
	how := r.ending(e, end)
	if how != "" {
		how = ": " + how
	}
	if r.done[e.Side] || e.Step == 8 {
		s := fmt.Sprintf(r.say(words.connectionEnded), side, where) + how
		if end == EndClosed || end == EndCloseNotify {
			return s
		}
		return r.paint(ansiRed, s)
	}
	return r.paint(ansiRed, fmt.Sprintf(r.say(words.handshakeFailed), side, where)+how)
}

// place translates where an error says it was: a message name as the RFC
// spells it, "after" one, or application data.
func (r *textRenderer) place(m string) string {
	if t, ok := places[m]; ok {
		return r.say(t)
	}
	if name, ok := strings.CutPrefix(m, "after "); ok {
		return fmt.Sprintf(r.say(words.after), name)
	}
	return m
}

// ending says in words how e's side saw the end.
func (r *textRenderer) ending(e Event, end End) string {
	peer := Client
	if e.Side == Client {
		peer = Server
	}
	name, _, _ := strings.Cut(e.Field("alert"), " (")
	switch end {
	case EndAlertSent:
		return fmt.Sprintf(r.say(words.endAlertSent), name)
	case EndAlertReceived:
		return fmt.Sprintf(r.say(words.endAlertReceived), name, r.side(peer))
	case EndCloseNotify:
		return fmt.Sprintf(r.say(words.endCloseNotify), r.side(peer))
	case EndClosed:
		return fmt.Sprintf(r.say(words.endClosed), r.side(peer))
	case EndReset:
		return r.say(words.endReset)
	case EndRefused:
		return r.say(words.endRefused)
	case EndTimeout:
		return r.say(words.endTimeout)
	case EndNotTLS:
		return fmt.Sprintf(r.say(words.endNotTLS), r.side(peer))
	case EndLocal:
		return r.say(words.endLocal)
	}
	return ""
}

// fields writes the decoded fields, labels aligned. An error's headline
// already says how it ended; of its fields only the cause and the fix
// follow (or the error itself when there is no cause).
func (r *textRenderer) fields(b *strings.Builder, e Event) {
	shown := e.Fields
	if e.Kind == KindError {
		shown = nil
		hasCause := e.Field("cause") != ""
		for _, f := range e.Fields {
			switch f.Name {
			case "alert", "ended":
				continue
			case "error":
				if hasCause {
					continue
				}
			}
			shown = append(shown, f)
		}
	}
	labels := make([]string, len(shown))
	width := 0
	for i, f := range shown {
		labels[i] = r.label(f.Name)
		width = max(width, utf8.RuneCountInString(labels[i]))
	}
	for i, f := range shown {
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(labels[i]))
		v := r.value(f.Value)
		if e.Kind == KindHandshakeDone && e.Version == versionTLS13 && f.Name == "extended_master_secret" {
			v = r.say(words.emsTLS13) // RFC 8446 has no such extension: its key schedule always covers the transcript
		}
		fmt.Fprintf(b, "      %s:%s %s\n", labels[i], pad, v)
	}
}

// label translates a field name; "certificate[1].issuer" becomes
// "certificate 1 issuer". Unknown names are shown as they are.
func (r *textRenderer) label(name string) string {
	if t, ok := fieldLabels[name]; ok {
		return r.say(t)
	}
	if rest, ok := strings.CutPrefix(name, "certificate["); ok {
		idx, sub, ok := strings.Cut(rest, "].")
		n, err := strconv.Atoi(idx)
		if ok && err == nil && n >= 0 {
			return fmt.Sprintf(r.say(words.certificate), n, r.label(sub))
		}
	}
	return name
}

// value translates the few values that are words and shortens long hex.
func (r *textRenderer) value(v string) string {
	if v == "" {
		return r.say(words.none) // a list with nothing in it, such as no extensions
	}
	if t, ok := valueWords[v]; ok {
		return r.say(t)
	}
	if count, ok := strings.CutSuffix(v, " certificate(s)"); ok {
		if n, err := strconv.Atoi(count); err == nil {
			return fmt.Sprintf(r.say(certificateCount), n)
		}
	}
	if len(v) > maxHexValue && isHex(v) {
		return v[:32] + "…(" + fmt.Sprintf(r.say(words.bytes), len(v)/2) + ")"
	}
	// Values the engine already shortened: "3045…(71 bytes)".
	if head, n, ok := shortened(v); ok {
		return head + "…(" + fmt.Sprintf(r.say(words.bytes), n) + ")"
	}
	return v
}

// shortened parses "<hex>…(<n> bytes)".
func shortened(v string) (head string, n int, ok bool) {
	head, tail, ok := strings.Cut(v, "…(")
	if !ok || !isHex(head) {
		return "", 0, false
	}
	count, ok := strings.CutSuffix(tail, " bytes)")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.Atoi(count)
	return head, n, err == nil
}

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// arrow shows the direction on the wire: "client → server".
func (r *textRenderer) arrow(e Event) string {
	from, to := e.Side, Server
	if from == Server {
		to = Client
	}
	if e.Direction == Received {
		from, to = to, from
	}
	return r.paint(ansiCyan, r.side(from)+" → "+r.side(to))
}

func (r *textRenderer) side(s Side) string {
	switch s {
	case Client:
		return r.say(words.client)
	case Server:
		return r.say(words.server)
	}
	return string(s)
}

func (r *textRenderer) say(t tr) string { return t.in(r.lang) }

func (r *textRenderer) paint(code, s string) string {
	if !r.opt.Color {
		return s
	}
	return code + s + ansiReset
}

// hexDump writes b as offset and 16 bytes a line.
func hexDump(sb *strings.Builder, b []byte, indent string) {
	for i := 0; i < len(b); i += 16 {
		end := min(i+16, len(b))
		fmt.Fprintf(sb, "%s%04x  % x\n", indent, i, b[i:end])
	}
}

func peerOf(s Side) Side {
	if s == Client {
		return Server
	}
	return Client
}
