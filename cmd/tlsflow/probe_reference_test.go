package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/probe"
	"github.com/tlsflow/tlsflow/pki"
)

// The reference for tlsflow probe is testssl.sh: both probe the same
// servers, configured to differ in versions, suites, groups and
// certificate problems, and the findings must agree (and on the extended
// master secret and renegotiation_info, from testssl.sh's TLS_extensions). testssl.sh runs with
// --fast (which skips the anonymous suites: the servers here offer none)
// and only the checks compared (-p protocols, -e each cipher, -f forward
// secrecy with the curves, -S the certificate), all three at once, so the
// test takes about three minutes, more under load.

// referenceServer is one server both tools probe.
type referenceServer struct {
	name  string
	start func(t *testing.T, dir string, port int) // starts the server, stopped with the test
}

func TestProbeAgreesWithTestssl(t *testing.T) {
	testssl := requirePeer(t, "testssl")
	openssl := requirePeer(t, "openssl")
	gnutls := requirePeer(t, "gnutls-serv")

	servers := []referenceServer{
		{"openssl-legacy", func(t *testing.T, dir string, port int) {
			// TLS 1.0 to 1.3, CBC and RSA key exchange (SECLEVEL=0 lets
			// Debian's OpenSSL 3 use them), two groups, a self-signed
			// certificate that expires in 20 days.
			cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			run(t, openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
				"-days", "20", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost")
			startProcess(t, port, openssl, "s_server", "-accept", strconv.Itoa(port), "-cert", cert, "-key", key, "-www",
				"-cipher", "ALL:!aNULL:!eNULL:@SECLEVEL=0", "-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
				"-groups", "X25519:P-384")
		}},
		{"gnutls-tls12", func(t *testing.T, dir string, port int) {
			// TLS 1.2 only, AES-GCM and CBC with ECDHE and RSA key
			// exchange; the certificate names another host, and its
			// intermediate is missing.
			root := pki.MustNewCA("probe reference root", pki.RSA2048)
			inter := root.MustNewIntermediate("probe reference intermediate", pki.RSA2048)
			leaf := inter.MustIssue(pki.LeafOptions{KeyType: pki.RSA2048, DNSNames: []string{"wrong.example"}, NotAfter: time.Now().Add(200 * 24 * time.Hour)})
			cert, key := writeFile(t, dir, "leaf.pem", leaf.CertPEM()), writeFile(t, dir, "leaf.key", leaf.KeyPEM())
			startProcess(t, port, gnutls, "-p", strconv.Itoa(port), "--x509certfile", cert, "--x509keyfile", key,
				"--priority", "NONE:+VERS-TLS1.2:+ECDHE-RSA:+RSA:+AES-128-GCM:+AES-256-GCM:+AES-128-CBC:+AEAD:+SHA1:+SHA256:+COMP-NULL:+SIGN-ALL:+GROUP-SECP256R1:+GROUP-X25519:+CTYPE-X509")
		}},
		{"tlsflow-rsa-kex", func(t *testing.T, dir string, port int) {
			// tlsflow with the RSA key exchange on, TLS 1.2 and 1.3; an
			// expired certificate, sent out of order (root before the
			// intermediate).
			root := pki.MustNewCA("probe reference root", pki.RSA2048)
			inter := root.MustNewIntermediate("probe reference intermediate", pki.RSA2048)
			leaf := inter.MustIssue(pki.LeafOptions{KeyType: pki.RSA2048, DNSNames: []string{"localhost"},
				NotBefore: time.Now().Add(-100 * 24 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
			chain := [][]byte{leaf.Chain[0], root.DER, leaf.Chain[1]}
			cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{{Certificate: chain, PrivateKey: leaf.Key}},
				CipherSuites: []uint16{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256,
					tlsflow.TLS_RSA_WITH_AES_256_GCM_SHA384, tlsflow.TLS_AES_128_GCM_SHA256, tlsflow.TLS_AES_256_GCM_SHA384}}
			serveInProcess(t, port, cfg)
		}},
	}

	start := time.Now()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			port := freePort(t)
			s.start(t, dir, port)
			addr := net.JoinHostPort("localhost", strconv.Itoa(port))

			ours := probeJSON(t, addr)
			theirs := runTestssl(t, testssl, openssl, dir, addr)
			compareWithTestssl(t, ours, theirs)
		})
	}
	t.Cleanup(func() { t.Logf("three servers probed by both tools in %v", time.Since(start).Round(time.Second)) })
}

// probeJSON runs tlsflow probe --json, as a user would.
func probeJSON(t *testing.T, addr string) *probe.Report {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runProbe(context.Background(), []string{"--json", "--pace", "0", "--timeout", "5s", addr}, &out, &errOut)
	if err != nil && err != probeExitBad {
		t.Fatalf("tlsflow probe %s: %v\n%s", addr, err, errOut.String())
	}
	var r probe.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("tlsflow probe --json: %v\n%s", err, out.String())
	}
	return &r
}

// testsslFinding is one entry of testssl.sh's --jsonfile.
type testsslFinding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Finding  string `json:"finding"`
}

func runTestssl(t *testing.T, testssl, openssl, dir, addr string) map[string]testsslFinding {
	t.Helper()
	jsonFile := filepath.Join(dir, "testssl.json")
	// About a minute alone; two or three times that while the other
	// packages' tests share the two cores (go test ./... in CI), all three
	// servers being probed at once.
	const most = 6 * time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), most)
	defer cancel()
	args := []string{"--openssl", openssl, "--quiet", "--warnings", "off", "--color", "0", "--nodns", "min",
		"--fast", "-p", "-e", "-f", "-S", "--jsonfile", jsonFile, addr}
	cmd := exec.CommandContext(ctx, testssl, args...)
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("testssl %s did not finish within %v\n%s", strings.Join(args, " "), most, out)
	}
	t.Logf("testssl took %v", time.Since(began).Round(time.Second))
	data, rerr := os.ReadFile(jsonFile)
	if rerr != nil {
		t.Fatalf("testssl %s: %v (%v)\n%s", strings.Join(args, " "), err, rerr, out)
	}
	var list []testsslFinding
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatalf("testssl --jsonfile: %v", err)
	}
	m := map[string]testsslFinding{}
	for _, f := range list {
		m[f.ID] = f
	}
	return m
}

// compareWithTestssl checks that both tools saw the same versions, suites,
// groups and certificate problems.
func compareWithTestssl(t *testing.T, ours *probe.Report, theirs map[string]testsslFinding) {
	t.Helper()
	// Versions: testssl.sh's ids, "offered" or "not offered".
	for id, name := range map[string]string{"SSLv3": "SSL 3.0", "TLS1": "TLS 1.0", "TLS1_1": "TLS 1.1", "TLS1_2": "TLS 1.2", "TLS1_3": "TLS 1.3"} {
		f, ok := theirs[id]
		if !ok {
			t.Errorf("testssl.sh has no %s finding", id)
			continue
		}
		theyAccept := strings.HasPrefix(f.Finding, "offered")
		if weAccept := slices.Contains(ours.AcceptedVersions, name); weAccept != theyAccept {
			t.Errorf("%s: tlsflow probe accepted=%v, testssl.sh %q", name, weAccept, f.Finding)
		}
	}
	// Suites: testssl.sh names each accepted one as cipher_x<hex>.
	var theirSuites, ourSuites []string
	for id := range theirs {
		if hex, ok := strings.CutPrefix(id, "cipher_x"); ok {
			theirSuites = append(theirSuites, strings.TrimLeft(hex, "0"))
		}
	}
	for _, so := range ours.CipherSuites {
		for _, s := range so.Suites {
			hex := strings.TrimLeft(strings.TrimPrefix(s.ID, "0x"), "0")
			if !slices.Contains(ourSuites, hex) {
				ourSuites = append(ourSuites, hex)
			}
		}
	}
	slices.Sort(theirSuites)
	slices.Sort(ourSuites)
	if !slices.Equal(ourSuites, theirSuites) {
		t.Errorf("cipher suites differ:\n tlsflow probe %v\n testssl.sh    %v", ourSuites, theirSuites)
	}
	// Groups: testssl.sh's ECDHE curves (OpenSSL's names) and DH groups.
	var theirGroups, ourGroups []string
	rename := map[string]string{"prime256v1": "secp256r1", "X25519": "x25519", "X448": "x448"}
	for _, id := range []string{"PFS_ECDHE_curves", "DH_groups"} {
		for _, g := range strings.Fields(theirs[id].Finding) {
			if n, ok := rename[g]; ok {
				g = n
			}
			if strings.HasPrefix(g, "secp") || strings.HasPrefix(g, "x") || strings.HasPrefix(g, "ffdhe") || strings.HasPrefix(g, "brainpool") {
				theirGroups = append(theirGroups, g)
			}
		}
	}
	for _, gr := range ours.Groups {
		for _, g := range gr.Accepted {
			if !slices.Contains(ourGroups, g) && !strings.Contains(g, "MLKEM") { // testssl.sh 3.0 knows no ML-KEM
				ourGroups = append(ourGroups, strings.TrimSuffix(g, "tls13"))
			}
		}
	}
	slices.Sort(theirGroups)
	slices.Sort(ourGroups)
	if !slices.Equal(ourGroups, theirGroups) {
		t.Errorf("groups differ:\n tlsflow probe %v\n testssl.sh    %v", ourGroups, theirGroups)
	}
	// The TLS 1.2 extensions the server answered, as testssl.sh lists them.
	if ours.ExtendedMasterSecret != nil {
		exts := theirs["TLS_extensions"].Finding
		for what, pair := range map[string][2]bool{
			"extended master secret": {*ours.ExtendedMasterSecret, strings.Contains(exts, "extended master secret/#23")},
			"renegotiation_info":     {*ours.SecureRenegotiation, strings.Contains(exts, "renegotiation info/#65281")},
		} {
			if pair[0] != pair[1] {
				t.Errorf("%s: tlsflow probe %v, testssl.sh's extensions %q", what, pair[0], exts)
			}
		}
	}
	// The certificate.
	c := ours.Certificate
	if c == nil {
		t.Fatalf("tlsflow probe found no certificate")
	}
	chain := theirs["cert_chain_of_trust"].Finding
	for what, pair := range map[string][2]bool{
		"self-signed":             {c.SelfSigned, strings.Contains(chain, "(self signed).")},
		"self-signed CA in chain": {c.UntrustedRoot, strings.Contains(chain, "self signed CA in chain")},
		"chain incomplete":        {c.Incomplete, strings.Contains(chain, "chain incomplete")},
		"trusted":                 {c.Trusted, strings.HasPrefix(chain, "passed")},
		"expired":                 {c.Expired, strings.HasPrefix(theirs["cert_expirationStatus"].Finding, "expired")},
		"expires within 30 days":  {!c.Expired && c.DaysLeft < 30, strings.HasPrefix(theirs["cert_expirationStatus"].Finding, "expires < 30")},
		"name mismatch":           {!c.NameMatches, strings.Contains(theirs["cert_trust"].Finding, "does not match")},
		"chain out of order":      {!c.Ordered, strings.HasPrefix(theirs["certs_list_ordering_problem"].Finding, "yes")},
	} {
		if pair[0] != pair[1] {
			t.Errorf("certificate %s: tlsflow probe %v, testssl.sh %v (chain of trust %q, expiry %q, name %q, order %q)", what, pair[0], pair[1],
				chain, theirs["cert_expirationStatus"].Finding, theirs["cert_trust"].Finding, theirs["certs_list_ordering_problem"].Finding)
		}
	}
	if want := fmt.Sprintf("%s %d bits", c.Chain[0].Key, c.Chain[0].KeyBits); theirs["cert_keySize"].Finding != want {
		t.Errorf("key size: tlsflow probe %q, testssl.sh %q", want, theirs["cert_keySize"].Finding)
	}
	t.Logf("agree: versions %v, %d suites, groups %v, chain of trust %q", ours.AcceptedVersions, len(ourSuites), ourGroups, chain)
}

// startProcess starts a server process and waits until it listens.
func startProcess(t *testing.T, port int, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, _ := cmd.StdinPipe() // s_server ends when its stdin closes
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitListening(t, port, func() string { return out.String() })
}

// serveInProcess runs a tlsflow server on port.
func serveInProcess(t *testing.T, port int, cfg *tlsflow.Config) {
	t.Helper()
	ln, err := tlsflow.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cfg)
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
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if tc := c.(*tlsflow.Conn); tc.Handshake() == nil {
					// An HTTP answer, for testssl.sh's service detection.
					buf := make([]byte, 4096)
					if n, _ := tc.Read(buf); n > 0 {
						tc.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
					}
				}
			}()
		}
	}()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, port int, output func() string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on port %d:\n%s", port, output())
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
