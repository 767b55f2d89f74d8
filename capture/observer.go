package capture

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/trace"
)

// observer watches one TLS connection from the wire: it reads both
// directions' records, in the order the capture saw them, and turns them
// into the trace events the sender would have emitted.
type observer struct {
	t    *tracker
	conn *Connection
	// clientDir is the flow direction (0 or 1) the client sends in.
	clientDir int
	sides     [2]side // client, server
	now       time.Time

	clientRandom, serverRandom []byte
	suite                      *suites.Suite // nil before ServerHello, or a suite tlsflow does not implement
	group                      string        // the key exchange group, for the summary
	keysNoted                  bool          // the key log note was emitted
	eventsFull, rawFull        bool
	done                       bool
}

// side is what the observer knows of one sender.
type side struct {
	who     trace.Side
	records recordSplitter
	hs      record.HandshakeBuffer
	// protected: this sender's records are encrypted from here on (TLS
	// 1.2: after its ChangeCipherSpec; TLS 1.3: after the ServerHello).
	protected bool
	// cipher opens them; nil when there is no key (then they are shown
	// as encrypted records).
	cipher record.Cipher
	// next is the TLS 1.2 cipher its ChangeCipherSpec turns on.
	next record.Cipher
	// secret is the TLS 1.3 traffic secret in use, for KeyUpdate.
	secret []byte
	// why says why its records are not decrypted.
	why string
	// opaque is the index of the event that counts its latest run of
	// encrypted records, -1 if the last event is another.
	opaque   int
	finished bool // its Finished was read
	// sealedFinished: a TLS 1.2 ChangeCipherSpec without keys was read,
	// so its next record is its Finished, encrypted.
	sealedFinished bool
	appData        bool // its first application data was shown
	stop           bool // nothing more is read from it
}

const (
	clientSide = 0
	serverSide = 1
)

func newObserver(t *tracker, client, server netip.AddrPort, clientDir int, start time.Time) *observer {
	o := &observer{t: t, conn: &Connection{Client: client, Server: server, Start: start}, clientDir: clientDir, now: start}
	o.sides[clientSide] = side{who: trace.Client, opaque: -1}
	o.sides[serverSide] = side{who: trace.Server, opaque: -1}
	// Step 0, as the client's Conn traces it.
	o.emit(trace.Event{Side: trace.Client, Kind: trace.KindConnect, Direction: trace.Local, Step: 0, Fields: []trace.Field{
		{Name: "local", Value: client.String()},
		{Name: "remote", Value: server.String()},
	}})
	return o
}

// sideOf is the side that sends in flow direction dir.
func (o *observer) sideOf(dir int) int {
	if dir == o.clientDir {
		return clientSide
	}
	return serverSide
}

// feed reads bytes that arrived in order in flow direction dir.
func (o *observer) feed(dir int, data []byte, ts time.Time) {
	s := o.sideOf(dir)
	if o.sides[s].stop || o.done {
		return
	}
	o.now = ts
	err := o.sides[s].records.split(data, func(hdr, body []byte) {
		if !o.sides[s].stop {
			o.record(s, record.ContentType(hdr[0]), hdr, body)
		}
	})
	if err != nil {
		o.stopped(s, err.Error())
	}
}

// stopped notes that nothing more is read from side s, and why.
func (o *observer) stopped(s int, why string) {
	if o.sides[s].stop {
		return
	}
	o.sides[s].stop = true
	o.note(s, "not read further", "reason", why)
}

// record handles one record of side s.
func (o *observer) record(s int, typ record.ContentType, hdr, body []byte) {
	sd := &o.sides[s]
	tls13 := o.version() == suites.VersionTLS13
	if typ == record.ChangeCipherSpec {
		o.emit(trace.Event{Side: sd.who, Kind: trace.KindChangeCipherSpec, Direction: trace.Sent, Step: 6, Message: "ChangeCipherSpec"})
		if !tls13 {
			sd.protected, sd.cipher = true, sd.next
			if sd.cipher == nil {
				// Its Finished follows, unreadable: the ChangeCipherSpec
				// is all there is to go by.
				sd.why = o.noKeys()
				sd.finished, sd.sealedFinished = true, true
				o.handshakeDone(s)
			}
		}
		return
	}
	// Before the hellos have chosen a version, application data can only
	// be a client's 0-RTT data, encrypted with keys of its own.
	early := typ == record.ApplicationData && o.conn.Version == 0
	if early || sd.protected && (!tls13 || typ == record.ApplicationData) {
		if sd.cipher == nil {
			why := sd.why
			if early {
				why = "0-RTT data (not decrypted by this reader)"
			}
			o.opaque(s, len(body), why)
			return
		}
		sealed := append([]byte(nil), body...) // Open decrypts in place
		inner, plain, err := sd.cipher.Open(hdr, sealed)
		if err != nil {
			sd.cipher = nil
			sd.why = "the key log's keys do not open it: " + err.Error()
			o.opaque(s, len(body), sd.why)
			return
		}
		typ, body = inner, plain
	}
	sd.opaque = -1
	switch typ {
	case record.Handshake:
		sd.hs.Add(body)
		for !sd.stop {
			msg, ok, err := sd.hs.Next()
			if err != nil {
				o.stopped(s, "handshake message: "+err.Error())
				return
			}
			if !ok {
				break
			}
			o.message(s, msg)
		}
		sd.hs.Release()
	case record.Alert:
		o.alert(s, body)
	case record.ApplicationData:
		if sd.appData || len(body) == 0 {
			return
		}
		sd.appData = true
		shown := body[:min(len(body), appDataShown)]
		o.emit(trace.Event{Side: sd.who, Kind: trace.KindApplicationData, Direction: trace.Sent, Step: 8,
			Fields: []trace.Field{
				{Name: "length", Value: strconv.Itoa(len(body))},
				{Name: "data", Value: printable(shown)},
			},
			Raw: append([]byte(nil), shown...)})
	default:
		o.note(s, "record", "content_type", typ.String(), "length", strconv.Itoa(len(body)))
	}
}

// appDataShown is how much of the first application data in each
// direction an event keeps: the start, to see which protocol it is.
const appDataShown = 256

// printable shows the start of application data as text, non-printing
// bytes as dots, at most 64 characters.
func printable(b []byte) string {
	b = b[:min(len(b), 64)]
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// alert shows an alert record (RFC 8446 §6, RFC 5246 §7.2).
func (o *observer) alert(s int, body []byte) {
	if len(body) != 2 {
		o.note(s, "record", "content_type", "alert", "length", strconv.Itoa(len(body)))
		return
	}
	level := "fatal"
	switch alert.Level(body[0]) {
	case alert.LevelWarning:
		level = "warning"
	case alert.LevelFatal:
	default:
		level = fmt.Sprintf("level(%d)", body[0])
	}
	o.emit(trace.Event{Side: o.sides[s].who, Kind: trace.KindAlert, Direction: trace.Sent, Step: -1,
		Message: alert.Alert(body[1]).String(), Fields: []trace.Field{{Name: "level", Value: level}}})
}

// opaque counts a record that stays encrypted; a run of them from one side
// is one event.
func (o *observer) opaque(s int, n int, why string) {
	sd := &o.sides[s]
	if sd.opaque >= 0 && sd.opaque == len(o.conn.Events)-1 {
		e := &o.conn.Events[sd.opaque]
		records, _ := strconv.Atoi(e.Field("records"))
		bytes, _ := strconv.Atoi(e.Field("length"))
		e.Fields[0].Value = strconv.Itoa(records + 1)
		e.Fields[1].Value = strconv.Itoa(bytes + n)
		return
	}
	step := -1
	if sd.sealedFinished {
		step, sd.sealedFinished = 7, false
	}
	if !o.emit(trace.Event{Side: sd.who, Kind: trace.KindMessage, Direction: trace.Sent, Step: step, Message: "encrypted records",
		Fields: []trace.Field{
			{Name: "records", Value: "1"},
			{Name: "length", Value: strconv.Itoa(n)},
			{Name: "reason", Value: why},
		}}) {
		return
	}
	sd.opaque = len(o.conn.Events) - 1
}

// note emits an observation about side s.
func (o *observer) note(s int, message string, kv ...string) {
	e := trace.Event{Side: o.sides[s].who, Kind: trace.KindNote, Direction: trace.Local, Step: -1, Message: message}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Fields = append(e.Fields, trace.Field{Name: kv[i], Value: kv[i+1]})
	}
	o.emit(e)
}

// emit adds an event at the time of the packet being read, within
// limits.Capture.Events per connection and KeptBytes of raw bytes per
// capture. It reports whether the event was kept.
func (o *observer) emit(e trace.Event) bool {
	if len(o.conn.Events) >= o.t.lim.Events {
		if !o.eventsFull {
			o.eventsFull = true
			o.t.problem("connection %s → %s: events past %d not shown (limits.Capture.Events)", o.conn.Client, o.conn.Server, o.t.lim.Events)
		}
		return false
	}
	if o.t.kept+len(e.Raw) > o.t.lim.KeptBytes {
		e.Raw = nil
		if !o.rawFull {
			o.rawFull = true
			o.t.problem("raw bytes past %d not kept (limits.Capture.KeptBytes)", o.t.lim.KeptBytes)
		}
	}
	o.t.kept += len(e.Raw)
	e.Time = o.now
	if e.Version == 0 {
		e.Version = o.conn.Version
	}
	o.conn.Events = append(o.conn.Events, e)
	return true
}

func (o *observer) version() uint16 { return o.conn.Version }

// finish ends the connection: the sides' partial messages are left, the
// secrets dropped.
func (o *observer) finish() {
	o.done = true
	for i := range o.sides {
		sd := &o.sides[i]
		if !sd.stop && !sd.hs.Empty() {
			o.note(i, "not read further", "reason", "the capture ends inside a handshake message")
		}
		sd.cipher, sd.next, sd.secret = nil, nil, nil
		sd.hs.Release()
		sd.records = recordSplitter{}
	}
}
