package tlsflow

import (
	"context"
	"errors"
	"net"
	"strings"
)

// Dialer dials TLS connections: TCP (step 0), then the handshake.
type Dialer struct {
	// NetDialer dials the TCP connection; a zero net.Dialer if nil.
	NetDialer *net.Dialer
	// Config is the TLS configuration; ServerName defaults to the host of addr.
	Config *Config
}

// Dial connects to addr ("host:port") and runs the handshake.
func Dial(network, addr string, config *Config) (*Conn, error) {
	return (&Dialer{Config: config}).dial(context.Background(), network, addr)
}

// DialWithDialer is Dial with a net.Dialer for the TCP connection.
func DialWithDialer(dialer *net.Dialer, network, addr string, config *Config) (*Conn, error) {
	return (&Dialer{NetDialer: dialer, Config: config}).dial(context.Background(), network, addr)
}

// Dial connects to addr and runs the handshake.
func (d *Dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext connects to addr and runs the handshake; ctx bounds both.
// The returned net.Conn is a *Conn.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err // not a typed nil
	}
	return c, nil
}

func (d *Dialer) dial(ctx context.Context, network, addr string) (*Conn, error) {
	nd := d.NetDialer
	if nd == nil {
		nd = &net.Dialer{}
	}
	raw, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	config := d.Config
	if config == nil {
		config = &Config{}
	}
	if config.ServerName == "" {
		host := addr
		if h, _, err := net.SplitHostPort(addr); err == nil {
			host = h
		}
		config = config.Clone()
		config.ServerName = strings.TrimSuffix(host, ".")
	}
	conn := Client(raw, config)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

type listener struct {
	net.Listener
	config *Config
}

// Accept returns a server-side *Conn; its handshake runs on first use.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return Server(c, l.config), nil
}

// NewListener wraps inner so Accept returns server-side TLS connections.
func NewListener(inner net.Listener, config *Config) net.Listener {
	return &listener{Listener: inner, config: config}
}

// Listen listens on laddr and returns a TLS listener. The Config needs a
// way to authenticate the server: Certificates, GetCertificate,
// GetConfigForClient, or external PSKs.
func Listen(network, laddr string, config *Config) (net.Listener, error) {
	if config == nil || (len(config.Certificates) == 0 && config.GetCertificate == nil && config.GetConfigForClient == nil &&
		len(config.ExternalPSKs) == 0 && config.GetExternalPSK == nil) {
		return nil, errors.New("tlsflow: Listen needs a Config with Certificates, GetCertificate, GetConfigForClient or ExternalPSKs")
	}
	l, err := net.Listen(network, laddr)
	if err != nil {
		return nil, err
	}
	return NewListener(l, config), nil
}
