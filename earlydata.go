package tlsflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/trace"
)

// 0-RTT early data (RFC 8446 §2.3, §4.2.10, §8) on TCP.
//
// A client resuming a TLS 1.3 session whose ticket allows it writes early
// data with WriteEarlyData before the handshake; a server whose Config sets
// MaxEarlyData reads it with ReadEarlyData before the handshake completes.
// Both are explicit calls: Handshake, Read and Write never send or deliver
// early data, so an application that does nothing new gets none, and what
// ReadEarlyData returns is never mixed with Read's 1-RTT data.
//
// The handshake pauses for them: the client's after its ClientHello (the
// early data goes right behind it), the server's each time early data
// arrives and once more at the client's EndOfEarlyData. Handshake, Read or
// Write go on from there.

// EarlyDataFreshness is how far a ClientHello's ticket age may be from the
// server's clock for its 0-RTT data to be read (RFC 8446 §8.3). It covers
// the round trip and the client's clock rate; a copy of a ClientHello passes
// it for at most twice as long after the original, and the server remembers
// each ClientHello it read early data from for that long (§8.2).
const EarlyDataFreshness = 10 * time.Second

// ErrNoEarlyData is WriteEarlyData's error when this connection cannot send
// 0-RTT data: no cached session whose ticket allows it (see the trace's
// "early data not offered" note for why), or a Config without the session's
// ALPN protocol. The handshake has not failed: Write sends the data after it.
var ErrNoEarlyData = errors.New("tlsflow: no 0-RTT on this connection: no cached TLS 1.3 session whose ticket allows early data")

// errEarlyPause is runHandshake's word for "stopped at a 0-RTT point".
var errEarlyPause = errors.New("tlsflow: handshake paused for early data")

// earlyTimeout is runHandshake's word for "a read deadline passed while a
// server that took early data waited for the client's second flight
// (EndOfEarlyData, Finished)". The handshake stays paused there, and the
// deadline's error goes to the caller, as a deadline in Read after the
// handshake does: the application has been reading data since the first
// early record, and a deadline it sets to interrupt such a read (net/http
// does so after each request, to stop its background read) must not end
// the connection. Another call goes on where the handshake stopped; the
// handshake is bounded all the same by Config.HandshakeTimeout, which
// closes the connection.
type earlyTimeout struct{ err error }

func (e *earlyTimeout) Error() string { return e.err.Error() }
func (e *earlyTimeout) Unwrap() error { return e.err }

// waitsForSecondFlight: a server that took early data has not read the
// client's Finished yet. c.in is held.
func (c *Conn) waitsForSecondFlight() bool {
	return !c.isClient && (c.early.reading || c.early.ended)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// earlyState is a connection's 0-RTT state. want and stop are set under
// handshakeMu; the client's open, max and used under c.out; the server's
// reading, data and got under c.in (the handshake holds both while it
// applies actions).
type earlyState struct {
	want bool // the application asked for 0-RTT (WriteEarlyData, ReadEarlyData)
	stop bool // the handshake under way stops at the next 0-RTT point
	// paused: the handshake stopped at one; c.engine waits to go on.
	paused bool
	// halfRTT: a server that took early data may write (its application
	// keys are in place, RFC 8446 §4.4.4's 0.5-RTT data), from its first
	// pause until the handshake ends: also while another goroutine's Read
	// goes on with the handshake, which writes nothing more until the
	// client's Finished has come (then, tickets under the same key).
	halfRTT atomic.Bool
	max     int

	// Client: open while early data may be written, used so far.
	open       bool
	used       int
	clientSeen bool // the client's one 0-RTT point has passed

	// Server: reading while the records read are early data; data read
	// and not yet returned; got in all; fresh: news since the last pause.
	reading bool
	ended   bool
	data    []byte
	got     int
	fresh   bool
}

// point reports whether the handshake is at a 0-RTT point to pause at.
func (e *earlyState) point(isClient bool) bool {
	if isClient {
		if e.clientSeen {
			return false
		}
		e.clientSeen = true
		return true
	}
	if e.fresh {
		e.fresh = false
		return true
	}
	return false
}

func (e *earlyState) pause(isClient bool) {
	e.paused = true
	if !isClient && (e.reading || e.ended) {
		e.halfRTT.Store(true)
	}
}

func (e *earlyState) resume() {
	e.paused = false
}

// pauseEarly stops the handshake at a 0-RTT point, keeping what it has
// negotiated for ConnectionState. c.handshakeMu and c.in are held.
func (c *Conn) pauseEarly(eng handshake.Engine) {
	c.early.pause(c.isClient)
	view := c.connectionState(eng.State(), false)
	c.pausedView.Store(&view)
}

// endReading: a new read key ends the server's early data (the client's
// EndOfEarlyData came).
func (e *earlyState) endReading() {
	if e.reading {
		e.reading, e.ended, e.fresh = false, true, true
	}
}

// takeEarlyData keeps a record of early data for ReadEarlyData, within
// max_early_data_size ("If the server ... receives more than
// max_early_data_size bytes of 0-RTT data, it SHOULD abort the handshake
// with an "unexpected_message" alert", RFC 8446 §4.2.10). c.in is held.
func (c *Conn) takeEarlyData(p []byte) error {
	e := &c.early
	e.got += len(p)
	if e.got > e.max {
		return alert.Errorf(alert.UnexpectedMessage, 1, "early data",
			"%d bytes of early data, more than max_early_data_size (%d, RFC 8446 §4.2.10)", e.got, e.max)
	}
	if len(p) == 0 {
		return nil
	}
	if len(e.data) == 0 && e.got == len(p) {
		c.emitEarlyData(trace.Received, len(p))
	}
	e.data = append(e.data, p...)
	e.fresh = true
	return nil
}

// emitEarlyData traces the first early data each way; the note's text
// (trace/lang.go) carries the replay warning.
func (c *Conn) emitEarlyData(dir trace.Direction, n int) {
	c.emit(trace.Event{Kind: trace.KindNote, Direction: dir, Step: 1, Message: "early data",
		Fields: []trace.Field{{Name: "length", Value: strconv.Itoa(n)}}})
}

// WriteEarlyData sends b as 0-RTT data (client, TLS 1.3): it starts the
// handshake if it has not started, and writes b right behind the
// ClientHello, under keys from the cached session it resumes. Call it
// before Handshake, Read or Write; it may be called more than once, within
// the session's max_early_data_size.
//
// Calling it declares b safe to replay: anyone who copies the client's
// first flight can send it to the server again, and the server may act on
// it before the handshake authenticates anything (RFC 8446 §8). Send only
// requests whose repetition does no harm (a GET, not a payment).
//
// Without a session that allows early data it returns ErrNoEarlyData and
// sends nothing. After the handshake, ConnectionState().EarlyDataAccepted
// says whether the server read it; if not, the application may send it
// again with Write (tlsflow never does so on its own, RFC 8446 §4.2.10).
func (c *Conn) WriteEarlyData(b []byte) (int, error) {
	if !c.isClient {
		return 0, errors.New("tlsflow: WriteEarlyData is for clients")
	}
	paused, err := c.handshakeTo(context.Background(), true)
	if err != nil {
		return 0, err
	}
	if !paused {
		return 0, errors.New("tlsflow: WriteEarlyData after the handshake: 0-RTT data goes before it")
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.out.err != nil {
		return 0, c.out.err
	}
	e := &c.early
	if !e.open {
		return 0, ErrNoEarlyData
	}
	if e.used+len(b) > e.max {
		return 0, fmt.Errorf("tlsflow: %d bytes of early data in all would exceed the session's max_early_data_size of %d", e.used+len(b), e.max)
	}
	if len(b) == 0 {
		return 0, nil
	}
	if e.used == 0 {
		c.emitEarlyData(trace.Sent, len(b))
	}
	for n := 0; n < len(b); {
		chunk := b[n:min(len(b), n+record.MaxPlaintext)]
		if err := c.out.w.WriteRecord(record.ApplicationData, chunk); err != nil {
			c.out.err = err
			return n, err
		}
		n += len(chunk)
		e.used += len(chunk)
	}
	if err := c.out.w.Flush(); err != nil {
		c.out.err = err
		return 0, err
	}
	return len(b), nil
}

// ReadEarlyData reads the client's 0-RTT data (server, TLS 1.3, with
// Config.MaxEarlyData set): it starts the handshake if it has not started,
// and returns early data as it arrives, before the handshake completes;
// io.EOF once the client's early data is over, or when there is none
// (not offered, or not accepted: ConnectionState().EarlyDataAccepted
// says which after the handshake). Call it before Handshake, Read or
// Write: a server that does not call it never accepts 0-RTT. Read returns
// only the 1-RTT data that follows.
//
// Early data comes from a client that has not finished the handshake, and
// may be a replay. tlsflow reads it only on a resumption of its own ticket,
// under the ticket's suite and ALPN protocol, from a ClientHello whose
// ticket age is within EarlyDataFreshness of the server's clock and which
// the server has not read early data from before (RFC 8446 §8.2, §8.3:
// a memory of the PSK binders, shared by the Config and its clones, of
// bounded size; when full, 0-RTT is refused). That stops copies sent to
// this server; it cannot stop a copy sent to another server that shares
// the ticket keys but not this memory. Act on early data only where a
// repetition does no harm, and answer anything else after the handshake
// (HTTP: 425 Too Early, RFC 8470).
//
// Once early data has come, and until the handshake ends, Write sends
// 0.5-RTT data (RFC 8446 §4.4.4) without waiting for the handshake, also
// while another goroutine's Read or Handshake goes on with it: to a client
// not yet authenticated. ConnectionState meanwhile says what was
// negotiated, HandshakeComplete false, without waiting either.
//
// From the first early record to the client's Finished, a read deadline
// (SetReadDeadline) that passes in ReadEarlyData, Read or Handshake
// returns a timeout and leaves the connection usable, as one in Read after
// the handshake does: the next call goes on where the handshake stopped.
// Config.HandshakeTimeout bounds the handshake all the same. Before that
// stretch, and on a handshake without early data, a deadline ends the
// handshake.
func (c *Conn) ReadEarlyData(b []byte) (int, error) {
	if c.isClient {
		return 0, errors.New("tlsflow: ReadEarlyData is for servers")
	}
	for {
		c.in.Lock()
		if len(c.early.data) > 0 {
			n := copy(b, c.early.data)
			c.early.data = c.early.data[n:]
			if len(c.early.data) == 0 {
				c.early.data = nil
			}
			c.in.Unlock()
			return n, nil
		}
		over := c.early.ended
		c.in.Unlock()
		if over || c.handshakeDone.Load() {
			return 0, io.EOF
		}
		paused, err := c.handshakeTo(context.Background(), true)
		if err != nil {
			return 0, err
		}
		if !paused {
			continue // complete: what came is buffered, or there was none
		}
	}
}

// replayWindow is the server's memory of the ClientHellos it read 0-RTT
// data from, made on first use.
func (s *serverSessions) replayWindow(p *limits.Policy) *session.ReplayWindow {
	s.replayOnce.Do(func() {
		s.replay = &session.ReplayWindow{Window: EarlyDataFreshness, Max: p.ReplayBinders}
	})
	return s.replay
}
