package main

// What the subcommands share: flag parsing that lets flags follow the
// positional argument, the names a user may give for suites and groups,
// certificate and CA files, the trace options and the key log.

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/trace"
)

// usageError is a mistake on the command line; main exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// usageSay is a mistake on the command line told in the command's
// language, for checks that run once --lang is known.
func usageSay(l language, s say, args ...any) error {
	return &usageError{l.sayf(s, args...)}
}

// newFlagSet returns a flag set that writes its help (the command's text,
// then the flags) to out when asked for it, and reports mistakes as
// errors, not exits: the help is not printed for a mistake, which main
// reports with a pointer to --help.
func newFlagSet(name, help string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the flag package's own messages: parseFlags returns them
	fs.Usage = func() {
		fmt.Fprint(out, help)
		fmt.Fprintln(out, "\nFlags:")
		fs.SetOutput(out)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("connect example.com:443 --http"), which the flag package alone stops
// at. It returns the positional arguments. flag.ErrHelp means the help was
// printed: the caller returns nil so the exit status is 0. A mistake is a
// usageError that names the command's --help.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	help := fs.Usage
	fs.Usage = func() {} // the flag package would print it for a mistake too
	defer func() { fs.Usage = help }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help()
				return nil, err
			}
			return nil, usagef("%v (tlsflow %s --help lists the flags)", err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil // everything after "--" is positional
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// listFlag is a comma-separated list; the flag may also be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// parseSuites turns IANA names ("TLS_AES_128_GCM_SHA256", case and the
// "TLS_" prefix optional) or hex values ("0x1301") into suite IDs.
func parseSuites(names []string) ([]uint16, error) {
	var ids []uint16
	for _, n := range names {
		id, ok := suiteByName(n)
		if !ok {
			var known []string
			for _, s := range implementedSuites() {
				known = append(known, s.Name)
			}
			return nil, usagef("unknown cipher suite %q; tlsflow implements %s", n, strings.Join(known, ", "))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func suiteByName(n string) (uint16, bool) {
	want := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(n), "TLS_"))
	for _, s := range implementedSuites() {
		if strings.TrimPrefix(s.Name, "TLS_") == want {
			return s.ID, true
		}
	}
	if v, err := strconv.ParseUint(n, 0, 16); err == nil && strings.HasPrefix(strings.ToLower(n), "0x") {
		for _, s := range implementedSuites() {
			if uint64(s.ID) == v {
				return s.ID, true
			}
		}
	}
	return 0, false
}

// implementedSuites are the suites --ciphers may name: every one tlsflow
// implements, the RSA key exchange included (named, it is enabled).
func implementedSuites() []*tlsflow.CipherSuite {
	return append(tlsflow.CipherSuites(), tlsflow.InsecureCipherSuites()...)
}

// groupNames are the names accepted for --groups: the IANA names, and the
// ones OpenSSL and NIST use.
var groupNames = map[string]tlsflow.CurveID{
	"x25519mlkem768": tlsflow.X25519MLKEM768,
	"x25519":         tlsflow.X25519,
	"secp256r1":      tlsflow.CurveP256,
	"p-256":          tlsflow.CurveP256,
	"p256":           tlsflow.CurveP256,
	"prime256v1":     tlsflow.CurveP256,
	"secp384r1":      tlsflow.CurveP384,
	"p-384":          tlsflow.CurveP384,
	"p384":           tlsflow.CurveP384,
}

func parseGroups(names []string) ([]tlsflow.CurveID, error) {
	var ids []tlsflow.CurveID
	for _, n := range names {
		id, ok := groupNames[strings.ToLower(n)]
		if !ok {
			return nil, usagef("unknown group %q; tlsflow implements X25519MLKEM768, x25519, secp256r1 (P-256), secp384r1 (P-384)", n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// suitesFitVersions refuses --suites that leave a version pinned with
// --tls1.2 or --tls1.3 without a suite: the handshake could not start.
func suitesFitVersions(ids []uint16, v versionFlags) error {
	if len(ids) == 0 || !v.tls12 && !v.tls13 {
		return nil
	}
	want := uint16(tlsflow.VersionTLS12)
	if v.tls13 {
		want = tlsflow.VersionTLS13
	}
	for _, s := range implementedSuites() {
		if slices.Contains(ids, s.ID) && slices.Contains(s.SupportedVersions, want) {
			return nil
		}
	}
	return usagef("--suites names no %s suite, and %s allows no other version: add one (%s), or leave out %s",
		tlsflow.VersionName(want), map[bool]string{true: "--tls1.3", false: "--tls1.2"}[v.tls13],
		strings.Join(suiteNamesFor(want), ", "), map[bool]string{true: "--tls1.3", false: "--tls1.2"}[v.tls13])
}

func suiteNamesFor(version uint16) []string {
	var names []string
	for _, s := range implementedSuites() {
		if slices.Contains(s.SupportedVersions, version) {
			names = append(names, s.Name)
		}
	}
	return names
}

// versionFlags are --tls1.2 and --tls1.3: pin the handshake to one version.
type versionFlags struct{ tls12, tls13 bool }

func (v *versionFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&v.tls12, "tls1.2", false, "use TLS 1.2 only")
	fs.BoolVar(&v.tls13, "tls1.3", false, "use TLS 1.3 only")
}

func (v *versionFlags) apply(cfg *tlsflow.Config) error {
	switch {
	case v.tls12 && v.tls13:
		return usagef("--tls1.2 and --tls1.3 exclude each other; give neither to allow both")
	case v.tls12:
		cfg.MinVersion, cfg.MaxVersion = tlsflow.VersionTLS12, tlsflow.VersionTLS12
	case v.tls13:
		cfg.MinVersion, cfg.MaxVersion = tlsflow.VersionTLS13, tlsflow.VersionTLS13
	}
	return nil
}

// pskFlags are --psk-identity and --psk: an external TLS 1.3 pre-shared
// key (RFC 8446 §4.2.11), used with SHA-256 as OpenSSL's -psk and GnuTLS's
// PSK credentials are by default.
type pskFlags struct{ identity, key string }

// Bounds on --psk: the library's floor (RFC 9257 §6: at least 128 bits of
// entropy), and a ceiling that only refuses nonsense. OpenSSL's -psk takes
// at most 512 bytes as well; past 32 bytes a SHA-256 key gains nothing,
// since the key schedule's HKDF-Extract condenses it to one hash.
const (
	minPSKBytes = 16
	maxPSKBytes = 512
)

func (p *pskFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.identity, "psk-identity", "", "identity of an external pre-shared key (TLS 1.3), sent in the clear; goes with --psk")
	fs.StringVar(&p.key, "psk", "", "the external pre-shared key in hex, 16 to 512 bytes, used with SHA-256 (as openssl's -psk); goes with --psk-identity")
}

// externalPSK checks the flags against the versions and suites allowed,
// and returns the PSK, or nil when neither flag is given. The key never
// appears in a message.
func (p *pskFlags) externalPSK(l language, v versionFlags, suites []uint16) (*tlsflow.ExternalPSK, error) {
	switch {
	case p.identity == "" && p.key == "":
		return nil, nil
	case p.identity == "" || p.key == "":
		return nil, usageSay(l, say{"--psk-identity and --psk go together: the name of the pre-shared key and the key",
			"--psk-identity und --psk gehören zusammen: der Name des Pre-Shared Keys und der Schlüssel"})
	case len(p.identity) > 1<<16-1:
		return nil, usageSay(l, say{"--psk-identity has %d bytes; a PSK identity has at most 65535 (RFC 8446 §4.2.11)",
			"--psk-identity hat %d Bytes; eine PSK-Identität hat höchstens 65535 (RFC 8446 §4.2.11)"}, len(p.identity))
	}
	for i, c := range []rune(p.key) {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return nil, usageSay(l, say{"--psk must be hex digits (0-9, a-f), as openssl's -psk; character %d is not one",
				"--psk muss aus Hex-Ziffern (0-9, a-f) bestehen, wie bei -psk von openssl; Zeichen %d ist keine"}, i+1)
		}
	}
	if len(p.key)%2 != 0 {
		return nil, usageSay(l, say{"--psk has %d hex digits, an odd number: each byte takes two",
			"--psk hat %d Hex-Ziffern, eine ungerade Zahl: jedes Byte braucht zwei"}, len(p.key))
	}
	key, _ := hex.DecodeString(p.key)
	switch n := len(key); {
	case n < minPSKBytes:
		return nil, usageSay(l, say{"--psk is %d bytes long; use at least %d random bytes (%d hex digits, RFC 9257 §6), e.g. from openssl rand -hex 32",
			"--psk ist %d Bytes lang; mindestens %d zufällige Bytes nehmen (%d Hex-Ziffern, RFC 9257 §6), etwa von openssl rand -hex 32"}, n, minPSKBytes, 2*minPSKBytes)
	case n > maxPSKBytes:
		return nil, usageSay(l, say{"--psk is %d bytes long; at most %d are taken (a SHA-256 key gains nothing past 32)",
			"--psk ist %d Bytes lang; höchstens %d werden angenommen (ein SHA-256-Schlüssel gewinnt über 32 hinaus nichts)"}, n, maxPSKBytes)
	}
	if v.tls12 {
		return nil, usageSay(l, say{"--psk needs TLS 1.3 (tlsflow has no TLS 1.2 PSK cipher suites), and --tls1.2 allows only TLS 1.2",
			"--psk braucht TLS 1.3 (tlsflow hat keine PSK-Cipher-Suites für TLS 1.2), und --tls1.2 lässt nur TLS 1.2 zu"})
	}
	if len(suites) > 0 && !slices.Contains(suites, tlsflow.TLS_AES_128_GCM_SHA256) && !slices.Contains(suites, tlsflow.TLS_CHACHA20_POLY1305_SHA256) {
		return nil, usageSay(l, say{"--psk is a SHA-256 key, and --suites names no TLS 1.3 suite of SHA-256: add TLS_AES_128_GCM_SHA256 or TLS_CHACHA20_POLY1305_SHA256",
			"--psk ist ein SHA-256-Schlüssel, und --suites nennt keine TLS-1.3-Suite mit SHA-256: TLS_AES_128_GCM_SHA256 oder TLS_CHACHA20_POLY1305_SHA256 hinzufügen"})
	}
	return &tlsflow.ExternalPSK{Identity: []byte(p.identity), Key: key, Hash: crypto.SHA256}, nil
}

// pskWords names an external PSK by its identity, for the summaries.
func pskWords(l language, identity []byte, resumed bool) string {
	if resumed {
		return l.sayf(say{"a session the external pre-shared key (PSK) %q authenticated, resumed", "eine Sitzung, die der externe Pre-Shared Key (PSK) %q ausgewiesen hat, wiederaufgenommen"}, identity)
	}
	return l.sayf(say{"external pre-shared key (PSK) %q", "externer Pre-Shared Key (PSK) %q"}, identity)
}

// checkPath refuses a flag's URL path that an HTTP request line cannot
// carry as it is: it must begin with "/" and hold no space or control
// character (RFC 9112 §3.2).
func checkPath(l language, flagName, path string) error {
	if !strings.HasPrefix(path, "/") || strings.IndexFunc(path, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return usageSay(l, say{"%s %q: want a path such as /secret, beginning with / and without spaces",
			"%s %q: erwartet wird ein Pfad wie /secret, der mit / beginnt und keine Leerzeichen enthält"}, flagName, path)
	}
	return nil
}

// traceFlags choose how the handshake is shown.
type traceFlags struct {
	format  string
	lang    string
	hex     bool
	secrets bool
}

// register adds the trace flags; withSecrets adds --secrets, for a
// command that can have a key log.
func (t *traceFlags) register(fs *flag.FlagSet, defaultFormat string, withSecrets bool) {
	fs.StringVar(&t.format, "trace", defaultFormat, "how to show each handshake: text, json (one event per line) or none")
	registerLang(fs, &t.lang)
	fs.BoolVar(&t.hex, "hex", false, "add a hex dump of every message to the text trace (raw bytes in JSON)")
	if withSecrets {
		fs.BoolVar(&t.secrets, "secrets", false, "show the derived secrets in the trace (only with a key log: --keylog or SSLKEYLOGFILE)")
	}
}

func (t *traceFlags) check() error {
	switch t.format {
	case "text", "json", "none":
	default:
		return usagef("--trace %q: want text, json or none", t.format)
	}
	return checkLang(t.lang)
}

// registerLang adds --lang.
func registerLang(fs *flag.FlagSet, lang *string) {
	fs.StringVar(lang, "lang", "", "language: en or de (default: from LC_ALL, LC_MESSAGES, LANG)")
}

// checkLang refuses a --lang that is neither English nor German, rather
// than fall back to English without a word.
func checkLang(lang string) error {
	switch {
	case lang == "", strings.HasPrefix(lang, "en"), strings.HasPrefix(lang, "de"):
		return nil
	}
	return usagef("--lang %q: want en or de", lang)
}

// hook returns the trace hook writing to w, or nil for --trace none.
// sentOnly is for a trace that holds both ends of a connection.
func (t *traceFlags) hook(w io.Writer, color, sentOnly bool) trace.Hook {
	switch t.format {
	case "none":
		return nil
	case "json":
		return trace.NewRenderer(w, trace.Options{Format: trace.FormatJSON, Hex: t.hex, Secrets: t.secrets, SentOnly: sentOnly})
	}
	return trace.NewRenderer(w, trace.Options{Format: trace.FormatText, Lang: t.lang, Hex: t.hex, Secrets: t.secrets, Color: color, SentOnly: sentOnly})
}

// openKeyLog opens the NSS key log file named by --keylog, else by the
// SSLKEYLOGFILE environment variable (as browsers and curl do), for
// appending. It returns nil when neither is set.
func openKeyLog(path string) (io.WriteCloser, string, error) {
	if path == "" {
		path = os.Getenv("SSLKEYLOGFILE")
	}
	if path == "" {
		return nil, "", nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("key log: %w", err)
	}
	return f, path, nil
}

// loadCertPool reads PEM certificates (CAs) from a file.
func loadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block in it", path)
	}
	return pool, nil
}

// loadKeyPair reads --cert and --key; both or neither must be given.
func loadKeyPair(certFile, keyFile string) (*tlsflow.Certificate, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "" || keyFile == "":
		return nil, usagef("--cert and --key go together: the certificate chain and its private key")
	}
	cert, err := tlsflow.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading %s and %s: %w", certFile, keyFile, err)
	}
	return &cert, nil
}

// fingerprint is the SHA-256 of a certificate's DER, as browsers show it.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
