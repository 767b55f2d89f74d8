package tlsflow_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// The external PSK of the interop tests: OpenSSL's -psk and GnuTLS's PSK
// credentials use SHA-256 by default, as RFC 8446 §4.2.11 does.
var (
	interopPSK    = tlsflow.ExternalPSK{Identity: []byte("device-17"), Key: pskKey}
	interopPSKHex = hex.EncodeToString(pskKey)
)

// TestInteropOpenSSLExternalPSK: OpenSSL's s_client and s_server with
// -psk (TLS 1.3 external PSKs, no certificate anywhere), both directions,
// with ECDHE (psk_dhe_ke) and, where both allow it, without (psk_ke:
// OpenSSL's -allow_no_dhe_kex).
func TestInteropOpenSSLExternalPSK(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	for _, plain := range []bool{false, true} {
		name, psk, extra := "psk_dhe_ke", interopPSK, []string(nil)
		if plain {
			name, psk.WithoutECDHE, extra = "psk_ke", true, []string{"-allow_no_dhe_kex"}
		}
		t.Run("openssl-s_client/tlsflow-server/"+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			line := randomLetters(2000)
			args := append([]string{"s_client", "-tls1_3", "-psk", interopPSKHex, "-psk_identity", "device-17", "-ign_eof", "-nocommands"}, extra...)
			cli, raw := startOpenSSLClient(t, ctx, openssl, strings.NewReader(line+"\n"), args...)
			conn := tlsflow.Server(raw, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}})
			defer conn.Close()
			if err := conn.HandshakeContext(ctx); err != nil {
				t.Fatalf("tlsflow server handshake: %v", err)
			}
			checkPSKState(t, "tlsflow server", conn.ConnectionState(), plain)
			echoReversed(t, conn, line)
			conn.Close()
			if err := cli.wait(); err != nil {
				t.Errorf("%s exited with %v", cli.command, err)
			}
			for _, w := range []string{"Reused, TLSv1.3, Cipher is TLS_", "no peer certificate available", reverse(line)} {
				if !strings.Contains(cli.output(), w) {
					t.Errorf("s_client output lacks %.60q", w)
				}
			}
			if got := strings.Contains(cli.output(), "Server Temp Key"); got == plain {
				t.Errorf("s_client reports a server key share: %v; want one only with ECDHE", got)
			}
		})
		t.Run("tlsflow-client/openssl-s_server/"+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
			defer cancel()
			stdin := stdinPipe(t)
			args := append([]string{"s_server", "-tls1_3", "-psk", interopPSKHex, "-psk_identity", "device-17", "-nocert", "-rev"}, extra...)
			srv, raw := startOpenSSLServer(t, ctx, openssl, stdin.r, args...)
			conn := tlsflow.Client(raw, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}})
			defer conn.Close()
			if err := conn.HandshakeContext(ctx); err != nil {
				t.Fatalf("tlsflow client handshake: %v", err)
			}
			// The client offers both modes; s_server, allowed psk_ke,
			// still prefers psk_dhe_ke (RFC 8446 §4.2.9 leaves the choice
			// to the server).
			checkPSKState(t, "tlsflow client", conn.ConnectionState(), false)
			// s_server -rev answers each line reversed.
			line := randomLetters(2000)
			if _, err := conn.Write([]byte(line + "\n")); err != nil {
				t.Fatal(err)
			}
			got, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || strings.TrimSpace(got) != reverse(line) {
				t.Fatalf("tlsflow client read %d bytes (%v); want s_server's reversed line", len(got), err)
			}
			conn.Close()
			stdin.close()
			srv.wait()
		})
	}
}

// TestInteropGnuTLSExternalPSK: gnutls-cli and gnutls-serv with PSK
// credentials (TLS 1.3, ECDHE-PSK), both directions.
func TestInteropGnuTLSExternalPSK(t *testing.T) {
	const priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+PSK"
	t.Run("gnutls-cli/tlsflow-server", func(t *testing.T) {
		gnutlsCLI := requirePeer(t, "gnutls-cli")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
		defer cancel()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		line := randomLetters(2000)
		cli := startPeer(t, ctx, strings.NewReader(line+"\n"), gnutlsCLI, "-p", port, "127.0.0.1",
			"--pskusername", "device-17", "--pskkey", interopPSKHex, "--priority", priority)
		raw, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		deadline, _ := ctx.Deadline()
		raw.SetDeadline(deadline)
		conn := tlsflow.Server(raw, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{interopPSK}})
		defer conn.Close()
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("tlsflow server handshake: %v", err)
		}
		checkPSKState(t, "tlsflow server", conn.ConnectionState(), false)
		echoReversed(t, conn, line)
		if err := waitForText(ctx, cli, reverse(line)); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		cli.wait()
		if !strings.Contains(cli.output(), "PSK authentication. Connected as 'device-17'") {
			t.Errorf("gnutls-cli does not report PSK authentication")
		}
	})
	t.Run("tlsflow-client/gnutls-serv", func(t *testing.T) {
		gnutlsServ := requirePeer(t, "gnutls-serv")
		passwd := writeTempFile(t, t.TempDir(), "psk.passwd", []byte("device-17:"+interopPSKHex+"\n"))
		ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
		defer cancel()
		_, addr := startGnuTLSServer(t, ctx, gnutlsServ, "--echo", "--pskpasswd", passwd, "--priority", priority)
		raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		deadline, _ := ctx.Deadline()
		raw.SetDeadline(deadline)
		conn := tlsflow.Client(raw, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{interopPSK}})
		defer conn.Close()
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("tlsflow client handshake: %v", err)
		}
		checkPSKState(t, "tlsflow client", conn.ConnectionState(), false)
		line := randomLetters(2000)
		if _, err := conn.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
		got, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || got != line+"\n" {
			t.Fatalf("tlsflow client read %d bytes (%v); want gnutls-serv's echo", len(got), err)
		}
	})
}

// startGnuTLSServer runs gnutls-serv on a port that was free a moment ago
// (it prints none for -p 0) and returns it, and its address, once it listens.
func startGnuTLSServer(t *testing.T, ctx context.Context, program string, args ...string) (*peerProcess, string) {
	t.Helper()
	ready := regexp.MustCompile(`(?m)^Echo Server listening on IPv4 \S+ port \d+\.\.\.(.*)\n`)
	for attempt := 0; attempt < 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		srv := startPeer(t, ctx, nil, program, append([]string{"-p", strconv.Itoa(port)}, args...)...)
		if m, err := srv.waitFor(ctx, ready); err == nil && m[1] == "done" {
			return srv, "127.0.0.1:" + strconv.Itoa(port)
		}
	}
	t.Fatalf("%s did not start listening", filepath.Base(program))
	return nil, ""
}

// checkPSKState: the external PSK authenticated the connection, without
// certificates, in TLS 1.3, with a SHA-256 suite, with ECDHE unless plain.
func checkPSKState(t *testing.T, who string, st tlsflow.ConnectionState, plain bool) {
	t.Helper()
	suite := tlsflow.CipherSuiteName(st.CipherSuite)
	if string(st.ExternalPSKIdentity) != "device-17" || len(st.PeerCertificates) != 0 || st.Version != tlsflow.VersionTLS13 ||
		!strings.HasSuffix(suite, "_SHA256") || (st.CurveID == 0) != plain {
		t.Errorf("%s: identity %q, %d peer certificates, %s, %s, group %v; want device-17's PSK alone, TLS 1.3, a SHA-256 suite, ECDHE %v",
			who, st.ExternalPSKIdentity, len(st.PeerCertificates), tlsflow.VersionName(st.Version), suite, st.CurveID, !plain)
	}
}

// echoReversed reads the peer's line and answers it reversed.
func echoReversed(t *testing.T, conn *tlsflow.Conn, line string) {
	t.Helper()
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || got != line+"\n" {
		t.Fatalf("read %d bytes (%v); want the peer's %d-byte line", len(got), err, len(line)+1)
	}
	if _, err := conn.Write([]byte(reverse(line) + "\n")); err != nil {
		t.Fatal(err)
	}
}
