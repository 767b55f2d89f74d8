package keys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/internal/keys"
)

// These tests compare our exporters with crypto/tls, an independent
// implementation: crypto/tls runs a real handshake, a key log (NSS key log
// format) hands us the secrets, and crypto/tls's ExportKeyingMaterial gives
// the answer to match.

// goHandshake is what one in-memory crypto/tls handshake leaves behind.
type goHandshake struct {
	state        tls.ConnectionState // the client's view
	secrets      map[string][]byte   // key log label → secret
	clientRandom []byte
	serverRandom []byte // read out of the ServerHello the client received
}

// runGoHandshake12 connects a crypto/tls client and server over net.Pipe
// with TLS 1.2 and the given cipher suite.
func runGoHandshake12(t *testing.T, suite uint16) goHandshake {
	t.Helper()
	cert := selfSignedECDSA(t)
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)

	var keyLog bytes.Buffer
	serverConfig := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{suite},
	}
	clientConfig := &tls.Config{
		RootCAs:      roots,
		ServerName:   "test.example",
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{suite},
		KeyLogWriter: &keyLog,
	}

	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	captured := &recordingConn{Conn: c}

	serverErr := make(chan error, 1)
	go func() { serverErr <- tls.Server(s, serverConfig).Handshake() }()
	client := tls.Client(captured, clientConfig)
	if err := client.Handshake(); err != nil {
		t.Fatalf("crypto/tls client handshake: %v", err)
	}
	if err := <-serverErr; err != nil {
		t.Fatalf("crypto/tls server handshake: %v", err)
	}

	hs := goHandshake{state: client.ConnectionState(), secrets: map[string][]byte{}}
	for _, line := range strings.Split(strings.TrimSpace(keyLog.String()), "\n") {
		f := strings.Fields(line) // <label> <client_random> <secret>
		if len(f) != 3 {
			t.Fatalf("key log line %q", line)
		}
		hs.clientRandom = mustDecodeHex(t, f[1])
		hs.secrets[f[0]] = mustDecodeHex(t, f[2])
	}
	// The server's first record is a handshake record starting with ServerHello:
	// header(5) msg_type(1) length(3) legacy_version(2) random(32).
	if b := captured.read.Bytes(); len(b) >= 43 && b[0] == 22 && b[5] == 2 {
		hs.serverRandom = b[11:43]
	} else {
		t.Fatalf("the server's first bytes are not a ServerHello record: %x", b[:min(len(b), 16)])
	}
	return hs
}

// recordingConn keeps a copy of everything read from the wrapped conn.
type recordingConn struct {
	net.Conn
	read bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Write(p[:n])
	return n, err
}

func selfSignedECDSA(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		DNSNames:     []string{"test.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func mustDecodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("key log hex %q: %v", s, err)
	}
	return b
}

var exporterInputs = []struct {
	name    string
	label   string
	context []byte
	n       int
}{
	{"no context", "EXPORTER-tlsflow-test", nil, 32},
	{"empty context", "EXPORTER-tlsflow-test", []byte{}, 32},
	// An empty label: a 6-byte HkdfLabel.label in TLS 1.3, as crypto/tls,
	// BoringSSL and OpenSSL derive it.
	{"empty label", "", nil, 32},
	{"context, long output", "EXPORTER-tlsflow-test", []byte("channel binding context"), 100},
}

func TestExporter12MatchesCryptoTLS(t *testing.T) {
	suites := []struct {
		name  string
		suite uint16
		hash  crypto.Hash
	}{
		{"ECDHE-ECDSA-AES128-GCM-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, crypto.SHA256},
		{"ECDHE-ECDSA-AES256-GCM-SHA384", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, crypto.SHA384},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			hs := runGoHandshake12(t, s.suite)
			master := hs.secrets["CLIENT_RANDOM"]
			if master == nil {
				t.Fatalf("no CLIENT_RANDOM line in the key log")
			}
			for _, in := range exporterInputs {
				want, err := hs.state.ExportKeyingMaterial(in.label, in.context, in.n)
				if err != nil {
					t.Fatalf("crypto/tls ExportKeyingMaterial: %v", err)
				}
				got, err := keys.Exporter12(keys.Std(s.hash), master, hs.clientRandom, hs.serverRandom, in.label, in.context, in.n)
				if err != nil {
					t.Fatalf("Exporter12: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: Exporter12 = %x, crypto/tls = %x", in.name, got, want)
				}
			}
		})
	}
}

// crypto/tls does not write EXPORTER_SECRET to its key log, so for TLS 1.3
// the secret comes from OpenSSL's s_client, talking to a crypto/tls server
// over loopback, and the answer from that crypto/tls server: two
// implementations, neither of them ours. OpenSSL offers one suite at a time,
// so the SHA-384 suite is exercised too.
func TestExporter13MatchesCryptoTLS(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed; it provides the EXPORTER_SECRET crypto/tls does not log")
	}
	suites := []struct {
		name string
		hash crypto.Hash
	}{
		{"TLS_AES_128_GCM_SHA256", crypto.SHA256},
		{"TLS_AES_256_GCM_SHA384", crypto.SHA384},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			cert := selfSignedECDSA(t)
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
				Certificates:           []tls.Certificate{cert},
				MinVersion:             tls.VersionTLS13,
				SessionTicketsDisabled: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()

			type exported struct {
				suite uint16
				out   [][]byte
				err   error
			}
			result := make(chan exported, 1)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					result <- exported{err: err}
					return
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				tc := conn.(*tls.Conn)
				if err := tc.Handshake(); err != nil {
					result <- exported{err: err}
					return
				}
				state := tc.ConnectionState()
				e := exported{suite: state.CipherSuite}
				for _, in := range exporterInputs {
					out, err := state.ExportKeyingMaterial(in.label, in.context, in.n)
					if err != nil {
						e.err = err
						break
					}
					e.out = append(e.out, out)
				}
				result <- e
				io.Copy(io.Discard, conn) // until s_client closes
			}()

			keyLogFile := filepath.Join(t.TempDir(), "keylog")
			cmd := exec.Command(openssl, "s_client", "-connect", ln.Addr().String(), "-servername", "test.example",
				"-tls1_3", "-ciphersuites", s.name, "-keylogfile", keyLogFile)
			cmd.Stdin = strings.NewReader("") // EOF on stdin: s_client closes after the handshake
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
			}
			e := <-result
			if e.err != nil {
				t.Fatalf("crypto/tls server: %v", e.err)
			}
			if got := tls.CipherSuiteName(e.suite); got != s.name {
				t.Fatalf("negotiated %s, want %s", got, s.name)
			}

			keyLog, err := os.ReadFile(keyLogFile)
			if err != nil {
				t.Fatal(err)
			}
			var exporterMaster []byte
			for _, line := range strings.Split(string(keyLog), "\n") {
				if f := strings.Fields(line); len(f) == 3 && f[0] == "EXPORTER_SECRET" {
					exporterMaster = mustDecodeHex(t, f[2])
				}
			}
			if exporterMaster == nil {
				t.Fatalf("no EXPORTER_SECRET in the OpenSSL key log:\n%s", keyLog)
			}
			for i, in := range exporterInputs {
				if got := keys.Exporter13(keys.Std(s.hash), exporterMaster, in.label, in.context, in.n); !bytes.Equal(got, e.out[i]) {
					t.Errorf("%s: Exporter13 = %x, crypto/tls = %x", in.name, got, e.out[i])
				}
			}
		})
	}
}
