package probe

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/pki"
)

// serveTLS runs a tlsflow server on loopback; upgrade, if set, speaks a
// plaintext protocol first (STARTTLS). Each connection completes the
// handshake and reads until the client hangs up, so TLS 1.3 tickets go out.
func serveTLS(t *testing.T, cfg *tlsflow.Config, upgrade func(net.Conn) error) string {
	t.Helper()
	return serveRaw(t, func(c net.Conn) {
		if upgrade != nil {
			if err := upgrade(c); err != nil {
				return
			}
		}
		tc := tlsflow.Server(c, cfg)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if tc.Handshake() != nil {
			return
		}
		buf := make([]byte, 512)
		for {
			if _, err := tc.Read(buf); err != nil {
				return
			}
		}
	})
}

// serveRaw runs handle for each connection to a loopback listener, closing
// the connection when handle returns; everything stops with the test.
func serveRaw(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func localhostAddr(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort("localhost", port)
}

func testServerConfig(t *testing.T, kt pki.KeyType) (*tlsflow.Config, *pki.Authority) {
	t.Helper()
	ca := pki.MustNewCA("probe test CA", kt)
	leaf := ca.MustIssue(pki.LeafOptions{KeyType: kt, DNSNames: []string{"localhost"}, NotAfter: time.Now().Add(90 * 24 * time.Hour)})
	return &tlsflow.Config{
		Certificates: []tlsflow.Certificate{{Certificate: leaf.Chain, PrivateKey: leaf.Key}},
		NextProtos:   []string{"h2", "http/1.1"},
	}, ca
}

func runProbe(t *testing.T, opt Options) *Report {
	t.Helper()
	if opt.Timeout == 0 {
		opt.Timeout = 3 * time.Second
	}
	r, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func suiteNames(so SuiteOrder) []string {
	var names []string
	for _, s := range so.Suites {
		names = append(names, s.Name)
	}
	return names
}

// TestProbeTlsflowServer probes a tlsflow server in-process and checks each
// finding against what the server is known to do.
func TestProbeTlsflowServer(t *testing.T) {
	cfg, ca := testServerConfig(t, pki.ECDSAP256)
	addr := localhostAddr(serveTLS(t, cfg, nil))
	r := runProbe(t, Options{Addr: addr, RootCAs: ca.Pool})

	if !slices.Equal(r.AcceptedVersions, []string{"TLS 1.2", "TLS 1.3"}) {
		t.Errorf("accepted versions %v, want TLS 1.2 and TLS 1.3 (tlsflow implements no other)", r.AcceptedVersions)
	}
	// tlsflow's defaults with an ECDSA certificate, ranked as internal/suites
	// says: in TLS 1.2 the ECDHE_ECDSA AEAD suites, by the server's order.
	var want12, want13 []string
	for _, s := range tlsflow.CipherSuites() {
		switch {
		case slices.Contains(s.SupportedVersions, tlsflow.VersionTLS13):
			want13 = append(want13, s.Name)
		case strings.Contains(s.Name, "ECDHE_ECDSA"):
			want12 = append(want12, s.Name)
		}
	}
	for _, so := range r.CipherSuites {
		got := suiteNames(so)
		want := map[string][]string{"TLS 1.2": want12, "TLS 1.3": want13}[so.Version]
		if !sameSet(got, want) {
			t.Errorf("%s suites %v, want %v", so.Version, got, want)
		}
		if so.Version == "TLS 1.2" && so.ServerOrder != "server" {
			t.Errorf("TLS 1.2 order %q, want server (tlsflow ranks the suites itself)", so.ServerOrder)
		}
	}
	var want13Groups []string
	for _, id := range suites.DefaultGroups() {
		want13Groups = append(want13Groups, groupName(id))
	}
	for _, g := range r.Groups {
		if g.Version == "TLS 1.3" && !sameSet(g.Accepted, want13Groups) {
			t.Errorf("TLS 1.3 groups %v, want tlsflow's defaults: %v", g.Accepted, want13Groups)
		}
		// In TLS 1.2 supported_groups also names the curves the client can
		// verify ECDSA with (RFC 8422 §5.1.1): offered alone, another group
		// leaves the P-256 certificate unusable.
		if g.Version == "TLS 1.2" && !sameSet(g.Accepted, []string{"secp256r1"}) {
			t.Errorf("TLS 1.2 groups %v, want secp256r1 alone (the certificate's curve)", g.Accepted)
		}
	}
	if r.HelloRetryGroup != "X25519MLKEM768" {
		t.Errorf("HelloRetryRequest asks for %q, want X25519MLKEM768 (tlsflow's first)", r.HelloRetryGroup)
	}
	for name, b := range map[string]*bool{
		"extended master secret": r.ExtendedMasterSecret, "secure renegotiation": r.SecureRenegotiation,
		"fallback SCSV": r.FallbackSCSV, "downgrade sentinel": r.DowngradeSentinel,
		"session ID resumption": r.Resumption.SessionID, "ticket resumption": r.Resumption.Ticket,
		"TLS 1.3 resumption": r.Resumption.PSK13,
	} {
		if b == nil || !*b {
			t.Errorf("%s: %v, want true", name, b)
		}
	}
	if r.ALPN != "h2" {
		t.Errorf("ALPN %q, want h2", r.ALPN)
	}
	c := r.Certificate
	if c == nil || !c.Trusted || !c.NameMatches || !c.Ordered || c.Expired || len(c.Chain) != 2 {
		t.Errorf("certificate %+v, want a trusted, ordered chain of two naming localhost", c)
	}
	if got := r.SignatureSchemes["TLS 1.3"]; !slices.Equal(got, []string{"ecdsa_secp256r1_sha256"}) {
		t.Errorf("TLS 1.3 signature schemes %v, want ecdsa_secp256r1_sha256 (the P-256 key's only one)", got)
	}
	if Worst(r.Findings) == Bad {
		t.Errorf("a finding is rated bad: %+v", r.Findings)
	}
	t.Logf("%d handshakes", r.Handshakes)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestProbeBudget: a probe never opens more connections than it may, and
// says what it could not find out.
func TestProbeBudget(t *testing.T) {
	cfg, ca := testServerConfig(t, pki.ECDSAP256)
	addr := localhostAddr(serveTLS(t, cfg, nil))
	r := runProbe(t, Options{Addr: addr, RootCAs: ca.Pool, MaxHandshakes: 9})
	if r.Handshakes != 9 {
		t.Errorf("%d handshakes, want the budget of 9", r.Handshakes)
	}
	if len(r.Incomplete) == 0 || !strings.Contains(r.Incomplete[0].Why, "budget") {
		t.Errorf("incomplete %v, want the budget named", r.Incomplete)
	}
}

// TestProbeSilentServer: a server that accepts and never answers costs each
// probe its timeout, and the probe stops after the versions: nothing
// answered.
func TestProbeSilentServer(t *testing.T) {
	stopped := make(chan struct{})
	addr := serveRaw(t, func(c net.Conn) { <-stopped })
	t.Cleanup(func() { close(stopped) }) // runs before serveRaw's, which waits for the handlers
	start := time.Now()
	r := runProbe(t, Options{Addr: addr, Timeout: 200 * time.Millisecond})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v for 5 hellos of 200ms each", took)
	}
	if r.Reachable || r.Handshakes != len(probedVersions) || !strings.Contains(r.Unreachable, "timeout") {
		t.Errorf("reachable %v after %d hellos (%q), want unreachable after %d, by timeout", r.Reachable, r.Handshakes, r.Unreachable, len(probedVersions))
	}
	if Worst(r.Findings) != Bad {
		t.Errorf("findings %+v, want the one bad finding: no answer", r.Findings)
	}
}

// TestProbeGarbage: bytes that are not TLS, or records that never make a
// ServerHello, end each hello at once, without reading on.
func TestProbeGarbage(t *testing.T) {
	for name, send := range map[string]func(w *bufio.Writer){
		"plaintext": func(w *bufio.Writer) { w.WriteString("HTTP/1.1 400 Bad Request\r\n\r\n") },
		// One byte per handshake record, forever: a ServerHello that never completes.
		"drip": func(w *bufio.Writer) {
			for {
				if _, err := w.Write([]byte{22, 3, 3, 0, 1, 2}); err != nil || w.Flush() != nil {
					return
				}
			}
		},
		"change_cipher_spec": func(w *bufio.Writer) { w.Write([]byte{20, 3, 3, 0, 1, 1}) },
	} {
		t.Run(name, func(t *testing.T) {
			addr := serveRaw(t, func(c net.Conn) {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				w := bufio.NewWriter(c)
				send(w)
				w.Flush()
			})
			start := time.Now()
			r := runProbe(t, Options{Addr: addr, Timeout: 2 * time.Second})
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v: garbage must end a hello at once, not at the timeout", took)
			}
			if r.Reachable {
				t.Errorf("reachable, want no TLS answer")
			}
			t.Logf("unreachable: %s", r.Unreachable)
		})
	}
}

// TestProbeEnormousCertificate: a server whose Certificate declares 16 MiB
// is cut off by the limits policy as the header arrives, by the probe
// hellos and by the tlsflow client alike.
func TestProbeEnormousCertificate(t *testing.T) {
	var mu sync.Mutex
	var completed int
	addr := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := readClientHello(c); err != nil {
			return
		}
		sh := serverHello12(t)
		const declared = 1<<24 - 1
		msg := append(sh, 11, declared>>16, declared>>8&0xff, declared&0xff)
		if writeRecords(c, msg) != nil {
			return
		}
		zeros := make([]byte, 16000)
		for sent := 0; sent < declared; sent += len(zeros) {
			if writeRecords(c, zeros) != nil {
				return
			}
		}
		mu.Lock()
		completed++
		mu.Unlock()
	})
	r := runProbe(t, Options{Addr: addr, Timeout: 3 * time.Second, MaxHandshakes: 40})
	mu.Lock()
	defer mu.Unlock()
	if completed > 0 {
		t.Errorf("%d connections read the whole 16 MiB Certificate", completed)
	}
	if r.Certificate != nil {
		t.Errorf("certificate %+v from a Certificate above the limit", r.Certificate)
	}
	t.Logf("incomplete: %v", r.Incomplete)
}

// TestProbeStartTLS probes through each plaintext upgrade.
func TestProbeStartTLS(t *testing.T) {
	cfg, ca := testServerConfig(t, pki.ECDSAP256)
	dialogs := map[string][]string{
		// server line, then (after each client line) the next
		"smtp": {"220 mail ESMTP", "250-mail\r\n250 STARTTLS", "220 go ahead"},
		"ftp":  {"220 ftp", "234 AUTH TLS ok"},
		"imap": {"* OK IMAP ready", "* CAPABILITY IMAP4rev1\r\na1 OK begin TLS"},
		"pop3": {"+OK POP3 ready", "+OK begin TLS"},
	}
	for proto, lines := range dialogs {
		t.Run(proto, func(t *testing.T) {
			addr := localhostAddr(serveTLS(t, cfg, func(c net.Conn) error {
				r := bufio.NewReader(c)
				for i, l := range lines {
					if i > 0 {
						if _, err := r.ReadString('\n'); err != nil {
							return err
						}
					}
					if _, err := c.Write([]byte(l + "\r\n")); err != nil {
						return err
					}
				}
				return nil
			}))
			r := runProbe(t, Options{Addr: addr, RootCAs: ca.Pool, StartTLS: proto, MaxHandshakes: 12})
			if !r.Reachable || !slices.Contains(r.AcceptedVersions, "TLS 1.3") {
				t.Errorf("after %s STARTTLS: reachable %v, versions %v (%s)", proto, r.Reachable, r.AcceptedVersions, r.Unreachable)
			}
		})
	}
}
