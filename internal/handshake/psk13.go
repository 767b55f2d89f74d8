package handshake

import (
	"bytes"
	"crypto"
	"fmt"
	"strconv"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/provider"
	"github.com/tlsflow/tlsflow/trace"
)

// TLS 1.3 pre-shared keys (RFC 8446 §2.2, §4.2.11). A ClientHello's
// pre_shared_key may offer two kinds: a session to resume (its PSK from a
// NewSessionTicket, resume13.go) and external PSKs, provisioned outside
// TLS, used as they are or through the importer of RFC 9258. Whichever the
// server selects authenticates both sides: no certificate is sent, and
// with an external PSK none may be (RFC 8446 §E.7: "Implementations MUST
// NOT combine external PSKs with certificate-based authentication").

// ExternalPSK is a pre-shared key provisioned outside TLS.
type ExternalPSK struct {
	Identity []byte      // the PskIdentity, or with Import its external_identity
	Key      []byte      // the secret
	Hash     crypto.Hash // the PSK's hash (RFC 8446 §4.2.11); zero means SHA-256
	// Import derives one imported PSK per TLS 1.3 hash from Key (RFC 9258),
	// offered under an ImportedIdentity with Context, instead of using Key
	// itself: one provisioned key then serves SHA-256 and SHA-384 suites
	// without being used with two hashes.
	Import  bool
	Context []byte
	// WithoutECDHE allows psk_ke with this PSK (RFC 8446 §4.2.9): no fresh
	// (EC)DHE, so no forward secrecy.
	WithoutECDHE bool
}

func (p *ExternalPSK) hash() crypto.Hash {
	if p.Hash == 0 {
		return crypto.SHA256
	}
	return p.Hash
}

// pskOffer is one identity of a pre_shared_key with what the key schedule
// needs to use it: the secret and its kind (which names the binder key),
// the hash of the suites it can be used with, and where it comes from.
type pskOffer struct {
	identity  []byte
	ticketAge uint32 // obfuscated_ticket_age; 0 for an external PSK (RFC 8446 §4.2.11)
	hash      crypto.Hash
	kind      keys.PSKKind
	secret    []byte
	plainOK   bool             // psk_ke may be used with it
	session   *session.State   // a resumption's session
	external  *ExternalPSK     // an external PSK's provisioning
	early     *keys.Schedule13 // started with secret, for the binder and, if selected, the handshake
}

// earlySchedule returns the offer's early secret, made once: the binder
// needs it, and the handshake goes on from it if the server selects it
// (RFC 8446 §7.1: one Early Secret per PSK).
func (o *pskOffer) earlySchedule(p provider.Provider) *keys.Schedule13 {
	if o.early == nil {
		o.early = keys.NewSchedule13(keys.Hash{Hash: o.hash, Provider: p}, o.secret)
	}
	return o.early
}

// binderFor is the offer's binder over the ClientHello up to the binders
// (RFC 8446 §4.2.11.2), after prefix (the transcript before a second
// ClientHello) if any.
func (o *pskOffer) binderFor(p provider.Provider, prefix *keys.Transcript, truncatedHello []byte) []byte {
	var t *keys.Transcript
	if prefix != nil {
		t = prefix.Clone()
	} else {
		t = new(keys.Transcript)
		t.SetHash(keys.Hash{Hash: o.hash, Provider: p})
	}
	t.Write(truncatedHello)
	return keys.Finished13(keys.Hash{Hash: o.hash, Provider: p}, o.earlySchedule(p).BinderKey(o.kind), t.Sum())
}

// externalOffers are the identities a client offers for its external
// PSKs, given the hashes of the TLS 1.3 suites it offers: a plain PSK if
// a suite of its hash is offered, an imported one per offered hash.
func externalOffers(pr provider.Provider, psks []*ExternalPSK, hashes []crypto.Hash) ([]*pskOffer, error) {
	var out []*pskOffer
	for _, p := range psks {
		if !p.Import {
			if containsHash(hashes, p.hash()) {
				out = append(out, &pskOffer{identity: p.Identity, hash: p.hash(), kind: keys.External, secret: p.Key,
					plainOK: p.WithoutECDHE, external: p})
			}
			continue
		}
		for _, h := range hashes {
			o, err := importedOffer(pr, p, h)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// importedOffer derives p's imported PSK for suites of hash target (RFC
// 9258 §5.1).
func importedOffer(pr provider.Provider, p *ExternalPSK, target crypto.Hash) (*pskOffer, error) {
	id := wire.ImportedIdentity{ExternalIdentity: p.Identity, Context: p.Context,
		TargetProtocol: suites.VersionTLS13, TargetKDF: kdfOf(target)}
	raw, err := id.Marshal()
	if err != nil {
		return nil, err
	}
	return &pskOffer{identity: raw, hash: target, kind: keys.Imported, secret: keys.ImportPSK(keys.Hash{Hash: p.hash(), Provider: pr}, p.Key, raw, target),
		plainOK: p.WithoutECDHE, external: p}, nil
}

// kdfOf and hashOfKDF map a TLS 1.3 suite hash to RFC 9258's target_kdf.
func kdfOf(h crypto.Hash) uint16 {
	if h == crypto.SHA384 {
		return wire.KDFHKDFSHA384
	}
	return wire.KDFHKDFSHA256
}

func hashOfKDF(kdf uint16) crypto.Hash {
	switch kdf {
	case wire.KDFHKDFSHA256:
		return crypto.SHA256
	case wire.KDFHKDFSHA384:
		return crypto.SHA384
	}
	return 0
}

func containsHash(hs []crypto.Hash, h crypto.Hash) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// suiteHashes are the hashes of the TLS 1.3 suites in ids, each once, in order.
func suiteHashes(ids []uint16) []crypto.Hash {
	var hs []crypto.Hash
	for _, id := range ids {
		if s := suites.Lookup(id); s != nil && s.Version == suites.VersionTLS13 && !containsHash(hs, s.Hash) {
			hs = append(hs, s.Hash)
		}
	}
	return hs
}

// lookupExternal finds the server's external PSK for an identity a client
// offers: an ImportedIdentity for TLS 1.3 whose external_identity and
// context match an importable PSK, else a plain PSK of that identity. It
// returns nil when there is none (an unknown identity is ignored, RFC 8446
// §4.2.11); an error of the application's lookup ends the handshake. Each
// identity of a ClientHello is looked up once (the suite choice and the
// PSK choice both ask).
func (s *Server) lookupExternal(identity []byte) (*pskOffer, error) {
	if o, ok := s.s13.externals[string(identity)]; ok {
		return o, nil
	}
	o, err := s.resolveExternal(identity)
	if err != nil {
		return nil, err
	}
	if s.s13.externals == nil {
		s.s13.externals = make(map[string]*pskOffer)
	}
	s.s13.externals[string(identity)] = o
	return o, nil
}

func (s *Server) resolveExternal(identity []byte) (*pskOffer, error) {
	var imp wire.ImportedIdentity
	if err := imp.Unmarshal(identity); err == nil && imp.TargetProtocol == suites.VersionTLS13 && hashOfKDF(imp.TargetKDF) != 0 {
		p, err := s.findExternal(imp.ExternalIdentity, true)
		if err != nil {
			return nil, err
		}
		if p != nil && bytes.Equal(p.Context, imp.Context) {
			target := hashOfKDF(imp.TargetKDF)
			return &pskOffer{identity: identity, hash: target, kind: keys.Imported,
				secret: keys.ImportPSK(s.hash(p.hash()), p.Key, identity, target), plainOK: p.WithoutECDHE, external: p}, nil
		}
	}
	p, err := s.findExternal(identity, false)
	if err != nil || p == nil {
		return nil, err
	}
	return &pskOffer{identity: identity, hash: p.hash(), kind: keys.External, secret: p.Key, plainOK: p.WithoutECDHE, external: p}, nil
}

// stillHasExternal reports whether the server still holds the external
// PSK of this identity (imported or not), which authenticated a session.
func (s *Server) stillHasExternal(identity []byte) bool {
	for _, imported := range []bool{false, true} {
		if p, err := s.findExternal(identity, imported); err == nil && p != nil {
			return true
		}
	}
	return false
}

// findExternal looks up the PSK provisioned for identity, imported or
// not: in the configuration's list, then through the application's lookup.
func (s *Server) findExternal(identity []byte, imported bool) (*ExternalPSK, error) {
	for _, p := range s.cfg.ExternalPSKs {
		if p.Import == imported && bytes.Equal(p.Identity, identity) {
			return p, nil
		}
	}
	if s.cfg.LookupExternalPSK == nil {
		return nil, nil
	}
	p, err := s.cfg.LookupExternalPSK(identity)
	if err != nil {
		return nil, fmt.Errorf("looking up the external PSK: %w", err)
	}
	if p == nil || p.Import != imported {
		return nil, nil
	}
	return p, nil
}

// ticketAgeNow is the obfuscated_ticket_age of a session's ticket now
// (RFC 8446 §4.2.11.1).
func ticketAgeNow(sess *session.State, now time.Time) uint32 {
	return uint32(now.Sub(sess.ReceivedAt)/time.Millisecond) + sess.AgeAdd
}

// offerPSKs13 adds pre_shared_key, which must be the last extension (RFC
// 8446 §4.2.11): the cached session first, if the resumption decision
// allows offering it, then the external PSKs, each with its binder over
// the ClientHello. After a HelloRetryRequest (prefix, the transcript so
// far) it offers the same PSKs again but those whose hash does not fit the
// suite the server chose, with ages and binders computed anew (§4.1.2).
func (c *Client) offerPSKs13(h *wire.ClientHello, prefix *keys.Transcript) error {
	if prefix == nil {
		if o := c.resumptionOffer13(h.CipherSuites); o != nil {
			c.c13.offers = append(c.c13.offers, o)
		}
		ext, err := externalOffers(c.cfg.Provider, c.cfg.ExternalPSKs, suiteHashes(h.CipherSuites))
		if err != nil {
			return internalError(1, "ClientHello", err)
		}
		c.c13.offers = append(c.c13.offers, ext...)
		c.offerEarlyData13(h)
	} else {
		kept := c.c13.offers[:0]
		for _, o := range c.c13.offers {
			if o.hash == c.c13.suite.Hash {
				kept = append(kept, o)
			} else {
				o.erase()
			}
		}
		c.c13.offers = kept
	}
	if len(c.c13.offers) == 0 {
		return nil
	}
	if max := c.cfg.limits().PSKIdentities; len(c.c13.offers) > max {
		return internalError(1, "ClientHello", fmt.Errorf("%d PSK identities to offer, more than the limit of %d", len(c.c13.offers), max))
	}
	now := c.cfg.now()
	var psk wire.PreSharedKeyClientHello
	for _, o := range c.c13.offers {
		var age uint32
		if o.session != nil {
			age = ticketAgeNow(o.session, now)
		}
		psk.Identities = append(psk.Identities, wire.PSKIdentity{Identity: o.identity, ObfuscatedTicketAge: age})
		psk.Binders = append(psk.Binders, make([]byte, o.hash.Size()))
	}
	h.Extensions = replaceExtension(h.Extensions, wire.ExtPreSharedKey, psk)
	raw, err := h.Marshal()
	if err != nil {
		return internalError(1, "ClientHello", err)
	}
	truncated := raw[:len(raw)-psk.BindersLen()]
	for i, o := range c.c13.offers {
		psk.Binders[i] = o.binderFor(c.cfg.Provider, prefix, truncated)
	}
	h.Extensions = replaceExtension(h.Extensions, wire.ExtPreSharedKey, psk)
	if prefix == nil {
		c.notePSKOffers()
	}
	return nil
}

func (c *Client) notePSKOffers() {
	for _, o := range c.c13.offers {
		if o.session != nil {
			c.note(trace.KindNote, 1, "resumption offered", "version", "TLS 1.3", "by", "pre_shared_key")
		} else {
			c.note(trace.KindNote, 1, "external PSK offered", "identity", printableIdentity(o.external.Identity),
				"kind", pskKindName(o.kind), "hash", hashName(o.hash))
		}
	}
}

// erase zeroes the offer's early secret, which the handshake will not use.
func (o *pskOffer) erase() {
	if o.early != nil {
		o.early.Erase()
		o.early = nil
	}
}

// acceptedPSK13 checks the server's choice among our pre_shared_key
// offers: one we made, of the hash of the chosen suite (RFC 8446 §4.2.11).
func (c *Client) acceptedPSK13(sh *wire.ServerHello, s *suites.Suite) error {
	var sel wire.PreSharedKeyServerHello
	if _, err := sh.Extensions.DecodeWith(wire.ExtPreSharedKey, sel.Unmarshal); err != nil {
		return alert.Errorf(alert.DecodeError, 2, "ServerHello", "pre_shared_key: %w", err)
	}
	if int(sel.SelectedIdentity) >= len(c.c13.offers) {
		return alert.Errorf(alert.IllegalParameter, 2, "ServerHello", "the server selected PSK identity %d, which this client did not offer", sel.SelectedIdentity)
	}
	o := c.c13.offers[sel.SelectedIdentity]
	if o.hash != s.Hash {
		return alert.Errorf(alert.IllegalParameter, 2, "ServerHello",
			"the server selected a PSK for %s with %s, whose hash differs (RFC 8446 §4.2.11)", hashName(o.hash), s.Name)
	}
	c.c13.psk = o
	return nil
}

// takePSK13 commits the client to the PSK the server selected, if any: its
// early secret starts the key schedule, the others' are erased, and a
// resumption or an external PSK authenticates the server. A client that
// can only check an external PSK refuses a handshake without one.
func (c *Client) takePSK13(s *suites.Suite) error {
	psk := c.c13.psk
	for _, o := range c.c13.offers {
		if o != psk {
			o.erase()
		}
	}
	switch {
	case psk == nil && c.cfg.ExternalPSKOnly:
		return alert.Errorf(alert.HandshakeFailure, 2, "ServerHello",
			"the server selected none of our external PSKs, and without a server name this client cannot check a certificate")
	case psk == nil:
		for _, o := range c.c13.offers {
			if o.session != nil {
				c.note(trace.KindNote, 2, "resumption rejected", "reason", "the server started a full handshake")
			}
		}
		c.c13.schedule = keys.NewSchedule13(c.hash(s.Hash), nil)
		return nil
	case psk.session != nil:
		sess := psk.session
		c.state.DidResume = true
		c.state.ExternalPSKIdentity = sess.ExternalPSKIdentity
		c.state.setPeer(c.resumePeer)
		c.state.resumeCertTypes(sess)
		c.state.OCSPResponse, c.state.SignedCertificateTimestamps = sess.OCSPResponse, sess.SignedCertificateTimestamps
		c.authenticatedAt, c.verifiedUnder = sess.CreatedAt, sess.VerifiedUnder
		c.note(trace.KindNote, 2, "resumption accepted", "version", "TLS 1.3")
	default:
		c.state.ExternalPSKIdentity = psk.external.Identity
		c.authenticatedAt = c.cfg.now()
		c.note(trace.KindNote, 2, "external PSK accepted", "identity", printableIdentity(psk.external.Identity), "kind", pskKindName(psk.kind))
	}
	c.c13.schedule = psk.earlySchedule(c.cfg.Provider) // made for the binder (RFC 8446 §7.1: one Early Secret per PSK)
	psk.early = nil
	return nil
}

// psk13 is the PSK the server selected from pre_shared_key: the offer (a
// session of ours or an external PSK, with the early secret made to check
// its binder, from which the handshake goes on), its index, psk_ke or
// psk_dhe_ke, and a session's client chain as the resumption decision
// checked it.
type psk13 struct {
	offer    *pskOffer
	identity int
	plain    bool
	peer     *PeerCertificates
	// binder and obfuscatedAge are the identity's, for the 0-RTT replay
	// and freshness checks (early13.go).
	binder        []byte
	obfuscatedAge uint32
}

// acceptPSK13 decides on the client's pre_shared_key (into s.s13.psk),
// anew for each ClientHello: the first identity that is an external PSK of
// ours, or a session the resumption decision allows, for the chosen
// suite's hash and a key exchange mode both sides allow, and whose binder
// verifies. A bad binder is fatal (decrypt_error); anything else unusable
// only means a full handshake. Nothing is recorded in the connection's
// state until the server flight commits to the PSK.
func (s *Server) acceptPSK13() error {
	if s.s13.psk != nil && s.s13.psk.offer != nil {
		s.s13.psk.offer.erase() // the first ClientHello's, after a HelloRetryRequest
	}
	psk, err := s.selectPSK13(s.helloRaw)
	s.s13.psk = psk
	return err
}

func (s *Server) selectPSK13(raw []byte) (*psk13, error) {
	ch := s.hello
	if !ch.Extensions.Has(wire.ExtPreSharedKey) {
		return nil, nil
	}
	var modes wire.PSKKeyExchangeModes
	if found, err := ch.Extensions.DecodeWith(wire.ExtPSKKeyExchangeModes, modes.Unmarshal); err != nil {
		return nil, helloError(err, "psk_key_exchange_modes")
	} else if !found {
		return nil, alert.Errorf(alert.MissingExtension, 1, "ClientHello", "pre_shared_key without psk_key_exchange_modes (RFC 8446 §4.2.9)")
	}
	var offered wire.PreSharedKeyClientHello
	if _, err := ch.Extensions.DecodeWith(wire.ExtPreSharedKey, offered.Unmarshal); err != nil {
		return nil, helloError(err, "pre_shared_key")
	}
	for i, id := range offered.Identities {
		if i == s.cfg.limits().PSKIdentities {
			s.note(trace.KindNote, 1, "PSK identities ignored", "count", strconv.Itoa(len(offered.Identities)-i),
				"reason", "more identities than the limits policy looks up")
			break
		}
		cand, peer, why, err := s.pskCandidate13(id.Identity)
		if err != nil {
			return nil, err
		}
		if cand != nil && cand.hash != s.s13.suite.Hash {
			cand, why = nil, "the PSK is for "+hashName(cand.hash)+", the chosen suite "+s.s13.suite.Name
		}
		plain := cand != nil && cand.plainOK && contains([]uint8(modes), pskModePlain)
		if cand != nil && !plain && !contains([]uint8(modes), pskModeDHE) {
			cand, why = nil, "the client offers psk_ke only; this PSK requires psk_dhe_ke"
		}
		if cand == nil {
			if why != "" {
				s.note(trace.KindNote, 1, "PSK not used", "identity", strconv.Itoa(i), "reason", why)
			}
			continue
		}
		truncated := raw[:len(raw)-offered.BindersLen()]
		if !keys.Equal(cand.binderFor(s.cfg.Provider, s.s13.binderPrefix, truncated), offered.Binders[i]) {
			cand.erase()
			return nil, alert.Errorf(alert.DecryptError, 1, "ClientHello", "the PSK binder does not verify (RFC 8446 §4.2.11)")
		}
		mode := "psk_dhe_ke"
		if plain {
			mode = "psk_ke"
		}
		if cand.session != nil {
			s.note(trace.KindNote, 1, "resumption accepted", "identity", strconv.Itoa(i), "mode", mode)
		} else {
			s.note(trace.KindNote, 1, "external PSK accepted", "identity", printableIdentity(cand.external.Identity),
				"kind", pskKindName(cand.kind), "mode", mode)
		}
		return &psk13{offer: cand, identity: i, plain: plain, peer: peer, binder: offered.Binders[i], obfuscatedAge: id.ObfuscatedTicketAge}, nil
	}
	return nil, nil
}

// pskCandidate13 is what a pre_shared_key identity stands for on this
// server: an external PSK (looked up first, as RFC 9257 §6.1.2 describes
// stacks doing), else a session of ours.
func (s *Server) pskCandidate13(identity []byte) (*pskOffer, *PeerCertificates, string, error) {
	ext, err := s.lookupExternal(identity)
	if err != nil {
		return nil, nil, "", alert.Errorf(alert.InternalError, 1, "ClientHello", "%w", err)
	}
	if ext != nil {
		return ext, nil, "", nil
	}
	return s.resumptionCandidate13(identity)
}

// externalPSKHashes are the hashes of the external PSKs of ours the client
// offers, in its order: "client-provided, externally established PSKs
// SHOULD influence cipher suite selection" (RFC 8446 §4.2.11), so that a
// PSK for SHA-256 is not passed over for a SHA-384 suite ranked higher.
func (s *Server) externalPSKHashes() []crypto.Hash {
	var offered wire.PreSharedKeyClientHello
	if found, err := s.hello.Extensions.DecodeWith(wire.ExtPreSharedKey, offered.Unmarshal); !found || err != nil {
		return nil
	}
	var hs []crypto.Hash
	for i, id := range offered.Identities {
		if i == s.cfg.limits().PSKIdentities {
			break
		}
		if o, err := s.lookupExternal(id.Identity); err == nil && o != nil && !containsHash(hs, o.hash) {
			hs = append(hs, o.hash)
		}
	}
	return hs
}

func pskKindName(k keys.PSKKind) string {
	switch k {
	case keys.External:
		return "external"
	case keys.Imported:
		return "imported (RFC 9258)"
	}
	return "resumption"
}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA256:
		return "SHA-256"
	case crypto.SHA384:
		return "SHA-384"
	}
	return h.String()
}

// printableIdentity shows an identity as text when it is printable ASCII,
// else in hex.
func printableIdentity(id []byte) string {
	for _, b := range id {
		if b < 0x20 || b > 0x7e {
			return fmt.Sprintf("%x", id)
		}
	}
	return string(id)
}
