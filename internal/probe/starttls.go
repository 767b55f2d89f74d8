package probe

import (
	"fmt"
	"io"
	"net"
	"strings"
)

// startTLS speaks the plaintext protocol up to the point where the server
// expects a ClientHello: FTP AUTH TLS (RFC 4217 §4), SMTP STARTTLS (RFC
// 3207 §4), IMAP STARTTLS (RFC 9051 §6.2.1), POP3 STLS (RFC 2595 §4). Each
// reply is bounded in lines and bytes. It reads byte by byte, so that no
// byte of the server's TLS answer is consumed here.
func startTLS(conn net.Conn, proto, host string) error {
	r := &lineReader{r: conn}
	send := func(line string) error {
		_, err := io.WriteString(conn, line+"\r\n")
		return err
	}
	switch proto {
	case "ftp":
		if err := r.expect(ftpReply("220")); err != nil {
			return fmt.Errorf("greeting: %w", err)
		}
		if err := send("AUTH TLS"); err != nil {
			return err
		}
		return r.expect(ftpReply("234"))
	case "smtp":
		if err := r.expect(ftpReply("220")); err != nil { // SMTP replies look like FTP's (RFC 5321 §4.2)
			return fmt.Errorf("greeting: %w", err)
		}
		if err := send("EHLO tlsflow-probe"); err != nil {
			return err
		}
		if err := r.expect(ftpReply("250")); err != nil {
			return fmt.Errorf("EHLO: %w", err)
		}
		if err := send("STARTTLS"); err != nil {
			return err
		}
		return r.expect(ftpReply("220"))
	case "imap":
		if err := r.expect(prefix("* OK")); err != nil {
			return fmt.Errorf("greeting: %w", err)
		}
		if err := send("a1 STARTTLS"); err != nil {
			return err
		}
		return r.expect(prefix("a1 OK"))
	case "pop3":
		if err := r.expect(prefix("+OK")); err != nil {
			return fmt.Errorf("greeting: %w", err)
		}
		if err := send("STLS"); err != nil {
			return err
		}
		return r.expect(prefix("+OK"))
	}
	return fmt.Errorf("unknown protocol %q", proto)
}

// Bounds on a plaintext exchange.
const (
	maxLine  = 1024
	maxLines = 64
)

type lineReader struct{ r io.Reader }

// line reads one CRLF- (or LF-) terminated line.
func (l *lineReader) line() (string, error) {
	var b strings.Builder
	one := make([]byte, 1)
	for b.Len() <= maxLine {
		if _, err := io.ReadFull(l.r, one); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			return strings.TrimRight(b.String(), "\r"), nil
		}
		b.WriteByte(one[0])
	}
	return "", fmt.Errorf("a line longer than %d bytes", maxLine)
}

// verdict judges one line: done when the reply is complete, an error when
// it is a refusal.
type verdict func(line string) (done bool, err error)

// expect reads lines until v says the reply is complete (skipping, for
// IMAP, untagged lines; for FTP and SMTP, continuation lines).
func (l *lineReader) expect(v verdict) error {
	for range maxLines {
		line, err := l.line()
		if err != nil {
			return err
		}
		done, err := v(line)
		if err != nil || done {
			return err
		}
	}
	return fmt.Errorf("more than %d lines in a reply", maxLines)
}

// ftpReply accepts the final line of a reply with code want ("250 ok"
// after any "250-..." lines); another code is a refusal.
func ftpReply(want string) verdict {
	return func(line string) (bool, error) {
		if len(line) < 3 {
			return false, fmt.Errorf("reply %q", line)
		}
		if len(line) > 3 && line[3] == '-' {
			return false, nil // a continuation line
		}
		if line[:3] != want {
			return false, fmt.Errorf("reply %q, want %s", line, want)
		}
		return true, nil
	}
}

// prefix accepts a line starting with want; a tagged or +/- line that does
// not is a refusal, an untagged "* ..." line is skipped.
func prefix(want string) verdict {
	return func(line string) (bool, error) {
		if strings.HasPrefix(line, want) {
			return true, nil
		}
		if strings.HasPrefix(line, "* ") && !strings.HasPrefix(want, "* ") {
			return false, nil
		}
		return false, fmt.Errorf("reply %q, want %s", line, want)
	}
}
