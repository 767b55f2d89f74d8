package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

const benchHelp = `Usage: tlsflow bench [flags]

Measures tlsflow beside Go's crypto/tls in the same process and the same
run, with the same certificates and keys: full and resumed handshakes
(client and server together, over an in-memory pipe) and bulk throughput
over loopback TCP. It prints, for each case, both stacks' figures and the
ratio crypto/tls ÷ tlsflow (above 1: tlsflow is faster). This machine may
be busy: compare the ratios, not absolute numbers from different runs. The
go test benchmarks (bench_test.go) are the reference; see docs/PERFORMANCE.md.

Examples:
  tlsflow bench                 every case, 300 handshakes each
  tlsflow bench --n 50          a quick look

Flags:
`

// benchStack is one TLS implementation under measurement.
type benchStack struct {
	name string
	// pair returns a connected, not yet handshaken client and server.
	pair func(c benchCase, client, server net.Conn) (cli, srv interface {
		net.Conn
		Handshake() error
	})
}

type benchCase struct {
	name    string
	version uint16
	group   tlsflow.CurveID
	rsaKex  bool
	resume  bool
}

var benchCases = []benchCase{
	{name: "TLS 1.3 full, X25519, ECDSA P-256", version: tlsflow.VersionTLS13, group: tlsflow.X25519},
	{name: "TLS 1.3 full, X25519MLKEM768, ECDSA P-256", version: tlsflow.VersionTLS13, group: tlsflow.X25519MLKEM768},
	{name: "TLS 1.2 full, ECDHE-ECDSA X25519", version: tlsflow.VersionTLS12, group: tlsflow.X25519},
	{name: "TLS 1.2 full, RSA key exchange (RSA-2048)", version: tlsflow.VersionTLS12, rsaKex: true},
	{name: "TLS 1.3 resumed (psk_dhe_ke)", version: tlsflow.VersionTLS13, group: tlsflow.X25519, resume: true},
	{name: "TLS 1.2 resumed (ticket)", version: tlsflow.VersionTLS12, group: tlsflow.X25519, resume: true},
}

func runBench(args []string, out io.Writer) error {
	fs := newFlagSet("bench", benchHelp, out)
	n := fs.Int("n", 300, "handshakes per case and stack")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return usagef("--n must be at least 1")
	}
	fmt.Fprintln(out, "Making certificates …")
	env, err := newBenchEnv()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "handshake (%d each)\ttlsflow µs\tcrypto/tls µs\tratio\ttlsflow allocs\tcrypto/tls allocs\n", *n)
	for _, c := range benchCases {
		fmt.Fprintf(out, "  %s …\n", c.name)
		a, err := env.handshakes(c, env.flowStack(), *n)
		if err != nil {
			return fmt.Errorf("%s, tlsflow: %w", c.name, err)
		}
		b, err := env.handshakes(c, env.goStack(), *n)
		if err != nil {
			return fmt.Errorf("%s, crypto/tls: %w", c.name, err)
		}
		fmt.Fprintf(w, "%s\t%.0f\t%.0f\t%.2f\t%d\t%d\n", c.name, a.cpuMicros, b.cpuMicros, b.cpuMicros/a.cpuMicros, a.allocs, b.allocs)
	}
	w.Flush()
	fmt.Fprintln(out, "\n(µs: process CPU time per handshake, both sides; allocs: per handshake, both sides)")
	return nil
}

type benchEnv struct {
	ecdsa, rsa *pki.Leaf
	pool       *x509.CertPool
}

func newBenchEnv() (*benchEnv, error) {
	ca, err := pki.NewCA("tlsflow bench CA", pki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	e := &benchEnv{pool: ca.Pool}
	if e.ecdsa, err = ca.Server(pki.ECDSAP256, "localhost"); err != nil {
		return nil, err
	}
	if e.rsa, err = ca.Server(pki.RSA2048, "localhost"); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *benchEnv) leaf(c benchCase) *pki.Leaf {
	if c.rsaKex {
		return e.rsa
	}
	return e.ecdsa
}

// flowStack is tlsflow, with one client cache and one server config per
// case, so resumed cases resume.
func (e *benchEnv) flowStack() benchStack {
	configs := map[string][2]*tlsflow.Config{}
	return benchStack{name: "tlsflow", pair: func(c benchCase, client, server net.Conn) (cli, srv interface {
		net.Conn
		Handshake() error
	}) {
		cfg, ok := configs[c.name]
		if !ok {
			l := e.leaf(c)
			cc := &tlsflow.Config{RootCAs: e.pool, ServerName: "localhost", MinVersion: c.version, MaxVersion: c.version}
			sc := &tlsflow.Config{Certificates: []tlsflow.Certificate{{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}},
				MinVersion: c.version, MaxVersion: c.version, SessionTicketsDisabled: !c.resume}
			if c.rsaKex {
				cc.CipherSuites = []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}
				sc.CipherSuites = cc.CipherSuites
			} else {
				cc.CurvePreferences = []tlsflow.CurveID{c.group, tlsflow.CurveP256}
				sc.CurvePreferences = []tlsflow.CurveID{c.group}
				cc.CipherSuites = []uint16{tlsflow.TLS_AES_128_GCM_SHA256, tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
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
	return benchStack{name: "crypto/tls", pair: func(c benchCase, client, server net.Conn) (cli, srv interface {
		net.Conn
		Handshake() error
	}) {
		cfg, ok := configs[c.name]
		if !ok {
			l := e.leaf(c)
			cc := &tls.Config{RootCAs: e.pool, ServerName: "localhost", MinVersion: c.version, MaxVersion: c.version}
			sc := &tls.Config{Certificates: []tls.Certificate{{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}},
				MinVersion: c.version, MaxVersion: c.version, SessionTicketsDisabled: !c.resume}
			if c.rsaKex {
				cc.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
				sc.CipherSuites = cc.CipherSuites
			} else {
				cc.CurvePreferences = []tls.CurveID{tls.CurveID(c.group), tls.CurveP256}
				sc.CurvePreferences = []tls.CurveID{tls.CurveID(c.group)}
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
	cpuMicros float64
	allocs    uint64
}

// handshakes runs n handshakes (after one warm-up, which also fills the
// session caches of resumed cases) and returns the cost of one.
func (e *benchEnv) handshakes(c benchCase, s benchStack, n int) (benchResult, error) {
	if err := handshakeOnce(c, s, false); err != nil {
		return benchResult{}, err
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := processCPU()
	for i := 0; i < n; i++ {
		if err := handshakeOnce(c, s, c.resume); err != nil {
			return benchResult{}, err
		}
	}
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&after)
	return benchResult{
		cpuMicros: float64(cpu.Microseconds()) / float64(n),
		allocs:    (after.Mallocs - before.Mallocs) / uint64(n),
	}, nil
}

// handshakeOnce runs one handshake over an in-memory pipe and exchanges a
// byte, so a TLS 1.3 client has read its ticket.
func handshakeOnce(c benchCase, s benchStack, mustResume bool) error {
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
	if serr := <-errc; err == nil {
		err = serr
	}
	if err != nil && !strings.Contains(err.Error(), "closed pipe") {
		return err
	}
	if mustResume && !resumed(cli) {
		return errors.New("the handshake did not resume")
	}
	return nil
}

func resumed(c net.Conn) bool {
	switch c := c.(type) {
	case *tlsflow.Conn:
		return c.ConnectionState().DidResume
	case *tls.Conn:
		return c.ConnectionState().DidResume
	}
	return false
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
