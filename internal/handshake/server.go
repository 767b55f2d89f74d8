package handshake

import (
	"bytes"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// Server is the server side of a handshake.
//
//	readClientHello                                           (step 1)
//	  TLS 1.2 → server12 states (server12.go)
//	  TLS 1.3 → server13 states (server13.go)
type Server struct {
	base
	hello    *wire.ClientHello
	helloRaw []byte // as received: the PSK binder covers its bytes
	info     *ClientHelloInfo
	cert     *Certificate
	// candidates are the certificates cert was chosen from (certselect.go).
	candidates []*Certificate
	next       serverState
	ech        *echServer // the client's Encrypted Client Hello offer, if any (echserver.go)
	s12        server12
	s13        server13

	secureRenegotiation bool // the client signalled RFC 5746 support
}

// serverState handles one input: a handshake message, or nil for ChangeCipherSpec.
type serverState func(s *Server, msg []byte) (serverState, error)

// NewServer returns a server engine for cfg.
func NewServer(cfg *Config) *Server {
	s := &Server{base: base{cfg: cfg, side: trace.Server, state: new(State)}}
	s.next = (*Server).readClientHello
	return s
}

func (s *Server) Start() ([]Action, error) { return nil, nil }

func (s *Server) HandleMessage(msg []byte) ([]Action, error) { return s.step(msg) }

func (s *Server) HandleChangeCipherSpec() ([]Action, error) { return s.step(nil) }

func (s *Server) step(msg []byte) (_ []Action, err error) {
	defer func() {
		if err != nil {
			s.next, s.out = nil, nil
		}
	}()
	defer catchPanic(&err)
	if msg == nil && s.state.Version == suites.VersionTLS13 && s.next != nil {
		// RFC 8446 §5: the client's middlebox-compatibility
		// ChangeCipherSpec is dropped (a bounded number of them).
		return nil, s.dropChangeCipherSpec()
	}
	if s.next == nil {
		if msg == nil {
			return nil, unexpectedChangeCipherSpec(-1, "nothing")
		}
		return nil, unexpected(msg, -1, "nothing (the handshake is over)")
	}
	next, err := s.next(s, msg)
	if err != nil {
		s.next = nil
		return nil, err
	}
	s.next = next
	if s.complete && next == nil {
		s.shed()
	}
	return s.take(), nil
}

// Abort: the server's compatibility ChangeCipherSpec always goes out with
// its first flight, so nothing is owed before an alert.
func (s *Server) Abort() []Action { return nil }

// readClientHello is step 1 seen from the server: what the client supports.
// The server picks the version here, then the version's own states take over.
func (s *Server) readClientHello(msg []byte) (serverState, error) {
	if msg == nil {
		return nil, unexpectedChangeCipherSpec(1, "ClientHello")
	}
	ch := new(wire.ClientHello)
	if err := parse(ch, msg, 1); err != nil {
		return nil, err
	}
	s.traceMessage(trace.Received, ch, msg, 1)
	if err := s.readClientHelloExtensions(ch); err != nil {
		return nil, err
	}
	inner, innerRaw, err := s.openECH(ch)
	if err != nil {
		return nil, err
	}
	if inner != nil {
		// From here on the inner hello is the ClientHello: its
		// transcript, its preferences, its server name (§7.1).
		ch, msg = inner, innerRaw
		if err := s.readClientHelloExtensions(ch); err != nil {
			return nil, err
		}
	}
	s.hello, s.helloRaw = ch, msg
	s.state.ClientRandom = ch.Random[:]
	s.transcript.Write(msg)
	if err := s.configForClient(); err != nil {
		return nil, err
	}
	version, err := s.chooseVersion(ch)
	if err != nil {
		return nil, err
	}
	if version < s.cfg.MaxVersion && contains(ch.CipherSuites, suites.TLS_FALLBACK_SCSV) {
		return nil, alert.Errorf(alert.InappropriateFallback, 1, "ClientHello",
			"the client signals a fallback to %s, but this server supports %s: an attacker may have broken the first attempt (RFC 7507)",
			suites.VersionName(version), suites.VersionName(s.cfg.MaxVersion))
	}
	s.state.Version = version
	if version == suites.VersionTLS13 {
		return s.serve13()
	}
	return s.serve12()
}

// chooseVersion picks TLS 1.2 from legacy_version (RFC 5246 Appendix E.1);
// anything older is refused with protocol_version.
func (s *Server) chooseVersion(ch *wire.ClientHello) (uint16, error) {
	if ch.Version <= 0x0300 {
		// RFC 8446 Appendix D.5: "Any endpoint receiving a Hello message
		// with ClientHello.legacy_version ... set to 0x0300 MUST abort the
		// handshake with a protocol_version alert", whatever
		// supported_versions offers.
		return 0, alert.Errorf(alert.ProtocolVersion, 1, "ClientHello",
			"legacy_version %#04x is SSL 3.0 or older (RFC 8446 Appendix D.5)", ch.Version)
	}
	if ch.Extensions.Has(wire.ExtSupportedVersions) {
		vs := s.info.SupportedVersions // decoded by readClientHelloExtensions
		if contains([]uint16(vs), suites.VersionTLS13) && s.cfg.MaxVersion >= suites.VersionTLS13 {
			return suites.VersionTLS13, nil
		}
		if contains([]uint16(vs), suites.VersionTLS12) && s.cfg.MinVersion <= suites.VersionTLS12 && s.cfg.MaxVersion >= suites.VersionTLS12 {
			return suites.VersionTLS12, nil
		}
		return 0, alert.Errorf(alert.ProtocolVersion, 1, "ClientHello",
			"no common version: the client offers %s, this server accepts %s–%s",
			versionList(vs), suites.VersionName(s.cfg.MinVersion), suites.VersionName(s.cfg.MaxVersion))
	}
	if ch.Version < suites.VersionTLS12 || s.cfg.MinVersion > suites.VersionTLS12 {
		return 0, alert.Errorf(alert.ProtocolVersion, 1, "ClientHello",
			"the client offers at most %s; this server accepts %s–%s (TLS 1.0, 1.1 and SSL 3 are insecure and refused)",
			suites.VersionName(ch.Version), suites.VersionName(s.cfg.MinVersion), suites.VersionName(s.cfg.MaxVersion))
	}
	return suites.VersionTLS12, nil
}

func versionList(vs []uint16) string {
	var b bytes.Buffer
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(suites.VersionName(v))
	}
	return b.String()
}

// readClientHelloExtensions decodes what the server needs from the
// ClientHello into s.info; a malformed known extension is decode_error.
func (s *Server) readClientHelloExtensions(ch *wire.ClientHello) error {
	info := &ClientHelloInfo{CipherSuites: ch.CipherSuites, Extensions: make([]uint16, len(ch.Extensions))}
	for i, ext := range ch.Extensions {
		info.Extensions[i] = uint16(ext.Type)
	}
	fail := func(ext string, err error) error {
		return alert.Errorf(alert.DecodeError, 1, "ClientHello", "%s: %w", ext, err)
	}
	// ec_point_formats only matters in TLS 1.2, where serve12 judges it;
	// here it is only shown to GetCertificate.
	var points wire.ECPointFormats
	if found, err := ch.Extensions.DecodeWith(wire.ExtECPointFormats, points.Unmarshal); found && err == nil {
		info.SupportedPoints = points
	}
	var versions wire.SupportedVersionsClient
	if found, err := ch.Extensions.DecodeWith(wire.ExtSupportedVersions, versions.Unmarshal); err != nil {
		return fail("supported_versions", err)
	} else if found {
		info.SupportedVersions = versions
	} else if ch.Version >= suites.VersionTLS12 {
		// Without the extension legacy_version is the client's highest
		// version (RFC 8446 §4.2.1): TLS 1.2 here, whatever it claims
		// above; older versions are refused by chooseVersion.
		info.SupportedVersions = []uint16{suites.VersionTLS12}
	}
	var sni wire.ServerName
	if found, err := ch.Extensions.DecodeWith(wire.ExtServerName, sni.Unmarshal); err != nil {
		return fail("server_name", err)
	} else if found {
		info.ServerName = sni.HostName
	}
	var groups wire.SupportedGroups
	if _, err := ch.Extensions.DecodeWith(wire.ExtSupportedGroups, groups.Unmarshal); err != nil {
		return fail("supported_groups", err)
	}
	info.SupportedGroups = groups
	var sigs wire.SignatureAlgorithms
	if _, err := ch.Extensions.DecodeWith(wire.ExtSignatureAlgorithms, sigs.Unmarshal); err != nil {
		return fail("signature_algorithms", err)
	}
	info.SignatureSchemes = sigs
	var alpn wire.ALPN
	if _, err := ch.Extensions.DecodeWith(wire.ExtALPN, alpn.Unmarshal); err != nil {
		return fail("application_layer_protocol_negotiation", err)
	}
	info.SupportedProtos = alpn
	// A server does not choose its certificate by the client's
	// certificate_authorities, but a malformed list is still malformed.
	var cas wire.CertificateAuthorities
	if _, err := ch.Extensions.DecodeWith(wire.ExtCertificateAuthorities, cas.Unmarshal); err != nil {
		return fail("certificate_authorities", err)
	}
	if err := readCertTypeOffers(ch, info); err != nil {
		return err
	}
	if !bytes.Contains(ch.CompressionMethods, []byte{0}) {
		return alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "the client does not offer the null compression method")
	}
	s.info = info
	s.state.ServerName = info.ServerName
	return nil
}

// configForClient lets the application choose the configuration for this
// client once its ClientHello is known (tlsflow.Config.GetConfigForClient):
// everything after, from the version on, follows the configuration it
// returns. It is asked once, for the first ClientHello.
func (s *Server) configForClient() error {
	if s.cfg.ConfigForClient == nil {
		return nil
	}
	cfg, err := s.cfg.ConfigForClient(s.info)
	if err != nil {
		return alert.Errorf(alert.InternalError, 1, "ClientHello", "choosing the configuration for this client: %w", err)
	}
	if cfg != nil {
		cfg.ConfigForClient = nil
		s.cfg = cfg
	}
	return nil
}

// chooseALPN picks the first of our protocols the client offers (RFC 7301
// §3.2) that the connection may carry; with none the connection fails with
// no_application_protocol. In TLS 1.2 the suite is chosen by then.
func (s *Server) chooseALPN() error {
	if len(s.cfg.NextProtos) == 0 || len(s.info.SupportedProtos) == 0 {
		return nil
	}
	for _, p := range s.cfg.NextProtos {
		if containsString(s.info.SupportedProtos, p) && s.mayCarry(p) {
			s.state.NegotiatedProtocol = p
			return nil
		}
	}
	return alert.Errorf(alert.NoApplicationProtocol, 2, "ServerHello",
		"no common application protocol: the client offers %q, this server speaks %q%s", s.info.SupportedProtos, s.cfg.NextProtos, s.h2Note())
}

// mayCarry reports whether this connection may carry the protocol p: HTTP/2
// over TLS 1.2 needs an ephemeral key exchange and an AEAD (RFC 9113
// §9.2.2, whose block list in Appendix A has every TLS_RSA_* suite), so a
// connection using the RSA key exchange gets the next protocol instead,
// not one the client would then refuse (INADEQUATE_SECURITY).
func (s *Server) mayCarry(p string) bool {
	return p != "h2" || s.state.Version != suites.VersionTLS12 || s.s12.suite == nil ||
		s.s12.suite.KeyExchange != suites.KeyExchangeRSA
}

func (s *Server) h2Note() string {
	if !s.mayCarry("h2") && containsString(s.info.SupportedProtos, "h2") {
		return " (HTTP/2 may not run over the RSA key exchange, RFC 9113 §9.2.2)"
	}
	return ""
}

func suiteList(ids []uint16) string {
	var b bytes.Buffer
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(suites.Name(id))
	}
	return b.String()
}
