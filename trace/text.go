package trace

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// StepTitle is what each step of the course note's flow does (TLS 1.2).
var StepTitle = [...]string{
	0: "TCP connection",
	1: "ClientHello: the client's algorithms and random",
	2: "ServerHello: the server's choice and random",
	3: "Certificate: the server's X.509 chain (and CertificateRequest)",
	4: "ServerHelloDone",
	5: "ClientKeyExchange: the pre-master secret; both sides derive the keys",
	6: "ChangeCipherSpec: records are protected from here on",
	7: "Finished: a MAC over the whole handshake",
	8: "Application data over the TLS connection",
}

// TextOptions tune the text renderer.
type TextOptions struct {
	// Hex adds a hex dump of each message.
	Hex bool
	// SentOnly shows each message once, as sent, which suits a trace that
	// holds both sides of one connection.
	SentOnly bool
	// Fields limits the decoded fields shown per message (0: all).
	Fields int
}

// NewText returns a Hook that writes events as readable text, grouped by
// the course note's steps. It is safe for concurrent use by both sides.
func NewText(w io.Writer, opt TextOptions) Hook {
	r := &textRenderer{w: w, opt: opt, step: -2}
	return r.event
}

type textRenderer struct {
	mu   sync.Mutex
	w    io.Writer
	opt  TextOptions
	step int
}

func (r *textRenderer) event(e Event) {
	if r.opt.SentOnly && e.Direction == Received && (e.Kind == KindMessage || e.Kind == KindChangeCipherSpec || e.Kind == KindAlert || e.Kind == KindApplicationData) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	if e.Step >= 0 && e.Step < len(StepTitle) && e.Step != r.step && e.Kind != KindError {
		r.step = e.Step
		fmt.Fprintf(&b, "\nStep %d — %s\n", e.Step, StepTitle[e.Step])
	}
	fmt.Fprintf(&b, "  %s\n", headline(e))
	n := 0
	for _, f := range e.Fields {
		if r.opt.Fields > 0 && n == r.opt.Fields {
			fmt.Fprintf(&b, "      … %d more field(s)\n", len(e.Fields)-n)
			break
		}
		fmt.Fprintf(&b, "      %s: %s\n", f.Name, f.Value)
		n++
	}
	if len(e.Secret) > 0 {
		fmt.Fprintf(&b, "      secret: %x\n", e.Secret)
	}
	if r.opt.Hex && len(e.Raw) > 0 {
		b.WriteString(hexDump(e.Raw, "      "))
	}
	io.WriteString(r.w, b.String())
}

// headline is the one-line summary: who, which way, what.
func headline(e Event) string {
	who := string(e.Side)
	switch e.Kind {
	case KindMessage, KindChangeCipherSpec:
		name := e.Message
		if e.Kind == KindChangeCipherSpec {
			name = "ChangeCipherSpec"
		}
		size := ""
		if len(e.Raw) > 0 {
			size = fmt.Sprintf(" (%d bytes)", len(e.Raw))
		}
		return fmt.Sprintf("%s %s%s", arrow(e), name, size)
	case KindConnect:
		return fmt.Sprintf("%s: TCP connection open", who)
	case KindKeys:
		return fmt.Sprintf("%s derives %s", who, e.Message)
	case KindVerified:
		return fmt.Sprintf("%s verified %s ✓", who, e.Message)
	case KindApplicationData:
		return fmt.Sprintf("%s application data", arrow(e))
	case KindAlert:
		return fmt.Sprintf("%s alert %s", arrow(e), e.Message)
	case KindHandshakeDone:
		return fmt.Sprintf("%s: handshake complete", who)
	case KindError:
		return fmt.Sprintf("%s: handshake FAILED", who)
	}
	return fmt.Sprintf("%s: %s", who, e.Message)
}

// arrow shows the direction on the wire: "client → server".
func arrow(e Event) string {
	from, to := e.Side, peer(e.Side)
	if e.Direction == Received {
		from, to = to, from
	}
	return fmt.Sprintf("%s → %s", from, to)
}

func peer(s Side) Side {
	if s == Client {
		return Server
	}
	return Client
}

func hexDump(b []byte, indent string) string {
	var sb strings.Builder
	for i := 0; i < len(b); i += 16 {
		end := min(i+16, len(b))
		fmt.Fprintf(&sb, "%s%04x  % x\n", indent, i, b[i:end])
	}
	return sb.String()
}
