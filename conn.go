package tlsflow

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/provider"
	"github.com/tlsflow/tlsflow/trace"
)

// Conn is a TLS connection over a net.Conn. It implements net.Conn; the
// handshake runs on the first Read or Write, or on an explicit Handshake.
type Conn struct {
	conn     net.Conn
	isClient bool
	config   *Config

	handshakeMu   sync.Mutex
	handshakeErr  error
	handshakeDone atomic.Bool
	state         *handshake.State // set once the handshake is complete; shared with post

	// post runs TLS 1.3 post-handshake messages (KeyUpdate, NewSessionTicket).
	// postMu serializes the reader and writer that use it. A call that
	// changes our write key (our KeyUpdate, or the answer to the peer's)
	// is made holding c.out, from computing the change to writing it; the
	// reader never waits for c.out (a writer blocked on a peer that does
	// not read must not stop us reading): the answer a peer's KeyUpdate
	// asks for is owed (keyUpdateOwed) and made by whoever holds c.out
	// next. The lock order is c.in, c.out, postMu.
	postMu        sync.Mutex
	post          handshake.PostHandshake
	keyUpdateOwed atomic.Bool
	// certificateRequestOwed: a server's post-handshake CertificateRequest
	// waits for our answer, owed and made like a KeyUpdate's (pha.go).
	certificateRequestOwed atomic.Bool
	// stateMu guards what changes in state after the handshake (the
	// client's chain after a post-handshake authentication);
	// phaWaiter is the RequestClientCertificate waiting for the answer.
	stateMu   sync.Mutex
	phaWaiter chan error

	engine handshake.Engine // during the handshake
	// pausedView is ConnectionState from the handshake's last 0-RTT pause
	// until it ends (what is negotiated so far: version, suite, ALPN, the
	// resumption; HandshakeComplete false).
	pausedView  atomic.Pointer[ConnectionState]
	crypto      provider.Provider            // the primitives' provider, resolved for the handshake
	interrupted atomic.Pointer[interruption] // why HandshakeContext closed the connection
	// handshakeCtx is the context of the handshake under way, for
	// ClientHelloInfo.Context and CertificateRequestInfo.Context.
	handshakeCtx context.Context
	// handshakeStart is when the handshake began: Config.HandshakeTimeout
	// bounds it from there, across its 0-RTT pauses.
	handshakeStart time.Time

	// sessions are the client's sessions this connection offered and
	// stored, so that a fatal alert can take them out of the cache.
	sessions struct{ offered, stored atomic.Pointer[session.State] }

	in struct {
		sync.Mutex
		r       *record.Reader
		hs      record.HandshakeBuffer
		pending []byte // application data not yet returned by Read
		err     error  // sticky: once set, every Read returns it
		seenApp bool   // the first application data was traced
		version uint16 // negotiated version, as soon as the handshake knows it
		warns   int    // warning alerts (TLS 1.2) and user_canceled alerts since the last application data
		// earlySkip is how many bytes of rejected 0-RTT data may still be
		// skipped (RFC 8446 §4.2.10); zero when none is expected.
		earlySkip  int
		earlyArmed bool
		// keyUpdates counts KeyUpdates since the last application data.
		keyUpdates int
	}
	// early is the connection's 0-RTT state (earlydata.go).
	early earlyState
	out   struct {
		sync.Mutex
		w       *record.Writer
		cipher  record.Cipher // the current write protection, for the key usage limit
		err     error         // sticky: once set, every Write returns it
		seenApp bool
		// sentApp: application data has gone out; read without c.out
		// held (placeAlertAfterHandshake).
		sentApp atomic.Bool
		closed  bool // close_notify sent
		// lazy: what is buffered may wait for the next write (tickets
		// after a client's Finished, handshake.SendMessage.Lazy).
		lazy bool
	}
}

// Client returns a client-side TLS connection over conn. The config must
// set ServerName or InsecureSkipVerify.
func Client(conn net.Conn, config *Config) *Conn { return newConn(conn, config, true) }

// Server returns a server-side TLS connection over conn. The config must
// have a certificate (Certificates or GetCertificate).
func Server(conn net.Conn, config *Config) *Conn { return newConn(conn, config, false) }

func newConn(conn net.Conn, config *Config, isClient bool) *Conn {
	if config == nil {
		config = &Config{}
	}
	c := &Conn{conn: conn, isClient: isClient, config: config}
	policy := config.limitPolicy()
	c.in.r = record.NewReader(conn)
	c.in.r.SetMaxEmptyRecords(policy.EmptyRecords)
	c.in.hs.SetLimit(policy.HandshakeLimit)
	c.out.w = record.NewWriter(conn)
	return c
}

// NetConn returns the underlying connection. Writing to or reading from it
// directly corrupts the TLS session.
func (c *Conn) NetConn() net.Conn { return c.conn }

func (c *Conn) LocalAddr() net.Addr                { return c.conn.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr               { return c.conn.RemoteAddr() }
func (c *Conn) SetDeadline(t time.Time) error      { return c.conn.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.conn.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

func (c *Conn) side() trace.Side {
	if c.isClient {
		return trace.Client
	}
	return trace.Server
}

// emit sends a connection-level event (step 0, alerts, application data, errors).
func (c *Conn) emit(e trace.Event) {
	if c.config.Trace == nil {
		return
	}
	e.Time = c.config.now()
	e.Side = c.side()
	if e.Version == 0 {
		e.Version = c.in.version
	}
	c.config.Trace(e)
}

// Read reads application data (step 8), running the handshake first if needed.
func (c *Conn) Read(b []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	if len(b) == 0 {
		return 0, nil
	}
	c.in.Lock()
	defer c.in.Unlock()
	for len(c.in.pending) == 0 {
		if c.in.err != nil {
			return 0, c.in.err
		}
		if err := c.readRecordLocked(nil); err != nil {
			return 0, err // a read deadline: the connection stays usable
		}
	}
	n := copy(b, c.in.pending)
	c.in.pending = c.in.pending[n:]
	if len(c.in.pending) == 0 {
		c.releaseInputLocked()
	}
	return n, nil
}

// releaseInputLocked hands the record buffers back once everything read has
// been returned: an idle connection, waiting for its next record, then costs
// no buffer memory. c.in is held.
func (c *Conn) releaseInputLocked() {
	c.in.pending = nil
	c.in.hs.Release()
	c.in.r.Release()
}

// Write writes application data (step 8), running the handshake first if needed.
func (c *Conn) Write(b []byte) (int, error) {
	if !c.early.halfRTT.Load() {
		if err := c.Handshake(); err != nil {
			return 0, err
		}
	}
	c.out.Lock()
	defer c.unlockOut()
	if c.out.err != nil {
		return 0, c.out.err
	}
	if c.out.closed {
		return 0, errors.New("tlsflow: write after CloseWrite")
	}
	if len(b) == 0 {
		return 0, nil
	}
	c.out.sentApp.Store(true)
	if !c.out.seenApp {
		c.out.seenApp = true
		if c.config.Trace != nil { // the fields cost an allocation
			c.emit(trace.Event{Kind: trace.KindApplicationData, Direction: trace.Sent, Step: 8,
				Fields: []trace.Field{{Name: "length", Value: strconv.Itoa(len(b))}}})
		}
	}
	n := 0
	for n < len(b) {
		// Record by record, each flushed before the next is sealed (as
		// crypto/tls writes): a large Write costs one pooled record
		// buffer, not a ciphertext copy of all of it, and the key usage
		// limit is checked as the records go.
		chunk := b[n:min(len(b), n+writeBatch)]
		if err := c.answerOwedLocked(); err != nil {
			c.out.err = err
			return n, err
		}
		if err := c.updateKeysIfWornLocked(); err != nil {
			c.out.err = err
			return n, err
		}
		if err := c.out.w.WriteRecord(record.ApplicationData, chunk); err != nil {
			c.out.err = err
			return n, err
		}
		if err := c.out.w.Flush(); err != nil {
			c.out.err = err
			return n, err
		}
		n += len(chunk)
	}
	if c.post != nil {
		c.postMu.Lock()
		c.post.ApplicationDataSent()
		c.postMu.Unlock()
	}
	return n, nil
}

// writeBatch is how much application data Write seals before it flushes:
// one full record, which fits the pooled buffer.
const writeBatch = record.MaxPlaintext

// Close sends close_notify (if the handshake completed) and closes the
// connection. Data written before Close has been flushed by Write.
func (c *Conn) Close() error {
	var alertErr error
	if c.handshakeDone.Load() {
		alertErr = c.closeNotify()
		c.discardUnread()
	}
	if err := c.conn.Close(); err != nil {
		return err
	}
	return alertErr
}

// discardUnread reads away what the peer sent and nobody read — typically
// a TLS 1.3 NewSessionTicket. Closing a TCP socket with unread data makes
// the kernel answer with a reset, and a reset can destroy data of ours the
// peer has not read yet: the close_notify and what came before it. Only
// what has already arrived is read, without waiting, and only when no Read
// is running.
func (c *Conn) discardUnread() {
	if !c.in.TryLock() {
		return
	}
	defer c.in.Unlock()
	discardReadable(c.conn)
}

// CloseWrite sends close_notify: the peer reads EOF, and this side may still read.
func (c *Conn) CloseWrite() error {
	if !c.handshakeDone.Load() {
		return errors.New("tlsflow: CloseWrite before the handshake completed")
	}
	return c.closeNotify()
}

func (c *Conn) closeNotify() error {
	// A Write blocked on a stuck peer must not block Close for ever.
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.out.Lock()
	defer c.out.Unlock()
	if c.out.closed {
		return nil
	}
	c.out.closed = true
	if c.out.err != nil {
		return nil
	}
	return c.sendAlertLocked(alert.LevelWarning, alert.CloseNotify)
}

// sendAlertLocked writes an alert record and flushes; c.out must be held.
func (c *Conn) sendAlertLocked(level alert.Level, a alert.Alert) error {
	err := c.out.w.WriteRecord(record.Alert, []byte{byte(level), byte(a)})
	if err == nil {
		err = c.out.w.Flush()
	}
	c.emit(trace.Event{Kind: trace.KindAlert, Direction: trace.Sent, Step: -1, Message: a.String(),
		Fields: []trace.Field{{Name: "level", Value: levelName(level)}}})
	return err
}

func levelName(l alert.Level) string {
	if l == alert.LevelWarning {
		return "warning"
	}
	return "fatal"
}

// Handshake runs the handshake if it has not run yet. Read and Write call
// it; call it directly to see handshake errors early.
func (c *Conn) Handshake() error { return c.HandshakeContext(context.Background()) }

// HandshakeContext is Handshake with a context: if ctx ends before the
// handshake completes, the connection is closed and the handshake fails
// with an error that wraps ctx.Err(). A server's handshake is also bounded
// by Config.HandshakeTimeout (10 s by default), so a stalling client cannot
// hold it; the time counts from the handshake's start, 0-RTT pauses
// (ReadEarlyData) included. The certificate callbacks see ctx (ClientHelloInfo.Context,
// CertificateRequestInfo.Context).
func (c *Conn) HandshakeContext(ctx context.Context) error {
	_, err := c.handshakeTo(ctx, false)
	return err
}

// handshakeTo runs the handshake, or goes on with one paused for 0-RTT.
// With early, it stops at the next 0-RTT point instead of completing
// (earlydata.go): paused is then true.
func (c *Conn) handshakeTo(ctx context.Context, early bool) (paused bool, err error) {
	if c.handshakeDone.Load() {
		return false, nil
	}
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	if c.handshakeErr != nil || c.handshakeDone.Load() {
		return false, c.handshakeErr
	}
	if early && c.isClient && c.engine != nil {
		return true, nil // the client's one 0-RTT point is after its ClientHello
	}
	if t := c.config.handshakeTimeout(c.isClient); t > 0 {
		if c.handshakeStart.IsZero() {
			c.handshakeStart = time.Now()
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, c.handshakeStart.Add(t))
		defer cancel()
	}
	if ctx.Done() != nil {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			select {
			case <-ctx.Done():
				c.interrupted.Store(&interruption{ctx.Err()})
				_ = c.conn.Close()
			case <-stop:
			}
		}()
		defer func() { close(stop); <-done }()
	}
	c.handshakeCtx = ctx
	c.early.stop, c.early.want = early, c.early.want || early
	err = c.runHandshake()
	c.handshakeCtx = nil
	if err == errEarlyPause {
		return true, nil
	}
	if t, ok := err.(*earlyTimeout); ok {
		return true, t.err
	}
	c.early.halfRTT.Store(false)
	c.pausedView.Store(nil)
	c.handshakeErr = err
	if c.handshakeErr == nil {
		c.handshakeDone.Store(true)
	}
	return false, c.handshakeErr
}

type interruption struct{ err error }

// interruptedError replaces the I/O error a closed connection produced by
// the reason it was closed.
func (c *Conn) interruptedError(err error) error {
	in := c.interrupted.Load()
	if in == nil {
		return err
	}
	what := "canceled"
	if errors.Is(in.err, context.DeadlineExceeded) {
		what = "timed out"
	}
	where := ""
	if c.engine != nil {
		if step, msg := c.engine.Progress(); msg != "" {
			where = fmt.Sprintf(" at step %d, after %s", step, msg)
		}
	}
	return fmt.Errorf("tlsflow: handshake %s%s: %w", what, where, in.err)
}

// ConnectionState describes the connection.
type ConnectionState struct {
	Version            uint16
	HandshakeComplete  bool
	DidResume          bool
	CipherSuite        uint16
	CurveID            CurveID
	NegotiatedProtocol string
	ServerName         string
	PeerCertificates   []*x509.Certificate
	VerifiedChains     [][]*x509.Certificate
	// TLSUnique is the "tls-unique" channel binding of RFC 5929 §3.1: the
	// verify_data of the handshake's first Finished message. It is nil in
	// TLS 1.3, which RFC 5929 does not cover, and for a resumed TLS 1.2
	// session without the extended master secret, where a man in the middle
	// can give two connections the same value (RFC 7627 §1, the triple
	// handshake attack).
	TLSUnique []byte
	// OCSPResponse is the OCSP response the server stapled to its
	// certificate, and SignedCertificateTimestamps its Certificate
	// Transparency timestamps, as received (client side; a client asks
	// for both). tlsflow does not check them: verify a staple with
	// golang.org/x/crypto/ocsp against VerifiedChains.
	OCSPResponse                []byte
	SignedCertificateTimestamps [][]byte
	// ExternalPSKIdentity is the identity of the external PSK that
	// authenticated both sides (Config.ExternalPSKs; for an imported PSK,
	// its Identity), in this handshake or, when DidResume, in the one that
	// made the session; nil when certificates did.
	ExternalPSKIdentity []byte
	// HelloRetryRequest: the server asked for a second ClientHello (RFC
	// 8446 §4.1.4), for a key share in a group the first did not carry.
	// A server sent one, a client received one.
	HelloRetryRequest bool
	// EarlyDataAccepted: the server read the client's 0-RTT data (RFC 8446
	// §4.2.10; Conn.WriteEarlyData, Conn.ReadEarlyData). A client whose
	// early data was not accepted may send it again with Write.
	EarlyDataAccepted bool
	// PeerRawPublicKey is the DER SubjectPublicKeyInfo the peer
	// authenticated with instead of a certificate chain (RFC 7250), as
	// TrustedRawPublicKeys or VerifyRawPublicKey accepted it; then
	// PeerCertificates is empty. Nil otherwise.
	PeerRawPublicKey []byte
	// ServerCertificateType and ClientCertificateType are the certificate
	// types the handshake negotiated (RFC 7250; a resumption keeps those
	// of the handshake that made the session): CertificateTypeX509 unless
	// raw public keys were.
	ServerCertificateType CertificateType
	ClientCertificateType CertificateType

	// NegotiatedProtocolIsMutual is always true, as in crypto/tls.
	//
	// Deprecated: it meant an agreement in NPN, which tlsflow (like
	// crypto/tls) does not implement; ALPN's NegotiatedProtocol is always
	// mutual.
	NegotiatedProtocolIsMutual bool
	// ECHAccepted: the handshake ran on the inner ClientHello of Encrypted
	// Client Hello (draft-ietf-tls-esni-25); the network saw only the
	// outer one.
	ECHAccepted bool

	ekm func(label string, context []byte, length int) ([]byte, error)
}

// ExportKeyingMaterial derives length bytes of keying material bound to this
// connection (RFC 5705 for TLS 1.2, RFC 8446 §7.5 for TLS 1.3). A nil
// context and an empty one give different results, as the RFCs say.
// TLS 1.2 without the extended master secret refuses, as RFC 7627 §5.4
// advises: such sessions can be synchronized by a man in the middle.
func (cs *ConnectionState) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	if cs.ekm == nil {
		return nil, errors.New("tlsflow: ExportKeyingMaterial before the handshake completed")
	}
	return cs.ekm(label, context, length)
}

// OCSPResponse returns the OCSP response the server stapled, if any
// (client side), as ConnectionState().OCSPResponse.
func (c *Conn) OCSPResponse() []byte { return c.ConnectionState().OCSPResponse }

// ConnectionState returns what the handshake negotiated. From a 0-RTT
// pause (WriteEarlyData, ReadEarlyData) until the handshake ends, it
// returns at once what was negotiated at the pause, with HandshakeComplete
// false, also while another goroutine goes on with the handshake; before
// that, it waits for a handshake under way.
func (c *Conn) ConnectionState() ConnectionState {
	if v := c.pausedView.Load(); v != nil {
		// Past a 0-RTT pause and not over: what was negotiated at the
		// pause, without waiting for handshakeMu, which a Read going on
		// with the handshake holds while the client's second flight is
		// on its way (a handler serving early data asks meanwhile).
		return *v
	}
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	if c.state == nil {
		return c.connectionState(&handshake.State{}, false)
	}
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	return c.connectionState(c.state, c.handshakeDone.Load())
}

func (c *Conn) connectionState(s *handshake.State, complete bool) ConnectionState {
	cs := ConnectionState{
		Version: s.Version, HandshakeComplete: complete, DidResume: s.DidResume,
		CipherSuite: s.CipherSuite, CurveID: CurveID(s.Group), NegotiatedProtocol: s.NegotiatedProtocol,
		ServerName: s.ServerName, PeerCertificates: s.PeerCertificates, VerifiedChains: s.VerifiedChains,
		OCSPResponse: s.OCSPResponse, SignedCertificateTimestamps: s.SignedCertificateTimestamps,
		HelloRetryRequest: s.HelloRetryRequest, NegotiatedProtocolIsMutual: true, ExternalPSKIdentity: s.ExternalPSKIdentity,
		EarlyDataAccepted: s.EarlyDataAccepted, ECHAccepted: s.ECHAccepted, PeerRawPublicKey: s.PeerRawPublicKey,
		ServerCertificateType: CertificateType(s.ServerCertType), ClientCertificateType: CertificateType(s.ClientCertType),
	}
	if complete {
		cs.ekm = exporter(s, c.crypto)
		if s.Version == VersionTLS12 && (!s.DidResume || s.ExtendedMaster) {
			cs.TLSUnique = append([]byte(nil), s.TLSUnique...) // the caller's copy
		}
	}
	return cs
}

var _ io.ReadWriteCloser = (*Conn)(nil)
