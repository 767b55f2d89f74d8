package tlshttp

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/tlsflow/tlsflow"
)

// ErrHTTP2PostHandshakeAuth is RequestClientCertificate's answer for a
// request that came over HTTP/2: RFC 8740 §3 forbids a CertificateRequest
// after the handshake there, as RFC 9113 §9.2.1 forbids renegotiation (one
// connection carries many requests at once). The client must ask again
// over HTTP/1.1, on a connection of its own.
var ErrHTTP2PostHandshakeAuth = errors.New("tlshttp: HTTP/2 forbids asking for a client certificate after the handshake (RFC 8740); the request must come over HTTP/1.1")

// connKey is the request context key under which Serve's connections are
// found: each *Conn net/http serves, through srv.ConnContext.
type connKey struct{}

// withConnContext makes srv's requests carry their *Conn, before whatever
// srv.ConnContext adds.
func withConnContext(srv *http.Server) {
	own := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if tc, ok := c.(*Conn); ok {
			ctx = context.WithValue(ctx, connKey{}, tc)
		}
		if own != nil {
			return own(ctx, c)
		}
		return ctx
	}
}

// RequestClientCertificate asks the client that sent r for a certificate
// after the handshake, for a resource that needs one: TLS 1.3
// post-handshake authentication (RFC 8446 §4.6.2), run on r's connection by
// tlsflow.Conn.RequestClientCertificate, auth saying what the answer must
// be (RequireAndVerifyClientCert: a chain from Config.ClientCAs; see that
// method). r must come from a server run by Serve (or ServeTLS,
// ListenAndServe, ListenAndServeTLS).
//
// On success r.TLS has the chain the client proved it holds
// (PeerCertificates, and VerifiedChains when verified), and so do the
// later requests on the connection: net/http shares r.TLS between them. A
// connection that has already shown a certificate auth accepts is not
// asked again. A client required to send one that sends none gives
// tlsflow.ErrNoClientCertificate and the connection goes on (answer 403,
// say); a chain that fails verification ends the connection with an
// alert, as in a handshake, and that alert's error is returned.
//
// The exchange needs a client that offered it (tlsflow's with a
// certificate configured, curl built with OpenSSL, openssl s_client
// -enable_pha; browsers hardly ever), TLS 1.3, and HTTP/1.1: a request
// over HTTP/2 gives ErrHTTP2PostHandshakeAuth, and nothing is sent. Read
// the request body first: the client's answer comes after the body's
// bytes, which the connection does not skip.
//
// The wait ends with the answer, with the connection, or at the deadline
// of r's context if it has one, which closes the connection (give it one
// with r.WithContext: a client that offered and never answers is waited
// for as long as it keeps the connection open). The context's
// cancellation does not end the wait: net/http cancels it when the
// connection fails, and the failure is what to return.
func RequestClientCertificate(r *http.Request, auth tlsflow.ClientAuthType) error {
	c, ok := r.Context().Value(connKey{}).(*Conn)
	if !ok {
		return errors.New("tlshttp: RequestClientCertificate needs a request served by tlshttp (Serve, ServeTLS, ListenAndServe, ListenAndServeTLS)")
	}
	if r.ProtoMajor != 1 || c.standIn != nil {
		return ErrHTTP2PostHandshakeAuth
	}
	if !accepts(auth, c.Conn.ConnectionState()) {
		ctx := context.WithoutCancel(r.Context())
		if deadline, ok := r.Context().Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		if err := c.Conn.RequestClientCertificate(ctx, auth); err != nil {
			return err
		}
	}
	if r.TLS != nil {
		*r.TLS = ConnectionState(c.Conn.ConnectionState())
	}
	return nil
}

// accepts reports whether the connection's client certificate, if any,
// is one auth would take: any for the modes that do not verify, a
// verified one for those that do.
func accepts(auth tlsflow.ClientAuthType, st tlsflow.ConnectionState) bool {
	switch {
	case len(st.PeerCertificates) == 0:
		return false
	case auth == tlsflow.VerifyClientCertIfGiven || auth == tlsflow.RequireAndVerifyClientCert:
		return len(st.VerifiedChains) > 0
	}
	return true
}
