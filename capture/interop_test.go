package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// These tests capture handshakes between other stacks (OpenSSL's s_client
// and s_server, curl and GnuTLS's gnutls-serv) on loopback with tcpdump,
// on a port that is not 443, and hold what this package reads of the
// capture to what tshark dissects of it: the same handshake messages in
// the same order from the same sides, the same alerts, suite and version;
// with the key log the same decrypted messages, and the application data
// tshark decrypts in each direction.

type pkiFiles struct {
	ca, rsaCert, rsaKey, ecCert, ecKey, clientCert, clientKey string
}

func writePKI(t *testing.T) pkiFiles {
	t.Helper()
	ca := pki.MustNewCA("capture test CA", pki.ECDSAP256)
	rsa := ca.MustServer(pki.RSA2048, "localhost", "127.0.0.1")
	ec := ca.MustServer(pki.ECDSAP256, "localhost", "127.0.0.1")
	client := ca.MustClient(pki.ECDSAP256, "capture test client")
	dir := t.TempDir()
	var f pkiFiles
	for path, data := range map[*string][]byte{
		&f.ca: ca.CertPEM(), &f.rsaCert: rsa.ChainPEM(), &f.rsaKey: rsa.KeyPEM(),
		&f.ecCert: ec.ChainPEM(), &f.ecKey: ec.KeyPEM(), &f.clientCert: client.ChainPEM(), &f.clientKey: client.KeyPEM(),
	} {
		*path = filepath.Join(dir, strconv.Itoa(len(dir))+strconv.FormatInt(time.Now().UnixNano(), 36)+".pem")
		if err := os.WriteFile(*path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// runClient runs a client program to its end, with input on its stdin.
func runClient(t *testing.T, env []string, input string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(input)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %s did not finish:\n%s", name, strings.Join(args, " "), out)
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// agreeWithTshark reads file with and without the key log and compares
// each reading with tshark's; it returns the decrypted reading.
func agreeWithTshark(t *testing.T, file, keyLog string, port, wantConns int) *Capture {
	t.Helper()
	for _, kl := range []string{"", keyLog} {
		ours := readCapture(t, file, kl)
		theirs := tsharkDissect(t, file, kl, port)
		if len(ours.Connections) != wantConns || len(theirs) != wantConns {
			t.Fatalf("key log %q: we read %d TLS connections, tshark %d, want %d; problems: %q",
				kl, len(ours.Connections), len(theirs), wantConns, ours.Problems)
		}
		if len(ours.Problems) > 0 {
			t.Errorf("key log %q: problems reading a clean capture: %q", kl, ours.Problems)
		}
		for i, c := range ours.Connections {
			v := theirs[i]
			if got := ourItems(c); !slices.Equal(got, v.items) {
				t.Errorf("key log %q, connection %d: we read\n  %v\ntshark dissects\n  %v", kl, i+1, got, v.items)
			}
			if c.CipherSuite != v.suite || c.Version != v.version {
				t.Errorf("key log %q, connection %d: suite %#04x version %#04x, tshark %#04x %#04x",
					kl, i+1, c.CipherSuite, c.Version, v.suite, v.version)
			}
			if kl == "" {
				continue
			}
			for _, e := range c.Events {
				if e.Kind == trace.KindMessage && e.Message == "encrypted records" {
					t.Errorf("connection %d: records left encrypted with the key log: %v", i+1, e.Fields)
				}
			}
			ourData := ourAppData(c)
			for _, side := range []trace.Side{trace.Client, trace.Server} {
				if len(ourData[side]) == 0 || !bytes.HasPrefix(v.appData[side], ourData[side]) {
					t.Errorf("connection %d: the %s's first application data: we decrypt %q, tshark %.80q",
						i+1, side, ourData[side], v.appData[side])
				}
			}
		}
		if kl != "" {
			return ours
		}
	}
	return nil
}

func messages(c *Connection) []string {
	var names []string
	for _, e := range c.Events {
		if e.Kind == trace.KindMessage {
			names = append(names, string(e.Side)+" "+e.Message)
		}
	}
	return names
}

func wantMessages(t *testing.T, c *Connection, want ...string) {
	t.Helper()
	got := messages(c)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("the connection lacks %q; it has %q", w, got)
		}
	}
}

func TestOpenSSL13HelloRetryRequestAndClientCertificate(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	requirePeer(t, "tshark")
	f := writePKI(t)
	port := freePort(t)
	keyLog := filepath.Join(t.TempDir(), "keys.log")
	// The server takes only P-256; the client's first key share is
	// X25519: a HelloRetryRequest. -Verify 1 asks for a client certificate.
	startServer(t, port, openssl, "s_server", "-accept", strconv.Itoa(port), "-cert", f.ecCert, "-key", f.ecKey,
		"-CAfile", f.ca, "-Verify", "1", "-groups", "P-256", "-tls1_3", "-www", "-quiet")
	stop := startTcpdump(t, port)
	runClient(t, nil, "GET / HTTP/1.0\r\n\r\n", openssl, "s_client", "-connect", "127.0.0.1:"+strconv.Itoa(port),
		"-CAfile", f.ca, "-cert", f.clientCert, "-key", f.clientKey, "-groups", "X25519:P-256",
		"-tls1_3", "-keylogfile", keyLog, "-quiet")
	c := agreeWithTshark(t, stop(), keyLog, port, 1)
	wantMessages(t, c.Connections[0], "server HelloRetryRequest", "server CertificateRequest",
		"client Certificate", "client CertificateVerify", "client Finished", "server NewSessionTicket")
}

func TestOpenSSL12RSAKeyExchange(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	requirePeer(t, "tshark")
	f := writePKI(t)
	port := freePort(t)
	keyLog := filepath.Join(t.TempDir(), "keys.log")
	startServer(t, port, openssl, "s_server", "-accept", strconv.Itoa(port), "-cert", f.rsaCert, "-key", f.rsaKey,
		"-tls1_2", "-www", "-quiet")
	stop := startTcpdump(t, port)
	runClient(t, nil, "GET / HTTP/1.0\r\n\r\n", openssl, "s_client", "-connect", "127.0.0.1:"+strconv.Itoa(port),
		"-CAfile", f.ca, "-tls1_2", "-cipher", "AES128-GCM-SHA256", "-keylogfile", keyLog, "-quiet")
	c := agreeWithTshark(t, stop(), keyLog, port, 1)
	conn := c.Connections[0]
	if conn.CipherSuite != 0x009c {
		t.Errorf("suite %#04x, want TLS_RSA_WITH_AES_128_GCM_SHA256", conn.CipherSuite)
	}
	wantMessages(t, conn, "client ClientKeyExchange", "client Finished", "server Finished")
	for _, e := range conn.Events {
		if e.Message == "ClientKeyExchange" && e.Field("encrypted_pre_master_secret") == "" {
			t.Errorf("ClientKeyExchange not decoded as RSA's: %v", e.Fields)
		}
	}
}

func TestCurlWithGnuTLSServer(t *testing.T) {
	requirePeer(t, "gnutls-cli") // gnutls-bin, which has gnutls-serv
	gnutls := requirePeer(t, "gnutls-serv")
	curl := requirePeer(t, "curl")
	requirePeer(t, "tshark")
	f := writePKI(t)
	port := freePort(t)
	keyLog := filepath.Join(t.TempDir(), "keys.log")
	startServer(t, port, gnutls, "--http", "-p", strconv.Itoa(port), "--x509certfile", f.rsaCert, "--x509keyfile", f.rsaKey)
	stop := startTcpdump(t, port)
	url := "https://localhost:" + strconv.Itoa(port) + "/"
	env := []string{"SSLKEYLOGFILE=" + keyLog}
	// TLS 1.3 as curl and gnutls-serv choose it, then TLS 1.2 with
	// ChaCha20-Poly1305.
	runClient(t, env, "", curl, "-sS", "-o", os.DevNull, "--http1.1", "--cacert", f.ca, url)
	runClient(t, env, "", curl, "-sS", "-o", os.DevNull, "--http1.1", "--cacert", f.ca, "--tls-max", "1.2",
		"--ciphers", "ECDHE-RSA-CHACHA20-POLY1305", url)
	c := agreeWithTshark(t, stop(), keyLog, port, 2)
	if v := c.Connections[0].Version; v != 0x0304 {
		t.Errorf("connection 1: version %#04x, want TLS 1.3", v)
	}
	if s := c.Connections[1].CipherSuite; s != 0xcca8 {
		t.Errorf("connection 2: suite %#04x, want TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", s)
	}
}

func alertCode(name string) int {
	for a := 0; a < 256; a++ {
		if alert.Alert(a).String() == name {
			return a
		}
	}
	return -1
}
