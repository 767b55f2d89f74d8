package tlsflow_test

// Process-level interop of raw public keys (RFC 7250) with GnuTLS
// (gnutls-serv, gnutls-cli: --rawpkkeyfile, --rawpkfile and the priority
// tokens CTYPE-SRV-RAWPK / CTYPE-CLI-RAWPK), both directions, TLS 1.2 and
// 1.3, with and without a client raw key. The tlsflow side pins GnuTLS's
// key; gnutls-cli cannot pin a raw key (it has no such option: without
// --insecure it fails "PKI verification"), so it runs with --insecure and
// the test checks what it printed instead: the certificate type and the
// key it got. OpenSSL 3.0 has no raw public keys.

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// rawKeyFiles are a key pair in the files GnuTLS reads: the PKCS #8
// private key and the public key as a PEM SubjectPublicKeyInfo.
type rawKeyFiles struct{ key, pub string }

func writeRawKeyFiles(t *testing.T, name string, key crypto.Signer) rawKeyFiles {
	t.Helper()
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	f := rawKeyFiles{filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")}
	for path, block := range map[string]*pem.Block{f.key: {Type: "PRIVATE KEY", Bytes: der}, f.pub: {Type: "PUBLIC KEY", Bytes: spki}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// gnutlsRawKeyPriority enables raw keys for both directions in one version.
func gnutlsRawKeyPriority(version string) string {
	v := map[string]string{"TLS1.2": "+VERS-TLS1.2", "TLS1.3": "+VERS-TLS1.3"}[version]
	return "NORMAL:-VERS-ALL:" + v + ":+CTYPE-SRV-RAWPK:+CTYPE-CLI-RAWPK"
}

var rawKeyVersions = []struct {
	name string
	v    uint16
}{{"TLS1.2", tlsflow.VersionTLS12}, {"TLS1.3", tlsflow.VersionTLS13}}

// TestInteropGnuTLSServerRawPublicKey: gnutls-serv shows its raw key, the
// tlsflow client pins it; with a client key, gnutls-serv requires one and
// the tlsflow client sends its raw key.
func TestInteropGnuTLSServerRawPublicKey(t *testing.T) {
	certs := sharedCerts()
	serverFiles := writeRawKeyFiles(t, "server", certs.ecdsa.Key)
	clientCert, _ := rpkCert(t, certs.client.Key)
	_, serverPin := rpkCert(t, certs.ecdsa.Key)
	for _, v := range rawKeyVersions {
		for _, mutual := range []bool{false, true} {
			name := v.name + "/server-key"
			if mutual {
				name = v.name + "/both-keys"
			}
			t.Run(name, func(t *testing.T) {
				gnutlsServ := gnutlsProgram(t, "gnutls-serv")
				ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
				defer cancel()
				args := []string{"--echo", "--priority", gnutlsRawKeyPriority(v.name),
					"--rawpkkeyfile", serverFiles.key, "--rawpkfile", serverFiles.pub}
				if mutual {
					args = append(args, "--require-client-cert")
				} else {
					args = append(args, "--disable-client-cert")
				}
				srv, addr := startGnuTLSServer(t, ctx, gnutlsServ, args...)
				raw, err := dialContext(ctx, addr)
				if err != nil {
					t.Fatalf("dialing %s: %v", srv.command, err)
				}
				cfg := &tlsflow.Config{MaxVersion: v.v, MinVersion: v.v,
					ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{serverPin}}
				if mutual {
					cfg.Certificates = []tlsflow.Certificate{clientCert}
				}
				conn := tlsflow.Client(raw, cfg)
				defer conn.Close()
				if err := conn.HandshakeContext(ctx); err != nil {
					t.Fatalf("tlsflow client handshake with %s: %v", srv.command, err)
				}
				st := conn.ConnectionState()
				if st.ServerCertificateType != tlsflow.CertificateTypeRawPublicKey || string(st.PeerRawPublicKey) != string(serverPin) {
					t.Errorf("tlsflow client: server certificate type %s, raw key pinned %v; want RawPublicKey, true", st.ServerCertificateType, string(st.PeerRawPublicKey) == string(serverPin))
				}
				if mutual && st.ClientCertificateType != tlsflow.CertificateTypeRawPublicKey {
					t.Errorf("tlsflow client: client certificate type %s, want RawPublicKey", st.ClientCertificateType)
				}
				line := randomLetters(1000)
				if _, err := conn.Write([]byte(line + "\n")); err != nil {
					t.Fatalf("tlsflow client writing: %v", err)
				}
				got, err := bufio.NewReader(conn).ReadString('\n')
				if err != nil || got != line+"\n" {
					t.Fatalf("tlsflow client read %d bytes (%v); want gnutls-serv's echo", len(got), err)
				}
				if mutual {
					// gnutls-serv prints the client's raw key as it got it.
					want := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: clientCert.RawPublicKey})))
					if _, err := srv.waitFor(ctx, regexp.MustCompile(`- Certificate type: Raw Public Key(?s:.*)`+regexp.QuoteMeta(want))); err != nil {
						t.Errorf("gnutls-serv does not show the tlsflow client's raw public key: %v", err)
					}
				}
			})
		}
	}
}

// gnutlsGotRawKey is gnutls-cli saying the server showed a raw key.
var gnutlsGotRawKey = regexp.MustCompile(`(?m)^- Certificate type: Raw Public Key\s*\n- Got 1 Raw public-key\(s\)\.`)

// TestInteropGnuTLSClientRawPublicKey: the tlsflow server shows its raw
// key to gnutls-cli; with a client key, it requires gnutls-cli's raw key
// and pins it.
func TestInteropGnuTLSClientRawPublicKey(t *testing.T) {
	certs := sharedCerts()
	serverCert, _ := rpkCert(t, certs.ecdsa.Key)
	clientFiles := writeRawKeyFiles(t, "client", certs.client.Key)
	_, clientPin := rpkCert(t, certs.client.Key)
	for _, v := range rawKeyVersions {
		for _, mutual := range []bool{false, true} {
			name := v.name + "/server-key"
			if mutual {
				name = v.name + "/both-keys"
			}
			t.Run(name, func(t *testing.T) {
				gnutlsCLI := gnutlsProgram(t, "gnutls-cli")
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
				defer cancel()
				_, port, _ := net.SplitHostPort(ln.Addr().String())
				args := []string{"-p", port, "127.0.0.1", "--insecure", "--priority", gnutlsRawKeyPriority(v.name)}
				if mutual {
					args = append(args, "--rawpkkeyfile", clientFiles.key, "--rawpkfile", clientFiles.pub)
				}
				line := randomLetters(1000)
				cli := startPeer(t, ctx, strings.NewReader(line+"\n"), gnutlsCLI, args...)
				raw, err := ln.Accept()
				if err != nil {
					t.Fatal(err)
				}
				deadline, _ := ctx.Deadline()
				raw.SetDeadline(deadline)
				cfg := &tlsflow.Config{MaxVersion: v.v, MinVersion: v.v, Certificates: []tlsflow.Certificate{serverCert}}
				if mutual {
					cfg.ClientAuth, cfg.ClientCertificateTypes, cfg.TrustedRawPublicKeys = tlsflow.RequireAnyClientCert, onlyRPK, [][]byte{clientPin}
				}
				conn := tlsflow.Server(raw, cfg)
				defer conn.Close()
				if err := conn.HandshakeContext(ctx); err != nil {
					t.Fatalf("tlsflow server handshake with %s: %v", cli.command, err)
				}
				st := conn.ConnectionState()
				if st.ServerCertificateType != tlsflow.CertificateTypeRawPublicKey {
					t.Errorf("tlsflow server: server certificate type %s, want RawPublicKey", st.ServerCertificateType)
				}
				if mutual && (st.ClientCertificateType != tlsflow.CertificateTypeRawPublicKey || string(st.PeerRawPublicKey) != string(clientPin)) {
					t.Errorf("tlsflow server: client certificate type %s, client key pinned %v; want RawPublicKey, true",
						st.ClientCertificateType, string(st.PeerRawPublicKey) == string(clientPin))
				}
				echoReversed(t, conn, line)
				if err := waitForText(ctx, cli, reverse(line)); err != nil {
					t.Fatal(err)
				}
				conn.Close()
				cli.wait()
				if !gnutlsGotRawKey.MatchString(cli.output()) {
					t.Errorf("gnutls-cli does not say it got the server's raw public key")
				}
			})
		}
	}
}
