// Package capture reads a packet capture (pcap or pcapng, as tcpdump,
// tshark or Wireshark write them) and shows each TLS connection in it as
// trace events, the same events tlsflow's own connections emit, so that
// every trace renderer (text in English and German, JSON lines, tlsflow
// view's diagram) shows an observed handshake as it shows one tlsflow took
// part in.
//
// It is a passive observer: TCP segments are put back in order per
// direction, the bytes are split into TLS records (RFC 8446 §5.1, RFC 5246
// §6.2), handshake messages are reassembled from them and decoded with the
// codecs the handshake engines use. TLS connections are found on any port,
// by their first bytes: a handshake record holding a ClientHello.
//
// With a key log in the NSS format (SSLKEYLOGFILE, which curl, browsers,
// openssl s_client -keylogfile and tlsflow write), the encrypted part is
// decrypted: in TLS 1.3 the handshake from EncryptedExtensions on, the
// post-handshake messages and the application data, with the traffic
// secrets of the log; in TLS 1.2 everything after each ChangeCipherSpec,
// with the key block derived from the log's master secret. Suites tlsflow
// does not implement (CBC, for one) stay encrypted, with a note saying so.
//
// A capture is as hostile as a peer: every size it controls is bounded by
// limits.DefaultCapture, and a damaged or cut-short capture yields what
// could be read, with a Problem saying where reading stopped.
package capture

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/trace"
)

// Options tune Read.
type Options struct {
	// KeyLog holds the secrets to decrypt with; nil shows the encrypted
	// part as encrypted records.
	KeyLog *KeyLog

	limits *limits.Capture // tests shrink the policy; nil is limits.DefaultCapture
}

// Capture is what Read found.
type Capture struct {
	// Connections are the TLS connections, in the order they began.
	Connections []*Connection
	// Problems say what could not be read: a capture cut short, a gap in
	// a TCP stream, a limit reached.
	Problems []string
}

// Connection is one TLS connection seen in the capture.
type Connection struct {
	// Client and Server are the two ends; the client is the side that
	// sent the ClientHello.
	Client, Server netip.AddrPort
	// Start is the time of its first packet.
	Start time.Time
	// Version and CipherSuite are what the ServerHello chose (0 before).
	Version     uint16
	CipherSuite uint16
	// Events are its trace events in the order of the wire, each as its
	// sender sent it (Direction trace.Sent), as a renderer with
	// trace.Options.SentOnly would show a two-sided trace. Observations
	// (a record that stays encrypted, keys taken from the key log) are
	// KindNote events.
	Events []trace.Event
}

// Read reads a whole capture from r. It fails only when r is not a pcap or
// pcapng capture at all; what goes wrong later is told in Problems, with
// the connections read up to there.
func Read(r io.Reader, opt Options) (*Capture, error) {
	lim := &limits.DefaultCapture
	if opt.limits != nil {
		lim = opt.limits
	}
	src, err := openSource(bufio.NewReader(r), lim)
	if err != nil {
		return nil, err
	}
	t := newTracker(lim, opt.KeyLog)
	var dec decoder
	packets := 0
	for {
		f, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.problem("the capture ends or is damaged after packet %d: %v", packets, err)
			break
		}
		packets++
		if seg, ok := dec.decode(f); ok {
			t.segment(seg)
		}
	}
	return t.finish(), nil
}

// problems collects Problems, each said once with a count.
type problems struct {
	list  []string
	count map[string]int
}

func (p *problems) add(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if p.count == nil {
		p.count = map[string]int{}
	}
	if p.count[s]++; p.count[s] == 1 {
		p.list = append(p.list, s)
	}
}

func (p *problems) all() []string {
	out := make([]string, len(p.list))
	for i, s := range p.list {
		out[i] = s
		if n := p.count[s]; n > 1 {
			out[i] = fmt.Sprintf("%s (%d times)", s, n)
		}
	}
	return out
}
