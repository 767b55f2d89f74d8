package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/ftps"
	"github.com/tlsflow/tlsflow/trace"
)

const connectHelp = `Usage: tlsflow connect [flags] host[:port]

Connects to a TLS server (TCP, then the handshake) and prints each step as it
happens, then what the handshake negotiated and who the server is. The port
defaults to 443 (21 with --starttls ftp). Exits with status 1 if the
connection or the handshake fails, saying at which step, with which alert,
why, and what to change.

With --http it also sends GET / (or --path) over the connection and prints
the response, and what the server asked after the handshake: with --cert and
--key connect offers post-handshake authentication, and a server may ask for
the certificate only when a path needs it (tlsflow serve --post-handshake-auth);
with --reconnect it connects a second time and shows the session resumed: no
Certificate, no signature, the first session's secret proves both sides.

With --psk-identity and --psk it offers an external pre-shared key (TLS 1.3,
SHA-256, as openssl s_client -psk): a server holding the same key selects it,
and the key authenticates both sides; no certificate is sent. Then connect
accepts only a server that selects the key, unless --servername, --ca or
--insecure allows a certificate instead.

With --reconnect and --early-data FILE the second connection sends FILE as
0-RTT early data (TLS 1.3, RFC 8446 §2.3): right behind its ClientHello,
under a key from the first connection's ticket, before the server has
proved anything. The summary says whether the server accepted it; if it
rejected it, or its tickets allow no early data (openssl s_server without
-early_data), or FILE is larger than the ticket allows (max_early_data_size,
and never more than 64 KiB), connect sends FILE after the handshake instead.
Then it prints what the server answers. Anyone who copies early data can
send it again: put in FILE only what may safely happen twice (a GET, not a
payment). Not with --http, as openssl s_client -early_data: to send a
request early, write it into FILE.

Examples:
  tlsflow connect example.com
  tlsflow connect --http example.com:443
  tlsflow connect --reconnect example.com:443
  tlsflow connect --tls1.2 --suites TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 example.com:443
  tlsflow connect --tls1.3 --groups x25519 --alpn h2,http/1.1 example.com:443
  tlsflow connect --ca ca.pem --cert client.pem --key client.key localhost:8443
  tlsflow connect --insecure --servername www.example.com 192.0.2.10:443
  tlsflow connect --trace json example.com:443 > handshake.jsonl
  tlsflow connect --lang de --hex example.com:443
  tlsflow connect --keylog keys.log example.com:443    (or SSLKEYLOGFILE=keys.log) for Wireshark
  tlsflow connect --starttls ftp ftp.example.org       AUTH TLS, anonymous login, LIST /
  tlsflow connect --psk-identity device-17 --psk "$(cat psk.hex)" localhost:8443   (openssl rand -hex 32 > psk.hex)
  tlsflow connect --reconnect --early-data get.txt localhost:8443
      (printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' > get.txt)
`

// maxHTTPBody bounds what --http prints of a response body.
const maxHTTPBody = 64 << 10

type connectOptions struct {
	addr       string
	serverName string
	caFile     string
	certFile   string
	keyFile    string
	versions   versionFlags
	suites     listFlag
	groups     listFlag
	alpn       listFlag
	insecure   bool
	ech        string // base64 ECHConfigList (--ech)
	echGrease  bool
	psk        pskFlags
	pskOnly    bool // an external PSK, and no way to check a certificate
	trace      traceFlags
	lang       language
	keyLog     string
	http       bool
	path       string
	reconnect  bool
	earlyFile  string // --early-data FILE
	early      []byte // its content
	starttls   string
	user, pass string
	timeout    time.Duration
}

func runConnect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o connectOptions
	fs := newFlagSet("connect", connectHelp, stdout)
	fs.StringVar(&o.serverName, "servername", "", "name to send in server_name (SNI) and to check the certificate against (default: the host)")
	fs.StringVar(&o.caFile, "ca", "", "PEM file of the CAs to trust (default: the system's)")
	fs.StringVar(&o.certFile, "cert", "", "PEM file of a client certificate chain, for servers that ask for one")
	fs.StringVar(&o.keyFile, "key", "", "PEM file of the client certificate's private key")
	o.versions.register(fs)
	fs.Var(&o.suites, "suites", "cipher suites to offer, comma-separated IANA names (default: tlsflow's; the RSA key exchange only if named)")
	fs.Var(&o.groups, "groups", "key exchange groups in order of preference: X25519MLKEM768, x25519, secp256r1, secp384r1")
	fs.Var(&o.alpn, "alpn", "application protocols to offer (ALPN), comma-separated, e.g. h2,http/1.1")
	fs.StringVar(&o.ech, "ech", "", "Encrypted Client Hello: the server's ECHConfigList in `BASE64` (as in the ech= of its DNS HTTPS record); the name goes sealed, the network sees the list's public name")
	fs.BoolVar(&o.echGrease, "ech-grease", false, "send a GREASE encrypted_client_hello when not using --ech (draft-ietf-tls-esni-25 §6.2)")
	fs.BoolVar(&o.insecure, "insecure", false, "accept any server certificate (for tests: anyone in the middle can then read along)")
	o.psk.register(fs)
	o.trace.register(fs, "text", true)
	fs.StringVar(&o.keyLog, "keylog", "", "append the session secrets to this file in the NSS key log format (default: $SSLKEYLOGFILE)")
	fs.BoolVar(&o.http, "http", false, "send GET / over the connection and print the response")
	fs.StringVar(&o.path, "path", "/", "with --http: the path to GET")
	fs.BoolVar(&o.reconnect, "reconnect", false, "connect a second time, resuming the first session")
	fs.StringVar(&o.earlyFile, "early-data", "", "with --reconnect: send `FILE` as 0-RTT early data on the resumed connection (TLS 1.3; not with --http)")
	fs.StringVar(&o.starttls, "starttls", "", `upgrade a plaintext protocol first: "ftp" (AUTH TLS, log in, list /)`)
	fs.StringVar(&o.user, "user", "anonymous", "with --starttls ftp: the user name")
	fs.StringVar(&o.pass, "pass", "anonymous@", "with --starttls ftp: the password")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Second, "bound on each connection: TCP, handshake and the exchange after it")
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("connect wants one address, host or host:port (got %d arguments); see tlsflow connect --help", len(pos))
	}
	if err := o.trace.check(); err != nil {
		return err
	}
	o.lang = pickLanguage(o.trace.lang)
	if o.path != "/" {
		if !o.http {
			return usageSay(o.lang, say{"--path names what --http gets: add --http", "--path nennt, was --http abruft: --http angeben"})
		}
		if err := checkPath(o.lang, "--path", o.path); err != nil {
			return err
		}
	}
	switch o.starttls {
	case "":
	case "ftp":
		if o.http || o.reconnect || o.earlyFile != "" {
			return usageSay(o.lang, say{"--starttls ftp lists / over FTP: --http, --reconnect and --early-data do not apply",
				"--starttls ftp listet / über FTP: --http, --reconnect und --early-data gelten dafür nicht"})
		}
	default:
		return usagef("--starttls %q: only ftp is implemented", o.starttls)
	}
	if o.earlyFile != "" {
		if err := o.checkEarlyDataFlags(); err != nil {
			return err
		}
		if o.early, err = readEarlyFile(o.lang, o.earlyFile); err != nil {
			return err
		}
	}
	o.addr = withPort(pos[0], o.starttls)

	// Progress and summaries go with the text trace; next to a JSON trace
	// they go to stderr, so stdout stays one JSON object per line.
	info := stdout
	if o.trace.format == "json" {
		info = stderr
	}
	cfg, closeKeyLog, err := o.config(info)
	if err != nil {
		return err
	}
	defer closeKeyLog()
	watch := &connWatch{lastStep: -1}
	render := o.trace.hook(stdout, trace.ColorAuto(stdout), false)
	cfg.Trace = func(e trace.Event) {
		watch.see(e)
		if render == nil {
			return
		}
		if e.Kind == trace.KindError && o.trace.format == "text" {
			// The headline only: the diagnosis below explains it, once.
			e.Fields = headlineFields(e.Fields)
		}
		render(e)
	}

	if o.starttls == "ftp" {
		return connectFTP(ctx, &o, cfg, watch, info, stderr)
	}

	l := o.lang
	fmt.Fprintln(info, l.sayf(say{"Connecting to %s …", "Verbinde mit %s …"}, o.addr))
	conn, err := o.dial(ctx, cfg, nil)
	if err != nil {
		return o.failed(stderr, watch, err)
	}
	fmt.Fprintln(info, l.sayf(say{"\nConnected to %s (%s)", "\nVerbunden mit %s (%s)"}, o.addr, conn.RemoteAddr()))
	first := conn.ConnectionState()
	writeState(info, l, first, o.insecure, watch)
	if o.http {
		if err := o.getAndPrint(conn, hostOf(o.addr, cfg.ServerName), info, watch); err != nil {
			conn.Close()
			return o.failed(stderr, watch, err)
		}
	} else if err := settle(conn, cfg, o.reconnect, watch.certificateRequests.Load() > 0); err != nil {
		conn.Close()
		return o.failed(stderr, watch, err)
	}
	conn.Close()
	if !o.reconnect {
		return nil
	}

	fmt.Fprintln(info, l.say(say{"\nConnecting again to show resumption …", "\nVerbinde erneut, um die Wiederaufnahme zu zeigen …"}))
	watch.certificates.Store(0)
	var attempt earlyAttempt
	var early func(*tlsflow.Conn) error
	if o.early != nil {
		early = func(c *tlsflow.Conn) (err error) {
			attempt, err = writeEarly(c, o.early, watch)
			return err
		}
	}
	again, err := o.dial(ctx, cfg, early)
	if err != nil {
		return o.failed(stderr, watch, err)
	}
	defer again.Close()
	st := again.ConnectionState()
	fmt.Fprintln(info, l.sayf(say{"\nConnected again to %s", "\nErneut verbunden mit %s"}, o.addr))
	writeState(info, l, st, o.insecure, watch)
	if o.early != nil {
		line, err := o.earlyDataOutcome(again, attempt, first, cfg.ClientSessionCache.(*notifyingCache), watch)
		if err != nil {
			return o.failed(stderr, watch, err)
		}
		writeRow(info, l, say{"early data (0-RTT)", "frühe Daten (0-RTT)"}, line)
	}
	switch {
	case st.DidResume && watch.certificates.Load() == 0:
		fmt.Fprintln(info, l.say(say{"Resumed: the server sent no Certificate and signed nothing; the secret of the first session proved both sides.",
			"Wiederaufgenommen: der Server hat kein Certificate gesendet und nichts signiert; das Geheimnis der ersten Sitzung hat beide Seiten ausgewiesen."}))
	case st.DidResume:
		fmt.Fprintln(info, l.say(say{"Resumed.", "Wiederaufgenommen."}))
	default:
		fmt.Fprintln(info, l.say(say{"Not resumed: the server ran a full handshake again (it issued no ticket, or did not accept it).",
			"Nicht wiederaufgenommen: der Server hat wieder einen vollständigen Handshake gemacht (er hat kein Ticket ausgegeben oder es nicht angenommen)."}))
	}
	if o.http {
		if err := o.getAndPrint(again, hostOf(o.addr, cfg.ServerName), info, watch); err != nil {
			return o.failed(stderr, watch, err)
		}
	}
	if o.early != nil {
		if err := o.printAnswer(again, info); err != nil {
			return o.failed(stderr, watch, err)
		}
	}
	return nil
}

// withPort adds the default port of the protocol when addr has none.
func withPort(addr, starttls string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	port := "443"
	if starttls == "ftp" {
		port = "21"
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), port)
}

func hostOf(addr, serverName string) string {
	if serverName != "" {
		return serverName
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// config turns the flags into a client Config. The returned function
// closes the key log, if one was opened.
func (o *connectOptions) config(info io.Writer) (*tlsflow.Config, func(), error) {
	cfg := &tlsflow.Config{ServerName: o.serverName, InsecureSkipVerify: o.insecure, NextProtos: o.alpn,
		EncryptedClientHelloGREASE: o.echGrease}
	if err := o.versions.apply(cfg); err != nil {
		return nil, nil, err
	}
	var err error
	if o.ech != "" {
		if cfg.EncryptedClientHelloConfigList, err = base64.StdEncoding.DecodeString(o.ech); err != nil {
			return nil, nil, usagef("--ech: not base64: %v", err)
		}
	}
	if cfg.CipherSuites, err = parseSuites(o.suites); err != nil {
		return nil, nil, err
	}
	if err := suitesFitVersions(cfg.CipherSuites, o.versions); err != nil {
		return nil, nil, err
	}
	if cfg.CurvePreferences, err = parseGroups(o.groups); err != nil {
		return nil, nil, err
	}
	psk, err := o.psk.externalPSK(o.lang, o.versions, cfg.CipherSuites)
	if err != nil {
		return nil, nil, err
	}
	if psk != nil {
		cfg.ExternalPSKs = []tlsflow.ExternalPSK{*psk}
		// Without a name or CAs to check a certificate with, only the
		// key can authenticate the server: dial sends no server name.
		o.pskOnly = o.serverName == "" && o.caFile == "" && !o.insecure
	}
	if o.caFile != "" {
		if cfg.RootCAs, err = loadCertPool(o.caFile); err != nil {
			return nil, nil, fmt.Errorf("--ca: %w", err)
		}
	}
	cert, err := loadKeyPair(o.certFile, o.keyFile)
	if err != nil {
		return nil, nil, err
	}
	if cert != nil {
		cfg.Certificates = []tlsflow.Certificate{*cert}
	}
	if o.http && len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"http/1.1"} // --http speaks HTTP/1.1 only
	}
	// A cache, also without --reconnect: a stored ticket tells settle
	// that a TLS 1.3 server is content with the handshake.
	cfg.ClientSessionCache = &notifyingCache{ClientSessionCache: tlsflow.NewLRUClientSessionCache(4), put: make(chan struct{}, 1)}
	if o.trace.secrets && o.keyLog == "" && os.Getenv("SSLKEYLOGFILE") == "" {
		return nil, nil, usagef("--secrets shows the secrets the key log gets: give --keylog FILE (or set SSLKEYLOGFILE)")
	}
	keyLog, path, err := openKeyLog(o.keyLog)
	if err != nil {
		return nil, nil, err
	}
	closeKeyLog := func() {}
	if keyLog != nil {
		fmt.Fprintln(info, o.lang.sayf(say{"Key log: appending the session secrets to %s (anyone with this file can decrypt the traffic)",
			"Key-Log: hänge die Sitzungsschlüssel an %s an (wer diese Datei hat, kann den Verkehr entschlüsseln)"}, path))
		cfg.KeyLogWriter = keyLog
		closeKeyLog = func() { keyLog.Close() }
	}
	return cfg, closeKeyLog, nil
}

// dial connects and runs the handshake, within --timeout; early, if not
// nil, runs before the handshake (to write 0-RTT data).
func (o *connectOptions) dial(ctx context.Context, cfg *tlsflow.Config, early func(*tlsflow.Conn) error) (*tlsflow.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", o.addr)
	if err != nil {
		return nil, err
	}
	if cfg.ServerName == "" && !o.pskOnly {
		// As tlsflow.Dialer does: the host is the name to send and to
		// check. A client without one (pskOnly) accepts only an
		// external PSK.
		cfg = cfg.Clone()
		cfg.ServerName = strings.TrimSuffix(hostOf(o.addr, ""), ".")
	}
	c := tlsflow.Client(raw, cfg)
	if early != nil {
		deadline, _ := ctx.Deadline()
		raw.SetDeadline(deadline) // the ClientHello and the early data go out before HandshakeContext
		err := early(c)
		raw.SetDeadline(time.Time{})
		if err != nil {
			raw.Close()
			return nil, err
		}
	}
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// failed explains err on stderr, once, and tells main it has.
func (o *connectOptions) failed(stderr io.Writer, w *connWatch, err error) error {
	fmt.Fprintln(stderr, o.lang.sayf(say{"\nConnection to %s failed:", "\nVerbindung zu %s gescheitert:"}, o.addr))
	explain(o.lang, o.failure(w, err)).write(stderr, o.lang, "  ")
	return errReported
}

// failure is err with what connect knows around it.
func (o *connectOptions) failure(w *connWatch, err error) *failure {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := &failure{err: err, side: trace.Client, speaker: speakerConnect, lastStep: w.lastStep, lastMsg: w.lastMsg,
		connected: w.connected, addr: o.addr, serverName: o.serverName, caGiven: o.caFile != "", certGiven: o.certFile != "",
		timeout: o.timeout, requestedCAs: w.requestedCAs, askedForCert: w.certificateRequests.Load() > 0, sniSent: w.sni != "",
		versionsPinned: o.versions.tls12 || o.versions.tls13, pskIdentity: o.psk.identity, pskOnly: o.pskOnly}
	if len(o.suites) > 0 {
		f.rsaOnly = true
		for _, n := range o.suites {
			if id, ok := suiteByName(n); !ok || !strings.HasPrefix(tlsflow.CipherSuiteName(id), "TLS_RSA_") {
				f.rsaOnly = false
			}
		}
	}
	return f
}

// connWatch notices, from the trace, what the state does not say: whether
// the server sent a Certificate (a resumed handshake has none) and asked
// for ours, whether we sent a server name, and where on the wire the
// connection last was (a timeout or a reset does not say).
type connWatch struct {
	certificates, certificateRequests atomic.Int32
	postHandshakeRequests             atomic.Int32 // CertificateRequests after the handshake (RFC 8446 §4.6.2)
	helloRetries                      atomic.Int32 // HelloRetryRequests received

	mu                sync.Mutex
	connected         bool
	lastStep          int
	lastMsg           string
	sni               string
	requestedCAs      string
	postHandshakeSent string // the subject of our certificate in the last post-handshake answer, "" for none
	earlyMax          int    // the max_early_data_size of the last session offered for 0-RTT
}

func (w *connWatch) see(e trace.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch e.Kind {
	case trace.KindConnect:
		w.connected, w.lastStep = true, 0
	case trace.KindMessage, trace.KindChangeCipherSpec:
		if e.Step >= 0 {
			w.lastStep, w.lastMsg = e.Step, e.Message
		}
	case trace.KindNote:
		if e.Message == "early data offered" {
			w.earlyMax, _ = strconv.Atoi(e.Field("max_early_data_size"))
		}
	}
	if e.Kind != trace.KindMessage || e.Side != trace.Client {
		return
	}
	switch {
	case e.Direction == trace.Sent && e.Message == "ClientHello":
		w.sni = e.Field("server_name")
	case e.Direction == trace.Sent && e.Message == "Certificate" && e.Step == 8:
		w.postHandshakeSent = e.Field("certificate[0].subject")
	case e.Direction != trace.Received:
	case e.Message == "Certificate":
		w.certificates.Add(1)
	case e.Message == "HelloRetryRequest":
		w.helloRetries.Add(1)
	case e.Message == "CertificateRequest":
		w.certificateRequests.Add(1)
		w.requestedCAs = e.Field("certificate_authorities")
		if e.Step == 8 {
			w.postHandshakeRequests.Add(1)
		}
	}
}

// writeRow prints one line of a summary: a label and its value, aligned.
func writeRow(w io.Writer, l language, label say, value string) {
	lab := l.say(label) + ":"
	fmt.Fprintf(w, "  %s%s %s\n", lab, strings.Repeat(" ", max(0, 21-utf8.RuneCountInString(lab))), value)
}

// writeState prints what the handshake negotiated and who the server is.
func writeState(w io.Writer, l language, st tlsflow.ConnectionState, insecure bool, watch *connWatch) {
	row := func(label say, value string) { writeRow(w, l, label, value) }
	watch.mu.Lock()
	sni := watch.sni
	watch.mu.Unlock()
	sawCertificate := watch.certificates.Load() > 0
	row(say{"version", "Version"}, tlsflow.VersionName(st.Version))
	row(say{"cipher suite", "Cipher-Suite"}, tlsflow.CipherSuiteName(st.CipherSuite))
	row(say{"group", "Gruppe"}, groupWords(l, st))
	alpn := st.NegotiatedProtocol
	if alpn == "" {
		alpn = l.say(say{"none", "keines"})
	}
	row(say{"ALPN", "ALPN"}, alpn)
	switch {
	case sni != "":
		row(say{"server name (SNI)", "Servername (SNI)"}, sni)
	case st.ServerName != "":
		// Dial checks the certificate against an IP address, but an IP
		// address is never sent as a server name (RFC 6066 §3).
		row(say{"server name (SNI)", "Servername (SNI)"}, l.sayf(say{"none sent (%s is an IP address; the certificate was checked against it)",
			"keiner gesendet (%s ist eine IP-Adresse; das Zertifikat wurde darauf geprüft)"}, st.ServerName))
	}
	if st.ECHAccepted {
		row(say{"Encrypted Client Hello", "verschlüsseltes ClientHello"}, l.say(say{"accepted: the server name went encrypted", "angenommen: der Servername reiste verschlüsselt"}))
	}
	row(say{"resumed", "wiederaufgenommen"}, yesNo(l, st.DidResume))
	if len(st.ExternalPSKIdentity) > 0 {
		row(say{"authentication", "Authentifizierung"}, pskWords(l, st.ExternalPSKIdentity, st.DidResume))
	}
	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		subject := leaf.Subject.String()
		if !sawCertificate && st.DidResume {
			subject += l.say(say{" (known from the first session, not sent again)", " (aus der ersten Sitzung bekannt, nicht erneut gesendet)"})
		}
		row(say{"server certificate", "Server-Zertifikat"}, subject)
		row(say{"issued by", "ausgestellt von"}, leaf.Issuer.String())
		row(say{"valid until", "gültig bis"}, leaf.NotAfter.UTC().Format(time.RFC3339))
		row(say{"SHA-256", "SHA-256"}, fingerprint(leaf.Raw))
	}
	switch {
	case len(st.ExternalPSKIdentity) > 0 && !st.DidResume:
		// The server's Finished is keyed from the PSK (RFC 8446 §7.1).
		row(say{"verified", "geprüft"}, l.say(say{"yes: the server's Finished proves it holds the key", "ja: das Finished des Servers beweist, dass er den Schlüssel hat"}))
	case insecure:
		row(say{"verified", "geprüft"}, l.say(say{"NO: --insecure accepts any certificate", "NEIN: --insecure akzeptiert jedes Zertifikat"}))
	case len(st.VerifiedChains) > 0:
		chain := st.VerifiedChains[0]
		row(say{"verified", "geprüft"}, l.sayf(say{"yes, up to %s", "ja, bis %s"}, chain[len(chain)-1].Subject.String()))
	case st.DidResume:
		row(say{"verified", "geprüft"}, l.say(say{"yes, in the first session", "ja, in der ersten Sitzung"}))
	}
}

// groupWords says which group the key exchange used, or why there was
// none: the RSA key exchange transports the pre-master secret, and TLS 1.2
// resumption exchanges no key.
func groupWords(l language, st tlsflow.ConnectionState) string {
	switch {
	case st.CurveID != 0:
		return st.CurveID.String()
	case st.Version == tlsflow.VersionTLS12 && st.DidResume:
		return l.say(say{"none: a resumed TLS 1.2 session exchanges no new key", "keine: eine wiederaufgenommene TLS-1.2-Sitzung tauscht keinen neuen Schlüssel aus"})
	case strings.HasPrefix(tlsflow.CipherSuiteName(st.CipherSuite), "TLS_RSA_"):
		return l.say(say{"none: RSA key transport (the client encrypted the pre-master secret to the server's key; no forward secrecy)",
			"keine: RSA-Schlüsseltransport (der Client hat das Pre-Master-Secret mit dem Schlüssel des Servers verschlüsselt; keine Forward Secrecy)"})
	}
	return l.say(say{"none: the pre-shared key alone (no (EC)DHE)", "keine: nur der Pre-Shared Key (kein (EC)DHE)"})
}

func yesNo(l language, b bool) string {
	if b {
		return l.say(say{"yes", "ja"})
	}
	return l.say(say{"no", "nein"})
}

// getAndPrint sends GET --path over conn and prints the response, its body
// shortened to maxHTTPBody, then what the server asked of us after the
// handshake while it answered.
func (o *connectOptions) getAndPrint(conn *tlsflow.Conn, host string, w io.Writer, watch *connWatch) error {
	if p := conn.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
		return fmt.Errorf("--http speaks HTTP/1.1, but the server chose %q in ALPN", p)
	}
	l := o.lang
	conn.SetDeadline(time.Now().Add(o.timeout))
	defer conn.SetDeadline(time.Time{})
	asked := watch.postHandshakeRequests.Load()
	req := "GET " + o.path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: tlsflow\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	fmt.Fprintf(w, "\n> GET %s HTTP/1.1\n> Host: %s\n", o.path, host)
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fmt.Errorf("reading the HTTP response: %w", err)
	}
	defer resp.Body.Close()
	fmt.Fprintf(w, "\n< %s %s\n", resp.Proto, resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(w, "< %s: %s\n", k, v)
		}
	}
	fmt.Fprintln(w)
	n, err := io.Copy(w, io.LimitReader(resp.Body, maxHTTPBody))
	if err != nil {
		return fmt.Errorf("reading the HTTP body: %w", err)
	}
	if n == maxHTTPBody {
		more, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 16<<20))
		if more > 0 {
			fmt.Fprint(w, l.sayf(say{"\n… (%d more bytes not shown)", "\n… (%d weitere Bytes nicht gezeigt)"}, more))
		}
	}
	fmt.Fprintln(w)
	if watch.postHandshakeRequests.Load() > asked {
		watch.mu.Lock()
		sent := watch.postHandshakeSent
		watch.mu.Unlock()
		answer := l.say(say{"we had no certificate for it and sent none (--cert and --key give one)", "wir hatten keines dafür und haben keines gesendet (--cert und --key geben eines)"})
		if sent != "" {
			answer = l.sayf(say{"we sent %s and proved we hold its key", "wir haben %s gesendet und bewiesen, dass wir seinen Schlüssel haben"}, sent)
		}
		fmt.Fprintln(w)
		writeRow(w, l, say{"after the handshake", "nach dem Handshake"}, l.sayf(say{"the server asked for our certificate (post-handshake CertificateRequest, RFC 8446 §4.6.2); %s",
			"der Server hat um unser Zertifikat gebeten (CertificateRequest nach dem Handshake, RFC 8446 §4.6.2); %s"}, answer))
	}
	return nil
}

// notifyingCache tells when a session was stored: a TLS 1.3 server sends
// its tickets after the handshake.
type notifyingCache struct {
	tlsflow.ClientSessionCache
	put    chan struct{}
	stored atomic.Pointer[tlsflow.ClientSessionState] // the last session stored, for --early-data's summary
}

func (c *notifyingCache) Put(key string, cs *tlsflow.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs != nil {
		c.stored.Store(cs)
		select {
		case c.put <- struct{}{}:
		default:
		}
	}
}

// settle reads what a TLS 1.3 server sends right after the handshake,
// which the client's handshake does not wait for (RFC 8446 §4.6): for
// --reconnect the NewSessionTicket, processed only when the client reads;
// after a CertificateRequest the server's verdict on our certificate,
// which comes as an alert if it refuses it. It reads in short slices until
// a ticket was stored, an error came, or a moment passed; a refusal is
// returned.
func settle(conn *tlsflow.Conn, cfg *tlsflow.Config, wantTicket, certificateAsked bool) error {
	if conn.ConnectionState().Version != tlsflow.VersionTLS13 || (!wantTicket && !certificateAsked) {
		return nil // TLS 1.2 does all this within the handshake
	}
	var put chan struct{}
	if nc, ok := cfg.ClientSessionCache.(*notifyingCache); ok {
		put = nc.put
	}
	wait := time.Second
	if wantTicket {
		wait = 3 * time.Second
	}
	defer conn.SetReadDeadline(time.Time{})
	buf := make([]byte, 1024)
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
		select {
		case <-put:
			return nil // the server accepted us and sent a ticket
		default:
		}
		conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := conn.Read(buf); err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				continue
			case errors.Is(err, io.EOF):
				return nil
			}
			return err
		}
	}
	return nil
}

// connectFTP runs --starttls ftp: FTP in plaintext up to AUTH TLS, the
// handshake, an anonymous (or --user) login and a listing of /, whose data
// connection resumes the control connection's session.
func connectFTP(ctx context.Context, o *connectOptions, cfg *tlsflow.Config, watch *connWatch, info, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(info, "ftp "+format+"\n", args...) }
	fmt.Fprintln(info, o.lang.sayf(say{"Connecting to %s (FTP, then AUTH TLS) …", "Verbinde mit %s (FTP, dann AUTH TLS) …"}, o.addr))
	c, err := ftps.Dial(ctx, o.addr, cfg, logf)
	if err != nil {
		return o.failed(stderr, watch, err)
	}
	defer c.Quit()
	fmt.Fprintln(info, o.lang.say(say{"\nControl connection protected:", "\nSteuerverbindung geschützt:"}))
	watch.certificates.Store(1)
	writeState(info, o.lang, c.ControlState(), o.insecure, watch)
	if err := c.Login(o.user, o.pass); err != nil {
		return o.failed(stderr, watch, err)
	}
	lines, err := c.List("/")
	if err != nil {
		return o.failed(stderr, watch, err)
	}
	fmt.Fprintln(info, o.lang.say(say{"\nListing of / (over a TLS data connection):", "\nInhalt von / (über eine TLS-Datenverbindung):"}))
	for _, l := range lines {
		fmt.Fprintln(info, "  "+l)
	}
	return nil
}
