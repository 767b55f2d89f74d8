package tlsflow

import (
	"errors"
	"io"
	"strconv"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// readRecordLocked reads one record and deals with it. During the
// handshake, handshake and ChangeCipherSpec records go to duringHandshake;
// afterwards application data goes to c.in.pending. A failure is stored in
// c.in.err (and answered with an alert where one is due), except a read
// deadline, which is returned and leaves the connection usable. c.in is held.
func (c *Conn) readRecordLocked(duringHandshake func(record.ContentType, []byte) error) (timeout error) {
	typ, payload, err := c.in.r.ReadRecord()
	if err != nil {
		if duringHandshake != nil && c.skipEarlyData(errors.Is(err, record.ErrBadRecordMAC)) {
			return nil
		}
		if isTimeout(err) {
			return err
		}
		c.readFailed(c.recordError(err, duringHandshake != nil))
		return nil
	}
	if typ == record.ApplicationData && duringHandshake != nil && c.skipEarlyData(true) {
		return nil // after a HelloRetryRequest, early data arrives as plaintext-looking records
	}
	if typ != record.ChangeCipherSpec && typ != record.Alert {
		// The first record that is not early data is the start of the
		// client's second flight; skipping ends there (RFC 8446 §4.2.10),
		// so 0-RTT records interleaved later are errors.
		c.in.earlySkip = 0
	}
	if typ == record.ApplicationData {
		// Warnings, like empty records and KeyUpdates, are bounded
		// between records of application data (limits.Policy): a run
		// of them carries nothing, and anything but data between them
		// must not start the count again.
		c.in.warns = 0
	}
	if typ != record.Handshake && !c.in.hs.Empty() {
		c.readFailed(alert.Errorf(alert.UnexpectedMessage, -1, "", "%s record inside a fragmented handshake message", typ))
		return nil
	}
	switch typ {
	case record.Alert:
		err = c.handleAlert(payload, duringHandshake != nil)
	case record.ChangeCipherSpec:
		if len(payload) != 1 || payload[0] != 1 {
			err = alert.Errorf(alert.DecodeError, 6, "ChangeCipherSpec", "malformed ChangeCipherSpec record")
		} else if duringHandshake == nil {
			err = alert.Errorf(alert.UnexpectedMessage, 6, "ChangeCipherSpec", "ChangeCipherSpec after the handshake")
		} else {
			err = duringHandshake(typ, payload)
		}
	case record.Handshake:
		if duringHandshake != nil {
			err = duringHandshake(typ, payload)
		} else {
			err = c.handlePostHandshake(payload)
		}
	case record.ApplicationData:
		if duringHandshake != nil {
			err = duringHandshake(typ, payload)
			break
		}
		if !c.in.seenApp && len(payload) > 0 {
			c.in.seenApp = true
			if c.config.Trace != nil { // the fields cost an allocation
				c.emit(trace.Event{Kind: trace.KindApplicationData, Direction: trace.Received, Step: 8,
					Fields: []trace.Field{{Name: "length", Value: strconv.Itoa(len(payload))}}})
			}
		}
		c.in.pending = payload
		c.in.keyUpdates = 0
	default:
		err = alert.Errorf(alert.UnexpectedMessage, -1, "", "record of unknown content type %d", typ)
	}
	if err != nil {
		c.readFailed(err)
	}
	return nil
}

// skipEarlyData reports whether the record just read is rejected 0-RTT
// data to drop: the client announced early data, this record could not be
// read with the handshake keys (or came as application data before them),
// and the budget is not spent.
func (c *Conn) skipEarlyData(undecryptable bool) bool {
	if !undecryptable || c.in.earlySkip <= 0 {
		return false
	}
	c.in.earlySkip -= c.in.r.LastRecordLen()
	return c.in.earlySkip >= 0
}

// readFailed records a read error, answering with an alert if one is due.
func (c *Conn) readFailed(err error) {
	if c.in.err != nil {
		return
	}
	c.in.err = err
	if endedByFatalAlert(err) {
		c.forgetSessions()
	}
	if c.handshakeDone.Load() && err != io.EOF {
		// During the handshake, handshakeFailed traces the error; after
		// it, this is the one place a connection ends.
		c.emit(trace.Event{Kind: trace.KindError, Direction: trace.Local, Step: stepOf(err), Message: errMessage(err),
			Err: err, Fields: errorFields(err)})
	}
	var ae *alert.Error
	if errors.As(err, &ae) && !ae.Received && !ae.Local && !ae.Warning && ae.Alert != alert.CloseNotify {
		c.out.Lock()
		if c.out.err == nil {
			c.sendFatalAlertLocked(ae.Alert)
			c.out.err = err
		}
		c.out.Unlock()
	} else if ae != nil && ae.Received && ae.Alert != alert.CloseNotify {
		// The peer ended the connection with a fatal alert: nothing more
		// may be sent, not even close_notify (RFC 8446 §6.2).
		c.out.Lock()
		if c.out.err == nil {
			c.out.err = err
		}
		c.out.Unlock()
	}
}

// recordError turns a record layer failure into the alert it calls for.
// A TCP close at a record boundary is a clean end only after close_notify;
// without it the data may have been truncated by an attacker.
func (c *Conn) recordError(err error, duringHandshake bool) error {
	var re *record.Error
	switch {
	case errors.As(err, &re) && errors.Is(err, record.ErrNotTLS):
		// A peer that does not speak TLS would not read an alert either:
		// nothing is sent (Local), and the connection is left for the
		// caller to answer in the peer's protocol (RecordHeaderError).
		return &alert.Error{Alert: re.Alert, Local: true, Step: -1, Reason: re.Error(),
			Err: &notTLSError{msg: re.Reason, header: re.Header, err: err}}
	case errors.As(err, &re) && !duringHandshake:
		// After the handshake every record is step 8's: the engine that
		// could say more is gone, and has nothing to add.
		return &alert.Error{Alert: alert.Alert(re.Alert), Step: 8, Reason: re.Error(), Err: err}
	case errors.As(err, &re):
		return &alert.Error{Alert: alert.Alert(re.Alert), Step: -1, Reason: re.Error(), Err: err}
	case errors.Is(err, io.EOF):
		if duringHandshake {
			return &alert.Error{Alert: alert.CloseNotify, Received: true, Step: -1,
				Reason: "the peer closed the connection during the handshake", Err: io.ErrUnexpectedEOF}
		}
		return &alert.Error{Alert: alert.CloseNotify, Received: true, Step: 8,
			Reason: "the peer closed TCP without close_notify: the data may be truncated", Err: io.ErrUnexpectedEOF}
	case errors.Is(err, io.ErrUnexpectedEOF):
		step := -1 // placed by the engine during the handshake
		if !duringHandshake {
			step = 8
		}
		return &alert.Error{Alert: alert.CloseNotify, Received: true, Step: step,
			Reason: "the connection ended inside a record", Err: io.ErrUnexpectedEOF}
	}
	return err // the network's own error: no alert can be sent over a broken connection
}

// notTLSError is a first record header that is not TLS, kept until
// publicError turns it into a RecordHeaderError.
type notTLSError struct {
	msg    string
	header [5]byte
	err    error
}

func (e *notTLSError) Error() string { return e.err.Error() }
func (e *notTLSError) Unwrap() error { return e.err }

// handleAlert acts on a received alert: close_notify ends the data stream
// cleanly; TLS 1.2 warnings and user_canceled are skipped (a bounded number
// in a row); every other alert is fatal.
func (c *Conn) handleAlert(payload []byte, duringHandshake bool) error {
	if len(payload) != 2 {
		return alert.Errorf(alert.DecodeError, -1, "Alert", "alert record of %d bytes", len(payload))
	}
	level, a := alert.Level(payload[0]), alert.Alert(payload[1])
	if level != alert.LevelWarning && level != alert.LevelFatal {
		// AlertLevel is warning(1) or fatal(2) (RFC 5246 §7.2, RFC 8446 §6).
		return alert.Errorf(alert.IllegalParameter, -1, "Alert", "alert level %d is neither warning nor fatal", level)
	}
	c.emit(trace.Event{Kind: trace.KindAlert, Direction: trace.Received, Step: -1, Message: a.String(),
		Fields: []trace.Field{{Name: "level", Value: levelName(level)}}})
	if a == alert.CloseNotify {
		if duringHandshake {
			return &alert.Error{Alert: a, Received: true, Step: -1, Reason: "the peer closed the connection during the handshake"}
		}
		return io.EOF
	}
	// user_canceled is a closure alert, not an error, in both versions
	// (RFC 8446 §6.1, RFC 5246 §7.2.1): what follows it (close_notify, or
	// for some peers more data) decides.
	if (level == alert.LevelWarning && c.in.version != 0x0304) || a == alert.UserCanceled {
		c.in.warns++
		if c.in.warns > c.config.limitPolicy().WarningAlerts {
			return alert.Errorf(alert.UnexpectedMessage, -1, "Alert", "too many warning alerts in a row")
		}
		return nil
	}
	e := &alert.Error{Alert: a, Received: true, Step: -1, Reason: "the peer sent a fatal alert"}
	if !duringHandshake {
		// During the handshake the engine knows where we were; after it,
		// see placeAlertAfterHandshake.
		e.Step, e.Message = c.placeAlertAfterHandshake(a)
		c.diagnose(e)
	}
	return e
}

// placeAlertAfterHandshake says where a fatal alert that came after our
// handshake was complete belongs. A peer whose Finished we checked had
// checked ours before sending it (TLS 1.2 full handshake: the server's
// Finished comes second; TLS 1.3 and TLS 1.2 resumption: the client's),
// so its alert is about step 8. The side that sent the last Finished may
// hear the peer's verdict on it after its own handshake is complete (a
// TLS 1.3 server judges the client's certificate then): until the peer
// sends data, an alert is about that Finished (step 7), unless it says a
// record of ours failed and we have sent data since, which it may be about
// just as well.
func (c *Conn) placeAlertAfterHandshake(a alert.Alert) (step int, message string) {
	sentLastFinished := c.isClient == (c.state.Version == VersionTLS13 || c.state.DidResume)
	switch {
	case c.in.seenApp || !sentLastFinished:
		return 8, "application data"
	case c.out.sentApp.Load() && (a == alert.BadRecordMAC || a == alert.RecordOverflow):
		return 8, "after Finished and application data"
	}
	return 7, "after Finished"
}

// handlePostHandshake deals with handshake records after the handshake:
// TLS 1.3 messages go to the engine; in TLS 1.2, tlsflow never renegotiates
// (RFC 5746): a HelloRequest or a new ClientHello is refused with
// no_renegotiation, which "is always a warning" (RFC 5246 §7.2.2), and the
// connection ends here, without a fatal alert after it, as BoringSSL and
// crypto/tls do: a peer that insists would otherwise wait for a handshake
// that never comes.
func (c *Conn) handlePostHandshake(payload []byte) error {
	c.in.hs.Add(payload)
	for {
		msg, ok, err := c.in.hs.Next()
		if err != nil {
			return c.recordError(err, false)
		}
		if !ok {
			return nil
		}
		if c.post != nil {
			if err := c.postHandshake13(msg); err != nil {
				return err
			}
			continue
		}
		t := wire.HandshakeType(msg[0])
		if (c.isClient && t == wire.TypeHelloRequest) || (!c.isClient && t == wire.TypeClientHello) {
			return c.refuseRenegotiation(t)
		}
		return alert.Errorf(alert.UnexpectedMessage, -1, t.String(), "unexpected %s after the handshake", t)
	}
}

// refuseRenegotiation answers a request to renegotiate with a warning
// no_renegotiation and ends the connection: nothing is written after it.
// c.in is held.
func (c *Conn) refuseRenegotiation(t wire.HandshakeType) error {
	why := "the peer asks to renegotiate; tlsflow never renegotiates"
	if c.isClient && c.config.Renegotiation != RenegotiateNever {
		why = "the server asks to renegotiate; Config.Renegotiation allows it, but tlsflow does not implement renegotiation and refuses"
	}
	err := alert.Errorf(alert.NoRenegotiation, 8, t.String(), "%s", why)
	err.Warning = true
	c.out.Lock()
	defer c.out.Unlock()
	if c.out.err == nil && !c.out.closed {
		_ = c.sendAlertLocked(alert.LevelWarning, alert.NoRenegotiation)
		c.out.err = err
	}
	return err
}

// postHandshake13 hands a TLS 1.3 post-handshake message to the engine and
// applies what it answers. c.in is held.
func (c *Conn) postHandshake13(msg []byte) error {
	if wire.HandshakeType(msg[0]) != wire.TypeKeyUpdate {
		c.postMu.Lock()
		actions, err := c.post.HandlePostHandshake(msg)
		owed := c.post.CertificateRequestOwed()
		done, peer, result := c.post.ClientCertificateResult()
		c.postMu.Unlock()
		if err != nil {
			return err
		}
		if err := c.applyRead(actions); err != nil {
			return err
		}
		if done {
			c.clientCertificateAnswered(peer, result)
		}
		if owed {
			c.certificateRequestOwed.Store(true)
			c.answerOwedIfIdle()
		}
		return nil
	}
	// Each KeyUpdate costs a key derivation: a stream of them burns our
	// CPU and protects nothing.
	if max := c.config.limitPolicy().KeyUpdates; c.in.keyUpdates+1 > max {
		return alert.Errorf(alert.UnexpectedMessage, 8, "KeyUpdate", "more than %d KeyUpdates without application data", max)
	}
	c.in.keyUpdates++
	// The peer's KeyUpdate changes how we read, here; the answer an
	// update_requested asks for changes how we write, and is made under
	// c.out by whoever holds it next (answerKeyUpdateLocked), in one
	// piece with the write key it announces: a KeyUpdate of ours in
	// between cannot leave the peer reading with one key what we wrote
	// with another, and this reader never waits for a writer.
	c.postMu.Lock()
	actions, err := c.post.HandlePostHandshake(msg)
	owed := c.post.KeyUpdateOwed()
	c.postMu.Unlock()
	if err != nil {
		return err
	}
	if err := c.applyRead(actions); err != nil {
		return err
	}
	if owed {
		c.keyUpdateOwed.Store(true)
		c.answerOwedIfIdle()
	}
	return nil
}

// applyRead carries out actions that change how we read (a post-handshake
// message's); c.in is held.
func (c *Conn) applyRead(actions []handshake.Action) error {
	for _, a := range actions {
		r, ok := a.(handshake.SetReadCipher)
		if !ok {
			return alert.Errorf(alert.InternalError, 8, "", "a post-handshake message asked for a write action")
		}
		if !c.in.hs.Empty() {
			return alert.Errorf(alert.UnexpectedMessage, -1, "", "a handshake message spans a change of keys")
		}
		c.in.r.SetCipher(r.Cipher)
	}
	return nil
}
