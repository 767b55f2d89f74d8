package handshake

import (
	"errors"
	"io"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// Client is the client side of a handshake (RFC 5246 §7.3, RFC 8446 §2).
//
//	Start: send ClientHello                                   (step 1)
//	readServerHello                                           (step 2)
//	  TLS 1.2 → client12 states (client12.go)
//	  TLS 1.3 → client13 states (client13.go), after at most one HelloRetryRequest
type Client struct {
	base
	hello     *wire.ClientHello
	keyShares []kex.KeyShare // TLS 1.3 key_share entries we sent
	// resumePeer is the offered session's server chain as mayResume
	// checked it: the connection's peer if the server resumes.
	resumePeer *PeerCertificates
	next       clientState
	ech        *echClient // our Encrypted Client Hello offer (echclient.go)
	c12        client12
	c13        client13
}

// clientState handles one input: a handshake message, or nil for ChangeCipherSpec.
type clientState func(c *Client, msg []byte) (clientState, error)

// NewClient returns a client engine for cfg.
func NewClient(cfg *Config) *Client {
	c := &Client{base: base{cfg: cfg, side: trace.Client, state: new(State)}}
	c.next = (*Client).readServerHello
	return c
}

func (c *Client) Start() (_ []Action, err error) {
	defer catchPanic(&err)
	if c.cfg.ECHConfigList != nil {
		if c.ech, err = chooseECHConfig(c.cfg.ECHConfigList); err == nil {
			err = c.ech.start()
		}
		switch {
		case errors.Is(err, errNoUsableECHConfig):
			c.ech = nil
			c.note(trace.KindNote, 1, "ClientHello", "encrypted_client_hello", err.Error()+": the handshake goes on without ECH (draft-ietf-tls-esni-25 §6.1)")
		case err != nil:
			return nil, internalError(1, "ClientHello", err)
		default:
			c.ech.outerTrans = new(keys.Transcript)
		}
	}
	hello, err := c.buildClientHello()
	if err != nil {
		return nil, err
	}
	c.hello = hello
	c.state.ClientRandom = hello.Random[:]
	// TLS 1.2 client CertificateVerify signs the raw transcript with a hash
	// that need not be the PRF hash, so keep the messages until we know.
	c.transcript.KeepBuffer(true)
	if c.ech != nil {
		c.ech.innerRandom = hello.Random[:]
		outer, err := c.sealOuter(hello, true)
		if err != nil {
			return nil, err
		}
		err = c.sendHelloECH(hello, outer, true)
	} else {
		err = c.send(hello, 1)
	}
	if err != nil {
		return nil, err
	}
	if c.c13.early != nil {
		raw, err := hello.Marshal()
		if err != nil {
			return nil, internalError(1, "ClientHello", err)
		}
		if err := c.openEarlyData13(raw); err != nil {
			return nil, err
		}
	}
	return c.take(), nil
}

func (c *Client) HandleMessage(msg []byte) ([]Action, error) { return c.step(msg) }

func (c *Client) HandleChangeCipherSpec() ([]Action, error) { return c.step(nil) }

func (c *Client) step(msg []byte) (_ []Action, err error) {
	defer func() {
		if err != nil {
			c.next, c.out = nil, nil
		}
	}()
	defer catchPanic(&err)
	if msg == nil && c.state.Version == suites.VersionTLS13 && c.next != nil {
		// RFC 8446 §5: a ChangeCipherSpec during the handshake is the
		// peer's middlebox compatibility; drop it (a bounded number).
		return nil, c.dropChangeCipherSpec()
	}
	if c.next == nil {
		if msg == nil {
			return nil, unexpectedChangeCipherSpec(-1, "nothing")
		}
		return nil, unexpected(msg, -1, "nothing (the handshake is over)")
	}
	sentCCS := c.c13.sentCCS
	next, err := c.next(c, msg)
	if err != nil {
		// Nothing this step queued goes out, its ChangeCipherSpec
		// neither: Abort sends that before the alert.
		c.next = nil
		c.out = nil
		c.c13.sentCCS = sentCCS
		return nil, err
	}
	c.next = next
	if c.complete && next == nil {
		c.shed()
	}
	return c.take(), nil
}

// Abort: in TLS 1.3 the alert about to go out starts our second flight, so
// the compatibility ChangeCipherSpec comes first (RFC 8446 Appendix D.4).
func (c *Client) Abort() []Action {
	if c.state.Version == suites.VersionTLS13 {
		c.sendCompatCCS13()
	}
	return c.take()
}

// versions the client offers, highest first: in an ECH inner hello TLS 1.3
// only (draft-ietf-tls-esni-25 §6.1 rule 1); the outer one offers the
// configured range (echclient.go).
func (c *Client) versions() []uint16 { return c.versionsFrom(c.minVersion()) }

func (c *Client) minVersion() uint16 {
	if c.ech != nil {
		return suites.VersionTLS13
	}
	return c.cfg.MinVersion
}

func (c *Client) versionsFrom(min uint16) []uint16 {
	var vs []uint16
	for v := c.cfg.MaxVersion; v >= min && v >= suites.VersionTLS12; v-- {
		vs = append(vs, v)
	}
	return vs
}

func (c *Client) offers13() bool { return c.cfg.MaxVersion >= suites.VersionTLS13 }

// buildClientHello is step 1: our random, the suites, groups and signature
// schemes we support, and the extensions that say what else we can do.
func (c *Client) buildClientHello() (*wire.ClientHello, error) {
	// Room for the extensions a TLS 1.3 hello usually carries, so the list
	// does not grow one extension at a time.
	h := &wire.ClientHello{Version: suites.VersionTLS12, CompressionMethods: []uint8{0}, Extensions: make(wire.Extensions, 0, 16)}
	if _, err := io.ReadFull(c.random(), h.Random[:]); err != nil {
		return nil, internalError(1, "ClientHello", err)
	}
	if c.offers13() {
		// Middlebox compatibility mode (RFC 8446 Appendix D.4): a fresh
		// session ID makes the handshake look like a TLS 1.2 resumption.
		h.SessionID = make([]byte, 32)
		if _, err := io.ReadFull(c.random(), h.SessionID); err != nil {
			return nil, internalError(1, "ClientHello", err)
		}
	}
	for _, id := range c.cfg.CipherSuites {
		s := suites.Lookup(id)
		if s != nil && s.Version >= c.cfg.MinVersion && s.Version <= c.cfg.MaxVersion {
			h.CipherSuites = append(h.CipherSuites, id)
		}
	}
	if len(h.CipherSuites) == 0 {
		return nil, alert.Errorf(alert.InternalError, 1, "ClientHello",
			"no cipher suite is enabled for %s–%s", suites.VersionName(c.cfg.MinVersion), suites.VersionName(c.cfg.MaxVersion))
	}
	if name := sniName(c.cfg.ServerName); name != "" {
		h.Extensions.Add(wire.ExtServerName, &wire.ServerName{HostName: name})
	}
	var groups wire.SupportedGroups
	for _, g := range c.cfg.Groups {
		if !suites.GroupTLS13Only(g) || c.offers13() {
			groups = append(groups, g)
		}
	}
	h.Extensions.Add(wire.ExtSupportedGroups, &groups)
	if c.ech == nil {
		// Uncompressed only, RFC 8422 §5.1.2. Not in an ECH inner hello,
		// which offers TLS 1.3 only: the outer hello carries it when it
		// offers TLS 1.2 (echclient.go).
		h.Extensions.Add(wire.ExtECPointFormats, &wire.ECPointFormats{0})
	}
	sigs := wire.SignatureAlgorithms(c.cfg.SignatureSchemes)
	h.Extensions.Add(wire.ExtSignatureAlgorithms, &sigs)
	if len(c.cfg.NextProtos) > 0 {
		alpn := wire.ALPN(c.cfg.NextProtos)
		h.Extensions.Add(wire.ExtALPN, &alpn)
	}
	requestStatus(h)
	c.offerCertTypes(h)
	c.offerRecordSizeLimit(h)
	if c.offers13() {
		if err := c.addExtensions13(h); err != nil {
			return nil, err
		}
	}
	if c.minVersion() <= suites.VersionTLS12 {
		h.Extensions.AddEmpty(wire.ExtExtendedMasterSecret)
		// An empty renegotiation_info says "secure renegotiation understood"
		// (RFC 5746 §3.4); we never renegotiate, but peers want to hear it.
		ri := wire.RenegotiationInfo{}
		h.Extensions.Add(wire.ExtRenegotiationInfo, &ri)
		if err := c.offerSession12(h); err != nil {
			return nil, err
		}
	}
	h.Extensions = append(h.Extensions, c.cfg.ExtraClientHelloExtensions...)
	switch {
	case c.ech != nil:
		c.arrangeInner(h)
	case c.cfg.ECHGrease && c.offers13():
		if err := c.greaseECH(h); err != nil {
			return nil, err
		}
	}
	if c.offers13() {
		// pre_shared_key must be the last extension (RFC 8446 §4.2.11).
		if err := c.offerPSKs13(h, nil); err != nil {
			return nil, err
		}
	}
	if len(h.Extensions) == 0 {
		h.Extensions = nil // no extensions block at all, as before the room was made
	}
	return h, nil
}

// sniName returns the name to send in server_name: host names only, never
// IP literals (RFC 6066 §3), without a trailing dot.
func sniName(name string) string {
	if name == "" || isIPLiteral(name) {
		return ""
	}
	for len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	return name
}

// readServerHello is step 2: the server's choice of version and suite, and its random.
func (c *Client) readServerHello(msg []byte) (clientState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(2, "ServerHello")
	}
	sh := new(wire.ServerHello)
	if err := parse(sh, msg, 2); err != nil {
		return nil, err
	}
	if sh.Extensions.Has(wire.ExtSupportedVersions) {
		var v wire.SupportedVersionServer
		if _, err := sh.Extensions.DecodeWith(wire.ExtSupportedVersions, v.Unmarshal); err != nil {
			return nil, alert.Errorf(alert.DecodeError, 2, "ServerHello", "supported_versions: %w", err)
		}
		if uint16(v) != suites.VersionTLS13 || !c.offers13() {
			return nil, alert.Errorf(alert.IllegalParameter, 2, "ServerHello",
				"server selected %s through supported_versions, which this client did not offer", suites.VersionName(uint16(v)))
		}
		if sh.Version != suites.VersionTLS12 {
			// RFC 8446 §4.1.3: legacy_version "MUST be set to 0x0303".
			return nil, alert.Errorf(alert.ProtocolVersion, 2, "ServerHello",
				"legacy_version %#04x in a TLS 1.3 ServerHello, which must say 0x0303", sh.Version)
		}
		c.state.Version = suites.VersionTLS13
		if sh.IsHelloRetryRequest() {
			return c.readHelloRetryRequest(sh, msg)
		}
		return c.readServerHello13(sh, msg)
	}
	if sh.IsHelloRetryRequest() || c.state.HelloRetryRequest {
		return nil, alert.Errorf(alert.IllegalParameter, 2, "ServerHello", "a TLS 1.3 HelloRetryRequest must be followed by a TLS 1.3 ServerHello")
	}
	if c.c13.early != nil {
		// "A client that attempts to send 0-RTT data MUST fail a
		// connection if it receives a ServerHello with TLS 1.2 or older"
		// (RFC 8446 Appendix D.3): the server took the early data for the
		// start of a TLS 1.2 handshake, or is a downgrade.
		return nil, alert.Errorf(alert.ProtocolVersion, 2, "ServerHello",
			"server chose %s after this client sent 0-RTT data under a TLS 1.3 session (RFC 8446 Appendix D.3)", suites.VersionName(sh.Version))
	}
	if sh.Version != suites.VersionTLS12 || sh.Version < c.cfg.MinVersion || sh.Version > c.cfg.MaxVersion {
		return nil, alert.Errorf(alert.ProtocolVersion, 2, "ServerHello",
			"server chose %s; this client accepts %s–%s only", suites.VersionName(sh.Version),
			suites.VersionName(c.cfg.MinVersion), suites.VersionName(c.cfg.MaxVersion))
	}
	if c.ech != nil && c.ech.state == echOffered {
		// A TLS 1.2 answer is to the outer hello (§6.1.4).
		c.rejectECH("ServerHello")
	}
	c.state.Version = sh.Version
	return c.readServerHello12(sh, msg)
}
