// Package testpeer is a scriptable TLS 1.2 and TLS 1.3 peer for tests: a
// client or a server that speaks through the wire codecs, the record layer
// and the key schedule of tlsflow, but decides for itself what to send. A
// test drives a real tlsflow Conn (or crypto/tls) from the other end of a
// net.Conn and can send any message, in any order, with any field, to show
// how the real engine answers a hostile peer.
//
// Two levels are offered. The low one sends and reads messages and records
// (Send, SendRaw, SendRecord, SendAlert, Next, Expect, ExpectAlert), with
// the transcript kept as it goes and the keys derived by helpers
// (MasterSecret12, HandshakeKeys13, ...). The high one runs whole handshakes
// (ClientHandshake12, ServerHandshake12, ClientHandshake13,
// ServerHandshake13) whose every message a Script can change, leave out or
// precede with others. After a flow the script can go on sending records.
//
// For example, a client whose certificate carries a key the server cannot
// parse, and which leaves CertificateVerify out:
//
//	p := testpeer.New(conn, testpeer.Client)
//	err := p.ClientHandshake12(&testpeer.ClientOptions{
//		Chain:  chain, // testpeer.CertWithSPKI(ca, tmpl, testpeer.Ed448SPKI())
//		Script: testpeer.Script{Skip: testpeer.SkipType(wire.TypeCertificateVerify)},
//	})
//	// err is the *AlertError the server answered with (or nil, and
//	// p.ExpectAlert reads on).
//
// A Peer is for one goroutine. It never checks what the other side should
// check for it: a flow accepts whatever it receives as long as it can carry
// on, so that the test, not the peer, decides what counts as a failure.
//
// For tests only: the peer makes no effort to be safe.
package testpeer

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Side is the role a Peer plays.
type Side int

const (
	Client Side = iota
	Server
)

func (s Side) String() string {
	if s == Client {
		return "client"
	}
	return "server"
}

// Protocol versions, for readability in tests.
const (
	VersionTLS12 = suites.VersionTLS12
	VersionTLS13 = suites.VersionTLS13
)

// Peer is one end of a TLS connection, scripted by a test.
type Peer struct {
	Conn net.Conn
	Side Side

	// RecordVersion is the legacy_record_version of the records the peer
	// writes (0x0303 unless changed).
	RecordVersion uint16

	r     *record.Reader
	hs    record.HandshakeBuffer
	write record.Cipher

	// Transcript holds every handshake message sent and received until the
	// handshake is complete (raw bytes kept as well, for TLS 1.2
	// CertificateVerify).
	Transcript keys.Transcript
	// Complete is set when a flow has finished the handshake; from then on
	// messages no longer enter the transcript.
	Complete bool

	// Negotiated and learned on the way.
	Version      uint16
	Suite        *suites.Suite
	ClientRandom []byte
	ServerRandom []byte
	// Hellos as sent or received; ClientHello2 after a HelloRetryRequest.
	ClientHello      *wire.ClientHello
	ClientHello2     *wire.ClientHello
	HelloRetry       *wire.ServerHello
	ServerHello      *wire.ServerHello
	PeerCertificates [][]byte // the chain the other side sent (may be empty)
	CertRequested    bool     // the server asked for a client certificate
	DidResume        bool
	ExtendedMaster   bool
	// EarlyDataAccepted: the server's EncryptedExtensions accepted our
	// 0-RTT data (ClientOptions.EarlyData).
	EarlyDataAccepted bool
	// EncryptedExtensions is the server's, as a TLS 1.3 client read it.
	EncryptedExtensions *wire.EncryptedExtensions

	k12 keys12
	k13 keys13

	// Tickets are what the other side issued: TLS 1.2 NewSessionTicket
	// (Ticket12) or TLS 1.3 NewSessionTicket (Tickets13, with their PSKs).
	Ticket12  *wire.NewSessionTicket
	Tickets13 []Ticket13
}

// New returns a Peer on conn playing side. No byte is exchanged yet.
func New(conn net.Conn, side Side) *Peer {
	p := &Peer{Conn: conn, Side: side, RecordVersion: 0x0303, r: record.NewReader(conn), write: record.Plaintext(false)}
	// Hostile tests send and receive huge messages; the peer itself
	// accepts anything a header can declare.
	p.hs.SetLimit(func(uint8) int { return 1<<24 - 1 })
	p.Transcript.KeepBuffer(true)
	return p
}

// SetDeadline bounds every read and write from now on; every test should
// set one so that nothing hangs.
func (p *Peer) SetDeadline(d time.Duration) { _ = p.Conn.SetDeadline(time.Now().Add(d)) }

// Message is a handshake message as received: its type and its bytes,
// header included.
type Message struct {
	Type wire.HandshakeType
	Raw  []byte
}

// AlertError is an alert received where something else was expected.
type AlertError struct {
	Level alert.Level
	Alert alert.Alert
}

func (e *AlertError) Error() string {
	return fmt.Sprintf("testpeer: received %s alert %s", levelName(e.Level), e.Alert)
}

func levelName(l alert.Level) string {
	switch l {
	case alert.LevelWarning:
		return "warning"
	case alert.LevelFatal:
		return "fatal"
	}
	return fmt.Sprintf("level-%d", l)
}

// UnexpectedError says what arrived instead of what a script waited for.
type UnexpectedError struct {
	Want string
	Got  string
}

func (e *UnexpectedError) Error() string {
	return fmt.Sprintf("testpeer: waiting for %s, got %s", e.Want, e.Got)
}

// IsAlert reports whether err is (or wraps) an alert received with
// description a, at any level.
func IsAlert(err error, a alert.Alert) bool {
	var ae *AlertError
	return errors.As(err, &ae) && ae.Alert == a
}

// ----- writing -----

// WriteRaw writes b on the connection as it is, outside any record.
func (p *Peer) WriteRaw(b []byte) error {
	_, err := p.Conn.Write(b)
	return err
}

// SendRecord writes one record of type typ under the current write
// protection: any payload, empty included. A payload over 2^14 bytes can
// only go out unprotected, with its length as the header says.
func (p *Peer) SendRecord(typ record.ContentType, payload []byte) error {
	if len(payload) > record.MaxPlaintext {
		if p.write.MaxFragment() != record.MaxPlaintext {
			return fmt.Errorf("testpeer: cannot protect a %d-byte record", len(payload))
		}
		if len(payload) > 0xffff {
			return fmt.Errorf("testpeer: a record cannot hold %d bytes", len(payload))
		}
		hdr := []byte{byte(typ), byte(p.RecordVersion >> 8), byte(p.RecordVersion), byte(len(payload) >> 8), byte(len(payload))}
		return p.WriteRaw(append(hdr, payload...))
	}
	rec, err := p.write.Seal(nil, typ, p.RecordVersion, payload)
	if err != nil {
		return err
	}
	return p.WriteRaw(rec)
}

// sendFragmented writes payload as records of at most 2^14 bytes, in one
// write.
func (p *Peer) sendFragmented(typ record.ContentType, payload []byte) error {
	var out []byte
	for {
		n := min(len(payload), record.MaxPlaintext)
		var err error
		if out, err = p.write.Seal(out, typ, p.RecordVersion, payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if len(payload) == 0 {
			break
		}
	}
	return p.WriteRaw(out)
}

// Send marshals m, adds it to the transcript (until the handshake is
// complete) and writes it in handshake records.
func (p *Peer) Send(m wire.Message) error {
	raw, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("testpeer: building %s: %w", m.Type(), err)
	}
	return p.SendRaw(raw)
}

// SendRaw writes msg, taken to be a whole handshake message (any bytes at
// all), in handshake records, and adds it to the transcript until the
// handshake is complete.
func (p *Peer) SendRaw(msg []byte) error {
	if !p.Complete {
		p.Transcript.Write(msg)
	}
	return p.sendFragmented(record.Handshake, msg)
}

// SendCCS writes a ChangeCipherSpec record, always unprotected (the write
// protection is not changed: see ChangeWriteCipher12).
func (p *Peer) SendCCS() error {
	rec, err := record.Plaintext(false).Seal(nil, record.ChangeCipherSpec, p.RecordVersion, []byte{1})
	if err != nil {
		return err
	}
	return p.WriteRaw(rec)
}

// SendAlert writes an alert record under the current write protection.
func (p *Peer) SendAlert(level alert.Level, desc alert.Alert) error {
	return p.SendRecord(record.Alert, []byte{byte(level), byte(desc)})
}

// WriteApplicationData writes data in application_data records.
func (p *Peer) WriteApplicationData(data []byte) error {
	return p.sendFragmented(record.ApplicationData, data)
}

// Close sends close_notify and closes the connection.
//
// It closes without a reset: the write side is shut first, and what the
// peer still sends (the tickets of a TLS 1.3 server's flight, an alert) is
// read away, for a second at most. Closing a TCP socket with unread data
// resets the connection, and the reset can make the peer lose what it has
// not read yet, turning what an attack test checks into "connection reset".
func (p *Peer) Close() error {
	_ = p.SendAlert(alert.LevelWarning, alert.CloseNotify)
	if cw, ok := p.Conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = p.Conn.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = io.Copy(io.Discard, p.Conn)
	}
	return p.Conn.Close()
}

// SetWriteCipher protects the records written from now on with c.
func (p *Peer) SetWriteCipher(c record.Cipher) { p.write = c }

// SetReadCipher unprotects the records read from now on with c.
func (p *Peer) SetReadCipher(c record.Cipher) { p.r.SetCipher(c) }

// ----- reading -----

// ReadRecord reads the next record: its type and a copy of its plaintext.
// Empty application_data records are skipped by the record layer.
func (p *Peer) ReadRecord() (record.ContentType, []byte, error) {
	typ, payload, err := p.r.ReadRecord()
	if err != nil {
		return 0, nil, err
	}
	return typ, append([]byte(nil), payload...), nil
}

// Next returns the next handshake message, added to the transcript until
// the handshake is complete. A received alert is returned as an
// *AlertError; a TLS 1.3 compatibility ChangeCipherSpec is skipped; any
// other record is an *UnexpectedError.
func (p *Peer) Next() (Message, error) { return p.next(true) }

// next is Next, adding the message to the transcript only if record (a
// client cannot tell a HelloRetryRequest, which changes the transcript,
// before reading it).
func (p *Peer) next(record bool) (Message, error) {
	for {
		msg, ok, err := p.hs.Next()
		if err != nil {
			return Message{}, err
		}
		if ok {
			if record && !p.Complete {
				p.Transcript.Write(msg)
			}
			return Message{Type: wire.HandshakeType(msg[0]), Raw: msg}, nil
		}
		typ, payload, err := p.ReadRecord()
		if err != nil {
			return Message{}, err
		}
		switch typ {
		case recordHandshake:
			p.hs.Add(payload)
		case recordAlert:
			return Message{}, alertOf(payload)
		case recordCCS:
			if p.Version == VersionTLS13 || p.Version == 0 && p.Side == Server {
				continue // RFC 8446 §5: compatibility, dropped
			}
			return Message{}, &UnexpectedError{Want: "a handshake message", Got: "ChangeCipherSpec"}
		default:
			return Message{}, &UnexpectedError{Want: "a handshake message", Got: fmt.Sprintf("a %d-byte %s record", len(payload), typ)}
		}
	}
}

func alertOf(payload []byte) error {
	if len(payload) != 2 {
		return &UnexpectedError{Want: "a handshake message", Got: fmt.Sprintf("an alert record of %d bytes", len(payload))}
	}
	return &AlertError{Level: alert.Level(payload[0]), Alert: alert.Alert(payload[1])}
}

// Expect reads the next handshake message, which must be of m's type, and
// parses it into m.
func (p *Peer) Expect(m wire.Message) error {
	msg, err := p.Next()
	if err != nil {
		return err
	}
	if msg.Type != m.Type() {
		return &UnexpectedError{Want: m.Type().String(), Got: msg.Type.String()}
	}
	if err := m.Unmarshal(msg.Raw); err != nil {
		return fmt.Errorf("testpeer: parsing %s: %w", m.Type(), err)
	}
	return nil
}

// ExpectCCS reads the next record, which must be a ChangeCipherSpec.
func (p *Peer) ExpectCCS() error {
	if !p.hs.Empty() {
		return &UnexpectedError{Want: "ChangeCipherSpec", Got: "part of a handshake message"}
	}
	typ, payload, err := p.ReadRecord()
	if err != nil {
		return err
	}
	switch {
	case typ == record.ChangeCipherSpec:
		return nil
	case typ == record.Alert:
		return alertOf(payload)
	}
	return &UnexpectedError{Want: "ChangeCipherSpec", Got: fmt.Sprintf("a %s record", typ)}
}

// ExpectAlert reads until an alert arrives and returns it. Handshake
// records after the handshake (a TLS 1.3 NewSessionTicket) and
// ChangeCipherSpec records are passed over; anything else, or the end of
// the connection, is an error saying what came instead.
func (p *Peer) ExpectAlert() (alert.Level, alert.Alert, error) {
	for {
		typ, payload, err := p.ReadRecord()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, 0, &UnexpectedError{Want: "an alert", Got: "the end of the connection"}
			}
			return 0, 0, fmt.Errorf("testpeer: waiting for an alert: %w", err)
		}
		switch {
		case typ == record.Alert && len(payload) == 2:
			return alert.Level(payload[0]), alert.Alert(payload[1]), nil
		case typ == record.ChangeCipherSpec:
			continue
		case typ == record.Handshake && p.Complete:
			continue
		}
		return 0, 0, &UnexpectedError{Want: "an alert", Got: fmt.Sprintf("a %d-byte %s record", len(payload), typ)}
	}
}

// ExpectClosedWithoutAlert reads until the connection ends and fails if
// anything at all arrives first.
func (p *Peer) ExpectClosedWithoutAlert() error {
	typ, payload, err := p.ReadRecord()
	if err == nil {
		if typ == record.Alert && len(payload) == 2 {
			return &UnexpectedError{Want: "the end of the connection", Got: (&AlertError{alert.Level(payload[0]), alert.Alert(payload[1])}).Error()}
		}
		return &UnexpectedError{Want: "the end of the connection", Got: fmt.Sprintf("a %d-byte %s record", len(payload), typ)}
	}
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("testpeer: the connection stayed open: %w", err)
	case errors.As(err, &ne):
		return nil // reset by the other side: closed as well
	}
	return fmt.Errorf("testpeer: waiting for the end of the connection: %w", err)
}

// ReadApplicationData returns the payload of the next application_data
// record. On the way it takes TLS 1.3 post-handshake messages: a
// NewSessionTicket is kept in Tickets13, a KeyUpdate renews the read key
// (and is answered when asked). An alert is an *AlertError.
func (p *Peer) ReadApplicationData() ([]byte, error) {
	for {
		if msg, ok, err := p.hs.Next(); err != nil {
			return nil, err
		} else if ok {
			if err := p.postHandshake(msg); err != nil {
				return nil, err
			}
			continue
		}
		typ, payload, err := p.ReadRecord()
		if err != nil {
			return nil, err
		}
		switch typ {
		case record.ApplicationData:
			return payload, nil
		case record.Handshake:
			p.hs.Add(payload)
		case record.Alert:
			return nil, alertOf(payload)
		default:
			return nil, &UnexpectedError{Want: "application data", Got: fmt.Sprintf("a %s record", typ)}
		}
	}
}

// ReadFull reads application data until n bytes have arrived.
func (p *Peer) ReadFull(n int) ([]byte, error) {
	var out []byte
	for len(out) < n {
		b, err := p.ReadApplicationData()
		if err != nil {
			return out, err
		}
		out = append(out, b...)
	}
	return out, nil
}

func (p *Peer) postHandshake(msg []byte) error {
	switch wire.HandshakeType(msg[0]) {
	case wire.TypeNewSessionTicket:
		if p.Version != VersionTLS13 {
			break
		}
		nst := new(wire.NewSessionTicket13)
		if err := nst.Unmarshal(msg); err != nil {
			return err
		}
		p.Tickets13 = append(p.Tickets13, p.ticketFrom(nst))
		return nil
	case wire.TypeKeyUpdate:
		ku := new(wire.KeyUpdate)
		if err := ku.Unmarshal(msg); err != nil {
			return err
		}
		if err := p.peerKeyUpdated13(); err != nil {
			return err
		}
		if ku.RequestUpdate == wire.UpdateRequested {
			return p.KeyUpdate(false)
		}
		return nil
	}
	return &UnexpectedError{Want: "application data", Got: "a post-handshake " + wire.HandshakeType(msg[0]).String()}
}

// Short names for use where "record" is a parameter.
const (
	recordHandshake = record.Handshake
	recordAlert     = record.Alert
	recordCCS       = record.ChangeCipherSpec
)

// Random returns n random bytes.
func Random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
