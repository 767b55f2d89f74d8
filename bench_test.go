//go:build unix

package tlsflow_test

// Benchmarks that run tlsflow and crypto/tls side by side, in the same
// `go test -bench` run, with the same certificates, versions, suites and
// groups, so that each case reads as a ratio tlsflow / crypto-tls. The
// machine is noisy: compare the two names of one case from one run, never
// absolute times across runs. docs/PERFORMANCE.md says how to run them and
// records the first numbers.
//
// Sub-benchmark names:
//   BenchmarkHandshake/<case>/{tlsflow,tlsflow-openssl,crypto-tls}
//   BenchmarkThroughput/<case>/{tlsflow,crypto-tls,plain-tcp}
//   BenchmarkIdleConnections/{tlsflow,crypto-tls,plain-tcp}  (bench_idle_test.go)
//   BenchmarkIdleMany/{tlsflow,crypto-tls,plain-tcp}         (bench_idle_test.go)
// tlsflow runs on the standard library's provider; tlsflow-openssl on the
// OpenSSL provider (provider/openssl), when libcrypto loads. Throughput has
// no tlsflow-openssl: the provider routes no AEAD (its doc says why).
// BenchmarkHandshake also reports the primitive bound of each case
// (bench_bound_test.go). Run everything on one core: -cpu 1.
// benchstat puts only key=value name parts in columns, so
// docs/PERFORMANCE.md rewrites the last part as stack=... before comparing.
//
// crypto/tls accepts the RSA key exchange only with GODEBUG tlsrsakex=1.
// The //go:debug line that sets it is in interop_gotls_test.go: it applies
// to the whole test binary, and the go command refuses the same key twice.
// Without it the TLS12-RSA-kex case fails (crypto-tls) rather than skips.
//
// Next to ns/op each benchmark reports cpu-ns/op, the process's CPU time
// from getrusage(2) (hence unix only): on a shared machine it is the
// steadier of the two.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/fips140"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/provider"
	"github.com/tlsflow/tlsflow/provider/openssl"
	"golang.org/x/crypto/chacha20poly1305"
)

// benchPeers is one case's configuration, written once for each stack:
// the same certificates and keys, versions, suites and groups.
type benchPeers struct {
	flowClient, flowServer *tlsflow.Config
	goClient, goServer     *tls.Config
}

// endpoints returns the client and server of one stack, by sub-benchmark
// name: tlsflow on the standard library's provider or on OpenSSL's, or
// crypto/tls.
func (p benchPeers) endpoints(stack string) (client, server endpoint) {
	var prov provider.Provider = provider.Stdlib{}
	switch stack {
	case "crypto-tls":
		return goClient(p.goClient), goServer(p.goServer)
	case "tlsflow-openssl":
		prov = opensslForBench()
	}
	p.flowClient.Provider, p.flowServer.Provider = prov, prov
	return tlsflowClient(p.flowClient), tlsflowServer(p.flowServer)
}

// opensslForBench is the OpenSSL provider, or nil when libcrypto does not
// load (benchStacks then leaves tlsflow-openssl out).
var opensslForBench = sync.OnceValue(func() provider.Provider {
	p, err := provider.Open(openssl.Name)
	if err != nil {
		return nil
	}
	return p
})

// benchStacks are the sub-benchmarks of the handshake cases, in this order.
func benchStacks() []string {
	if opensslForBench() == nil {
		return []string{"tlsflow", "crypto-tls"}
	}
	return []string{"tlsflow", "tlsflow-openssl", "crypto-tls"}
}

// fipsMetric is 1 when the stack's primitives run in FIPS 140 mode:
// crypto/fips140 for crypto/tls and the standard library's provider, that
// and OpenSSL's FIPS provider for the OpenSSL provider.
func fipsMetric(stack string) float64 {
	fips := fips140.Enabled()
	if stack == "tlsflow-openssl" {
		fips = opensslForBench().FIPS()
	}
	if fips {
		return 1
	}
	return 0
}

// bulkStacks are those of the throughput cases.
var bulkStacks = []string{"tlsflow", "crypto-tls"}

// benchWant is what a benchmarked connection must have negotiated, on both
// sides, for the numbers to mean what the case's name says. Zero fields are
// not checked.
type benchWant struct {
	version    uint16
	suite      uint16
	group      tlsflow.CurveID
	clientCert bool // the server verified a client certificate
	resumed    bool // DidResume on both sides
}

// check compares what each side of one connection saw with w.
func (w benchWant) check(cli, srv peerConn, cliState, srvState func(peerConn) outcome) error {
	if err := w.checkSide("client", cli, cliState); err != nil {
		return err
	}
	return w.checkSide("server", srv, srvState)
}

// checkSide compares what one side ("client" or "server") saw with w.
func (w benchWant) checkSide(side string, conn peerConn, state func(peerConn) outcome) error {
	o := state(conn)
	if o.version != w.version {
		return fmt.Errorf("%s negotiated %s, want %s", side, tlsflow.VersionName(o.version), tlsflow.VersionName(w.version))
	}
	if w.suite != 0 && o.suite != w.suite {
		return fmt.Errorf("%s negotiated %s, want %s", side, tlsflow.CipherSuiteName(o.suite), tlsflow.CipherSuiteName(w.suite))
	}
	if w.group != 0 && tlsflow.CurveID(o.curve) != w.group {
		return fmt.Errorf("%s negotiated group %v, want %v", side, tlsflow.CurveID(o.curve), w.group)
	}
	if got := didResume(conn); got != w.resumed {
		return fmt.Errorf("%s DidResume = %v, want %v", side, got, w.resumed)
	}
	if side == "server" && w.clientCert && (o.peerCerts == 0 || !o.verified) {
		return fmt.Errorf("server saw %d client certificates (verified %v), want a verified one", o.peerCerts, o.verified)
	}
	return nil
}

// handshakeBench is one BenchmarkHandshake case.
type handshakeBench struct {
	name string
	want benchWant
	// peers returns fresh configurations, so each run starts with empty
	// session caches and new ticket keys.
	peers func() benchPeers
	// bound lists the public-key operations one handshake of this case
	// performs, both sides, with the keys of p (bench_bound_test.go).
	bound func(tb testing.TB, p benchPeers) []pkOp
}

func handshakeBenches() []handshakeBench {
	c := sharedCerts()
	roots, name := c.ca.Pool, "localhost"
	ecdsaFlow, ecdsaGo := []tlsflow.Certificate{flowCert(c.ecdsa)}, []tls.Certificate{goCert(c.ecdsa)}
	rsaFlow, rsaGo := []tlsflow.Certificate{flowCert(c.rsa)}, []tls.Certificate{goCert(c.rsa)}

	var tls13With func(tlsflow.CurveID, bool, []tlsflow.Certificate, []tls.Certificate) func() benchPeers
	// tls13 pins TLS 1.3 and one key share group. tlsflow would pick
	// TLS_AES_256_GCM_SHA384 by its ranking and crypto/tls (on AES hardware)
	// TLS_AES_128_GCM_SHA256, which crypto/tls does not let us configure:
	// tlsflow is pinned to crypto/tls's choice so both hash with SHA-256.
	// Full handshakes issue no tickets (tickets=false): the case measures
	// the handshake, not the sealing of a ticket nobody will use.
	tls13 := func(group tlsflow.CurveID, tickets bool) func() benchPeers {
		return tls13With(group, tickets, ecdsaFlow, ecdsaGo)
	}
	tls13With = func(group tlsflow.CurveID, tickets bool, flowCerts []tlsflow.Certificate, goCerts []tls.Certificate) func() benchPeers {
		return func() benchPeers {
			flowSuites := []uint16{tlsflow.TLS_AES_128_GCM_SHA256}
			flowGroups := []tlsflow.CurveID{group}
			goGroups := []tls.CurveID{tls.CurveID(group)}
			p := benchPeers{
				flowServer: &tlsflow.Config{Certificates: flowCerts, MinVersion: tlsflow.VersionTLS13,
					CipherSuites: flowSuites, CurvePreferences: flowGroups, SessionTicketsDisabled: !tickets},
				flowClient: &tlsflow.Config{RootCAs: roots, ServerName: name, MinVersion: tlsflow.VersionTLS13,
					CipherSuites: flowSuites, CurvePreferences: flowGroups},
				goServer: &tls.Config{Certificates: goCerts, MinVersion: tls.VersionTLS13,
					CurvePreferences: goGroups, SessionTicketsDisabled: !tickets},
				goClient: &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS13,
					CurvePreferences: goGroups},
			}
			if tickets {
				p.flowClient.ClientSessionCache = tlsflow.NewLRUClientSessionCache(4)
				p.goClient.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			}
			return p
		}
	}
	// tls12 pins TLS 1.2 and one suite. The key exchange runs X25519 (the
	// groups are in preference order, the RSA key exchange uses none);
	// P-256 is offered too because it is the ECDSA certificate's curve, and
	// a TLS 1.2 client must list that curve for the server to use the
	// certificate (RFC 8422 §5.1; tlsflow enforces it, crypto/tls does not).
	tls12 := func(suite uint16, flowCerts []tlsflow.Certificate, goCerts []tls.Certificate, clientCert, tickets bool) func() benchPeers {
		return func() benchPeers {
			flowGroups := []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256}
			goGroups := []tls.CurveID{tls.X25519, tls.CurveP256}
			p := benchPeers{
				flowServer: &tlsflow.Config{Certificates: flowCerts, MaxVersion: tlsflow.VersionTLS12,
					CipherSuites: []uint16{suite}, CurvePreferences: flowGroups, SessionTicketsDisabled: !tickets},
				flowClient: &tlsflow.Config{RootCAs: roots, ServerName: name, MaxVersion: tlsflow.VersionTLS12,
					CipherSuites: []uint16{suite}, CurvePreferences: flowGroups},
				goServer: &tls.Config{Certificates: goCerts, MaxVersion: tls.VersionTLS12,
					CipherSuites: []uint16{suite}, CurvePreferences: goGroups, SessionTicketsDisabled: !tickets},
				goClient: &tls.Config{RootCAs: roots, ServerName: name, MaxVersion: tls.VersionTLS12,
					CipherSuites: []uint16{suite}, CurvePreferences: goGroups},
			}
			if clientCert {
				p.flowServer.ClientAuth, p.flowServer.ClientCAs = tlsflow.RequireAndVerifyClientCert, roots
				p.goServer.ClientAuth, p.goServer.ClientCAs = tls.RequireAndVerifyClientCert, roots
				p.flowClient.Certificates = []tlsflow.Certificate{flowCert(c.client)}
				p.goClient.Certificates = []tls.Certificate{goCert(c.client)}
			}
			if tickets {
				p.flowClient.ClientSessionCache = tlsflow.NewLRUClientSessionCache(4)
				p.goClient.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			}
			return p
		}
	}
	// The public-key operations of each case. The server certificates
	// (ECDSA P-256 and RSA-2048) and the client certificate (ECDSA P-256)
	// are all issued by the ECDSA P-256 test CA, and every chain is the leaf
	// then the CA: one ECDSA P-256 signature to check per chain.
	serverCert := func(p benchPeers) tlsflow.Certificate { return p.flowServer.Certificates[0] }
	clientCert := func(p benchPeers) tlsflow.Certificate { return p.flowClient.Certificates[0] }
	// TLS 1.3 full (RFC 8446 §2): the key exchange in key_share, the
	// server's CertificateVerify (§4.4.3) made and checked, and the client's
	// check of the server's chain.
	full13 := func(hybrid bool) func(testing.TB, benchPeers) []pkOp {
		return func(tb testing.TB, p benchPeers) []pkOp {
			ops := x25519Exchange(tb)
			if hybrid {
				ops = append(ops, mlkemExchange(tb)...)
			}
			ops = append(ops, signOps(tb, "server", "client", "CertificateVerify", serverCert(p).PrivateKey)...)
			return append(ops, chainOps(tb, "client", serverCert(p))...)
		}
	}
	// TLS 1.2 ECDHE (RFC 8422 §2): the X25519 exchange, the server's
	// signature over its ServerKeyExchange (§5.4) made and checked, the
	// client's check of the server's chain; with a client certificate also
	// the client's CertificateVerify (RFC 5246 §7.4.8) made and checked and
	// the server's check of the client's chain.
	ecdhe12 := func(withClientCert bool) func(testing.TB, benchPeers) []pkOp {
		return func(tb testing.TB, p benchPeers) []pkOp {
			ops := x25519Exchange(tb)
			ops = append(ops, signOps(tb, "server", "client", "ServerKeyExchange", serverCert(p).PrivateKey)...)
			ops = append(ops, chainOps(tb, "client", serverCert(p))...)
			if withClientCert {
				ops = append(ops, signOps(tb, "client", "server", "CertificateVerify", clientCert(p).PrivateKey)...)
				ops = append(ops, chainOps(tb, "server", clientCert(p))...)
			}
			return ops
		}
	}
	// TLS 1.2 RSA key exchange (RFC 5246 §7.4.7.1): no signature in the
	// handshake; the pre-master secret encrypted to the server's RSA key and
	// decrypted by the server, and the client's check of the server's chain.
	rsaKex12 := func(tb testing.TB, p benchPeers) []pkOp {
		return append(rsaKexOps(tb, serverCert(p).PrivateKey), chainOps(tb, "client", serverCert(p))...)
	}
	// TLS 1.3 resumption with psk_dhe_ke (RFC 8446 §4.2.9): a fresh X25519
	// exchange, but the PSK authenticates: no certificate, no signature.
	// Sealing and opening the ticket is symmetric.
	resumed13 := func(tb testing.TB, _ benchPeers) []pkOp { return x25519Exchange(tb) }
	// TLS 1.2 resumption by ticket (RFC 5077 §3.1): the abbreviated
	// handshake reuses the master secret. There is no public-key operation
	// at all, so the bound is zero and no share is reported.
	resumed12 := func(testing.TB, benchPeers) []pkOp { return nil }

	v13, v12 := uint16(tlsflow.VersionTLS13), uint16(tlsflow.VersionTLS12)
	aes128 := tlsflow.TLS_AES_128_GCM_SHA256
	return []handshakeBench{
		{"TLS13-X25519-ECDSA-P256", benchWant{version: v13, suite: aes128, group: tlsflow.X25519},
			tls13(tlsflow.X25519, false), full13(false)},
		{"TLS13-X25519MLKEM768-ECDSA-P256", benchWant{version: v13, suite: aes128, group: tlsflow.X25519MLKEM768},
			tls13(tlsflow.X25519MLKEM768, false), full13(true)},
		// RSA-2048 server: rsa_pss_rsae_sha256 CertificateVerify (RFC 8446 §4.2.3).
		{"TLS13-X25519-RSA2048-PSS", benchWant{version: v13, suite: aes128, group: tlsflow.X25519},
			tls13With(tlsflow.X25519, false, rsaFlow, rsaGo), full13(false)},
		{"TLS12-ECDHE-ECDSA-X25519", benchWant{version: v12, suite: tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, group: tlsflow.X25519},
			tls12(tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ecdsaFlow, ecdsaGo, false, false), ecdhe12(false)},
		{"TLS12-RSA-kex-RSA2048", benchWant{version: v12, suite: tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256},
			tls12(tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, rsaFlow, rsaGo, false, false), rsaKex12},
		{"TLS12-ECDHE-RSA2048", benchWant{version: v12, suite: tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, group: tlsflow.X25519},
			tls12(tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, rsaFlow, rsaGo, false, false), ecdhe12(false)},
		{"TLS12-ECDHE-RSA2048-client-cert", benchWant{version: v12, suite: tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, group: tlsflow.X25519, clientCert: true},
			tls12(tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, rsaFlow, rsaGo, true, false), ecdhe12(true)},
		// Resumed: psk_dhe_ke still runs X25519 (RFC 8446 §4.2.9); no certificates.
		{"TLS13-resumed-psk_dhe_ke-X25519", benchWant{version: v13, suite: aes128, group: tlsflow.X25519, resumed: true},
			tls13(tlsflow.X25519, true), resumed13},
		// Resumed by session ticket (RFC 5077): no key exchange, no certificates.
		{"TLS12-resumed-ticket", benchWant{version: v12, suite: tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, resumed: true},
			tls12(tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ecdsaFlow, ecdsaGo, false, true), resumed12},
	}
}

// BenchmarkHandshake: one op is a whole connection, client and server in
// this process, both measured: the handshake on both sides, then one byte
// of application data from the server to the client (which also delivers a
// TLS 1.3 NewSessionTicket, so a resuming client always has a fresh ticket).
//
// Run it on one core (-cpu 1): both sides then share one P, and cpu-ns/op
// is the cost of a handshake on one core. After the handshakes, still
// inside the same sub-benchmark, the case's public-key operations are timed
// on the same clock: bound-ns/op is their sum, the fastest a handshake could
// be, and bound-share is bound-ns/op ÷ cpu-ns/op, the share of that bound
// the stack reaches (1 would be a handshake that costs nothing else).
func BenchmarkHandshake(b *testing.B) {
	for _, bc := range handshakeBenches() {
		b.Run(bc.name, func(b *testing.B) {
			for _, stack := range benchStacks() {
				b.Run(stack, func(b *testing.B) { benchHandshake(b, bc, stack) })
			}
		})
	}
}

func benchHandshake(b *testing.B, bc handshakeBench, stack string) {
	peers := bc.peers()
	client, server := peers.endpoints(stack)
	ops := bc.bound(b, peers)
	if bc.want.resumed {
		// Warm the client's session cache once, outside the timer.
		cli, srv, err := pipeHandshake(client, server)
		if err != nil {
			b.Fatalf("%s: warming the session cache: %v", stack, err)
		}
		closePeers(cli, srv)
	}
	// The bound's passes are spread evenly among the handshakes, with the
	// timer stopped; their CPU time is taken out of cpu-ns/op.
	var bound boundTimer
	stride := max(b.N/boundReps(b.N), 1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		cli, srv, err := pipeHandshake(client, server)
		if err != nil {
			b.Fatalf("%s: connection %d of %d: %v", stack, i+1, b.N, err)
		}
		// The first connection shows the case is what it says; the last
		// one that resumption did not stop after the first.
		if i == 0 || i == b.N-1 {
			if err := bc.want.check(cli, srv, client.state, server.state); err != nil {
				b.Fatalf("%s: connection %d of %d: %v", stack, i+1, b.N, err)
			}
		}
		closePeers(cli, srv)
		if len(ops) > 0 && i%stride == stride-1 && bound.passes < boundReps(b.N) {
			b.StopTimer()
			if err := bound.pass(ops); err != nil {
				b.Fatalf("%s: timing the primitive bound: %v", stack, err)
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	cpuPerOp := cpu.report(b, bound.used)
	b.ReportMetric(fipsMetric(stack), "fips")
	b.ReportMetric(float64(bound.perPass().Nanoseconds()), "bound-ns/op")
	if bound.passes > 0 && cpuPerOp > 0 {
		b.ReportMetric(float64(bound.perPass().Nanoseconds())/cpuPerOp, "bound-share")
	}
}

// pipeStallTimeout ends a connection that stopped making progress. net.Pipe
// is synchronous: a Write returns only once the peer has read every byte, so
// two sides that both write before reading would wait for ever. Both stacks
// write a whole flight and then read. A crypto/tls TLS 1.3 server puts its
// NewSessionTicket after Finished in the same flight, so that case depends on
// the client's read buffer taking the ticket too. It does (no stall in 7000
// resumed handshakes); if one ever stalls, the benchmark fails instead of
// hanging.
const pipeStallTimeout = 10 * time.Second

// pipeHandshake connects client and server over net.Pipe (no syscalls, so
// less noise than loopback TCP), runs the server in a goroutine and the
// client here, and returns both connections once the client has read the
// server's first byte of application data.
func pipeHandshake(client, server endpoint) (cli, srv peerConn, err error) {
	cRaw, sRaw := net.Pipe()
	stall := time.AfterFunc(pipeStallTimeout, func() { cRaw.Close(); sRaw.Close() })

	srvDone := make(chan error, 1)
	srv = server.wrap(sRaw)
	go func() {
		err := srv.Handshake()
		if err == nil {
			_, err = srv.Write([]byte{0x17})
		}
		srvDone <- err
	}()
	cli = client.wrap(cRaw)
	cliErr := cli.Handshake()
	if cliErr == nil {
		var one [1]byte
		if _, cliErr = io.ReadFull(cli, one[:]); cliErr == nil && one[0] != 0x17 {
			cliErr = fmt.Errorf("client read %#x, want the server's 0x17", one[0])
		}
	}
	if cliErr != nil {
		cRaw.Close() // unblock a server still waiting for us
	}
	srvErr := <-srvDone
	stalled := !stall.Stop()
	switch {
	case stalled:
		err = fmt.Errorf("no progress for %v over net.Pipe (client: %v; server: %v)", pipeStallTimeout, cliErr, srvErr)
	case cliErr != nil || srvErr != nil:
		err = fmt.Errorf("client: %v; server: %v", cliErr, srvErr)
	}
	if err != nil {
		cRaw.Close()
		sRaw.Close()
		return nil, nil, err
	}
	return cli, srv, nil
}

// closePeers closes the pipes under both connections without close_notify:
// over a synchronous pipe that nobody reads, sending the alert would block.
func closePeers(cli, srv peerConn) {
	netConn(cli).Close()
	netConn(srv).Close()
}

func netConn(c peerConn) net.Conn {
	switch c := c.(type) {
	case *tlsflow.Conn:
		return c.NetConn()
	case *tls.Conn:
		return c.NetConn()
	}
	return c
}

// throughputBench is one BenchmarkThroughput case.
type throughputBench struct {
	name  string
	want  benchWant
	peers func() benchPeers
}

// throughputWrite is the size of each Write: one full record (2^14 bytes of
// plaintext, RFC 8446 §5.1).
const throughputWrite = 16384

func throughputBenches() []throughputBench {
	c := sharedCerts()
	roots, name := c.ca.Pool, "localhost"
	peers := func(flowSuites []uint16, goSuites []uint16, minVersion, maxVersion uint16) func() benchPeers {
		return func() benchPeers {
			return benchPeers{
				flowServer: &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MinVersion: minVersion,
					MaxVersion: maxVersion, CipherSuites: flowSuites, SessionTicketsDisabled: true},
				flowClient: &tlsflow.Config{RootCAs: roots, ServerName: name, MinVersion: minVersion,
					MaxVersion: maxVersion, CipherSuites: flowSuites},
				// DynamicRecordSizingDisabled: every 16 KiB write is one full
				// record from the first byte, as tlsflow writes it.
				goServer: &tls.Config{Certificates: []tls.Certificate{goCert(c.ecdsa)}, MinVersion: minVersion,
					MaxVersion: maxVersion, CipherSuites: goSuites, SessionTicketsDisabled: true, DynamicRecordSizingDisabled: true},
				goClient: &tls.Config{RootCAs: roots, ServerName: name, MinVersion: minVersion,
					MaxVersion: maxVersion, CipherSuites: goSuites, DynamicRecordSizingDisabled: true},
			}
		}
	}
	v12, v13 := uint16(tlsflow.VersionTLS12), uint16(tlsflow.VersionTLS13)
	return []throughputBench{
		{"TLS13-AES-128-GCM", benchWant{version: v13, suite: tlsflow.TLS_AES_128_GCM_SHA256},
			peers([]uint16{tlsflow.TLS_AES_128_GCM_SHA256}, nil, v13, v13)},
		// crypto/tls has no setting for TLS 1.3 suites, but its server
		// follows a client that prefers ChaCha20-Poly1305, and a client
		// that also offers TLS 1.2 lists Config.CipherSuites first: a TLS
		// 1.2 ChaCha20 suite at the head of the list makes the TLS 1.3
		// connection use TLS_CHACHA20_POLY1305_SHA256 (checked below).
		{"TLS13-ChaCha20-Poly1305", benchWant{version: v13, suite: tlsflow.TLS_CHACHA20_POLY1305_SHA256},
			peers([]uint16{tlsflow.TLS_CHACHA20_POLY1305_SHA256},
				[]uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, v12, v13)},
		{"TLS12-ECDHE-AES-128-GCM", benchWant{version: v12, suite: tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			peers([]uint16{tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
				[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, v12, v12)},
	}
}

// BenchmarkThroughput: one connection over loopback TCP (here the kernel's
// buffering is what a real peer sees), the client writing 16 KiB per op and
// the server reading it all; the clock stops when the server has read the
// last byte. plain-tcp is the same without TLS: the ceiling.
func BenchmarkThroughput(b *testing.B) {
	for _, tc := range throughputBenches() {
		b.Run(tc.name, func(b *testing.B) {
			for _, stack := range bulkStacks {
				b.Run(stack, func(b *testing.B) {
					client, server := tc.peers().endpoints(stack)
					benchThroughput(b, &client, &server, tc.want)
				})
			}
			b.Run("plain-tcp", func(b *testing.B) { benchThroughput(b, nil, nil, benchWant{}) })
			b.Run("aead-only", func(b *testing.B) { benchAEADOnly(b, tc.want.suite) })
		})
	}
}

// throughputDeadline bounds a whole throughput run, so a stuck reader fails
// the benchmark instead of hanging it.
const throughputDeadline = 2 * time.Minute

// benchThroughput measures client→server bulk data; nil endpoints mean plain TCP.
func benchThroughput(b *testing.B, client, server *endpoint, want benchWant) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		raw, _ := ln.Accept() // nil on error: the dial below fails too
		accepted <- raw
	}()
	cRaw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer cRaw.Close()
	sRaw := <-accepted
	if sRaw == nil {
		b.Fatal("accept failed")
	}
	defer sRaw.Close()
	deadline := time.Now().Add(throughputDeadline)
	cRaw.SetDeadline(deadline)
	sRaw.SetDeadline(deadline)

	var cli, srv net.Conn = cRaw, sRaw
	if client != nil {
		c, s := client.wrap(cRaw), server.wrap(sRaw)
		srvErr := make(chan error, 1)
		go func() { srvErr <- s.Handshake() }()
		cliErr := c.Handshake()
		if cliErr != nil {
			cRaw.Close()
		}
		if err := <-srvErr; cliErr != nil || err != nil {
			b.Fatalf("handshake: client: %v; server: %v", cliErr, err)
		}
		if err := want.check(c, s, client.state, server.state); err != nil {
			b.Fatal(err)
		}
		cli, srv = c, s
	}

	total := int64(b.N) * throughputWrite
	readDone := make(chan error, 1)
	buf := make([]byte, throughputWrite)
	go func() {
		var got int64
		for got < total {
			n, err := srv.Read(buf)
			got += int64(n)
			if err != nil && got < total {
				readDone <- fmt.Errorf("server read %d of %d bytes: %w", got, total, err)
				return
			}
		}
		readDone <- nil
	}()
	msg := make([]byte, throughputWrite)
	rand.Read(msg)

	b.SetBytes(throughputWrite)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		if _, err := cli.Write(msg); err != nil {
			b.Fatalf("write %d of %d: %v", i+1, b.N, err)
		}
	}
	if err := <-readDone; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu.report(b, 0)
	cli.Close()
	srv.Close()
}

// cpuTimer measures the CPU time, user and system, that the whole process
// spends: both sides' goroutines, the garbage collector and the kernel's
// work for them. On a shared machine it varies much less than wall time,
// which also counts the time spent waiting for a CPU. It is reported next
// to ns/op as cpu-ns/op.
type cpuTimer struct{ start time.Duration }

func startCPU() cpuTimer { return cpuTimer{processCPU()} }

// report reports cpu-ns/op and returns it, or 0 if the CPU time is unknown.
// excluded is CPU time spent on something else meanwhile (the bound's
// passes), taken out.
func (t cpuTimer) report(b *testing.B, excluded time.Duration) float64 {
	if t.start < 0 {
		return 0
	}
	used := processCPU() - t.start - excluded
	if used < 0 {
		return 0
	}
	perOp := float64(used.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	return perOp
}

// processCPU is the process's user plus system CPU time, or -1 if unknown.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBenchmarkPipeHandshakesComplete runs each handshake case a few times
// per stack under plain `go test`, so a case that errors, stalls over
// net.Pipe or negotiates something other than its name is caught without
// -bench.
func TestBenchmarkPipeHandshakesComplete(t *testing.T) {
	for _, bc := range handshakeBenches() {
		for _, stack := range benchStacks() {
			t.Run(bc.name+"/"+stack, func(t *testing.T) {
				client, server := bc.peers().endpoints(stack)
				for i := 0; i < 3; i++ {
					cli, srv, err := pipeHandshake(client, server)
					if err != nil {
						t.Fatalf("connection %d: %v", i+1, err)
					}
					want := bc.want
					want.resumed = bc.want.resumed && i > 0
					err = want.check(cli, srv, client.state, server.state)
					closePeers(cli, srv)
					if err != nil {
						t.Fatalf("connection %d: %v", i+1, err)
					}
				}
			})
		}
	}
}

// benchAEADOnly is the primitive bound of a bulk transfer: sealing and
// opening one full record (16 KiB of plaintext, the same nonce and
// additional data sizes as a record) with the suite's AEAD, in memory, as
// crypto/cipher and x/crypto do it. No TLS stack can move data faster than
// 1 / (1/plain-tcp + 1/aead-only): the copy through the kernel and the
// cryptography both have to happen, one after the other, for every byte.
func benchAEADOnly(b *testing.B, suite uint16) {
	aead, err := newBenchAEAD(suite)
	if err != nil {
		b.Fatal(err)
	}
	plaintext := make([]byte, throughputWrite)
	nonce := make([]byte, aead.NonceSize())
	ad := make([]byte, 13)
	sealed := make([]byte, 0, throughputWrite+aead.Overhead())
	opened := make([]byte, 0, throughputWrite)
	b.SetBytes(throughputWrite)
	b.ReportAllocs()
	for b.Loop() {
		sealed = aead.Seal(sealed[:0], nonce, plaintext, ad)
		if opened, err = aead.Open(opened[:0], nonce, sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func newBenchAEAD(suite uint16) (cipher.AEAD, error) {
	switch suite {
	case tlsflow.TLS_AES_128_GCM_SHA256, tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		block, err := aes.NewCipher(make([]byte, 16))
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(block)
	case tlsflow.TLS_CHACHA20_POLY1305_SHA256:
		return chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	}
	return nil, fmt.Errorf("no AEAD bound for suite %#04x", suite)
}
