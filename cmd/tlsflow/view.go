package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

const viewHelp = `Usage: tlsflow view [flags] [FILE.jsonl]
       tlsflow view --pcap FILE [--keylog FILE] [--trace text|json] [--conn N]

Serves a page on this machine that draws a TLS handshake as a sequence
diagram: the client and the server as lanes, every message as an arrow
labelled with its name and the course note's step. Click a message to see
its decoded fields and its bytes.

With FILE it shows a recorded handshake: JSON lines as a trace JSON renderer
writes them (tlsflow connect --trace json, or trace.FormatJSON). Without it
runs a fresh handshake between a tlsflow client and server in this process
(with a client certificate, so every step 1–7 shows) and shows that.
Secrets in a recording are never served. Ctrl-C stops it.

With --pcap it reads a packet capture (pcap or pcapng: tcpdump -w,
tshark -w, Wireshark), finds the TLS connections in it on any port and
shows each as the course note's flow: the messages as each side sent
them, decoded as tlsflow decodes its own. With --keylog (an NSS key log:
SSLKEYLOGFILE, openssl s_client -keylogfile) the encrypted part is
decrypted too: TLS 1.3 from EncryptedExtensions on, TLS 1.2 after each
ChangeCipherSpec (AES-GCM and ChaCha20-Poly1305 suites), and the start of
the application data in each direction. --trace text or json writes every
connection to standard output instead of serving the page; the page shows
the connection --conn chooses.

Examples:
  tlsflow view                         a live TLS 1.3 handshake, then open the printed URL
  tlsflow view --flow tls12            a live TLS 1.2 handshake (ECDHE)
  tlsflow view handshake.jsonl         a recorded one
  tlsflow view --addr 127.0.0.1:9090 handshake.jsonl
  tlsflow view --pcap tls.pcap --keylog keys.log     the first TLS connection of a capture, decrypted
  tlsflow view --pcap tls.pcapng --trace text        every TLS connection in it, as text
  tlsflow view --pcap tls.pcap --conn 2              the second one, in the browser
`

//go:embed view
var viewAssets embed.FS

func runView(ctx context.Context, args []string, out io.Writer) error {
	flags := newFlagSet("view", viewHelp, out)
	addr := flags.String("addr", "127.0.0.1:8080", "address to serve the page on")
	flow := flags.String("flow", "", "the live handshake, without FILE: tls13 (default) or tls12")
	var pc pcapFlags
	pc.register(flags)
	files, err := parseFlags(flags, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	var events []trace.Event
	var what string
	switch {
	case pc.pcap != "" || pc.set():
		if pc.pcap == "" {
			return usagef("--keylog, --trace and --conn read a capture: give it with --pcap FILE")
		}
		if len(files) > 0 || *flow != "" {
			return usagef("--pcap shows a capture; it takes no recording and no --flow")
		}
		if events, what, err = pc.run(out); err != nil || events == nil {
			return err
		}
	case len(files) > 1:
		return usagef("view shows one recording; got %d files", len(files))
	case len(files) == 1 && *flow != "":
		return usagef("--flow chooses a live handshake; a recording (%s) shows its own", files[0])
	case len(files) == 1:
		if events, err = readRecording(files[0]); err != nil {
			return err
		}
		what = files[0]
	default:
		if *flow == "" {
			*flow = "tls13"
		}
		if *flow != "tls12" && *flow != "tls13" {
			return usagef("unknown --flow %q (want tls12 or tls13)", *flow)
		}
		fmt.Fprintf(out, "tlsflow view: running a %s handshake between a tlsflow client and server …\n", *flow)
		if events, err = liveHandshake(ctx, *flow); err != nil {
			return err
		}
		what = "a live " + *flow + " handshake"
	}
	// A trace of both sides holds two goroutines' events: the diagram
	// draws them in the order of the wire (one side's stays as it is). A
	// capture is in that order already.
	if pc.pcap == "" {
		events = trace.WireOrder(events)
	}

	handler, err := newViewHandler(events)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(out, "tlsflow view: showing %s at %s (Ctrl-C stops)\n", what, pageURL(ln.Addr()))

	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// A browser may hold a connection it has not sent a request on yet
	// (a preconnect), which Shutdown would wait for: give requests in
	// flight a moment, then close whatever is left.
	shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	return nil
}

// pageURL is the address to open: a listener on every interface is
// reached as localhost.
func pageURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// readRecording reads a JSON lines trace; an error names the file and line.
func readRecording(path string) ([]trace.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	events, err := trace.ReadJSONLines(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%s: no trace events in it", path)
	}
	return events, nil
}

// newViewHandler serves the page and, at /events.json, events as a JSON
// array of JSON.md objects without their secrets.
func newViewHandler(events []trace.Event) (http.Handler, error) {
	shown := make([]trace.Event, len(events))
	for i, e := range events {
		e.Secret = nil // a page is no place for key material, even on localhost
		shown[i] = e
	}
	body, err := json.Marshal(shown)
	if err != nil {
		return nil, err
	}
	assets, err := fs.Sub(viewAssets, "view")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(assets))
	mux.HandleFunc("GET /events.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(body)
	})
	return viewHeaders(mux), nil
}

// viewHeaders refuses requests whose Host is a name other than localhost,
// so a web page cannot rebind its own name to this server and read the
// handshake, and keeps the page to its own scripts and styles.
func viewHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if net.ParseIP(host) == nil && !strings.EqualFold(host, "localhost") {
			http.Error(w, "tlsflow view answers only to localhost or an IP address", http.StatusMisdirectedRequest)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// liveHandshake runs one handshake and an HTTP GET between a tlsflow client
// and server in this process, with a client certificate the server
// requires, and returns both sides' events.
func liveHandshake(ctx context.Context, flow string) ([]trace.Event, error) {
	var version uint16
	switch flow {
	case "tls12":
		version = tlsflow.VersionTLS12
	case "tls13":
		version = tlsflow.VersionTLS13
	default:
		return nil, usagef("unknown --flow %q (want tls12 or tls13)", flow)
	}
	ca, err := pki.NewCA("tlsflow view CA", pki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	server, err := ca.Issue(pki.LeafOptions{KeyType: pki.ECDSAP256, CommonName: "localhost",
		DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return nil, err
	}
	client, err := ca.Issue(pki.LeafOptions{KeyType: pki.ECDSAP256, CommonName: "view client",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return nil, err
	}

	var rec eventRecorder
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", &tlsflow.Config{
		Certificates: []tlsflow.Certificate{{Certificate: server.Chain, PrivateKey: server.Key, Leaf: server.Cert}},
		ClientAuth:   tlsflow.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool,
		MinVersion:   version,
		MaxVersion:   version,
		Trace:        rec.add,
	})
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello from tlsflow view\n")
		})}
	go srv.Serve(ln)
	defer srv.Close()

	dialer := &tlsflow.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: &tlsflow.Config{
		RootCAs:      ca.Pool,
		ServerName:   "localhost",
		Certificates: []tlsflow.Certificate{{Certificate: client.Chain, PrivateKey: client.Key, Leaf: client.Cert}},
		MinVersion:   version,
		MaxVersion:   version,
		Trace:        rec.add,
	}}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := dialer.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return nil, fmt.Errorf("live handshake: %w", err)
	}
	if err := viewGET(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("live handshake: GET /: %w", err)
	}
	conn.Close()
	// Let the server see the close and trace its end before taking the events.
	shutdown, cancelShutdown := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShutdown()
	srv.Shutdown(shutdown)
	return rec.all(), nil
}

// viewGET sends GET / over conn and reads the whole answer (step 8).
func viewGET(conn net.Conn) error {
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("server answered %s", resp.Status)
	}
	return nil
}

// eventRecorder is a trace.Hook that keeps events from both sides in the
// order they happened.
type eventRecorder struct {
	mu     sync.Mutex
	events []trace.Event
}

func (r *eventRecorder) add(e trace.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *eventRecorder) all() []trace.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]trace.Event(nil), r.events...)
}
