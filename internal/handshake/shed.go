package handshake

import (
	"bytes"

	"github.com/tlsflow/tlsflow/internal/keys"
)

// Once the handshake is complete an engine keeps only what messages after
// it need: the application traffic secrets for KeyUpdate, a client's
// resumption_master_secret for NewSessionTicket, and State. A connection
// may stay open for hours and a server holds many of them, so the hellos,
// the transcript, the key schedule and the handshake traffic secrets are
// dropped, and the secrets among them zeroed first: "Once all the values
// which are to be derived from a given secret have been computed, that
// secret SHOULD be erased" (RFC 8446 §7.1).

func (c *Client) shed() {
	c.state.detach()
	c.hello, c.keyShares = nil, nil
	c.transcript = keys.Transcript{}
	c.c12 = client12{}
	k := c.c13.secrets13
	k.forgetHandshake()
	// sentCCS stays: an alert after the handshake owes no ChangeCipherSpec.
	c.c13 = client13{secrets13: k, sentCCS: c.c13.sentCCS}
}

func (s *Server) shed() {
	s.state.detach()
	s.hello, s.helloRaw, s.info, s.cert = nil, nil, nil, nil
	s.transcript = keys.Transcript{}
	s.s12 = server12{}
	k := s.s13.secrets13
	k.forgetHandshake()
	// A server sends its tickets as it completes; it needs the
	// resumption_master_secret no more.
	clear(k.resumption)
	k.resumption = nil
	s.s13 = server13{secrets13: k}
}

// forgetHandshake zeroes and drops the key schedule, which holds the master
// secret, and the handshake traffic secrets.
func (k *secrets13) forgetHandshake() {
	if k.schedule != nil {
		k.schedule.Erase()
		k.schedule = nil
	}
	clear(k.clientHandshake)
	clear(k.serverHandshake)
	clear(k.clientFinishedKey)
	clear(k.serverFinishedKey)
	k.clientHandshake, k.serverHandshake = nil, nil
	k.clientFinishedKey, k.serverFinishedKey = nil, nil
}

// detach copies the randoms, which point into the parsed hellos: kept as
// they are, they would keep both hellos, and the raw messages their fields
// point into, alive for as long as the connection.
func (st *State) detach() {
	st.ClientRandom = bytes.Clone(st.ClientRandom)
	st.ServerRandom = bytes.Clone(st.ServerRandom)
}
