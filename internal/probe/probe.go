// Package probe finds out, with real handshakes, what a TLS server accepts
// and prefers: protocol versions (down to SSL 3.0), cipher suites in the
// server's order, groups and HelloRetryRequest, signature schemes, the
// certificate chain, resumption, ALPN, the extended master secret, secure
// renegotiation and downgrade protection. Each finding carries a rating and
// the reason in plain words, in English and German.
//
// Most questions are asked with a probe hello (hello.go): a ClientHello
// built with the wire codecs, whose answer is read only up to the
// ServerHello (or the alert). That is how a probe learns about versions and
// suites tlsflow never enables. Questions that need a complete handshake
// (the TLS 1.3 certificate, resumption, ALPN in TLS 1.3, TLS 1.3 signature
// schemes) use the tlsflow client.
//
// A probe is bounded: at most Options.MaxHandshakes connections, each within
// Options.Timeout, Options.Pace apart.
package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Options configure a probe.
type Options struct {
	// Addr is host:port.
	Addr string
	// ServerName goes into server_name and is what the certificate must
	// name (default: the host of Addr, unless it is an IP address).
	ServerName string
	// RootCAs are the trust anchors for the chain (nil: the system's).
	RootCAs *x509.CertPool
	// StartTLS upgrades a plaintext protocol first: "", "ftp", "smtp",
	// "imap" or "pop3".
	StartTLS string
	// Timeout bounds each probe connection: dial, upgrade, hello and
	// answer (default 5s).
	Timeout time.Duration
	// Pace is the pause between two connections (default 50ms), so that a
	// probe is polite to the server and to rate limiters.
	Pace time.Duration
	// MaxHandshakes bounds the connections of the whole probe (default 250).
	MaxHandshakes int
	// Progress, if set, is told the name of each stage as it starts.
	Progress func(stage string, handshakes int)
	// Now is the time certificates are checked at (default time.Now).
	Now func() time.Time
	// ECHConfigList, if set, is the server's ECHConfigList (as its DNS
	// HTTPS record publishes it): the probe tries Encrypted Client Hello
	// with it. GREASE ECH is tried either way.
	ECHConfigList []byte
	// Dial opens the TCP connection (default: a net.Dialer).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// prober runs one probe.
type prober struct {
	opt        Options
	host       string
	serverName string
	used       atomic.Int64 // connections opened
	last       time.Time    // when the last connection was opened
	report     *Report
	hellos     map[uint16]*wire.ServerHello // the accepted versions' ServerHellos, below TLS 1.3
}

// errBudget ends a stage when the probe has used its connections.
var errBudget = errors.New("the probe's handshake budget is used up")

func (o *Options) defaults() error {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Pace < 0 {
		o.Pace = 0
	}
	if o.MaxHandshakes <= 0 {
		o.MaxHandshakes = 250
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Dial == nil {
		d := &net.Dialer{}
		o.Dial = d.DialContext
	}
	switch o.StartTLS {
	case "", "ftp", "smtp", "imap", "pop3":
	default:
		return fmt.Errorf("STARTTLS protocol %q: only ftp, smtp, imap and pop3", o.StartTLS)
	}
	return nil
}

// Run probes the server at opt.Addr. The error is for a probe that could
// not start (a bad address); a server that cannot be reached is a Report
// whose Reachable is false.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", opt.Addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("address %q: port %q is not a number", opt.Addr, port)
	}
	p := &prober{opt: opt, host: host, serverName: opt.ServerName, hellos: map[uint16]*wire.ServerHello{}}
	if p.serverName == "" && net.ParseIP(host) == nil {
		p.serverName = host
	}
	p.report = &Report{Target: opt.Addr, ServerName: p.serverName, StartTLS: opt.StartTLS, Started: opt.Now()}
	p.run(ctx)
	p.report.Handshakes = int(p.used.Load())
	p.report.Findings = rate(p.report)
	return p.report, nil
}

// stages run in order; each reads what the earlier ones found.
func (p *prober) run(ctx context.Context) {
	stages := []struct {
		name string
		run  func(context.Context)
	}{
		{"versions", p.versions},
		{"cipher suites", p.suites},
		{"groups", p.groups},
		{"downgrade protection", p.downgrade},
		{"certificate", p.certificate},
		{"signature schemes", p.signatureSchemes},
		{"resumption", p.resumption},
		{"records", p.records},
		{"encrypted client hello", p.ech},
	}
	for _, s := range stages {
		if ctx.Err() != nil {
			p.report.incomplete("all", "%v", ctx.Err())
			return
		}
		if s.name != "versions" && !p.report.Reachable {
			return
		}
		if p.opt.Progress != nil {
			p.opt.Progress(s.name, int(p.used.Load()))
		}
		s.run(ctx)
	}
}

// connect opens one probe connection, upgraded by STARTTLS if asked, with
// the per-probe deadline set. It counts against the budget and keeps the
// pace.
func (p *prober) connect(ctx context.Context) (net.Conn, context.Context, context.CancelFunc, error) {
	if int(p.used.Load()) >= p.opt.MaxHandshakes {
		return nil, nil, nil, errBudget
	}
	if wait := p.opt.Pace - time.Since(p.last); !p.last.IsZero() && wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, nil, nil, ctx.Err()
		}
	}
	p.used.Add(1)
	p.last = time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	conn, err := p.opt.Dial(ctx, "tcp", p.opt.Addr)
	if err != nil {
		cancel()
		return nil, nil, nil, fmt.Errorf("%w: %w", errNoAnswer, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// Closing the connection when the context ends unblocks a read the
	// deadline alone would also end; it matters for a cancelled probe.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	done := func() { stop(); conn.Close(); cancel() }
	if p.opt.StartTLS != "" {
		if err := startTLS(conn, p.opt.StartTLS, p.host); err != nil {
			done()
			return nil, nil, nil, fmt.Errorf("%w: STARTTLS (%s): %w", errNoAnswer, p.opt.StartTLS, timedOut(ctx, err))
		}
	}
	return conn, ctx, done, nil
}

// hello sends one probe ClientHello and reads the answer.
func (p *prober) hello(ctx context.Context, spec helloSpec) (*answer, error) {
	if spec.serverName == "" {
		spec.serverName = p.serverName
	}
	ch, err := spec.clientHello()
	if err != nil {
		return nil, err
	}
	msg, err := ch.Marshal()
	if err != nil {
		return nil, err
	}
	conn, pctx, done, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	w := record.NewWriter(conn)
	// The record carrying a ClientHello says TLS 1.0 (RFC 8446 §5.1: "MAY
	// be 0x0301 for compatibility"), SSL 3.0 for an SSL 3.0 hello.
	w.SetVersion(versionTLS10)
	if spec.version == versionSSL30 {
		w.SetVersion(versionSSL30)
	}
	for _, part := range fragments(msg, spec.fragment) {
		if err := w.WriteRecord(record.Handshake, part); err != nil {
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("%w: %w", errNoAnswer, err)
	}
	a, err := readAnswer(record.NewReader(conn), &spec)
	if err != nil {
		return nil, timedOut(pctx, err)
	}
	return a, nil
}

// fragments cuts msg into pieces of at most n bytes (all of it when n is 0).
func fragments(msg []byte, n int) [][]byte {
	if n <= 0 {
		return [][]byte{msg}
	}
	var out [][]byte
	for len(msg) > n {
		out = append(out, msg[:n])
		msg = msg[n:]
	}
	return append(out, msg)
}

// timedOut names the per-probe timeout as the cause of err when it has
// passed: the connection was closed under the read, which alone would say
// only "use of closed network connection".
func timedOut(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer before the per-probe timeout", errNoAnswer)
	}
	return err
}

// handshake runs a complete tlsflow client handshake on a probe
// connection. The chain is never verified here (InsecureSkipVerify): the
// certificate stage checks it itself, to say what is wrong with it.
func (p *prober) handshake(ctx context.Context, cfg *tlsflow.Config) (*tlsflow.Conn, context.CancelFunc, error) {
	conn, _, done, err := p.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg.InsecureSkipVerify = true
	if cfg.ServerName == "" {
		// The host for an IP address too: tlsflow sends no IP address in
		// server_name, and keys its session cache by this name.
		cfg.ServerName = p.host
		if p.serverName != "" {
			cfg.ServerName = p.serverName
		}
	}
	c := tlsflow.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	defer cancel()
	if err := c.HandshakeContext(hctx); err != nil {
		done()
		return nil, nil, err
	}
	return c, func() { c.Close(); done() }, nil
}
