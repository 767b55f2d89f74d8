package handshake

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// The client's side of Encrypted Client Hello (draft-ietf-tls-esni-25 §6).
// The engine builds its ClientHello as always; with ECH that hello is the
// inner one (what the server reads, sealed), and the outer one — what the
// network sees — is made from it: a fresh random, the public name in
// server_name, the shared extensions copied, the rest left out. Both go
// into a transcript until the server's first answer says which one the
// handshake continues with (§6.1.4).

// echState is where an ECH offer stands.
type echState int

const (
	echOffered  echState = iota // waiting for the server's first answer
	echAccepted                 // the server uses the inner hello
	echRejected                 // the server uses the outer hello
)

// echClient is the client's ECH offer.
type echClient struct {
	config wire.ECHConfig
	suite  wire.HPKESymmetricCipherSuite
	sender *hpke.Sender
	enc    []byte
	state  echState

	outer      *wire.ClientHello // the outer hello last sent
	outerTrans *keys.Transcript  // the transcript if the server uses the outer hellos
	// innerRandom is the inner hellos' random: the confirmations key on it.
	innerRandom []byte
	// retryConfigs are the server's retry_configs, once rejected.
	retryConfigs []byte
	// decided is the trace note of the last decision, emitted once the
	// message that brought it is traced (noteECHDecision).
	decided []string
}

// chooseECHConfig picks the first configuration of the list this client
// can use (§6.1): version 0xfe0d, a KEM and a symmetric suite HPKE has, no
// mandatory extension it does not know, and a public name that is a host
// name (§6.1.7). None is an error: the application asked for ECH.
func chooseECHConfig(list []byte) (*echClient, error) {
	configs, err := wire.ParseECHConfigList(list)
	if err != nil {
		return nil, fmt.Errorf("EncryptedClientHelloConfigList: %w", err)
	}
	for _, c := range configs {
		if c.Version != wire.ECHVersion || !validPublicName(string(c.PublicName)) ||
			slices.ContainsFunc(c.Extensions, wire.ECHConfigExtension.Mandatory) {
			continue
		}
		for _, cs := range c.CipherSuites {
			if _, _, _, err := hpkeSuite(c.KEM, cs); err == nil {
				return &echClient{config: c, suite: cs}, nil
			}
		}
	}
	return nil, errNoUsableECHConfig
}

// errNoUsableECHConfig: the list is well formed, but this client can use
// none of its configurations. §6.1: "If no compatible configuration is
// found, then the client SHOULD proceed as described in Section 6.2": the
// handshake goes on without ECH (ECHAccepted false), with GREASE if the
// configuration asks for it, as BoringSSL does.
var errNoUsableECHConfig = errors.New("EncryptedClientHelloConfigList has no configuration this client can use (version 0xfe0d, a KEM, KDF and AEAD it implements, a host name as public name)")

// validPublicName is §6.1.7: LDH labels of at most 63 bytes, no leading or
// trailing dot, and a last label that cannot be read as an IPv4 number.
func validPublicName(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			ch := l[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return false
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
		strings.Trim(last[2:], "0123456789abcdefABCDEF") == "" {
		return false
	}
	return true
}

// startECH sets the HPKE context up for the chosen configuration (§6.1).
func (e *echClient) start() error {
	kem, kdf, aead, err := hpkeSuite(e.config.KEM, e.suite)
	if err != nil {
		return err
	}
	pub, err := kem.NewPublicKey(e.config.PublicKey)
	if err != nil {
		return fmt.Errorf("ECHConfig public_key: %w", err)
	}
	e.enc, e.sender, err = hpke.NewSender(pub, kdf, aead, echInfo(e.config.Raw))
	return err
}

// echCompresses reports whether the inner hello names extension t in
// ech_outer_extensions: one of echCompressible, unless the outer hello
// differs there (supported_versions when it offers TLS 1.2 too).
func (c *Client) echCompresses(t wire.ExtensionType) bool {
	return echCompressible[t] && !(t == wire.ExtSupportedVersions && c.outerOffers12())
}

// outerOffers12: the outer hello offers TLS 1.2 besides 1.3, as the
// configuration allows; a server that picks it has rejected ECH (§6.1.4).
func (c *Client) outerOffers12() bool { return c.cfg.MinVersion <= suites.VersionTLS12 }

// arrangeInner orders the inner hello's extensions so that those it will
// compress stand together (§6.1 rule 3), where the first of them stood, and
// adds the inner encrypted_client_hello. It runs before pre_shared_key is
// added, so the binders cover the hello as the server will rebuild it.
func (c *Client) arrangeInner(h *wire.ClientHello) {
	var shared, rest wire.Extensions
	at := -1
	for _, ext := range h.Extensions {
		if c.echCompresses(ext.Type) {
			if at < 0 {
				at = len(rest)
			}
			shared = append(shared, ext)
		} else {
			rest = append(rest, ext)
		}
	}
	out := make(wire.Extensions, 0, len(h.Extensions)+1)
	if at < 0 {
		at = len(rest)
	}
	out = append(out, rest[:at]...)
	out = append(out, shared...)
	out = append(out, rest[at:]...)
	h.Extensions = out
	h.Extensions.Add(wire.ExtEncryptedClientHello, wire.ECHClientHello{Type: wire.ECHInner})
}

// sealOuter makes the outer hello for inner and seals inner into it
// (§6.1, §6.1.1). The first outer hello carries enc; the one answering a
// HelloRetryRequest does not, and the HPKE context goes on (§6.1.5).
func (c *Client) sealOuter(inner *wire.ClientHello, first bool) (*wire.ClientHello, error) {
	e := c.ech
	outer := &wire.ClientHello{Version: inner.Version, SessionID: inner.SessionID,
		CipherSuites: inner.CipherSuites, CompressionMethods: inner.CompressionMethods}
	if _, err := io.ReadFull(c.random(), outer.Random[:]); err != nil {
		return nil, internalError(1, "ClientHello", err)
	}
	encoded := &wire.ClientHello{Version: inner.Version, Random: inner.Random,
		CipherSuites: inner.CipherSuites, CompressionMethods: inner.CompressionMethods}
	var compressed wire.OuterExtensions
	if !inner.Extensions.Has(wire.ExtServerName) {
		// §6.1 rule 5: the public name, whether or not the inner hello
		// names a server (a client connecting to an IP address).
		outer.Extensions.Add(wire.ExtServerName, &wire.ServerName{HostName: string(e.config.PublicName)})
	}
	for _, ext := range inner.Extensions {
		switch {
		case c.echCompresses(ext.Type):
			outer.Extensions = append(outer.Extensions, ext)
			if len(compressed) == 0 {
				encoded.Extensions = append(encoded.Extensions, wire.Extension{Type: wire.ExtECHOuterExtensions})
			}
			compressed = append(compressed, ext.Type)
			continue
		case ext.Type == wire.ExtServerName:
			outer.Extensions.Add(wire.ExtServerName, &wire.ServerName{HostName: string(e.config.PublicName)})
		case ext.Type == wire.ExtSupportedVersions:
			versions := wire.SupportedVersionsClient(c.versionsFrom(c.cfg.MinVersion))
			outer.Extensions.Add(wire.ExtSupportedVersions, &versions)
		case ext.Type == wire.ExtEarlyData:
			// §6.1 rule 7, so a server that rejects ECH ignores the
			// early data as RFC 8446 §4.2.10 says.
			outer.Extensions = append(outer.Extensions, ext)
		}
		encoded.Extensions = append(encoded.Extensions, ext)
	}
	if c.outerOffers12() {
		// What a TLS 1.2 server needs of the outer hello; the inner one
		// does not offer TLS 1.2.
		outer.Extensions.Add(wire.ExtECPointFormats, &wire.ECPointFormats{0})
		outer.Extensions.AddEmpty(wire.ExtExtendedMasterSecret)
		outer.Extensions.Add(wire.ExtRenegotiationInfo, &wire.RenegotiationInfo{})
	}
	if len(compressed) > 0 {
		var one wire.Extensions
		one.Add(wire.ExtECHOuterExtensions, compressed)
		i := slices.IndexFunc(encoded.Extensions, func(x wire.Extension) bool { return x.Type == wire.ExtECHOuterExtensions })
		encoded.Extensions[i] = one[0]
	}
	body, err := (&wire.EncodedClientHelloInner{ClientHello: encoded}).Marshal()
	if err != nil {
		return nil, internalError(1, "ClientHello", err)
	}
	padded := &wire.EncodedClientHelloInner{ClientHello: encoded, Padding: echPadding(inner, len(body), int(e.config.MaxNameLength))}
	plaintext, err := padded.Marshal()
	if err != nil {
		return nil, internalError(1, "ClientHello", err)
	}
	ext := wire.ECHClientHello{Type: wire.ECHOuter, CipherSuite: e.suite, ConfigID: e.config.ConfigID,
		Payload: make([]byte, len(plaintext)+echAEADOverhead)}
	if first {
		ext.Enc = e.enc
	}
	outer.Extensions.Add(wire.ExtEncryptedClientHello, ext)
	if inner.Extensions.Has(wire.ExtPreSharedKey) {
		if err := c.greasePSK(inner, outer); err != nil {
			return nil, err
		}
	}
	aad, err := outer.Body()
	if err != nil {
		return nil, internalError(1, "ClientHello", err)
	}
	if ext.Payload, err = e.sender.Seal(aad, plaintext); err != nil {
		return nil, internalError(1, "ClientHello", fmt.Errorf("sealing the inner ClientHello: %w", err))
	}
	outer.Extensions = replaceExtension(outer.Extensions, wire.ExtEncryptedClientHello, ext)
	return outer, nil
}

// echPadding is §6.1.3's padding: the server name padded to the
// configuration's maximum_name_length, then the whole to a multiple of 32.
func echPadding(inner *wire.ClientHello, length, maxName int) int {
	pad := maxName + 9 // no server_name: as if one of maxName bytes
	var sni wire.ServerName
	if found, err := inner.Extensions.DecodeWith(wire.ExtServerName, sni.Unmarshal); found && err == nil {
		pad = max(0, maxName-len(sni.HostName))
	}
	l := length + pad
	return pad + 31 - (l-1)%32
}

// greasePSK puts in the outer hello a pre_shared_key shaped like the inner
// one, of random bytes (§6.1.2): a client-facing server that rejects ECH
// must not see the real identities.
func (c *Client) greasePSK(inner, outer *wire.ClientHello) error {
	var real wire.PreSharedKeyClientHello
	if _, err := inner.Extensions.DecodeWith(wire.ExtPreSharedKey, real.Unmarshal); err != nil {
		return internalError(1, "ClientHello", err)
	}
	fake := wire.PreSharedKeyClientHello{}
	for _, id := range real.Identities {
		f := wire.PSKIdentity{Identity: make([]byte, len(id.Identity))}
		var age [4]byte
		if _, err := io.ReadFull(c.random(), f.Identity); err != nil {
			return internalError(1, "ClientHello", err)
		}
		if _, err := io.ReadFull(c.random(), age[:]); err != nil {
			return internalError(1, "ClientHello", err)
		}
		f.ObfuscatedTicketAge = uint32(age[0])<<24 | uint32(age[1])<<16 | uint32(age[2])<<8 | uint32(age[3])
		fake.Identities = append(fake.Identities, f)
	}
	for _, b := range real.Binders {
		f := make([]byte, len(b))
		if _, err := io.ReadFull(c.random(), f); err != nil {
			return internalError(1, "ClientHello", err)
		}
		fake.Binders = append(fake.Binders, f)
	}
	outer.Extensions.Add(wire.ExtPreSharedKey, &fake)
	return nil
}

// sendHelloECH sends the outer hello and keeps both transcripts: the inner
// hello's in c.transcript, the outer's beside it. The trace shows both —
// what the network sees, and what the server will read.
func (c *Client) sendHelloECH(inner, outer *wire.ClientHello, first bool) error {
	innerRaw, err := inner.Marshal()
	if err != nil {
		return internalError(1, "ClientHello", err)
	}
	outerRaw, err := outer.Marshal()
	if err != nil {
		return internalError(1, "ClientHello", err)
	}
	c.transcript.Write(innerRaw)
	if first {
		c.ech.outerTrans.Write(outerRaw)
	}
	c.ech.outer = outer
	c.act(SendMessage{Data: outerRaw})
	c.traceMessage(trace.Sent, outer, outerRaw, 1)
	c.emit(trace.Event{Kind: trace.KindNote, Direction: trace.Local, Step: 1, Message: "ClientHelloInner",
		Fields: append([]trace.Field{{Name: "encrypted_client_hello", Value: fmt.Sprintf(
			"sealed inside the ClientHello above (config_id %d); the network sees server_name %q",
			c.ech.config.ConfigID, c.ech.config.PublicName)}}, describe(inner)...)})
	return nil
}

// echAfterHRR decides ECH at a HelloRetryRequest (§6.1.4): accepted if it
// carries the confirmation computed over the inner hello.
func (c *Client) echAfterHRR(hrr *wire.ServerHello, h *suites.Suite) error {
	data, found := hrr.Extensions.Find(wire.ExtEncryptedClientHello)
	var conf wire.ECHHelloRetryRequest
	if found {
		if err := conf.Unmarshal(data); err != nil {
			return alert.Errorf(alert.DecodeError, 2, "HelloRetryRequest", "encrypted_client_hello: %w", err)
		}
	}
	if c.ech == nil { // GREASE: checked for syntax, otherwise ignored (§6.2.1)
		return nil
	}
	if found {
		zeroed, err := echZeroHRRConfirmation(hrr)
		if err != nil {
			return internalError(2, "HelloRetryRequest", err)
		}
		t := c.transcript.Clone()
		t.SetHash(c.hash(h.Hash))
		t.ReplaceWithMessageHash()
		t.Write(zeroed)
		if keys.Equal(echConfirmation(c.hash(h.Hash), c.ech.innerRandom, echHRRAcceptLabel, t.Sum()), conf[:]) {
			c.ech.state = echAccepted
			c.ech.decided = []string{"HelloRetryRequest", "accepted: the server read the inner ClientHello (its confirmation matches)"}
			return nil
		}
	}
	c.rejectECH("HelloRetryRequest")
	return nil
}

// echAfterServerHello decides ECH at the ServerHello (§6.1.4), unless a
// HelloRetryRequest already did: after an accepted one the ServerHello
// must confirm again (§6.1.5).
func (c *Client) echAfterServerHello(sh *wire.ServerHello, h *suites.Suite) error {
	e := c.ech
	if e == nil || e.state == echRejected {
		return nil
	}
	zeroed, err := echZeroConfirmation(sh)
	if err != nil {
		return internalError(2, "ServerHello", err)
	}
	t := c.transcript.Clone()
	t.SetHash(c.hash(h.Hash))
	t.Write(zeroed)
	if keys.Equal(echConfirmation(c.hash(h.Hash), e.innerRandom, echAcceptLabel, t.Sum()), sh.Random[24:]) {
		e.state = echAccepted
		c.state.ECHAccepted = true
		e.decided = []string{"ServerHello", "accepted: the server read the inner ClientHello (the last 8 bytes of its random confirm it)"}
		return nil
	}
	if e.state == echAccepted {
		return alert.Errorf(alert.IllegalParameter, 2, "ServerHello",
			"the HelloRetryRequest accepted Encrypted Client Hello, the ServerHello does not confirm it (draft-ietf-tls-esni-25 §6.1.5)")
	}
	c.rejectECH("ServerHello")
	return nil
}

// rejectECH goes on with the outer hello (§6.1.6): its transcript, its
// preferences, no PSK (it offered none that was real); the server must
// prove it is the public name, and then the handshake ends.
func (c *Client) rejectECH(message string) {
	e := c.ech
	e.state = echRejected
	c.transcript = *e.outerTrans
	c.hello = e.outer
	c.state.ClientRandom = e.outer.Random[:] // the key log's and TLS 1.2's client random
	c.c13.offers = nil
	c.c13.early = nil
	c.outerOnly = true
	publicName := string(e.config.PublicName)
	c.verifyPeer = func(certs []*x509.Certificate) (*PeerCertificates, error) {
		if c.cfg.ECHRejectionVerify == nil {
			return nil, errors.New("Encrypted Client Hello was rejected and nothing can verify the public name's certificate")
		}
		return c.cfg.ECHRejectionVerify(certs, publicName)
	}
	e.decided = []string{message, fmt.Sprintf("rejected: the server uses the outer ClientHello; it must prove it is %q, then this client ends the handshake", e.config.PublicName)}
}

// noteECHDecision traces the decision the server's first answer brought,
// after that answer itself.
func (c *Client) noteECHDecision() {
	if c.ech == nil || c.ech.decided == nil {
		return
	}
	kind := trace.KindVerified
	if c.ech.state == echRejected {
		kind = trace.KindNote
	}
	c.note(kind, 2, c.ech.decided[0], "encrypted_client_hello", c.ech.decided[1])
	c.ech.decided = nil
}

// echRetryConfigs reads encrypted_client_hello in EncryptedExtensions: only
// an answer to an outer hello the server used (§5), checked for syntax
// (§6.1.6, §6.2.1), kept only when this client really offered ECH.
func (c *Client) echRetryConfigs(ee *wire.EncryptedExtensions) error {
	data, found := ee.Extensions.Find(wire.ExtEncryptedClientHello)
	if !found {
		return nil
	}
	if c.ech != nil && c.ech.state == echAccepted {
		return alert.Errorf(alert.UnsupportedExtension, 2, "EncryptedExtensions",
			"retry_configs after the server accepted Encrypted Client Hello (draft-ietf-tls-esni-25 §5)")
	}
	var retry wire.ECHEncryptedExtensions
	if err := retry.Unmarshal(data); err != nil {
		return alert.Errorf(alert.DecodeError, 2, "EncryptedExtensions", "encrypted_client_hello: %w", err)
	}
	if c.ech != nil {
		c.ech.retryConfigs = retry.RetryConfigs
	}
	return nil
}

// echRejectedEnd marks a handshake the server finished with the outer
// hello: authenticated for the public name, it is still not the connection
// the application asked for (§6.1.7). The handshake completes ("If both
// authentication and the handshake complete successfully", §6.1.6), then
// the connection sends ech_required and hands the retry configurations
// to the application (State.ECHRejection).
func (c *Client) echRejectedEnd() {
	if c.ech == nil || c.ech.state != echRejected {
		return
	}
	retry := bytes.Clone(c.ech.retryConfigs)
	var err error = &ECHRejection{RetryConfigs: retry}
	if c.cfg.ECHRejected != nil {
		err = c.cfg.ECHRejected(retry)
	}
	c.state.ECHRejection = err
}

// greaseECH makes a GREASE encrypted_client_hello (§6.2.1): a random
// config_id, X25519 with HKDF-SHA256 and AES-128-GCM, a real X25519 public
// key as enc, and a random payload the size a padded inner hello of this
// client would have.
func (c *Client) greaseECH(h *wire.ClientHello) error {
	kem := hpke.DHKEM(ecdh.X25519())
	priv, err := kem.GenerateKey()
	if err != nil {
		return internalError(1, "ClientHello", err)
	}
	var id [1]byte
	if _, err := io.ReadFull(c.random(), id[:]); err != nil {
		return internalError(1, "ClientHello", err)
	}
	body, err := h.Body()
	if err != nil {
		return internalError(1, "ClientHello", err)
	}
	// The inner hello would hold about what this one does, less what ECH
	// compresses; its padding rounds to 32 anyway.
	size := len(body) / 2
	size += 31 - (size-1)%32
	payload := make([]byte, size+echAEADOverhead)
	if _, err := io.ReadFull(c.random(), payload); err != nil {
		return internalError(1, "ClientHello", err)
	}
	ext := wire.ECHClientHello{Type: wire.ECHOuter, CipherSuite: wire.HPKESymmetricCipherSuite{KDF: 1, AEAD: 1},
		ConfigID: id[0], Enc: priv.PublicKey().Bytes(), Payload: payload}
	h.Extensions.Add(wire.ExtEncryptedClientHello, ext)
	return nil
}
