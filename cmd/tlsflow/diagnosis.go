package main

// What the command says about a connection that failed: where (the step
// of the course note), how it ended (trace.EndOf, the classification the
// trace uses too), why, and what to change, in the reader's language and
// in the terms of the command that speaks: connect names its flags, serve
// its own and the client's, the demo the man in the middle. The library's
// error carries the same facts for programs, in Config's terms; here they
// are only read, never parsed from its text, and the library's own words
// are shown as a detail only where no sentence here covers the case.

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/trace"
)

// speaker is the command whose terms a diagnosis uses.
type speaker int

const (
	speakerConnect speaker = iota // a client with connect's flags
	speakerServe                  // a server with serve's flags, talking to curl or a browser
	speakerDemo                   // the demo: both ends are ours, the fault is the man in the middle
)

// failure is an error and what the command knows around it.
type failure struct {
	err     error
	side    trace.Side // ours
	speaker speaker
	// where the trace last saw the wire, for errors that do not say
	// (a timeout, a reset): its step and message.
	lastStep  int
	lastMsg   string
	connected bool // TCP was open (step 0 done)
	// connect's settings.
	addr           string
	serverName     string // --servername, if given
	caGiven        bool
	certGiven      bool
	rsaOnly        bool // --suites names only the RSA key exchange
	timeout        time.Duration
	requestedCAs   string // the CAs a CertificateRequest named
	askedForCert   bool   // the server sent CertificateRequest
	sniSent        bool
	versionsPinned bool // --tls1.2 or --tls1.3
	// --psk-identity of either command ("" without --psk); pskOnly: the
	// client can check nothing else, or the server holds no certificate.
	pskIdentity string
	pskOnly     bool
	// serve's settings.
	clientAuth string         // none, request, require
	files      generatedFiles // what serve made for clients
}

// diagnosis is the explanation, in one language.
type diagnosis struct {
	where  string // "3, Certificate", "—"
	alert  string // the alert, or why there was none
	cause  string
	fix    string // "" when nothing can be told
	detail string // the library's words, where cause is only a summary
}

// write prints the diagnosis, one labelled line each.
func (d diagnosis) write(w io.Writer, l language, indent string) {
	dw := diagnosisWords
	fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.step), d.where)
	fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.alert), d.alert)
	if d.cause != "" {
		fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.cause), d.cause)
	}
	if d.fix != "" {
		fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.fix), d.fix)
	}
	if d.detail != "" {
		fmt.Fprintf(w, "%s%s %s\n", indent, l.say(dw.detail), d.detail)
	}
}

var diagnosisWords = struct {
	step, alert, cause, fix, detail say
}{
	step:   say{"step: ", "Schritt:"},
	alert:  say{"alert:", "Alert:  "},
	cause:  say{"cause:", "Ursache:"},
	fix:    say{"fix:  ", "Abhilfe:"},
	detail: say{"detail (tlsflow's words):", "Detail (Wortlaut von tlsflow, englisch):"},
}

// explain builds the diagnosis of f in l.
func explain(l language, f *failure) diagnosis {
	e := &explanation{l: l, f: f, end: trace.EndOf(f.err), step: -1}
	if errors.As(f.err, &e.ae) {
		e.step, e.message = e.ae.Step, e.ae.Message
	}
	if e.step < 0 && f.lastStep >= 0 && e.end != trace.EndRefused && !(e.end == trace.EndTimeout && !f.connected) {
		e.step, e.message = f.lastStep, "after "+f.lastMsg
	}
	if e.step < 0 && e.end == trace.EndNotTLS && f.side == trace.Server {
		e.step, e.message = 1, "ClientHello" // what should have come
	}
	if e.step < 0 && (e.end == trace.EndRefused || e.end == trace.EndNetwork || e.end == trace.EndTimeout && !f.connected) {
		e.step, e.message = 0, "TCP"
	}
	e.classify()
	d := diagnosis{where: "—", alert: e.alertLine(), cause: e.cause, fix: e.fix, detail: e.detail}
	if e.step >= 0 {
		d.where = strconv.Itoa(e.step)
		if e.message != "" {
			d.where += ", " + l.place(e.message)
		}
	}
	return d
}

type explanation struct {
	l          language
	f          *failure
	end        trace.End
	ae         *tlsflow.Error
	step       int
	message    string
	cause, fix string
	detail     string
}

func (e *explanation) say(s say, args ...any) string { return e.l.sayf(s, args...) }

// peerName is the other side in l: in English lower case, in German a noun.
func (e *explanation) peerName() string {
	if e.f.side == trace.Server {
		return e.say(say{"client", "Client"})
	}
	return e.say(say{"server", "Server"})
}

// peerGen is the other side in the German genitive ("des Servers").
func (e *explanation) peerGen() string {
	if e.f.side == trace.Server {
		return e.say(say{"client", "Clients"})
	}
	return e.say(say{"server", "Servers"})
}

func (e *explanation) alertLine() string {
	peer := e.peerName()
	name := ""
	if e.ae != nil {
		name = e.ae.Alert.String()
	}
	switch e.end {
	case trace.EndAlertSent:
		return e.say(say{"%s (sent to the %s)", "%s (an den %s gesendet)"}, name, peer)
	case trace.EndAlertReceived:
		return e.say(say{"%s (received from the %s)", "%s (vom %s empfangen)"}, name, peer)
	case trace.EndCloseNotify:
		return e.say(say{"close_notify (received from the %s during the handshake: it gave up without saying why)",
			"close_notify (vom %s während des Handshakes empfangen: er gibt auf, ohne zu sagen, warum)"}, peer)
	case trace.EndClosed:
		return e.say(say{"none: the %s closed TCP without one", "keiner: der %s hat TCP ohne Alert geschlossen"}, peer)
	case trace.EndReset:
		return e.say(say{"none: the TCP connection was reset", "keiner: die TCP-Verbindung wurde zurückgesetzt"})
	case trace.EndRefused, trace.EndNetwork:
		return e.say(say{"none: there was no TCP connection to send one over", "keiner: es gab keine TCP-Verbindung, über die einer gehen könnte"})
	case trace.EndTimeout:
		return e.say(say{"none: no answer came", "keiner: es kam keine Antwort"})
	case trace.EndNotTLS:
		return e.say(say{"none: a peer that does not speak TLS would not read one", "keiner: eine Gegenseite, die kein TLS spricht, würde ihn nicht lesen"})
	}
	return e.say(say{"none (a local failure, nothing went over the wire)", "keiner (ein lokaler Fehler, nichts ging über die Leitung)"})
}

// classify fills cause, fix and detail.
func (e *explanation) classify() {
	var rejection *tlsflow.ECHRejectionError
	if errors.As(e.f.err, &rejection) {
		e.cause = e.say(say{"the server rejected Encrypted Client Hello: it used the outer ClientHello, proved it holds the public name's certificate, and this client ended the connection (ech_required), as the draft asks",
			"der Server hat Encrypted Client Hello abgelehnt: er hat das äußere ClientHello benutzt, das Zertifikat des öffentlichen Namens vorgewiesen, und dieser Client hat die Verbindung beendet (ech_required), wie der Entwurf es verlangt"})
		if len(rejection.RetryConfigList) > 0 {
			e.fix = e.say(say{"connect again with the server's new configuration: --ech %s", "erneut verbinden, mit der neuen Konfiguration des Servers: --ech %s"},
				base64.StdEncoding.EncodeToString(rejection.RetryConfigList))
		} else {
			e.fix = e.say(say{"the server sent no new configuration: it has ECH switched off; connect without --ech", "der Server hat keine neue Konfiguration gesendet: ECH ist bei ihm abgeschaltet; ohne --ech verbinden"})
		}
		return
	}
	switch e.end {
	case trace.EndRefused:
		e.cause = e.say(say{"nothing accepts TCP connections at %s (connection refused)", "unter %s nimmt niemand TCP-Verbindungen an (Verbindung abgelehnt)"}, e.f.addr)
		e.fix = e.say(say{"check the host and the port: is the server running and listening there? (HTTPS is port 443; give host:port for another)",
			"Host und Port prüfen: läuft der Server und lauscht er dort? (HTTPS ist Port 443; für einen anderen host:port angeben)"})
		return
	case trace.EndNetwork:
		var dns *net.DNSError
		if errors.As(e.f.err, &dns) {
			e.cause = e.say(say{"the host name %s cannot be resolved", "der Hostname %s lässt sich nicht auflösen"}, dns.Name)
			e.fix = e.say(say{"check the spelling of the host name, and this machine's DNS", "die Schreibweise des Hostnamens und das DNS dieses Rechners prüfen"})
		} else {
			e.cause = e.say(say{"the network failed before any TLS was spoken", "das Netz hat versagt, bevor TLS gesprochen wurde"})
			e.fix = e.say(say{"check the address, the route and any firewall", "Adresse, Route und Firewalls prüfen"})
		}
		e.detail = e.f.err.Error()
		return
	case trace.EndTimeout:
		e.timedOut()
		return
	case trace.EndReset:
		e.cause = e.say(say{"the TCP connection was reset (RST) by the %s or by a box on the way", "die TCP-Verbindung wurde vom %s oder einem Gerät auf dem Weg zurückgesetzt (RST)"}, e.peerName())
		e.fix = e.silentRefusalFix()
		return
	case trace.EndClosed, trace.EndCloseNotify:
		e.closedByPeer()
		return
	case trace.EndNotTLS:
		e.notTLS()
		return
	}
	if e.ae == nil {
		e.cause = e.say(say{"the connection failed outside TLS", "die Verbindung ist außerhalb von TLS gescheitert"})
		e.detail = e.f.err.Error()
		return
	}
	if e.end == trace.EndAlertReceived {
		e.receivedAlert()
		return
	}
	if e.certificateProblem() {
		return
	}
	e.sentAlert()
}

func (e *explanation) timedOut() {
	if !e.f.connected {
		e.cause = e.say(say{"no TCP connection to %s within %s", "keine TCP-Verbindung zu %s innerhalb von %s"}, e.f.addr, e.f.timeout)
		e.fix = e.say(say{"check the address, and whether a firewall drops the packets; --timeout waits longer",
			"die Adresse prüfen, und ob eine Firewall die Pakete verwirft; --timeout wartet länger"})
		return
	}
	e.cause = e.say(say{"the %s sent no answer within %s", "der %s hat innerhalb von %s nicht geantwortet"}, e.peerName(), e.f.timeout)
	if e.f.side == trace.Client && e.step <= 1 {
		e.fix = e.say(say{"a TLS server answers ClientHello at once: this port may speak another protocol that waits for the client (check the port), or the server is overloaded; --timeout waits longer",
			"ein TLS-Server beantwortet das ClientHello sofort: dieser Port spricht vielleicht ein anderes Protokoll, das auf den Client wartet (Port prüfen), oder der Server ist überlastet; --timeout wartet länger"})
		return
	}
	e.fix = e.say(say{"the %s stopped in the middle of the handshake: it may be overloaded, or a box on the way drops large records; --timeout waits longer",
		"der %s ist mitten im Handshake stehen geblieben: er ist vielleicht überlastet, oder ein Gerät auf dem Weg verwirft große Records; --timeout wartet länger"}, e.peerName())
}

// closedByPeer: TCP closed without an alert, or close_notify during the
// handshake; either way the peer did not say why.
func (e *explanation) closedByPeer() {
	peer := e.peerName()
	if e.end == trace.EndClosed {
		e.cause = e.say(say{"the %s closed the TCP connection without a TLS alert", "der %s hat die TCP-Verbindung ohne TLS-Alert geschlossen"}, peer)
	} else {
		e.cause = e.say(say{"the %s ended the handshake with close_notify, without saying why", "der %s hat den Handshake mit close_notify beendet, ohne zu sagen, warum"}, peer)
	}
	switch {
	case e.step == 8 && e.f.side == trace.Client:
		e.fix = e.say(say{"without close_notify what the server sent may be cut short; if the answer is incomplete, ask its operator",
			"ohne close_notify ist das, was der Server sandte, vielleicht abgeschnitten; ist die Antwort unvollständig, den Betreiber fragen"})
	case e.step == 8:
		e.fix = e.say(say{"common for HTTP clients such as curl after HTTP/2 or Connection: close; nothing to change unless data was lost",
			"üblich bei HTTP-Clients wie curl nach HTTP/2 oder Connection: close; nichts zu ändern, solange keine Daten fehlen"})
	case e.f.side == trace.Server:
		e.fix = e.serverDistrustedFix(say{"a client that does not trust this server's certificate often just hangs up (browsers, curl)",
			"ein Client, der dem Zertifikat dieses Servers nicht traut, legt oft einfach auf (Browser, curl)"})
	default:
		e.fix = e.silentRefusalFix()
	}
}

// silentRefusalFix is the client's advice when the server hung up or reset
// without an alert.
func (e *explanation) silentRefusalFix() string {
	if e.f.side == trace.Server {
		return e.say(say{"the client hung up: its own messages or logs say why", "der Client hat aufgelegt: seine eigenen Meldungen sagen, warum"})
	}
	if e.step <= 1 {
		hint := e.say(say{"the server refused our ClientHello without saying why: it may accept none of our versions or suites (try --tls1.2 or --tls1.3), want another server name (--servername), or not speak TLS on this port",
			"der Server hat unser ClientHello abgewiesen, ohne zu sagen, warum: vielleicht nimmt er keine unserer Versionen oder Cipher-Suites an (--tls1.2 oder --tls1.3 versuchen), will einen anderen Servernamen (--servername) oder spricht auf diesem Port kein TLS"})
		if !e.f.sniSent && e.f.serverName == "" {
			hint += e.say(say{"; we sent no server name (SNI), since the address is an IP address: many servers need one, give it with --servername",
				"; wir haben keinen Servernamen (SNI) gesendet, da die Adresse eine IP-Adresse ist: viele Server brauchen einen, mit --servername angeben"})
		}
		return hint
	}
	return e.say(say{"the server gave up in the middle of the handshake without saying why; its logs say why", "der Server hat mitten im Handshake aufgegeben, ohne zu sagen, warum; seine Protokolle sagen es"})
}

// notTLS tells from the first bytes what the peer speaks instead.
func (e *explanation) notTLS() {
	var header []byte
	var rh tlsflow.RecordHeaderError
	if errors.As(e.f.err, &rh) {
		header = rh.RecordHeader[:]
	}
	peer := e.peerName()
	s := string(header)
	switch {
	case e.f.side == trace.Server && (strings.HasPrefix(s, "GET ") || strings.HasPrefix(s, "POST") || strings.HasPrefix(s, "HEAD ") || strings.HasPrefix(s, "PUT ")):
		e.cause = e.say(say{"the client sent a plain HTTP request (%q…) to this TLS port", "der Client hat eine unverschlüsselte HTTP-Anfrage (%q…) an diesen TLS-Port geschickt"}, s)
		e.fix = e.say(say{"open https://…, not http://…", "https://… öffnen, nicht http://…"})
	case strings.HasPrefix(s, "HTTP/"):
		e.cause = e.say(say{"the %s answered in plain HTTP (%q…), not TLS", "der %s hat unverschlüsselt in HTTP geantwortet (%q…), nicht in TLS"}, peer, s)
		e.fix = e.say(say{"this port speaks HTTP without TLS: use the HTTPS port (443 by default)", "dieser Port spricht HTTP ohne TLS: den HTTPS-Port nehmen (normalerweise 443)"})
	case strings.HasPrefix(s, "SSH-"):
		e.cause = e.say(say{"the %s speaks SSH (%q…), not TLS", "der %s spricht SSH (%q…), nicht TLS"}, peer, s)
		e.fix = e.say(say{"this is an SSH port: use the port of the TLS service", "das ist ein SSH-Port: den Port des TLS-Dienstes nehmen"})
	case printable(header):
		e.cause = e.say(say{"the %s sent plain text (%q…), not TLS", "der %s hat Klartext gesendet (%q…), nicht TLS"}, peer, s)
		e.fix = e.say(say{"the service may start TLS only on request (STARTTLS; --starttls ftp does it for FTP), or listen for TLS on another port",
			"der Dienst beginnt TLS vielleicht nur auf Anfrage (STARTTLS; --starttls ftp tut das für FTP) oder erwartet TLS auf einem anderen Port"})
	default:
		e.cause = e.say(say{"the %s sent bytes that are not a TLS record (% x)", "der %s hat Bytes gesendet, die kein TLS-Record sind (% x)"}, peer, header)
		e.fix = e.say(say{"another binary protocol answers on this port: check the address and the port", "auf diesem Port antwortet ein anderes binäres Protokoll: Adresse und Port prüfen"})
	}
}

// printable reports whether b is text a person would type or read.
func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}

// certificateProblem explains a peer certificate this side refused, from
// crypto/x509's typed errors.
func (e *explanation) certificateProblem() bool {
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(e.f.err, &host):
		names := certNames(host.Certificate)
		e.cause = e.say(say{"the server certificate is for %s, not for %s", "das Server-Zertifikat gilt für %s, nicht für %s"}, names, host.Host)
		e.fix = e.say(say{"connect with --servername set to a name the certificate covers (%s), or give the server a certificate for %s",
			"mit --servername und einem Namen verbinden, den das Zertifikat abdeckt (%s), oder dem Server ein Zertifikat für %s geben"}, names, host.Host)
	case errors.As(e.f.err, &unknown):
		issuer := e.say(say{"an unknown CA", "eine unbekannte Zertifizierungsstelle"})
		if unknown.Cert != nil {
			issuer = unknown.Cert.Issuer.String()
		}
		if e.f.side == trace.Server {
			e.cause = e.say(say{"the client certificate was issued by %s, which this server does not accept", "das Client-Zertifikat stammt von %s, die dieser Server nicht akzeptiert"}, issuer)
			e.fix = e.say(say{"give the client a certificate from a CA in --client-ca, or add its CA to --client-ca", "dem Client ein Zertifikat einer Zertifizierungsstelle aus --client-ca geben oder seine Zertifizierungsstelle in --client-ca aufnehmen"})
			return true
		}
		e.cause = e.say(say{"the server certificate does not lead to a CA this client trusts (issued by %s), or its signature does not verify", "das Server-Zertifikat führt zu keiner Zertifizierungsstelle, der dieser Client vertraut (ausgestellt von %s), oder seine Signatur stimmt nicht"}, issuer)
		switch e.f.speaker {
		case speakerDemo:
			e.fix = e.say(say{"nothing to change: the man in the middle broke the CA's signature, and no CA the client trusts issued him a certificate of his own",
				"nichts zu ändern: der Man-in-the-Middle hat die Signatur der Zertifizierungsstelle zerstört, und keine Zertifizierungsstelle, der der Client vertraut, hat ihm ein eigenes Zertifikat ausgestellt"})
		case speakerConnect:
			e.fix = e.say(say{"trust the CA that issued it with --ca FILE (PEM), or have the server send its intermediate certificates (--insecure skips the check: for tests only)",
				"der ausstellenden Zertifizierungsstelle mit --ca DATEI (PEM) vertrauen oder den Server seine Zwischenzertifikate senden lassen (--insecure überspringt die Prüfung: nur für Tests)"})
		}
	case errors.As(e.f.err, &invalid) && invalid.Reason == x509.Expired:
		whose := e.say(say{"server", "Server"})
		if e.f.side == trace.Server {
			whose = e.say(say{"client", "Client"})
		}
		e.cause = e.say(say{"the %s certificate is outside its validity period (%s to %s)", "das %s-Zertifikat ist außerhalb seiner Gültigkeit (%s bis %s)"},
			whose, invalid.Cert.NotBefore.UTC().Format(time.RFC3339), invalid.Cert.NotAfter.UTC().Format(time.RFC3339))
		e.fix = e.say(say{"renew the certificate, or check this machine's clock", "das Zertifikat erneuern oder die Uhr dieses Rechners prüfen"})
	case errors.As(e.f.err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		if e.f.side == trace.Server {
			e.cause = e.say(say{"the client certificate is not for client authentication (no clientAuth extended key usage)", "das Client-Zertifikat ist nicht für die Client-Authentifizierung (keine erweiterte Schlüsselverwendung clientAuth)"})
		} else {
			e.cause = e.say(say{"the server certificate is not for servers (no serverAuth extended key usage)", "das Server-Zertifikat ist nicht für Server (keine erweiterte Schlüsselverwendung serverAuth)"})
		}
		e.fix = e.say(say{"reissue the certificate with that usage", "das Zertifikat mit dieser Verwendung neu ausstellen"})
	default:
		return false
	}
	return true
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "?"
	}
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return c.Subject.CommonName
	}
	return strings.Join(names, ", ")
}

// sentAlert explains a failure this side found itself.
func (e *explanation) sentAlert() {
	peer := e.peerName()
	mitm := e.mitmFix()
	switch {
	case e.f.side == trace.Client && e.f.pskOnly && e.ae.Alert == tlsflow.AlertError(40) && e.ae.Message == "ServerHello": // handshake_failure
		e.cause = e.say(say{"the server did not select our pre-shared key %q, and without --servername or --ca connect has no way to check a certificate instead",
			"der Server hat unseren Pre-Shared Key %q nicht gewählt, und ohne --servername oder --ca kann connect stattdessen kein Zertifikat prüfen"}, e.f.pskIdentity)
		e.fix = e.say(say{"check that the server holds this --psk-identity with the same key and allows a SHA-256 suite (TLS_AES_128_GCM_SHA256); to accept its certificate instead, add --ca (and --servername)",
			"prüfen, dass der Server diese --psk-identity mit demselben Schlüssel hat und eine SHA-256-Suite (TLS_AES_128_GCM_SHA256) erlaubt; um stattdessen sein Zertifikat anzunehmen, --ca (und --servername) angeben"})
	case e.f.side == trace.Server && e.f.pskOnly && e.ae.Alert == tlsflow.AlertError(40) && e.ae.Message == "Certificate":
		e.cause = e.say(say{"the client offered no pre-shared key this server holds, and with --psk alone the server has no certificate to show instead",
			"der Client hat keinen Pre-Shared Key angeboten, den dieser Server hat, und mit --psk allein hat der Server kein Zertifikat, das er stattdessen zeigen könnte"})
		e.fix = e.say(say{"connect with the identity %q and the same key (tlsflow connect --psk-identity, openssl s_client -psk_identity and -psk), or give serve a certificate too (--cert and --key)",
			"mit der Identität %q und demselben Schlüssel verbinden (tlsflow connect --psk-identity, openssl s_client -psk_identity und -psk) oder serve zusätzlich ein Zertifikat geben (--cert und --key)"}, e.f.pskIdentity)
	case e.f.side == trace.Server && e.f.pskIdentity != "" && e.ae.Alert == tlsflow.AlertError(51) && e.ae.Message == "ClientHello": // decrypt_error
		// RFC 8446 §4.2.11: the binder is a MAC with a key from the PSK.
		e.cause = e.say(say{"the client's PSK binder does not verify: it holds another key under the identity it offered",
			"der PSK-Binder des Clients stimmt nicht: er hat unter der angebotenen Identität einen anderen Schlüssel"})
		e.fix = e.say(say{"give the client the key of --psk", "dem Client den Schlüssel von --psk geben"})
	case e.ae.Alert == tlsflow.AlertError(20): // bad_record_mac: a record failed authentication
		e.cause = e.say(say{"a record from the %s failed its authentication tag: it was changed on the way, or the two sides derived different keys because the handshake was changed",
			"ein Record vom %s hat die Authentifizierung (das Tag) nicht bestanden: er wurde unterwegs verändert, oder die Seiten haben verschiedene Schlüssel abgeleitet, weil der Handshake verändert wurde"}, peer)
		e.fix = mitm
	case e.ae.Alert == tlsflow.AlertError(51) && e.ae.Message == "Finished": // decrypt_error
		e.cause = e.say(say{"the %s's Finished does not match the handshake this side saw: the handshake was changed on the way",
			"das Finished des %s passt nicht zu dem Handshake, den diese Seite gesehen hat: der Handshake wurde unterwegs verändert"}, e.peerGen())
		e.fix = mitm
	case e.ae.Alert == tlsflow.AlertError(51) && (e.ae.Message == "ServerKeyExchange" || e.ae.Message == "CertificateVerify"):
		e.cause = e.say(say{"the signature in %s does not verify with the key of the %s's certificate", "die Signatur in %s passt nicht zum Schlüssel im Zertifikat des %s"}, e.ae.Message, e.peerGen())
		e.fix = e.say(say{"the messages were changed on the way, or the %s's key does not belong to its certificate", "die Nachrichten wurden unterwegs verändert, oder der Schlüssel des %s gehört nicht zu seinem Zertifikat"}, e.peerGen())
		if e.f.speaker == speakerDemo {
			e.fix = mitm
		}
	case e.f.side == trace.Server && strings.Contains(e.ae.Reason, "requires a client certificate"):
		e.cause = e.say(say{"the client sent no certificate, and this server requires one", "der Client hat kein Zertifikat gesendet, und dieser Server verlangt eines"})
		e.fix = e.clientCertFix()
	case e.ae.Alert == tlsflow.AlertError(70): // protocol_version
		e.cause = e.say(say{"the %s offers no TLS version this side accepts", "der %s bietet keine TLS-Version an, die diese Seite akzeptiert"}, peer)
		e.fix = e.say(say{"--tls1.2 and --tls1.3 allow only one version: leave them out; a peer that knows only TLS 1.0 or 1.1 needs an update",
			"--tls1.2 und --tls1.3 lassen nur eine Version zu: weglassen; eine Gegenseite, die nur TLS 1.0 oder 1.1 kennt, braucht ein Update"})
		e.detail = e.ae.Reason
	case e.ae.Alert == tlsflow.AlertError(40) && strings.Contains(e.ae.Reason, "no common"): // handshake_failure
		e.cause = e.say(say{"the client and the server have no cipher suite or group in common", "Client und Server haben keine gemeinsame Cipher-Suite oder Gruppe"})
		e.fix = e.say(say{"enable a suite the other side offers with --suites (the RSA key exchange only when named there, TLS_RSA_…), or give the server a certificate of the key type the suites need (serve: --key-type)",
			"mit --suites eine Cipher-Suite der Gegenseite erlauben (den RSA-Schlüsselaustausch nur, wenn dort genannt, TLS_RSA_…) oder dem Server ein Zertifikat des Schlüsseltyps geben, den die Suites brauchen (serve: --key-type)"})
		e.detail = e.ae.Reason
	case e.ae.Alert == tlsflow.AlertError(120): // no_application_protocol
		e.cause = e.say(say{"the client and the server have no application protocol (ALPN) in common", "Client und Server haben kein gemeinsames Anwendungsprotokoll (ALPN)"})
		e.fix = e.say(say{"offer a protocol the other side speaks with --alpn, or leave --alpn out", "mit --alpn ein Protokoll anbieten, das die Gegenseite spricht, oder --alpn weglassen"})
		e.detail = e.ae.Reason
	case e.ae.Alert == tlsflow.AlertError(47) && strings.Contains(e.ae.Reason, "downgrade"): // illegal_parameter
		e.cause = e.say(say{"the ServerHello carries the downgrade sentinel: someone removed TLS 1.3 from the offer", "das ServerHello trägt die Markierung gegen Herabstufung: jemand hat TLS 1.3 aus dem Angebot entfernt"})
		e.fix = e.say(say{"do not get around this with --tls1.2: find the box between the peers that strips TLS 1.3", "das nicht mit --tls1.2 umgehen: das Gerät zwischen den Seiten finden, das TLS 1.3 entfernt"})
	case e.ae.Alert == tlsflow.AlertError(10) && strings.HasPrefix(e.ae.Message, "after ") &&
		e.f.side == trace.Server && e.f.speaker == speakerServe && e.step >= 3:
		// unexpected_message on a record, not in a message, after our
		// certificate went out: curl (OpenSSL) refusing that certificate
		// sends its alert in the clear after the keys changed, which TLS
		// 1.3 does not allow.
		e.cause = e.say(say{"the client sent a record the protocol does not allow there, after the server's certificate: most likely an alert in the clear, which is how curl refuses a certificate it does not trust",
			"der Client hat einen Record gesendet, den das Protokoll dort nicht erlaubt, nach dem Zertifikat des Servers: sehr wahrscheinlich einen unverschlüsselten Alert, so lehnt curl ein Zertifikat ab, dem es nicht traut"})
		e.fix = e.serverDistrustedFix(say{"if the client does not trust this server's certificate", "wenn der Client dem Zertifikat dieses Servers nicht traut"})
		e.detail = e.ae.Reason
	case e.ae.Local:
		e.cause = e.say(say{"tlsflow cannot start with this configuration", "tlsflow kann mit dieser Konfiguration nicht beginnen"})
		e.fix = e.say(say{"correct the flags as the detail says", "die Flags so korrigieren, wie das Detail sagt"})
		e.detail = e.ae.Reason
	default:
		// The engine's many specific checks: a summary here, their words
		// as the detail.
		e.cause = e.say(say{"a %s from the %s breaks the protocol (%s)", "eine Nachricht %s vom %s verletzt das Protokoll (%s)"}, orMessage(e.ae.Message), peer, e.ae.Alert)
		e.fix = e.say(say{"the %s is not a conformant TLS implementation, or something on the way changed the bytes: the trace (--trace text or json) shows the message; compare with openssl s_client or another client",
			"der %s ist keine korrekte TLS-Implementierung, oder etwas auf dem Weg hat die Bytes verändert: der Trace (--trace text oder json) zeigt die Nachricht; mit openssl s_client oder einem anderen Client vergleichen"}, peer)
		if e.f.speaker == speakerDemo {
			e.fix = mitm
		}
		e.detail = e.ae.Reason
	}
}

func orMessage(m string) string {
	if m == "" || strings.HasPrefix(m, "after ") {
		return "record"
	}
	return m
}

// mitmFix is the advice for a handshake or record changed on the way.
func (e *explanation) mitmFix() string {
	if e.f.speaker == speakerDemo {
		return e.say(say{"nothing to change here: this is the man in the middle the demo put there, caught",
			"hier nichts zu ändern: das ist der Man-in-the-Middle, den die Demo eingesetzt hat, und er wurde ertappt"})
	}
	return e.say(say{"look for a man in the middle or a broken proxy between the two sides", "nach einem Man-in-the-Middle oder einem fehlerhaften Proxy zwischen den Seiten suchen"})
}

// receivedAlert explains the peer's alert: it knows why, we know where we
// were and what we sent.
func (e *explanation) receivedAlert() {
	peer := e.peerName()
	meaning := alertMeanings[uint8(e.ae.Alert)]
	if meaning.en == "" {
		meaning = say{"it gave no reason beyond the alert", "sie nennt keinen Grund außer dem Alert"}
	}
	e.cause = e.say(say{"the %s refused with the alert %s: %s", "der %s hat mit dem Alert %s abgelehnt: %s"}, peer, e.ae.Alert, e.l.say(meaning))
	if e.ae.Message == "after Finished and application data" {
		e.cause += e.say(say{" (a TLS 1.3 server judges the client's Finished after the client may send data: which of the two it refused, it does not say)",
			" (ein TLS-1.3-Server prüft das Finished des Clients, nachdem der Client schon Daten senden darf: welches von beiden er abgelehnt hat, sagt er nicht)"})
	}
	switch a := uint8(e.ae.Alert); {
	case e.f.speaker == speakerDemo:
		e.fix = e.mitmFix()
	case e.f.side == trace.Client && a == 51 && e.f.pskIdentity != "" && e.step <= 2:
		// Our binder is the only MAC the server has seen of ours yet.
		e.fix = e.say(say{"the server holds another key under --psk-identity %q: the binder made with our --psk does not verify there; both sides need the same key",
			"der Server hat unter --psk-identity %q einen anderen Schlüssel: der mit unserem --psk gebildete Binder stimmt dort nicht; beide Seiten brauchen denselben Schlüssel"}, e.f.pskIdentity)
	case a == 20 || a == 51: // bad_record_mac, decrypt_error
		e.fix = e.mitmFix()
	case e.f.side == trace.Client && (a == 116 || a == 42 || a == 43 || a == 45 || a == 46 || a == 48 || a == 49 ||
		a == 40 && e.f.askedForCert):
		e.fix = e.clientCertRefusedFix(a)
	case e.f.side == trace.Client && a == 40 && e.step <= 2 && e.f.pskIdentity != "":
		e.fix = e.say(say{"the server took neither our pre-shared key nor anything else we offered: check that it knows --psk-identity %q, with the same key, and allows a SHA-256 suite (TLS_AES_128_GCM_SHA256)",
			"der Server hat weder unseren Pre-Shared Key noch sonst etwas Angebotenes genommen: prüfen, dass er --psk-identity %q mit demselben Schlüssel kennt und eine SHA-256-Suite (TLS_AES_128_GCM_SHA256) erlaubt"}, e.f.pskIdentity)
	case e.f.side == trace.Client && a == 40 && e.step <= 2:
		if e.f.rsaOnly {
			e.fix = e.say(say{"--suites offers only the RSA key exchange, which servers rarely enable (it has no forward secrecy): add ECDHE suites, or leave --suites out",
				"--suites bietet nur den RSA-Schlüsselaustausch an, den Server selten erlauben (er hat keine Forward Secrecy): ECDHE-Suites hinzufügen oder --suites weglassen"})
		} else {
			e.fix = e.say(say{"the server accepts nothing our ClientHello offers: compare our versions, suites and groups (the trace shows the ClientHello) with what it supports; --tls1.2, --tls1.3, --suites and --groups change them",
				"der Server nimmt nichts an, was unser ClientHello anbietet: unsere Versionen, Suites und Gruppen (der Trace zeigt das ClientHello) mit dem vergleichen, was er kann; --tls1.2, --tls1.3, --suites und --groups ändern sie"})
		}
	case e.f.side == trace.Client && a == 70:
		e.fix = e.say(say{"the server accepts none of the versions we offered: leave out --tls1.2 or --tls1.3", "der Server akzeptiert keine der angebotenen Versionen: --tls1.2 oder --tls1.3 weglassen"})
	case e.f.side == trace.Client && a == 112:
		e.fix = e.say(say{"the server has no site for the name we sent: give the right one with --servername", "der Server hat keine Seite für den gesendeten Namen: den richtigen mit --servername angeben"})
	case a == 120:
		e.fix = e.say(say{"offer a protocol the other side speaks with --alpn, or leave --alpn out", "mit --alpn ein Protokoll anbieten, das die Gegenseite spricht, oder --alpn weglassen"})
	case e.f.side == trace.Server && (a == 42 || a == 43 || a == 44 || a == 45 || a == 46 || a == 48):
		e.fix = e.serverDistrustedFix(say{"the client does not accept this server's certificate", "der Client akzeptiert das Zertifikat dieses Servers nicht"})
	default:
		e.fix = e.say(say{"the %s knows why: its logs or messages say more", "der %s weiß, warum: seine Protokolle oder Meldungen sagen mehr"}, peer)
	}
}

// clientCertRefusedFix is connect's advice when the server refused after
// asking for a client certificate.
func (e *explanation) clientCertRefusedFix(a uint8) string {
	var fix string
	if !e.f.certGiven {
		fix = e.say(say{"the server wants a client certificate: give one with --cert and --key", "der Server will ein Client-Zertifikat: eines mit --cert und --key angeben"})
	} else if a == 48 {
		fix = e.say(say{"the server does not trust the CA that issued our --cert: use a certificate from a CA it names", "der Server vertraut der Zertifizierungsstelle unseres --cert nicht: ein Zertifikat einer Zertifizierungsstelle nehmen, die er nennt"})
	} else {
		fix = e.say(say{"the server refused our --cert: it must be valid, for client authentication (clientAuth) and from a CA the server accepts",
			"der Server hat unser --cert abgelehnt: es muss gültig, für die Client-Authentifizierung (clientAuth) und von einer Zertifizierungsstelle sein, die der Server akzeptiert"})
	}
	if e.f.requestedCAs != "" {
		fix += e.say(say{" (it accepts certificates from: %s)", " (er akzeptiert Zertifikate von: %s)"}, e.f.requestedCAs)
	}
	return fix
}

// clientCertFix is serve's advice when a client sent no certificate.
func (e *explanation) clientCertFix() string {
	if e.f.files.clientCert != "" {
		return e.say(say{"connect with the client certificate serve made (curl --cert %s --key %s, or tlsflow connect --cert %s --key %s), or make it optional with --client-auth request",
			"mit dem Client-Zertifikat verbinden, das serve erzeugt hat (curl --cert %s --key %s oder tlsflow connect --cert %s --key %s), oder es mit --client-auth request freiwillig machen"},
			e.f.files.clientCert, e.f.files.clientKey, e.f.files.clientCert, e.f.files.clientKey)
	}
	return e.say(say{"give the client a certificate from a CA in --client-ca (curl --cert/--key), or make it optional with --client-auth request",
		"dem Client ein Zertifikat einer Zertifizierungsstelle aus --client-ca geben (curl --cert/--key) oder es mit --client-auth request freiwillig machen"})
}

// serverDistrustedFix is serve's advice when a client refused or dropped
// its certificate; why says what happened.
func (e *explanation) serverDistrustedFix(why say) string {
	fix := e.l.say(why)
	if e.f.files.ca != "" {
		return fix + e.say(say{": make it trust the CA serve made (curl --cacert %s, tlsflow connect --ca %s; a browser asks to accept the risk)",
			": ihn der von serve erzeugten Zertifizierungsstelle vertrauen lassen (curl --cacert %s, tlsflow connect --ca %s; ein Browser fragt, ob man das Risiko eingeht)"}, e.f.files.ca, e.f.files.ca)
	}
	return fix + e.say(say{": make it trust the CA of --cert, and send the intermediates in --cert", ": ihn der Zertifizierungsstelle von --cert vertrauen lassen und die Zwischenzertifikate in --cert mitsenden"})
}

// alertMeanings says what a fatal alert from the peer means (RFC 8446
// §6.2, RFC 5246 §7.2.2): no more than the peer said.
var alertMeanings = map[uint8]say{
	10:  {"it received a message it did not expect at that point", "sie hat eine Nachricht bekommen, die sie dort nicht erwartet hat"},
	20:  {"a record from us failed authentication there", "ein Record von uns hat dort die Authentifizierung nicht bestanden"},
	22:  {"a record from us was too long", "ein Record von uns war zu lang"},
	40:  {"it could not agree with us on acceptable security parameters", "sie konnte sich mit uns nicht auf annehmbare Sicherheitsparameter einigen"},
	42:  {"it found our certificate corrupt, or a signature in it invalid", "sie hält unser Zertifikat für beschädigt oder eine Signatur darin für ungültig"},
	43:  {"it does not support our certificate's type or usage", "sie unterstützt Typ oder Verwendung unseres Zertifikats nicht"},
	44:  {"it says our certificate was revoked", "sie sagt, unser Zertifikat sei widerrufen"},
	45:  {"it finds our certificate expired or not yet valid", "sie hält unser Zertifikat für abgelaufen oder noch nicht gültig"},
	46:  {"it could not accept our certificate, for a reason it does not say", "sie konnte unser Zertifikat nicht annehmen, aus einem Grund, den sie nicht nennt"},
	47:  {"a field in our messages was out of range or inconsistent", "ein Feld in unseren Nachrichten lag außerhalb des Erlaubten oder widersprach sich"},
	48:  {"it does not trust the CA that issued our certificate", "sie vertraut der Zertifizierungsstelle nicht, die unser Zertifikat ausgestellt hat"},
	49:  {"it knows who we are and refuses us access", "sie weiß, wer wir sind, und verweigert den Zugang"},
	50:  {"it could not decode one of our messages", "sie konnte eine unserer Nachrichten nicht dekodieren"},
	51:  {"a signature, Finished or PSK binder from us did not verify there", "eine Signatur, ein Finished oder ein PSK-Binder von uns hat sich dort nicht bestätigt"},
	70:  {"it supports none of the protocol versions we offered", "sie unterstützt keine der angebotenen Protokollversionen"},
	71:  {"our parameters are too weak for it", "unsere Parameter sind ihr zu schwach"},
	80:  {"it failed for a reason of its own", "sie ist aus einem eigenen Grund gescheitert"},
	86:  {"it supports a higher version than we offered on this retry", "sie unterstützt eine höhere Version, als wir bei diesem Wiederholungsversuch angeboten haben"},
	90:  {"its user or application canceled the handshake", "ihr Benutzer oder ihre Anwendung hat den Handshake abgebrochen"},
	109: {"one of our messages lacks an extension it requires", "einer unserer Nachrichten fehlt eine Erweiterung, die sie verlangt"},
	110: {"one of our messages has an extension not allowed there", "eine unserer Nachrichten hat eine Erweiterung, die dort nicht erlaubt ist"},
	112: {"it has no server for the name we asked for (server_name)", "sie hat keinen Server für den angefragten Namen (server_name)"},
	115: {"it does not know the session we offered to resume", "sie kennt die Sitzung nicht, die wir wiederaufnehmen wollten"},
	116: {"it requires a certificate from us, and we sent none", "sie verlangt ein Zertifikat von uns, und wir haben keines gesendet"},
	120: {"it speaks none of the application protocols we offered (ALPN)", "sie spricht keines der angebotenen Anwendungsprotokolle (ALPN)"},
}
