package tlsflow_test

import (
	"bufio"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// TestInteropOpenSSLPostHandshakeAuth: post-handshake client
// authentication (RFC 8446 §4.6.2) with OpenSSL in both directions. Its
// s_client answers a tlsflow server's RequestClientCertificate with
// -enable_pha; its s_server asks a tlsflow client with the interactive
// command "c".
func TestInteropOpenSSLPostHandshakeAuth(t *testing.T) {
	openssl := requirePeer(t, "openssl")
	c := sharedCerts()
	f := writeOpenSSLFiles(t, c)

	t.Run("openssl-s_client/tlsflow-server", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
		defer cancel()
		stdin := stdinPipe(t)
		cli, raw := startOpenSSLClient(t, ctx, openssl, stdin.r, "s_client", "-tls1_3", "-enable_pha",
			"-cert", f.certFile[c.client], "-key", f.keyFile[c.client], "-CAfile", f.caFile,
			"-servername", "localhost", "-verify_return_error", "-ign_eof", "-nocommands")
		conn := tlsflow.Server(raw, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, ClientCAs: c.ca.Pool})
		defer conn.Close()
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("tlsflow server handshake: %v", err)
		}
		if n := len(conn.ConnectionState().PeerCertificates); n != 0 {
			t.Fatalf("%d client certificates before the request", n)
		}
		line := randomLetters(200)
		stdin.write(t, line)
		r := bufio.NewReader(conn)
		if got, err := r.ReadString('\n'); err != nil || got != line+"\n" {
			t.Fatalf("tlsflow server read %q, %v; want s_client's line", got, err)
		}
		if err := conn.RequestClientCertificate(ctx, tlsflow.RequireAndVerifyClientCert); err != nil {
			t.Fatalf("RequestClientCertificate: %v", err)
		}
		st := conn.ConnectionState()
		if len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "test client" || len(st.VerifiedChains) == 0 {
			t.Fatalf("after the request: %d certificates, %d verified chains; want s_client's, verified", len(st.PeerCertificates), len(st.VerifiedChains))
		}
		reply := reverse(line)
		if _, err := conn.Write([]byte(reply + "\n")); err != nil {
			t.Fatal(err)
		}
		if err := waitForText(ctx, cli, reply); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		stdin.close()
		cli.wait()
	})

	t.Run("tlsflow-client/openssl-s_server", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), opensslTimeout)
		defer cancel()
		stdin := stdinPipe(t)
		srv, raw := startOpenSSLServer(t, ctx, openssl, stdin.r, "s_server", "-tls1_3",
			"-cert", f.certFile[c.ecdsa], "-key", f.keyFile[c.ecdsa], "-CAfile", f.caFile, "-verify", "1")
		conn := tlsflow.Client(raw, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost",
			Certificates: []tlsflow.Certificate{flowCert(c.client)}})
		defer conn.Close()
		if err := conn.HandshakeContext(ctx); err != nil {
			t.Fatalf("tlsflow client handshake: %v", err)
		}
		// s_server -verify asks for our certificate in the handshake
		// already; its "c" asks again, after it. Our Read, under way,
		// answers.
		verified := regexp.MustCompile(`depth=0 .*test client`)
		if _, err := waitForCount(ctx, srv, verified, 1); err != nil {
			t.Fatal(err)
		}
		type readLine struct {
			line string
			err  error
		}
		lines := make(chan readLine, 1)
		go func() {
			got, err := bufio.NewReader(conn).ReadString('\n')
			lines <- readLine{got, err}
		}()
		stdin.write(t, "c")
		if _, err := waitForCount(ctx, srv, verified, 2); err != nil {
			t.Fatalf("s_server did not verify our certificate a second time: %v", err)
		}
		if _, err := srv.waitFor(ctx, regexp.MustCompile(`SSL_do_handshake -> 1`)); err != nil {
			t.Fatal(err)
		}
		line := randomLetters(100)
		stdin.write(t, line)
		if got := <-lines; strings.TrimSpace(got.line) != line {
			t.Fatalf("tlsflow client read %q, %v; want s_server's line after the post-handshake authentication", got.line, got.err)
		}
		marker := randomLetters(64)
		if _, err := conn.Write([]byte(marker + "\n")); err != nil {
			t.Fatal(err)
		}
		if err := waitForText(ctx, srv, marker); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		stdin.close()
		srv.wait()
	})
}
