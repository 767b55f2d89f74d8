package tlshttp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/tlsflow/tlsflow"
)

// dialProxy opens a tunnel to addr through an HTTP proxy (RFC 9110 §9.3.6,
// CONNECT), over TLS to the proxy for an https:// proxy URL. The proxy's
// credentials come from the URL's user information (Basic, RFC 7617), other
// headers from Base.ProxyConnectHeader.
func (t *Transport) dialProxy(ctx context.Context, proxyURL *url.URL, addr string) (net.Conn, error) {
	port := proxyURL.Port()
	switch proxyURL.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	default:
		return nil, fmt.Errorf("tlshttp: proxy scheme %q is not supported (http and https are)", proxyURL.Scheme)
	}
	conn, err := t.dial(ctx, "tcp", net.JoinHostPort(proxyURL.Hostname(), port))
	if err != nil {
		return nil, err
	}
	if proxyURL.Scheme == "https" {
		config := t.Config.Clone()
		if config == nil {
			config = &tlsflow.Config{}
		}
		config.ServerName = proxyURL.Hostname()
		config.NextProtos = nil
		tc := tlsflow.Client(conn, config)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	if err := t.connect(ctx, conn, proxyURL, addr); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// connect asks the proxy on conn for a tunnel to addr and reads its answer:
// its header, within Base.MaxResponseHeaderBytes (net/http's 10 MiB when
// zero), shown to Base.OnProxyConnectResponse if set. A 200 opens the
// tunnel, and whatever the answer says of a body is ignored (RFC 9110
// §9.3.6: "A client MUST ignore any Content-Length or Transfer-Encoding
// header fields received in a successful response to CONNECT"; Go's own
// HTTP server, for one, sends Transfer-Encoding: chunked).
func (t *Transport) connect(ctx context.Context, conn net.Conn, proxyURL *url.URL, addr string) error {
	header := t.h1.ProxyConnectHeader
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
		defer conn.SetDeadline(time.Time{})
	}
	// The proxy may not answer at all: ending ctx must end the wait.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: header.Clone(),
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if u := proxyURL.User; u != nil {
		password, _ := u.Password()
		req.SetBasicAuth(u.Username(), password)
		req.Header["Proxy-Authorization"] = req.Header["Authorization"]
		delete(req.Header, "Authorization")
	}
	if err := req.Write(conn); err != nil {
		return err
	}
	limit := t.h1.MaxResponseHeaderBytes
	if limit <= 0 {
		limit = 10 << 20
	}
	br := bufio.NewReader(&io.LimitedReader{R: conn, N: limit})
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reading the proxy's answer to CONNECT %s: %w", addr, err)
	}
	if hook := t.h1.OnProxyConnectResponse; hook != nil {
		if err := hook(ctx, proxyURL, req, resp); err != nil {
			return err
		}
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the proxy refused CONNECT %s: %s", addr, resp.Status)
	}
	if br.Buffered() > 0 {
		// Nothing can come through the tunnel before our ClientHello: a
		// TLS server speaks second.
		return fmt.Errorf("the proxy sent %d bytes after its answer to CONNECT %s", br.Buffered(), addr)
	}
	return nil
}
