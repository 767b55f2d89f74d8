package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http2"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

const serveHelp = `Usage: tlsflow serve [flags]

Runs an HTTPS server (HTTP/1.1 and HTTP/2) whose page shows the handshake the
visitor just made: version, cipher suite, group, ALPN, server name, whether
the session was resumed, the client certificate, and every handshake message
as the server saw it. It prints one line per visitor (with --trace, the whole
handshake). Ctrl-C stops it.

Without --cert and --key it makes a CA and a server certificate for
localhost, 127.0.0.1, ::1 and this machine's name, prints the certificate's
SHA-256 fingerprint, and writes the CA to a file for clients to trust
(removed when the server stops). With --client-auth and no --client-ca it
also issues a client certificate from that CA to try client authentication.

With --psk-identity and --psk it also holds an external pre-shared key
(TLS 1.3, SHA-256, as openssl s_server -psk): a client offering the same key
is authenticated by it, and no certificate is sent either way. Given alone,
without --cert and --key, the key is all the server has: no certificate is
made, and only clients with the key get in.

With --post-handshake-auth PATH a request for PATH makes the server ask for
a client certificate after the handshake (TLS 1.3 post-handshake
authentication, RFC 8446 §4.6.2: a CertificateRequest on the established
connection), and the page says what came: the certificate, verified against
--client-ca or the CA made here (else taken unverified), or that none was
sent. Only clients that offered it in their ClientHello can be asked
(tlsflow connect with --cert and --key, curl built with OpenSSL,
openssl s_client -enable_pha; browsers hardly ever), only over HTTP/1.1:
HTTP/2 forbids it (RFC 8740), and such a request is answered 505. Without
--cert and --key, serve also makes a client certificate to try it with.

With --early-data serve accepts 0-RTT early data (TLS 1.3, RFC 8446 §2.3)
from clients that resume its sessions: its tickets allow --max-early-data
bytes (default 16384, at most 65536). The visitor's line and the page show
what came early (its length and how it begins), with the warning that it
can be replayed: anyone who copied it can send it again. serve reads it
before the handshake completes and answers after it. A request that began in
early data is marked Early-Data: 1, as RFC 8470 §5.1 has a front end mark it
for the server behind it; the page says so, and a request with a method that
is not safe to repeat (anything but GET, HEAD and OPTIONS) gets 425 Too
Early without being acted on (RFC 8470 §5.2): the client may send it again
after the handshake. Clients: tlsflow connect --reconnect --early-data FILE
(serve writes a FILE with a GET to try), openssl s_client -sess_out, then
-sess_in with -early_data FILE.

The page is HTML, or plain text when the request's Accept header prefers
text/plain.

Examples:
  tlsflow serve                                   then open https://localhost:8443/
  tlsflow serve --addr 127.0.0.1:9443 --trace text
  tlsflow serve --cert server.pem --key server.key
  tlsflow serve --client-auth require             and connect with the client certificate it prints
  tlsflow serve --client-auth request --client-ca clients-ca.pem
  tlsflow serve --alpn http/1.1 --tls1.2 --lang de
  tlsflow serve --psk-identity device-17 --psk "$(cat psk.hex)"   (openssl rand -hex 32 > psk.hex)
  tlsflow serve --post-handshake-auth /secret     and connect with the client certificate it prints
  tlsflow serve --early-data                      and connect with the 0-RTT line it prints
  tlsflow serve --early-data --max-early-data 4096
  curl --cacert <CA file> https://localhost:8443/
  curl --cacert <CA file> -H 'Accept: text/plain' https://localhost:8443/
  tlsflow connect --ca <CA file> --http localhost:8443
  tlsflow connect --ca <CA file> --cert <client.pem> --key <client.key> --http --path /secret localhost:8443
  tlsflow connect --ca <CA file> --reconnect --early-data <request file> localhost:8443
`

// Bounds on the trace kept per connection for its page: events, and the
// raw bytes kept with them (message sizes, --hex).
const (
	maxVisitorEvents   = 256
	maxVisitorRawBytes = 64 << 10
)

// serveCertValidity is how long a certificate made by serve lasts: long
// enough for a course, short enough not to be mistaken for a real one.
const serveCertValidity = 30 * 24 * time.Hour

type serveOptions struct {
	addr       string
	certFile   string
	keyFile    string
	keyType    string
	clientAuth string
	clientCA   string
	alpn       listFlag
	suites     listFlag
	versions   versionFlags
	psk        pskFlags
	pskOnly    bool // --psk without --cert and --key: no certificate at all
	phaPath    string
	phaAuth    tlsflow.ClientAuthType // what the post-handshake request accepts
	earlyData  bool
	maxEarly   int
	echName    string // --ech: the public name of an ECH configuration made here
	echList    string // its ECHConfigList in base64, for clients
	trace      traceFlags
	lang       language
}

func runServe(ctx context.Context, args []string, out io.Writer) error {
	var o serveOptions
	fs := newFlagSet("serve", serveHelp, out)
	fs.StringVar(&o.addr, "addr", ":8443", "address to listen on")
	fs.StringVar(&o.certFile, "cert", "", "PEM file of the server's certificate chain (default: make one)")
	fs.StringVar(&o.keyFile, "key", "", "PEM file of the certificate's private key")
	fs.StringVar(&o.keyType, "key-type", "rsa", "key of a certificate made here: rsa (RSA-2048: every suite, also the RSA key exchange) or ecdsa (P-256)")
	fs.StringVar(&o.clientAuth, "client-auth", "none", "client certificates: none, request (verify one if sent) or require")
	fs.StringVar(&o.clientCA, "client-ca", "", "PEM file of the CAs that issue client certificates (default with --client-auth: the CA made here)")
	fs.Var(&o.alpn, "alpn", "application protocols (ALPN), in order of preference; h2 and http/1.1 are served (default h2,http/1.1)")
	fs.Var(&o.suites, "suites", "cipher suites to enable, comma-separated IANA names (default: tlsflow's; the RSA key exchange only if named)")
	o.versions.register(fs)
	o.psk.register(fs)
	fs.StringVar(&o.phaPath, "post-handshake-auth", "", "PATH: ask for a client certificate after the handshake when PATH is requested (TLS 1.3, HTTP/1.1; verified against --client-ca or the CA made here, else any)")
	fs.StringVar(&o.echName, "ech", "", "accept Encrypted Client Hello: make an ECH key whose configuration names `PUBLICNAME` as the public name (with a certificate for it when certificates are made here; a --cert must cover it) and print the configuration list for clients")
	fs.BoolVar(&o.earlyData, "early-data", false, "accept 0-RTT early data from resuming clients (TLS 1.3), show it, and answer requests in it that are safe to repeat (others: 425 Too Early)")
	fs.IntVar(&o.maxEarly, "max-early-data", defaultMaxEarlyData, "with --early-data: how many `bytes` of early data the tickets allow, 1 to 65536")
	o.trace.register(fs, "none", false) // serve keeps no key log, so no --secrets
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve takes no arguments (got %q); the address is --addr", pos)
	}
	if err := o.trace.check(); err != nil {
		return err
	}
	o.lang = pickLanguage(o.trace.lang)
	l := o.lang
	maxEarlySet := false
	fs.Visit(func(f *flag.Flag) { maxEarlySet = maxEarlySet || f.Name == "max-early-data" })
	if err := o.checkEarlyData(maxEarlySet); err != nil {
		return err
	}
	switch o.clientAuth { // a bad value is the user's first mistake, whatever the port
	case "none", "request", "require":
	default:
		return usagef("--client-auth %q: want none, request or require", o.clientAuth)
	}
	if len(o.alpn) == 0 {
		o.alpn = listFlag{"h2", "http/1.1"}
	}

	// The port first: a busy one is known before keys are made.
	inner, err := net.Listen("tcp", o.addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return usagef("--addr %s: the port is in use (is a tlsflow serve running already?); choose another with --addr", o.addr)
	}
	if err != nil {
		return fmt.Errorf("--addr %s: %w", o.addr, err)
	}
	defer inner.Close()
	tmp, err := os.MkdirTemp("", "tlsflow-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg, files, err := o.config(out, tmp)
	if err != nil {
		return err
	}
	if o.phaPath != "" {
		// As --client-auth request does in the handshake: verify what the
		// client sends against the client CAs serve has; without any, take
		// whatever chain the client proves it holds.
		o.phaAuth = tlsflow.RequestClientCert
		how := l.say(say{"any certificate, not verified (no --client-ca)", "jedes Zertifikat, ungeprüft (kein --client-ca)"})
		if cfg.ClientCAs != nil {
			o.phaAuth = tlsflow.VerifyClientCertIfGiven
			how = l.say(say{"verified against the client CAs", "gegen die Client-Zertifizierungsstellen geprüft"})
		}
		fmt.Fprintln(out, l.sayf(say{"Requests for %s ask for a client certificate after the handshake: %s", "Bei Anfragen nach %s bittet der Server nach dem Handshake um ein Client-Zertifikat: %s"}, o.phaPath, how))
	}
	s := &server{cfg: cfg, out: out, opt: &o, files: files, lang: l,
		conns: map[*visitor]bool{}, queue: make(chan net.Conn), done: make(chan struct{})}
	if _, err := rand.Read(s.ticketKey[:]); err != nil {
		return err
	}
	port := inner.Addr().(*net.TCPAddr).Port
	fmt.Fprintln(out, l.sayf(say{"Listening on %s — open https://localhost:%d/", "Lausche auf %s — https://localhost:%d/ öffnen"}, inner.Addr(), port))
	if files.ca != "" {
		// Lines that work as printed: with client authentication, the
		// client certificate serve made goes with them.
		withCert := ""
		if files.clientCert != "" {
			withCert = fmt.Sprintf(" --cert %s --key %s", files.clientCert, files.clientKey)
		}
		fmt.Fprintln(out, l.say(say{"Try:", "Zum Ausprobieren:"}))
		fmt.Fprintf(out, "  curl --cacert %s%s https://localhost:%d/\n", files.ca, withCert, port)
		fmt.Fprintf(out, "  tlsflow connect --ca %s%s --http localhost:%d\n", files.ca, withCert, port)
		if o.echList != "" {
			fmt.Fprintf(out, "  tlsflow connect --ca %s%s --ech %s --http localhost:%d\n", files.ca, withCert, o.echList, port)
		}
		if o.earlyData {
			// A request to send early, in a file, for the line to work.
			req := filepath.Join(tmp, "early-request.txt")
			if err := os.WriteFile(req, []byte("GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(out, "  tlsflow connect --ca %s%s --reconnect --early-data %s localhost:%d\n", files.ca, withCert, req, port)
		}
		if o.phaPath != "" && files.clientCert != "" {
			// HTTP/2 forbids post-handshake authentication: curl must
			// ask over HTTP/1.1.
			fmt.Fprintf(out, "  curl --http1.1 --cacert %s --cert %s --key %s https://localhost:%d%s\n",
				files.ca, files.clientCert, files.clientKey, port, shellQuote(o.phaPath))
			fmt.Fprintf(out, "  tlsflow connect --ca %s --cert %s --key %s --http --path %s localhost:%d\n",
				files.ca, files.clientCert, files.clientKey, shellQuote(o.phaPath), port)
		}
	}
	if o.psk.identity != "" {
		// The key stays off the screen: these lines take it from $PSK.
		id := shellQuote(o.psk.identity)
		fmt.Fprintln(out, l.say(say{"Try, with the hex key of --psk in PSK:", "Zum Ausprobieren, mit dem Hex-Schlüssel von --psk in PSK:"}))
		fmt.Fprintf(out, "  tlsflow connect --psk-identity %s --psk \"$PSK\" --http localhost:%d\n", id, port)
		fmt.Fprintf(out, "  openssl s_client -psk_identity %s -psk \"$PSK\" -connect localhost:%d\n", id, port)
	}
	return s.serve(ctx, inner)
}

// generatedFiles are the files serve wrote for clients; "" when not made.
type generatedFiles struct{ ca, clientCert, clientKey string }

// config builds the server's Config, making the certificates that were
// not given.
func (o *serveOptions) config(out io.Writer, dir string) (*tlsflow.Config, generatedFiles, error) {
	var files generatedFiles
	cfg := &tlsflow.Config{NextProtos: o.alpn}
	if err := o.versions.apply(cfg); err != nil {
		return nil, files, err
	}
	var err error
	if cfg.CipherSuites, err = parseSuites(o.suites); err != nil {
		return nil, files, err
	}
	if err := suitesFitVersions(cfg.CipherSuites, o.versions); err != nil {
		return nil, files, err
	}
	for _, p := range o.alpn {
		if p != "h2" && p != "http/1.1" {
			return nil, files, usagef("--alpn %q: the server speaks h2 and http/1.1", p)
		}
	}
	if o.earlyData {
		cfg.MaxEarlyData = uint32(o.maxEarly)
		fmt.Fprintln(out, o.lang.sayf(say{"Early data (0-RTT): the tickets allow %d bytes; requests in them are marked, and those not safe to repeat answered 425 Too Early",
			"Frühe Daten (0-RTT): die Tickets erlauben %d Bytes; Anfragen darin werden markiert, und die nicht gefahrlos wiederholbaren mit 425 Too Early beantwortet"}, o.maxEarly))
	}
	if o.phaPath != "" {
		if err := checkPath(o.lang, "--post-handshake-auth", o.phaPath); err != nil {
			return nil, files, err
		}
		if o.versions.tls12 {
			return nil, files, usageSay(o.lang, say{"--post-handshake-auth needs TLS 1.3 (TLS 1.2 could only renegotiate, which tlsflow does not do), and --tls1.2 allows only TLS 1.2",
				"--post-handshake-auth braucht TLS 1.3 (TLS 1.2 könnte nur neu verhandeln, was tlsflow nicht tut), und --tls1.2 lässt nur TLS 1.2 zu"})
		}
	}
	switch o.clientAuth {
	case "none":
	case "request":
		cfg.ClientAuth = tlsflow.VerifyClientCertIfGiven
	case "require":
		cfg.ClientAuth = tlsflow.RequireAndVerifyClientCert
	default:
		return nil, files, usagef("--client-auth %q: want none, request or require", o.clientAuth)
	}
	if o.clientCA != "" {
		if cfg.ClientCAs, err = loadCertPool(o.clientCA); err != nil {
			return nil, files, fmt.Errorf("--client-ca: %w", err)
		}
	}
	psk, err := o.psk.externalPSK(o.lang, o.versions, cfg.CipherSuites)
	if err != nil {
		return nil, files, err
	}
	if psk != nil {
		cfg.ExternalPSKs = []tlsflow.ExternalPSK{*psk}
		o.pskOnly = o.certFile == "" && o.keyFile == ""
		// RFC 8446 §4.3.2: a server authenticating with a PSK sends no
		// CertificateRequest in the handshake.
		if o.pskOnly && cfg.ClientAuth != tlsflow.NoClientCert {
			return nil, files, usageSay(o.lang, say{"--client-auth asks for a client certificate in a certificate handshake, and with --psk alone there is none: add --cert and --key, or leave --client-auth out",
				"--client-auth verlangt ein Client-Zertifikat in einem Handshake mit Zertifikat, und mit --psk allein gibt es keinen: --cert und --key angeben oder --client-auth weglassen"})
		}
		fmt.Fprintln(out, o.lang.sayf(say{"External pre-shared key (PSK): identity %q, used with SHA-256", "Externer Pre-Shared Key (PSK): Identität %q, mit SHA-256"}, psk.Identity))
	}
	if o.pskOnly {
		fmt.Fprintln(out, o.lang.say(say{"No certificate: only clients holding the key get in.", "Kein Zertifikat: nur Clients mit dem Schlüssel kommen herein."}))
		return cfg, files, nil
	}

	cert, err := loadKeyPair(o.certFile, o.keyFile)
	if err != nil {
		return nil, files, err
	}
	var ca *pki.Authority
	if cert == nil {
		if cert, ca, err = o.makeCertificate(out); err != nil {
			return nil, files, err
		}
		files.ca = filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(files.ca, ca.CertPEM(), 0o644); err != nil {
			return nil, files, err
		}
		fmt.Fprintln(out, o.lang.sayf(say{"CA for clients to trust: %s", "Zertifizierungsstelle, der Clients vertrauen sollen: %s"}, files.ca))
		if (cfg.ClientAuth != tlsflow.NoClientCert || o.phaPath != "") && cfg.ClientCAs == nil {
			if files.clientCert, files.clientKey, err = issueClientCertificate(out, o.lang, ca, dir); err != nil {
				return nil, files, err
			}
			cfg.ClientCAs = ca.Pool
		}
	} else {
		leaf, _ := x509.ParseCertificate(cert.Certificate[0])
		if leaf != nil {
			fmt.Fprintln(out, o.lang.sayf(say{"Server certificate: %s", "Server-Zertifikat: %s"}, leaf.Subject))
		}
		fmt.Fprintln(out, o.lang.sayf(say{"SHA-256 fingerprint: %s", "SHA-256-Fingerabdruck: %s"}, fingerprint(cert.Certificate[0])))
	}
	if cfg.ClientAuth != tlsflow.NoClientCert && cfg.ClientCAs == nil {
		return nil, files, usagef("--client-auth %s with your own --cert needs --client-ca: the CAs whose client certificates to accept", o.clientAuth)
	}
	cfg.Certificates = []tlsflow.Certificate{*cert}
	if o.echName != "" {
		if err := o.setUpECH(out, cfg, ca); err != nil {
			return nil, files, err
		}
	}
	return cfg, files, nil
}

// setUpECH makes the ECH key of --ech and, when serve made the CA, the
// public name's certificate (the one a client checks when the server
// rejects its ECH offer, draft-ietf-tls-esni-25 §6.1.7).
func (o *serveOptions) setUpECH(out io.Writer, cfg *tlsflow.Config, ca *pki.Authority) error {
	key, err := tlsflow.NewECHConfig(1, o.echName)
	if err != nil {
		return usagef("--ech: %v", err)
	}
	list, err := tlsflow.MarshalECHConfigList(key.Config)
	if err != nil {
		return err
	}
	cfg.EncryptedClientHelloKeys = []tlsflow.EncryptedClientHelloKey{key}
	if ca != nil {
		leaf, err := ca.Issue(pki.LeafOptions{KeyType: pki.ECDSAP256, CommonName: o.echName, DNSNames: []string{o.echName},
			NotAfter: time.Now().Add(serveCertValidity), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			return err
		}
		cfg.Certificates = append(cfg.Certificates, tlsflow.Certificate{Certificate: leaf.Chain, PrivateKey: leaf.Key, Leaf: leaf.Cert})
	}
	o.echList = base64.StdEncoding.EncodeToString(list)
	fmt.Fprintln(out, o.lang.sayf(say{"Encrypted Client Hello: public name %s, configuration list (base64): %s",
		"Encrypted Client Hello: öffentlicher Name %s, Konfigurationsliste (base64): %s"}, o.echName, o.echList))
	return nil
}

// checkEarlyData refuses --early-data and --max-early-data where they
// cannot work.
func (o *serveOptions) checkEarlyData(maxSet bool) error {
	l := o.lang
	switch {
	case maxSet && !o.earlyData:
		return usageSay(l, say{"--max-early-data sets what --early-data allows: add --early-data", "--max-early-data legt fest, was --early-data erlaubt: --early-data angeben"})
	case !o.earlyData:
		return nil
	case o.maxEarly < 1 || o.maxEarly > maxEarlyData:
		return usageSay(l, say{"--max-early-data %d: want 1 to %d bytes (tlsflow reads at most 64 KiB of early data)",
			"--max-early-data %d: erwartet werden 1 bis %d Bytes (tlsflow liest höchstens 64 KiB frühe Daten)"}, o.maxEarly, maxEarlyData)
	case o.versions.tls12:
		return usageSay(l, say{"--early-data needs TLS 1.3 (TLS 1.2 has no 0-RTT), and --tls1.2 allows only TLS 1.2",
			"--early-data braucht TLS 1.3 (TLS 1.2 kennt kein 0-RTT), und --tls1.2 lässt nur TLS 1.2 zu"})
	}
	return nil
}

// makeCertificate makes a CA and a server certificate for this machine.
func (o *serveOptions) makeCertificate(out io.Writer) (*tlsflow.Certificate, *pki.Authority, error) {
	kt := pki.RSA2048
	switch o.keyType {
	case "rsa":
	case "ecdsa":
		kt = pki.ECDSAP256
	default:
		return nil, nil, usagef("--key-type %q: want rsa or ecdsa", o.keyType)
	}
	names := []string{"localhost", "127.0.0.1", "::1"}
	if host, err := os.Hostname(); err == nil && host != "" && host != "localhost" {
		names = append(names, host)
	}
	fmt.Fprintln(out, o.lang.sayf(say{"Making a CA and a server certificate for %s (key pair: %s …)",
		"Erzeuge eine Zertifizierungsstelle und ein Server-Zertifikat für %s (Schlüsselpaar: %s …)"}, strings.Join(names, ", "), kt))
	ca, err := pki.NewCA("tlsflow serve CA", pki.ECDSAP256)
	if err != nil {
		return nil, nil, err
	}
	opts := pki.LeafOptions{KeyType: kt, CommonName: "localhost", NotAfter: time.Now().Add(serveCertValidity),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			opts.IPs = append(opts.IPs, ip)
		} else {
			opts.DNSNames = append(opts.DNSNames, n)
		}
	}
	leaf, err := ca.Issue(opts)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(out, o.lang.sayf(say{"Server certificate: %s, valid until %s", "Server-Zertifikat: %s, gültig bis %s"},
		leaf.Cert.Subject, leaf.Cert.NotAfter.UTC().Format(time.RFC3339)))
	fmt.Fprintln(out, o.lang.sayf(say{"SHA-256 fingerprint: %s", "SHA-256-Fingerabdruck: %s"}, fingerprint(leaf.Chain[0])))
	return &tlsflow.Certificate{Certificate: leaf.Chain, PrivateKey: leaf.Key, Leaf: leaf.Cert}, ca, nil
}

func issueClientCertificate(out io.Writer, l language, ca *pki.Authority, dir string) (certFile, keyFile string, err error) {
	fmt.Fprintln(out, l.say(say{"Making a client certificate for trying client authentication (generating an ECDSA P-256 key …)",
		"Erzeuge ein Client-Zertifikat zum Ausprobieren der Client-Authentifizierung (erzeuge einen ECDSA-P-256-Schlüssel …)"}))
	leaf, err := ca.Client(pki.ECDSAP256, "tlsflow serve visitor")
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, leaf.ChainPEM(), 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, leaf.KeyPEM(), 0o600); err != nil {
		return "", "", err
	}
	fmt.Fprintln(out, l.sayf(say{"Client certificate: %s, key %s", "Client-Zertifikat: %s, Schlüssel %s"}, certFile, keyFile))
	return certFile, keyFile, nil
}

// server accepts TCP connections, runs each handshake with a Config of its
// own whose trace goes to that connection's log, then hands the connection
// to net/http (HTTP/1.1) or x/net/http2 (h2), as ALPN decided.
type server struct {
	cfg       *tlsflow.Config
	out       io.Writer
	outMu     sync.Mutex
	opt       *serveOptions
	files     generatedFiles
	lang      language
	ticketKey [32]byte

	mu    sync.Mutex
	conns map[*visitor]bool
	wg    sync.WaitGroup
	queue chan net.Conn // handshaken HTTP/1.1 connections for h1
	done  chan struct{}
}

func (s *server) serve(ctx context.Context, inner net.Listener) error {
	h1 := &http.Server{
		Handler:           http.HandlerFunc(s.page),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, visitorKey{}, c)
		},
	}
	h2 := &http2.Server{IdleTimeout: time.Minute}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		h1.Serve(&connQueue{addr: inner.Addr(), conns: s.queue, done: s.done})
	}()
	stop := context.AfterFunc(ctx, func() { inner.Close() })
	defer stop()

	var err error
	for {
		var raw net.Conn
		raw, err = inner.Accept()
		if err != nil {
			break
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(raw, h1, h2)
		}()
	}
	// Stopping: no new connections, close the open ones, wait for all.
	inner.Close()
	close(s.done)
	h1.Close()
	s.mu.Lock()
	open := make([]*visitor, 0, len(s.conns))
	for v := range s.conns {
		open = append(open, v)
	}
	s.mu.Unlock()
	for _, v := range open {
		v.Close()
	}
	s.wg.Wait()
	if ctx.Err() != nil {
		fmt.Fprintln(s.out, s.lang.say(say{"Stopped.", "Beendet."}))
		return nil
	}
	return err
}

// handle runs one connection's handshake and hands it to HTTP.
func (s *server) handle(raw net.Conn, h1 *http.Server, h2 *http2.Server) {
	v := &visitor{log: &eventLog{}, srv: s}
	cfg := s.cfg.Clone()
	// Clones share their original's session state (ticket keys, the 0-RTT
	// replay memory); the key set here is serve's one key all the same, so
	// a ticket from one connection opens on the next.
	if err := cfg.SetSessionTicketKeys([][32]byte{s.ticketKey}); err != nil {
		raw.Close()
		return
	}
	cfg.Trace = v.log.add
	v.Conn = tlsflow.Server(raw, cfg)
	s.mu.Lock()
	s.conns[v] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, v)
		s.mu.Unlock()
	}()

	// Both bounded by the Config's server handshake timeout. Early data
	// is read to its end and answered after the handshake: a copy of it
	// sent by someone else cannot complete one.
	var err error
	if s.opt.earlyData {
		v.earlyData, err = readEarlyData(v.Conn)
		v.earlyRejected = earlyRejection(v.log.snapshot())
	}
	if err == nil {
		err = v.Conn.Handshake()
	}
	s.report(v, err)
	if err != nil {
		v.Conn.Close()
		return
	}
	overH2 := v.Conn.ConnectionState().NegotiatedProtocol == "h2"
	if len(v.earlyData) > 0 {
		v.in = newEarlyReader(v.Conn, v.earlyData, overH2)
	}
	if overH2 {
		ctx := context.WithValue(context.Background(), visitorKey{}, v)
		h2.ServeConn(v, &http2.ServeConnOpts{Context: ctx, Handler: h1.Handler, BaseConfig: h1})
		v.Close()
		return
	}
	select {
	case s.queue <- v:
		<-v.closed() // h1 owns it now; wait so shutdown can wait for it
	case <-s.done:
		v.Close()
	}
}

// report prints the visitor's line and, with --trace, the events so far.
func (s *server) report(v *visitor, err error) {
	var b bytes.Buffer
	who := v.Conn.RemoteAddr().String()
	if err != nil {
		fmt.Fprintln(&b, s.lang.sayf(say{"visitor %s: handshake FAILED", "Besucher %s: Handshake FEHLGESCHLAGEN"}, who))
		step, msg := lastWireStep(v.log.snapshot())
		explain(s.lang, &failure{err: err, side: trace.Server, speaker: speakerServe, lastStep: step, lastMsg: msg, connected: true,
			clientAuth: s.opt.clientAuth, files: s.files, pskIdentity: s.opt.psk.identity, pskOnly: s.opt.pskOnly}).write(&b, s.lang, "  ")
	} else {
		st := v.Conn.ConnectionState()
		b.WriteString(s.lang.sayf(say{"visitor %s: %s, %s", "Besucher %s: %s, %s"}, who, tlsflow.VersionName(st.Version), tlsflow.CipherSuiteName(st.CipherSuite)))
		if st.CurveID != 0 {
			fmt.Fprintf(&b, ", %s", st.CurveID)
		}
		if st.NegotiatedProtocol != "" {
			fmt.Fprintf(&b, ", ALPN %s", st.NegotiatedProtocol)
		}
		if st.ServerName != "" {
			fmt.Fprintf(&b, ", SNI %s", st.ServerName)
		}
		if st.DidResume {
			b.WriteString(s.lang.say(say{", resumed", ", wiederaufgenommen"}))
		}
		if len(st.ExternalPSKIdentity) > 0 {
			fmt.Fprintf(&b, ", PSK %q", st.ExternalPSKIdentity)
		}
		if len(st.PeerCertificates) > 0 {
			b.WriteString(s.lang.sayf(say{", client %s", ", Client %s"}, st.PeerCertificates[0].Subject))
		}
		b.WriteString("\n")
		if words, ok := s.earlyWords(v); ok {
			writeRow(&b, s.lang, say{"early data (0-RTT)", "frühe Daten (0-RTT)"}, words)
		}
	}
	s.flushTrace(&b, v)
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.out.Write(b.Bytes())
}

// lastWireStep is the step and message of the last message that crossed
// the wire, -1 if none.
func lastWireStep(events []trace.Event) (int, string) {
	for i := len(events) - 1; i >= 0; i-- {
		if e := events[i]; e.Kind == trace.KindMessage && e.Step >= 0 {
			return e.Step, e.Message
		}
	}
	return -1, ""
}

// flushTrace renders the visitor's events not yet printed, for --trace.
func (s *server) flushTrace(b *bytes.Buffer, v *visitor) {
	if s.opt.trace.format == "none" {
		return
	}
	v.printMu.Lock()
	defer v.printMu.Unlock()
	events := v.log.since(&v.printed)
	if len(events) == 0 {
		return
	}
	if v.render == nil {
		v.render = s.opt.trace.hook(&v.rendered, false, false)
	}
	for _, e := range events {
		if e.Kind == trace.KindError && s.opt.trace.format == "text" {
			e.Fields = headlineFields(e.Fields) // the visitor's line explains it
		}
		v.render(e)
	}
	b.Write(v.rendered.Bytes())
	v.rendered.Reset()
}

type visitorKey struct{}

// visitor is a server connection with the trace of its handshake.
type visitor struct {
	*tlsflow.Conn
	log *eventLog
	srv *server

	once     sync.Once
	closedCh chan struct{}
	initOnce sync.Once

	// With --early-data: what the client sent early, or why it was not
	// read; the reader HTTP gets it from, marked (nil without any).
	earlyData     []byte
	earlyRejected string
	in            *earlyReader

	// Console rendering for --trace, by report and Close.
	printMu  sync.Mutex
	printed  int
	render   trace.Hook
	rendered bytes.Buffer
}

// Read is what HTTP reads: the early data first, if any came.
func (v *visitor) Read(p []byte) (int, error) {
	if v.in != nil {
		return v.in.Read(p)
	}
	return v.Conn.Read(p)
}

func (v *visitor) closed() chan struct{} {
	v.initOnce.Do(func() { v.closedCh = make(chan struct{}) })
	return v.closedCh
}

// Close closes the connection and prints what the trace saw after the
// handshake (application data, alerts), with --trace.
func (v *visitor) Close() error {
	err := v.Conn.Close()
	v.once.Do(func() {
		var b bytes.Buffer
		v.srv.flushTrace(&b, v)
		if b.Len() > 0 {
			v.srv.outMu.Lock()
			v.srv.out.Write(b.Bytes())
			v.srv.outMu.Unlock()
		}
		close(v.closed())
	})
	return err
}

// eventLog keeps one connection's trace events, up to maxVisitorEvents.
type eventLog struct {
	mu       sync.Mutex
	events   []trace.Event
	rawBytes int
	dropped  int
}

func (l *eventLog) add(e trace.Event) {
	e.Secret = nil // never kept: the page is for anyone
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) >= maxVisitorEvents {
		l.dropped++
		return
	}
	if l.rawBytes += len(e.Raw); l.rawBytes > maxVisitorRawBytes {
		e.Raw = nil
	} else {
		e.Raw = append([]byte(nil), e.Raw...) // the hook must not keep the caller's buffer
	}
	l.events = append(l.events, e)
}

func (l *eventLog) snapshot() []trace.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]trace.Event(nil), l.events...)
}

// since returns the events after *n and moves *n past them.
func (l *eventLog) since(n *int) []trace.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if *n >= len(l.events) {
		return nil
	}
	events := append([]trace.Event(nil), l.events[*n:]...)
	*n = len(l.events)
	return events
}

// connQueue is a net.Listener for net/http that yields connections
// whose handshake already ran.
type connQueue struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error   { return nil }
func (q *connQueue) Addr() net.Addr { return q.addr }

// pageData is what the page shows, in the language of --lang.
type pageData struct {
	Lang                                       string // "en" or "de", for <html lang>
	Title, MessagesHeading, TraceHeading, Kept string
	Rows                                       [][2]string
	Messages                                   []string
	Trace                                      string
	Dropped                                    int
}

// page answers every request with the visitor's handshake; a request for
// --post-handshake-auth's path first asks for a client certificate.
func (s *server) page(w http.ResponseWriter, r *http.Request) {
	v, ok := r.Context().Value(visitorKey{}).(*visitor)
	if !ok {
		http.Error(w, "not a tlsflow connection", http.StatusInternalServerError)
		return
	}
	if cameEarly(r) && !safeToReplay(r.Method) {
		s.tooEarly(w, r, v)
		return
	}
	status, pha := http.StatusOK, ""
	if s.opt.phaPath != "" && r.URL.Path == s.opt.phaPath {
		if status, pha, ok = s.postHandshakeAuth(r, v); !ok {
			return // the connection ended: the console says why
		}
	}
	st := v.Conn.ConnectionState()
	l := s.lang
	none := l.say(say{"none", "keine"})
	orNone := func(v string) string {
		if v == "" {
			return none
		}
		return v
	}
	clientCert := none
	if len(st.PeerCertificates) > 0 {
		clientCert = st.PeerCertificates[0].Subject.String()
	}
	d := pageData{Lang: trace.ResolveLang(s.opt.trace.lang),
		Title:           l.say(say{"Your TLS handshake with tlsflow", "Dein TLS-Handshake mit tlsflow"}),
		MessagesHeading: l.say(say{"Handshake messages", "Handshake-Nachrichten"}),
		TraceHeading:    l.say(say{"The handshake as the server saw it", "Der Handshake, wie der Server ihn sah"}),
		Rows: [][2]string{
			{l.say(say{"Protocol version", "Protokollversion"}), tlsflow.VersionName(st.Version)},
			{l.say(say{"Cipher suite", "Cipher-Suite"}), tlsflow.CipherSuiteName(st.CipherSuite)},
			{l.say(say{"Key exchange group", "Gruppe des Schlüsselaustauschs"}), orNone(curveName(st.CurveID))},
			{"ALPN", orNone(st.NegotiatedProtocol)},
			{l.say(say{"Server name (SNI)", "Servername (SNI)"}), orNone(st.ServerName)},
			{l.say(say{"Session resumed", "Sitzung wiederaufgenommen"}), yesNo(l, st.DidResume)},
		}}
	if s.opt.psk.identity != "" {
		auth := l.say(say{"the server certificate (no pre-shared key)", "das Server-Zertifikat (kein Pre-Shared Key)"})
		if len(st.ExternalPSKIdentity) > 0 {
			auth = pskWords(l, st.ExternalPSKIdentity, st.DidResume)
		}
		d.Rows = append(d.Rows, [2]string{l.say(say{"Authentication", "Authentifizierung"}), auth})
	}
	d.Rows = append(d.Rows, [2]string{l.say(say{"Client certificate", "Client-Zertifikat"}), clientCert})
	if pha != "" {
		d.Rows = append(d.Rows, [2]string{l.say(say{"After the handshake", "Nach dem Handshake"}), pha})
	}
	if words, ok := s.earlyWords(v); ok || s.opt.earlyData {
		if !ok {
			words = none
		}
		d.Rows = append(d.Rows, [2]string{l.say(say{"Early data (0-RTT)", "Frühe Daten (0-RTT)"}), words})
	}
	if s.opt.earlyData || cameEarly(r) {
		d.Rows = append(d.Rows, [2]string{l.say(say{"This request", "Diese Anfrage"}), s.requestWords(r, v)})
	}
	d.Rows = append(d.Rows, [][2]string{
		{"HTTP", r.Proto},
		{l.say(say{"Your address", "Deine Adresse"}), v.Conn.RemoteAddr().String()},
	}...)
	events := v.log.snapshot()
	v.log.mu.Lock()
	d.Dropped = v.log.dropped
	v.log.mu.Unlock()
	d.Kept = l.sayf(say{"(%d later events not kept)", "(%d spätere Ereignisse nicht aufbewahrt)"}, d.Dropped)
	for _, e := range events {
		if e.Kind != trace.KindMessage && e.Kind != trace.KindChangeCipherSpec {
			continue
		}
		name := e.Message
		if e.Kind == trace.KindChangeCipherSpec {
			name = "ChangeCipherSpec"
		}
		arrow := l.say(say{"client → server", "Client → Server"})
		if e.Direction == trace.Sent {
			arrow = l.say(say{"server → client", "Server → Client"})
		}
		line := l.sayf(say{"step %d  %s  %s", "Schritt %d  %s  %s"}, e.Step, arrow, name)
		if e.Step < 0 {
			line = fmt.Sprintf("        %s  %s", arrow, name)
		}
		d.Messages = append(d.Messages, line)
	}
	var tb bytes.Buffer
	render := trace.NewRenderer(&tb, trace.Options{Format: trace.FormatText, Lang: s.opt.trace.lang, Hex: s.opt.trace.hex})
	for _, e := range events {
		render(e)
	}
	d.Trace = tb.String()

	// The whole page first, so that it goes with a Content-Length: a
	// client that prints the raw answer (openssl s_client, connect
	// --early-data) shows it without chunk sizes.
	var page bytes.Buffer
	w.Header().Set("Cache-Control", "no-store")
	if prefersPlainText(r.Header.Get("Accept")) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		writePlainPage(&page, &d)
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := pageTemplate.Execute(&page, &d); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(page.Len()))
	w.WriteHeader(status)
	w.Write(page.Bytes())
}

// phaTimeout bounds the wait for a client's answer to the post-handshake
// CertificateRequest; a client that offered and does not answer loses its
// connection then.
const phaTimeout = 10 * time.Second

// postHandshakeAuth asks the visitor for a client certificate after the
// handshake, for --post-handshake-auth, where the connection allows it:
// TLS 1.3, a ClientHello that offered post_handshake_auth (RFC 8446
// §4.6.2: no CertificateRequest to a client that did not), HTTP/1.1 (RFC
// 8740 forbids it in HTTP/2; that request gets 505). It returns the HTTP
// status and what the page says came of it; ok is false when the
// exchange ended the connection, which the console then explains.
func (s *server) postHandshakeAuth(r *http.Request, v *visitor) (status int, words string, ok bool) {
	l := s.lang
	who := v.Conn.RemoteAddr().String()
	st := v.Conn.ConnectionState()
	switch {
	case r.ProtoMajor != 1:
		return http.StatusHTTPVersionNotSupported, l.say(say{"not asked: HTTP/2 forbids a CertificateRequest after the handshake (RFC 8740); request this page over HTTP/1.1 (curl --http1.1, tlsflow connect --http)",
			"nicht gefragt: HTTP/2 verbietet ein CertificateRequest nach dem Handshake (RFC 8740); diese Seite über HTTP/1.1 abrufen (curl --http1.1, tlsflow connect --http)"}), true
	case st.Version != tlsflow.VersionTLS13:
		return http.StatusOK, l.say(say{"not asked: TLS 1.2 has no post-handshake authentication (it could only renegotiate, which tlsflow does not do)",
			"nicht gefragt: TLS 1.2 kennt keine Authentifizierung nach dem Handshake (es könnte nur neu verhandeln, was tlsflow nicht tut)"}), true
	case !offeredPostHandshakeAuth(v.log.snapshot()):
		return http.StatusOK, l.say(say{"not asked: the client did not offer post-handshake authentication (no post_handshake_auth in its ClientHello; tlsflow connect offers it with --cert and --key, openssl s_client with -enable_pha, curl built with OpenSSL always; browsers hardly ever)",
			"nicht gefragt: der Client hat keine Authentifizierung nach dem Handshake angeboten (kein post_handshake_auth in seinem ClientHello; tlsflow connect bietet sie mit --cert und --key an, openssl s_client mit -enable_pha, curl mit OpenSSL immer; Browser kaum je)"}), true
	}
	// Not r's cancellation: net/http cancels it when the connection fails
	// (an alert for a refused chain), and the failure is what to tell.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), phaTimeout)
	defer cancel()
	err := v.Conn.RequestClientCertificate(ctx, s.opt.phaAuth)
	var b bytes.Buffer
	if err != nil {
		fmt.Fprintln(&b, l.sayf(say{"visitor %s: GET %s: post-handshake authentication FAILED", "Besucher %s: GET %s: Authentifizierung nach dem Handshake FEHLGESCHLAGEN"}, who, r.URL.Path))
		step, msg := lastWireStep(v.log.snapshot())
		explain(l, &failure{err: err, side: trace.Server, speaker: speakerServe, lastStep: step, lastMsg: msg, connected: true,
			clientAuth: s.opt.clientAuth, files: s.files, pskIdentity: s.opt.psk.identity}).write(&b, l, "  ")
	} else {
		words = l.say(say{"the server asked for a certificate (post-handshake CertificateRequest, RFC 8446 §4.6.2); the client sent none",
			"der Server hat um ein Zertifikat gebeten (CertificateRequest nach dem Handshake, RFC 8446 §4.6.2); der Client hat keines gesendet"})
		subject, verified, found := postHandshakeAnswer(v.log.snapshot())
		if st := v.Conn.ConnectionState(); !found && len(st.PeerCertificates) > 0 {
			// The log is full: the state has the chain, if one came.
			subject, verified = st.PeerCertificates[0].Subject.String(), len(st.VerifiedChains) > 0
		}
		if subject != "" {
			how := l.say(say{"not verified: serve has no --client-ca", "ungeprüft: serve hat kein --client-ca"})
			if verified {
				how = l.say(say{"verified", "geprüft"})
			}
			words = l.sayf(say{"the server asked for a certificate (post-handshake CertificateRequest, RFC 8446 §4.6.2); the client sent %s (%s)",
				"der Server hat um ein Zertifikat gebeten (CertificateRequest nach dem Handshake, RFC 8446 §4.6.2); der Client hat %s gesendet (%s)"}, subject, how)
		}
		fmt.Fprintln(&b, l.sayf(say{"visitor %s: GET %s: %s", "Besucher %s: GET %s: %s"}, who, r.URL.Path, words))
	}
	s.flushTrace(&b, v)
	s.outMu.Lock()
	s.out.Write(b.Bytes())
	s.outMu.Unlock()
	return http.StatusOK, words, err == nil
}

// offeredPostHandshakeAuth reports whether the connection's ClientHello
// (the first, or the one after a HelloRetryRequest) offered post_handshake_auth.
func offeredPostHandshakeAuth(events []trace.Event) bool {
	offered := false
	for _, e := range events {
		if e.Kind == trace.KindMessage && e.Direction == trace.Received && e.Message == "ClientHello" {
			offered = slices.Contains(strings.Split(e.Field("extensions"), ", "), "post_handshake_auth")
		}
	}
	return offered
}

// postHandshakeAnswer reads the last post-handshake authentication's
// outcome from the trace: the subject of the certificate the client
// proved it holds ("" for none), and whether it was verified; found is
// false when the log kept no outcome. The state cannot tell: a
// certificate from the handshake stays there when the client answers
// without one.
func postHandshakeAnswer(events []trace.Event) (subject string, verified, found bool) {
	for i := len(events) - 1; i >= 0; i-- {
		if e := events[i]; e.Message == "post-handshake authentication" {
			return e.Field("subject"), e.Field("verified") == "true", true
		}
	}
	return "", false, false
}

// shellQuote quotes s for a POSIX shell, if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=:,/@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func curveName(c tlsflow.CurveID) string {
	if c == 0 {
		return ""
	}
	return c.String()
}

func writePlainPage(w io.Writer, d *pageData) {
	fmt.Fprintln(w, d.Title)
	fmt.Fprintln(w)
	for _, r := range d.Rows {
		label := r[0] + ":"
		fmt.Fprintf(w, "%s%s %s\n", label, strings.Repeat(" ", max(0, 20-utf8.RuneCountInString(label))), r[1])
	}
	fmt.Fprintf(w, "\n%s:\n", d.MessagesHeading)
	for _, m := range d.Messages {
		fmt.Fprintln(w, "  "+m)
	}
	fmt.Fprintf(w, "\n%s:\n", d.TraceHeading)
	fmt.Fprint(w, d.Trace)
	if d.Dropped > 0 {
		fmt.Fprintln(w, d.Kept)
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; }
th { text-align: left; padding-right: 1em; }
pre { background: #f4f4f4; padding: 1em; overflow-x: auto; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<table>
{{range .Rows}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
<h2>{{.MessagesHeading}}</h2>
<ol>
{{range .Messages}}<li><code>{{.}}</code></li>
{{end}}</ol>
<h2>{{.TraceHeading}}</h2>
<pre>{{.Trace}}</pre>
{{if .Dropped}}<p>{{.Kept}}</p>{{end}}
</body>
</html>
`))

// prefersPlainText reads an Accept header (RFC 9110 §12.5.1): plain text
// when text/plain has a higher weight than text/html; HTML on a tie (*/*)
// and when the header is absent.
func prefersPlainText(accept string) bool {
	plain, html := weight(accept, "text/plain"), weight(accept, "text/html")
	return plain > html
}

// weight is the q value the Accept header gives mediaType, by the most
// specific range that matches it; 0 if none does.
func weight(accept, mediaType string) float64 {
	best, bestSpecificity := 0.0, -1
	typ, _, _ := strings.Cut(mediaType, "/")
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		rng := strings.ToLower(strings.TrimSpace(fields[0]))
		specificity := -1
		switch rng {
		case mediaType:
			specificity = 2
		case typ + "/*":
			specificity = 1
		case "*/*":
			specificity = 0
		}
		if specificity < bestSpecificity || specificity < 0 {
			continue
		}
		q := 1.0
		for _, p := range fields[1:] {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(val, 64); err == nil && f >= 0 && f <= 1 {
					q = f
				}
			}
		}
		best, bestSpecificity = q, specificity
	}
	return best
}
