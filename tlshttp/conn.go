package tlshttp

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/tlsflow/tlsflow"
)

// ConnectionState converts tlsflow's connection state to crypto/tls's, the
// type net/http (Request.TLS, Response.TLS), golang.org/x/net/http2 and
// other crypto/tls users (gRPC's credentials, for one) take.
//
// One thing does not carry over: crypto/tls keeps the exporter of RFC 5705
// in an unexported field, so ExportKeyingMaterial on the result panics
// (crypto/tls calls a nil function). Use the tlsflow connection's own
// ConnectionState().ExportKeyingMaterial. NegotiatedProtocolIsMutual is
// always true (tlsflow has no NPN); ECHAccepted is false (tlsflow has no
// ECH yet).
func ConnectionState(s tlsflow.ConnectionState) tls.ConnectionState {
	return tls.ConnectionState{
		Version:                     s.Version,
		HandshakeComplete:           s.HandshakeComplete,
		DidResume:                   s.DidResume,
		CipherSuite:                 s.CipherSuite,
		CurveID:                     tls.CurveID(s.CurveID),
		NegotiatedProtocol:          s.NegotiatedProtocol,
		NegotiatedProtocolIsMutual:  true,
		ServerName:                  s.ServerName,
		PeerCertificates:            s.PeerCertificates,
		VerifiedChains:              s.VerifiedChains,
		TLSUnique:                   s.TLSUnique,
		OCSPResponse:                s.OCSPResponse,
		SignedCertificateTimestamps: s.SignedCertificateTimestamps,
		HelloRetryRequest:           s.HelloRetryRequest,
	}
}

// Conn is a tlsflow connection as net/http and x/net/http2 see it: its
// ConnectionState method returns crypto/tls's type, which is how both fill
// Request.TLS and Response.TLS for a connection that is not a
// *crypto/tls.Conn, and how x/net/http2 applies RFC 9113's TLS rules. The
// embedded *tlsflow.Conn has tlsflow's own state (c.Conn.ConnectionState()).
//
// Every connection a tlshttp server hands to net/http is a *Conn, so a
// Server's ConnContext and ConnState hooks can reach the tlsflow connection.
// An HTTP/2 connection is shown to net/http as a stand-in *Conn (see Serve),
// whose Read, Write and deadlines belong to net/http's bookkeeping and not
// to the TLS connection; its Conn field is the real one all the same.
type Conn struct {
	*tlsflow.Conn

	// standIn, when set, is the pipe net/http reads and writes for an
	// HTTP/2 connection it tracks but does not serve (server.go).
	standIn net.Conn
	// early, when set, is the 0-RTT data Read returns first (earlydata.go).
	early *earlyStream
}

// ConnectionState returns the handshake's result in crypto/tls's type.
func (c *Conn) ConnectionState() tls.ConnectionState {
	return ConnectionState(c.Conn.ConnectionState())
}

func (c *Conn) Read(b []byte) (int, error) {
	if c.standIn != nil {
		return c.standIn.Read(b)
	}
	if c.early != nil {
		if n, ok, err := c.early.read(c.Conn, b); ok {
			return n, err
		}
	}
	return c.Conn.Read(b)
}

func (c *Conn) Write(b []byte) (int, error) {
	if c.standIn != nil {
		return c.standIn.Write(b)
	}
	return c.Conn.Write(b)
}

// Close closes the connection; closing a stand-in closes the HTTP/2
// connection it stands for too (http.Server.Close does that).
func (c *Conn) Close() error {
	if c.standIn != nil {
		c.standIn.Close()
	}
	return c.Conn.Close()
}

// CloseWrite sends close_notify; a stand-in has nothing to half-close.
func (c *Conn) CloseWrite() error {
	if c.standIn != nil {
		return nil
	}
	return c.Conn.CloseWrite()
}

func (c *Conn) SetDeadline(t time.Time) error {
	if c.standIn != nil {
		return c.standIn.SetDeadline(t)
	}
	return c.Conn.SetDeadline(t)
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.standIn != nil {
		return c.standIn.SetReadDeadline(t)
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.standIn != nil {
		return c.standIn.SetWriteDeadline(t)
	}
	return c.Conn.SetWriteDeadline(t)
}

var _ net.Conn = (*Conn)(nil)
