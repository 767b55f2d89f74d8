package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/provider"
	"github.com/tlsflow/tlsflow/provider/openssl"
)

const benchHelp = `Usage: tlsflow bench [flags]

Measures handshakes of tlsflow beside Go's crypto/tls in the same process
and the same run, with the same certificates and keys, on one core
(GOMAXPROCS=1): client and server together, over an in-memory pipe. For
each case it prints both stacks' handshakes per second of CPU time and
their ratio tlsflow ÷ crypto/tls (above 1: tlsflow is faster), the
primitive bound (the public-key operations the handshake needs, timed in
the same run) and the share of that bound each stack reaches (bound ÷ CPU
time per handshake; 1 would mean the handshake costs nothing else). This
machine may be busy: compare the ratios, not absolute numbers from
different runs. The go test benchmarks (bench_test.go) are the reference;
see docs/PERFORMANCE.md.

tlsflow runs once per crypto provider (--provider): the standard
library's, and OpenSSL's when libcrypto loads; each gets its own columns,
and the header says which OpenSSL and whether it runs in FIPS mode. The
bound is that of the standard library's primitives.

Examples:
  tlsflow bench                     every case, 300 handshakes each
  tlsflow bench --n 50              a quick look
  tlsflow bench --provider openssl  tlsflow on OpenSSL only, beside crypto/tls
`

// benchStack is one TLS implementation under measurement.
type benchStack struct {
	name string
	// pair returns a connected, not yet handshaken client and server.
	pair func(c benchCase, client, server net.Conn) (cli, srv benchConn)
}

type benchConn interface {
	net.Conn
	Handshake() error
}

type benchCase struct {
	name       string
	version    uint16
	group      tlsflow.CurveID // zero: the RSA key exchange
	rsaCert    bool            // the server's certificate is RSA-2048 (else ECDSA P-256)
	suite      uint16          // TLS 1.2 only
	clientCert bool            // the client sends an ECDSA P-256 certificate
	resume     bool
}

var benchCases = []benchCase{
	{name: "TLS 1.3 full, X25519, ECDSA P-256", version: tlsflow.VersionTLS13, group: tlsflow.X25519},
	{name: "TLS 1.3 full, X25519MLKEM768, ECDSA P-256", version: tlsflow.VersionTLS13, group: tlsflow.X25519MLKEM768},
	{name: "TLS 1.2 full, ECDHE-ECDSA X25519", version: tlsflow.VersionTLS12, group: tlsflow.X25519,
		suite: tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	{name: "TLS 1.2 full, RSA key exchange (RSA-2048)", version: tlsflow.VersionTLS12, rsaCert: true,
		suite: tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256},
	{name: "TLS 1.2 full, ECDHE-RSA-2048 + client cert", version: tlsflow.VersionTLS12, group: tlsflow.X25519, rsaCert: true,
		suite: tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, clientCert: true},
	{name: "TLS 1.3 resumed (psk_dhe_ke)", version: tlsflow.VersionTLS13, group: tlsflow.X25519, resume: true},
	{name: "TLS 1.2 resumed (ticket)", version: tlsflow.VersionTLS12, group: tlsflow.X25519, resume: true,
		suite: tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
}

func runBench(args []string, out io.Writer) error {
	fs := newFlagSet("bench", benchHelp, out)
	n := fs.Int("n", 300, "handshakes per case and stack")
	which := fs.String("provider", "all", "crypto provider(s) tlsflow runs on: stdlib, openssl, or all (openssl only if libcrypto loads)")
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("bench takes no arguments (got %q); --n sets the handshakes per case", pos)
	}
	if *n < 1 {
		return usagef("--n must be at least 1")
	}
	providers, err := benchProviders(*which, out)
	if err != nil {
		return err
	}
	// One core: the handshakes per second are those of one core, and the
	// client and the server share it, as the bound's operations do.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	fmt.Fprintln(out, "Making certificates …")
	env, err := newBenchEnv()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	stacks := []benchStack{env.goStack()}
	fmt.Fprintf(w, "handshake (%d each)\tcrypto/tls /s\t", *n)
	for _, p := range providers {
		stacks = append(stacks, env.flowStack(p))
		fmt.Fprintf(w, "%s /s\tratio\t", p.Name())
	}
	fmt.Fprint(w, "bound µs\tcrypto/tls share\t")
	for _, p := range providers {
		fmt.Fprintf(w, "%s share\t", p.Name())
	}
	fmt.Fprint(w, "crypto/tls allocs\t")
	for _, p := range providers {
		fmt.Fprintf(w, "%s allocs\t", p.Name())
	}
	fmt.Fprintln(w)
	for _, c := range benchCases {
		fmt.Fprintf(out, "  %s …\n", c.name)
		res, bound, err := env.measure(c, stacks, *n)
		if err != nil {
			return fmt.Errorf("%s, %w", c.name, err)
		}
		gotls := res[0]
		fmt.Fprintf(w, "%s\t%.0f\t", c.name, gotls.rate())
		for _, r := range res[1:] {
			fmt.Fprintf(w, "%.0f\t%.2f\t", r.rate(), r.rate()/gotls.rate())
		}
		fmt.Fprintf(w, "%s\t", micros(bound))
		for _, r := range res {
			fmt.Fprintf(w, "%s\t", share(bound, r.cpu))
		}
		for _, r := range res {
			fmt.Fprintf(w, "%d\t", r.allocs)
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	fmt.Fprintln(out, "\n/s: handshakes per second of process CPU time, both sides, one core (GOMAXPROCS=1); ratio: tlsflow on that provider ÷ crypto/tls.")
	fmt.Fprintln(out, "bound: the standard library's public-key operations one handshake needs, both sides, timed alone; share: bound ÷ CPU per handshake.")
	fmt.Fprintln(out, "allocs: per handshake, both sides. TLS 1.2 ticket resumption has no public-key operation: no bound.")
	return nil
}

// benchProviders resolves --provider and prints what each one is.
func benchProviders(which string, out io.Writer) ([]provider.Provider, error) {
	var names []string
	switch which {
	case "all":
		names = []string{"stdlib", openssl.Name}
	case "stdlib", openssl.Name:
		names = []string{which}
	default:
		return nil, usagef("--provider is stdlib, openssl or all, not %q", which)
	}
	var ps []provider.Provider
	for _, name := range names {
		p, err := provider.Open(name)
		if err != nil {
			if which == "all" && name == openssl.Name {
				fmt.Fprintf(out, "Provider openssl left out: %v\n", err)
				continue
			}
			return nil, err
		}
		desc := "Go " + runtime.Version()
		if v, ok := p.(interface{ Version() string }); ok {
			desc = v.Version()
		}
		fmt.Fprintf(out, "Provider %s: %s, FIPS mode %v\n", p.Name(), desc, p.FIPS())
		ps = append(ps, p)
	}
	return ps, nil
}

func micros(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond))
}

func share(bound, cpu time.Duration) string {
	if bound <= 0 || cpu <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(bound)/float64(cpu))
}

type benchEnv struct {
	ca              *pki.Authority
	ecdsa, rsa, cli *pki.Leaf
	pool            *x509.CertPool
}

func newBenchEnv() (*benchEnv, error) {
	ca, err := pki.NewCA("tlsflow bench CA", pki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	e := &benchEnv{ca: ca, pool: ca.Pool}
	if e.ecdsa, err = ca.Server(pki.ECDSAP256, "localhost"); err != nil {
		return nil, err
	}
	if e.rsa, err = ca.Server(pki.RSA2048, "localhost"); err != nil {
		return nil, err
	}
	if e.cli, err = ca.Client(pki.ECDSAP256, "bench client"); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *benchEnv) leaf(c benchCase) *pki.Leaf {
	if c.rsaCert {
		return e.rsa
	}
	return e.ecdsa
}

// flowStack is tlsflow on provider p, with one client and one server config
// per case, so resumed cases resume. TLS 1.3 is pinned to
// TLS_AES_128_GCM_SHA256, what crypto/tls picks on AES hardware and cannot
// be configured away from.
func (e *benchEnv) flowStack(p provider.Provider) benchStack {
	configs := map[string][2]*tlsflow.Config{}
	return benchStack{name: "tlsflow on " + p.Name(), pair: func(c benchCase, client, server net.Conn) (cli, srv benchConn) {
		cfg, ok := configs[c.name]
		if !ok {
			l := e.leaf(c)
			cc := &tlsflow.Config{Provider: p, RootCAs: e.pool, ServerName: "localhost", MinVersion: c.version, MaxVersion: c.version}
			sc := &tlsflow.Config{Provider: p, Certificates: []tlsflow.Certificate{{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}},
				MinVersion: c.version, MaxVersion: c.version, SessionTicketsDisabled: !c.resume}
			if c.version == tlsflow.VersionTLS13 {
				cc.CipherSuites = []uint16{tlsflow.TLS_AES_128_GCM_SHA256}
			} else {
				cc.CipherSuites = []uint16{c.suite}
			}
			sc.CipherSuites = cc.CipherSuites
			if c.group != 0 {
				// P-256 too: in TLS 1.2 the client must list the ECDSA
				// certificate's curve (RFC 8422 §5.1).
				cc.CurvePreferences = []tlsflow.CurveID{c.group, tlsflow.CurveP256}
				sc.CurvePreferences = []tlsflow.CurveID{c.group}
			}
			if c.clientCert {
				cc.Certificates = []tlsflow.Certificate{{Certificate: e.cli.Chain, PrivateKey: e.cli.Key, Leaf: e.cli.Cert}}
				sc.ClientAuth, sc.ClientCAs = tlsflow.RequireAndVerifyClientCert, e.pool
			}
			if c.resume {
				cc.ClientSessionCache = tlsflow.NewLRUClientSessionCache(1)
			} else {
				cc.SessionTicketsDisabled = true
			}
			cfg = [2]*tlsflow.Config{cc, sc}
			configs[c.name] = cfg
		}
		return tlsflow.Client(client, cfg[0]), tlsflow.Server(server, cfg[1])
	}}
}

// goStack is crypto/tls with the same choices.
func (e *benchEnv) goStack() benchStack {
	configs := map[string][2]*tls.Config{}
	return benchStack{name: "crypto/tls", pair: func(c benchCase, client, server net.Conn) (cli, srv benchConn) {
		cfg, ok := configs[c.name]
		if !ok {
			l := e.leaf(c)
			cc := &tls.Config{RootCAs: e.pool, ServerName: "localhost", MinVersion: c.version, MaxVersion: c.version}
			sc := &tls.Config{Certificates: []tls.Certificate{{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}},
				MinVersion: c.version, MaxVersion: c.version, SessionTicketsDisabled: !c.resume}
			if c.version == tls.VersionTLS12 {
				cc.CipherSuites = []uint16{c.suite}
				sc.CipherSuites = cc.CipherSuites
			}
			if c.group != 0 {
				cc.CurvePreferences = []tls.CurveID{tls.CurveID(c.group), tls.CurveP256}
				sc.CurvePreferences = []tls.CurveID{tls.CurveID(c.group)}
			}
			if c.clientCert {
				cc.Certificates = []tls.Certificate{{Certificate: e.cli.Chain, PrivateKey: e.cli.Key, Leaf: e.cli.Cert}}
				sc.ClientAuth, sc.ClientCAs = tls.RequireAndVerifyClientCert, e.pool
			}
			if c.resume {
				cc.ClientSessionCache = tls.NewLRUClientSessionCache(1)
			} else {
				cc.SessionTicketsDisabled = true
			}
			cfg = [2]*tls.Config{cc, sc}
			configs[c.name] = cfg
		}
		return tls.Client(client, cfg[0]), tls.Server(server, cfg[1])
	}}
}

type benchResult struct {
	cpu    time.Duration // process CPU time per handshake
	allocs uint64        // per handshake
}

// rate is handshakes per second of CPU time.
func (r benchResult) rate() float64 { return float64(time.Second) / float64(max(r.cpu, 1)) }

// benchRounds: the n handshakes of each stack and the bound's passes are
// run in this many interleaved rounds, so all three see the same machine.
const benchRounds = 10

// measure runs n handshakes of c on each stack (after one warm-up each,
// which also fills the session caches of resumed cases) and times the
// case's primitive bound, interleaved in rounds. The warm-ups and the last
// handshake of each stack are checked to have negotiated what the case says.
func (e *benchEnv) measure(c benchCase, stacks []benchStack, n int) (res []benchResult, bound time.Duration, err error) {
	ops, err := e.boundOps(c)
	if err != nil {
		return nil, 0, fmt.Errorf("primitive bound: %w", err)
	}
	for _, s := range stacks {
		if err := handshakeOnce(c, s, true, false); err != nil {
			return nil, 0, fmt.Errorf("%s: warm-up: %w", s.name, err)
		}
	}
	rounds := min(n, benchRounds)
	passes := max(min(n, 100)/rounds, 1)
	var boundCPU time.Duration
	cpus := make([]time.Duration, len(stacks))
	allocs := make([]uint64, len(stacks))
	done := 0
	for r := range rounds {
		k := n / rounds
		if r == rounds-1 {
			k = n - done
		}
		for i, s := range stacks {
			cpu, a, err := handshakes(c, s, k, r == rounds-1)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: %w", s.name, err)
			}
			cpus[i], allocs[i] = cpus[i]+cpu, allocs[i]+a
		}
		if len(ops) > 0 {
			used, err := timeBound(ops, passes)
			if err != nil {
				return nil, 0, fmt.Errorf("primitive bound: %w", err)
			}
			boundCPU += used
		}
		done += k
	}
	for i := range stacks {
		res = append(res, benchResult{cpus[i] / time.Duration(n), allocs[i] / uint64(n)})
	}
	return res, boundCPU / time.Duration(rounds), nil
}

// handshakes runs k handshakes of c on s and returns the process CPU time
// and allocations they took. With checkLast, the last one is checked.
func handshakes(c benchCase, s benchStack, k int, checkLast bool) (time.Duration, uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := processCPU()
	for i := 0; i < k; i++ {
		if err := handshakeOnce(c, s, checkLast && i == k-1, c.resume); err != nil {
			return 0, 0, fmt.Errorf("handshake %d of %d: %w", i+1, k, err)
		}
	}
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&after)
	return cpu, after.Mallocs - before.Mallocs, nil
}

// handshakeOnce runs one handshake over an in-memory pipe and exchanges a
// byte, so a TLS 1.3 client has read its ticket. With check, it also
// compares what both sides negotiated with the case, and that they resumed
// exactly when wantResume says.
func handshakeOnce(c benchCase, s benchStack, check, wantResume bool) error {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	deadline := time.Now().Add(10 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	cli, srv := s.pair(c, a, b)
	errc := make(chan error, 1)
	go func() {
		err := srv.Handshake()
		if err == nil {
			_, err = srv.Write([]byte{1})
		}
		errc <- err
	}()
	err := cli.Handshake()
	if err == nil {
		_, err = io.ReadFull(cli, make([]byte, 1))
	}
	if err != nil {
		a.Close() // unblock a server still waiting for us
	}
	if serr := <-errc; err != nil || serr != nil {
		return fmt.Errorf("client: %v; server: %v", err, serr)
	}
	if !check {
		return nil
	}
	for _, side := range []struct {
		name string
		conn benchConn
	}{{"client", cli}, {"server", srv}} {
		st := state(side.conn)
		if st.Version != c.version {
			return fmt.Errorf("%s negotiated %s, want %s", side.name, tlsflow.VersionName(st.Version), tlsflow.VersionName(c.version))
		}
		if st.DidResume != wantResume {
			return fmt.Errorf("%s DidResume = %v, want %v", side.name, st.DidResume, wantResume)
		}
		if c.group != 0 && !(c.version == tlsflow.VersionTLS12 && wantResume) && st.CurveID != c.group {
			return fmt.Errorf("%s negotiated group %v, want %v", side.name, st.CurveID, c.group)
		}
		if c.version == tlsflow.VersionTLS12 && st.CipherSuite != c.suite {
			return fmt.Errorf("%s negotiated %s, want %s", side.name, tlsflow.CipherSuiteName(st.CipherSuite), tlsflow.CipherSuiteName(c.suite))
		}
	}
	if c.clientCert && len(state(srv).VerifiedChains) == 0 {
		return errors.New("the server did not verify a client certificate")
	}
	return nil
}

// benchState is what the checks need from either stack's ConnectionState.
type benchState struct {
	Version, CipherSuite uint16
	CurveID              tlsflow.CurveID
	DidResume            bool
	VerifiedChains       [][]*x509.Certificate
}

func state(c net.Conn) benchState {
	switch c := c.(type) {
	case *tlsflow.Conn:
		s := c.ConnectionState()
		return benchState{s.Version, s.CipherSuite, s.CurveID, s.DidResume, s.VerifiedChains}
	case *tls.Conn:
		s := c.ConnectionState()
		return benchState{s.Version, s.CipherSuite, tlsflow.CurveID(s.CurveID), s.DidResume, s.VerifiedChains}
	}
	return benchState{}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
