package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/trace"
)

// Captures made in code, without any peer: the ClientHello and ServerHello
// of trace/testdata/tls13.jsonl (a tlsflow handshake) in TCP segments on
// port 8443, the ClientHello cut in three segments that arrive out of
// order and once more, then a record the server encrypted.

const fixture13 = "../trace/testdata/tls13.jsonl"

func fixtureHellos(t testing.TB) (ch, sh trace.Event) {
	t.Helper()
	f, err := os.Open(fixture13)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := trace.ReadJSONLines(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Kind == trace.KindMessage && e.Direction == trace.Sent {
			switch e.Message {
			case "ClientHello":
				ch = e
			case "ServerHello":
				sh = e
			}
		}
	}
	return ch, sh
}

func tlsRecord(typ byte, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

type synthSegment struct {
	fromClient bool
	seq        uint32 // relative to the sender's first data byte
	flags      string // "S", "SA", "F" or "" (ACK)
	data       []byte
}

var (
	synthClient = net.IPv4(127, 0, 0, 1)
	synthServer = net.IPv4(127, 0, 0, 2)
)

const (
	synthClientPort = 40000
	synthServerPort = 8443
	synthISN        = 1000 // both sides'
)

// synthFrames builds Ethernet frames of a client on port 40000 talking to
// a server on 8443, one per segment; seq counts from each side's first
// data byte (the SYN takes the one before).
func synthFrames(t testing.TB, segs []synthSegment) [][]byte {
	t.Helper()
	var frames [][]byte
	for _, s := range segs {
		src, dst := synthClient, synthServer
		sport, dport := layers.TCPPort(synthClientPort), layers.TCPPort(synthServerPort)
		if !s.fromClient {
			src, dst, sport, dport = dst, src, dport, sport
		}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		tcp := &layers.TCP{SrcPort: sport, DstPort: dport, Seq: synthISN + 1 + s.seq, Window: 65535,
			SYN: strings.Contains(s.flags, "S"), FIN: strings.Contains(s.flags, "F"), ACK: s.flags != "S", PSH: len(s.data) > 0}
		if tcp.SYN {
			tcp.Seq = synthISN
		}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, ip, tcp, gopacket.Payload(s.data)); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, buf.Bytes())
	}
	return frames
}

// synthHandshake is the hellos' segments: the ClientHello record in
// three pieces, the second first, the first twice.
func synthHandshake(t testing.TB) []synthSegment {
	ch, sh := fixtureHellos(t)
	chRec := tlsRecord(22, ch.Raw)
	shRec := append(tlsRecord(22, sh.Raw), tlsRecord(20, []byte{1})...)
	sealed := tlsRecord(23, bytes.Repeat([]byte{0xa5}, 64))
	a, b := len(chRec)/3, 2*len(chRec)/3
	return []synthSegment{
		{fromClient: true, flags: "S"},
		{fromClient: false, flags: "SA"},
		{fromClient: true, seq: uint32(a), data: chRec[a:b]},
		{fromClient: true, seq: 0, data: chRec[:a]},
		{fromClient: true, seq: 0, data: chRec[:a]}, // a retransmission
		{fromClient: true, seq: uint32(b), data: chRec[b:]},
		{fromClient: false, seq: 0, data: shRec},
		{fromClient: false, seq: uint32(len(shRec)), data: sealed},
		{fromClient: true, seq: uint32(len(chRec)), flags: "F"},
	}
}

func writePcap(t testing.TB, frames [][]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func writePcapng(t testing.TB, frames [][]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriter(&out, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestReadsTheHellosOfASyntheticCapture(t *testing.T) {
	ch, sh := fixtureHellos(t)
	frames := synthFrames(t, synthHandshake(t))
	for name, file := range map[string][]byte{"pcap": writePcap(t, frames), "pcapng": writePcapng(t, frames)} {
		t.Run(name, func(t *testing.T) {
			c, err := Read(bytes.NewReader(file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Problems) > 0 || len(c.Connections) != 1 {
				t.Fatalf("%d connections, problems %q; want 1 and none", len(c.Connections), c.Problems)
			}
			conn := c.Connections[0]
			if conn.Client.String() != "127.0.0.1:40000" || conn.Server.String() != "127.0.0.2:8443" {
				t.Errorf("client %s server %s", conn.Client, conn.Server)
			}
			if conn.Version != 0x0304 || conn.CipherSuite != 0x1302 {
				t.Errorf("version %#04x suite %#04x, want TLS 1.3 and TLS_AES_256_GCM_SHA384", conn.Version, conn.CipherSuite)
			}
			var got []string
			for _, e := range conn.Events {
				got = append(got, string(e.Side)+" "+string(e.Kind)+" "+e.Message)
				for _, want := range []trace.Event{ch, sh} {
					if e.Kind == trace.KindMessage && e.Message == want.Message &&
						(!bytes.Equal(e.Raw, want.Raw) || !slices.Equal(e.Fields, want.Fields) || e.Step != want.Step) {
						t.Errorf("%s differs from what tlsflow traced sending it:\n got %d %v\nwant %d %v",
							e.Message, e.Step, e.Fields, want.Step, want.Fields)
					}
				}
			}
			want := []string{"client connect ", "client message ClientHello", "server message ServerHello",
				"server change_cipher_spec ChangeCipherSpec", "server message encrypted records"}
			if !slices.Equal(got, want) {
				t.Errorf("events\n %q\nwant\n %q", got, want)
			}
			if last := conn.Events[len(conn.Events)-1]; last.Field("reason") != "no key log" || last.Field("records") != "1" {
				t.Errorf("the encrypted record: %v", last.Fields)
			}
		})
	}
}

func TestTruncatedCapturesYieldWhatWasRead(t *testing.T) {
	frames := synthFrames(t, synthHandshake(t))
	for name, file := range map[string][]byte{"pcap": writePcap(t, frames), "pcapng": writePcapng(t, frames)} {
		// The file's header: cut inside it, the file cannot be read.
		header := 24
		if name == "pcapng" {
			header = bytes.Index(file, []byte{6, 0, 0, 0})
		}
		for n := 0; n < len(file); n++ {
			c, err := Read(bytes.NewReader(file[:n]), Options{})
			if err != nil {
				if n >= header {
					t.Fatalf("%s cut at %d: %v", name, n, err)
				}
				continue
			}
			for _, conn := range c.Connections {
				if len(conn.Events) == 0 || conn.Events[0].Kind != trace.KindConnect {
					t.Fatalf("%s cut at %d: a connection without its step 0", name, n)
				}
			}
			if n < len(file) && n > 200 && len(c.Problems) == 0 && !endsOnPacket(name, file, n) {
				t.Errorf("%s cut at %d of %d: no problem told", name, n, len(file))
			}
		}
	}
}

// endsOnPacket reports whether a capture cut at n ends between packets,
// which no reader can tell from its end.
func endsOnPacket(format string, file []byte, n int) bool {
	if format == "pcap" {
		off := 24
		for off < n {
			off += 16 + int(binary.LittleEndian.Uint32(file[off+8:off+12]))
		}
		return off == n
	}
	off := 0
	for off < n {
		off += int(binary.LittleEndian.Uint32(file[off+4 : off+8]))
	}
	return off == n
}

func TestRefusesWhatIsNotACapture(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("GET / HTTP/1.1\r\n\r\n"), bytes.Repeat([]byte{0x16, 3, 1}, 100)} {
		if _, err := Read(bytes.NewReader(data), Options{}); !errors.Is(err, errNotCapture) {
			t.Errorf("Read(%.20q) = %v, want %v", data, err, errNotCapture)
		}
	}
}

func TestHostileSizesAreRefusedBeforeTheyAreAllocated(t *testing.T) {
	frames := synthFrames(t, synthHandshake(t))
	// A pcap whose header declares a 4 GiB snapshot and a packet of
	// 4 GiB - 1 bytes.
	pcap := writePcap(t, frames[:1])
	binary.LittleEndian.PutUint32(pcap[16:20], 0xffffffff)
	binary.LittleEndian.PutUint32(pcap[24+8:24+12], 0xfffffffe)
	binary.LittleEndian.PutUint32(pcap[24+12:24+16], 0xfffffffe)
	// A pcapng whose first Enhanced Packet Block declares 4 GiB - 1
	// captured bytes.
	ng := writePcapng(t, frames[:1])
	epb := bytes.Index(ng, []byte{6, 0, 0, 0})
	binary.LittleEndian.PutUint32(ng[epb+20:epb+24], 0xfffffffe)
	// And one whose block declares 1 GiB.
	ngBlock := writePcapng(t, frames[:1])
	binary.LittleEndian.PutUint32(ngBlock[epb+4:epb+8], 1<<30)
	for name, file := range map[string][]byte{"pcap packet": pcap, "pcapng captured length": ng, "pcapng block": ngBlock} {
		c, err := Read(bytes.NewReader(file), Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "after packet 0") {
			t.Errorf("%s: problems %q, want the capture refused at its first packet", name, c.Problems)
		}
	}
}

func TestLimitsOnConnectionsAndStreams(t *testing.T) {
	segs := synthHandshake(t)
	frames := synthFrames(t, segs)
	// The same connection twice (a new SYN on the same ends starts a new
	// one), with room for one.
	file := writePcap(t, append(frames, frames...))
	lim := limits.DefaultCapture
	lim.Connections = 1
	c, err := Read(bytes.NewReader(file), Options{limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Connections) != 1 || len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "limits.Capture.Connections") {
		t.Errorf("with room for one connection: %d connections, problems %q", len(c.Connections), c.Problems)
	}

	lim = limits.DefaultCapture
	lim.StreamBytes = 100 // less than the ClientHello
	c, err = Read(bytes.NewReader(writePcap(t, frames)), Options{limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	var stopped []string
	for _, e := range c.Connections[0].Events {
		if e.Kind == trace.KindMessage && e.Message == "ClientHello" {
			t.Errorf("a ClientHello read past limits.Capture.StreamBytes")
		}
		if e.Kind == trace.KindNote && e.Message == "not read further" {
			stopped = append(stopped, string(e.Side)+": "+e.Field("reason"))
		}
	}
	if len(stopped) == 0 || !strings.Contains(stopped[0], "StreamBytes") {
		t.Errorf("notes of what was not read: %q", stopped)
	}

	lim = limits.DefaultCapture
	lim.OutOfOrder = 64 // less than the segment that comes early
	c, err = Read(bytes.NewReader(writePcap(t, frames)), Options{limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Connections) != 0 {
		t.Errorf("the early segment was held past limits.Capture.OutOfOrder: %d connections", len(c.Connections))
	}
}

func TestKeyLogLines(t *testing.T) {
	good := "# a comment\n\nCLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) +
		"\nEXPORTER_SECRET " + strings.Repeat("ab", 32) + " zz\n"
	kl, err := ReadKeyLog(strings.NewReader(good))
	if err != nil || kl.Len() != 1 {
		t.Fatalf("ReadKeyLog = %d secrets, %v; want 1 (labels it does not use skipped)", kl.Len(), err)
	}
	for _, bad := range []string{
		"CLIENT_RANDOM abcd " + strings.Repeat("cd", 48),
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + strings.Repeat("ab", 32) + " nothex",
		strings.Repeat("x", 2000),
	} {
		if _, err := ReadKeyLog(strings.NewReader("# first\n" + bad + "\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("ReadKeyLog(%.40q) = %v, want an error naming line 2", bad, err)
		}
	}
}

// FuzzRead holds Read to its promises on any input: no panic, and a
// capture it accepts yields connections that begin with step 0.
func FuzzRead(f *testing.F) {
	frames := synthFrames(f, synthHandshake(f))
	f.Add(writePcap(f, frames))
	f.Add(writePcapng(f, frames))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := limits.DefaultCapture
		lim.KeptBytes = 1 << 20
		c, err := Read(bytes.NewReader(data), Options{limits: &lim})
		if err != nil {
			return
		}
		for _, conn := range c.Connections {
			if len(conn.Events) == 0 || conn.Events[0].Kind != trace.KindConnect {
				t.Fatalf("a connection without its step 0")
			}
		}
	})
}
