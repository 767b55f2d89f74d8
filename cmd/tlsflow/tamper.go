package main

// The demo's man in the middle: a TCP relay between the demo's client and
// server that reads TLS records (RFC 5246 §6.2, RFC 8446 §5.1) and changes
// one bit of one byte of the message chosen with --tamper, in transit. It
// knows only the record and handshake framing, as a real attacker on the
// path would: whatever is encrypted it can change only blindly.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
)

// Record content types (RFC 8446 §5.1) and handshake types (§4).
const (
	recordChangeCipherSpec = 20
	recordHandshake        = 22
	recordApplicationData  = 23

	typeClientHello       = 1
	typeServerHello       = 2
	typeCertificate       = 11
	typeServerKeyExchange = 12
	typeCertificateVerify = 15
	typeClientKeyExchange = 16

	extExtendedMasterSecret = 23 // RFC 7627 §5.1

	recordHeaderLen = 5
	// maxRecordLen bounds a record's fragment: 2^14 plus the most a TLS 1.2
	// record may expand (RFC 5246 §6.2.3); TLS 1.3 allows less (§5.2).
	maxRecordLen = 1<<14 + 2048
	// maxHeld bounds the handshake bytes held back while a message is
	// reassembled.
	maxHeld = 1 << 18
	// aeadTagLen is the tag of every AEAD suite tlsflow has (GCM, ChaCha20-Poly1305).
	aeadTagLen = 16
)

type direction int

const (
	clientToServer direction = iota
	serverToClient
)

func (d direction) in(l language) string {
	if d == clientToServer {
		return l.say(say{"client → server", "Client → Server"})
	}
	return l.say(say{"server → client", "Server → Client"})
}

// flipKind says how the man in the middle finds the byte to change.
type flipKind int

const (
	// flipMessage: a byte of a plaintext handshake message, found by locate.
	flipMessage flipKind = iota
	// flipAfterCCS: the first record after ChangeCipherSpec (TLS 1.2:
	// the encrypted Finished).
	flipAfterCCS
	// flipEncrypted: the first application_data record (TLS 1.3: the
	// encrypted handshake messages travel in these).
	flipEncrypted
	// flipAppData: the first application_data record that starts at or
	// after the stream offset armed once the handshake is over.
	flipAppData
)

// flipPlan is what to change: in which direction, where.
type flipPlan struct {
	dir     direction
	kind    flipKind
	msgType byte
	// locate returns the offset of the byte to change in msg (header
	// included) and what that byte is, or -1.
	locate func(msg []byte) (int, say)
	// what names the record for the other kinds.
	what say
	lang language
}

// mitm relays one TCP connection to target and changes one byte as plan says.
type mitm struct {
	target string
	plan   *flipPlan
	report func(string)

	ln net.Listener
	wg sync.WaitGroup

	mu      sync.Mutex
	conns   []net.Conn
	closed  bool
	changed string // what was changed, once it was
	ed      editor
}

// startMITM listens on a loopback port; the demo's client dials Addr.
// report receives one line when the byte is changed.
func startMITM(target string, plan *flipPlan, report func(string)) (*mitm, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &mitm{target: target, plan: plan, report: report, ln: ln}
	m.ed = editor{plan: plan, armAt: -1}
	m.wg.Add(1)
	go m.accept()
	return m, nil
}

func (m *mitm) Addr() string { return m.ln.Addr().String() }

func (m *mitm) accept() {
	defer m.wg.Done()
	client, err := m.ln.Accept()
	m.ln.Close() // one connection only
	if err != nil {
		return
	}
	server, err := net.Dial("tcp", m.target)
	if err != nil {
		client.Close()
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	m.conns = append(m.conns, client, server)
	m.mu.Unlock()
	m.wg.Add(2)
	go func() { defer m.wg.Done(); m.relay(server, client, m.plan.dir == clientToServer) }()
	go func() { defer m.wg.Done(); m.relay(client, server, m.plan.dir == serverToClient) }()
}

// armAppData tells the editor that the handshake is over: the next
// application_data record from offset on in the edited stream carries
// application data.
func (m *mitm) armAppData(offset int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ed.armAt = offset
}

// Changed returns what was changed, or "" if nothing (yet).
func (m *mitm) Changed() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Close ends the relay and waits for it.
func (m *mitm) Close() {
	m.mu.Lock()
	m.closed = true
	m.ln.Close()
	for _, c := range m.conns {
		c.Close()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// relay copies records from src to dst, through the editor if edit is set.
// Bytes that are not TLS records end the relay, as does either side closing.
func (m *mitm) relay(dst, src net.Conn, edit bool) {
	defer func() {
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite() // pass the end of the stream on
		}
	}()
	for {
		rec, err := readRecord(src)
		if err != nil {
			dst.Write(rec) // what came before the end, as a router would
			return
		}
		if edit {
			m.mu.Lock()
			out, note := m.ed.edit(rec)
			if note != "" && m.changed == "" {
				m.changed = note
				m.report(note)
			}
			m.mu.Unlock()
			rec = out
		}
		if _, err := dst.Write(rec); err != nil {
			return
		}
	}
}

var errNotTLS = errors.New("not a TLS record")

// readRecord reads one record, header and fragment. On error it returns
// the bytes it read.
func readRecord(r io.Reader) ([]byte, error) {
	hdr := make([]byte, recordHeaderLen)
	if n, err := io.ReadFull(r, hdr); err != nil {
		return hdr[:n], err
	}
	n := int(hdr[3])<<8 | int(hdr[4])
	if n > maxRecordLen || hdr[1] != 3 {
		return hdr, errNotTLS
	}
	rec := make([]byte, recordHeaderLen+n)
	copy(rec, hdr)
	m, err := io.ReadFull(r, rec[recordHeaderLen:])
	return rec[:recordHeaderLen+m], err
}

// editor changes one byte of one direction's stream, once.
type editor struct {
	plan     *flipPlan
	offset   int64 // stream offset of the record being edited
	afterCCS bool
	armAt    int64
	done     bool
	held     [][]byte // handshake records held back until a message boundary
	hs       []byte   // their handshake bytes
}

// edit takes one record and returns the bytes to forward now, and a note
// when it changed a byte.
func (e *editor) edit(rec []byte) (out []byte, note string) {
	start := e.offset
	e.offset += int64(len(rec))
	typ := rec[0]
	if e.done {
		return e.release(rec), ""
	}
	switch e.plan.kind {
	case flipMessage:
		if typ == recordChangeCipherSpec {
			e.afterCCS = true
		}
		if typ != recordHandshake || e.afterCCS {
			return e.release(rec), ""
		}
		return e.holdHandshake(rec)
	case flipAfterCCS:
		if e.afterCCS {
			return rec, e.flipCiphertext(rec)
		}
		e.afterCCS = typ == recordChangeCipherSpec
	case flipEncrypted:
		if typ == recordApplicationData {
			return rec, e.flipCiphertext(rec)
		}
	case flipAppData:
		if typ == recordApplicationData && e.armAt >= 0 && start >= e.armAt {
			return rec, e.flipCiphertext(rec)
		}
	}
	return rec, ""
}

// flipCiphertext changes the last byte of ciphertext before the AEAD tag.
func (e *editor) flipCiphertext(rec []byte) string {
	p := len(rec) - aeadTagLen - 1
	if p < recordHeaderLen {
		return ""
	}
	old := rec[p]
	rec[p] ^= 0x01
	e.done = true
	l := e.plan.lang
	return l.sayf(say{
		"byte %d of %d of the %s record %s (%s), 0x%02x → 0x%02x: the last byte of ciphertext before its 16-byte authentication tag",
		"Byte %d von %d des %s-Records %s (%s), 0x%02x → 0x%02x: das letzte Byte Chiffretext vor dem 16 Byte langen Authentifizierungs-Tag",
	}, p-recordHeaderLen, len(rec)-recordHeaderLen, contentTypeName(rec[0]), e.plan.dir.in(l), l.say(e.plan.what), old, rec[p])
}

func contentTypeName(t byte) string {
	switch t {
	case recordHandshake:
		return "handshake"
	case recordApplicationData:
		return "application_data"
	case recordChangeCipherSpec:
		return "change_cipher_spec"
	}
	return fmt.Sprintf("type-%d", t)
}

// holdHandshake adds a plaintext handshake record to those held back,
// changes the target message once it is whole, and releases the held
// records when their messages end at a record boundary.
func (e *editor) holdHandshake(rec []byte) ([]byte, string) {
	if len(e.hs)+len(rec) > maxHeld {
		return e.release(rec), "" // unreasonably long: let it pass untouched
	}
	e.held = append(e.held, rec)
	e.hs = append(e.hs, rec[recordHeaderLen:]...)
	var note string
	off := 0
	for len(e.hs)-off >= 4 {
		n := int(e.hs[off+1])<<16 | int(e.hs[off+2])<<8 | int(e.hs[off+3])
		if len(e.hs)-off < 4+n {
			return nil, note // the message goes on in the next record
		}
		msg := e.hs[off : off+4+n]
		if msg[0] == e.plan.msgType && !e.done {
			if i, what := e.plan.locate(msg); i >= 0 && i < len(msg) {
				old := msg[i]
				e.flipHeld(off+i, old^0x01)
				e.done = true
				l := e.plan.lang
				note = l.sayf(say{"byte %d of %d of %s %s, 0x%02x → 0x%02x: %s", "Byte %d von %d der Nachricht %s %s, 0x%02x → 0x%02x: %s"},
					i, len(msg), messageName(msg[0]), e.plan.dir.in(l), old, old^0x01, l.say(what))
			}
		}
		off += 4 + n
	}
	if off == len(e.hs) {
		return e.release(nil), note
	}
	return nil, note
}

// flipHeld sets the byte at position p of the held handshake bytes, in the
// held record that carries it.
func (e *editor) flipHeld(p int, b byte) {
	e.hs[p] = b
	for _, rec := range e.held {
		if body := len(rec) - recordHeaderLen; p >= body {
			p -= body
			continue
		}
		rec[recordHeaderLen+p] = b
		return
	}
}

// release returns the held records followed by rec, holding nothing more.
func (e *editor) release(rec []byte) []byte {
	if len(e.held) == 0 {
		return rec
	}
	var out []byte
	for _, r := range e.held {
		out = append(out, r...)
	}
	e.held, e.hs = nil, nil
	return append(out, rec...)
}

func messageName(t byte) string {
	switch t {
	case typeClientHello:
		return "ClientHello"
	case typeServerHello:
		return "ServerHello"
	case typeCertificate:
		return "Certificate"
	case typeServerKeyExchange:
		return "ServerKeyExchange"
	case typeCertificateVerify:
		return "CertificateVerify"
	case typeClientKeyExchange:
		return "ClientKeyExchange"
	}
	return fmt.Sprintf("handshake message %d", t)
}

// ---- where to change a message ----
//
// Each locator reads just enough of the message's structure (RFC 5246
// §7.4, RFC 8446 §4) to find the byte that makes its point, and returns -1
// when the message is not shaped as expected.

// reader walks a message; a failed read leaves it failed.
type reader struct {
	b   []byte
	off int
	bad bool
}

func (r *reader) skip(n int) {
	if r.bad || n < 0 || len(r.b)-r.off < n {
		r.bad = true
		return
	}
	r.off += n
}

func (r *reader) uint(n int) int {
	if r.bad || len(r.b)-r.off < n {
		r.bad = true
		return 0
	}
	v := 0
	for i := 0; i < n; i++ {
		v = v<<8 | int(r.b[r.off+i])
	}
	r.off += n
	return v
}

// vector reads a length of n bytes and returns where its content starts
// and how long it is.
func (r *reader) vector(n int) (start, length int) {
	length = r.uint(n)
	start = r.off
	r.skip(length)
	return start, length
}

// randomOffset is where the random starts in a ClientHello or ServerHello:
// after the 4-byte header and legacy_version.
const randomOffset = 4 + 2

// atExtendedMasterSecret finds the first byte of the extension type of
// extended_master_secret in a ClientHello (RFC 8446 §4.1.2); without one,
// the first byte of the random.
func atExtendedMasterSecret(msg []byte) (int, say) {
	if len(msg) < randomOffset+32 {
		return -1, say{}
	}
	r := &reader{b: msg}
	r.skip(4 + 2 + 32) // header, legacy_version, random
	r.vector(1)        // legacy_session_id
	r.vector(2)        // cipher_suites
	r.vector(1)        // legacy_compression_methods
	start, n := r.vector(2)
	if !r.bad {
		ext := &reader{b: msg[:start+n], off: start}
		for !ext.bad && ext.off < start+n {
			at := ext.off
			typ := ext.uint(2)
			ext.vector(2)
			if typ == extExtendedMasterSecret && !ext.bad {
				return at, say{"the first byte of the type of the extended_master_secret extension (0x0017), which becomes 0x0117, a type nobody knows",
					"das erste Byte des Typs der Erweiterung extended_master_secret (0x0017); 0x0117 ist ein Typ, den niemand kennt"}
			}
		}
	}
	return randomOffset, say{"the first byte of the client random", "das erste Byte der Zufallszahl des Clients"}
}

func atServerRandom(msg []byte) (int, say) {
	if len(msg) < randomOffset+32 {
		return -1, say{}
	}
	return randomOffset, say{"the first byte of the server random", "das erste Byte der Zufallszahl des Servers"}
}

// atLeafSignature finds the last byte of the first certificate in a TLS 1.2
// Certificate (RFC 5246 §7.4.2): the end of the CA's signature over it.
func atLeafSignature(msg []byte) (int, say) {
	r := &reader{b: msg}
	r.skip(4)
	r.uint(3) // length of certificate_list
	start, n := r.vector(3)
	if r.bad || n == 0 {
		return -1, say{}
	}
	return start + n - 1, say{"the last byte of the server certificate, inside the CA's signature over it", "das letzte Byte des Server-Zertifikats, in der Signatur der Zertifizierungsstelle darüber"}
}

// atServerKeyShare finds the last byte of the ECDHE public key in a
// ServerKeyExchange (RFC 8422 §5.4): curve_type, named_curve, public.
func atServerKeyShare(msg []byte) (int, say) {
	r := &reader{b: msg}
	r.skip(4)
	if r.uint(1) != 3 { // named_curve
		return -1, say{}
	}
	r.skip(2)
	start, n := r.vector(1)
	if r.bad || n == 0 {
		return -1, say{}
	}
	return start + n - 1, say{"the last byte of the server's ECDHE public key, which the server signed together with both randoms", "das letzte Byte des öffentlichen ECDHE-Schlüssels des Servers, den der Server mit beiden Zufallszahlen signiert hat"}
}

// atClientKeyExchange finds a byte of what the client sends in
// ClientKeyExchange: the middle of the RSA-encrypted pre-master secret
// (RFC 5246 §7.4.7.1), or the last byte of its ECDHE public key (RFC 8422
// §5.7). Which one it is follows from the length prefix: two bytes for
// RSA, one for ECDHE.
func atClientKeyExchange(rsa bool) func([]byte) (int, say) {
	return func(msg []byte) (int, say) {
		r := &reader{b: msg}
		r.skip(4)
		if rsa {
			start, n := r.vector(2)
			if r.bad || n == 0 {
				return -1, say{}
			}
			return start + n/2, say{"a byte in the middle of the pre-master secret, encrypted to the server's RSA key", "ein Byte in der Mitte des mit dem RSA-Schlüssel des Servers verschlüsselten Pre-Master-Secrets"}
		}
		start, n := r.vector(1)
		if r.bad || n == 0 {
			return -1, say{}
		}
		return start + n - 1, say{"the last byte of the client's ECDHE public key", "das letzte Byte des öffentlichen ECDHE-Schlüssels des Clients"}
	}
}

// atCertificateVerifySignature finds the last byte of the signature in a
// TLS 1.2 CertificateVerify (RFC 5246 §7.4.8, with the scheme of §7.4.1.4.1).
func atCertificateVerifySignature(msg []byte) (int, say) {
	r := &reader{b: msg}
	r.skip(4 + 2)
	start, n := r.vector(2)
	if r.bad || n == 0 {
		return -1, say{}
	}
	return start + n - 1, say{"the last byte of the client's signature over the handshake messages so far", "das letzte Byte der Signatur des Clients über die bisherigen Handshake-Nachrichten"}
}

// tamperNames are the --tamper values, as the user may type them.
var tamperNames = []string{"ClientHello", "ServerHello", "Certificate", "ServerKeyExchange",
	"ClientKeyExchange", "CertificateVerify", "Finished", "record"}

func canonicalTamper(s string) (string, bool) {
	for _, n := range tamperNames {
		if strings.EqualFold(n, s) {
			return n, true
		}
	}
	return "", false
}
