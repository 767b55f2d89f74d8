package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/trace"
)

// run makes the 1 + resume-count connections the runner expects, in order,
// sharing one Config (so a server's ticket keys and session cache carry
// over) and one client session cache.
func run(initial, resume *settings) error {
	cache := &watchingCache{inner: tlsflow.NewLRUClientSessionCache(8)}
	cfg := new(tlsflow.Config)
	for i := 0; i <= initial.resumeCnt; i++ {
		s := initial
		if i > 0 {
			s = resume
		}
		if err := connect(cfg, cache, initial, s, i > 0); err != nil {
			return fmt.Errorf("connection %d: %w", i+1, err)
		}
	}
	return nil
}

// observer watches one connection's trace for what ConnectionState does
// not say: whether a HelloRetryRequest came, and the peer's signature
// scheme.
type observer struct {
	mu         sync.Mutex
	sawHRR     bool
	peerSigAlg uint16
}

func (o *observer) hook(e trace.Event) {
	if e.Kind != trace.KindMessage {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if e.Message == "HelloRetryRequest" {
		o.sawHRR = true
	}
	if e.Direction != trace.Received {
		return
	}
	if scheme, ok := signatureSchemeOf(e.Message, e.Raw); ok {
		o.peerSigAlg = scheme
	}
}

// signatureSchemeOf reads the SignatureScheme from a received
// CertificateVerify (RFC 8446 §4.4.3, RFC 5246 §7.4.8) or TLS 1.2
// ServerKeyExchange for ECDHE (RFC 8422 §5.4: curve_type, named_curve,
// point<1..2^8-1>, then the signature's algorithm). raw includes the
// 4-byte handshake header.
func signatureSchemeOf(message string, raw []byte) (uint16, bool) {
	if len(raw) < 4 {
		return 0, false
	}
	body := raw[4:]
	switch message {
	case "CertificateVerify":
		if len(body) < 2 {
			return 0, false
		}
		return binary.BigEndian.Uint16(body), true
	case "ServerKeyExchange":
		if len(body) < 4 {
			return 0, false
		}
		rest := body[4:]
		n := int(body[3])
		if len(rest) < n+2 {
			return 0, false
		}
		return binary.BigEndian.Uint16(rest[n:]), true
	}
	return 0, false
}

// watchingCache is the client's session cache; it counts the sessions
// stored so the shim can check -expect-no-session the way BoringSSL's shim
// does (a TLS 1.3 client must get a ticket unless told otherwise).
type watchingCache struct {
	inner tlsflow.ClientSessionCache
	mu    sync.Mutex
	puts  int
}

func (w *watchingCache) Get(key string) (*tlsflow.ClientSessionState, bool) {
	return w.inner.Get(key)
}

func (w *watchingCache) Put(key string, cs *tlsflow.ClientSessionState) {
	if cs != nil {
		w.mu.Lock()
		w.puts++
		w.mu.Unlock()
	}
	w.inner.Put(key, cs)
}

func (w *watchingCache) stored() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.puts
}

// configure sets every Config field the shim controls from s, so a Config
// reused across connections carries nothing over but its session state.
func configure(cfg *tlsflow.Config, cache *watchingCache, global, s *settings, obs *observer) error {
	var cert *tlsflow.Certificate
	if s.certFile != "" || s.keyFile != "" {
		c, err := tlsflow.LoadX509KeyPair(s.certFile, s.keyFile)
		if err != nil {
			return fmt.Errorf("-cert-file/-key-file: %w", err)
		}
		cert = &c
	}
	var roots *x509.CertPool
	if s.trustCert != "" {
		chain, err := readChain(s.trustCert)
		if err != nil {
			return fmt.Errorf("-trust-cert: %w", err)
		}
		roots = x509.NewCertPool()
		for _, c := range chain {
			roots.AddCert(c)
		}
	}

	// Every field the shim uses is set below, none left from the last
	// connection; the Config itself is kept for its session state.
	cfg.CurvePreferences, cfg.NextProtos, cfg.ClientAuth = nil, nil, tlsflow.NoClientCert
	cfg.SignatureSchemes = nil
	cfg.GetCertificate, cfg.GetClientCertificate, cfg.ClientSessionCache = nil, nil, nil
	cfg.Trace = obs.hook
	cfg.ServerName = s.hostName
	cfg.SessionTicketsDisabled = s.noTicket
	cfg.HandshakeTimeout = -1 // the runner has its own timeouts

	// Versions: the runner speaks in wire values (771 = TLS 1.2).
	cfg.MinVersion, cfg.MaxVersion = tlsflow.VersionTLS12, tlsflow.VersionTLS13
	if s.maxVersion != 0 {
		if s.maxVersion < int(tlsflow.VersionTLS12) {
			return &errUnimplemented{"-max-version", "TLS 1.0/1.1 and SSL 3 are not implemented"}
		}
		if s.maxVersion < int(tlsflow.VersionTLS13) {
			cfg.MaxVersion = uint16(s.maxVersion)
		}
	}
	if s.minVersion > int(tlsflow.VersionTLS12) {
		cfg.MinVersion = uint16(s.minVersion)
	}
	if s.noTLS13 {
		cfg.MaxVersion = tlsflow.VersionTLS12
	}
	if s.noTLS12 {
		cfg.MinVersion = tlsflow.VersionTLS13
	}
	if cfg.MinVersion > cfg.MaxVersion {
		return &errUnimplemented{"-min-version/-max-version", "no version tlsflow implements is enabled"}
	}

	suites, err := cipherSuites(s.cipher)
	if err != nil {
		return err
	}
	cfg.CipherSuites = suites

	for _, id := range s.curves {
		if !slices.Contains(supportedGroups, tlsflow.CurveID(id)) {
			return &errUnimplemented{"-curves", fmt.Sprintf("group %d is not implemented", id)}
		}
		cfg.CurvePreferences = append(cfg.CurvePreferences, tlsflow.CurveID(id))
	}
	if s.curves != nil && len(cfg.CurvePreferences) == 0 {
		return &errUnimplemented{"-curves", "an empty group list"}
	}

	advertised, err := parseALPNList(s.advertiseALPN)
	if err != nil {
		return fmt.Errorf("-advertise-alpn: %w", err)
	}
	expectAdvertised, err := parseALPNList(s.expectAdvertisedALPN)
	if err != nil {
		return fmt.Errorf("-expect-advertised-alpn: %w", err)
	}
	if !global.server {
		cfg.NextProtos = advertised
	} else {
		switch {
		case s.rejectALPN:
			return &errUnimplemented{"-reject-alpn", "an ALPN callback that fails the handshake"}
		case s.selectALPN != "":
			cfg.NextProtos = []string{s.selectALPN}
		}
	}

	// BoringSSL's shim accepts any certificate chain in its verify
	// callback (test_config.cc, CertVerifyCallback) unless told to fail.
	// The shim does the same, but with -verify-peer a client still checks
	// the chain against -trust-cert (not the name: tests use several).
	cfg.InsecureSkipVerify = true
	verifyPeer, verifyFail := s.verifyPeer, s.verifyFail
	isClient := !global.server
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		if !verifyPeer {
			return nil
		}
		if verifyFail {
			return errors.New("certificate rejected (-verify-fail)")
		}
		if isClient && roots != nil {
			return verifyChain(raw, roots)
		}
		return nil
	}

	if global.server {
		switch {
		case s.verifyPeer:
			cfg.ClientAuth = tlsflow.RequestClientCert
		case s.requireAny:
			cfg.ClientAuth = tlsflow.RequireAnyClientCert
		}
		if cert == nil {
			return &errUnimplemented{"-server", "a server without a certificate (PSK or PAKE)"}
		}
		failCert, expectPrefs := s.failCertCallback, s.expectVerify
		cfg.GetCertificate = func(hello *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
			if failCert {
				return nil, errors.New("certificate callback failed (-fail-cert-callback)")
			}
			if err := checkSchemes(hello.SignatureSchemes, expectPrefs); err != nil {
				return nil, err
			}
			if expectAdvertised != nil && !slices.Equal(hello.SupportedProtos, expectAdvertised) {
				return nil, fmt.Errorf("client offered ALPN %q, want %q", hello.SupportedProtos, expectAdvertised)
			}
			return cert, nil
		}
	} else {
		cfg.ClientSessionCache = cache
		failCert, expectPrefs := s.failCertCallback, s.expectVerify
		cfg.GetClientCertificate = func(req *tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
			if failCert {
				return nil, errors.New("certificate callback failed (-fail-cert-callback)")
			}
			if err := checkSchemes(req.SignatureSchemes, expectPrefs); err != nil {
				return nil, err
			}
			if cert == nil {
				return &tlsflow.Certificate{}, nil
			}
			return cert, nil
		}
	}

	use := sigUse{
		// A client always checks the server's signature (tlsflow's RSA key
		// exchange aside, which the shim cannot foresee).
		verifies: !global.server || cfg.ClientAuth != tlsflow.NoClientCert,
		tls12:    cfg.MinVersion <= tlsflow.VersionTLS12,
		tls13:    cfg.MaxVersion >= tlsflow.VersionTLS13,
	}
	if cert != nil {
		if signer, ok := cert.PrivateKey.(crypto.Signer); ok {
			use.own = signer.Public()
		}
	}
	cfg.SignatureSchemes, err = signatureSchemes(s.signingPrefs, s.verifyPrefs, use)
	return err
}

// supportedGroups are the NamedGroups tlsflow implements.
var supportedGroups = []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256, tlsflow.CurveP384, tlsflow.X25519MLKEM768}

// cipherSuites maps BoringSSL's -cipher rule to Config.CipherSuites. Only a
// colon-separated list of suite names tlsflow implements is understood;
// BoringSSL's rule language (ALL, !x, [a|b]) is not. BoringSSL's -cipher
// affects TLS 1.2 only, so every TLS 1.3 suite stays enabled. With no rule,
// everything tlsflow implements is on, the RSA key exchange included, as in
// BoringSSL's default.
func cipherSuites(rule string) ([]uint16, error) {
	all := append(tlsflow.CipherSuites(), tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_RSA_WITH_AES_256_GCM_SHA384)
	slices.Sort(all)
	all = slices.Compact(all)
	if rule == "" {
		return all, nil
	}
	ids := []uint16{tlsflow.TLS_AES_128_GCM_SHA256, tlsflow.TLS_AES_256_GCM_SHA384, tlsflow.TLS_CHACHA20_POLY1305_SHA256}
	for _, name := range strings.Split(rule, ":") {
		found := false
		for _, id := range all {
			if tlsflow.CipherSuiteName(id) == name {
				ids = append(ids, id)
				found = true
			}
		}
		if !found {
			return nil, &errUnimplemented{"-cipher", fmt.Sprintf("%q is not a suite tlsflow implements", name)}
		}
	}
	return ids, nil
}

// checkSchemes compares the peer's signature_algorithms with
// -expect-peer-verify-pref, when given.
func checkSchemes(got []tlsflow.SignatureScheme, want []int) error {
	if want == nil {
		return nil
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = int(got[i]) == want[i]
	}
	if !ok {
		return fmt.Errorf("peer's signature_algorithms %v, want %v", got, want)
	}
	return nil
}

func readChain(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return chain, nil
}

func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, der := range raw {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

// connect runs one connection of the test: dial, identify, handshake,
// check, then the echo loop.
func connect(cfg *tlsflow.Config, cache *watchingCache, global, s *settings, isResume bool) error {
	obs := new(observer)
	if err := configure(cfg, cache, global, s, obs); err != nil {
		return err
	}
	host := "127.0.0.1"
	if global.ipv6 {
		host = "::1"
	}
	raw, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(global.port)))
	if err != nil {
		return err
	}
	defer raw.Close()
	var id [8]byte
	binary.LittleEndian.PutUint64(id[:], global.shimID)
	if _, err := raw.Write(id[:]); err != nil {
		return fmt.Errorf("sending the shim ID: %w", err)
	}

	var conn *tlsflow.Conn
	if global.server {
		conn = tlsflow.Server(raw, cfg)
	} else {
		conn = tlsflow.Client(raw, cfg)
	}
	storedBefore := cache.stored()
	if err := exchange(conn, global, s, obs, isResume); err != nil {
		orderlyShutdown(raw)
		return err
	}
	// BoringSSL's shim checks that a TLS 1.3 client got a ticket unless
	// told otherwise; a shim that shuts down first may or may not read one.
	if !global.server && !s.shimShutsDown && conn.ConnectionState().Version == tlsflow.VersionTLS13 {
		gotSession := cache.stored() > storedBefore
		wantSession := !s.expectNoSession
		if gotSession != wantSession {
			return fmt.Errorf("new session stored: %v, want %v", gotSession, wantSession)
		}
	}
	return nil
}

// exchange is BoringSSL's DoExchange for one connection.
func exchange(conn *tlsflow.Conn, global, s *settings, obs *observer, isResume bool) error {
	if !s.implicitHandshake {
		if err := conn.Handshake(); err != nil {
			return err
		}
		if s.handshakeTwice {
			if err := conn.Handshake(); err != nil {
				return fmt.Errorf("second Handshake: %w", err)
			}
		}
		if err := checkHandshake(conn.ConnectionState(), s, obs, isResume); err != nil {
			return err
		}
	}

	if s.exportKeyingMaterial > 0 {
		cs := conn.ConnectionState()
		var context []byte
		if s.useExportContext {
			context = []byte(s.exportContext)
		}
		ekm, err := cs.ExportKeyingMaterial(s.exportLabel, context, s.exportKeyingMaterial)
		if err != nil {
			return fmt.Errorf("exporting keying material: %w", err)
		}
		if _, err := conn.Write(ekm); err != nil {
			return err
		}
	}

	if s.writeDiffSizes {
		// Record sizes around the 2^14 limit (RFC 8446 §5.1).
		for _, n := range []int{0, 1, 255, 256, 257, 16383, 16384, 16385, 32767, 32768, 32769} {
			if _, err := conn.Write(bytes.Repeat([]byte{0x42}, n)); err != nil {
				return err
			}
		}
		return shutdown(conn, s)
	}
	if s.shimWritesFirst {
		if _, err := conn.Write([]byte("hello")); err != nil {
			return err
		}
	}
	if !s.shimShutsDown {
		if err := echo(conn, s); err != nil {
			return err
		}
	}
	return shutdown(conn, s)
}

// echo answers each read with the same bytes XORed with 0xFF until the
// runner closes the connection.
func echo(conn *tlsflow.Conn, s *settings) error {
	size := 512 // BoringSSL's shim reads at most 512 bytes at a time
	if s.readSize > 0 {
		size = s.readSize
	}
	buf := make([]byte, size)
	for {
		if s.keyUpdateBefore {
			if err := conn.KeyUpdate(false); err != nil {
				return fmt.Errorf("KeyUpdate: %w", err)
			}
		}
		n, err := conn.Read(buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if !s.checkCloseNotify && errors.Is(err, io.ErrUnexpectedEOF) && n == 0 && isTruncation(err) {
				return nil // BoringSSL's shim stops on an unclean shutdown too
			}
			return err
		}
		if s.keyUpdate {
			if err := conn.KeyUpdate(false); err != nil {
				return fmt.Errorf("KeyUpdate: %w", err)
			}
		}
		for i := range buf[:n] {
			buf[i] ^= 0xff
		}
		if _, err := conn.Write(buf[:n]); err != nil {
			return err
		}
	}
}

// isTruncation tells a TCP close at a record boundary (tolerated) from a
// connection that ended inside a record (an error either way).
func isTruncation(err error) bool {
	return strings.Contains(err.Error(), "without close_notify")
}

// shutdown sends close_notify; with -shim-shuts-down -check-close-notify it
// then waits for the runner's.
func shutdown(conn *tlsflow.Conn, s *settings) error {
	if s.shimShutsDown && s.checkCloseNotify {
		if err := conn.CloseWrite(); err != nil {
			return err
		}
		var b [1]byte
		if _, err := conn.Read(b[:]); !errors.Is(err, io.EOF) {
			return fmt.Errorf("waiting for close_notify: got %v", err)
		}
	}
	_ = conn.Close()
	return nil
}

// checkHandshake is BoringSSL's CheckHandshakeProperties for the flags the
// shim implements.
func checkHandshake(cs tlsflow.ConnectionState, s *settings, obs *observer, isResume bool) error {
	obs.mu.Lock()
	sawHRR, peerSigAlg := obs.sawHRR, obs.peerSigAlg
	obs.mu.Unlock()
	switch {
	case s.expectVersion != 0 && int(cs.Version) != s.expectVersion:
		return fmt.Errorf("version %#04x, want %#04x", cs.Version, s.expectVersion)
	case isResume && cs.DidResume == s.expectSessionMiss:
		return fmt.Errorf("session resumed: %v, want %v", cs.DidResume, !s.expectSessionMiss)
	case !isResume && cs.DidResume:
		return errors.New("the first connection resumed a session")
	case s.expectALPN != "" && cs.NegotiatedProtocol != s.expectALPN:
		return fmt.Errorf("ALPN protocol %q, want %q", cs.NegotiatedProtocol, s.expectALPN)
	case s.declineALPN && cs.NegotiatedProtocol != "":
		return fmt.Errorf("ALPN protocol %q negotiated after declining", cs.NegotiatedProtocol)
	case s.expectServerName != "" && cs.ServerName != s.expectServerName:
		return fmt.Errorf("server name %q, want %q", cs.ServerName, s.expectServerName)
	case s.expectNoServerName && cs.ServerName != "":
		return fmt.Errorf("server name %q, want none", cs.ServerName)
	case s.expectCurveID != 0 && int(cs.CurveID) != s.expectCurveID:
		return fmt.Errorf("group %d, want %d", cs.CurveID, s.expectCurveID)
	case s.expectSigAlg != 0 && !cs.DidResume && int(peerSigAlg) != s.expectSigAlg:
		return fmt.Errorf("peer signature algorithm %#04x, want %#04x", peerSigAlg, s.expectSigAlg)
	case s.expectHRR && !sawHRR:
		return errors.New("no HelloRetryRequest, want one")
	case s.expectNoHRR && sawHRR:
		return errors.New("a HelloRetryRequest, want none")
	case s.expectCipher != 0 && int(cs.CipherSuite) != s.expectCipher:
		return fmt.Errorf("cipher suite %#04x, want %#04x", cs.CipherSuite, s.expectCipher)
	}
	if s.expectPeerCert != "" {
		want, err := readChain(s.expectPeerCert)
		if err != nil {
			return fmt.Errorf("-expect-peer-cert-file: %w", err)
		}
		if len(want) != len(cs.PeerCertificates) {
			return fmt.Errorf("peer sent %d certificates, want %d", len(cs.PeerCertificates), len(want))
		}
		for i := range want {
			if !bytes.Equal(want[i].Raw, cs.PeerCertificates[i].Raw) {
				return fmt.Errorf("peer certificate %d differs from -expect-peer-cert-file", i)
			}
		}
	}
	return nil
}

// orderlyShutdown lets the runner read the alert tlsflow sent before the
// connection goes: half-close, then drain what the runner still sends.
func orderlyShutdown(raw net.Conn) {
	tcp, ok := raw.(*net.TCPConn)
	if !ok {
		return
	}
	_ = tcp.CloseWrite()
	_ = tcp.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, tcp)
}

// defaultSchemes is tlsflow's default signature scheme list.
func defaultSchemes() []tlsflow.SignatureScheme {
	var out []tlsflow.SignatureScheme
	for _, s := range signature.Default {
		out = append(out, tlsflow.SignatureScheme(s))
	}
	return out
}

// sigUse is what a connection does with signatures, as far as the shim
// knows before the handshake.
type sigUse struct {
	own          crypto.PublicKey // the key we may sign with; nil if we never sign
	verifies     bool             // whether we may check a peer's signature
	tls12, tls13 bool             // the versions enabled
}

// signatureSchemes maps BoringSSL's two signature preference lists onto
// tlsflow's one. In BoringSSL -verify-prefs is what we advertise and accept
// from the peer, -signing-prefs what we may sign with, in order, each
// leaving the other at its default; tlsflow's Config.SignatureSchemes is
// both. A list given alone is used only when narrowing the other direction
// cannot matter: -signing-prefs when we never check a peer's signature,
// -verify-prefs when the schemes in it that our own key can make are those
// of tlsflow's defaults, in the same order, in every enabled version (so our
// signatures are what they would be without it). Two lists must be equal. Anything else, and a
// scheme tlsflow does not implement (it would be silently dropped), is
// unimplemented: the test would measure the mapping, not tlsflow.
func signatureSchemes(signing, verify []int, use sigUse) ([]tlsflow.SignatureScheme, error) {
	list, flag := verify, "-verify-prefs"
	switch {
	case signing == nil && verify == nil:
		return nil, nil
	case signing != nil && verify != nil:
		if !slices.Equal(signing, verify) {
			return nil, &errUnimplemented{"-signing-prefs/-verify-prefs",
				"one signature scheme list (Config.SignatureSchemes) cannot sign with one set and verify another"}
		}
	case verify == nil:
		list, flag = signing, "-signing-prefs"
		if use.verifies {
			return nil, &errUnimplemented{flag,
				"Config.SignatureSchemes would also narrow the schemes accepted from the peer"}
		}
	}
	var out []tlsflow.SignatureScheme
	for _, id := range list {
		if id < 0 || id > 0xffff || !signature.Supported(uint16(id)) {
			return nil, &errUnimplemented{flag, fmt.Sprintf("signature scheme %#04x is not implemented", id)}
		}
		out = append(out, tlsflow.SignatureScheme(id))
	}
	if flag == "-verify-prefs" && signing == nil && use.own != nil {
		for _, v := range []struct{ on, tls13 bool }{{use.tls12, false}, {use.tls13, true}} {
			fits := func(s tlsflow.SignatureScheme) bool { return !signature.Compatible(use.own, uint16(s), v.tls13) }
			if v.on && !slices.Equal(slices.DeleteFunc(slices.Clone(out), fits), slices.DeleteFunc(defaultSchemes(), fits)) {
				return nil, &errUnimplemented{flag,
					"Config.SignatureSchemes would also change which schemes our own key signs with"}
			}
		}
	}
	return out, nil
}
