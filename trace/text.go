package trace

import (
	"fmt"
	"io"
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
}

func (r *textRenderer) event(e Event) {
	if r.opt.skip(e) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
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

// title returns the step or phase title to write before e, if e starts a
// new one.
func (r *textRenderer) title(e Event) string {
	var key, title string
	if e.Version == versionTLS13 {
		p := phaseOf(e)
		if p == phaseNone {
			return ""
		}
		key, title = "1.3 "+string(p), r.say(phaseTitles[p])
	} else {
		if e.Kind == KindError || e.Step < 0 || e.Step >= len(stepTitles) {
			return ""
		}
		key = "1.2 step " + strconv.Itoa(e.Step)
		title = fmt.Sprintf(r.say(words.step), e.Step, r.say(stepTitles[e.Step]))
	}
	if key == r.section {
		return ""
	}
	r.section = key
	return title
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
		s = fmt.Sprintf(r.say(words.connect), side)
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
		if e.Step >= 0 && e.Message != "" {
			s = fmt.Sprintf(r.say(words.failedAt), side, e.Step, e.Message)
		} else {
			s = fmt.Sprintf(r.say(words.failed), side)
		}
		s = r.paint(ansiRed, s)
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
	case KindHandshakeDone:
		return ""
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
	return fmt.Sprintf(r.say(words.stepSuffix), e.Step)
}

// fields writes the decoded fields, labels aligned.
func (r *textRenderer) fields(b *strings.Builder, e Event) {
	labels := make([]string, len(e.Fields))
	width := 0
	for i, f := range e.Fields {
		labels[i] = r.label(f.Name)
		width = max(width, utf8.RuneCountInString(labels[i]))
	}
	for i, f := range e.Fields {
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(labels[i]))
		fmt.Fprintf(b, "      %s:%s %s\n", labels[i], pad, r.value(f.Value))
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
