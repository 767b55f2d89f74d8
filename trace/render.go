package trace

import (
	"io"
	"os"
	"strings"
)

// Format is how a renderer writes events.
type Format string

const (
	// FormatText is annotated text for people, grouped by the course note's
	// steps (TLS 1.2) or by the RFC 8446 flow with the note's step for each
	// message (TLS 1.3).
	FormatText Format = "text"
	// FormatJSON is one JSON object per line, for tools; the schema is in
	// JSON.md next to this file.
	FormatJSON Format = "json"
)

// Options tune a renderer. Lang, Hex and Color shape the text format only;
// Secrets and SentOnly choose which events and bytes are written in both
// formats.
type Options struct {
	// Format is FormatText (also for "" or anything unknown) or FormatJSON.
	Format Format
	// Lang is "en" or "de" (any tag starting with "de" is German). "" takes
	// the language from the environment: LC_ALL, else LC_MESSAGES, else
	// LANG; a value starting with "de" means German, anything else English.
	Lang string
	// Hex adds a hex dump of each message's raw bytes.
	Hex bool
	// Secrets shows the derived secrets that events carry (they only do
	// when the Config has a key log). Without it secrets are never written.
	Secrets bool
	// Color adds ANSI colour to arrows, step titles, checks and errors.
	// ColorAuto(w) says whether w is a terminal that wants colour.
	Color bool
	// SentOnly skips messages, ChangeCipherSpec, alerts and application
	// data as received, so a trace holding both sides of one connection
	// shows each of them once, as sent.
	SentOnly bool
}

// NewRenderer returns a Hook that writes each event to w in opt.Format. It
// is safe for concurrent use, so one renderer can take both sides of a
// connection; each event is written with one call to w.Write. Write errors
// are ignored: a trace must never break the connection it watches.
func NewRenderer(w io.Writer, opt Options) Hook {
	if opt.Format == FormatJSON {
		r := &jsonRenderer{w: w, opt: opt}
		return r.event
	}
	r := &textRenderer{w: w, opt: opt, lang: pickLanguage(opt.Lang)}
	return r.event
}

// ColorAuto reports whether output to w should be coloured: w is a
// terminal (a character device), NO_COLOR is unset or empty
// (https://no-color.org) and TERM is not "dumb".
func ColorAuto(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// skip applies the options that choose events, the same for every format.
func (opt *Options) skip(e Event) bool {
	if !opt.SentOnly || e.Direction != Received {
		return false
	}
	switch e.Kind {
	case KindMessage, KindChangeCipherSpec, KindAlert, KindApplicationData:
		return true
	}
	return false
}

// pickLanguage resolves Options.Lang.
func pickLanguage(tag string) language {
	if ResolveLang(tag) == "de" {
		return german
	}
	return english
}

// ResolveLang says which language a tag ("de", "de_DE.UTF-8", "en", "")
// selects: "de" or "en". An empty tag falls back to the environment the
// way POSIX locales do: LC_ALL overrides LC_MESSAGES overrides LANG.
func ResolveLang(tag string) string {
	if tag == "" {
		for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
			if tag = os.Getenv(v); tag != "" {
				break
			}
		}
	}
	if strings.HasPrefix(strings.ToLower(tag), "de") {
		return "de"
	}
	return "en"
}
