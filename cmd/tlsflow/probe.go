package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tlsflow/tlsflow/internal/probe"
)

const probeHelp = `Usage: tlsflow probe [flags] host[:port]

Finds out with real handshakes what a TLS server accepts and prefers, and
rates each finding, saying why in plain words:

  versions        SSL 3.0 to TLS 1.3, the refused old ones too
  cipher suites   for each version, in the server's order (CBC, RSA key
                  exchange, RC4, 3DES... included), and whether the order
                  is the server's or the client's
  groups          each named group, X25519MLKEM768 included, and what a
                  TLS 1.3 server asks for in a HelloRetryRequest
  signatures      the signature schemes the server signs with
  certificate     the chain as sent: order, expiry, name, key sizes,
                  missing intermediates, trust, OCSP staple, SCTs
  protections     extended master secret, secure renegotiation,
                  TLS_FALLBACK_SCSV, the TLS 1.3 downgrade sentinels, ALPN h2
  resumption      TLS 1.2 session IDs and tickets, TLS 1.3 PSK

Most questions need only the server's first answer: probe sends a
ClientHello tlsflow would never send on a real connection (SSL 3.0, a CBC
suite...), reads the ServerHello or the alert, and hangs up. No data is
ever sent over those versions and suites. Questions that need a complete
handshake (the TLS 1.3 certificate, resumption) use the tlsflow client.

A probe is bounded and polite: at most --max-handshakes connections, each
within --timeout, --pace apart. The port defaults to 443 (21, 25, 143, 110
with --starttls ftp, smtp, imap, pop3). On a terminal it shows its
progress on stderr.

Exit status: 0 when no finding is rated bad, 1 when one is, 2 for a
mistake on the command line, 3 when the server gave no TLS answer at all
(no connection, or not TLS).

Examples:
  tlsflow probe example.com
  tlsflow probe --json example.com > example.json
  tlsflow probe --ca ca.pem --servername www.example.com 192.0.2.10:8443
  tlsflow probe --starttls smtp mail.example.com
  tlsflow probe --lang de --pace 200ms example.com
`

// exitStatus is returned by a command that chose its exit status; main
// exits with it and prints nothing more.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Exit statuses of tlsflow probe.
const (
	probeExitBad         exitStatus = 1
	probeExitUnreachable exitStatus = 3
)

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		opt     probe.Options
		caFile  string
		asJSON  bool
		langTag string
	)
	fs := newFlagSet("probe", probeHelp, stdout)
	fs.StringVar(&opt.ServerName, "servername", "", "name to send in server_name (SNI) and to check the certificate against (default: the host)")
	fs.StringVar(&caFile, "ca", "", "PEM file of the CAs to trust (default: the system's)")
	fs.StringVar(&opt.StartTLS, "starttls", "", "upgrade a plaintext protocol first: ftp, smtp, imap or pop3")
	fs.DurationVar(&opt.Timeout, "timeout", 5*time.Second, "bound on each probe connection: TCP, STARTTLS, hello and answer")
	fs.DurationVar(&opt.Pace, "pace", 50*time.Millisecond, "pause between two connections")
	fs.IntVar(&opt.MaxHandshakes, "max-handshakes", 250, "at most this many connections in all")
	fs.BoolVar(&asJSON, "json", false, "print one JSON document instead of text")
	fs.Func("ech", "try Encrypted Client Hello with the server's ECHConfigList in `BASE64` (the ech= of its DNS HTTPS record)", func(v string) (err error) {
		opt.ECHConfigList, err = base64.StdEncoding.DecodeString(v)
		return err
	})
	registerLang(fs, &langTag)
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkLang(langTag); err != nil {
		return err
	}
	l := pickLanguage(langTag)
	if len(pos) != 1 {
		return usagef("probe wants one address, host or host:port (got %d arguments); see tlsflow probe --help", len(pos))
	}
	switch opt.StartTLS {
	case "", "ftp", "smtp", "imap", "pop3":
	default:
		return usagef("--starttls %q: want ftp, smtp, imap or pop3", opt.StartTLS)
	}
	if opt.Timeout <= 0 || opt.MaxHandshakes <= 0 || opt.Pace < 0 {
		return usagef("--timeout and --max-handshakes must be positive, --pace not negative")
	}
	if caFile != "" {
		if err := checkPath(l, "--ca", caFile); err != nil {
			return err
		}
		if opt.RootCAs, err = loadCertPool(caFile); err != nil {
			return err
		}
	}
	opt.Addr = probeAddr(pos[0], opt.StartTLS)
	if isTerminal(stdout) {
		opt.Progress = func(stage string, n int) {
			fmt.Fprintf(stderr, "\r\033[K%s", l.sayf(say{"probing %s: %s (%d handshakes so far) …", "prüfe %s: %s (bisher %d Handshakes) …"}, opt.Addr, stage, n))
		}
	}
	report, err := probe.Run(ctx, opt)
	if opt.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return usagef("%v", err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		writeProbe(stdout, l, report)
	}
	switch {
	case !report.Reachable:
		return probeExitUnreachable
	case probe.Worst(report.Findings) == probe.Bad:
		return probeExitBad
	}
	return nil
}

// probeAddr adds the protocol's port to an address without one.
func probeAddr(addr, starttls string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	port := map[string]string{"": "443", "ftp": "21", "smtp": "25", "imap": "143", "pop3": "110"}[starttls]
	return net.JoinHostPort(strings.Trim(addr, "[]"), port)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeProbe prints a report as text.
func writeProbe(w io.Writer, l language, r *probe.Report) {
	fmt.Fprintln(w, "tlsflow probe "+r.Target)
	if r.ServerName != "" {
		fmt.Fprintln(w, l.sayf(say{"server name: %s", "Servername: %s"}, r.ServerName))
	}
	if !r.Reachable {
		fmt.Fprintln(w, l.sayf(say{"\nNo TLS answer: %s", "\nKeine TLS-Antwort: %s"}, r.Unreachable))
		return
	}
	fmt.Fprintln(w, l.say(say{"\nVersions", "\nVersionen"}))
	for _, v := range r.Versions {
		verdict := l.say(say{"refused ", "abgelehnt"})
		if v.Accepted {
			verdict = l.say(say{"accepted", "angenommen"})
		}
		fmt.Fprintf(w, "  %-8s %s  (%s)\n", v.Name, verdict, v.Answer)
	}
	fmt.Fprintln(w, l.say(say{"\nCipher suites", "\nCipher-Suites"}))
	for _, so := range r.CipherSuites {
		order := map[string]say{
			"server": {"the server's order", "Reihenfolge des Servers"},
			"client": {"the client's order decides", "Reihenfolge des Clients entscheidet"},
			"mixed":  {"neither the server's nor the client's order", "weder Server- noch Client-Reihenfolge"},
			"":       {"one suite", "eine Suite"},
		}[so.ServerOrder]
		fmt.Fprintf(w, "  %s (%s)\n", so.Version, l.say(order))
		for _, s := range so.Suites {
			fmt.Fprintf(w, "    %-4s %-48s %s\n", s.Rating, s.Name, s.ID)
		}
	}
	if len(r.Groups) > 0 || r.HelloRetryGroup != "" {
		fmt.Fprintln(w, l.say(say{"\nGroups", "\nGruppen"}))
		for _, g := range r.Groups {
			fmt.Fprintf(w, "  %s: %s\n", g.Version, strings.Join(g.Accepted, ", "))
		}
		if r.HelloRetryGroup != "" {
			fmt.Fprintln(w, l.sayf(say{"  without a key share, a HelloRetryRequest asks for: %s", "  ohne Key-Share fragt ein HelloRetryRequest nach: %s"}, r.HelloRetryGroup))
		}
	}
	if len(r.SignatureSchemes) > 0 {
		fmt.Fprintln(w, l.say(say{"\nSignature schemes", "\nSignaturverfahren"}))
		for _, v := range []string{"TLS 1.2", "TLS 1.3"} {
			if list, ok := r.SignatureSchemes[v]; ok {
				fmt.Fprintf(w, "  %s: %s\n", v, strings.Join(list, ", "))
			}
		}
	}
	if c := r.Certificate; c != nil {
		fmt.Fprintln(w, l.sayf(say{"\nCertificate chain (as sent in %s)", "\nZertifikatskette (wie in %s gesendet)"}, c.Version))
		for i, ci := range c.Chain {
			fmt.Fprintf(w, "  %d %s\n", i, ci.Subject)
			fmt.Fprintln(w, l.sayf(say{"    issuer %s", "    Aussteller %s"}, ci.Issuer))
			fmt.Fprintln(w, l.sayf(say{"    %s %d bits, signed %s, valid %s to %s", "    %s %d Bit, signiert %s, gültig %s bis %s"},
				ci.Key, ci.KeyBits, ci.SignatureAlgorithm, ci.NotBefore.UTC().Format("2006-01-02"), ci.NotAfter.UTC().Format("2006-01-02")))
		}
	}
	fmt.Fprintln(w, l.say(say{"\nFindings", "\nBefunde"}))
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %-4s %s\n", f.Rating, l.say(say{f.Title.EN, f.Title.DE}))
		fmt.Fprintf(w, "       %s\n", l.say(say{f.Why.EN, f.Why.DE}))
	}
	if len(r.Incomplete) > 0 {
		fmt.Fprintln(w, l.say(say{"\nNot found out", "\nNicht ermittelt"}))
		for _, g := range r.Incomplete {
			fmt.Fprintf(w, "  %s: %s\n", g.Stage, g.Why)
		}
	}
	fmt.Fprintln(w, l.sayf(say{"\n%d handshakes. Worst rating: %s.", "\n%d Handshakes. Schlechteste Bewertung: %s."}, r.Handshakes, probe.Worst(r.Findings)))
}
