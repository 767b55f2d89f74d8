package tlshttp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/tlsflow/tlsflow"
)

// Serve accepts connections on ln, runs tlsflow's server handshake on each,
// and serves srv's Handler over the protocol ALPN chose: HTTP/2 (with
// golang.org/x/net/http2) for "h2", HTTP/1.1 for "http/1.1" or none. It is
// http.Server.ServeTLS with a tlsflow Config instead of srv.TLSConfig.
//
// The config is cloned. Without NextProtos the server offers "h2" and
// "http/1.1", less what srv turns off (srv.Protocols, or a non-nil empty
// srv.TLSNextProto, net/http's way to disable HTTP/2). HTTP/2 is never
// spoken over TLS 1.2 with a suite RFC 9113 §9.2.2 forbids (the RSA key
// exchange): tlsflow's server takes the client's next protocol there.
//
// Handlers see r.TLS (ConnectionState converted), and srv.Shutdown and
// srv.Close work as they do for net/http's own TLS server: Shutdown sends
// HTTP/2 connections a GOAWAY and waits, within its context, for their
// streams as for HTTP/1.1 requests. To get there, Serve takes srv.Handler's
// place with its own handler on first use (it passes every request on
// unchanged) and registers a function with srv.RegisterOnShutdown: net/http
// keeps track of a connection only while a handler runs on it, so each
// HTTP/2 connection is shown to net/http as a stand-in connection carrying
// one internal request, whose handler is the HTTP/2 server. srv's ConnState
// hook therefore sees an HTTP/2 connection as that stand-in (new, active
// for its whole life, closed) and, from x/net/http2, as the real *Conn
// (active, idle); both are *Conn with the same tlsflow connection. Serve
// also wraps srv.ConnContext (which still runs, after it) so that each
// request knows its connection: RequestClientCertificate finds it there.
//
// A plain HTTP request to the port is answered "400 Bad Request" in plain
// text, as net/http does, and the connection closed. Handshake errors are
// logged to srv.ErrorLog (or the log package). Serve returns when ln fails
// or srv is shut down or closed (http.ErrServerClosed); it closes ln.
func Serve(srv *http.Server, ln net.Listener, config *tlsflow.Config) error {
	if config == nil || (len(config.Certificates) == 0 && config.GetCertificate == nil) {
		return errors.New("tlshttp: Serve needs a Config with Certificates or GetCertificate")
	}
	s, err := serverFor(srv)
	if err != nil {
		return err
	}
	config = s.tlsConfig(config)
	q := &connQueue{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.accept(ctx, ln, config, q, &wg)
	}()
	err = srv.Serve(q)
	cancel()
	ln.Close()
	q.Close()
	wg.Wait()
	return err
}

// ListenAndServe listens on srv.Addr (":https" if empty) and calls Serve.
func ListenAndServe(srv *http.Server, config *tlsflow.Config) error {
	addr := srv.Addr
	if addr == "" {
		addr = ":https"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(srv, ln, config)
}

// ServeTLS is http.Server.ServeTLS over tlsflow: the port of
// srv.ServeTLS(ln, certFile, keyFile). The TLS configuration is
// srv.TLSConfig (a *crypto/tls.Config) converted field by field (see the
// package documentation), with the key pair from certFile and keyFile in
// place of its Certificates when they are given (or when srv.TLSConfig has
// no certificate), as net/http does.
func ServeTLS(srv *http.Server, ln net.Listener, certFile, keyFile string) error {
	config, err := serverConfigFiles(srv.TLSConfig, certFile, keyFile)
	if err != nil {
		ln.Close()
		return err
	}
	return Serve(srv, ln, config)
}

// ListenAndServeTLS is http.Server.ListenAndServeTLS over tlsflow: it
// listens on srv.Addr (":https" if empty) and calls ServeTLS.
func ListenAndServeTLS(srv *http.Server, certFile, keyFile string) error {
	config, err := serverConfigFiles(srv.TLSConfig, certFile, keyFile)
	if err != nil {
		return err
	}
	return ListenAndServe(srv, config)
}

// server is tlshttp's state for one http.Server; it is also the handler
// that takes the place of srv.Handler.
type server struct {
	srv  *http.Server
	next http.Handler // srv.Handler as it was (http.DefaultServeMux for nil)
	h2   *http2.Server
	// h2Hooks holds x/net/http2's graceful shutdown hook, which
	// http2.ConfigureServer registers with an http.Server's Shutdown. It is
	// configured instead of srv, whose TLSConfig and TLSNextProto
	// ConfigureServer would change; srv.Shutdown runs its Shutdown.
	h2Hooks *http.Server

	standIns sync.Map // token → *standIn, until its request arrives
}

var serversMu sync.Mutex

// serverFor returns srv's state, made and installed as srv.Handler on
// first use; later Serve calls on srv (more listeners) share it.
func serverFor(srv *http.Server) (*server, error) {
	serversMu.Lock()
	defer serversMu.Unlock()
	if s, ok := srv.Handler.(*server); ok && s.srv == srv {
		return s, nil
	}
	if srv.Protocols != nil && !srv.Protocols.HTTP1() {
		// net/http serves no request at all on a connection that is not a
		// *crypto/tls.Conn when HTTP/1 is off, the stand-ins' included.
		return nil, errors.New("tlshttp: srv.Protocols without HTTP1 is not supported")
	}
	s := &server{srv: srv, next: srv.Handler, h2: &http2.Server{}, h2Hooks: &http.Server{}}
	if s.next == nil {
		s.next = http.DefaultServeMux
	}
	// What http2.ConfigureServer would take from srv.
	s.h2.IdleTimeout = srv.IdleTimeout
	if s.h2.IdleTimeout == 0 {
		s.h2.IdleTimeout = srv.ReadTimeout
	}
	if err := http2.ConfigureServer(s.h2Hooks, s.h2); err != nil {
		return nil, err
	}
	srv.RegisterOnShutdown(func() { s.h2Hooks.Shutdown(context.Background()) })
	srv.Handler = s
	withConnContext(srv)
	return s, nil
}

// tlsConfig is config with the ALPN protocols this server offers.
func (s *server) tlsConfig(config *tlsflow.Config) *tlsflow.Config {
	config = config.Clone()
	if config.NextProtos == nil {
		config.NextProtos = []string{"h2", "http/1.1"}
	}
	h2Off := (s.srv.Protocols != nil && !s.srv.Protocols.HTTP2()) ||
		(s.srv.TLSNextProto != nil && len(s.srv.TLSNextProto) == 0)
	if h2Off {
		config.NextProtos = slices.DeleteFunc(slices.Clone(config.NextProtos), func(p string) bool { return p == "h2" })
	}
	return config
}

// accept runs ln's accept loop until ln fails or ctx ends, handing each
// connection to serveConn in a goroutine counted by wg.
func (s *server) accept(ctx context.Context, ln net.Listener, config *tlsflow.Config, q *connQueue, wg *sync.WaitGroup) {
	var backoff time.Duration
	for {
		raw, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if ctx.Err() == nil && errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logf("http: Accept error: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			q.fail(err)
			return
		}
		backoff = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, raw, config, q)
		}()
	}
}

// serveConn runs the handshake and hands the connection to net/http: as it
// is for HTTP/1.1, as a stand-in for HTTP/2.
func (s *server) serveConn(ctx context.Context, raw net.Conn, config *tlsflow.Config, q *connQueue) {
	tc, early, err := s.handshake(ctx, raw, config)
	if err != nil {
		s.logf("http: TLS handshake error from %s: %v", raw.RemoteAddr(), err)
		return
	}
	c := &Conn{Conn: tc, early: early}
	st := tc.ConnectionState()
	switch st.NegotiatedProtocol {
	case "", "http/1.1", "http/1.0":
	case "h2":
		// tlsflow's server never chooses h2 over a TLS 1.2 suite RFC 9113
		// §9.2.2 forbids (the RSA key exchange): it takes the client's
		// next protocol instead (internal/handshake, chooseALPN).
		c = s.newStandIn(c)
	default:
		s.logf("http: TLS connection from %s negotiated %q, which this server does not serve", raw.RemoteAddr(), st.NegotiatedProtocol)
		c.Close()
		return
	}
	if !q.deliver(c) {
		c.Close()
	}
}

// standInHeader carries the token that ties a stand-in's internal request
// to its HTTP/2 connection. The token is random, so no client can make a
// request of its own pass for one.
const standInHeader = "Tlshttp-Stand-In"

// standIn is an HTTP/2 connection waiting for its stand-in's request.
type standIn struct {
	conn   *Conn    // the real connection, for x/net/http2
	remote net.Conn // net/http's side of the stand-in's pipe
}

// newStandIn returns the connection net/http tracks for the HTTP/2
// connection c. It reads one request, which ServeHTTP recognises and
// answers by serving c with x/net/http2 until c ends; what net/http writes
// to it is dropped.
func (s *server) newStandIn(c *Conn) *Conn {
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	local, remote := net.Pipe()
	s.standIns.Store(token, &standIn{conn: c, remote: remote})
	go func() {
		fmt.Fprintf(remote, "GET / HTTP/1.1\r\nHost: tlshttp.invalid\r\n%s: %s\r\n\r\n", standInHeader, token)
		io.Copy(io.Discard, remote)
		remote.Close()
		s.standIns.Delete(token) // if its request never came
	}()
	return &Conn{Conn: c.Conn, standIn: local}
}

// ServeHTTP passes every request to srv's handler, except a stand-in's,
// for which it serves the HTTP/2 connection.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if tok := r.Header[standInHeader]; len(tok) == 1 {
		if v, ok := s.standIns.LoadAndDelete(tok[0]); ok {
			s.serveH2(r, v.(*standIn))
			return
		}
	}
	if !earlyRequest(r) {
		return // a request held back for the handshake, which failed
	}
	s.next.ServeHTTP(w, r)
}

// serveH2 serves an HTTP/2 connection until it ends. r is its stand-in's
// request: its context has srv's BaseContext and ConnContext values, and
// ends when srv.Close closes the stand-in.
func (s *server) serveH2(r *http.Request, si *standIn) {
	// Once the connection is over, the stand-in reads EOF and net/http
	// lets it go.
	defer si.remote.Close()
	s.h2.ServeConn(si.conn, &http2.ServeConnOpts{Context: r.Context(), Handler: s.next, BaseConfig: s.srv})
}

func (s *server) logf(format string, args ...any) {
	if s.srv.ErrorLog != nil {
		s.srv.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// connQueue is the listener srv.Serve accepts from: connections whose
// handshake is done, as serveConn delivers them.
type connQueue struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	err   error // why the real listener stopped; written before done is closed
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		if q.err != nil {
			return nil, q.err
		}
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error   { q.once.Do(func() { close(q.done) }); return nil }
func (q *connQueue) Addr() net.Addr { return q.addr }

// fail stops the queue with the real listener's error, for srv.Serve to return.
func (q *connQueue) fail(err error) {
	q.once.Do(func() {
		q.err = err
		close(q.done)
	})
}

// deliver hands c to srv.Serve; false when the queue is closed.
func (q *connQueue) deliver(c net.Conn) bool {
	select {
	case q.conns <- c:
		return true
	case <-q.done:
		return false
	}
}
