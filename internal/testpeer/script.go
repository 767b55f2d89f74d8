package testpeer

import (
	"crypto"
	"crypto/x509"
	"time"

	"github.com/tlsflow/tlsflow/internal/wire"
)

// Script changes what a flow sends. Every field is optional; the zero
// Script sends what an honest peer would.
type Script struct {
	// Mutate may change any field of each message just before it is sent
	// (after its contents, Finished's verify_data included, are computed,
	// except a ClientHello's PSK binders, which are computed after Mutate).
	// It sees the first ClientHello but not the second one: see
	// ClientOptions.SecondHello.
	Mutate func(m wire.Message)
	// Before runs before each message is sent, after Mutate: it may send
	// anything through p first (extra messages, records, alerts).
	Before func(p *Peer, m wire.Message) error
	// Skip leaves a message out: it is neither sent nor added to the
	// transcript. SkipType makes one.
	Skip func(m wire.Message) bool
}

// SkipType returns a Script.Skip that leaves out every message of the
// given types.
func SkipType(types ...wire.HandshakeType) func(wire.Message) bool {
	return func(m wire.Message) bool {
		for _, t := range types {
			if m.Type() == t {
				return true
			}
		}
		return false
	}
}

// MutateType returns a Script.Mutate that calls f for the messages of
// type T only, e.g. MutateType(func(sh *wire.ServerHello) {...}).
func MutateType[T wire.Message](f func(T)) func(wire.Message) {
	return func(m wire.Message) {
		if t, ok := m.(T); ok {
			f(t)
		}
	}
}

func (s *Script) mutate(m wire.Message) {
	if s != nil && s.Mutate != nil {
		s.Mutate(m)
	}
}

// emit sends m as the script says: Before, then m unless skipped.
func (p *Peer) emit(s *Script, m wire.Message) error {
	if s != nil && s.Before != nil {
		if err := s.Before(p, m); err != nil {
			return err
		}
	}
	if s != nil && s.Skip != nil && s.Skip(m) {
		return nil
	}
	return p.Send(m)
}

// sendScripted is mutate, then emit.
func (p *Peer) sendScripted(s *Script, m wire.Message) error {
	s.mutate(m)
	return p.emit(s, m)
}

// ClientOptions are the knobs of the client flows.
type ClientOptions struct {
	// ServerName is sent in server_name; empty sends none.
	ServerName string
	// CipherSuites to offer; nil offers every suite of the flow's version
	// that tlsflow implements (TLS 1.2: the ECDHE ones).
	CipherSuites []uint16
	// Groups for supported_groups; nil: x25519, secp256r1, secp384r1.
	Groups []uint16
	// KeyShares are the groups a TLS 1.3 ClientHello sends shares for; nil
	// sends one for the first of Groups, an empty non-nil list none.
	KeyShares []uint16
	// SignatureSchemes for signature_algorithms; nil: tlsflow's defaults.
	SignatureSchemes []uint16
	// NoExtendedMasterSecret leaves extended_master_secret out (TLS 1.2).
	NoExtendedMasterSecret bool
	// NoTicketRequest leaves out the empty session_ticket extension a TLS
	// 1.2 client sends to ask for a ticket.
	NoTicketRequest bool
	// Resume12 offers a TLS 1.2 session (its ticket, else its session ID).
	Resume12 *Session12
	// PSK is offered in pre_shared_key (TLS 1.3), with its binder, and
	// AlsoPSK after it in the first ClientHello; SecondPSK, if set, takes
	// their place after a HelloRetryRequest.
	PSK       *PSK
	AlsoPSK   *PSK
	SecondPSK *PSK
	// ManyPSKs are offered after those, in the first ClientHello (a
	// flood of identities); the server must not select one of them.
	ManyPSKs []*PSK
	// Chain answers a CertificateRequest (an empty chain is an empty
	// Certificate); a non-empty one is followed by a CertificateVerify
	// signed by Signer, or holding random bytes without one.
	Chain  [][]byte
	Signer crypto.Signer
	// SecondHello may change the ClientHello sent after a
	// HelloRetryRequest (already updated as RFC 8446 §4.1.2 says) before
	// its PSK binder is computed.
	SecondHello func(ch *wire.ClientHello)
	// EarlyData, with PSK (a ticket of the server's suite EarlySuite),
	// offers early_data and sends these records of 0-RTT data right after
	// the ClientHello, under the client_early_traffic_secret (RFC 8446
	// §7.1); if the server accepts, EndOfEarlyData goes before Finished
	// under the same key (Peer.EarlyDataAccepted).
	EarlyData  [][]byte
	EarlySuite uint16
	// EarlyDataPace, if set, is the pause before each record of EarlyData
	// after the first (a client that trickles its early data).
	EarlyDataPace time.Duration
	Script
}

// ServerOptions are the knobs of the server flows.
type ServerOptions struct {
	// Chain is the server's certificate chain, Signer its key. With no
	// Signer the signatures (ServerKeyExchange, CertificateVerify) are
	// random bytes.
	Chain  [][]byte
	Signer crypto.Signer
	// CipherSuite to choose; 0 chooses the first the client offers that
	// fits the certificate's key (TLS 1.2) or the first TLS 1.3 suite.
	CipherSuite uint16
	// Group for ECDHE (TLS 1.2) and the key share (TLS 1.3); 0: x25519.
	Group uint16
	// NoExtendedMasterSecret declines extended_master_secret (TLS 1.2).
	NoExtendedMasterSecret bool
	// RequestClientCert sends a CertificateRequest naming ClientCAs.
	RequestClientCert bool
	ClientCAs         [][]byte
	// SessionID goes in a TLS 1.2 ServerHello.
	SessionID []byte
	// Ticket12, if set, is the NewSessionTicket of a TLS 1.2 server's
	// final flight; session_ticket is acknowledged when the client asked.
	Ticket12 *wire.NewSessionTicket
	// HelloRetry sends a HelloRetryRequest for RetryGroup (0: Group) with
	// Cookie (nil: no cookie extension) before the real ServerHello.
	HelloRetry bool
	RetryGroup uint16
	Cookie     []byte
	// PSK, if set, is the secret of the TLS 1.3 pre_shared_key identity
	// SelectedIdentity, which the ServerHello selects: the key schedule
	// starts from it, and no Certificate or CertificateVerify is sent
	// unless CertificateWithPSK (a server that authenticates twice).
	PSK                []byte
	SelectedIdentity   uint16
	CertificateWithPSK bool
	Script
}

// leafKey returns the public key of a chain's leaf, or nil.
func leafKey(chain [][]byte) crypto.PublicKey {
	if len(chain) == 0 {
		return nil
	}
	cert, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil
	}
	return cert.PublicKey
}
