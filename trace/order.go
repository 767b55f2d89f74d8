package trace

// WireOrder puts the events of both ends of one connection in the order of
// the wire, whatever order the two sides' goroutines delivered them in: a
// hook shared by a client and a server sees their events interleaved by
// scheduling, which changes from run to run and can show a reply before
// the message it answers.
//
// Each side's own events keep their order. Between the sides, a message
// (or ChangeCipherSpec, alert, first application data) that one side
// received comes after the other side sent it, and the receiver reacts at
// once: after a side sends something and has done what it does right after
// (derive keys, complete the handshake), the other side takes over if it
// can go on. So a flight reads message by message, each followed by the
// peer's checks of it, and the result is the same for the same two
// sequences of events. Both TCP connection events (step 0) come first, as
// the connection exists before any byte crosses it.
//
// Events of a single side come back unchanged. A received event without a
// matching sent one (the other side was not traced, or a man in the middle
// made the message unreadable) waits for nothing.
func WireOrder(events []Event) []Event {
	out := make([]Event, 0, len(events))
	var lanes [2][]Event
	for _, e := range events {
		if e.Kind == KindConnect {
			continue
		}
		lanes[laneOf(e.Side)] = append(lanes[laneOf(e.Side)], e)
	}
	for _, side := range []Side{Client, Server} {
		for _, e := range events {
			if e.Kind == KindConnect && laneOf(e.Side) == laneOf(side) {
				out = append(out, e)
			}
		}
	}
	if len(lanes[0]) == 0 || len(lanes[1]) == 0 {
		out = append(out, lanes[0]...)
		return append(out, lanes[1]...)
	}

	m := merger{lanes: lanes, sent: [2]map[wireKey]int{{}, {}}, emittedSent: [2]map[wireKey]int{{}, {}}, received: [2]map[wireKey]int{{}, {}}}
	for l, lane := range lanes {
		for _, e := range lane {
			if k, ok := keyOf(e); ok && e.Direction == Sent {
				m.sent[l][k]++
			}
		}
	}
	cur := 0 // the client speaks first
	for m.pos[0] < len(lanes[0]) || m.pos[1] < len(lanes[1]) {
		other := 1 - cur
		switch {
		case m.ready(cur):
			e := m.take(cur)
			out = append(out, e)
			if e.Direction != Sent || !isWire(e) {
				continue
			}
			// What the sender does right after sending goes with it.
			for m.ready(cur) && !isWire(m.next(cur)) {
				out = append(out, m.take(cur))
			}
			if m.ready(other) {
				cur = other
			}
		case m.ready(other):
			cur = other
		default:
			// Both wait for something the other has not sent: the two
			// sequences contradict each other (events were lost). Go on
			// with the one that waits for the earlier event.
			if m.pos[cur] >= len(lanes[cur]) || m.pos[other] < len(lanes[other]) &&
				m.next(other).Time.Before(m.next(cur).Time) {
				cur = other
			}
			out = append(out, m.take(cur))
		}
	}
	return out
}

// wireKey names what crossed the wire: a message, ChangeCipherSpec, an
// alert or the first application data in a direction.
type wireKey struct {
	kind    Kind
	message string
}

func keyOf(e Event) (wireKey, bool) {
	if !isWire(e) || (e.Direction != Sent && e.Direction != Received) {
		return wireKey{}, false
	}
	return wireKey{e.Kind, e.Message}, true
}

func isWire(e Event) bool {
	switch e.Kind {
	case KindMessage, KindChangeCipherSpec, KindAlert, KindApplicationData:
		return true
	}
	return false
}

func laneOf(s Side) int {
	if s == Server {
		return 1
	}
	return 0
}

type merger struct {
	lanes [2][]Event
	pos   [2]int
	// sent counts each side's sent events by key; emittedSent those of
	// them already in the output; received the received events taken.
	sent, emittedSent, received [2]map[wireKey]int
}

func (m *merger) next(l int) Event { return m.lanes[l][m.pos[l]] }

// ready reports whether lane l has an event that may come now: anything
// but a received event whose sending the other lane has yet to show.
func (m *merger) ready(l int) bool {
	if m.pos[l] >= len(m.lanes[l]) {
		return false
	}
	e := m.next(l)
	k, ok := keyOf(e)
	if !ok || e.Direction != Received {
		return true
	}
	n := m.received[l][k] + 1 // this is the n-th such event l received
	return m.sent[1-l][k] < n || m.emittedSent[1-l][k] >= n
}

func (m *merger) take(l int) Event {
	e := m.next(l)
	m.pos[l]++
	if k, ok := keyOf(e); ok {
		if e.Direction == Sent {
			m.emittedSent[l][k]++
		} else {
			m.received[l][k]++
		}
	}
	return e
}
