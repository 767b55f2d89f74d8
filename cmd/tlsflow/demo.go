package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

const demoHelp = `Usage: tlsflow demo [flags]

Runs a tlsflow server and client in one process over loopback TCP, with a
certificate authority, a server certificate and a client certificate made
at start, and prints each step of the handshake (0–8) with its messages and
their key fields. Then it sends an HTTP GET over the TLS connection (step 8).

By default it follows the course note exactly: TLS 1.2, the RSA key exchange
(TLS_RSA_WITH_AES_128_GCM_SHA256), and a client certificate the server requires.

Examples:
  tlsflow demo                      the note's flow
  tlsflow demo --suite ecdhe-rsa    forward secrecy: ECDHE signed with RSA
  tlsflow demo --suite ecdhe-ecdsa  ECDHE signed with an ECDSA P-256 certificate
  tlsflow demo --hex                add a hex dump of every message

Flags:
`

// demoSuites maps --suite to the cipher suite and the server key type.
var demoSuites = map[string]struct {
	id  uint16
	key pki.KeyType
}{
	"rsa":         {tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256, pki.RSA2048},
	"ecdhe-rsa":   {tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, pki.RSA2048},
	"ecdhe-ecdsa": {tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, pki.ECDSAP256},
}

func runDemo(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(out)
	suiteName := fs.String("suite", "rsa", "key exchange: rsa (the note's flow), ecdhe-rsa or ecdhe-ecdsa")
	hexDump := fs.Bool("hex", false, "add a hex dump of every handshake message")
	fs.Usage = func() { fmt.Fprint(out, demoHelp); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	color := trace.ColorAuto(out) // before out is wrapped: is it a terminal?
	out = &lockedWriter{w: out}   // the server's goroutines trace too
	choice, ok := demoSuites[*suiteName]
	if !ok {
		return fmt.Errorf("unknown --suite %q (want rsa, ecdhe-rsa or ecdhe-ecdsa)", *suiteName)
	}

	fmt.Fprintf(out, "tlsflow demo: %s, client certificate required\n", tlsflow.CipherSuiteName(choice.id))
	fmt.Fprintln(out, "Making a certificate authority, a server and a client certificate …")
	ca, err := pki.NewCA("tlsflow demo CA", pki.ECDSAP256)
	if err != nil {
		return err
	}
	server, err := ca.Issue(pki.LeafOptions{KeyType: choice.key, CommonName: "localhost",
		DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return err
	}
	client, err := ca.Issue(pki.LeafOptions{KeyType: pki.ECDSAP256, CommonName: "demo client",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return err
	}

	hook := trace.NewRenderer(out, trace.Options{Format: trace.FormatText, Hex: *hexDump, SentOnly: true, Color: color})
	serverConfig := &tlsflow.Config{
		Certificates: []tlsflow.Certificate{{Certificate: server.Chain, PrivateKey: server.Key, Leaf: server.Cert}},
		ClientAuth:   tlsflow.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool,
		CipherSuites: []uint16{choice.id},
		MaxVersion:   tlsflow.VersionTLS12,
		Trace:        hook,
	}
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", serverConfig)
	if err != nil {
		return err
	}
	defer ln.Close()
	httpServer := &http.Server{Handler: http.HandlerFunc(hello), ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) }}
	go httpServer.Serve(ln)
	defer httpServer.Close()

	clientConfig := &tlsflow.Config{
		RootCAs:      ca.Pool,
		ServerName:   "localhost",
		Certificates: []tlsflow.Certificate{{Certificate: client.Chain, PrivateKey: client.Key, Leaf: client.Cert}},
		CipherSuites: []uint16{choice.id},
		MaxVersion:   tlsflow.VersionTLS12,
		Trace:        hook,
	}
	conn, err := tlsflow.Dial("tcp", ln.Addr().String(), clientConfig)
	if err != nil {
		return fmt.Errorf("handshake failed: %w", err)
	}
	defer conn.Close()
	defer httpServer.Shutdown(context.Background()) // let the server finish tracing first

	fmt.Fprintf(out, "\nClient: GET / over the TLS connection\n")
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nServer answered: %s\n%s\n", resp.Status, strings.TrimSpace(string(body)))
	return nil
}

type connKey struct{}

// hello answers with what the handshake negotiated, as the server saw it.
func hello(w http.ResponseWriter, r *http.Request) {
	conn, ok := r.Context().Value(connKey{}).(*tlsflow.Conn)
	if !ok {
		http.Error(w, "not a tlsflow connection", http.StatusInternalServerError)
		return
	}
	st := conn.ConnectionState()
	who := "anonymous client"
	if len(st.PeerCertificates) > 0 {
		who = st.PeerCertificates[0].Subject.CommonName
	}
	fmt.Fprintf(w, "Hello, %s: you reached this page over %s with %s.\n",
		who, tlsflow.VersionName(st.Version), tlsflow.CipherSuiteName(st.CipherSuite))
}

// lockedWriter lets the client, the server and the demo print to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
