package tlsflow

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/session"
)

// ClientSessionState is a session a client can resume: a TLS 1.3 ticket
// with its PSK, or a TLS 1.2 ticket or session ID with its master secret.
// It is opaque; keep it only in memory, it holds secrets.
type ClientSessionState struct {
	state *session.State
}

// ClientSessionCache keeps sessions for resumption, keyed by server name
// (or address). Implementations must be safe for concurrent use.
type ClientSessionCache interface {
	// Get returns the session for sessionKey, if any.
	Get(sessionKey string) (session *ClientSessionState, ok bool)
	// Put stores a session; a nil session removes sessionKey.
	Put(sessionKey string, cs *ClientSessionState)
}

type lruClientCache struct{ c *session.Cache }

// NewLRUClientSessionCache returns a ClientSessionCache holding at most
// capacity sessions (64 if capacity < 1), evicting the least recently used.
func NewLRUClientSessionCache(capacity int) ClientSessionCache {
	if capacity < 1 {
		capacity = 64
	}
	return &lruClientCache{session.NewCache(capacity)}
}

func (l *lruClientCache) Get(key string) (*ClientSessionState, bool) {
	s, ok := l.c.Get(key)
	if !ok {
		return nil, false
	}
	return &ClientSessionState{s}, true
}

func (l *lruClientCache) Put(key string, cs *ClientSessionState) {
	if cs == nil {
		l.c.Put(key, nil)
		return
	}
	l.c.Put(key, cs.state)
}

// forgetSessions removes this connection's sessions from the caches, after
// a fatal alert: "any connection terminated with a fatal alert MUST NOT be
// resumed" (RFC 5246 §7.2.2). A client drops the session it offered and any
// it stored, if the cache still holds them; a TLS 1.2 server drops the
// session it keeps by session ID. A server's tickets cannot be called back:
// they are self-contained, and the client that holds one drops it itself.
// The rule is TLS 1.2's; tlsflow applies it to TLS 1.3 sessions too (a
// fresh handshake costs little next to resuming after a failure).
func (c *Conn) forgetSessions() {
	if c.isClient {
		cache := c.config.ClientSessionCache
		if cache == nil {
			return
		}
		key := c.sessionKey()
		cs, ok := cache.Get(key)
		if !ok || cs == nil {
			return
		}
		if cs.state == c.sessions.offered.Load() || cs.state == c.sessions.stored.Load() {
			cache.Put(key, nil)
		}
		return
	}
	if st := c.engineOrFinalState(); st != nil && len(st.SessionID) > 0 {
		c.config.serverSessions().cache.Put(string(st.SessionID), nil)
	}
}

func (c *Conn) engineOrFinalState() *handshake.State {
	if c.engine != nil {
		return c.engine.State()
	}
	return c.state
}

// endedByFatalAlert reports whether err ends the connection with a fatal
// alert, sent or received (not a close, a warning, or the network failing).
func endedByFatalAlert(err error) bool {
	var ae *alert.Error
	if !errors.As(err, &ae) || ae.Local || ae.Warning {
		return false
	}
	return ae.Alert != alert.CloseNotify
}

// serverSessionCacheSize bounds the TLS 1.2 sessions a server keeps by
// session ID, for clients that do not take tickets.
const serverSessionCacheSize = 1024

// serverSessions is a Config's server-side resumption state: ticket keys
// and the session-ID cache.
type serverSessions struct {
	tickets *session.Keys
	cache   *session.Cache
	// replay remembers the ClientHellos whose 0-RTT data was read, made
	// on first use (earlydata.go).
	replayOnce sync.Once
	replay     *session.ReplayWindow
	// keysSet says SetSessionTicketKeys chose the keys: they take
	// precedence over Config.SessionTicketKey.
	keysSet atomic.Bool
}

// serverSessions returns the Config's resumption state, making it on first
// use (a clone already has its original's).
func (c *Config) serverSessions() *serverSessions {
	c.sessionsOnce.Do(func() {
		if c.sessions == nil {
			c.sessions = &serverSessions{tickets: new(session.Keys), cache: session.NewCache(serverSessionCacheSize)}
		}
	})
	return c.sessions
}

// SetSessionTicketKeys sets the keys that seal and open session tickets:
// keys[0] seals new tickets, every key opens. Servers that share keys
// resume each other's sessions (a fleet behind a load balancer); to rotate,
// put the new key first and keep the old ones for a while. Without keys
// set, a server makes its own and rotates them daily.
func (c *Config) SetSessionTicketKeys(keys [][32]byte) error {
	if len(keys) == 0 {
		return errors.New("tlsflow: SetSessionTicketKeys needs at least one key")
	}
	s := c.serverSessions()
	if err := s.tickets.Set(keys, c.now()); err != nil {
		return err
	}
	s.keysSet.Store(true)
	return nil
}
