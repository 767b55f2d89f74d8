package trace

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// jsonLine is one event as JSON.md documents it. Every key is always
// written except "secret", so a tool can rely on the shape; byte strings are
// hex (what Wireshark and key logs show), not base64.
type jsonLine struct {
	Time      string  `json:"time"`
	Side      Side    `json:"side"`
	Kind      Kind    `json:"kind"`
	Direction string  `json:"direction"`
	Step      int     `json:"step"`
	Version   uint16  `json:"version"`
	Message   string  `json:"message"`
	Fields    []Field `json:"fields"`
	Raw       string  `json:"raw"`
	Secret    string  `json:"secret,omitempty"`
	Error     string  `json:"error"`
}

// jsonIn is jsonLine as read: pointers tell a missing key from a zero value.
type jsonIn struct {
	Time      string    `json:"time"`
	Side      Side      `json:"side"`
	Kind      Kind      `json:"kind"`
	Direction Direction `json:"direction"`
	Step      *int      `json:"step"`
	Version   uint16    `json:"version"`
	Message   string    `json:"message"`
	Fields    []Field   `json:"fields"`
	Raw       string    `json:"raw"`
	Secret    string    `json:"secret"`
	Error     string    `json:"error"`
}

func toLine(e *Event) jsonLine {
	l := jsonLine{
		Time: e.Time.Format(time.RFC3339Nano), Side: e.Side, Kind: e.Kind,
		Direction: string(e.Direction), Step: e.Step, Version: e.Version,
		Message: e.Message, Fields: e.Fields, Raw: hex.EncodeToString(e.Raw),
		Secret: hex.EncodeToString(e.Secret),
	}
	if l.Fields == nil {
		l.Fields = []Field{}
	}
	if e.Err != nil {
		l.Error = e.Err.Error()
	}
	return l
}

func (in *jsonIn) event() (Event, error) {
	e := Event{Side: in.Side, Kind: in.Kind, Direction: in.Direction, Step: -1,
		Version: in.Version, Message: in.Message, Fields: in.Fields}
	if in.Kind == "" {
		return e, errors.New(`no "kind"`)
	}
	if in.Step != nil {
		e.Step = *in.Step
	}
	if in.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, in.Time)
		if err != nil {
			return e, fmt.Errorf(`"time": %w`, err)
		}
		e.Time = t
	}
	var err error
	if e.Raw, err = hexField(in.Raw); err != nil {
		return e, fmt.Errorf(`"raw": %w`, err)
	}
	if e.Secret, err = hexField(in.Secret); err != nil {
		return e, fmt.Errorf(`"secret": %w`, err)
	}
	if in.Error != "" {
		e.Err = errors.New(in.Error)
	}
	return e, nil
}

func hexField(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return hex.DecodeString(s)
}

// MarshalJSON writes the event as one line of the JSON.md schema (without
// the trailing newline). Secret is included when set: a renderer without
// Options.Secrets drops it before it gets here.
func (e Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<" in a DN stays readable
	if err := enc.Encode(toLine(&e)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads one event of the JSON.md schema. A missing "step" is
// -1 (none); an "error" becomes an Err with that text.
func (e *Event) UnmarshalJSON(b []byte) error {
	var in jsonIn
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	ev, err := in.event()
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

// maxJSONLine bounds one line of ReadJSONLines: far above any handshake
// message this library accepts (64 KiB, twice that in hex), far below
// what would hurt.
const maxJSONLine = 4 << 20

// ReadJSONLines reads events written by a FormatJSON renderer, one per
// line, as `tlsflow view` replays a recorded file. Blank lines are skipped;
// unknown keys are ignored so newer files stay readable. An error names the
// line.
func ReadJSONLines(r io.Reader) ([]Event, error) {
	var events []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxJSONLine)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return events, fmt.Errorf("trace: JSON line %d: %w", n, err)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return events, fmt.Errorf("trace: JSON line %d: longer than %d bytes", n+1, maxJSONLine)
		}
		return events, fmt.Errorf("trace: reading JSON lines: %w", err)
	}
	return events, nil
}

// jsonRenderer writes FormatJSON.
type jsonRenderer struct {
	mu  sync.Mutex
	w   io.Writer
	opt Options
}

func (r *jsonRenderer) event(e Event) {
	if r.opt.skip(e) {
		return
	}
	if !r.opt.Secrets {
		e.Secret = nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(toLine(&e)); err != nil {
		return // only a Field could fail, and strings cannot
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Write(b.Bytes())
}
