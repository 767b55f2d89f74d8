package main

import (
	"fmt"
	"strings"

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

// place translates where an error says it was: a message name as the RFC
// spells it, "after" one, or application data.
func (l language) place(m string) string {
	switch m {
	case "application data":
		return l.say(say{"application data", "Anwendungsdaten"})
	case "after Finished and application data":
		return l.say(say{"after Finished and application data", "nach Finished und Anwendungsdaten"})
	}
	if name, ok := strings.CutPrefix(m, "after "); ok {
		return l.sayf(say{"after %s", "nach %s"}, name)
	}
	return m
}
