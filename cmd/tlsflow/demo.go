package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

const demoHelp = `Usage: tlsflow demo [flags]

Runs a tlsflow server and client in one process over loopback TCP, with a
certificate authority and certificates made at start, and prints each step
of the handshake (0–8) with its messages and their key fields, in the order
they cross the wire. Then it sends an HTTP GET over the TLS connection
(step 8). docs/FLOW.md maps the steps to the messages of TLS 1.2 and 1.3.

Flows (--flow):
  seed         the course note's flow, the default: TLS 1.2, the RSA key exchange
               (TLS_RSA_WITH_AES_128_GCM_SHA256), a client certificate the server requires
  tls12        TLS 1.2 with ECDHE (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256): the server
               signs its key share; no client certificate
  tls13        TLS 1.3 with tlsflow's defaults
  resume       TLS 1.3 twice: the second connection resumes the first session,
               without Certificate and CertificateVerify
  client-auth  TLS 1.3 with a client certificate the server requires
  ech          TLS 1.3 with Encrypted Client Hello: the network sees a ClientHello
               for public.example; sealed inside it, the one the server reads, for localhost
--suite picks the TLS 1.2 key exchange of seed and tls12: rsa (seed only),
ecdhe-rsa or ecdhe-ecdsa.

--tamper MESSAGE puts a man in the middle between client and server who
changes one bit of one byte of MESSAGE in transit. The output shows the
change, which side notices, at which step, with which alert, and why (the
course note's step 7: Finished detects a man in the middle):
` + tamperDoc + `
Examples:
  tlsflow demo                          the course note's flow
  tlsflow demo --flow tls13 --lang de   TLS 1.3, explained in German
  tlsflow demo --flow resume            a full handshake, then a resumed one
  tlsflow demo --suite ecdhe-ecdsa      the note's flow with ECDHE and an ECDSA certificate
  tlsflow demo --hex                    add a hex dump of every message
  tlsflow demo --tamper ClientHello     Finished catches a changed ClientHello (step 7)
  tlsflow demo --tamper ServerKeyExchange
  tlsflow demo --flow seed --tamper ClientKeyExchange
  tlsflow demo --flow tls13 --tamper Certificate --lang de
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

// demoFlow is one --flow.
type demoFlow struct {
	name       string
	title      say
	tls13      bool
	clientAuth bool
	twice      bool   // two connections, the second resuming
	ech        bool   // Encrypted Client Hello
	suite      string // default --suite of a TLS 1.2 flow
	suites     []string
}

var demoFlows = []*demoFlow{
	{name: "seed", clientAuth: true, suite: "rsa", suites: []string{"rsa", "ecdhe-rsa", "ecdhe-ecdsa"},
		title: say{"the course note's flow: TLS 1.2, %s, client certificate required",
			"der Ablauf der Kursnotiz: TLS 1.2, %s, Client-Zertifikat verlangt"}},
	{name: "tls12", suite: "ecdhe-rsa", suites: []string{"ecdhe-rsa", "ecdhe-ecdsa"},
		title: say{"TLS 1.2 with ECDHE: %s, no client certificate",
			"TLS 1.2 mit ECDHE: %s, ohne Client-Zertifikat"}},
	{name: "tls13", tls13: true,
		title: say{"TLS 1.3 with tlsflow's defaults", "TLS 1.3 mit den Voreinstellungen von tlsflow"}},
	{name: "resume", tls13: true, twice: true,
		title: say{"TLS 1.3 twice: the second connection resumes the first session",
			"TLS 1.3 zweimal: die zweite Verbindung nimmt die Sitzung der ersten wieder auf"}},
	{name: "client-auth", tls13: true, clientAuth: true,
		title: say{"TLS 1.3 with a client certificate the server requires",
			"TLS 1.3 mit einem Client-Zertifikat, das der Server verlangt"}},
	{name: "ech", tls13: true, ech: true,
		title: say{"TLS 1.3 with Encrypted Client Hello: the name the client asks for travels encrypted",
			"TLS 1.3 mit Encrypted Client Hello: der Name, den der Client verlangt, reist verschlüsselt"}},
}

func findFlow(name string) (*demoFlow, bool) {
	for _, f := range demoFlows {
		if f.name == name {
			return f, true
		}
	}
	return nil, false
}

func runDemo(args []string, out io.Writer) error {
	fs := newFlagSet("demo", demoHelp, out)
	flowName := fs.String("flow", "seed", "which handshake: seed, tls12, tls13, resume, client-auth or ech")
	suiteName := fs.String("suite", "", "TLS 1.2 key exchange of seed and tls12: rsa, ecdhe-rsa or ecdhe-ecdsa")
	hexDump := fs.Bool("hex", false, "add a hex dump of every handshake message")
	var langTag string
	registerLang(fs, &langTag)
	tamper := fs.String("tamper", "", "message a man in the middle changes: "+strings.Join(tamperNames, ", "))
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo takes no arguments (got %q)", pos)
	}
	if err := checkLang(langTag); err != nil {
		return err
	}
	flowGiven := false
	fs.Visit(func(f *flag.Flag) { flowGiven = flowGiven || f.Name == "flow" })

	d := &demo{lang: pickLanguage(langTag), errs: map[trace.Side]error{}}
	if d.tamper = *tamper; d.tamper != "" {
		var ok bool
		if d.tamper, ok = canonicalTamper(*tamper); !ok {
			return usagef("unknown --tamper %q (want %s)", *tamper, strings.Join(tamperNames, ", "))
		}
		if !flowGiven {
			*flowName = tamperFlow(d.tamper)
		}
	}
	var ok bool
	if d.flow, ok = findFlow(*flowName); !ok {
		return usagef("unknown --flow %q (want seed, tls12, tls13, resume, client-auth or ech)", *flowName)
	}
	if err := d.pickSuite(*suiteName); err != nil {
		return err
	}
	if d.tamper != "" {
		if d.plan, err = d.tamperPlan(); err != nil {
			return err
		}
	}

	d.out = out
	d.render = trace.NewRenderer(out, trace.Options{Format: trace.FormatText, Lang: langTag, Hex: *hexDump, SentOnly: true, Color: trace.ColorAuto(out)})
	return d.run()
}

// kindDemo marks the demo's own lines in a connection's timeline ("GET /
// over the TLS connection"): an event of the side that says it, so that
// trace.WireOrder puts it where that side was.
const kindDemo trace.Kind = "tlsflow-demo"

// demo is one run of the demo command.
type demo struct {
	out    io.Writer
	lang   language
	flow   *demoFlow
	suite  string // key of demoSuites, for TLS 1.2 flows
	tamper string
	plan   *flipPlan
	mitm   *mitm
	render trace.Hook

	ca             *pki.Authority
	server, client *pki.Leaf
	public         *pki.Leaf // the ECH public name's certificate (--flow ech)

	mu          sync.Mutex
	events      []trace.Event        // the connection's, both sides, as the goroutines delivered them
	errs        map[trace.Side]error // the first error each side traced
	serverCerts atomic.Int32         // Certificate messages the server sent on this connection
	// serverClosed gets a value each time net/http has closed a server
	// connection: its last events are in by then.
	serverClosed chan struct{}
}

func (d *demo) pickSuite(name string) error {
	if d.flow.tls13 {
		if name != "" {
			return usagef("--suite picks a TLS 1.2 key exchange; --flow %s is TLS 1.3", d.flow.name)
		}
		return nil
	}
	if name == "" {
		name = d.flow.suite
	}
	for _, s := range d.flow.suites {
		if s == name {
			d.suite = name
			return nil
		}
	}
	if _, known := demoSuites[name]; known {
		return usagef("--flow %s does not use --suite %s (it takes %s); the RSA key exchange is --flow seed", d.flow.name, name, strings.Join(d.flow.suites, ", "))
	}
	return usagef("unknown --suite %q (want rsa, ecdhe-rsa or ecdhe-ecdsa)", name)
}

func (d *demo) say(s say) string           { return d.lang.say(s) }
func (d *demo) printf(s say, args ...any)  { fmt.Fprintf(d.out, d.lang.say(s), args...) }
func (d *demo) println(s say, args ...any) { fmt.Fprintln(d.out, d.lang.sayf(s, args...)) }
func (d *demo) suiteID() uint16            { return demoSuites[d.suite].id }
func (d *demo) rsaKeyExchange() bool       { return d.suite == "rsa" }

// see is the Config's trace hook of both sides: it keeps each event for
// the connection's timeline, and what the report needs.
func (d *demo) see(e trace.Event) {
	e.Raw = bytes.Clone(e.Raw) // the hook must not keep the caller's buffer
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, e)
	switch {
	case e.Kind == trace.KindError && e.Err != nil:
		if _, seen := d.errs[e.Side]; !seen {
			d.errs[e.Side] = e.Err
		}
	case e.Kind == trace.KindMessage && e.Message == "Certificate" && e.Side == trace.Server && e.Direction == trace.Sent:
		d.serverCerts.Add(1)
	}
}

// line adds a line of the demo's own to the timeline, said by side.
func (d *demo) line(side trace.Side, s say, args ...any) {
	d.see(trace.Event{Side: side, Kind: kindDemo, Direction: trace.Local, Step: -1, Message: d.lang.sayf(s, args...)})
}

func (d *demo) errorOf(side trace.Side) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.errs[side]
}

// flushTimeline prints the connection's events in wire order, whatever
// order the client's and the server's goroutines delivered them in. An
// error shows as its headline: the report after explains it.
func (d *demo) flushTimeline() {
	d.mu.Lock()
	events := d.events
	d.events = nil
	d.mu.Unlock()
	events = trace.WireOrder(events)
	if d.mitm != nil {
		events = d.markTampered(events)
	}
	for _, e := range events {
		switch e.Kind {
		case kindDemo:
			fmt.Fprintln(d.out, e.Message)
		case trace.KindError:
			e.Fields = headlineFields(e.Fields)
			d.render(e)
		default:
			d.render(e)
		}
	}
}

// headlineFields keeps of an error event's fields those its headline is
// made of (how it ended), dropping the cause and fix a diagnosis explains.
func headlineFields(fields []trace.Field) []trace.Field {
	var keep []trace.Field
	for _, f := range fields {
		if f.Name == "alert" || f.Name == "ended" {
			keep = append(keep, f)
		}
	}
	return keep
}

// markTampered puts the man in the middle's report after the message he
// changed, as its sender sent it.
func (d *demo) markTampered(events []trace.Event) []trace.Event {
	note := d.mitm.Changed()
	if note == "" {
		return events
	}
	mark := trace.Event{Kind: kindDemo, Message: d.lang.sayf(say{"  >>> the man in the middle changed %s", "  >>> der Man-in-the-Middle hat verändert: %s"}, note)}
	at := tamperedIndex(events, d.plan)
	if at < 0 {
		at = len(events) - 1
		for i, e := range events {
			if e.Kind == trace.KindError || e.Kind == trace.KindAlert {
				at = i - 1
				break
			}
		}
	}
	return slices.Insert(events, at+1, mark)
}

// tamperedIndex finds the event of the message plan changes, as sent.
func tamperedIndex(events []trace.Event, plan *flipPlan) int {
	sender := trace.Client
	if plan.dir == serverToClient {
		sender = trace.Server
	}
	afterCCS := false
	for i, e := range events {
		if e.Side != sender || e.Direction != trace.Sent {
			continue
		}
		switch {
		case e.Kind == trace.KindChangeCipherSpec:
			afterCCS = true
		case plan.kind == flipMessage && e.Kind == trace.KindMessage && e.Message == messageName(plan.msgType):
			return i
		case (plan.kind == flipAfterCCS || plan.kind == flipEncrypted) && afterCCS && e.Kind == trace.KindMessage:
			return i // the first message protected with the new keys
		case plan.kind == flipAppData && e.Kind == trace.KindApplicationData:
			return i
		}
	}
	return -1
}

func (d *demo) run() error {
	title := d.say(d.flow.title)
	if !d.flow.tls13 {
		title = fmt.Sprintf(title, tlsflow.CipherSuiteName(d.suiteID()))
	}
	fmt.Fprintf(d.out, "tlsflow demo: %s\n", title)
	if !d.flow.tls13 && d.rsaKeyExchange() {
		d.println(say{"This is the course note's classic flow: the RSA key exchange, where the client encrypts the pre-master secret to the server's certificate key. It has no forward secrecy: whoever obtains that key later can decrypt a recording of this connection. Modern peers use ECDHE (--suite ecdhe-rsa) or TLS 1.3 (--flow tls13).",
			"Das ist der klassische Ablauf der Kursnotiz: der RSA-Schlüsselaustausch, bei dem der Client das Pre-Master-Secret mit dem Schlüssel des Server-Zertifikats verschlüsselt. Er hat keine Forward Secrecy: wer diesen Schlüssel später erlangt, kann einen Mitschnitt dieser Verbindung entschlüsseln. Heutige Gegenstellen nutzen ECDHE (--suite ecdhe-rsa) oder TLS 1.3 (--flow tls13)."})
	}
	d.println(say{"The steps are the course note's (docs/FLOW.md maps them to the messages of TLS 1.2 and 1.3).",
		"Die Schritte sind die der Kursnotiz (docs/FLOW.md ordnet ihnen die Nachrichten von TLS 1.2 und 1.3 zu)."})
	if err := d.makeCertificates(); err != nil {
		return err
	}

	serverConfig := &tlsflow.Config{
		Certificates: []tlsflow.Certificate{{Certificate: d.server.Chain, PrivateKey: d.server.Key, Leaf: d.server.Cert}},
		Trace:        d.see,
	}
	clientConfig := &tlsflow.Config{
		RootCAs:    d.ca.Pool,
		ServerName: "localhost",
		Trace:      d.see,
	}
	if d.flow.clientAuth {
		serverConfig.ClientAuth = tlsflow.RequireAndVerifyClientCert
		serverConfig.ClientCAs = d.ca.Pool
		clientConfig.Certificates = []tlsflow.Certificate{{Certificate: d.client.Chain, PrivateKey: d.client.Key, Leaf: d.client.Cert}}
	}
	if d.flow.tls13 {
		serverConfig.MinVersion, clientConfig.MinVersion = tlsflow.VersionTLS13, tlsflow.VersionTLS13
	} else {
		serverConfig.MaxVersion, clientConfig.MaxVersion = tlsflow.VersionTLS12, tlsflow.VersionTLS12
		serverConfig.CipherSuites = []uint16{d.suiteID()}
		clientConfig.CipherSuites = []uint16{d.suiteID()}
	}
	if d.flow.twice {
		clientConfig.ClientSessionCache = tlsflow.NewLRUClientSessionCache(1)
	}
	if d.flow.ech {
		if err := d.setUpECH(serverConfig, clientConfig); err != nil {
			return err
		}
	}

	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", serverConfig)
	if err != nil {
		return err
	}
	defer ln.Close()
	d.serverClosed = make(chan struct{}, 4)
	httpServer := &http.Server{Handler: hello(d.lang), ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				select {
				case d.serverClosed <- struct{}{}:
				default:
				}
			}
		}}
	go httpServer.Serve(ln)
	defer httpServer.Close()

	switch {
	case d.plan != nil:
		return d.runTampered(ln.Addr().String(), clientConfig)
	case d.flow.twice:
		return d.runResumption(ln.Addr().String(), clientConfig)
	}
	_, err = d.exchange(ln.Addr().String(), clientConfig, nil)
	return err
}

func (d *demo) makeCertificates() error {
	keyType := pki.ECDSAP256
	if !d.flow.tls13 {
		keyType = demoSuites[d.suite].key
	}
	what := say{"Making a certificate authority and a server certificate (key pair: %s …)",
		"Erzeuge eine Zertifizierungsstelle und ein Server-Zertifikat (Schlüsselpaar: %s …)"}
	if d.flow.clientAuth {
		what = say{"Making a certificate authority, a server and a client certificate (key pair: %s …)",
			"Erzeuge eine Zertifizierungsstelle, ein Server- und ein Client-Zertifikat (Schlüsselpaar: %s …)"}
	}
	d.println(what, keyType)
	var err error
	if d.ca, err = pki.NewCA("tlsflow demo CA", pki.ECDSAP256); err != nil {
		return err
	}
	if d.server, err = d.ca.Issue(pki.LeafOptions{KeyType: keyType, CommonName: "localhost",
		DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return err
	}
	if d.flow.ech {
		if d.public, err = d.ca.Issue(pki.LeafOptions{KeyType: keyType, CommonName: echPublicName,
			DNSNames: []string{echPublicName}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			return err
		}
	}
	if d.flow.clientAuth {
		if d.client, err = d.ca.Issue(pki.LeafOptions{KeyType: pki.ECDSAP256, CommonName: "demo client",
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return err
		}
	}
	return nil
}

// exchange runs one connection: the handshake, GET / and the answer, and
// prints its timeline once both sides are done with it. afterHandshake, if
// set, learns how many bytes the client had written by the end of its
// handshake. A failed handshake is explained here, unless the man in the
// middle caused it (runTampered reports that).
func (d *demo) exchange(addr string, cfg *tlsflow.Config, afterHandshake func(written int64)) (tlsflow.ConnectionState, error) {
	st, err := d.converse(addr, cfg, afterHandshake)
	if err == nil || d.errorOf(trace.Client) != nil {
		// The server's last events (its close_notify, its error) come
		// before net/http closes the connection.
		select {
		case <-d.serverClosed:
		case <-time.After(3 * time.Second):
		}
	}
	d.flushTimeline()
	if err != nil && d.plan == nil {
		d.println(say{"\nThe connection failed:", "\nDie Verbindung ist gescheitert:"})
		explain(d.lang, &failure{err: err, side: trace.Client, speaker: speakerDemo, lastStep: -1, addr: addr}).write(d.out, d.lang, "  ")
		return st, errReported
	}
	return st, err
}

// converse is the client's part of exchange.
func (d *demo) converse(addr string, cfg *tlsflow.Config, afterHandshake func(written int64)) (tlsflow.ConnectionState, error) {
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return tlsflow.ConnectionState{}, err
	}
	counted := &countingConn{Conn: raw}
	conn := tlsflow.Client(counted, cfg)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := conn.Handshake(); err != nil {
		return conn.ConnectionState(), err
	}
	if afterHandshake != nil {
		afterHandshake(counted.written.Load())
	}
	d.line(trace.Client, say{"\nClient: GET / over the TLS connection", "\nClient: GET / über die TLS-Verbindung"})
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		return conn.ConnectionState(), err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return conn.ConnectionState(), err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return conn.ConnectionState(), err
	}
	d.line(trace.Client, say{"\nServer answered: %s\n%s\n", "\nDer Server antwortet: %s\n%s\n"}, resp.Status, strings.TrimSpace(string(body)))
	// The server closes after its answer (Connection: close): read its
	// close_notify before sending ours, so the two come in one order.
	io.Copy(io.Discard, conn)
	return conn.ConnectionState(), nil
}

// runResumption connects twice; the second handshake resumes the first
// session from the ticket the server sent after the first.
func (d *demo) runResumption(addr string, cfg *tlsflow.Config) error {
	d.println(say{"\n=== First connection: a full handshake; the server sends a ticket afterwards ===",
		"\n=== Erste Verbindung: ein vollständiger Handshake; danach sendet der Server ein Ticket ==="})
	if _, err := d.exchange(addr, cfg, nil); err != nil {
		return err
	}
	first := d.serverCerts.Swap(0)
	d.println(say{"\n=== Second connection: the client offers the ticket (pre_shared_key) ===",
		"\n=== Zweite Verbindung: der Client bietet das Ticket an (pre_shared_key) ==="})
	st, err := d.exchange(addr, cfg, nil)
	if err != nil {
		return err
	}
	second := d.serverCerts.Load()
	d.println(say{"\nResult:", "\nErgebnis:"})
	d.println(say{"  first connection:  the server sent %d Certificate message(s)",
		"  erste Verbindung:  der Server sandte %d Certificate-Nachricht(en)"}, first)
	d.println(say{"  second connection: DidResume = %v, the server sent %d Certificate message(s)",
		"  zweite Verbindung: DidResume = %v, der Server sandte %d Certificate-Nachricht(en)"}, st.DidResume, second)
	if !st.DidResume || second != 0 {
		return errors.New(d.say(say{"the second connection did not resume the session", "die zweite Verbindung hat die Sitzung nicht wieder aufgenommen"}))
	}
	d.println(say{"  Resumed: no Certificate, no CertificateVerify; the key from the first session (the PSK) proves both sides, and a fresh ECDHE keeps forward secrecy.",
		"  Wiederaufgenommen: kein Certificate, kein CertificateVerify; der Schlüssel aus der ersten Sitzung (der PSK) weist beide Seiten aus, und ein frisches ECDHE erhält die Forward Secrecy."})
	return nil
}

// runTampered runs the exchange through the man in the middle and
// reports which side noticed the change, where and why.
func (d *demo) runTampered(serverAddr string, cfg *tlsflow.Config) error {
	m, err := startMITM(serverAddr, d.plan, func(string) {})
	if err != nil {
		return err
	}
	defer m.Close()
	d.mitm = m
	d.println(say{"A man in the middle relays the connection (--flow %s) and will change one byte of %s.",
		"Ein Man-in-the-Middle leitet die Verbindung weiter (--flow %s) und wird ein Byte von %s verändern."}, d.flow.name, d.tamper)

	var arm func(int64)
	if d.plan.kind == flipAppData {
		arm = m.armAppData
	}
	_, clientErr := d.exchange(m.Addr(), cfg, arm)
	serverErr := d.errorOf(trace.Server)
	if ce := d.errorOf(trace.Client); ce != nil {
		clientErr = ce // the traced error, without the demo's prefix
	}

	if m.Changed() == "" {
		return fmt.Errorf(d.say(say{"the man in the middle found no %s to change in --flow %s",
			"der Man-in-the-Middle fand in --flow %s kein %s zum Verändern"}), d.tamper, d.flow.name)
	}
	d.println(say{"\n=== What the man in the middle caused ===", "\n=== Was der Man-in-the-Middle bewirkt hat ==="})
	if clientErr == nil && serverErr == nil {
		d.println(say{"Nothing: the handshake and the request went through. The change went unnoticed!",
			"Nichts: Handshake und Anfrage gingen durch. Die Änderung blieb unbemerkt!"})
		return errors.New("the man in the middle went unnoticed")
	}
	// The side that sent an alert noticed; the other learnt it from the
	// alert. When both noticed (TLS 1.3: neither can read the other's
	// records), the earlier step came first.
	sides := []struct {
		side trace.Side
		err  error
	}{{trace.Client, clientErr}, {trace.Server, serverErr}}
	if detected(serverErr) && (!detected(clientErr) || stepOf(serverErr) < stepOf(clientErr)) {
		sides[0], sides[1] = sides[1], sides[0]
	}
	for _, s := range sides {
		if s.err == nil {
			continue
		}
		name := d.say(say{"client", "Client"})
		if s.side == trace.Server {
			name = d.say(say{"server", "Server"})
		}
		if detected(s.err) {
			d.println(say{"The %s noticed:", "Der %s hat es bemerkt:"}, name)
		} else {
			d.println(say{"The %s was told:", "Der %s erfuhr es:"}, name)
		}
		explain(d.lang, &failure{err: s.err, side: s.side, speaker: speakerDemo, lastStep: -1}).write(d.out, d.lang, "    ")
	}
	d.println(say{"Why: %s", "Warum: %s"}, d.say(d.why()))
	return nil
}

func stepOf(err error) int {
	var ae *tlsflow.Error
	if errors.As(err, &ae) {
		return ae.Step
	}
	return -1
}

// detected reports whether err is a failure this side found itself (and
// sent an alert for), rather than an alert it received.
func detected(err error) bool {
	var ae *tlsflow.Error
	return errors.As(err, &ae) && !ae.Received && !ae.Local
}

type connKey struct{}

// hello answers with what the handshake negotiated, as the server saw it,
// in the demo's language.
func hello(l language) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, ok := r.Context().Value(connKey{}).(*tlsflow.Conn)
		if !ok {
			http.Error(w, "not a tlsflow connection", http.StatusInternalServerError)
			return
		}
		st := conn.ConnectionState()
		who := l.say(say{"anonymous client", "anonymer Client"})
		if len(st.PeerCertificates) > 0 {
			who = st.PeerCertificates[0].Subject.CommonName
		}
		resumed := ""
		if st.DidResume {
			resumed = l.say(say{" (resumed session)", " (wiederaufgenommene Sitzung)"})
		}
		fmt.Fprintln(w, l.sayf(say{"Hello, %s: you reached this page over %s with %s%s.", "Hallo, %s: du hast diese Seite über %s mit %s%s erreicht."},
			who, tlsflow.VersionName(st.Version), tlsflow.CipherSuiteName(st.CipherSuite), resumed))
	})
}

// countingConn counts the bytes written through it.
type countingConn struct {
	net.Conn
	written atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// echPublicName is the name the outer ClientHello of --flow ech shows.
const echPublicName = "public.example"

// setUpECH gives the server an ECH key and the certificate of its public
// name, and the client the configuration list (as a DNS HTTPS record
// would): the client's real ClientHello, for localhost, goes sealed inside
// one for public.example.
func (d *demo) setUpECH(server, client *tlsflow.Config) error {
	key, err := tlsflow.NewECHConfig(1, echPublicName)
	if err != nil {
		return err
	}
	list, err := tlsflow.MarshalECHConfigList(key.Config)
	if err != nil {
		return err
	}
	server.Certificates = append(server.Certificates, tlsflow.Certificate{Certificate: d.public.Chain, PrivateKey: d.public.Key, Leaf: d.public.Cert})
	server.EncryptedClientHelloKeys = []tlsflow.EncryptedClientHelloKey{key}
	client.EncryptedClientHelloConfigList = list
	d.println(say{"Encrypted Client Hello: the server publishes a key (config_id 1) under the public name %s; the client seals its real ClientHello for localhost with it.",
		"Encrypted Client Hello: der Server veröffentlicht einen Schlüssel (config_id 1) unter dem öffentlichen Namen %s; der Client versiegelt damit seinen echten ClientHello für localhost."}, echPublicName)
	return nil
}
