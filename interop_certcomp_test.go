package tlsflow_test

// Process-level interop of certificate compression (RFC 8879, TLS 1.3
// only) with GnuTLS and headless Chromium. Each test reads what was
// compressed, and with which algorithm, from the "certificate compressed"
// and "certificate decompressed" notes of tlsflow's trace, and asks the
// peer what it made of the chain.
//
//   - GnuTLS (gnutls-cli, gnutls-serv --compress-cert=ALG), both directions,
//     the server's chain and the client's (GnuTLS lists its algorithms in
//     its CertificateRequest too, and compresses a client chain when asked).
//     Which algorithms a GnuTLS has is fixed when it is built: 3.7 compiles
//     zlib, brotli and zstd in only if their headers were there, and
//     Debian 12's gnutls28 3.7.9 was built with none of the three (none is
//     in its Build-Depends; "gnutls-cli --compress-cert=zlib" prints
//     "Unknown compression method: zlib" and offers nothing). So each case
//     first asks gnutls-cli's ClientHello which algorithm it really offers
//     (gnutlsOffers). One it lacks still runs, and must complete with an
//     uncompressed Certificate, but is then reported as skipped: only the
//     fallback was checked: that is all CI checks on Debian 12.
//     TLSFLOW_GNUTLS_BIN names the directory of another gnutls-cli and
//     gnutls-serv to use: with a GnuTLS 3.7.9 built from source with zlib,
//     brotli and zstd (docs/CONFORMANCE.md, "Certificate compression")
//     none is skipped, and the 12 TLS 1.3 cases compress. In TLS 1.2
//     GnuTLS still offers the extension, and neither side may compress.
//   - Chromium offers brotli. It loads a page from a tlsflow server with
//     --ignore-certificate-errors-spki-list naming the leaf's key, so the
//     chain it decompressed must still hold that key, and its NetLog
//     (--net-log-capture-mode=Everything) must show a CompressedCertificate
//     (handshake type 25) received and, as the certificates it got, our
//     chain.
//
// OpenSSL has RFC 8879 only from 3.2 on; the OpenSSL here is 3.0 ("openssl
// s_client -help" lists -comp and -no_comp, which are TLS record
// compression, and nothing for certificates), so there is no OpenSSL test.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// allCertCompression is every algorithm tlsflow has, in its preference
// order: the tlsflow side offers them all, the peer only the one under
// test, so the notes must name that one.
var allCertCompression = []tlsflow.CertificateCompressionAlgorithm{
	tlsflow.CertCompressionBrotli, tlsflow.CertCompressionZstd, tlsflow.CertCompressionZlib,
}

// compressionNotes records one side's "certificate compressed" and
// "certificate decompressed" notes, with their algorithm, and the
// compress_certificate list of the ClientHello a server received.
type compressionNotes struct {
	mu           sync.Mutex
	compressed   []string // algorithm names, one per chain sent compressed
	decompressed []string
	clientOffer  []uint16 // nil: no ClientHello seen, or none offered
}

func (n *compressionNotes) hook(e trace.Event) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case e.Kind == trace.KindNote && e.Message == "certificate compressed":
		n.compressed = append(n.compressed, e.Field("algorithm"))
	case e.Kind == trace.KindNote && e.Message == "certificate decompressed":
		n.decompressed = append(n.decompressed, e.Field("algorithm"))
	case e.Kind == trace.KindMessage && e.Message == "ClientHello" && e.Direction == trace.Received:
		n.clientOffer = offeredCompression(e.Raw)
	}
}

// check compares the notes with what should have happened: want
// compressed and decompressed chains, each in algorithm alg.
func (n *compressionNotes) check(t *testing.T, who string, alg string, compressed, decompressed int) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	t.Logf("%s compressed %v and decompressed %v", who, n.compressed, n.decompressed)
	for _, c := range []struct {
		what string
		got  []string
		want int
	}{{"compressed", n.compressed, compressed}, {"decompressed", n.decompressed, decompressed}} {
		if len(c.got) != c.want || slices.ContainsFunc(c.got, func(a string) bool { return a != alg }) {
			t.Errorf("%s %s chains in %v; want %d in %s", who, c.what, c.got, c.want, alg)
		}
	}
}

// offeredCompression is the compress_certificate list of a ClientHello
// (with its handshake header), nil if there is none or it does not parse.
func offeredCompression(msg []byte) []uint16 {
	var ch wire.ClientHello
	if ch.Unmarshal(msg) != nil {
		return nil
	}
	var algs wire.CertificateCompressionAlgorithms
	if found, err := ch.Extensions.Decode(wire.ExtCompressCertificate, &algs); !found || err != nil {
		return nil
	}
	return algs
}

var certCompressionNames = map[tlsflow.CertificateCompressionAlgorithm]string{
	tlsflow.CertCompressionZlib: "zlib", tlsflow.CertCompressionBrotli: "brotli", tlsflow.CertCompressionZstd: "zstd",
}

// gnutlsProgram is gnutls-cli or gnutls-serv: from TLSFLOW_GNUTLS_BIN if
// set, else from the PATH (requirePeer).
func gnutlsProgram(t *testing.T, name string) string {
	t.Helper()
	if dir := os.Getenv("TLSFLOW_GNUTLS_BIN"); dir != "" {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("TLSFLOW_GNUTLS_BIN: %v", err)
		}
		return path
	}
	return requirePeer(t, name)
}

var (
	gnutlsOffersMu sync.Mutex
	gnutlsOffersOf = map[string]bool{}
)

// gnutlsOffers reports whether gnutls-cli, told --compress-cert=name,
// lists that algorithm in its ClientHello: whether this GnuTLS was built
// with it. The answer is read off the wire, from a listener that takes
// the ClientHello and hangs up.
func gnutlsOffers(t *testing.T, gnutlsCLI string, alg tlsflow.CertificateCompressionAlgorithm) bool {
	t.Helper()
	name := certCompressionNames[alg]
	gnutlsOffersMu.Lock()
	defer gnutlsOffersMu.Unlock()
	if has, ok := gnutlsOffersOf[gnutlsCLI+" "+name]; ok {
		return has
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	cli := startPeer(t, ctx, nil, gnutlsCLI, "-p", port, "127.0.0.1", "--insecure", "--compress-cert="+name)
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	msg, err := readClientHelloRecord(raw)
	if err != nil {
		t.Fatalf("reading %s's ClientHello: %v", cli.command, err)
	}
	has := slices.Contains(offeredCompression(msg), uint16(alg))
	t.Logf("%s offers %s: %v (compress_certificate %v)", filepath.Base(gnutlsCLI), name, has, offeredCompression(msg))
	gnutlsOffersOf[gnutlsCLI+" "+name] = has
	return has
}

// readClientHelloRecord reads a ClientHello that comes in one record,
// as GnuTLS's does, and returns the handshake message.
func readClientHelloRecord(r io.Reader) ([]byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0] != 22 {
		return nil, fmt.Errorf("record type %d, not handshake", hdr[0])
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	if n := len(body); n < 4 || 4+(int(body[1])<<16|int(body[2])<<8|int(body[3])) != n {
		return nil, fmt.Errorf("the ClientHello is not alone in one record (%d bytes)", len(body))
	}
	return body, nil
}

// gnutlsCertCompressionFiles are the PEM files the GnuTLS peers use: the
// shared CA, the RSA server chain for localhost, and the client chain.
type gnutlsCertCompressionFiles struct {
	caFile, certFile, keyFile, clientCertFile, clientKeyFile string
}

func writeCertCompressionFiles(t *testing.T) gnutlsCertCompressionFiles {
	dir := t.TempDir()
	c := sharedCerts()
	return gnutlsCertCompressionFiles{
		caFile:         writeTempFile(t, dir, "ca.pem", c.ca.CertPEM()),
		certFile:       writeTempFile(t, dir, "server.pem", c.rsa.ChainPEM()),
		keyFile:        writeTempFile(t, dir, "server.key", c.rsa.KeyPEM()),
		clientCertFile: writeTempFile(t, dir, "client.pem", c.client.ChainPEM()),
		clientKeyFile:  writeTempFile(t, dir, "client.key", c.client.KeyPEM()),
	}
}

// certCompressionCase is one handshake: a TLS version, and whether the
// client presents a certificate.
type certCompressionCase struct {
	version    string // "TLS1.2", "TLS1.3"
	clientCert bool
}

func (c certCompressionCase) String() string {
	if c.clientCert {
		return c.version + "/client-cert"
	}
	return c.version
}

func (c certCompressionCase) priority() string {
	return map[string]string{"TLS1.2": "NORMAL:-VERS-ALL:+VERS-TLS1.2", "TLS1.3": "NORMAL:-VERS-ALL:+VERS-TLS1.3"}[c.version]
}

// chains is how many chains each side sends compressed: in TLS 1.3 the
// server's and, if there is one, the client's; in TLS 1.2 none (RFC 8879
// §3: "if TLS 1.2 [RFC5246] or earlier is negotiated, the peers MUST
// ignore this extension").
func (c certCompressionCase) chains() (server, client int) {
	if c.version != "TLS1.3" {
		return 0, 0
	}
	if c.clientCert {
		return 1, 1
	}
	return 1, 0
}

var certCompressionCases = []certCompressionCase{{"TLS1.3", false}, {"TLS1.3", true}, {"TLS1.2", false}}

// TestInteropGnuTLSCertificateCompression: for each algorithm, gnutls-serv
// --compress-cert against the tlsflow client and gnutls-cli
// --compress-cert against the tlsflow server, in TLS 1.3 with and without
// a client certificate, and in TLS 1.2 (no compression). The tlsflow side
// offers all three algorithms, GnuTLS one: the notes must name it.
func TestInteropGnuTLSCertificateCompression(t *testing.T) {
	f := writeCertCompressionFiles(t)
	for _, alg := range []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib, tlsflow.CertCompressionBrotli, tlsflow.CertCompressionZstd} {
		name := certCompressionNames[alg]
		for _, tc := range certCompressionCases {
			t.Run("gnutls-serv/tlsflow-client/"+name+"/"+tc.String(), func(t *testing.T) {
				has := gnutlsOffers(t, gnutlsProgram(t, "gnutls-cli"), alg)
				testGnuTLSServerCertCompression(t, f, alg, tc, has)
				skipUnlessCompressed(t, name, has)
			})
			t.Run("gnutls-cli/tlsflow-server/"+name+"/"+tc.String(), func(t *testing.T) {
				gnutlsCLI := gnutlsProgram(t, "gnutls-cli")
				has := gnutlsOffers(t, gnutlsCLI, alg)
				testGnuTLSClientCertCompression(t, gnutlsCLI, f, alg, tc, has)
				skipUnlessCompressed(t, name, has)
			})
		}
	}
}

// skipUnlessCompressed reports a case that could only check the fallback
// as skipped (after its checks, which still fail it if they failed).
func skipUnlessCompressed(t *testing.T, name string, has bool) {
	if !has {
		t.Skipf("this GnuTLS was built without %s (gnutls-cli --compress-cert=%s offers nothing): only the fallback to an uncompressed Certificate was checked", name, name)
	}
}

var gnutlsClientChainTrusted = regexp.MustCompile(`(?m)^- Status: The certificate is trusted\.`)

// testGnuTLSServerCertCompression: gnutls-serv compresses its chain with
// alg (if it has it), the tlsflow client decompresses and verifies it;
// with a client certificate, gnutls-serv asks for it compressed in its
// CertificateRequest, verifies it (--verify-client-cert) and echoes.
func testGnuTLSServerCertCompression(t *testing.T, f gnutlsCertCompressionFiles, alg tlsflow.CertificateCompressionAlgorithm, tc certCompressionCase, has bool) {
	gnutlsServ := gnutlsProgram(t, "gnutls-serv")
	name := certCompressionNames[alg]
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	args := []string{"--echo", "--priority", tc.priority(), "--compress-cert=" + name,
		"--x509certfile", f.certFile, "--x509keyfile", f.keyFile}
	if tc.clientCert {
		args = append(args, "--require-client-cert", "--verify-client-cert", "--x509cafile", f.caFile)
	} else {
		args = append(args, "--disable-client-cert")
	}
	srv, addr := startGnuTLSServer(t, ctx, gnutlsServ, args...)
	raw, err := dialContext(ctx, addr)
	if err != nil {
		t.Fatalf("dialing %s: %v", srv.command, err)
	}
	notes := new(compressionNotes)
	cfg := clientConfig13()
	cfg.CertificateCompression = allCertCompression
	cfg.Trace = notes.hook
	if tc.clientCert {
		cfg.Certificates = []tlsflow.Certificate{flowCert(sharedCerts().client)}
	}
	conn := tlsflow.Client(raw, cfg)
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("tlsflow client handshake with %s: %v", srv.command, err)
	}
	if st := conn.ConnectionState(); len(st.VerifiedChains) == 0 {
		t.Errorf("tlsflow client: the server's chain was not verified")
	}
	line := randomLetters(2000)
	if _, err := conn.Write([]byte(line + "\n")); err != nil {
		t.Fatalf("tlsflow client writing: %v", err)
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || got != line+"\n" {
		t.Fatalf("tlsflow client read %d bytes (%v); want gnutls-serv's echo", len(got), err)
	}
	if tc.clientCert {
		// With --verify-client-cert, gnutls-serv refuses a chain it does
		// not trust (access_denied); this is its verdict on ours.
		if _, err := srv.waitFor(ctx, gnutlsClientChainTrusted); err != nil {
			t.Errorf("gnutls-serv does not say it trusts the client's chain: %v", err)
		}
	}
	server, client := tc.chains()
	if !has {
		server, client = 0, 0
	}
	notes.check(t, "the tlsflow client", name, client, server)
}

// testGnuTLSClientCertCompression: the tlsflow server compresses its chain
// with alg for gnutls-cli, which verifies it (--x509cafile,
// --verify-hostname); with a client certificate, the tlsflow server asks
// for it, decompresses and verifies it.
func testGnuTLSClientCertCompression(t *testing.T, gnutlsCLI string, f gnutlsCertCompressionFiles, alg tlsflow.CertificateCompressionAlgorithm, tc certCompressionCase, has bool) {
	name := certCompressionNames[alg]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
	defer cancel()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	args := []string{"-p", port, "127.0.0.1", "--x509cafile", f.caFile, "--verify-hostname", "localhost",
		"--priority", tc.priority(), "--compress-cert=" + name}
	if tc.clientCert {
		args = append(args, "--x509certfile", f.clientCertFile, "--x509keyfile", f.clientKeyFile)
	}
	line := randomLetters(2000)
	cli := startPeer(t, ctx, strings.NewReader(line+"\n"), gnutlsCLI, args...)
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	notes := new(compressionNotes)
	cfg := serverConfig13(sharedCerts().rsa)
	cfg.CertificateCompression = allCertCompression
	cfg.Trace = notes.hook
	if tc.clientCert {
		cfg.ClientAuth, cfg.ClientCAs = tlsflow.RequireAndVerifyClientCert, sharedCerts().ca.Pool
	}
	conn := tlsflow.Server(raw, cfg)
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("tlsflow server handshake: %v", err)
	}
	if st := conn.ConnectionState(); tc.clientCert && len(st.VerifiedChains) == 0 {
		t.Errorf("tlsflow server: the client's chain was not verified")
	}
	echoReversed(t, conn, line)
	if err := waitForText(ctx, cli, reverse(line)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	cli.wait()
	if !strings.Contains(cli.output(), "Status: The certificate is trusted.") {
		t.Errorf("gnutls-cli does not say it trusts the server's chain")
	}
	server, client := tc.chains()
	if !has {
		server, client = 0, 0
	}
	notes.check(t, "the tlsflow server", name, server, client)
	// GnuTLS offers compression in a TLS 1.2 ClientHello too; the tlsflow
	// server must ignore it there (checked above: nothing compressed).
	if has && !slices.Equal(notes.clientOffer, []uint16{uint16(alg)}) {
		t.Errorf("gnutls-cli's ClientHello offers compress_certificate %v; want [%d] (%s)", notes.clientOffer, alg, name)
	}
}

// TestInteropChromiumCertificateCompression: headless Chromium loads a
// page from a tlsflow server that has every algorithm; Chromium offers
// brotli, and the server's chain must go out compressed with it.
// Chromium's side of the story is its NetLog: the CompressedCertificate
// it received (type 25, algorithm 2) and the certificates it made of it.
func TestInteropChromiumCertificateCompression(t *testing.T) {
	chromium := requirePeer(t, "chromium")
	leaf := sharedCerts().rsa
	notes := new(compressionNotes)
	cfg := serverConfig13(leaf)
	cfg.CertificateCompression = allCertCompression
	cfg.Trace = notes.hook
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!DOCTYPE html><html><body><p>served by tlsflow</p></body></html>")
		}),
	}
	go srv.Serve(tlsflow.NewListener(ln, cfg))
	defer srv.Close()

	// Chromium accepts the chain only if its leaf has this key: a
	// certificate that decompressed wrong would not do.
	spki := sha256.Sum256(leaf.Cert.RawSubjectPublicKeyInfo)
	netlog := filepath.Join(t.TempDir(), "netlog.json")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := "https://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/"
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
		"--ignore-certificate-errors-spki-list=" + base64.StdEncoding.EncodeToString(spki[:]),
		"--log-net-log=" + netlog, "--net-log-capture-mode=Everything", "--dump-dom", url}
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil || !strings.Contains(string(dom), "served by tlsflow") {
		t.Fatalf("%s: %v\npage: %s\nstderr:\n%s", commandLine(chromium, args), err, dom, shortenLines(stderr.String(), 300))
	}

	brotli := uint16(tlsflow.CertCompressionBrotli)
	notes.mu.Lock()
	offer := notes.clientOffer
	notes.mu.Unlock()
	t.Logf("Chromium's ClientHello offers compress_certificate %v", offer)
	if !slices.Contains(offer, brotli) {
		t.Errorf("Chromium's ClientHello offers compress_certificate %v; want brotli (2) among them", offer)
	}
	// Chromium may open more than one connection (a preconnect): each
	// chain went out compressed with brotli, none came back.
	notes.mu.Lock()
	sent := len(notes.compressed)
	notes.mu.Unlock()
	if sent == 0 {
		t.Fatalf("the tlsflow server compressed no chain")
	}
	notes.check(t, "the tlsflow server", "brotli", sent, 0)

	received, certs, err := readNetLogCertificates(netlog)
	if err != nil {
		t.Fatalf("Chromium's NetLog: %v", err)
	}
	if len(received) == 0 {
		t.Errorf("Chromium's NetLog shows no CompressedCertificate received")
	}
	for _, m := range received {
		if len(m) < 11 || binary.BigEndian.Uint16(m[4:]) != brotli {
			t.Errorf("Chromium received a CompressedCertificate %x…; want algorithm 2 (brotli)", m[:min(len(m), 11)])
		}
	}
	if len(certs) == 0 {
		t.Errorf("Chromium's NetLog shows no certificates received")
	}
	for _, chain := range certs {
		if len(chain) != len(leaf.Chain) || !slices.EqualFunc(chain, leaf.Chain, func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Errorf("Chromium made %d certificates of the CompressedCertificate; want the server's chain of %d", len(chain), len(leaf.Chain))
		}
	}
}

// readNetLogCertificates reads a Chromium NetLog file: the bodies of the
// CompressedCertificate messages received (SSL_HANDSHAKE_MESSAGE_RECEIVED
// of type 25, with their header), and each SSL_CERTIFICATES_RECEIVED chain
// in DER.
func readNetLogCertificates(path string) (compressed [][]byte, chains [][][]byte, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int             `json:"type"`
			Params json.RawMessage `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		return nil, nil, err
	}
	received, ok1 := log.Constants.LogEventTypes["SSL_HANDSHAKE_MESSAGE_RECEIVED"]
	certsReceived, ok2 := log.Constants.LogEventTypes["SSL_CERTIFICATES_RECEIVED"]
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("no SSL_HANDSHAKE_MESSAGE_RECEIVED or SSL_CERTIFICATES_RECEIVED event type")
	}
	for _, e := range log.Events {
		switch e.Type {
		case received:
			var p struct {
				Type  int    `json:"type"`
				Bytes string `json:"bytes"` // base64, with --net-log-capture-mode=Everything
			}
			if err := json.Unmarshal(e.Params, &p); err != nil {
				return nil, nil, err
			}
			if p.Type != int(wire.TypeCompressedCertificate) {
				continue
			}
			b, err := base64.StdEncoding.DecodeString(p.Bytes)
			if err != nil {
				return nil, nil, err
			}
			compressed = append(compressed, b)
		case certsReceived:
			var p struct {
				Certificates []string `json:"certificates"` // PEM
			}
			if err := json.Unmarshal(e.Params, &p); err != nil {
				return nil, nil, err
			}
			var chain [][]byte
			for _, s := range p.Certificates {
				block, _ := pem.Decode([]byte(s))
				if block == nil {
					return nil, nil, fmt.Errorf("a certificate in the NetLog is not PEM")
				}
				if _, err := x509.ParseCertificate(block.Bytes); err != nil {
					return nil, nil, err
				}
				chain = append(chain, block.Bytes)
			}
			chains = append(chains, chain)
		}
	}
	return compressed, chains, nil
}
