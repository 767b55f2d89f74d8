package handshake

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/certcomp"
	"github.com/tlsflow/tlsflow/internal/session"

	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Seeds at the limits: for each field a peer sizes that the limits policy
// bounds, a message with the field at the limit and one byte (or entry)
// over it; and for fields the policy leaves to their length prefix, one
// near what the prefix allows (about 64 KiB). Each is a real message of
// its kind, built from the message the real handshake has at that point
// (its header, its framing, the fields before the large one), so that the
// engine parses it up to the check. Some are larger than
// record.HandshakeBuffer lets through (64 KiB but for Certificate): the
// engine must cope with them all the same.

// maxExtensionsBlock is what a 2-byte extensions length allows (RFC 8446 §4.2).
const maxExtensionsBlock = 1<<16 - 1

// nearMax is the size of a field "near 64 KiB": below a 2-byte length's
// 65,535 by what the fields around it need.
const nearMax = 65500

// limitSeed is one near-limit message, fed to side s after prefix inputs
// of the real handshake of variants[variant], and what the engine must do
// with it (TestLimitSeedsReachTheirChecks holds it to that, so the seeds
// keep reaching the checks they were made for).
type limitSeed struct {
	variant, prefix int
	msg             input
	what            string // the message and its large field
	// refused is part of the reason the engine gives for refusing msg, or
	// "" if it takes it.
	refused string
	// kept, for a NewSessionTicket the engine takes: whether the client
	// keeps its ticket.
	kept bool
	// cas, for a CertificateRequest: how many names the client must see.
	cas int
}

// addLimitSeeds adds the near-limit seeds of s's target.
func addLimitSeeds(f *testing.F, s side, variants []variant) {
	for _, ls := range limitSeeds(f, s, variants) {
		f.Add(encodeFuzzInputs(ls.prefix, ls.variant, []input{ls.msg}))
	}
}

// limitSeeds makes, for each variant and each point of the real
// handshake where s waits for a message that has a bounded field, the
// near-limit versions of that message.
func limitSeeds(t testing.TB, s side, variants []variant) []limitSeed {
	var out []limitSeed
	for vi, v := range variants {
		cli, srv := fuzzConfigs(t, v)
		cv := newConversation(t, cli, srv)
		for k := 0; ; k++ {
			next, ok := cv.runUntil(t, s, k)
			for _, ls := range nearLimitMessages(t, v, cv, s, k, next, ok) {
				ls.variant, ls.prefix = vi, k
				out = append(out, ls)
			}
			if !ok {
				break
			}
		}
	}
	return out
}

// nearLimitMessages are the near-limit messages s may be fed after k
// inputs of v's real handshake, in place of next (if ok; otherwise the
// handshake is over for s).
func nearLimitMessages(t testing.TB, v variant, cv *conversation, s side, k int, next input, ok bool) []limitSeed {
	lim := &limits.Default
	tls13 := v.version == suites.VersionTLS13
	overLimit := func(n, max int) string {
		if n > max {
			return fmt.Sprintf("more than the limit of %d", max)
		}
		return ""
	}
	var out []limitSeed
	switch {
	case s == clientSide && tls13 && k == 0:
		for _, n := range []int{lim.Cookie, lim.Cookie + 1, nearMax} {
			out = append(out, limitSeed{msg: helloRetryWithCookie(t, v, cv, next, n),
				what: fmt.Sprintf("HelloRetryRequest with a %d-byte cookie", n), refused: overLimit(n, lim.Cookie)})
		}
	case s == clientSide && tls13 && cv.client.keepsTickets() && (!ok || next.String() == "NewSessionTicket"):
		for _, n := range []int{lim.Ticket, lim.Ticket + 1, nearMax} {
			out = append(out, limitSeed{msg: must((&wire.NewSessionTicket13{Lifetime: 3600, AgeAdd: 7, Nonce: []byte{0},
				Ticket: bytes.Repeat([]byte{'t'}, n)}).Marshal()),
				what: fmt.Sprintf("NewSessionTicket with a %d-byte ticket", n), kept: n <= lim.Ticket})
		}
	case !ok:
	case s == clientSide && next.String() == "NewSessionTicket":
		for _, n := range []int{lim.Ticket, lim.Ticket + 1, nearMax} {
			out = append(out, limitSeed{msg: must((&wire.NewSessionTicket{LifetimeHint: 3600, Ticket: bytes.Repeat([]byte{'t'}, n)}).Marshal()),
				what: fmt.Sprintf("NewSessionTicket with a %d-byte ticket", n), kept: n <= lim.Ticket})
		}
	case s == clientSide && next.String() == "CertificateRequest":
		out = certificateRequestsNearMax(t, tls13, next)
	case s == serverSide && next.String() == "ClientHello":
		ls := limitSeed{msg: clientHelloWithLargeTicket(t, v, next), what: "ClientHello offering a ticket near 64 KiB"}
		if tls13 && k > 0 {
			// A second ClientHello may not offer a PSK identity the first did not.
			ls.refused = "second ClientHello"
		}
		out = append(out, ls)
	case next.String() == "Certificate":
		out = certificatesAtLimits(t, tls13, next, lim)
	case next.String() == "CompressedCertificate":
		out = compressedCertificatesAtLimits(t, next, lim)
	}
	return out
}

// compressedCertificatesAtLimits are the real CompressedCertificate's
// neighbours at the limits (RFC 8879 §4): an uncompressed_length at the
// limits policy's Certificate and one byte over, and a bomb, zlib of 4 MiB
// declared as the real length.
func compressedCertificatesAtLimits(t testing.TB, real input, lim *limits.Policy) []limitSeed {
	var cc wire.CompressedCertificate
	if err := cc.Unmarshal(real); err != nil {
		t.Fatalf("the real CompressedCertificate: %v", err)
	}
	max := lim.HandshakeLimit(uint8(wire.TypeCertificate))
	zeros := func(n int) []byte {
		c, err := certcomp.Compress(wire.CertCompressionZlib, make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	seed := func(declared uint32, data []byte, what, refused string) limitSeed {
		m := wire.CompressedCertificate{Algorithm: wire.CertCompressionZlib, UncompressedLength: declared, Compressed: data}
		return limitSeed{msg: must(m.Marshal()), what: what, refused: refused}
	}
	return []limitSeed{
		seed(uint32(max), zeros(max), fmt.Sprintf("CompressedCertificate of %d zero bytes (the limit: decompressed, then not a Certificate)", max), "cannot decode Certificate"),
		seed(uint32(max+1), zeros(max+1), fmt.Sprintf("CompressedCertificate declaring %d bytes", max+1), "more than a Certificate may be"),
		seed(cc.UncompressedLength, zeros(4<<20), "CompressedCertificate: 4 MiB of zeros declared as the real length", "uncompressed_length"),
	}
}

// helloRetryWithCookie is the HelloRetryRequest the real handshake has
// (tls13Retry and the like), or else one the client can take, with a
// cookie of n bytes: the client checks the cookie against Cookie before it
// echoes it (RFC 8446 §4.2.2).
func helloRetryWithCookie(t testing.TB, v variant, cv *conversation, real input, n int) input {
	hrr := &wire.ServerHello{Version: suites.VersionTLS12, Random: wire.HelloRetryRequestRandom,
		SessionID: cv.client.hello.SessionID, CipherSuite: v.suite}
	hrr.Extensions.Add(wire.ExtSupportedVersions, wire.SupportedVersionServer(suites.VersionTLS13))
	if isHelloRetryRequest(real) {
		if err := hrr.Unmarshal(real); err != nil {
			t.Fatalf("the real HelloRetryRequest: %v", err)
		}
	}
	cookie := wire.Cookie(bytes.Repeat([]byte{'c'}, n))
	hrr.Extensions = replaceExtension(hrr.Extensions, wire.ExtCookie, cookie)
	return must(hrr.Marshal())
}

// certificateRequestsNearMax are the real CertificateRequest with
// certificate_authorities as large as its length prefix (TLS 1.2) or the
// extensions block (TLS 1.3) allows: once as copies of the real CA's name
// (every one of which the client's certificate matches), once as one name.
func certificateRequestsNearMax(t testing.TB, tls13 bool, real input) []limitSeed {
	name := testFixtures().ca.Cert.RawSubject
	// names fills a DistinguishedName list of at most max bytes (its
	// 2-byte length included): with copies of name, or with one name.
	names := func(max int) [][][]byte {
		var copies [][]byte
		for n := 2; n+2+len(name) <= max; n += 2 + len(name) {
			copies = append(copies, name)
		}
		return [][][]byte{copies, {bytes.Repeat([]byte{0x30}, max-4)}}
	}
	var out []limitSeed
	seed := func(msg []byte, cas [][]byte) limitSeed {
		return limitSeed{msg: msg, cas: len(cas),
			what: fmt.Sprintf("CertificateRequest whose certificate_authorities has %d bytes in %d names", chainLen(cas)+2*len(cas), len(cas))}
	}
	if !tls13 {
		var req wire.CertificateRequest
		if err := req.Unmarshal(real); err != nil {
			t.Fatalf("the real CertificateRequest: %v", err)
		}
		for _, cas := range names(1<<16 - 1) {
			req.CertificateAuthorities = cas
			out = append(out, seed(must(req.Marshal()), cas))
		}
		return out
	}
	var req wire.CertificateRequest13
	if err := req.Unmarshal(real); err != nil {
		t.Fatalf("the real CertificateRequest: %v", err)
	}
	req.Extensions = removeExtension(req.Extensions, wire.ExtCertificateAuthorities)
	room := maxExtensionsBlock - extensionsLen(req.Extensions) - 4 // the extension's own header
	for _, cas := range names(room) {
		r := req
		r.Extensions = append(wire.Extensions(nil), req.Extensions...)
		r.Extensions.Add(wire.ExtCertificateAuthorities, wire.CertificateAuthorities(cas))
		out = append(out, seed(must(r.Marshal()), cas))
	}
	return out
}

// clientHelloWithLargeTicket is the real ClientHello offering a ticket as
// large as the extensions block allows: a TLS 1.3 pre_shared_key identity
// (with a binder of the suite's hash size), a TLS 1.2 session_ticket.
func clientHelloWithLargeTicket(t testing.TB, v variant, real input) input {
	var ch wire.ClientHello
	if err := ch.Unmarshal(real); err != nil {
		t.Fatalf("the real ClientHello: %v", err)
	}
	if v.version == suites.VersionTLS12 {
		ch.Extensions = removeExtension(ch.Extensions, wire.ExtSessionTicket)
		room := maxExtensionsBlock - extensionsLen(ch.Extensions) - 4
		ch.Extensions.Add(wire.ExtSessionTicket, rawExtension(bytes.Repeat([]byte{'t'}, room)))
		return must(ch.Marshal())
	}
	ch.Extensions = removeExtension(ch.Extensions, wire.ExtPreSharedKey)
	binder := make([]byte, suites.Lookup(v.suite).Hash.Size())
	// extension header(4), identities(2), identity(2+n), obfuscated_ticket_age(4), binders(2), binder(1+len)
	n := maxExtensionsBlock - extensionsLen(ch.Extensions) - 4 - 2 - 2 - 4 - 2 - 1 - len(binder)
	psk := wire.PreSharedKeyClientHello{
		Identities: []wire.PSKIdentity{{Identity: bytes.Repeat([]byte{'i'}, n), ObfuscatedTicketAge: 1}},
		Binders:    [][]byte{binder},
	}
	ch.Extensions = replaceExtension(ch.Extensions, wire.ExtPreSharedKey, psk)
	return must(ch.Marshal())
}

// certificatesAtLimits are the real Certificate with a chain of
// ChainCertificates and ChainCertificates+1 certificates (the real leaf,
// then copies of the CA), and one of ChainBytes+1 bytes (the real leaf and
// a filler, which the size check refuses before anything is parsed).
func certificatesAtLimits(t testing.TB, tls13 bool, real input, lim *limits.Policy) []limitSeed {
	ca := testFixtures().ca.Cert.Raw
	type chain struct {
		certs   [][]byte
		refused string
	}
	chains := func(leaf []byte) []chain {
		var out []chain
		for _, n := range []int{lim.ChainCertificates, lim.ChainCertificates + 1} {
			certs := [][]byte{leaf}
			for len(certs) < n {
				certs = append(certs, ca)
			}
			refused := ""
			if n > lim.ChainCertificates {
				refused = fmt.Sprintf("a chain of %d certificates, more than the limit of %d", n, lim.ChainCertificates)
			}
			out = append(out, chain{certs, refused})
		}
		return append(out, chain{[][]byte{leaf, make([]byte, lim.ChainBytes+1-len(leaf))},
			fmt.Sprintf("a chain of %d bytes, more than the limit of %d", lim.ChainBytes+1, lim.ChainBytes)})
	}
	seed := func(msg []byte, c chain) limitSeed {
		return limitSeed{msg: msg, refused: c.refused,
			what: fmt.Sprintf("Certificate with %d certificates of %d bytes in all", len(c.certs), chainLen(c.certs))}
	}
	var out []limitSeed
	if !tls13 {
		var cert wire.Certificate
		if err := cert.Unmarshal(real); err != nil || len(cert.Chain) == 0 {
			t.Fatalf("the real Certificate: %v (%d certificates)", err, len(cert.Chain))
		}
		for _, c := range chains(cert.Chain[0]) {
			out = append(out, seed(must((&wire.Certificate{Chain: c.certs}).Marshal()), c))
		}
		return out
	}
	var cert wire.Certificate13
	if err := cert.Unmarshal(real); err != nil || len(cert.Entries) == 0 {
		t.Fatalf("the real Certificate: %v (%d entries)", err, len(cert.Entries))
	}
	for _, c := range chains(cert.Entries[0].Data) {
		m := wire.Certificate13{Context: cert.Context}
		for _, der := range c.certs {
			m.Entries = append(m.Entries, wire.CertificateEntry{Data: der})
		}
		out = append(out, seed(must(m.Marshal()), c))
	}
	return out
}

func chainLen(certs [][]byte) int {
	n := 0
	for _, c := range certs {
		n += len(c)
	}
	return n
}

// extensionsLen is the encoded size of exts, without the block's own
// 2-byte length.
func extensionsLen(exts wire.Extensions) int {
	n := 0
	for _, e := range exts {
		n += 4 + len(e.Data)
	}
	return n
}

// TestLimitSeedsReachTheirChecks feeds each near-limit seed of every
// engine fuzz target to its engine, and checks that it reaches the check
// it was made for: at the limit taken (a ticket kept, every name of
// certificate_authorities seen), over it refused for the limit, so that a
// change in the engine cannot quietly turn the seeds into messages refused
// for something else.
func TestLimitSeedsReachTheirChecks(t *testing.T) {
	targets := []struct {
		name     string
		s        side
		variants []variant
	}{
		{"Client12", clientSide, fuzzVariants12}, {"Server12", serverSide, fuzzVariants12},
		{"Client13", clientSide, fuzzVariants13}, {"Server13", serverSide, fuzzVariants13},
		{"ClientResumption12", clientSide, fuzzResumption12}, {"ServerResumption12", serverSide, fuzzResumption12},
		{"ClientResumption13", clientSide, fuzzResumption13}, {"ServerResumption13", serverSide, fuzzResumption13},
	}
	for _, tt := range targets {
		seeds := limitSeeds(t, tt.s, tt.variants)
		if len(seeds) == 0 {
			t.Errorf("Fuzz%s has no near-limit seeds", tt.name)
		}
		for _, ls := range seeds {
			v := tt.variants[ls.variant]
			t.Run(fmt.Sprintf("%s/%s/%d/%s", tt.name, v.name, ls.prefix, ls.what), func(t *testing.T) {
				cli, srv := fuzzConfigs(t, v)
				stored := 0
				cli.StoreSession = func(*session.State) { stored++ }
				cv := newConversation(t, cli, srv)
				cv.runUntil(t, tt.s, ls.prefix)
				stored = 0 // the real handshake's own tickets
				eng := cv.engine(tt.s)
				_, err := feed(eng, ls.msg)
				if ls.refused != "" {
					var ae *alert.Error
					if !errors.As(err, &ae) || ae.Alert == alert.InternalError || !strings.Contains(ae.Reason, ls.refused) {
						t.Fatalf("err = %v, want it refused for %q", err, ls.refused)
					}
					return
				}
				if err != nil {
					t.Fatalf("refused (%v), want it taken", err)
				}
				switch wire.HandshakeType(ls.msg[0]) {
				case wire.TypeNewSessionTicket:
					kept := stored > 0
					if v.version == suites.VersionTLS12 {
						kept = cv.client.c12.ticket != nil
					}
					if kept != ls.kept {
						t.Errorf("ticket kept: %v, want %v", kept, ls.kept)
					}
				case wire.TypeCertificateRequest:
					if got := len(cv.client.State().RequestedCAs); got != ls.cas {
						t.Errorf("the client saw %d requested CAs, want %d", got, ls.cas)
					}
				}
			})
		}
	}
}
