package tlsflow_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// phaPair is an established TLS 1.3 connection between tlsflow peers whose
// server asked for no client certificate in the handshake; the client's
// Config has cli's certificate settings.
func phaPair(t *testing.T, cli *tlsflow.Config, srv *tlsflow.Config) (*tlsflow.Conn, *tlsflow.Conn) {
	t.Helper()
	if srv == nil {
		srv = &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(sharedCerts().ecdsa)}, ClientCAs: sharedCerts().ca.Pool}
	}
	cli.RootCAs, cli.ServerName = sharedCerts().ca.Pool, "localhost"
	return flowPair(t, cli, srv)
}

// clientReads runs the client's reader until the connection ends, as an
// application waiting for the server's answer does, and returns what it read.
func clientReads(c *tlsflow.Conn) <-chan string {
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(c)
		out <- string(b)
	}()
	return out
}

// TestPostHandshakeAuth: after a handshake without client authentication,
// the server asks for a certificate; the client (reading, as it waits for
// the server's answer) shows its own, which the server verifies against
// ClientCAs; ConnectionState then has it on the server. The data flows on.
func TestPostHandshakeAuth(t *testing.T) {
	c := sharedCerts()
	cc, sc := phaPair(t, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.client)}}, nil)
	if n := len(sc.ConnectionState().PeerCertificates); n != 0 {
		t.Fatalf("the server has %d client certificates before asking", n)
	}
	read := clientReads(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sc.RequestClientCertificate(ctx, tlsflow.RequireAndVerifyClientCert); err != nil {
		t.Fatalf("RequestClientCertificate: %v", err)
	}
	st := sc.ConnectionState()
	if len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "test client" || len(st.VerifiedChains) == 0 {
		t.Fatalf("server state after the request: %d certificates, %d verified chains; want the client's, verified", len(st.PeerCertificates), len(st.VerifiedChains))
	}
	// A second request on the same connection works too.
	if err := sc.RequestClientCertificate(ctx, tlsflow.RequestClientCert); err != nil {
		t.Fatalf("a second RequestClientCertificate: %v", err)
	}
	io.WriteString(sc, "welcome")
	sc.Close()
	if got := <-read; got != "welcome" {
		t.Errorf("the client read %q; want the server's data after the authentication", got)
	}
}

// TestPostHandshakeAuthWithoutACertificate: a client with a callback that
// has no certificate for this server answers with an empty Certificate;
// required, the server gets ErrNoClientCertificate and the connection goes
// on; merely requested, it is no error.
func TestPostHandshakeAuthWithoutACertificate(t *testing.T) {
	none := func(*tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
		return &tlsflow.Certificate{}, nil
	}
	cc, sc := phaPair(t, &tlsflow.Config{GetClientCertificate: none}, nil)
	read := clientReads(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sc.RequestClientCertificate(ctx, tlsflow.RequireAnyClientCert); !errors.Is(err, tlsflow.ErrNoClientCertificate) {
		t.Fatalf("required: %v; want ErrNoClientCertificate", err)
	}
	if err := sc.RequestClientCertificate(ctx, tlsflow.RequestClientCert); err != nil {
		t.Fatalf("requested: %v", err)
	}
	io.WriteString(sc, "still here")
	sc.Close()
	if got := <-read; got != "still here" {
		t.Errorf("the client read %q after the refusal; want the connection to go on", got)
	}
}

// TestPostHandshakeAuthCertificateFromAnotherCA: a chain the server does
// not trust ends the connection with the alert a handshake would send.
func TestPostHandshakeAuthCertificateFromAnotherCA(t *testing.T) {
	c := sharedCerts()
	cc, sc := phaPair(t, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.clientFromOther)}}, nil)
	read := clientReads(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := sc.RequestClientCertificate(ctx, tlsflow.RequireAndVerifyClientCert)
	var sent tlsflow.AlertError
	if !errors.As(err, &sent) || sent != tlsflow.AlertError(48) {
		t.Fatalf("RequestClientCertificate: %v; want unknown_ca", err)
	}
	<-read // the client's reader ends with the alert
	if n := len(sc.ConnectionState().PeerCertificates); n != 0 {
		t.Errorf("the server keeps %d certificates of a chain it refused", n)
	}
}

// TestPostHandshakeAuthNotOffered: a client without a certificate source
// does not offer post-handshake authentication, and the server does not
// ask (RFC 8446 §4.6.2: "Servers MUST NOT send a post-handshake
// CertificateRequest to clients which do not offer this extension").
func TestPostHandshakeAuthNotOffered(t *testing.T) {
	_, sc := phaPair(t, &tlsflow.Config{}, nil)
	err := sc.RequestClientCertificate(context.Background(), tlsflow.RequestClientCert)
	if err == nil || !strings.Contains(err.Error(), "did not offer") {
		t.Fatalf("RequestClientCertificate: %v; want a refusal naming post_handshake_auth", err)
	}
}
