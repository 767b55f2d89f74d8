// Package session holds what a connection keeps for resumption: the
// session state itself, its encoding inside a ticket, ticket encryption
// with rotating keys (RFC 5077 §4's recommended shape, adapted), and the
// bounded server-side cache for TLS 1.2 session IDs.
package session

import (
	"crypto/x509"
	"errors"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// State is one resumable session.
type State struct {
	Version     uint16
	CipherSuite uint16
	// Group is the TLS 1.2 session's ECDHE group (0 for the RSA key
	// exchange): a resumption reports the group that made the master secret.
	Group uint16
	// Secret is the TLS 1.2 master secret, or the TLS 1.3 PSK derived for
	// this ticket (RFC 8446 §4.6.1).
	Secret         []byte
	ExtendedMaster bool // TLS 1.2: the master secret came from RFC 7627
	// CreatedAt is when the peer was authenticated: the full handshake
	// that made the session. A resumption that renews the ticket keeps it,
	// so a session lives MaxLifetime from there however often it is renewed.
	CreatedAt time.Time
	// Lifetime bounds the use of a ticket from ReceivedAt (the client's
	// view of ticket_lifetime); AgeAdd obfuscates a TLS 1.3 ticket's age.
	Lifetime time.Duration
	AgeAdd   uint32
	ALPN     string
	// ServerName is the server_name of the full handshake: a session is
	// resumed only under the same name (RFC 6066 §3).
	ServerName string
	// PeerCertificates is the peer's chain as it was authenticated in the
	// full handshake (the server's for a client, the client's for a server).
	PeerCertificates [][]byte
	// ExternalPSKIdentity names the external PSK that authenticated the
	// full handshake instead of certificates (TLS 1.3), or is nil.
	ExternalPSKIdentity []byte
	// PeerRawPublicKey is the DER SubjectPublicKeyInfo the peer was
	// authenticated by in the full handshake instead of a chain (RFC 7250),
	// or nil. ServerCertificateType and ClientCertificateType are the
	// certificate types that handshake negotiated (0, X.509, by default).
	PeerRawPublicKey      []byte
	ServerCertificateType uint8
	ClientCertificateType uint8
	// Extra is the application's own data (crypto/tls's SessionState.Extra),
	// encoded and decoded with the rest.
	Extra [][]byte
	// ReceivedAt is when a client received its ticket (the start of the
	// ticket's Lifetime, and of a TLS 1.3 ticket's age); in a server's
	// TLS 1.3 ticket, when it was issued, which the 0-RTT freshness check
	// compares the client's ticket age with (RFC 8446 §8.3). Milliseconds.
	ReceivedAt time.Time
	// MaxEarlyData is the 0-RTT data a TLS 1.3 ticket allows on its
	// resumption (RFC 8446 §4.2.10, max_early_data_size); 0 allows none.
	MaxEarlyData uint32

	// Client side only, never encoded into a ticket:
	Ticket []byte // the opaque ticket to offer
	// OCSPResponse and SignedCertificateTimestamps are what the server
	// stapled in the full handshake, reported again on resumption.
	OCSPResponse                []byte
	SignedCertificateTimestamps [][]byte
	SessionID                   []byte // TLS 1.2 session ID to offer, when there is no ticket
	Certificates                []*x509.Certificate
	VerifiedChains              [][]*x509.Certificate
	// VerifiedUnder names what the chain was verified against (the
	// client's trust anchors, see handshake.Config.TrustAnchors); nil if
	// it was not verified.
	VerifiedUnder any
}

// MaxLifetime is the longest a session may be resumed after its peer was
// authenticated: the most RFC 8446 §4.6.1 allows a ticket ("Servers MUST
// NOT use any value greater than 604800 seconds (7 days)"; clients "MUST
// NOT cache tickets for longer than 7 days"), for both versions.
const MaxLifetime = 7 * 24 * time.Hour

// Expired reports whether the session may no longer be used at now:
// MaxLifetime after CreatedAt, or after the ticket's own Lifetime from
// ReceivedAt when a client has one.
func (s *State) Expired(now time.Time) bool {
	if now.Sub(s.CreatedAt) > MaxLifetime {
		return true
	}
	return s.Lifetime > 0 && !s.ReceivedAt.IsZero() && now.Sub(s.ReceivedAt) > s.Lifetime
}

// Remaining is how much longer than now the session may be used, counted
// from CreatedAt: what a renewed ticket's lifetime may still promise.
func (s *State) Remaining(now time.Time) time.Duration {
	return max(0, MaxLifetime-now.Sub(s.CreatedAt))
}

// maxSessionSize bounds a decoded ticket's contents.
const maxSessionSize = 1 << 17

// Marshal encodes the fields a server needs back from a ticket. It fails
// when a field is longer than its length prefix (a peer chain over 16 MiB,
// a 256-byte ALPN protocol): such a session gets no ticket.
func (s *State) Marshal() ([]byte, error) {
	// Sized up front: one allocation instead of a growing buffer.
	size := 2 + 2 + 2 + 1 + len(s.Secret) + 1 + 8 + 8 + 4 + 4 + 4 + 1 + len(s.ALPN) + 2 + len(s.ServerName) + 2 + len(s.ExternalPSKIdentity) + 3 + 3 +
		2 + 3 + len(s.PeerRawPublicKey)
	for _, c := range s.PeerCertificates {
		size += 3 + len(c)
	}
	for _, e := range s.Extra {
		size += 3 + len(e)
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, size))
	b.AddUint16(s.Version)
	b.AddUint16(s.CipherSuite)
	b.AddUint16(s.Group)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.Secret) })
	if s.ExtendedMaster {
		b.AddUint8(1)
	} else {
		b.AddUint8(0)
	}
	b.AddUint64(uint64(s.CreatedAt.Unix()))
	b.AddUint64(unixMilliOrZero(s.ReceivedAt))
	b.AddUint32(uint32(s.Lifetime / time.Second))
	b.AddUint32(s.AgeAdd)
	b.AddUint32(s.MaxEarlyData)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(s.ALPN)) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(s.ServerName)) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.ExternalPSKIdentity) })
	addList24(b, s.PeerCertificates)
	addList24(b, s.Extra)
	b.AddUint8(s.ServerCertificateType)
	b.AddUint8(s.ClientCertificateType)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.PeerRawPublicKey) })
	return b.Bytes()
}

// addList24 writes opaque x<0..2^24-1> list<0..2^24-1>.
func addList24(b *cryptobyte.Builder, list [][]byte) {
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, x := range list {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(x) })
		}
	})
}

// readList24 reads what addList24 wrote; nonEmpty refuses empty elements.
func readList24(in *cryptobyte.String, nonEmpty bool) ([][]byte, bool) {
	var list cryptobyte.String
	if !in.ReadUint24LengthPrefixed(&list) {
		return nil, false
	}
	var out [][]byte
	for !list.Empty() {
		var x cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&x) || (nonEmpty && len(x) == 0) {
			return nil, false
		}
		out = append(out, append([]byte{}, x...))
	}
	return out, true
}

func unixMilliOrZero(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixMilli())
}

var errSession = errors.New("session: malformed session state")

// Unmarshal decodes what Marshal wrote.
func Unmarshal(data []byte) (*State, error) {
	if len(data) > maxSessionSize {
		return nil, errSession
	}
	s := &State{}
	in := cryptobyte.String(data)
	var secret, alpn, name, pskIdentity cryptobyte.String
	var ems uint8
	var created, received uint64
	var lifetime uint32
	if !in.ReadUint16(&s.Version) || !in.ReadUint16(&s.CipherSuite) || !in.ReadUint16(&s.Group) ||
		!in.ReadUint8LengthPrefixed(&secret) || len(secret) == 0 || !in.ReadUint8(&ems) || ems > 1 ||
		!in.ReadUint64(&created) || !in.ReadUint64(&received) || !in.ReadUint32(&lifetime) || !in.ReadUint32(&s.AgeAdd) || !in.ReadUint32(&s.MaxEarlyData) ||
		!in.ReadUint8LengthPrefixed(&alpn) || !in.ReadUint16LengthPrefixed(&name) || !in.ReadUint16LengthPrefixed(&pskIdentity) {
		return nil, errSession
	}
	var ok bool
	if s.PeerCertificates, ok = readList24(&in, true); !ok {
		return nil, errSession
	}
	var rawKey cryptobyte.String
	if s.Extra, ok = readList24(&in, false); !ok ||
		!in.ReadUint8(&s.ServerCertificateType) || !in.ReadUint8(&s.ClientCertificateType) ||
		!in.ReadUint24LengthPrefixed(&rawKey) || !in.Empty() {
		return nil, errSession
	}
	if len(rawKey) > 0 {
		s.PeerRawPublicKey = append([]byte(nil), rawKey...)
	}
	if received != 0 {
		s.ReceivedAt = time.UnixMilli(int64(received))
	}
	s.Secret = append([]byte(nil), secret...)
	s.ExtendedMaster = ems == 1
	s.CreatedAt = time.Unix(int64(created), 0)
	s.Lifetime = time.Duration(lifetime) * time.Second
	s.ALPN = string(alpn)
	s.ServerName = string(name)
	if len(pskIdentity) > 0 {
		s.ExternalPSKIdentity = append([]byte(nil), pskIdentity...)
	}
	return s, nil
}
