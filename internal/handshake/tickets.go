package handshake

import (
	"github.com/tlsflow/tlsflow/internal/session"
)

// The server's tickets: sealed with its ticket keys, or wrapped and
// unwrapped by the application (Config.WrapTicket, UnwrapTicket).

// ticketsOn reports whether this server makes and opens tickets.
func (s *Server) ticketsOn() bool {
	return !s.cfg.TicketsDisabled && (s.cfg.Tickets != nil || s.cfg.WrapTicket != nil)
}

// sealTicket turns a session into a ticket.
func (s *Server) sealTicket(sess *session.State) ([]byte, error) {
	if s.cfg.WrapTicket != nil {
		return s.cfg.WrapTicket(s.state, sess)
	}
	return s.cfg.Tickets.Seal(sess, s.random(), s.cfg.now())
}

// openTicket turns a ticket back into its session: nil, and no error, for
// one that is not a ticket of this server (or of a retired key). An error
// of the application's UnwrapTicket ends the handshake.
func (s *Server) openTicket(ticket []byte, step int) (*session.State, error) {
	if s.cfg.UnwrapTicket != nil {
		sess, err := s.cfg.UnwrapTicket(s.state, ticket)
		if err != nil {
			return nil, internalError(step, "ClientHello", err)
		}
		return sess, nil
	}
	if s.cfg.Tickets == nil {
		return nil, nil
	}
	return s.cfg.Tickets.Open(ticket, s.cfg.now()), nil
}
