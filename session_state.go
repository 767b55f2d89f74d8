package tlsflow

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/tlsflow/tlsflow/internal/session"
)

// SessionState is a resumable session, as in crypto/tls: what a server's
// ticket carries (Config.WrapSession, UnwrapSession, EncryptTicket,
// DecryptTicket) and what a client keeps with its ticket
// (ClientSessionState.ResumptionState, NewResumptionState), so that a
// fleet can store and share sessions its own way. It holds secrets: keep
// its Bytes as carefully as a private key.
type SessionState struct {
	// Extra is the application's own data: ignored by tlsflow, encoded by
	// Bytes and decoded by ParseSessionState.
	Extra [][]byte
	// EarlyData says the session's ticket allows 0-RTT data (a server's
	// Config.MaxEarlyData when it was issued). Setting it to false takes
	// that away: a server's WrapSession may refuse 0-RTT for a session, a
	// client's stored session will not be used for WriteEarlyData.
	EarlyData bool

	state *session.State
}

// Bytes encodes the session (with Extra). A client session's server chain
// goes with it, but not the chains it was verified with: a client that
// resumes a session it parsed verifies the chain again.
func (s *SessionState) Bytes() ([]byte, error) {
	st := s.sessionState()
	if st == nil {
		return nil, errors.New("tlsflow: an empty SessionState")
	}
	if len(st.PeerCertificates) == 0 && len(st.Certificates) > 0 {
		c := *st
		c.PeerCertificates = rawChain(st.Certificates)
		st = &c
	}
	return st.Marshal()
}

// ParseSessionState decodes what SessionState.Bytes encoded.
func ParseSessionState(data []byte) (*SessionState, error) {
	st, err := session.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("tlsflow: ParseSessionState: %w", err)
	}
	return newSessionState(st), nil
}

func newSessionState(st *session.State) *SessionState {
	return &SessionState{Extra: st.Extra, EarlyData: st.MaxEarlyData > 0, state: st}
}

// sessionState is the session with the current Extra (and EarlyData).
func (s *SessionState) sessionState() *session.State {
	if s == nil || s.state == nil {
		return nil
	}
	st := *s.state
	st.Extra = s.Extra
	if !s.EarlyData {
		st.MaxEarlyData = 0
	}
	return &st
}

// ResumptionState returns the client session's ticket and state, for a
// ClientSessionCache that stores sessions elsewhere (as bytes, with
// SessionState.Bytes). A TLS 1.2 session the server keeps by session ID
// has no ticket, and cannot be moved: an error.
func (cs *ClientSessionState) ResumptionState() (ticket []byte, state *SessionState, err error) {
	if cs == nil || cs.state == nil {
		return nil, nil, errors.New("tlsflow: an empty ClientSessionState")
	}
	if len(cs.state.Ticket) == 0 {
		return nil, nil, errors.New("tlsflow: this session is resumed by session ID, not by a ticket, and cannot be moved")
	}
	return cs.state.Ticket, newSessionState(cs.state), nil
}

// NewResumptionState makes a client session from a ticket and its state,
// to put in a ClientSessionCache. The server chain is parsed again; it is
// verified again, under the Config of the connection that resumes it,
// before the session is offered.
func NewResumptionState(ticket []byte, state *SessionState) (*ClientSessionState, error) {
	st := state.sessionState()
	if st == nil || len(ticket) == 0 {
		return nil, errors.New("tlsflow: NewResumptionState needs a ticket and a state")
	}
	st.Ticket = append([]byte(nil), ticket...)
	if len(st.Certificates) == 0 {
		for i, der := range st.PeerCertificates {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("tlsflow: NewResumptionState: certificate %d: %w", i, err)
			}
			st.Certificates = append(st.Certificates, cert)
		}
		st.VerifiedChains, st.VerifiedUnder = nil, nil
	}
	if st.ReceivedAt.IsZero() {
		st.ReceivedAt = st.CreatedAt
	}
	return &ClientSessionState{st}, nil
}

// EncryptTicket seals a session into a ticket with the Config's ticket
// keys (SetSessionTicketKeys, or its own rotating ones): the default of a
// server's tickets, for a WrapSession to call.
func (c *Config) EncryptTicket(cs ConnectionState, ss *SessionState) ([]byte, error) {
	st := ss.sessionState()
	if st == nil {
		return nil, errors.New("tlsflow: EncryptTicket: an empty SessionState")
	}
	return c.serverSessions().tickets.Seal(st, c.rand(), c.now())
}

// DecryptTicket opens a ticket EncryptTicket sealed: nil and no error for
// one that is not (or whose key has been retired), as UnwrapSession wants.
func (c *Config) DecryptTicket(identity []byte, cs ConnectionState) (*SessionState, error) {
	st := c.serverSessions().tickets.Open(identity, c.now())
	if st == nil {
		return nil, nil
	}
	return newSessionState(st), nil
}

func rawChain(certs []*x509.Certificate) [][]byte {
	raw := make([][]byte, len(certs))
	for i, c := range certs {
		raw[i] = c.Raw
	}
	return raw
}
