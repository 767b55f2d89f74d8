package tlshttp

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/tlsflow/tlsflow"
)

// handshake runs tlsflow's server handshake on raw, after a look at the
// first bytes: a plain HTTP request gets net/http's answer (a 400 in plain
// text) instead of a TLS alert it cannot read. ctx ending closes raw.
func (s *server) handshake(ctx context.Context, raw net.Conn, config *tlsflow.Config) (*tlsflow.Conn, *earlyStream, error) {
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	head, err := readHead(raw, handshakeTimeout(config))
	if err != nil {
		raw.Close()
		return nil, nil, err
	}
	if looksLikeHTTP(head) {
		answerPlainHTTP(raw)
		return nil, nil, errPlainHTTP
	}
	c := tlsflow.Server(&replayConn{Conn: raw, head: head}, config)
	var early *earlyStream
	if config.MaxEarlyData > 0 {
		early, err = acceptEarly(ctx, c)
	} else {
		err = c.HandshakeContext(ctx)
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, early, nil
}

var errPlainHTTP = errors.New("client sent an HTTP request to an HTTPS server")

// handshakeTimeout is how long the server waits for a client's handshake:
// Config.HandshakeTimeout, with tlsflow's default for a server (10 s).
func handshakeTimeout(config *tlsflow.Config) time.Duration {
	if config.HandshakeTimeout != 0 {
		return config.HandshakeTimeout
	}
	return 10 * time.Second
}

// readHead reads the first 5 bytes of a connection: a TLS record header
// from a TLS client (RFC 8446 §5.1), or the start of a request line from a
// plain HTTP one. A ClientHello is longer, so a TLS client never stalls here.
//
// tlsflow reports the same bytes as a handshake error and sends a
// decode_error alert; once it can report them without the alert (as
// crypto/tls's RecordHeaderError does, with the connection), this look
// ahead can go.
func readHead(raw net.Conn, timeout time.Duration) ([]byte, error) {
	if timeout > 0 {
		raw.SetReadDeadline(time.Now().Add(timeout))
		defer raw.SetReadDeadline(time.Time{})
	}
	head := make([]byte, 5)
	if _, err := io.ReadFull(raw, head); err != nil {
		return nil, err
	}
	return head, nil
}

// httpMethods are the methods whose request lines looksLikeHTTP knows
// (RFC 9110 §9, and PATCH from RFC 5789).
var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// looksLikeHTTP reports whether head starts an HTTP/1 request line
// ("GET /...", "OPTIONS * ..."). No TLS record can start so: its first
// byte is a content type, 20 to 24.
func looksLikeHTTP(head []byte) bool {
	for _, m := range httpMethods {
		line := m + " "
		n := min(len(line), len(head))
		if string(head[:n]) == line[:n] {
			return true
		}
	}
	return false
}

// answerPlainHTTP answers a plain HTTP request with net/http's own text for
// it and closes the connection. It half-closes first and reads away what
// the client sent, for a while: closing a socket with unread data makes
// the kernel reset the connection, and the reset can overtake the answer.
func answerPlainHTTP(raw net.Conn) {
	raw.SetDeadline(time.Now().Add(time.Second))
	io.WriteString(raw, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
	if cw, ok := raw.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		io.Copy(io.Discard, io.LimitReader(raw, 64<<10))
	}
	raw.Close()
}

// replayConn returns head before reading on from Conn.
type replayConn struct {
	net.Conn
	head []byte
}

func (c *replayConn) Read(b []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(b, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// SyscallConn gives tlsflow's Close the socket, to read away what arrived
// unread before it closes (a reset would otherwise destroy data in flight).
func (c *replayConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("tlshttp: not a socket")
}
