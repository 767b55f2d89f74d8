package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/trace"
)

// The demo speaks English or German, as its trace does (package trace
// picks the language the same way). Names from the RFCs stay as they are.

type language int

const (
	english language = iota
	german
)

// pickLanguage resolves --lang the way the trace renderer does.
func pickLanguage(tag string) language {
	if trace.ResolveLang(tag) == "de" {
		return german
	}
	return english
}

// say is one sentence in both languages.
type say struct{ en, de string }

func (l language) say(s say) string {
	if l == german && s.de != "" {
		return s.de
	}
	return s.en
}

func (l language) sayf(s say, args ...any) string { return fmt.Sprintf(l.say(s), args...) }

var diagnosisWords = struct {
	step, alert, cause, fix, errorLabel, local, received, sent say
}{
	step:       say{"step: ", "Schritt:"},
	alert:      say{"alert:", "Alert:  "},
	cause:      say{"cause:", "Ursache:"},
	fix:        say{"fix:  ", "Abhilfe:"},
	errorLabel: say{"error:", "Fehler: "},
	local:      say{"none (a local failure, nothing went over the wire)", "keiner (ein lokaler Fehler, nichts ging über die Leitung)"},
	received:   say{"%s (received from the peer)", "%s (von der Gegenseite empfangen)"},
	sent:       say{"%s (sent to the peer)", "%s (an die Gegenseite gesendet)"},
}

// writeDiagnosis explains a failed handshake: where it failed, the alert,
// the cause and what to change, each on its own line. The cause and the
// fix come from the error, in English.
func writeDiagnosis(w io.Writer, indent string, err error) { writeDiagnosisIn(w, english, indent, err) }

func writeDiagnosisIn(w io.Writer, l language, indent string, err error) {
	dw := diagnosisWords
	var ae *tlsflow.Error
	if !errors.As(err, &ae) {
		fmt.Fprintf(w, "%s%s %v\n", indent, l.say(dw.errorLabel), err)
		return
	}
	where := "—"
	if ae.Step >= 0 {
		where = strconv.Itoa(ae.Step)
	}
	if ae.Message != "" {
		where += ", " + ae.Message
	}
	fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.step), where)
	switch {
	case ae.Local:
		fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.alert), l.say(dw.local))
	case ae.Received:
		fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.alert), l.sayf(dw.received, ae.Alert))
	default:
		fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.alert), l.sayf(dw.sent, ae.Alert))
	}
	cause := ae.Reason
	if cause == "" && ae.Err != nil {
		cause = ae.Err.Error()
	}
	if cause != "" {
		fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.cause), cause)
	}
	if ae.Hint != "" {
		fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.fix), ae.Hint)
	}
}
