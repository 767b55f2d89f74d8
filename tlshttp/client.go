package tlshttp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/tlsflow/tlsflow"
)

// Transport is an http.RoundTripper whose https requests go over tlsflow:
// HTTP/2 (golang.org/x/net/http2) when the server chooses "h2" by ALPN,
// else HTTP/1.1 (net/http), connections kept and reused by each, through a
// proxy when one is set (an HTTP CONNECT tunnel, with tlsflow's handshake
// to the origin inside it), with Response.TLS filled and httptrace's
// TLSHandshakeStart and TLSHandshakeDone called. http:// requests go to the
// HTTP/1.1 transport unchanged.
//
// http.Transport cannot do this with DialTLSContext alone: it fills
// Response.TLS and speaks HTTP/2 only over a *crypto/tls.Conn, and when a
// proxy is set it does the TLS itself, with crypto/tls, never calling
// DialTLSContext.
//
// The zero Transport is usable: tlsflow's defaults, the settings of
// http.DefaultTransport (proxies from the environment among them). A
// Transport must not be copied after first use, and its fields must not
// change once it is in use.
type Transport struct {
	// Config is the TLS configuration, for each connection cloned with
	// ServerName set to the request's host when it is empty. NextProtos,
	// when nil, offers "h2" and "http/1.1", or nothing when Base turns
	// HTTP/2 off (as net/http does); without "h2" in it every request is
	// HTTP/1.1.
	Config *tlsflow.Config

	// Base supplies the HTTP settings: Proxy, ProxyConnectHeader,
	// OnProxyConnectResponse, DialContext (for the TCP connection to the
	// server or the proxy), MaxResponseHeaderBytes (the proxy's answer too),
	// TLSHandshakeTimeout, and for HTTP/1.1 the rest (MaxIdleConnsPerHost,
	// IdleConnTimeout, ...); IdleConnTimeout and DisableCompression apply to
	// HTTP/2 too. HTTP/2 is turned off as for net/http, by a non-nil empty
	// TLSNextProto or by Protocols without HTTP2; ForceAttemptHTTP2 is not
	// needed. Its TLSClientConfig and DialTLSContext are not used. The
	// Transport works on a clone made on first use; nil means
	// http.DefaultTransport.
	Base *http.Transport

	once    sync.Once
	h1      *http.Transport // HTTP/1.1, and plain http://
	h2      *http2.Transport
	pool    *h2Pool
	offerH2 bool
	proxy   func(*http.Request) (*url.URL, error)
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NewTransport returns a Transport with config and http.DefaultTransport's
// settings.
func NewTransport(config *tlsflow.Config) *Transport { return &Transport{Config: config} }

func (t *Transport) init() {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t.h1 = base.Clone()
	t.proxy = base.Proxy
	t.dial = base.DialContext
	if t.dial == nil {
		t.dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	t.offerH2 = (t.Config == nil || t.Config.NextProtos == nil || slices.Contains(t.Config.NextProtos, "h2")) &&
		!(base.TLSNextProto != nil && len(base.TLSNextProto) == 0) &&
		(base.Protocols == nil || base.Protocols.HTTP2())

	// The HTTP/1.1 transport never sees an https request's proxy: it
	// would tunnel to it and then run crypto/tls. Its connections to https
	// servers come from dialHTTP1, already through the tunnel.
	t.h1.Proxy = func(req *http.Request) (*url.URL, error) {
		if req.URL.Scheme == "https" || t.proxy == nil {
			return nil, nil
		}
		return t.proxy(req)
	}
	t.h1.DialTLSContext = t.dialHTTP1
	t.h1.ForceAttemptHTTP2 = false
	t.h1.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}

	t.pool = &h2Pool{t: t, conns: map[string][]*http2.ClientConn{}, dialing: map[string]*h2Dial{},
		http1: map[string]bool{}, spare: map[string]*Conn{}}
	t.h2 = &http2.Transport{
		ConnPool:           t.pool,
		DisableCompression: base.DisableCompression,
		IdleConnTimeout:    base.IdleConnTimeout,
	}
}

// RoundTrip sends req: https by HTTP/2 if the server chose it for the
// connection, else by HTTP/1.1; http:// by HTTP/1.1.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.once.Do(t.init)
	if req.URL.Scheme != "https" {
		return t.h1.RoundTrip(req)
	}
	if t.offerH2 && !t.pool.speaksHTTP1(authorityAddr(req.URL)) {
		resp, err := t.h2.RoundTripOpt(req, http2.RoundTripOpt{})
		if !errors.Is(err, errHTTP1) {
			return resp, err
		}
		// The server chose HTTP/1.1; the connection waits in the pool's
		// spares for the HTTP/1.1 transport to dial it. req.Body is
		// untouched: the HTTP/2 transport failed before it had a connection.
	}
	return t.roundTripHTTP1(req)
}

// roundTripHTTP1 sends req with the HTTP/1.1 transport, which reports the
// connection it used through httptrace; Response.TLS is that connection's.
type requestKey struct{}

func (t *Transport) roundTripHTTP1(req *http.Request) (*http.Response, error) {
	var conn net.Conn
	ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { conn = info.Conn },
	})
	ctx = context.WithValue(ctx, requestKey{}, req) // for dialHTTP1's Proxy call
	resp, err := t.h1.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	resp.Request = req
	if c, ok := conn.(*Conn); ok && resp.TLS == nil {
		st := c.ConnectionState()
		resp.TLS = &st
	}
	return resp, nil
}

// CloseIdleConnections closes the connections no request is using.
func (t *Transport) CloseIdleConnections() {
	t.once.Do(t.init)
	t.h1.CloseIdleConnections()
	t.pool.closeIdle()
}

// dialHTTP1 is the HTTP/1.1 transport's DialTLSContext: the connection the
// HTTP/2 pool dialed and the server answered with HTTP/1.1, or a new one
// offering HTTP/1.1 only (a server that chose HTTP/1.1 before is not
// offered "h2" again), or with HTTP/2 off nothing, as net/http does.
func (t *Transport) dialHTTP1(ctx context.Context, network, addr string) (net.Conn, error) {
	if c := t.pool.takeSpare(addr); c != nil {
		return c, nil
	}
	req, _ := ctx.Value(requestKey{}).(*http.Request)
	var protos []string
	if t.offerH2 {
		protos = []string{"http/1.1"}
	}
	if t.Config != nil && t.Config.NextProtos != nil {
		protos = slices.DeleteFunc(slices.Clone(t.Config.NextProtos), func(p string) bool { return p == "h2" })
	}
	return t.dialTLS(ctx, req, addr, protos)
}

// dialTLS connects to addr (host:port), through the proxy Base.Proxy names
// for req if any, and runs tlsflow's handshake offering protos.
func (t *Transport) dialTLS(ctx context.Context, req *http.Request, addr string, protos []string) (*Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var proxyURL *url.URL
	if t.proxy != nil {
		if req == nil {
			req = &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: addr, Path: "/"},
				Header: http.Header{}, Host: addr}
		}
		if proxyURL, err = t.proxy(req); err != nil {
			return nil, err
		}
	}
	var raw net.Conn
	if proxyURL != nil {
		raw, err = t.dialProxy(ctx, proxyURL, addr)
		if err != nil {
			return nil, &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
		}
	} else if raw, err = t.dial(ctx, "tcp", addr); err != nil {
		return nil, err
	}

	config := t.Config.Clone()
	if config == nil {
		config = &tlsflow.Config{}
	}
	if config.ServerName == "" {
		config.ServerName = host
	}
	config.NextProtos = protos
	c := tlsflow.Client(raw, config)
	if timeout := t.h1.TLSHandshakeTimeout; timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	err = c.HandshakeContext(ctx)
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(ConnectionState(c.ConnectionState()), err)
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	return &Conn{Conn: c}, nil
}

// authorityAddr is the host:port a request goes to, the pools' key.
func authorityAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
