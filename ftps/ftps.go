// Package ftps is a small FTP client whose control and data connections are
// both protected by tlsflow: explicit FTPS, "AUTH TLS" (RFC 4217) on top of
// FTP (RFC 959), with passive data connections (EPSV, RFC 2428, else PASV).
//
// Every data connection resumes the control connection's TLS session. That
// proves to the server that whoever opened the data connection also holds
// the control connection's keys, so a third party that races to the
// passive port cannot take the transfer; servers such as vsftpd
// (require_ssl_reuse, its default) refuse data connections that do not.
package ftps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tlsflow/tlsflow"
)

// Bounds on what a server may send.
const (
	maxReplyLine  = 4096     // bytes in one reply line, CRLF included
	maxReplyLines = 1000     // lines in one multi-line reply
	maxListing    = 16 << 20 // bytes in one LIST listing
)

// opTimeout bounds each exchange on the control connection and each data
// transfer, so a silent server cannot hang the client.
const opTimeout = 30 * time.Second

// Client is an FTP control connection upgraded to TLS with AUTH TLS.
// It is not safe for concurrent use.
type Client struct {
	conn net.Conn      // the control connection: TCP until AUTH TLS, then ctrl
	ctrl *tlsflow.Conn // the control connection's TLS
	r    *bufio.Reader // replies from conn
	logf func(format string, args ...any)

	// dataHost is the control connection's peer address: data connections
	// go there whatever address PASV names (see passive).
	dataHost string
	dataCfg  *tlsflow.Config

	protected bool // PBSZ 0 and PROT P accepted: data connections use TLS
	noEPSV    bool // the server refused EPSV once: use PASV
}

// ReplyError is a server reply the client did not expect: the command it
// answered (the password masked), its code and its text.
type ReplyError struct {
	Command string
	Code    int
	Lines   []string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("ftps: %s: server replied %d %s", e.Command, e.Code, strings.Join(e.Lines, " / "))
}

// Dial connects to the FTP server at addr ("host:port"), reads its
// greeting and upgrades the control connection with AUTH TLS (RFC 4217
// §4). ctx bounds the connection and the handshake. cfg is used as for
// tlsflow.Dial: ServerName defaults to the host of addr. If
// cfg.ClientSessionCache is set, the control connection resumes from it and
// stores its session there. logf, if not nil, receives each command and
// reply line ("> USER anonymous", "< 331 ...") with the password masked.
func Dial(ctx context.Context, addr string, cfg *tlsflow.Config, logf func(format string, args ...any)) (*Client, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cfg == nil {
		cfg = &tlsflow.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("ftps: address %q: %w", addr, err)
		}
		cfg.ServerName = host
	}

	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ftps: %w", err)
	}
	// Until Dial returns, ctx ending closes the connection and so ends any
	// read or write in progress.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	c, err := dial(ctx, raw, cfg, logf)
	if err != nil {
		raw.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return nil, err
	}
	return c, nil
}

func dial(ctx context.Context, raw net.Conn, cfg *tlsflow.Config, logf func(string, ...any)) (*Client, error) {
	c := &Client{conn: raw, r: bufio.NewReaderSize(raw, maxReplyLine), logf: logf}
	if host, _, err := net.SplitHostPort(raw.RemoteAddr().String()); err == nil {
		c.dataHost = host
	}

	// RFC 959 §5.4: the server may first say 120 (ready in a while), then 220.
	greeting, err := c.readReply()
	if err == nil && greeting.code == 120 {
		greeting, err = c.readReply()
	}
	if err != nil {
		return nil, fmt.Errorf("ftps: reading the greeting: %w", err)
	}
	if greeting.code != 220 {
		return nil, greeting.asError("greeting")
	}
	if _, err := c.exchange("AUTH TLS", "", 234); err != nil {
		return nil, err
	}
	// Whatever the server sent after 234 and before the handshake came in
	// clear and unauthenticated: taking it as the first protected reply is
	// the STARTTLS command injection (CVE-2011-0411 and its kin).
	if c.r.Buffered() > 0 {
		return nil, fmt.Errorf("ftps: AUTH TLS: %d bytes of cleartext after the 234 reply, before the TLS handshake", c.r.Buffered())
	}

	sessions := &sessionStore{user: cfg.ClientSessionCache}
	ctrlCfg := cfg.Clone()
	ctrlCfg.ClientSessionCache = controlSessions{sessions}
	c.dataCfg = cfg.Clone()
	c.dataCfg.ClientSessionCache = dataSessions{sessions}

	c.ctrl = tlsflow.Client(raw, ctrlCfg)
	if err := c.ctrl.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("ftps: control connection TLS handshake: %w", err)
	}
	c.conn, c.r = c.ctrl, bufio.NewReaderSize(c.ctrl, maxReplyLine)
	return c, nil
}

// ControlState describes the control connection's TLS session.
func (c *Client) ControlState() tlsflow.ConnectionState { return c.ctrl.ConnectionState() }

// Login sends USER and, when the server asks for one, PASS (RFC 959 §4.1.1).
// The password never reaches logf.
func (c *Client) Login(user, pass string) error {
	r, err := c.exchange("USER", user, 230, 331)
	if err != nil || r.code == 230 {
		return err // 230: logged in without a password
	}
	_, err = c.exchange("PASS", pass, 230, 202)
	return err
}

// List returns the lines of the LIST listing of path (the current
// directory if path is empty), sent over a TLS data connection that
// resumes the control connection's session. The first call also sends
// PBSZ 0 and PROT P (RFC 2228 §3; RFC 4217 wants PBSZ before PROT, and 0
// as TLS does its own framing).
func (c *Client) List(path string) ([]string, error) {
	if !c.protected {
		if _, err := c.exchange("PBSZ", "0", 200); err != nil {
			return nil, err
		}
		if _, err := c.exchange("PROT", "P", 200); err != nil {
			return nil, err
		}
		c.protected = true
	}
	port, err := c.passive()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.dataHost, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("ftps: LIST: data connection: %w", err)
	}
	raw.SetDeadline(time.Now().Add(opTimeout))
	data := tlsflow.Client(raw, c.dataCfg)
	defer data.Close()

	if err := c.send("LIST", path); err != nil {
		return nil, err
	}
	// Servers differ on whether they accept the data connection's handshake
	// before or after the 150 reply, so the handshake runs while the reply
	// is read.
	handshake := make(chan error, 1)
	go func() { handshake <- data.HandshakeContext(ctx) }()
	mark, err := c.readReply()
	if err == nil && mark.code != 125 && mark.code != 150 {
		err = mark.asError(commandLine("LIST", path))
	}
	if err != nil {
		raw.Close()
		<-handshake
		return nil, err
	}
	if err := <-handshake; err != nil {
		raw.Close()
		// The server's reply says why, when it has one to give.
		if final, rerr := c.readReply(); rerr == nil && final.code >= 400 {
			return nil, fmt.Errorf("ftps: LIST: data connection TLS handshake: %w (%w)", err, final.asError(commandLine("LIST", path)))
		}
		return nil, fmt.Errorf("ftps: LIST: data connection TLS handshake: %w", err)
	}

	listing, dataErr := io.ReadAll(io.LimitReader(data, maxListing+1))
	if dataErr == nil && len(listing) > maxListing {
		dataErr = fmt.Errorf("listing longer than %d bytes", maxListing)
	}
	data.Close()
	// The final reply first: when the server gave up on the transfer (vsftpd's
	// "522 SSL connection failed: session reuse required"), it says why.
	final, err := c.readReply()
	if err != nil {
		return nil, err
	}
	if final.code != 226 && final.code != 250 {
		return nil, final.asError(commandLine("LIST", path))
	}
	if dataErr != nil {
		// io.ReadAll stops cleanly only at close_notify: a TCP close
		// without it may be an attacker truncating the listing.
		return nil, fmt.Errorf("ftps: LIST: reading the data connection: %w", dataErr)
	}
	return splitLines(listing), nil
}

// Quit sends QUIT (RFC 959 §4.1.1) and closes the control connection,
// sending close_notify; the connection is closed even if QUIT fails.
func (c *Client) Quit() error {
	_, err := c.exchange("QUIT", "", 221)
	if cerr := c.ctrl.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("ftps: closing the control connection: %w", cerr)
	}
	return err
}

// passive asks for a passive data port: EPSV (RFC 2428 §3) first, PASV
// (RFC 959 §4.1.2) if the server does not know it. The address in a PASV
// reply is ignored: data goes to the control connection's peer. A server
// cannot then point the client at a third host (the FTP bounce, RFC 2577
// §3), and one behind NAT that names its private address still works.
func (c *Client) passive() (int, error) {
	if !c.noEPSV {
		r, err := c.exchange("EPSV", "", 229, 500, 501, 502, 522)
		if err != nil {
			return 0, err
		}
		if r.code == 229 {
			port, err := parseEPSV(r.lines[0])
			if err != nil {
				return 0, fmt.Errorf("ftps: EPSV: %w", err)
			}
			return port, nil
		}
		c.noEPSV = true
	}
	r, err := c.exchange("PASV", "", 227)
	if err != nil {
		return 0, err
	}
	port, err := parsePASV(r.lines[0])
	if err != nil {
		return 0, fmt.Errorf("ftps: PASV: %w", err)
	}
	return port, nil
}

// parseEPSV reads the port from the text of a 229 reply, "... (|||port|)".
// RFC 2428 §3 lets the server pick the delimiter, the same one four times.
func parseEPSV(line string) (int, error) {
	open := strings.IndexByte(line, '(')
	end := strings.LastIndexByte(line, ')')
	if open < 0 || end < open+5 {
		return 0, fmt.Errorf("no (|||port|) in %q", line)
	}
	inner := line[open+1 : end]
	delim := inner[0]
	if delim < 33 || delim > 126 || inner[1] != delim || inner[2] != delim || inner[len(inner)-1] != delim {
		return 0, fmt.Errorf("malformed (|||port|) in %q", line)
	}
	return parsePort(inner[3 : len(inner)-1])
}

// parsePASV reads the port from the text of a 227 reply, "... (h1,h2,h3,h4,p1,p2)". RFC 959
// §4.1.2 leaves the text around the numbers free, so, as RFC 1123
// §4.1.2.6 advises, the numbers are found by scanning for them.
func parsePASV(text string) (int, error) {
	start := strings.IndexAny(text, "0123456789")
	if start < 0 {
		return 0, fmt.Errorf("no h1,h2,h3,h4,p1,p2 in %q", text)
	}
	end := start
	for end < len(text) && (text[end] == ',' || text[end] >= '0' && text[end] <= '9') {
		end++
	}
	fields := strings.Split(text[start:end], ",")
	if len(fields) != 6 {
		return 0, fmt.Errorf("no h1,h2,h3,h4,p1,p2 in %q", text)
	}
	var n [6]int
	for i, f := range fields {
		v, err := strconv.Atoi(f)
		if err != nil || v > 255 {
			return 0, fmt.Errorf("malformed h1,h2,h3,h4,p1,p2 in %q", text)
		}
		n[i] = v
	}
	return checkPort(n[4]<<8|n[5], text)
}

func parsePort(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number", s)
	}
	return checkPort(v, s)
}

func checkPort(port int, from string) (int, error) {
	if port < 1 || port > 65535 {
		return 0, fmt.Errorf("port %d out of range in %q", port, from)
	}
	return port, nil
}

func splitLines(b []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSuffix(l, "\r"); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// reply is one FTP reply (RFC 959 §4.2): a three-digit code and its lines.
type reply struct {
	code  int
	lines []string
}

func (r reply) asError(command string) *ReplyError {
	return &ReplyError{Command: command, Code: r.code, Lines: r.lines}
}

// exchange sends a command and reads its reply, which must have one of the
// codes in want.
func (c *Client) exchange(cmd, arg string, want ...int) (reply, error) {
	if err := c.send(cmd, arg); err != nil {
		return reply{}, err
	}
	r, err := c.readReply()
	if err != nil {
		return reply{}, fmt.Errorf("ftps: %s: %w", commandLine(cmd, arg), err)
	}
	for _, code := range want {
		if r.code == code {
			return r, nil
		}
	}
	return r, r.asError(commandLine(cmd, arg))
}

// send writes one command line. An argument with CR or LF would end the
// line early and smuggle a second command in after it, so it is refused.
func (c *Client) send(cmd, arg string) error {
	if strings.ContainsAny(arg, "\r\n") {
		return fmt.Errorf("ftps: %s: the argument contains a line break", cmd)
	}
	c.conn.SetWriteDeadline(time.Now().Add(opTimeout))
	line := cmd
	if arg != "" {
		line += " " + arg
	}
	c.logf("> %s", commandLine(cmd, arg))
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		return fmt.Errorf("ftps: sending %s: %w", cmd, err)
	}
	return nil
}

// commandLine is a command as logs and errors show it: the password masked.
func commandLine(cmd, arg string) string {
	switch {
	case arg == "":
		return cmd
	case cmd == "PASS":
		return "PASS ****"
	}
	return cmd + " " + arg
}

// readReply reads one reply: "xyz text", or the multi-line form that
// starts with "xyz-" and ends at a line starting "xyz " (RFC 959 §4.2).
func (c *Client) readReply() (reply, error) {
	c.conn.SetReadDeadline(time.Now().Add(opTimeout))
	first, err := c.readLine()
	if err != nil {
		return reply{}, err
	}
	code, multi, err := parseReplyCode(first)
	if err != nil {
		return reply{}, err
	}
	r := reply{code: code, lines: []string{strings.TrimSpace(first[min(4, len(first)):])}}
	for multi {
		if len(r.lines) >= maxReplyLines {
			return reply{}, fmt.Errorf("reply %d longer than %d lines", code, maxReplyLines)
		}
		line, err := c.readLine()
		if err != nil {
			return reply{}, err
		}
		if len(line) >= 4 && line[:3] == first[:3] && line[3] == ' ' {
			line, multi = line[4:], false
		}
		r.lines = append(r.lines, line)
	}
	return r, nil
}

// parseReplyCode reads "xyz" followed by a space, a hyphen (more lines
// follow) or nothing; x is 1 to 5 (RFC 959 §4.2.1).
func parseReplyCode(line string) (code int, multi bool, err error) {
	if len(line) < 3 || line[0] < '1' || line[0] > '5' ||
		line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		(len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return 0, false, fmt.Errorf("malformed reply line %q", line)
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	return code, len(line) > 3 && line[3] == '-', nil
}

// readLine reads one line, without its CRLF (a bare LF is taken too), and
// logs it with control characters removed.
func (c *Client) readLine() (string, error) {
	b, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("reply line longer than %d bytes", maxReplyLine)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", fmt.Errorf("reading a reply: %w", err)
	}
	line := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, string(b))
	c.logf("< %s", line)
	return line, nil
}

// sessionStore keeps the control connection's TLS session for the data
// connections of one Client. user is the caller's cache, if any: the
// control connection resumes from it and feeds it.
type sessionStore struct {
	mu      sync.Mutex
	session *tlsflow.ClientSessionState
	user    tlsflow.ClientSessionCache
}

func (s *sessionStore) set(cs *tlsflow.ClientSessionState) {
	s.mu.Lock()
	s.session = cs
	s.mu.Unlock()
}

// controlSessions is the control connection's ClientSessionCache.
type controlSessions struct{ *sessionStore }

func (s controlSessions) Get(key string) (*tlsflow.ClientSessionState, bool) {
	if s.user == nil {
		return nil, false
	}
	return s.user.Get(key)
}

func (s controlSessions) Put(key string, cs *tlsflow.ClientSessionState) {
	s.set(cs)
	if s.user != nil {
		s.user.Put(key, cs)
	}
}

// dataSessions is the data connections' ClientSessionCache: always the
// control connection's session, or the newest ticket a data connection got
// for it (TLS 1.3 servers send a fresh ticket on resumption, RFC 8446
// §4.6.1, and tickets are best used once, §C.4).
type dataSessions struct{ *sessionStore }

func (s dataSessions) Get(string) (*tlsflow.ClientSessionState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.session, s.session != nil
}

func (s dataSessions) Put(_ string, cs *tlsflow.ClientSessionState) { s.set(cs) }
