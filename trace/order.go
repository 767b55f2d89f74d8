package trace

// WireOrder puts the events of both ends of one connection in the order of
// the wire, whatever order the two sides' goroutines delivered them in: a
// hook shared by a client and a server sees their events interleaved by
// scheduling, which changes from run to run and can show a reply before
// the message it answers.
//
// Each side's own events keep their order, and a side goes on until it
// waits for the other: its flights stay together, and what it does right
// after sending something comes with it. Between the sides:
//   - something one side received comes after the other side sent it;
//   - the receiver takes each message at once, with what it does about it
//     (check a signature, derive keys) up to its next step on the wire, so
//     that a check follows the message it checks;
//   - a side's failure (its error, and the alert it sends for it) comes
//     after what the other side sent up to the failure's step: a record
//     that could not be read was sent before it failed.
//
// Both TCP connection events (step 0) come first, as the connection exists
// before any byte crosses it. The same two sequences of events always give
// the same order. Events of a single side come back unchanged. A received
// event without a matching sent one (the other side was not traced, or a
// man in the middle made the message unreadable) waits for nothing.
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
		if !m.ready(cur) {
			if m.ready(other) {
				cur = other
				continue
			}
			// Both wait for something the other has not sent: the two
			// sequences contradict each other (events were lost). Go on
			// with the one that waits for the earlier event.
			if m.pos[cur] >= len(lanes[cur]) || m.pos[other] < len(lanes[other]) &&
				m.next(other).Time.Before(m.next(cur).Time) {
				cur = other
			}
		}
		e := m.take(cur)
		out = append(out, e)
		k, ok := keyOf(e)
		if !ok || e.Direction != Sent {
			continue
		}
		// What the sender does right after sending goes with it.
		for m.ready(cur) && isDoing(m.next(cur)) {
			out = append(out, m.take(cur))
		}
		if !m.ready(other) {
			continue
		}
		if r := m.next(other); r.Direction != Received || r.Kind != k.kind || r.Message != k.message {
			continue
		}
		// The receiver takes it at once, and does what it does about it;
		// if that is to answer, and the sender's flight is over, the
		// answer comes next.
		out = append(out, m.take(other))
		for m.ready(other) && isDoing(m.next(other)) {
			out = append(out, m.take(other))
		}
		if m.ready(other) && m.next(other).Direction == Sent && isWire(m.next(other)) && !m.inFlight(cur) {
			cur = other
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

// isDoing reports whether e is something a side does about what it sent
// or received: keys, checks, the end of its handshake, an error, a note.
// Kinds this package does not know (a program's own lines in the
// timeline) wait for the side's turn.
func isDoing(e Event) bool {
	switch e.Kind {
	case KindKeys, KindVerified, KindHandshakeDone, KindError, KindNote:
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
// but a received event whose sending the other lane has yet to show, or a
// failure before the other lane sent what it failed on.
func (m *merger) ready(l int) bool {
	if m.pos[l] >= len(m.lanes[l]) {
		return false
	}
	e := m.next(l)
	if step, ok := m.failureStep(l); ok {
		return !m.sendsPending(1-l, step)
	}
	k, ok := keyOf(e)
	if !ok || e.Direction != Received {
		return true
	}
	n := m.received[l][k] + 1 // this is the n-th such event l received
	return m.sent[1-l][k] < n || m.emittedSent[1-l][k] >= n
}

// inFlight reports whether lane l's next thing on the wire continues its
// flight: another handshake message or ChangeCipherSpec it sends. Its
// application data and alerts do not; what it does meanwhile does not
// count.
func (m *merger) inFlight(l int) bool {
	for _, e := range m.lanes[l][m.pos[l]:] {
		if isWire(e) {
			return e.Direction == Sent && (e.Kind == KindMessage || e.Kind == KindChangeCipherSpec)
		}
	}
	return false
}

// failureStep says whether lane l's next event is part of a failure (the
// error, or the alert sent right before it), and the error's step.
func (m *merger) failureStep(l int) (int, bool) {
	lane, i := m.lanes[l], m.pos[l]
	if lane[i].Kind == KindAlert && lane[i].Direction == Sent && i+1 < len(lane) && lane[i+1].Kind == KindError {
		i++
	}
	if lane[i].Kind != KindError || lane[i].Step < 0 {
		return 0, false
	}
	return lane[i].Step, true
}

// sendsPending reports whether lane l has yet to show something it sent at
// a step up to step.
func (m *merger) sendsPending(l, step int) bool {
	for _, e := range m.lanes[l][m.pos[l]:] {
		if e.Direction == Sent && isWire(e) && e.Step >= 0 && e.Step <= step {
			return true
		}
	}
	return false
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
