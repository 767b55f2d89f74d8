package tlsflow_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// The session API of crypto/tls (issue 11): a server's own ticket store
// (WrapSession, UnwrapSession), its default sealing (EncryptTicket,
// DecryptTicket), and a client's sessions moved as bytes
// (ResumptionState, NewResumptionState).

// ticketStore is a fleet's shared store: tickets are handles, sessions
// live in the store as SessionState.Bytes.
type ticketStore struct {
	mu       sync.Mutex
	sessions map[string][]byte
	extras   []string // the Extra each UnwrapSession found
}

func (s *ticketStore) wrap(cs tlsflow.ConnectionState, ss *tlsflow.SessionState) ([]byte, error) {
	ss.Extra = append(ss.Extra, []byte("issued by server A"))
	b, err := ss.Bytes()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = map[string][]byte{}
	}
	handle := fmt.Sprintf("handle-%d", len(s.sessions))
	s.sessions[handle] = b
	return []byte(handle), nil
}

func (s *ticketStore) unwrap(identity []byte, cs tlsflow.ConnectionState) (*tlsflow.SessionState, error) {
	s.mu.Lock()
	b, ok := s.sessions[string(identity)]
	s.mu.Unlock()
	if !ok {
		return nil, nil // not ours: a full handshake
	}
	ss, err := tlsflow.ParseSessionState(b)
	if err == nil {
		s.mu.Lock()
		for _, e := range ss.Extra {
			s.extras = append(s.extras, string(e))
		}
		s.mu.Unlock()
	}
	return ss, err
}

func TestServerWithItsOwnTicketStore(t *testing.T) {
	c := sharedCerts()
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			store := &ticketStore{}
			srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: v.v,
				WrapSession: store.wrap, UnwrapSession: store.unwrap}
			cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v.v,
				ClientSessionCache: tlsflow.NewLRUClientSessionCache(1)}
			for i, want := range []bool{false, true} {
				cc, sc := flowPair(t, cli, srv)
				go sc.Write([]byte{1})
				if _, err := cc.Read(make([]byte, 1)); err != nil {
					t.Fatal(err)
				}
				if got := cc.ConnectionState().DidResume; got != want {
					t.Fatalf("connection %d: resumed %v, want %v", i, got, want)
				}
			}
			if len(store.sessions) == 0 || len(store.extras) == 0 || store.extras[0] != "issued by server A" {
				t.Errorf("store %d sessions, Extra seen on resumption %q; want the Extra WrapSession added", len(store.sessions), store.extras)
			}
		})
	}
}

// TestUnwrapSessionErrorEndsTheHandshake: as in crypto/tls, an error of
// UnwrapSession ends the handshake (internal_error), where (nil, nil) only
// means a full handshake.
func TestUnwrapSessionErrorEndsTheHandshake(t *testing.T) {
	c := sharedCerts()
	store := &ticketStore{}
	srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, WrapSession: store.wrap, UnwrapSession: store.unwrap}
	cache := tlsflow.NewLRUClientSessionCache(1)
	cc, sc := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: cache}, srv)
	go sc.Write([]byte{1})
	cc.Read(make([]byte, 1))

	broken := srv.Clone()
	broken.UnwrapSession = func([]byte, tlsflow.ConnectionState) (*tlsflow.SessionState, error) {
		return nil, errors.New("the store is down")
	}
	_, srvErr := handshakePair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: cache}, broken)
	var e *tlsflow.Error
	if !errors.As(srvErr, &e) || e.Alert.String() != "internal_error" {
		t.Fatalf("server error %v; want the handshake ended with internal_error", srvErr)
	}
}

// TestEncryptTicketAndDecryptTicketAreTheDefaultSealing: a WrapSession that
// calls EncryptTicket and an UnwrapSession that calls DecryptTicket resume
// as the default does, and two servers sharing ticket keys open each
// other's tickets.
func TestEncryptTicketAndDecryptTicketAreTheDefaultSealing(t *testing.T) {
	c := sharedCerts()
	keys := [][32]byte{{1, 2, 3}}
	server := func() *tlsflow.Config {
		cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}
		if err := cfg.SetSessionTicketKeys(keys); err != nil {
			t.Fatal(err)
		}
		cfg.WrapSession = cfg.EncryptTicket
		cfg.UnwrapSession = cfg.DecryptTicket
		return cfg
	}
	cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: tlsflow.NewLRUClientSessionCache(1)}
	for i, srv := range []*tlsflow.Config{server(), server()} {
		cc, sc := flowPair(t, cli, srv)
		go sc.Write([]byte{1})
		cc.Read(make([]byte, 1))
		if got := cc.ConnectionState().DidResume; got != (i == 1) {
			t.Fatalf("connection %d (server %d): resumed %v", i, i, got)
		}
	}
}

// TestClientSessionMovedAsBytes: a client's session taken out of its cache
// (ResumptionState, SessionState.Bytes), parsed and put into another
// client's cache (ParseSessionState, NewResumptionState) resumes there;
// under a Config that does not trust the server, it is not offered (the
// chain is verified again) and the full handshake fails.
func TestClientSessionMovedAsBytes(t *testing.T) {
	c := sharedCerts()
	srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}
	first := tlsflow.NewLRUClientSessionCache(1)
	cc, sc := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: first}, srv)
	go sc.Write([]byte{1})
	cc.Read(make([]byte, 1))
	cs, ok := first.Get("localhost")
	if !ok {
		t.Fatal("no session cached")
	}
	ticket, state, err := cs.ResumptionState()
	if err != nil {
		t.Fatal(err)
	}
	b, err := state.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := tlsflow.ParseSessionState(b)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := tlsflow.NewResumptionState(ticket, parsed)
	if err != nil {
		t.Fatal(err)
	}

	second := tlsflow.NewLRUClientSessionCache(1)
	second.Put("localhost", moved)
	cc, _ = flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: second}, srv)
	if !cc.ConnectionState().DidResume || len(cc.ConnectionState().VerifiedChains) == 0 {
		t.Fatalf("the moved session: resumed %v, %d verified chains; want resumed, verified again",
			cc.ConnectionState().DidResume, len(cc.ConnectionState().VerifiedChains))
	}

	untrusting := tlsflow.NewLRUClientSessionCache(1)
	untrusting.Put("localhost", moved)
	err, _ = handshakePair(t, &tlsflow.Config{RootCAs: c.otherCA.Pool, ServerName: "localhost", ClientSessionCache: untrusting}, srv)
	if _, ok := err.(*tlsflow.CertificateVerificationError); !ok {
		t.Fatalf("error %v; want the session not offered and the full handshake's verification to fail", err)
	}
}

// TestSessionIDSessionsCannotBeMoved: a TLS 1.2 session the server keeps
// by session ID has no ticket to move.
func TestSessionIDSessionsCannotBeMoved(t *testing.T) {
	c := sharedCerts()
	cache := tlsflow.NewLRUClientSessionCache(1)
	flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12,
		SessionTicketsDisabled: true, ClientSessionCache: cache},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	cs, ok := cache.Get("localhost")
	if !ok {
		t.Fatal("no session cached")
	}
	if _, _, err := cs.ResumptionState(); err == nil {
		t.Fatal("ResumptionState of a session-ID session: no error")
	}
}
