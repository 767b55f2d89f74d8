package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
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
	"golang.org/x/crypto/cryptobyte"
)

// run makes the 1 + resume-count connections the runner expects, in order,
// sharing one Config (so a server's ticket keys, session cache and 0-RTT
// replay memory carry over) and one client session cache. A resumption
// whose 0-RTT data the server rejects goes on under the retry settings.
func run(initial, resume, retry *settings) error {
	cache := &watchingCache{inner: tlsflow.NewLRUClientSessionCache(8)}
	cfg := new(tlsflow.Config)
	// With -resumption-delay the shim's clock is BoringSSL's: frozen at
	// the start, moved only by the delay before each resumption, so a
	// ticket's age is exactly the delay. Otherwise it is the real clock.
	var clock func() time.Time
	if resume.resumptionDelay != 0 {
		now := time.Now()
		clock = func() time.Time { return now }
	}
	for i := 0; i <= initial.resumeCnt; i++ {
		s := initial
		if i > 0 {
			s = resume
			if s.resumptionDelay != 0 {
				at := clock().Add(time.Duration(s.resumptionDelay) * time.Second)
				clock = func() time.Time { return at }
			}
		}
		if err := connect(cfg, cache, initial, s, retry, i > 0, clock); err != nil {
			return fmt.Errorf("connection %d: %w", i+1, err)
		}
	}
	return nil
}

// observer watches one connection's trace for what ConnectionState does
// not say: whether a HelloRetryRequest came, the peer's signature scheme,
// the session ID a server sent, whether a NewSessionTicket came, whether
// the extended master secret was used; and whether the shim's verify
// callback rejected the peer.
type observer struct {
	mu             sync.Mutex
	sawHRR         bool
	peerSigAlg     uint16
	sentSessionID  []byte // legacy_session_id of the ServerHello we sent
	peerHello      []byte // the ClientHello or ServerHello received, raw
	gotTicket      bool   // a NewSessionTicket with a ticket arrived
	extendedMaster bool   // handshake_done says extended_master_secret
	verifyRejected bool
	sentCert       []byte       // the Certificate message we sent, raw
	sentSigAlg     uint16       // the scheme of the CertificateVerify we sent
	keyLog         lockedBuffer // Config.KeyLogWriter, for -export-traffic-secrets

	// 0-RTT, from tlsflow's notes (early13.go) and the ClientHellos read.
	earlyOffered    bool   // client: early_data went in the ClientHello
	earlyMax        int    // client: how much it may send (max_early_data_size, capped)
	earlyNotOffered string // client: tlsflow's reason for not offering it
	earlyRejected   string // tlsflow's reason for a rejection, either side
	helloPSK        bool   // server: a ClientHello offered pre_shared_key
	helloEarlyData  bool   // server: a ClientHello offered early_data
}

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// trafficSecrets finds this connection's TLS 1.3 application traffic
// secrets in its key log (draft-ietf-tls-keylogfile: CLIENT_TRAFFIC_SECRET_0
// and SERVER_TRAFFIC_SECRET_0), as read and write secrets for our side.
func trafficSecrets(log string, isClient bool) (read, write []byte, err error) {
	secrets := map[string][]byte{}
	for _, line := range strings.Split(log, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		secret, err := hex.DecodeString(f[2])
		if err != nil {
			return nil, nil, fmt.Errorf("key log line %q: %w", line, err)
		}
		secrets[f[0]] = secret
	}
	client, server := secrets["CLIENT_TRAFFIC_SECRET_0"], secrets["SERVER_TRAFFIC_SECRET_0"]
	if client == nil || server == nil || len(client) != len(server) {
		return nil, nil, errors.New("no TLS 1.3 application traffic secrets in the key log")
	}
	if isClient {
		return server, client, nil
	}
	return client, server, nil
}

func (o *observer) hook(e trace.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e.Kind == trace.KindHandshakeDone {
		o.extendedMaster = e.Field("extended_master_secret") == "true"
	}
	if e.Kind == trace.KindNote {
		switch e.Message {
		case "early data offered":
			o.earlyOffered = true
			o.earlyMax, _ = strconv.Atoi(e.Field("max_early_data_size"))
		case "early data not offered":
			o.earlyNotOffered = e.Field("reason")
		case "early data rejected":
			o.earlyRejected = e.Field("reason")
		}
		return
	}
	if e.Kind != trace.KindMessage {
		return
	}
	if e.Message == "HelloRetryRequest" {
		o.sawHRR = true
	}
	if e.Direction == trace.Sent && e.Message == "ServerHello" {
		o.sentSessionID = sessionIDOf(e.Raw)
	}
	if e.Direction == trace.Sent && e.Message == "Certificate" {
		o.sentCert = bytes.Clone(e.Raw)
	}
	if e.Direction == trace.Sent && e.Message == "CertificateVerify" && len(e.Raw) >= 6 {
		o.sentSigAlg = binary.BigEndian.Uint16(e.Raw[4:6])
	}
	if e.Direction != trace.Received {
		return
	}
	if e.Message == "ClientHello" || e.Message == "ServerHello" {
		o.peerHello = bytes.Clone(e.Raw)
	}
	if e.Message == "ClientHello" {
		_, exts := helloContents(e.Raw)
		o.helloPSK = o.helloPSK || slices.Contains(exts, extPreSharedKey)
		o.helloEarlyData = o.helloEarlyData || slices.Contains(exts, extEarlyData)
	}
	if e.Message == "NewSessionTicket" && len(e.Raw) > 4+4+2 {
		o.gotTicket = true // RFC 5077 §3.3: lifetime_hint, then a non-empty ticket
	}
	if scheme, ok := signatureSchemeOf(e.Message, e.Raw); ok {
		o.peerSigAlg = scheme
	}
}

// What the shim reads from a peer's hello: RFC 5746's renegotiation_info
// extension and its SCSV, RFC 8446's pre_shared_key and early_data, and
// the ClientHello handshake type (RFC 5246 §7.4).
const (
	extPreSharedKey                 = 41
	extEarlyData                    = 42
	extRenegotiationInfo            = 0xff01
	scsvEmptyRenegotiationInfo      = 0x00ff
	handshakeTypeClientHello   byte = 1
)

// helloContents reads a received ClientHello or ServerHello (raw, with
// its 4-byte header): a ClientHello's cipher suites, and the extension
// types, in order; as far as they parse.
func helloContents(raw []byte) (suites, exts []uint16) {
	if len(raw) < 4 {
		return nil, nil
	}
	isClientHello := raw[0] == handshakeTypeClientHello
	s := cryptobyte.String(raw[4:])
	var sid, list, compression, block cryptobyte.String
	if !s.Skip(2+32) || !s.ReadUint8LengthPrefixed(&sid) {
		return nil, nil
	}
	if isClientHello {
		if !s.ReadUint16LengthPrefixed(&list) || !s.ReadUint8LengthPrefixed(&compression) {
			return nil, nil
		}
		for !list.Empty() {
			var id uint16
			if !list.ReadUint16(&id) {
				return suites, nil
			}
			suites = append(suites, id)
		}
	} else if !s.Skip(2 + 1) {
		return nil, nil
	}
	if s.Empty() || !s.ReadUint16LengthPrefixed(&block) {
		return suites, nil
	}
	for !block.Empty() {
		var typ uint16
		var body cryptobyte.String
		if !block.ReadUint16(&typ) || !block.ReadUint16LengthPrefixed(&body) {
			return suites, exts
		}
		exts = append(exts, typ)
	}
	return suites, exts
}

// helloSupportsSecureRenegotiation reads a received ClientHello or
// ServerHello (raw, with its 4-byte header) for RFC 5746 support: the
// renegotiation_info extension, or in a ClientHello the
// TLS_EMPTY_RENEGOTIATION_INFO_SCSV suite (§3.3).
func helloSupportsSecureRenegotiation(raw []byte) bool {
	suites, exts := helloContents(raw)
	return slices.Contains(suites, scsvEmptyRenegotiationInfo) || slices.Contains(exts, extRenegotiationInfo)
}

// sessionIDOf reads legacy_session_id from a ServerHello (RFC 5246
// §7.4.1.3: version, random[32], session_id<0..32>); raw includes the
// 4-byte handshake header.
func sessionIDOf(raw []byte) []byte {
	const at = 4 + 2 + 32
	if len(raw) <= at || len(raw) < at+1+int(raw[at]) {
		return nil
	}
	return bytes.Clone(raw[at+1 : at+1+int(raw[at])])
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
// does (a TLS 1.3 client must get a ticket unless told otherwise), and
// notes whether the last one allows 0-RTT (-expect-ticket-supports-early-data).
type watchingCache struct {
	inner     tlsflow.ClientSessionCache
	mu        sync.Mutex
	puts      int
	lastEarly bool
}

func (w *watchingCache) Get(key string) (*tlsflow.ClientSessionState, bool) {
	return w.inner.Get(key)
}

func (w *watchingCache) Put(key string, cs *tlsflow.ClientSessionState) {
	if cs != nil {
		early := false
		if _, st, err := cs.ResumptionState(); err == nil {
			early = st.EarlyData
		}
		w.mu.Lock()
		w.puts++
		w.lastEarly = early
		w.mu.Unlock()
	}
	w.inner.Put(key, cs)
}

// stored counts the sessions stored so far, and says whether the last
// one's ticket allows early data.
func (w *watchingCache) stored() (n int, lastEarly bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.puts, w.lastEarly
}

// configure sets every Config field the shim controls from s, so a Config
// reused across connections carries nothing over but its session state.
func configure(cfg *tlsflow.Config, cache *watchingCache, global, s *settings, obs *observer, clock func() time.Time) error {
	var cert *tlsflow.Certificate
	if s.certFile != "" || s.keyFile != "" {
		c, err := loadKeyPair("-key-file", s.certFile, s.keyFile)
		if err != nil {
			return fmt.Errorf("-cert-file/-key-file: %w", err)
		}
		if c.SupportedSignatureAlgorithms, err = signingSchemes("-signing-prefs", s.signingPrefs, s.verifyPrefs != nil); err != nil {
			return err
		}
		c.OCSPStaple, c.SignedCertificateTimestamps = s.ocspResponse, s.scts
		cert = &c
	}
	creds, psks, err := loadCredentials(s.credentials, global.server, s.verifyPrefs != nil)
	if err != nil {
		return err
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
	cfg.ClientCAs, cfg.KeyLogWriter, cfg.Time = nil, nil, clock
	cfg.Trace = obs.hook
	cfg.ServerName = s.hostName
	cfg.SessionTicketsDisabled = s.noTicket
	cfg.HandshakeTimeout = -1 // the runner has its own timeouts
	cfg.ExternalPSKs = psks
	// BoringSSL's server with early data enabled promises 14336 bytes in
	// its tickets (kMaxEarlyDataAccepted); TLS13-MaxEarlyData-Server sends
	// one more.
	cfg.MaxEarlyData = 0
	if global.server && s.enableEarlyData {
		cfg.MaxEarlyData = 14336
	}

	// Versions: the runner speaks in wire values (771 = TLS 1.2).
	cfg.MinVersion, cfg.MaxVersion = tlsflow.VersionTLS12, tlsflow.VersionTLS13
	if s.maxVersion != 0 {
		if s.maxVersion < int(tlsflow.VersionTLS12) {
			return &errUnimplemented{flag: "-max-version", why: "TLS 1.0/1.1 and SSL 3 are not implemented"}
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
	// MinVersion above MaxVersion (DisableEverything) is left for tlsflow
	// to refuse.

	suites, err := cipherSuites(s.cipher)
	if err != nil {
		return err
	}
	cfg.CipherSuites = suites

	for _, id := range s.curves {
		if !slices.Contains(supportedGroups, tlsflow.CurveID(id)) {
			return &errUnimplemented{flag: "-curves", why: fmt.Sprintf("group %d is not implemented", id)}
		}
		cfg.CurvePreferences = append(cfg.CurvePreferences, tlsflow.CurveID(id))
	}
	if s.curves != nil && len(cfg.CurvePreferences) == 0 {
		return &errUnimplemented{flag: "-curves", why: "an empty group list"}
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
			return &errUnimplemented{flag: "-reject-alpn", why: "an ALPN callback that fails the handshake"}
		case s.selectALPN != "":
			cfg.NextProtos = []string{s.selectALPN}
		}
	}

	// BoringSSL's shim accepts any certificate chain in its verify
	// callback (test_config.cc, CertVerifyCallback) unless told to fail.
	// The shim does the same, but with -verify-peer a client still checks
	// the chain against -trust-cert (not the name: tests use several).
	cfg.InsecureSkipVerify = true
	configureECH(cfg, global, s)
	if !global.server && psks != nil && !s.verifyPeer {
		// A BoringSSL client with PSK credentials accepts only a PSK
		// handshake unless its verify mode is SSL_VERIFY_PEER (ssl.h,
		// SSL_CREDENTIAL_new_pre_shared_key); PSK-Client-PSKRequired-* and
		// PSK-Client-PSKOrCert-* test both. A tlsflow client with
		// ExternalPSKs does the same when it has no way to check a
		// certificate: no ServerName and no InsecureSkipVerify. A server
		// name to send and a PSK-only client cannot both be expressed.
		if s.hostName != "" {
			return &errUnimplemented{flag: "-host-name",
				why: "a client with PSK credentials and a server name that accepts only a PSK handshake (tlsflow's client does so exactly when it has no ServerName)"}
		}
		cfg.InsecureSkipVerify = false
	}
	verifyPeer, verifyFail := s.verifyPeer, s.verifyFail
	if s.expectVerifyResult && verifyFail && !verifyPeer {
		// BoringSSL without SSL_VERIFY_PEER records a failed verification
		// and carries on; tlsflow's verification either ends the handshake
		// or does not run.
		return &errUnimplemented{flag: "-verify-fail", why: "a verification failure that does not end the handshake"}
	}
	isClient := !global.server
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		err := func() error {
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
		}()
		if err != nil {
			obs.mu.Lock()
			obs.verifyRejected = true
			obs.mu.Unlock()
		}
		return err
	}
	if s.exportTrafficSecrets {
		cfg.KeyLogWriter = &obs.keyLog
	}
	configureRawKeys(cfg, s, isClient, obs)

	if global.server {
		switch {
		case s.verifyPeer:
			cfg.ClientAuth = tlsflow.RequestClientCert
		case s.requireAny:
			cfg.ClientAuth = tlsflow.RequireAnyClientCert
		}
		if cert == nil && creds == nil && psks == nil {
			return &errUnimplemented{flag: "-server", why: "a server without a certificate or PSK (PAKE)"}
		}
		// With credentials, tlsflow chooses among Config.Certificates
		// (the callback below returns none): the credentials in order,
		// then the default certificate.
		cfg.Certificates = nil
		if creds != nil {
			cfg.Certificates = withDefault(creds, cert)
		}
		chosen := cert
		if creds != nil {
			chosen = nil
		}
		// BoringSSL's server status callback (-use-ocsp-callback) runs when
		// the client asks for a staple and may install it, decline it or
		// fail the handshake. tlsflow's place for that is the certificate
		// callback, which chooses the Certificate and so its OCSPStaple
		// (a tlsflow client always asks, and the runner's does too).
		failOCSP := false
		if s.useOCSPCallback && (s.setOCSPInCB || s.declineOCSPCB || s.failOCSPCB) {
			if chosen == nil {
				return &errUnimplemented{flag: "-use-ocsp-callback", why: "a server status callback with several credentials (tlsflow chooses among Config.Certificates itself)"}
			}
			c := *chosen
			switch {
			case s.declineOCSPCB:
				c.OCSPStaple = nil
			case s.setOCSPInCB:
				c.OCSPStaple = s.ocspResponse
			}
			chosen, failOCSP = &c, s.failOCSPCB
		}
		if cfg.ClientCAs, err = clientCAList(s.useClientCAList); err != nil {
			return err
		}
		failCert, failEarly, expectPrefs := s.failCertCallback, s.failEarlyCallback, s.expectVerify
		cfg.GetCertificate = func(hello *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
			if failCert {
				return nil, errors.New("certificate callback failed (-fail-cert-callback)")
			}
			if failEarly {
				return nil, errors.New("certificate callback failed (-fail-early-callback)")
			}
			if failOCSP {
				return nil, errors.New("status callback failed (-fail-ocsp-callback)")
			}
			if err := checkSchemes(hello.SignatureSchemes, expectPrefs); err != nil {
				return nil, err
			}
			if expectAdvertised != nil && !slices.Equal(hello.SupportedProtos, expectAdvertised) {
				return nil, fmt.Errorf("client offered ALPN %q, want %q", hello.SupportedProtos, expectAdvertised)
			}
			return chosen, nil
		}
	} else {
		if s.useOCSPCallback && s.failOCSPCB {
			// BoringSSL's client status callback failing sends
			// bad_certificate_status_response (RFC 6066 §8); tlsflow has
			// no status callback, and VerifyConnection's veto is
			// bad_certificate.
			return &errUnimplemented{flag: "-fail-ocsp-callback", why: "a client status callback that fails with bad_certificate_status_response (tlsflow's VerifyConnection sends bad_certificate)"}
		}
		cfg.ClientSessionCache = cache
		failCert, expectPrefs := s.failCertCallback, s.expectVerify
		expectCAs, err := decodeNames(s.expectClientCAList)
		if err != nil {
			return fmt.Errorf("-expect-client-ca-list: %w", err)
		}
		cfg.Certificates = nil
		if creds != nil {
			// tlsflow's client sends the first of Config.Certificates that
			// fits the request; a GetClientCertificate callback would
			// replace that choice, so the checks it makes are refused.
			if failCert || expectPrefs != nil || expectCAs != nil {
				return &errUnimplemented{flag: "-new-x509-credential",
					why: "a client certificate callback (-fail-cert-callback, -expect-peer-verify-pref, -expect-client-ca-list) with several credentials"}
			}
			cfg.Certificates = withDefault(creds, cert)
		} else {
			cfg.GetClientCertificate = func(req *tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
				if failCert {
					return nil, errors.New("certificate callback failed (-fail-cert-callback)")
				}
				if err := checkSchemes(req.SignatureSchemes, expectPrefs); err != nil {
					return nil, err
				}
				if expectCAs != nil && !slices.EqualFunc(req.AcceptableCAs, expectCAs, bytes.Equal) {
					return nil, fmt.Errorf("server named CAs %x, want %x", req.AcceptableCAs, expectCAs)
				}
				if cert == nil {
					return &tlsflow.Certificate{}, nil
				}
				return cert, nil
			}
		}
	}

	cfg.SignatureSchemes, err = schemeList("-verify-prefs", s.verifyPrefs)
	return err
}

// loadCredentials reads the -new-x509-credential certificates, each with
// its -signing-prefs (signingSchemes), refusing what tlsflow cannot honour
// per certificate, and the -new-psk-credential PSKs, each kind in the
// credentials' order (tlsflow keeps certificates and PSKs apart;
// selectedCredential maps back).
func loadCredentials(list []credential, server, verifyPrefs bool) ([]tlsflow.Certificate, []tlsflow.ExternalPSK, error) {
	var out []tlsflow.Certificate
	var psks []tlsflow.ExternalPSK
	for i, c := range list {
		if c.psk != nil {
			p, err := pskCredential(i, c)
			if err != nil {
				return nil, nil, err
			}
			psks = append(psks, p)
			continue
		}
		if c.rpk {
			if c.keyFile == "" || c.certFile != "" {
				return nil, nil, fmt.Errorf("-new-rpk-credential %d: needs -key-file, and no -cert-file", i)
			}
			cert, err := loadRawKey(c.keyFile)
			if err != nil {
				return nil, nil, fmt.Errorf("-new-rpk-credential %d: %w", i, err)
			}
			if cert.SupportedSignatureAlgorithms, err = signingSchemes("-signing-prefs", c.signingPrefs, verifyPrefs); err != nil {
				return nil, nil, err
			}
			out = append(out, cert)
			continue
		}
		switch {
		case c.mustMatchIssuer && server:
			return nil, nil, &errUnimplemented{flag: "-must-match-issuer",
				why: "a tlsflow server does not choose its certificate by the client's certificate_authorities"}
		case c.certFile == "" || c.keyFile == "":
			return nil, nil, fmt.Errorf("-new-x509-credential %d: needs -cert-file and -key-file", i)
		}
		cert, err := loadKeyPair("-key-file", c.certFile, c.keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("-new-x509-credential %d: %w", i, err)
		}
		if cert.SupportedSignatureAlgorithms, err = signingSchemes("-signing-prefs", c.signingPrefs, verifyPrefs); err != nil {
			return nil, nil, err
		}
		cert.OCSPStaple, cert.SignedCertificateTimestamps = c.ocspResponse, c.scts
		out = append(out, cert)
	}
	return out, psks, nil
}

// pskCredential checks credential i, a -new-psk-credential, and returns
// its ExternalPSK. BoringSSL refuses a PSK credential without a key,
// identity or hash; certificate flags have no meaning on one.
func pskCredential(i int, c credential) (tlsflow.ExternalPSK, error) {
	p := *c.psk
	switch {
	case c.certFile != "" || c.keyFile != "" || c.signingPrefs != nil || c.mustMatchIssuer || c.ocspResponse != nil || c.scts != nil:
		return p, fmt.Errorf("-new-psk-credential %d: -cert-file, -key-file, -signing-prefs, -must-match-issuer, -ocsp-response and -signed-cert-timestamps are for certificates", i)
	case len(p.Key) == 0:
		return p, fmt.Errorf("-new-psk-credential %d: needs -psk-importer-key", i)
	case len(p.Identity) == 0:
		return p, fmt.Errorf("-new-psk-credential %d: needs -psk-importer-identity", i)
	case p.Hash == 0:
		return p, fmt.Errorf("-new-psk-credential %d: needs -psk-importer-sha256 or -psk-importer-sha384", i)
	}
	return p, nil
}

// withDefault is BoringSSL's credential order: the credentials, then the
// default certificate, if any.
func withDefault(creds []tlsflow.Certificate, def *tlsflow.Certificate) []tlsflow.Certificate {
	out := slices.Clone(creds)
	if def != nil {
		out = append(out, *def)
	}
	return out
}

// selectedCredential names the credential the handshake used, as
// -expect-selected-credential counts: the external PSK whose identity
// ConnectionState reports, else the certificate a Certificate message we
// sent (raw, with its header) shows; its index in creds, -1 for the
// default certificate. (Two PSK credentials of one identity but different
// contexts cannot be told apart: the first is named.)
func selectedCredential(pskIdentity, raw []byte, sigAlg uint16, tls13 bool, creds []credential, def string) (int, error) {
	if pskIdentity != nil {
		for i, c := range creds {
			if c.psk != nil && bytes.Equal(c.psk.Identity, pskIdentity) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("the external PSK used, %q, is none of the configured ones", pskIdentity)
	}
	if key := sentRawKey(raw, tls13); key != nil {
		// Raw key credentials of one key differ only in -signing-prefs:
		// the one whose list has the scheme we signed with.
		for i, c := range creds {
			k, err := loadRawKey(c.keyFile)
			if c.rpk && err == nil && bytes.Equal(k.RawPublicKey, key) && (c.signingPrefs == nil || slices.Contains(c.signingPrefs, int(sigAlg))) {
				return i, nil
			}
		}
	}
	leaf, err := firstCertificate(raw, tls13)
	if err != nil && def == "" {
		return -1, nil // no certificate sent: no credential was selected
	}
	if err != nil {
		return 0, err
	}
	for i, c := range creds {
		if c.psk == nil && sameLeaf(c.certFile, leaf) {
			return i, nil
		}
	}
	if def != "" && sameLeaf(def, leaf) {
		return -1, nil
	}
	return 0, errors.New("the certificate sent is none of the configured ones")
}

func sameLeaf(certFile string, leaf []byte) bool {
	chain, err := readChain(certFile)
	return err == nil && bytes.Equal(chain[0].Raw, leaf)
}

// firstCertificate reads the first certificate of a Certificate message:
// RFC 5246 §7.4.2 certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>, or RFC
// 8446 §4.4.2 certificate_request_context<0..2^8-1> then CertificateEntry
// (cert_data, extensions) items.
func firstCertificate(raw []byte, tls13 bool) ([]byte, error) {
	if len(raw) < 4 {
		return nil, errors.New("no Certificate message was sent")
	}
	s := cryptobyte.String(raw[4:])
	var ctx, list, der cryptobyte.String
	if tls13 && !s.ReadUint8LengthPrefixed(&ctx) {
		return nil, errors.New("malformed Certificate message")
	}
	if !s.ReadUint24LengthPrefixed(&list) || !list.ReadUint24LengthPrefixed(&der) {
		return nil, errors.New("the Certificate message sent is empty")
	}
	return der, nil
}

// supportedGroups are the NamedGroups tlsflow implements.
var supportedGroups = []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256, tlsflow.CurveP384, tlsflow.CurveP521,
	tlsflow.X25519MLKEM768, tlsflow.SecP256r1MLKEM768, tlsflow.SecP384r1MLKEM1024}

// cipherSuites maps BoringSSL's -cipher rule to Config.CipherSuites. Only a
// colon-separated list of suite names tlsflow implements is understood;
// BoringSSL's rule language (ALL, !x, [a|b]) is not. BoringSSL's -cipher
// affects TLS 1.2 only, so every TLS 1.3 suite stays enabled. With no rule,
// everything tlsflow implements is on, the RSA key exchange included, as in
// BoringSSL's default.
func cipherSuites(rule string) ([]uint16, error) {
	var all []uint16
	for _, s := range append(tlsflow.CipherSuites(), tlsflow.InsecureCipherSuites()...) {
		all = append(all, s.ID)
	}
	slices.Sort(all)
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
			return nil, &errUnimplemented{flag: "-cipher", why: fmt.Sprintf("%q is not a suite tlsflow implements", name)}
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

// decodeNames reads the runner's list of DER distinguished names: hex,
// comma-separated (runner.go, encodeDERValues). "" is no list (nil).
func decodeNames(list string) ([][]byte, error) {
	if list == "" {
		return nil, nil
	}
	names := [][]byte{}
	for _, h := range strings.Split(list, ",") {
		der, err := hex.DecodeString(h)
		if err != nil {
			return nil, err
		}
		names = append(names, der)
	}
	return names, nil
}

// clientCAList makes the Config.ClientCAs that has a tlsflow server name
// exactly the -use-client-ca-list authorities in its CertificateRequest:
// one throwaway self-signed certificate per name, in order. The shim's
// server never verifies against it (-verify-peer and
// -require-any-client-certificate do not check the chain). "<NULL>" and
// "<EMPTY>" are BoringSSL's two ways of naming none: no pool.
func clientCAList(list string) (*x509.CertPool, error) {
	if list == "" || list == "<NULL>" || list == "<EMPTY>" {
		return nil, nil
	}
	names, err := decodeNames(list)
	if err != nil {
		return nil, fmt.Errorf("-use-client-ca-list: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for i, name := range names {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)), RawSubject: name,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return nil, fmt.Errorf("-use-client-ca-list: name %d: %w", i, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		pool.AddCert(cert)
	}
	return pool, nil
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
func connect(cfg *tlsflow.Config, cache *watchingCache, global, s, retry *settings, isResume bool, clock func() time.Time) error {
	obs := new(observer)
	if err := configure(cfg, cache, global, s, obs, clock); err != nil {
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
	storedBefore, _ := cache.stored()
	// After a 0-RTT rejection the client's checks are the retry settings'.
	s, err = exchange(conn, global, s, retry, obs, isResume)
	if err != nil {
		orderlyShutdown(raw)
		if e := checkECHRejection(err, s); e != nil {
			return e
		}
		return err
	}
	if global.server {
		return nil
	}
	// BoringSSL's shim checks that a client got a new session unless told
	// otherwise: in TLS 1.2 at the end of a full handshake, or of a resumed
	// one with -expect-ticket-renewal; in TLS 1.3 from a ticket after the
	// handshake (a shim that shuts down first may or may not read one),
	// and then whether that ticket allows 0-RTT, as
	// -expect-ticket-supports-early-data says (either way).
	cs := conn.ConnectionState()
	storedAfter, lastEarly := cache.stored()
	stored := storedAfter > storedBefore
	switch cs.Version {
	case tlsflow.VersionTLS12:
		obs.mu.Lock()
		renewed := obs.gotTicket
		obs.mu.Unlock()
		// A resumed session is stored again as it was unless a ticket came.
		gotSession := stored && (!cs.DidResume || renewed)
		wantSession := !s.expectNoSession && (!cs.DidResume || s.expectTicketRenewal)
		if gotSession != wantSession {
			return fmt.Errorf("new TLS 1.2 session stored: %v, want %v", gotSession, wantSession)
		}
	case tlsflow.VersionTLS13:
		if s.shimShutsDown {
			break
		}
		if stored == s.expectNoSession {
			return fmt.Errorf("new session stored: %v, want %v", stored, !s.expectNoSession)
		}
		if stored && lastEarly != s.expectTicketEarly {
			return fmt.Errorf("the new session's ticket allows early data: %v, want %v (-expect-ticket-supports-early-data)", lastEarly, s.expectTicketEarly)
		}
	}
	return nil
}

// exchange is BoringSSL's DoExchange for one connection. It returns the
// settings in force at the end: a client whose 0-RTT data the server
// rejected carries on under the retry settings, as BoringSSL's shim does
// after SSL_ERROR_EARLY_DATA_REJECTED.
func exchange(conn *tlsflow.Conn, global, s, retry *settings, obs *observer, isResume bool) (*settings, error) {
	if global.server && s.enableEarlyData {
		// BoringSSL's server returns from SSL_do_handshake with 0-RTT
		// accepted, and its echo loop answers the early data with 0.5-RTT
		// data; tlsflow's ReadEarlyData pauses the handshake the same way
		// (and completes it when there is no early data to read).
		if err := echoEarlyData(conn, s); err != nil {
			return s, err
		}
	}
	if !global.server && s.enableEarlyData {
		offered, err := offerEarlyData(conn)
		if err != nil {
			return s, err
		}
		if offered {
			return earlyExchange(conn, global, s, retry, obs, isResume)
		}
	}
	if isResume && s.expectRejectEarly && !global.server {
		return s, errors.New("no early data offered, want it offered and rejected (-expect-reject-early-data)")
	}
	return s, exchange1RTT(conn, global, s, obs, isResume, nil)
}

// offerEarlyData starts a client's handshake with 0-RTT offered, when its
// cached session allows it: WriteEarlyData(nil) stops after the
// ClientHello, which carries early_data or not.
func offerEarlyData(conn *tlsflow.Conn) (bool, error) {
	_, err := conn.WriteEarlyData(nil)
	switch {
	case errors.Is(err, tlsflow.ErrNoEarlyData):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("WriteEarlyData: %w", err)
	}
	return true, nil
}

// echoEarlyData is a server's echo loop over the client's 0-RTT data: each
// read answered at once, XORed with 0xFF, as 0.5-RTT data.
func echoEarlyData(conn *tlsflow.Conn, s *settings) error {
	buf := make([]byte, readSize(s))
	for {
		n, err := conn.ReadEarlyData(buf)
		if n > 0 {
			for i := range buf[:n] {
				buf[i] ^= 0xff
			}
			if _, err := conn.Write(buf[:n]); err != nil {
				return fmt.Errorf("0.5-RTT write: %w", err)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// earlyExchange is a client's connection with 0-RTT offered. BoringSSL's
// SSL_do_handshake returns right after the ClientHello (SSL_in_early_data),
// and its shim's next steps run in that state: an exporter fails (tlsflow
// has none before the handshake completes either), and -shim-writes-first
// data goes out as early data, up to the ticket's limit, the rest after
// the handshake. Then, accepted, the connection goes on; rejected,
// BoringSSL's shim starts DoExchange again under the retry settings (the
// early data is not sent again unless those settings say so), which is
// tlsflow's model too: a rejected WriteEarlyData is for the application
// to resend.
//
// BoringSSL's shim also checks the resumption's expectations against its
// 0-RTT state (the values the session predicts) before a rejection;
// tlsflow shows no such state, so the shim checks the settings in force
// once the handshake is complete: the resumption's when accepted, the
// retry's when rejected.
func earlyExchange(conn *tlsflow.Conn, global, s, retry *settings, obs *observer, isResume bool) (*settings, error) {
	if isResume && s.expectNoOfferEarly {
		return s, errors.New("early data offered, want none (-expect-no-offer-early-data)")
	}
	if err := exports(conn, global, s, obs); err != nil {
		return s, fmt.Errorf("in 0-RTT, before the handshake completed: %w", err)
	}
	var late [][]byte
	if s.shimWritesFirst {
		obs.mu.Lock()
		allowed := obs.earlyMax
		obs.mu.Unlock()
		var err error
		if late, err = writeEarlyData(conn, initialWrites(s), allowed); err != nil {
			return s, err
		}
	}
	if err := conn.Handshake(); err != nil {
		return s, err
	}
	if !conn.ConnectionState().EarlyDataAccepted {
		if !s.expectRejectEarly {
			return s, errors.New("early data rejected, want it accepted (BoringSSL's shim stops at SSL_ERROR_EARLY_DATA_REJECTED without -expect-reject-early-data)")
		}
		return retry, exchange1RTT(conn, global, retry, obs, isResume, nil)
	}
	if s.expectRejectEarly {
		return s, errors.New("early data accepted, want it rejected (-expect-reject-early-data)")
	}
	return s, exchange1RTT(conn, global, s, obs, isResume, &late)
}

// initialWrites is what -shim-writes-first writes: -shim-initial-write,
// -repeat-shim-initial-write times, each write a record of its own.
func initialWrites(s *settings) [][]byte {
	var out [][]byte
	for range s.repeatInitialWrite {
		out = append(out, []byte(s.initialWrite))
	}
	return out
}

// writeEarlyData sends writes as 0-RTT data, each in one WriteEarlyData
// (a record each, as BoringSSL's shim writes them), within allowed bytes;
// it returns what is left for after the handshake.
func writeEarlyData(conn *tlsflow.Conn, writes [][]byte, allowed int) (late [][]byte, err error) {
	early, late := splitEarly(writes, allowed)
	for _, w := range early {
		if _, err := conn.WriteEarlyData(w); err != nil {
			return nil, fmt.Errorf("WriteEarlyData: %w", err)
		}
	}
	return late, nil
}

// splitEarly divides writes into those that fit in allowed bytes of early
// data and the rest; the write that does not fit whole is split, as
// BoringSSL's SSL_write splits it at the ticket's max_early_data_size.
func splitEarly(writes [][]byte, allowed int) (early, late [][]byte) {
	for i, w := range writes {
		n := min(len(w), max(allowed, 0))
		if n > 0 {
			early = append(early, w[:n])
			allowed -= n
		}
		if n < len(w) {
			return early, append([][]byte{w[n:]}, writes[i+1:]...)
		}
	}
	return early, nil
}

// exchange1RTT is the rest of BoringSSL's DoExchange: the handshake (if
// not done yet), its checks, the exporters and the first write (or, after
// accepted 0-RTT data, which did those, what was left of the first write:
// afterEarly), the echo loop, the shutdown.
func exchange1RTT(conn *tlsflow.Conn, global, s *settings, obs *observer, isResume bool, afterEarly *[][]byte) error {
	var firstWrite [][]byte
	if !s.implicitHandshake {
		if err := conn.Handshake(); err != nil {
			return err
		}
		if s.handshakeTwice {
			if err := conn.Handshake(); err != nil {
				return fmt.Errorf("second Handshake: %w", err)
			}
		}
		if err := checkHandshake(conn.ConnectionState(), global.server, s, obs, isResume); err != nil {
			return err
		}
	}
	if afterEarly != nil {
		firstWrite = *afterEarly
	} else {
		if err := exports(conn, global, s, obs); err != nil {
			return err
		}
		if s.shimWritesFirst {
			firstWrite = initialWrites(s)
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
	for _, w := range firstWrite {
		if _, err := conn.Write(w); err != nil {
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

// exports writes what -export-keying-material, -export-traffic-secrets and
// -tls-unique ask for.
func exports(conn *tlsflow.Conn, global, s *settings, obs *observer) error {
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
	if s.exportTrafficSecrets {
		// BoringSSL's shim writes a 16-bit little-endian length, then its
		// read and write secrets.
		read, write, err := trafficSecrets(obs.keyLog.String(), !global.server)
		if err != nil {
			return err
		}
		msg := binary.LittleEndian.AppendUint16(nil, uint16(len(read)))
		if _, err := conn.Write(append(append(msg, read...), write...)); err != nil {
			return err
		}
	}
	if s.tlsUnique {
		u := conn.ConnectionState().TLSUnique
		if len(u) != 12 {
			return fmt.Errorf("tls-unique is %d bytes, want 12", len(u))
		}
		if _, err := conn.Write(u); err != nil {
			return err
		}
	}
	return nil
}

// readSize is how much the echo loop reads at a time: BoringSSL's shim
// reads at most 512 bytes unless -read-size says otherwise.
func readSize(s *settings) int {
	if s.readSize > 0 {
		return s.readSize
	}
	return 512
}

// echo answers each read with the same bytes XORed with 0xFF until the
// runner closes the connection.
func echo(conn *tlsflow.Conn, s *settings) error {
	buf := make([]byte, readSize(s))
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
func checkHandshake(cs tlsflow.ConnectionState, server bool, s *settings, obs *observer, isResume bool) error {
	obs.mu.Lock()
	reason := earlyDataReason(server, s, cs, earlyFacts{
		offered: obs.earlyOffered, notOffered: obs.earlyNotOffered, rejected: obs.earlyRejected,
		helloPSK: obs.helloPSK, helloEarlyData: obs.helloEarlyData, sawHRR: obs.sawHRR,
	})
	sawHRR, peerSigAlg, sessionID := obs.sawHRR, obs.peerSigAlg, obs.sentSessionID
	ems, verifyRejected := obs.extendedMaster || cs.Version == tlsflow.VersionTLS13, obs.verifyRejected
	// BoringSSL reports TLS 1.3 as supporting secure renegotiation.
	secureReneg := cs.Version == tlsflow.VersionTLS13 || helloSupportsSecureRenegotiation(obs.peerHello)
	obs.mu.Unlock()
	// A tlsflow server sends a session ID in a full TLS 1.2 handshake only
	// when it keeps the session in its cache (no ticket); a TLS 1.3
	// server's legacy_session_id is the client's, echoed.
	cachedByID := cs.Version == tlsflow.VersionTLS12 && !cs.DidResume && len(sessionID) > 0
	switch {
	case s.expectEMS && !ems:
		return errors.New("no extended master secret, want one")
	case s.expectSecureReneg && !secureReneg:
		return errors.New("the peer does not support secure renegotiation, want it to")
	case s.expectNoSecureReneg && secureReneg:
		return errors.New("the peer supports secure renegotiation, want it not to")
	case s.expectVerifyResult && verifyRejected:
		return errors.New("the verify callback rejected the peer, want X509_V_OK")
	case !isResume && s.expectSessionID && !cachedByID:
		return errors.New("the session was not cached by session ID")
	case !isResume && s.expectNoSessionID && cachedByID:
		return errors.New("the session was cached by session ID, want none")
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
	case s.expectECHAccept != cs.ECHAccepted:
		return fmt.Errorf("ECH accepted: %v, want %v", cs.ECHAccepted, s.expectECHAccept)
	case s.expectHRR && !sawHRR:
		return errors.New("no HelloRetryRequest, want one")
	case s.expectNoHRR && sawHRR:
		return errors.New("a HelloRetryRequest, want none")
	case s.expectCipher != 0 && int(cs.CipherSuite) != s.expectCipher:
		return fmt.Errorf("cipher suite %#04x, want %#04x", cs.CipherSuite, s.expectCipher)
	case s.expectAcceptEarly && !cs.EarlyDataAccepted:
		return fmt.Errorf("early data not accepted (%s), want it accepted", reason)
	case s.expectRejectEarly && cs.EarlyDataAccepted:
		return errors.New("early data accepted, want it rejected")
	case s.expectEarlyDataReason != "" && reason != s.expectEarlyDataReason:
		return fmt.Errorf("early data reason %q, want %q", reason, s.expectEarlyDataReason)
	}
	if s.expectSelectedGiven && !cs.DidResume {
		obs.mu.Lock()
		sent, sigAlg := obs.sentCert, obs.sentSigAlg
		obs.mu.Unlock()
		got, err := selectedCredential(cs.ExternalPSKIdentity, sent, sigAlg, cs.Version == tlsflow.VersionTLS13, s.credentials, s.certFile)
		if err != nil {
			return fmt.Errorf("-expect-selected-credential: %w", err)
		}
		if got != s.expectSelected {
			return fmt.Errorf("selected credential %d, want %d", got, s.expectSelected)
		}
	}
	if err := checkRawKeys(cs, s, !server); err != nil {
		return err
	}
	// BoringSSL's shim checks that no certificate came with a PSK
	// handshake, and with -expect-no-peer-cert in any handshake.
	if (s.expectNoPeerCert || cs.ExternalPSKIdentity != nil) && len(cs.PeerCertificates) > 0 {
		return fmt.Errorf("the peer sent %d certificates, want none (-expect-no-peer-cert or a PSK handshake)", len(cs.PeerCertificates))
	}
	// The staple and SCT list the server sent (BoringSSL's shim checks
	// them after every handshake, resumptions included).
	if s.expectOCSP != nil && !bytes.Equal(cs.OCSPResponse, s.expectOCSP) {
		return fmt.Errorf("OCSP response %x, want %x", cs.OCSPResponse, s.expectOCSP)
	}
	if s.expectSCTs != nil {
		if got := sctListWire(cs.SignedCertificateTimestamps); !bytes.Equal(got, s.expectSCTs) {
			return fmt.Errorf("SCT list %x, want %x", got, s.expectSCTs)
		}
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

// earlyFacts is what the shim saw of 0-RTT on one connection (observer).
type earlyFacts struct {
	offered        bool   // client: early_data in the ClientHello
	notOffered     string // client: tlsflow's reason for not offering it
	rejected       string // tlsflow's reason for rejecting it (server) or seeing it rejected
	helloPSK       bool   // server: the client offered pre_shared_key
	helloEarlyData bool   // server: the client offered early_data
	sawHRR         bool
}

// earlyDataReason names, as BoringSSL's SSL_early_data_reason_string does,
// why this connection's 0-RTT data was accepted or not: the first of
// BoringSSL's reasons that applies, in its order (handshake_client.cc
// should_offer_early_data, then the ServerHello and EncryptedExtensions;
// tls13_server.cc for a server), decided from what tlsflow did and the
// reasons its trace notes give (internal/handshake/early13.go). A reason
// tlsflow gives that BoringSSL has no name for is returned as tlsflow's
// words, so the test fails and shows it.
func earlyDataReason(server bool, s *settings, cs tlsflow.ConnectionState, f earlyFacts) string {
	if server {
		switch {
		case !s.enableEarlyData:
			return "disabled"
		case cs.Version != tlsflow.VersionTLS13:
			return "protocol_version"
		case !f.helloPSK:
			return "no_session_offered"
		case !cs.DidResume:
			return "session_not_resumed"
		case strings.Contains(f.rejected, "allows no early data"):
			return "unsupported_for_session"
		case !f.helloEarlyData:
			return "peer_declined"
		case strings.Contains(f.rejected, "ALPN"):
			return "alpn_mismatch"
		case strings.Contains(f.rejected, "not fresh"):
			return "ticket_age_skew"
		case f.sawHRR:
			return "hello_retry_request"
		case cs.EarlyDataAccepted:
			return "accept"
		}
		return "tlsflow: " + f.rejected
	}
	switch {
	case !s.enableEarlyData:
		return "disabled"
	case s.noTLS13 || (s.maxVersion != 0 && s.maxVersion < int(tlsflow.VersionTLS13)):
		return "protocol_version"
	case !f.offered && strings.Contains(f.notOffered, "no session"):
		return "no_session_offered"
	case !f.offered && strings.Contains(f.notOffered, "allows no early data"):
		return "unsupported_for_session"
	case !f.offered && strings.Contains(f.notOffered, "ALPN"):
		return "alpn_mismatch"
	case !f.offered:
		return "tlsflow: " + f.notOffered
	case f.sawHRR:
		return "hello_retry_request"
	case !cs.DidResume:
		return "session_not_resumed"
	case !cs.EarlyDataAccepted:
		return "peer_declined"
	}
	return "accept"
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

// BoringSSL keeps two signature preference lists: -verify-prefs, what we
// advertise and accept from the peer, and -signing-prefs, what a
// credential's key signs with, in order; each flag left out keeps the
// default. tlsflow has both: Config.SignatureSchemes and
// Certificate.SupportedSignatureAlgorithms (per certificate, so
// -signing-prefs after -new-x509-credential is that credential's). A
// certificate without a list of its own signs with Config.SignatureSchemes,
// so when -verify-prefs narrows that, a certificate without -signing-prefs
// is given tlsflow's default list, and signs as if -verify-prefs were not
// there.

// schemeList maps a runner list of signature schemes (nil when the flag is
// absent). A scheme tlsflow does not implement (SHA-1, ed448,
// rsa_pss_pss_*) is unimplemented: tlsflow would silently drop it, and the
// test would measure that, not tlsflow.
func schemeList(flag string, ids []int) ([]tlsflow.SignatureScheme, error) {
	if ids == nil {
		return nil, nil
	}
	out := make([]tlsflow.SignatureScheme, 0, len(ids))
	for _, id := range ids {
		if id < 0 || id > 0xffff || !signature.Supported(uint16(id)) {
			return nil, &errUnimplemented{flag: flag, why: fmt.Sprintf("signature scheme %#04x is not implemented", id)}
		}
		out = append(out, tlsflow.SignatureScheme(id))
	}
	return out, nil
}

// signingSchemes is a certificate's SupportedSignatureAlgorithms: its
// -signing-prefs; without them, nil, or tlsflow's defaults when
// -verify-prefs is given (see above).
func signingSchemes(flag string, prefs []int, verifyPrefs bool) ([]tlsflow.SignatureScheme, error) {
	if prefs == nil && verifyPrefs {
		return defaultSchemes(), nil
	}
	return schemeList(flag, prefs)
}
