package capture

import (
	"net/netip"
	"slices"
	"time"

	"github.com/tlsflow/tlsflow/internal/limits"
)

// tracker follows the TCP connections of a capture and hands each
// direction's bytes, in order, to the TLS observer of its connection.
type tracker struct {
	lim    *limits.Capture
	keyLog *KeyLog
	flows  map[flowKey]*flow
	conns  []*observer
	kept   int // raw bytes kept in events, for limits.Capture.KeptBytes
	held   int // bytes held out of order, for limits.Capture.OutOfOrder
	problems
	droppedFlows, droppedConns int
}

// flowKey names a TCP connection by its two ends, the lesser first.
type flowKey struct{ lo, hi netip.AddrPort }

func keyOf(src, dst netip.AddrPort) (flowKey, int) {
	if src.Compare(dst) <= 0 {
		return flowKey{src, dst}, 0
	}
	return flowKey{dst, src}, 1
}

// flow is one TCP connection: its two directions (from lo, from hi) and,
// once its first bytes are a ClientHello, the observer of its TLS.
type flow struct {
	key     flowKey
	dirs    [2]stream
	start   time.Time
	obs     *observer
	ignored bool // not TLS, or over a limit: its bytes are not read
}

// stream is one direction of a TCP connection, reassembled (RFC 9293
// §3.4: sequence numbers count bytes, modulo 2^32).
type stream struct {
	started bool
	next    uint32 // the sequence number of the next byte to read
	held    []heldSegment
	heldLen int // what held counts against limits.Capture.OutOfOrder
	read    int
	lost    bool // a gap or a limit: nothing more is read
}

type heldSegment struct {
	seq  uint32
	data []byte
	ts   time.Time
}

func newTracker(lim *limits.Capture, kl *KeyLog) *tracker {
	return &tracker{lim: lim, keyLog: kl, flows: map[flowKey]*flow{}}
}

func (t *tracker) problem(format string, args ...any) { t.add(format, args...) }

func (t *tracker) segment(seg segment) {
	key, dir := keyOf(seg.src, seg.dst)
	f := t.flows[key]
	if f != nil && seg.syn && !seg.ack && f.used() {
		// The same ends again: a new connection.
		t.close(f)
		f = nil
	}
	if f == nil {
		if len(t.flows) >= t.lim.Flows {
			t.droppedFlows++
			return
		}
		f = &flow{key: key, start: seg.ts}
		t.flows[key] = f
	}
	if f.ignored {
		return
	}
	s := &f.dirs[dir]
	seq := seg.seq
	if seg.syn {
		s.started, s.next = true, seg.seq+1
		seq++ // data on a SYN (TCP Fast Open) follows it
	}
	if len(seg.payload) == 0 || s.lost {
		return
	}
	if seg.incomplete {
		// The capture has only the start of this segment: what follows
		// in the stream cannot be read in order.
		t.lose(f, dir, "a segment cut short by the capture's snapshot length")
		return
	}
	if !s.started {
		s.started, s.next = true, seq // the capture began after the SYN
	}
	t.arrive(f, dir, seq, seg.payload, seg.ts)
}

// used reports whether the flow carried bytes.
func (f *flow) used() bool { return f.dirs[0].read > 0 || f.dirs[1].read > 0 || f.obs != nil }

// arrive places a segment's bytes in its direction's stream: in order,
// they are read at once, with whatever held segments follow; ahead of a
// missing segment, they wait, up to limits.Capture.OutOfOrder bytes over
// all connections, each segment counting heldOverhead bytes more.
func (t *tracker) arrive(f *flow, dir int, seq uint32, data []byte, ts time.Time) {
	s := &f.dirs[dir]
	ahead := int32(seq - s.next)
	if ahead > 0 {
		cost := len(data) + heldOverhead
		if t.held+cost > t.lim.OutOfOrder || len(s.held) >= t.lim.HeldSegments {
			t.lose(f, dir, "a segment missing from the capture (or more held out of order than limits.Capture.OutOfOrder or HeldSegments)")
			return
		}
		s.held = append(s.held, heldSegment{seq, slices.Clone(data), ts})
		s.heldLen += cost
		t.held += cost
		return
	}
	if -int(ahead) >= len(data) {
		return // a retransmission of bytes already read
	}
	t.deliver(f, dir, data[-ahead:], ts)
	for !s.lost && len(s.held) > 0 {
		i := slices.IndexFunc(s.held, func(h heldSegment) bool { return int32(h.seq-s.next) <= 0 })
		if i < 0 {
			return
		}
		h := s.held[i]
		s.held = slices.Delete(s.held, i, i+1)
		s.heldLen -= len(h.data) + heldOverhead
		t.held -= len(h.data) + heldOverhead
		if behind := int(int32(s.next - h.seq)); behind < len(h.data) {
			t.deliver(f, dir, h.data[behind:], h.ts)
		}
	}
}

// deliver reads in-order bytes: up to limits.Capture.StreamBytes per
// direction, into the connection's TLS observer.
func (t *tracker) deliver(f *flow, dir int, data []byte, ts time.Time) {
	s := &f.dirs[dir]
	s.next += uint32(len(data))
	if room := t.lim.StreamBytes - s.read; len(data) > room {
		data = data[:max(room, 0)]
		t.drop(s)
		s.lost = true
		if f.obs != nil {
			f.obs.stopped(f.obs.sideOf(dir), "the rest of this direction is not read: over limits.Capture.StreamBytes")
		}
	}
	s.read += len(data)
	if len(data) == 0 {
		return
	}
	if f.obs == nil && !t.startTLS(f, dir, data) {
		return
	}
	f.obs.feed(dir, data, ts)
}

// startTLS decides whether a flow is TLS, from its first bytes: a
// handshake record (RFC 8446 §5.1) beginning with a ClientHello, whose
// sender is the client. Anything else is not read further.
func (t *tracker) startTLS(f *flow, dir int, first []byte) bool {
	if !looksLikeClientHello(first) {
		t.ignore(f)
		return false
	}
	if len(t.conns) >= t.lim.Connections {
		t.droppedConns++
		t.ignore(f)
		return false
	}
	client, server := f.key.lo, f.key.hi
	if dir == 1 {
		client, server = server, client
	}
	f.obs = newObserver(t, client, server, dir, f.start)
	t.conns = append(t.conns, f.obs)
	return true
}

func looksLikeClientHello(b []byte) bool {
	return len(b) >= 6 && b[0] == 22 && b[1] == 3 && b[5] == 1
}

func (t *tracker) ignore(f *flow) {
	f.ignored = true
	t.drop(&f.dirs[0])
	t.drop(&f.dirs[1])
}

// drop forgets a direction's held segments.
func (t *tracker) drop(s *stream) {
	t.held -= s.heldLen
	s.held, s.heldLen = nil, 0
}

// heldOverhead is what a held segment costs beyond its bytes, so that a
// capture of many one-byte segments cannot hold more than it is allowed.
const heldOverhead = 64

// lose gives up on a direction at a gap it cannot fill.
func (t *tracker) lose(f *flow, dir int, why string) {
	s := &f.dirs[dir]
	s.lost = true
	t.drop(s)
	if f.obs != nil {
		f.obs.stopped(f.obs.sideOf(dir), "the rest of this direction is not read: "+why)
	}
}

// close ends a flow: a direction still waiting for a missing segment
// says so.
func (t *tracker) close(f *flow) {
	for dir := range f.dirs {
		if s := &f.dirs[dir]; !s.lost && len(s.held) > 0 {
			t.lose(f, dir, "a segment missing from the capture")
		}
	}
	if f.obs != nil {
		f.obs.finish()
	}
	delete(t.flows, f.key)
}

func (t *tracker) finish() *Capture {
	for _, f := range t.flows {
		if f.obs != nil && !f.obs.done {
			t.close(f)
		}
	}
	c := &Capture{}
	for _, o := range t.conns {
		if !o.done {
			o.finish()
		}
		c.Connections = append(c.Connections, o.conn)
	}
	if t.droppedFlows > 0 {
		t.problem("%d TCP segments not read: more than %d connections at once (limits.Capture.Flows)", t.droppedFlows, t.lim.Flows)
	}
	if t.droppedConns > 0 {
		t.problem("%d TLS connections not shown: more than %d (limits.Capture.Connections)", t.droppedConns, t.lim.Connections)
	}
	c.Problems = t.all()
	return c
}
