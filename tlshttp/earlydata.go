package tlshttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/tlsflow/tlsflow"
)

// 0-RTT for HTTP/1.1 (RFC 8446 §2.3, RFC 8470). A server whose
// tlsflow.Config sets MaxEarlyData reads a resuming client's early data
// before the handshake completes and hands it to net/http at once: a
// request in it is served while the handshake is still open, and its
// response goes out as 0.5-RTT data. Such a request may be a replay
// (tlsflow refuses copies sent to this server, not to another that shares
// its ticket keys), so:
//
//   - it carries the header Early-Data: 1 (RFC 8470 §5.1), and EarlyData(r)
//     reports it;
//   - a request whose method is not safe (RFC 9110 §9.2.1: anything but GET,
//     HEAD, OPTIONS, TRACE) never reaches the handler before the handshake
//     completes: tlshttp waits for the client's Finished first, which a
//     replay cannot send (RFC 8470 §5.2 allows a server to delay);
//   - a handler that finds a safe request unsafe to repeat all the same can
//     wait too (ConfirmHandshake), or answer http.StatusTooEarly (425) for
//     the client to retry after the handshake (RFC 8470 §5.2).
//
// Over HTTP/2 the handshake completes before the connection is served
// (the early bytes are read after it), so no request is early there.
// tlshttp's Transport does not send 0-RTT.

// earlyStream is what a connection's Read returns before its 1-RTT data:
// the early data read so far (pending), then the rest of it as it comes.
type earlyStream struct {
	mu      sync.Mutex
	pending []byte
	done    bool
}

// read returns early data into b; ok is false once it is over (1-RTT data
// follows, from the connection's own Read).
func (e *earlyStream) read(c *tlsflow.Conn, b []byte) (n int, ok bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.pending) > 0 {
		n = copy(b, e.pending)
		e.pending = e.pending[n:]
		return n, true, nil
	}
	if e.done {
		return 0, false, nil
	}
	n, err = c.ReadEarlyData(b)
	switch {
	case n > 0:
		return n, true, nil
	case err == io.EOF:
		e.done = true
		return 0, false, nil
	}
	return 0, true, err
}

// acceptEarly starts the server handshake of c with its early data, if
// the client sends any (ReadEarlyData): it returns the stream net/http
// reads first, or nil when there is none (the handshake then completed).
// An HTTP/2 connection completes its handshake before it is served.
func acceptEarly(ctx context.Context, c *tlsflow.Conn) (*earlyStream, error) {
	buf := make([]byte, 16<<10)
	n, err := c.ReadEarlyData(buf)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if n == 0 {
		return nil, c.HandshakeContext(ctx) // none: finish (done already, or after an empty early data)
	}
	e := &earlyStream{pending: buf[:n]}
	if c.ConnectionState().NegotiatedProtocol == "h2" {
		if err := c.HandshakeContext(ctx); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// EarlyData reports whether r came, at least in part, as 0-RTT data on a
// connection whose handshake has not completed: it may be a replay. See
// ConfirmHandshake.
func EarlyData(r *http.Request) bool {
	c, ok := r.Context().Value(connKey{}).(*Conn)
	return ok && c.early != nil && !c.Conn.ConnectionState().HandshakeComplete
}

// ConfirmHandshake waits for the handshake of r's connection to complete:
// once it returns nil, the client's Finished has proved that r is not a
// copy of another connection's early data (RFC 8446 §8, RFC 8470 §5.2),
// and r.TLS says HandshakeComplete. An error means the connection failed
// (a replay's does): do not act on r. For a request that did not come
// early it returns nil at once.
func ConfirmHandshake(r *http.Request) error {
	c, ok := r.Context().Value(connKey{}).(*Conn)
	if !ok {
		return errors.New("tlshttp: ConfirmHandshake needs a request served by tlshttp (Serve, ServeTLS, ListenAndServe, ListenAndServeTLS)")
	}
	if c.early != nil && !c.Conn.ConnectionState().HandshakeComplete {
		if err := c.Conn.HandshakeContext(context.WithoutCancel(r.Context())); err != nil {
			return err
		}
	}
	refreshTLS(r, c)
	return nil
}

// refreshTLS brings r.TLS up to date once c's handshake has completed.
// net/http takes r.TLS once per connection, when it starts serving it: on
// a connection that began with early data, that is before the handshake
// completed, which may happen before r reaches the handler (net/http's
// background read takes in the client's Finished) or while it runs.
func refreshTLS(r *http.Request, c *Conn) {
	if r.TLS == nil || r.TLS.HandshakeComplete {
		return
	}
	if st := c.Conn.ConnectionState(); st.HandshakeComplete {
		*r.TLS = ConnectionState(st)
	}
}

// safeMethod: RFC 9110 §9.2.1's safe methods, which a replay cannot make
// do harm (if the handler keeps them safe).
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// earlyRequest marks a request that came as early data (Early-Data: 1),
// and holds back an unsafe one until the handshake completes; false means
// the connection failed meanwhile, and r must not be served.
//
// A request that came early on a handshake that has completed since is
// not early any more (the client's Finished has come), and its r.TLS is
// brought up to date to say so.
func earlyRequest(r *http.Request) bool {
	c, ok := r.Context().Value(connKey{}).(*Conn)
	if !ok || c.early == nil {
		return true
	}
	if c.Conn.ConnectionState().HandshakeComplete {
		refreshTLS(r, c)
		return true
	}
	if safeMethod(r.Method) {
		r.Header.Set("Early-Data", "1")
		return true
	}
	return ConfirmHandshake(r) == nil
}
