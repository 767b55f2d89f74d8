package handshake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	mathrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/providertest"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/provider"
)

// The engines are driven here without a network: a conversation hands each
// engine's SendMessage and SendChangeCipherSpec actions to the other engine
// as inputs. Record protection is the connection's business, so cipher
// changes are ignored; the engines only ever see plaintext messages.

// input is one thing an engine consumes: a whole handshake message (header
// included), or nil for a ChangeCipherSpec.
type input []byte

func (in input) String() string {
	if in == nil {
		return "ChangeCipherSpec"
	}
	if len(in) == 0 {
		return "empty message"
	}
	if isHelloRetryRequest(in) {
		return "HelloRetryRequest"
	}
	return wire.HandshakeType(in[0]).String()
}

// isHelloRetryRequest tells a HelloRetryRequest by its random (RFC 8446
// §4.1.3): type(1) length(3) legacy_version(2) random(32).
func isHelloRetryRequest(in input) bool {
	return len(in) >= 38 && wire.HandshakeType(in[0]) == wire.TypeServerHello &&
		[32]byte(in[6:38]) == wire.HelloRetryRequestRandom
}

// feed hands one input to e as tlsflow.Conn would: after a TLS 1.3
// handshake, handshake messages go to HandlePostHandshake.
func feed(e Engine, in input) ([]Action, error) {
	if in == nil {
		return e.HandleChangeCipherSpec()
	}
	if e.Complete() && e.State().Version == suites.VersionTLS13 {
		return postHandshake(e.(PostHandshake), in)
	}
	return e.HandleMessage(in)
}

// postHandshake hands a post-handshake message to p and, as a connection
// with no write under way does, makes at once the KeyUpdate it then owes.
func postHandshake(p PostHandshake, in []byte) ([]Action, error) {
	actions, err := p.HandlePostHandshake(in)
	if err != nil || !p.KeyUpdateOwed() {
		return actions, err
	}
	answer, err := p.AnswerKeyUpdate()
	return append(actions, answer...), err
}

// abortActionsOK reports whether the actions e's Abort returned are
// nothing, or in TLS 1.3 the compatibility ChangeCipherSpec that goes out
// before the alert (RFC 8446 Appendix D.4): nothing else may happen on a
// failure.
func abortActionsOK(e Engine, actions []Action) bool {
	if len(actions) == 0 {
		return true
	}
	_, ccs := actions[0].(SendChangeCipherSpec)
	return ccs && len(actions) == 1 && e.State().Version == suites.VersionTLS13
}

// inputsFor turns one engine's actions into what its peer will consume.
func inputsFor(actions []Action) []input {
	var out []input
	for _, a := range actions {
		switch a := a.(type) {
		case SendMessage:
			out = append(out, input(a.Data))
		case SendChangeCipherSpec:
			out = append(out, nil)
		}
	}
	return out
}

type side int

const (
	clientSide side = iota
	serverSide
)

func (s side) String() string { return [...]string{"client", "server"}[s] }

// conversation is a client and a server engine talking to each other.
type conversation struct {
	client   *Client
	server   *Server
	queue    [2][]input // inputs waiting for each side
	consumed [2]int     // inputs each side has consumed
	// messages are the handshake messages in the order they were consumed:
	// the transcript both sides should agree on.
	messages [][]byte
	// read and write are each side's latest record protection, set by its
	// SetReadCipher and SetWriteCipher actions, to check the keys agree.
	read, write [2]record.Cipher
}

func newConversation(t testing.TB, cli, srv *Config) *conversation {
	t.Helper()
	cv := &conversation{client: NewClient(cli), server: NewServer(srv)}
	actions, err := cv.client.Start()
	if err != nil {
		t.Fatalf("client Start: %v", err)
	}
	cv.apply(clientSide, actions)
	return cv
}

func (cv *conversation) engine(s side) Engine {
	if s == clientSide {
		return cv.client
	}
	return cv.server
}

// deliver hands the next queued input to s and queues the answer for the peer.
func (cv *conversation) deliver(s side) error {
	in := cv.queue[s][0]
	cv.queue[s] = cv.queue[s][1:]
	actions, err := feed(cv.engine(s), in)
	if err != nil {
		return fmt.Errorf("%s consuming its input #%d (%s): %w", s, cv.consumed[s], in, err)
	}
	cv.consumed[s]++
	if in != nil {
		cv.messages = append(cv.messages, in)
	}
	cv.apply(s, actions)
	return nil
}

// apply carries out s's actions: messages are queued for the peer, cipher
// changes remembered.
func (cv *conversation) apply(s side, actions []Action) {
	cv.setCiphers(s, actions)
	cv.queue[1-s] = append(cv.queue[1-s], inputsFor(actions)...)
}

// setCiphers remembers the cipher changes among s's actions.
func (cv *conversation) setCiphers(s side, actions []Action) {
	for _, a := range actions {
		switch a := a.(type) {
		case SetReadCipher:
			cv.read[s] = a.Cipher
		case SetWriteCipher:
			cv.write[s] = a.Cipher
		case OpenEarlyData:
			cv.write[s] = a.Cipher
		case AcceptEarlyData:
			cv.read[s] = a.Cipher
		}
	}
}

// runUntil plays the real handshake until s has consumed n inputs, and
// returns the input s would get next (ok is false if there is none: the
// handshake is over for s).
func (cv *conversation) runUntil(t testing.TB, s side, n int) (next input, ok bool) {
	t.Helper()
	for {
		switch {
		case cv.consumed[s] < n && len(cv.queue[s]) > 0:
			if err := cv.deliver(s); err != nil {
				t.Fatalf("real handshake: %v", err)
			}
		case cv.consumed[s] == n && len(cv.queue[s]) > 0:
			return cv.queue[s][0], true
		case len(cv.queue[1-s]) > 0:
			if err := cv.deliver(1 - s); err != nil {
				t.Fatalf("real handshake: %v", err)
			}
		case cv.consumed[s] == n:
			return nil, false
		default:
			t.Fatalf("real handshake stalled: %s consumed %d inputs, wanted %d", s, cv.consumed[s], n)
		}
	}
}

// runToEnd plays the whole real handshake.
func (cv *conversation) runToEnd(t testing.TB) {
	t.Helper()
	for len(cv.queue[clientSide])+len(cv.queue[serverSide]) > 0 {
		s := clientSide
		if len(cv.queue[s]) == 0 {
			s = serverSide
		}
		if err := cv.deliver(s); err != nil {
			t.Fatalf("real handshake: %v", err)
		}
	}
}

// fixtures are the certificates the engine tests use.
type fixtures struct {
	ca                      *pki.Authority
	ecdsaServer, rsaServer  *pki.Leaf
	client                  *pki.Leaf
	ecdsaCert, rsaCert, cli *Certificate
}

var (
	fixturesOnce sync.Once
	fix          fixtures
)

const serverName = "server.example"

func testFixtures() *fixtures {
	fixturesOnce.Do(func() {
		fix.ca = pki.MustNewCA("tlsflow engine test CA", pki.ECDSAP256)
		fix.ecdsaServer = fix.ca.MustServer(pki.ECDSAP256, serverName)
		fix.rsaServer = fix.ca.MustServer(pki.RSA2048, serverName)
		fix.client = fix.ca.MustClient(pki.ECDSAP256, "engine test client")
		fix.ecdsaCert = engineCert(fix.ecdsaServer)
		fix.rsaCert = engineCert(fix.rsaServer)
		fix.cli = engineCert(fix.client)
	})
	return &fix
}

func engineCert(l *pki.Leaf) *Certificate {
	return &Certificate{Chain: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}
}

// verifier checks a peer chain against pool for usage (and name, if set),
// as tlsflow.Conn does.
func verifier(pool *x509.CertPool, usage x509.ExtKeyUsage, name string) func([]*x509.Certificate) (*PeerCertificates, error) {
	return func(certs []*x509.Certificate) (*PeerCertificates, error) {
		opts := x509.VerifyOptions{Roots: pool, DNSName: name, Intermediates: x509.NewCertPool(),
			KeyUsages: []x509.ExtKeyUsage{usage}}
		for _, c := range certs[1:] {
			opts.Intermediates.AddCert(c)
		}
		chains, err := certs[0].Verify(opts)
		if err != nil {
			return nil, err
		}
		return &PeerCertificates{Certificates: certs, VerifiedChains: chains}, nil
	}
}

// variant is one shape of handshake (TLS 1.3 ones are in engine13_test.go).
type variant struct {
	name       string
	version    uint16 // the only version both sides enable
	suite      uint16
	serverCert func(*fixtures) *Certificate
	clientAuth ClientAuth
	tickets    bool // the server issues session tickets (RFC 5077, RFC 8446 §4.6.1)
	// sessionIDs has the TLS 1.2 server keep its sessions in a
	// SessionCache; with tickets off, a resumption is by session ID.
	sessionIDs bool
	// resume: the client offers the session of an earlier full handshake
	// of the same variant, against the same server keys and cache.
	resume bool
	// pskOnly enables psk_ke on both sides (Config.PSKWithoutECDHE): a TLS
	// 1.3 resumption without a fresh (EC)DHE exchange (RFC 8446 §4.2.9).
	pskOnly bool
	// clientGroups and serverGroups replace suites.DefaultGroups() if set.
	clientGroups, serverGroups []uint16
	// externalPSK gives both sides the same external PSK (TLS 1.3).
	externalPSK bool
	// earlyData: the server's tickets allow 0-RTT, and both sides want it
	// (the client offers it with the resumed session, the server reads it).
	earlyData bool
	// compressed: both sides compress their certificates (RFC 8879) and
	// limit their records (RFC 8449).
	compressed bool
}

// fuzzExternalPSK is the external PSK of the variants that have one: the
// same in every run, so a seed's binder verifies in a later one.
var fuzzExternalPSK = &ExternalPSK{Identity: []byte("fuzzed device"), Key: []byte("a 32-byte key for the PSK tests!")}

var (
	// ecdhe has every message of a full handshake: ServerKeyExchange,
	// CertificateRequest, the client's Certificate and CertificateVerify.
	ecdhe = variant{name: "ECDHE-ECDSA with client auth",
		version: suites.VersionTLS12, suite: suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert}
	// rsaKex is the course note's flow without client auth: the client
	// encrypts the pre-master secret to the server's RSA key.
	rsaKex = variant{name: "RSA key exchange",
		version: suites.VersionTLS12, suite: suites.TLS_RSA_WITH_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.rsaCert }}
	ecdheRSA = variant{name: "ECDHE-RSA",
		version: suites.VersionTLS12, suite: suites.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.rsaCert }}
	// tickets adds the server's NewSessionTicket before its ChangeCipherSpec.
	tickets = variant{name: "ECDHE-ECDSA issuing a session ticket",
		version: suites.VersionTLS12, suite: suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, tickets: true}
	// resumed is the abbreviated handshake of RFC 5246 Figure 2, resuming
	// a ticket: the server finishes first.
	resumed = variant{name: "abbreviated handshake resuming a ticket",
		version: suites.VersionTLS12, suite: suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, tickets: true, resume: true}

	// ticketsAuth is the full handshake that makes the session resumedAuth
	// resumes: client auth, and a ticket that carries the client's chain.
	ticketsAuth = variant{name: "ECDHE-ECDSA with client auth issuing a session ticket",
		version: suites.VersionTLS12, suite: suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert, tickets: true}
	// resumedAuth resumes a ticket whose session had client auth: the
	// server checks the client chain in the ticket again, and renews the
	// ticket (RFC 5077 §3.1, Figure 2).
	resumedAuth = variant{name: "abbreviated handshake resuming a ticket of a client-auth session",
		version: suites.VersionTLS12, suite: suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert,
		tickets: true, resume: true}
	// resumedByID resumes a client-auth session the server keeps in its
	// SessionCache, by session ID (RFC 5246 §7.3): no ticket either way.
	resumedByID = variant{name: "abbreviated handshake resuming a client-auth session by session ID",
		version: suites.VersionTLS12, suite: suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert,
		sessionIDs: true, resume: true}
)

func (v variant) configs(t testing.TB) (cli, srv *Config) {
	t.Helper()
	f := testFixtures()
	common := func(groups []uint16) *Config {
		if groups == nil {
			groups = suites.DefaultGroups()
		}
		return &Config{
			MinVersion: v.version, MaxVersion: v.version,
			CipherSuites: []uint16{v.suite}, Groups: groups,
			SignatureSchemes: signature.Default, TicketsDisabled: !v.tickets,
		}
	}
	cli, srv = common(v.clientGroups), common(v.serverGroups)
	cli.ServerName = serverName
	cli.PSKWithoutECDHE, srv.PSKWithoutECDHE = v.pskOnly, v.pskOnly
	cli.VerifyPeer = verifier(f.ca.Pool, x509.ExtKeyUsageServerAuth, serverName)
	cli.Certificates = []*Certificate{f.cli}
	srv.Certificates = []*Certificate{v.serverCert(f)}
	srv.ClientAuth = v.clientAuth
	srv.ClientCANames = [][]byte{f.ca.Cert.RawSubject}
	srv.VerifyPeer = verifier(f.ca.Pool, x509.ExtKeyUsageClientAuth, "")
	if v.externalPSK {
		cli.ExternalPSKs, srv.ExternalPSKs = []*ExternalPSK{fuzzExternalPSK}, []*ExternalPSK{fuzzExternalPSK}
	}
	if v.compressed {
		cli.CertCompression = []uint16{wire.CertCompressionZstd, wire.CertCompressionZlib}
		srv.CertCompression = []uint16{wire.CertCompressionBrotli, wire.CertCompressionZlib}
		cli.RecordSizeLimit, srv.RecordSizeLimit = 512, 1024
	}
	if v.earlyData {
		cli.EarlyData, srv.EarlyData = true, true
		srv.MaxEarlyData = 1024
		srv.Replay = &session.ReplayWindow{Window: 10 * time.Second, Max: 16} // a fresh memory per run
	}
	// The ticket keys, and the session ID a server caches, are the same in
	// every run: a ticket or session ID in a fuzz seed then names a
	// session of ours in a later run too, and the fuzzer's ClientHellos
	// reach the resumption decision (resumption.go) with a real session.
	if v.tickets {
		srv.Tickets = new(session.Keys)
		if err := srv.Tickets.Set([][32]byte{{'t', 'l', 's', 'f', 'l', 'o', 'w', ' ', 't', 'i', 'c', 'k', 'e', 't'}}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if v.sessionIDs {
		srv.SessionCache = session.NewCache(8)
	}
	if v.resume {
		// A full handshake with the same server keys (or cache) gives the
		// session.
		first := v
		first.resume = false
		c1, s1 := first.configs(t)
		s1.Tickets, s1.SessionCache = srv.Tickets, srv.SessionCache
		s1.Rand = fixedRand()              // the session ID it caches
		s1.MaxEarlyData = srv.MaxEarlyData // a ticket that allows 0-RTT
		c1.StoreSession = func(s *session.State) { cli.Session = s }
		newConversation(t, c1, s1).runToEnd(t)
		if cli.Session == nil || len(cli.Session.Ticket) == 0 && len(cli.Session.SessionID) == 0 {
			t.Fatal("the first handshake gave no session ticket or session ID to resume")
		}
	}
	return cli, srv
}

// fixedRand is a random stream that is the same in every run.
func fixedRand() io.Reader {
	return mathrand.NewChaCha8([32]byte{'t', 'l', 's', 'f', 'l', 'o', 'w'})
}

// realInputs lists what each side consumes in a real handshake of each
// variant, in order; the state tables and the fuzz targets rely on it.
var realInputs = mergeInputs(realInputs12, realInputs13)

func mergeInputs(ms ...map[string][2][]string) map[string][2][]string {
	out := make(map[string][2][]string)
	for _, m := range ms {
		for name, ins := range m {
			out[name] = ins
		}
	}
	return out
}

var realInputs12 = map[string][2][]string{
	ecdhe.name: {
		{"ServerHello", "Certificate", "ServerKeyExchange", "CertificateRequest", "ServerHelloDone", "ChangeCipherSpec", "Finished"},
		{"ClientHello", "Certificate", "ClientKeyExchange", "CertificateVerify", "ChangeCipherSpec", "Finished"},
	},
	rsaKex.name: {
		{"ServerHello", "Certificate", "ServerHelloDone", "ChangeCipherSpec", "Finished"},
		{"ClientHello", "ClientKeyExchange", "ChangeCipherSpec", "Finished"},
	},
	tickets.name: {
		{"ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone", "NewSessionTicket", "ChangeCipherSpec", "Finished"},
		{"ClientHello", "ClientKeyExchange", "ChangeCipherSpec", "Finished"},
	},
	resumed.name: {
		{"ServerHello", "NewSessionTicket", "ChangeCipherSpec", "Finished"},
		{"ClientHello", "ChangeCipherSpec", "Finished"},
	},
	ecdheRSA.name: {
		{"ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone", "ChangeCipherSpec", "Finished"},
		{"ClientHello", "ClientKeyExchange", "ChangeCipherSpec", "Finished"},
	},
	ticketsAuth.name: {
		{"ServerHello", "Certificate", "ServerKeyExchange", "CertificateRequest", "ServerHelloDone", "NewSessionTicket", "ChangeCipherSpec", "Finished"},
		{"ClientHello", "Certificate", "ClientKeyExchange", "CertificateVerify", "ChangeCipherSpec", "Finished"},
	},
	resumedAuth.name: {
		{"ServerHello", "NewSessionTicket", "ChangeCipherSpec", "Finished"},
		{"ClientHello", "ChangeCipherSpec", "Finished"},
	},
	resumedByID.name: {
		{"ServerHello", "ChangeCipherSpec", "Finished"},
		{"ClientHello", "ChangeCipherSpec", "Finished"},
	},
}

func TestEnginesCompleteARealHandshakeInEachVariant(t *testing.T) {
	for _, v := range []variant{ecdhe, rsaKex, ecdheRSA, tickets, resumed, ticketsAuth, resumedAuth, resumedByID} {
		t.Run(v.name, func(t *testing.T) {
			cli, srv := v.configs(t)
			offered := cli.Session
			var stored *session.State
			cli.StoreSession = func(s *session.State) { stored = s }
			cv := newConversation(t, cli, srv)
			var got [2][]string
			for len(cv.queue[clientSide])+len(cv.queue[serverSide]) > 0 {
				s := clientSide
				if len(cv.queue[s]) == 0 {
					s = serverSide
				}
				got[s] = append(got[s], cv.queue[s][0].String())
				if err := cv.deliver(s); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []side{clientSide, serverSide} {
				if fmt.Sprint(got[s]) != fmt.Sprint(realInputs[v.name][s]) {
					t.Errorf("%s consumed %v, want %v", s, got[s], realInputs[v.name][s])
				}
				if !cv.engine(s).Complete() {
					t.Errorf("%s did not complete", s)
				}
			}
			if cs, ss := cv.client.State(), cv.server.State(); cs.CipherSuite != v.suite || ss.CipherSuite != v.suite ||
				!keys.Equal(cs.MasterSecret, ss.MasterSecret) {
				t.Errorf("client and server disagree: suites %#04x/%#04x, same master secret %v",
					cs.CipherSuite, ss.CipherSuite, keys.Equal(cs.MasterSecret, ss.MasterSecret))
			}
			if cs, ss := cv.client.State(), cv.server.State(); cs.DidResume != v.resume || ss.DidResume != v.resume {
				t.Errorf("resumed: client %v, server %v; want %v", cs.DidResume, ss.DidResume, v.resume)
			}
			checkSessionAfter12(t, v, cv, offered, stored)
		})
	}
}

// checkSessionAfter12 checks what a TLS 1.2 handshake of v leaves for
// the next one: the client's chain on the server, resumed or not; a
// ticket or session ID for the client to resume with; and a renewed
// session that keeps the time of the full handshake that authenticated
// the peers (renewal must not stretch a session's life).
func checkSessionAfter12(t *testing.T, v variant, cv *conversation, offered, stored *session.State) {
	t.Helper()
	if ss := cv.server.State(); v.clientAuth.requires() && len(ss.PeerCertificates) == 0 {
		t.Errorf("client auth (resumed: %v): the server has no client certificate", v.resume)
	}
	switch {
	case v.tickets && (stored == nil || len(stored.Ticket) == 0):
		t.Errorf("the client stored %+v, want a session with a ticket", stored)
	case v.sessionIDs && !v.resume && (stored == nil || len(stored.SessionID) == 0):
		t.Errorf("the client stored %+v, want a session with a session ID", stored)
	case v.sessionIDs && v.resume && stored != nil:
		t.Errorf("resumed by session ID, the client stored a new session %+v; the cached one stays", stored)
	case !v.tickets && !v.sessionIDs && stored != nil:
		t.Errorf("no tickets and no session cache, yet the client stored %+v", stored)
	}
	if v.resume && stored != nil && !stored.CreatedAt.Equal(offered.CreatedAt) {
		t.Errorf("the renewed session was created at %v, the session it renews at %v", stored.CreatedAt, offered.CreatedAt)
	}
}

// wrongInputs is one input of every TLS 1.2 kind, well formed but for the
// wrong moment, plus types that have no place in a TLS 1.2 handshake.
func wrongInputs() []input {
	f := testFixtures()
	point := make([]byte, 32)
	return []input{
		nil, // ChangeCipherSpec
		must((&wire.HelloRequest{}).Marshal()),
		must((&wire.ClientHello{Version: suites.VersionTLS12, CipherSuites: []uint16{ecdhe.suite}, CompressionMethods: []uint8{0}}).Marshal()),
		must((&wire.ServerHello{Version: suites.VersionTLS12, CipherSuite: ecdhe.suite}).Marshal()),
		must((&wire.NewSessionTicket{Ticket: []byte("ticket")}).Marshal()),
		must((&wire.Certificate{Chain: f.ecdsaServer.Chain}).Marshal()),
		must((&wire.ServerKeyExchange{Group: suites.GroupX25519, PublicKey: point,
			SignatureScheme: signature.ECDSASecp256r1SHA256, Signature: []byte{1}}).Marshal()),
		must((&wire.CertificateRequest{CertificateTypes: []uint8{certTypeECDSASign},
			SignatureAlgorithms: []uint16{signature.ECDSASecp256r1SHA256}}).Marshal()),
		must((&wire.ServerHelloDone{}).Marshal()),
		must((&wire.CertificateVerify{SignatureScheme: signature.ECDSASecp256r1SHA256, Signature: []byte{1}}).Marshal()),
		must((&wire.ClientKeyExchangeECDHE{PublicKey: point}).Marshal()),
		must((&wire.Finished{VerifyData: make([]byte, 12)}).Marshal()),
		must((&wire.KeyUpdate{}).Marshal()), // TLS 1.3 only
		{99, 0, 0, 0},                       // unassigned type
		{},                                  // not even a header
	}
}

// engineState is one state of an engine: reached after a real handshake
// of variant v has fed it `after` inputs, at step `step`, accepting
// `accepts` (the one the engine names when refusing another input first).
type engineState struct {
	name    string
	v       variant
	after   int
	step    int
	accepts []string
}

func checkUnexpectedInEachState(t *testing.T, s side, states []engineState) {
	t.Helper()
	for _, st := range states {
		wrongs := wrongInputs()
		if st.v.version == suites.VersionTLS13 {
			wrongs = wrongInputs13()
		}
		for _, wrong := range wrongs {
			if containsString(st.accepts, wrong.String()) {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s", st.name, wrong), func(t *testing.T) {
				cli, srv := st.v.configs(t)
				cv := newConversation(t, cli, srv)
				real, ok := cv.runUntil(t, s, st.after)
				if ok && !containsString(st.accepts, real.String()) {
					t.Fatalf("the real handshake gives %s here, not one of %v: the state table is out of date", real, st.accepts)
				}
				eng := cv.engine(s)
				wasComplete := eng.Complete()
				actions, err := feed(eng, wrong)
				var ae *alert.Error
				if !errors.As(err, &ae) || ae.Alert != alert.UnexpectedMessage || ae.Received {
					t.Fatalf("%s in state %s: err = %v, want unexpected_message sent", wrong, st.name, err)
				}
				step, waiting := st.step, ""
				if len(st.accepts) > 0 {
					waiting = st.accepts[0]
				}
				if wrong == nil && wasComplete {
					// After the handshake a ChangeCipherSpec is the
					// connection's to refuse (conn_records.go); the
					// engine has no step left that could take one.
					step, waiting = -1, "nothing"
				}
				if ae.Step != step || ae.Message != wrong.String() {
					t.Errorf("error names step %d, message %q; want step %d, message %q (%v)",
						ae.Step, ae.Message, step, wrong.String(), err)
				}
				if waiting != "" && !strings.Contains(ae.Reason, "waiting for "+waiting) {
					t.Errorf("reason %q does not say the engine was waiting for %s", ae.Reason, waiting)
				}
				if len(actions) != 0 || eng.Complete() != wasComplete {
					t.Errorf("after the error: %d actions, complete %v → %v; want no actions and no change",
						len(actions), wasComplete, eng.Complete())
				}
				if a := eng.Abort(); !abortActionsOK(eng, a) {
					t.Errorf("Abort returned %v, want nothing or the TLS 1.3 compatibility ChangeCipherSpec", a)
				}
				// A failed engine stays failed, even for the input it wanted.
				if ok {
					if _, err := feed(eng, real); err == nil {
						t.Errorf("the engine accepted %s after failing", real)
					}
				}
			})
		}
	}
}

func TestClient12RefusesUnexpectedMessageInEachState(t *testing.T) {
	checkUnexpectedInEachState(t, clientSide, []engineState{
		{"readServerHello", ecdhe, 0, 2, []string{"ServerHello"}},
		{"readServerCertificate", ecdhe, 1, 3, []string{"Certificate"}},
		{"readServerKeyExchange", ecdhe, 2, 3, []string{"ServerKeyExchange"}},
		{"readCertificateRequestOrDone", ecdhe, 3, 3, []string{"CertificateRequest", "ServerHelloDone"}},
		{"readServerHelloDone", ecdhe, 4, 4, []string{"ServerHelloDone"}},
		{"readServerChangeCipherSpec", ecdhe, 5, 6, []string{"ChangeCipherSpec"}},
		{"readServerFinished", ecdhe, 6, 7, []string{"Finished"}},
		{"established", ecdhe, 7, -1, nil},
		{"readNewSessionTicket12", tickets, 4, 7, []string{"NewSessionTicket"}},
		{"abbreviated/readNewSessionTicket12", resumed, 1, 7, []string{"NewSessionTicket"}},
		{"abbreviated/readServerChangeCipherSpec", resumed, 2, 6, []string{"ChangeCipherSpec"}},
		{"abbreviated/readServerFinished", resumed, 3, 7, []string{"Finished"}},
		{"abbreviated/established", resumed, 4, -1, nil},
		{"auth/readNewSessionTicket12", ticketsAuth, 5, 7, []string{"NewSessionTicket"}},
		{"abbreviated-auth/readNewSessionTicket12", resumedAuth, 1, 7, []string{"NewSessionTicket"}},
		{"by-session-ID/readServerChangeCipherSpec", resumedByID, 1, 6, []string{"ChangeCipherSpec"}},
		{"by-session-ID/readServerFinished", resumedByID, 2, 7, []string{"Finished"}},
	})
}

func TestServer12RefusesUnexpectedMessageInEachState(t *testing.T) {
	checkUnexpectedInEachState(t, serverSide, []engineState{
		{"readClientHello", ecdhe, 0, 1, []string{"ClientHello"}},
		{"readClientCertificate", ecdhe, 1, 5, []string{"Certificate"}},
		{"readClientKeyExchange", ecdhe, 2, 5, []string{"ClientKeyExchange"}},
		{"readClientCertificateVerify", ecdhe, 3, 5, []string{"CertificateVerify"}},
		{"readClientChangeCipherSpec", ecdhe, 4, 6, []string{"ChangeCipherSpec"}},
		{"readClientFinished", ecdhe, 5, 7, []string{"Finished"}},
		{"established", ecdhe, 6, -1, nil},
		{"abbreviated/readClientChangeCipherSpec", resumed, 1, 6, []string{"ChangeCipherSpec"}},
		{"abbreviated/readClientFinished", resumed, 2, 7, []string{"Finished"}},
		{"abbreviated/established", resumed, 3, -1, nil},
		{"abbreviated-auth/readClientChangeCipherSpec", resumedAuth, 1, 6, []string{"ChangeCipherSpec"}},
		{"by-session-ID/readClientChangeCipherSpec", resumedByID, 1, 6, []string{"ChangeCipherSpec"}},
		{"by-session-ID/readClientFinished", resumedByID, 2, 7, []string{"Finished"}},
	})
}

// TestServerRSAKeyExchangeFailsOnlyAtFinishedWhateverIsWrongWithThePreMasterSecret
// is the Bleichenbacher countermeasure of RFC 5246 §7.4.7.1 seen from outside:
// a ClientKeyExchange with bad PKCS #1 padding, the wrong client_version or
// the wrong length is accepted like a good one, and the handshake fails only
// at the client's Finished, with exactly the error a client that simply used
// another pre-master secret gets. It runs once per provider: the OpenSSL
// provider decrypts raw and kex judges the padding. The cases include the
// eight of BoGo's BadRSAClientKeyExchange, which BoGo itself sends only at
// TLS 1.1 with AES-CBC (refused by tlsflow before the key exchange); here
// they come at TLS 1.2 with AES-128-GCM.
func TestServerRSAKeyExchangeFailsOnlyAtFinishedWhateverIsWrongWithThePreMasterSecret(t *testing.T) {
	providertest.Run(t, testServerRSAKeyExchangeFailsOnlyAtFinished)
}

func testServerRSAKeyExchangeFailsOnlyAtFinished(t *testing.T, p provider.Provider) {
	pub := testFixtures().rsaServer.Cert.PublicKey.(*rsa.PublicKey)
	preMaster := func(version uint16) []byte {
		pms := make([]byte, 48)
		rand.Read(pms)
		pms[0], pms[1] = byte(version>>8), byte(version)
		return pms
	}
	pkcs1 := func(msg []byte) []byte {
		c, err := rsa.EncryptPKCS1v15(rand.Reader, pub, msg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// padded is PKCS #1 v1.5 type 2 around msg, encrypted raw after
	// change has spoiled it as BoGo's RSABadValue does (runner's
	// key_agreement.go).
	padded := func(msg []byte, change func(em []byte)) []byte {
		em := make([]byte, pub.Size())
		em[1] = 2
		for i := 2; i < len(em)-len(msg)-1; i++ {
			em[i] = byte(mathrand.IntN(255) + 1)
		}
		copy(em[len(em)-len(msg):], msg)
		change(em)
		c := new(big.Int).Exp(new(big.Int).SetBytes(em), big.NewInt(int64(pub.E)), pub.N)
		return c.FillBytes(make([]byte, pub.Size()))
	}
	good := preMaster(suites.VersionTLS12)
	other := preMaster(suites.VersionTLS12)
	oldVersion := preMaster(suites.VersionTLS11)
	corrupt := pkcs1(good)
	corrupt[len(corrupt)-1] ^= 1
	corrupt[0] = 0 // still below the modulus
	version2 := append([]byte{0x02, 0x03}, good[2:]...)
	oaep, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, good, nil)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		// encrypted is the EncryptedPreMasterSecret the client sends;
		// believed is the pre-master secret it computes its Finished with.
		encrypted, believed []byte
		wantOK              bool
	}{
		{"valid", pkcs1(good), good, true},
		{"valid padding, client uses another secret (wrong key)", pkcs1(good), other, false},
		{"bad padding (OAEP, not PKCS #1 v1.5 type 2)", oaep, good, false},
		{"valid padding, 47-byte secret", pkcs1(good[:47]), good, false},
		{"valid padding, client_version TLS 1.1 in the secret", pkcs1(oldVersion), oldVersion, false},
		{"ciphertext shorter than the modulus", pkcs1(good)[1:], good, false},
		{"BoGo 1: corrupt ciphertext", corrupt, good, false},
		{"BoGo 2: 49-byte secret", padded(append([]byte{0}, good...), func([]byte) {}), good, false},
		{"BoGo 3: 47-byte secret", padded(good[:47], func([]byte) {}), good, false},
		{"BoGo 4: client_version minor byte flipped", padded(oldVersion, func([]byte) {}), oldVersion, false},
		{"BoGo 5: client_version major byte flipped", padded(version2, func([]byte) {}), version2, false},
		{"BoGo 6: block type 3", padded(good, func(em []byte) { em[1] = 3 }), good, false},
		{"BoGo 7: leading byte 1", padded(good, func(em []byte) { em[0] = 1 }), good, false},
		{"BoGo 8: no zero separator", padded(good, func(em []byte) {
			for i := 2; i < len(em); i++ {
				if em[i] == 0 {
					em[i]++
				}
			}
		}), good, false},
		{"well-formed raw padding", padded(good, func([]byte) {}), good, true},
	}
	var wrongKeyErr string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli, srv := rsaKex.configs(t)
			srv.Provider = p
			cv := newConversation(t, cli, srv)
			real, ok := cv.runUntil(t, serverSide, 1)
			if !ok || real.String() != "ClientKeyExchange" {
				t.Fatalf("the server waits for %s, want ClientKeyExchange", real)
			}
			srvEng := cv.server
			cke := must((&wire.ClientKeyExchangeRSA{EncryptedPreMasterSecret: tt.encrypted}).Marshal())
			actions, err := srvEng.HandleMessage(cke)
			if err != nil || len(actions) != 0 {
				t.Fatalf("ClientKeyExchange: %d actions, err = %v; want it taken silently, like a good one", len(actions), err)
			}
			if _, err := srvEng.HandleChangeCipherSpec(); err != nil {
				t.Fatalf("ChangeCipherSpec: %v", err)
			}

			// The client's Finished as it would compute it from believed
			// (RFC 7627 §4 master secret, RFC 5246 §7.4.9 verify_data).
			if !srvEng.State().ExtendedMaster {
				t.Fatal("extended_master_secret was not negotiated; the Finished below assumes it")
			}
			h := crypto.SHA256.New()
			for _, m := range append(cv.messages, cke) {
				h.Write(m)
			}
			sessionHash := h.Sum(nil)
			master := keys.ExtendedMasterSecret(keys.Std(crypto.SHA256), tt.believed, sessionHash)
			fin := must((&wire.Finished{VerifyData: keys.Finished12(keys.Std(crypto.SHA256), master, keys.LabelClientFinished, sessionHash)}).Marshal())

			actions, err = srvEng.HandleMessage(fin)
			if tt.wantOK {
				if err != nil || !srvEng.Complete() || len(actions) == 0 {
					t.Fatalf("valid pre-master secret: err = %v, complete = %v", err, srvEng.Complete())
				}
				return
			}
			var ae *alert.Error
			if !errors.As(err, &ae) || ae.Alert != alert.DecryptError || ae.Step != 7 || ae.Message != "Finished" {
				t.Fatalf("err = %v; want decrypt_error at step 7, Finished", err)
			}
			// Every failure must read the same as the wrong-key one: the
			// first failing case records it, the others compare.
			if wrongKeyErr == "" {
				wrongKeyErr = err.Error()
			} else if err.Error() != wrongKeyErr {
				t.Errorf("error differs from a wrong key's:\n got %s\nwant %s", err, wrongKeyErr)
			}
		})
	}
}

func TestEngineFailureIsFinal(t *testing.T) {
	// After an error the engine refuses everything, so a connection that
	// forgot to stop could not carry on a half-checked handshake.
	for _, s := range []side{clientSide, serverSide} {
		t.Run(s.String(), func(t *testing.T) {
			cli, srv := ecdhe.configs(t)
			cv := newConversation(t, cli, srv)
			real, _ := cv.runUntil(t, s, 1)
			eng := cv.engine(s)
			if _, err := eng.HandleMessage([]byte{99, 0, 0, 0}); err == nil {
				t.Fatal("unassigned message type accepted")
			}
			_, err := feed(eng, real)
			var ae *alert.Error
			if !errors.As(err, &ae) || ae.Alert != alert.UnexpectedMessage || ae.Step != -1 {
				t.Fatalf("input after a failure: err = %v, want unexpected_message with no step", err)
			}
		})
	}
}

// must returns what a Marshal built, and panics if it failed: the messages
// these tests build always marshal.
func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
