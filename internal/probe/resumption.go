package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/tlsflow/tlsflow"
)

// resumption connects twice per kind of resumption with the tlsflow client
// and a fresh session cache, and asks whether the second handshake resumed:
// TLS 1.2 by session ID (tickets turned off, RFC 5246 §7.3), TLS 1.2 by
// ticket (RFC 5077) and TLS 1.3 by a ticket's PSK (RFC 8446 §2.2).
func (p *prober) resumption(ctx context.Context) {
	r := p.report
	if r.accepted(versionTLS12) {
		r.Resumption.SessionID = p.resumes(ctx, &tlsflow.Config{MaxVersion: tlsflow.VersionTLS12, SessionTicketsDisabled: true, CipherSuites: allImplemented()})
		if r.SessionTicketExt == nil || *r.SessionTicketExt {
			r.Resumption.Ticket = p.resumes(ctx, &tlsflow.Config{MaxVersion: tlsflow.VersionTLS12, CipherSuites: allImplemented()})
		} else {
			r.Resumption.Ticket = ptr(false) // the ServerHello did not take up session_ticket
		}
	}
	if r.accepted(versionTLS13) {
		r.Resumption.PSK13 = p.resumes(ctx, &tlsflow.Config{MinVersion: tlsflow.VersionTLS13})
	}
}

// resumes makes two handshakes sharing a session cache; nil when either
// could not be made.
func (p *prober) resumes(ctx context.Context, cfg *tlsflow.Config) *bool {
	cache := &signalCache{ClientSessionCache: tlsflow.NewLRUClientSessionCache(4), put: make(chan struct{}, 1)}
	cfg.ClientSessionCache = cache
	conn, done, err := p.handshake(ctx, cfg.Clone())
	if err != nil {
		stop(p.report, "resumption", err)
		return nil
	}
	if conn.ConnectionState().Version == tlsflow.VersionTLS13 {
		awaitTicket(conn, cache.put)
	}
	done()
	conn, done, err = p.handshake(ctx, cfg.Clone())
	if err != nil {
		stop(p.report, "resumption", err)
		return nil
	}
	defer done()
	return ptr(conn.ConnectionState().DidResume)
}

// signalCache tells when a session was stored.
type signalCache struct {
	tlsflow.ClientSessionCache
	put chan struct{}
}

func (c *signalCache) Put(key string, cs *tlsflow.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs != nil {
		select {
		case c.put <- struct{}{}:
		default:
		}
	}
}

// awaitTicket reads after a TLS 1.3 handshake until a NewSessionTicket was
// stored, for at most a second: the client processes tickets only when it
// reads (RFC 8446 §4.6.1).
func awaitTicket(conn *tlsflow.Conn, put chan struct{}) {
	buf := make([]byte, 512)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		select {
		case <-put:
			return
		default:
		}
		conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := conn.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, io.EOF) {
				return
			}
			return
		}
	}
}
