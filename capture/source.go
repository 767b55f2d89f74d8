package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tlsflow/tlsflow/internal/limits"
)

// frame is one captured link-layer frame.
type frame struct {
	data      []byte
	ts        time.Time
	link      layers.LinkType
	truncated bool // captured shorter than it was on the wire
}

// source yields the frames of a capture file, read with gopacket's pcapgo.
type source struct {
	read func() ([]byte, gopacket.CaptureInfo, error)
	link func(gopacket.CaptureInfo) layers.LinkType
}

// The first four bytes of a capture: pcap's magic numbers in either byte
// order, with microsecond or nanosecond timestamps, and pcapng's Section
// Header Block type (the same in both orders).
var (
	pcapMagics = [][]byte{
		{0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1},
		{0xa1, 0xb2, 0x3c, 0x4d}, {0x4d, 0x3c, 0xb2, 0xa1},
	}
	pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}
)

var errNotCapture = errors.New("not a pcap or pcapng capture")

func openSource(r *bufio.Reader, lim *limits.Capture) (*source, error) {
	magic, err := r.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("capture: %w (%d bytes)", errNotCapture, len(magic))
	}
	if bytes.Equal(magic, pcapngMagic) {
		ng, err := pcapgo.NewNgReader(&ngGuard{r: r, max: lim.Packet + ngBlockOverhead}, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("capture: pcapng: %w", err)
		}
		return &source{read: ng.ReadPacketData, link: func(ci gopacket.CaptureInfo) layers.LinkType {
			if len(ci.AncillaryData) > 0 {
				if t, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					return t
				}
			}
			return 0
		}}, nil
	}
	for _, m := range pcapMagics {
		if !bytes.Equal(magic, m) {
			continue
		}
		p, err := pcapgo.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("capture: pcap: %w", err)
		}
		// pcapgo allocates a packet's captured length, checked only
		// against the file's snapshot length: a hostile header could
		// declare 4 GiB for both.
		if p.Snaplen() > uint32(lim.Packet) || p.Snaplen() == 0 {
			p.SetSnaplen(uint32(lim.Packet))
		}
		link := p.LinkType()
		return &source{read: p.ReadPacketData, link: func(gopacket.CaptureInfo) layers.LinkType { return link }}, nil
	}
	return nil, fmt.Errorf("capture: %w (it begins % x)", errNotCapture, magic)
}

// next returns the next frame, io.EOF at the end of the capture, or the
// error that stops reading. A panic in the capture library on a damaged
// file is such an error, not a crash.
func (s *source) next() (f frame, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the capture library failed on it: %v", p)
		}
	}()
	data, ci, err := s.read()
	if err != nil {
		if errors.Is(err, io.EOF) && len(data) == 0 && ci.CaptureLength == 0 {
			return frame{}, io.EOF
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	return frame{data: data, ts: ci.Timestamp, link: s.link(ci), truncated: ci.CaptureLength < ci.Length}, nil
}

// ngBlockOverhead is the most a pcapng packet block adds to its packet:
// the Enhanced Packet Block's 28 bytes of header and 4 of trailer, with
// room for options.
const ngBlockOverhead = 1024

// ngGuard hands a pcapng stream to pcapgo block by block, after checking
// the framing (pcapng §3.1: a block's total length is a multiple of 4 and
// at least 12) against a bound, and that a packet block's captured length
// fits in its block: pcapgo allocates the captured length a block declares
// before reading it, so a hostile block could make it allocate 4 GiB.
type ngGuard struct {
	r     io.Reader
	max   int
	order binary.ByteOrder
	buf   []byte
	off   int
}

// pcapng block types (pcapng §11.1).
const (
	ngSectionHeader  = 0x0a0d0d0a
	ngPacket         = 0x00000002 // obsolete Packet Block
	ngSimplePacket   = 0x00000003
	ngEnhancedPacket = 0x00000006
	ngByteOrderMagic = 0x1a2b3c4d
)

func (g *ngGuard) Read(p []byte) (int, error) {
	if g.off == len(g.buf) {
		if err := g.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

func (g *ngGuard) fill() error {
	var hdr [12]byte
	if _, err := io.ReadFull(g.r, hdr[:8]); err != nil {
		return err // io.EOF between blocks is the end
	}
	head := hdr[:8]
	if binary.BigEndian.Uint32(hdr[:4]) == ngSectionHeader {
		if _, err := io.ReadFull(g.r, hdr[8:12]); err != nil {
			return io.ErrUnexpectedEOF
		}
		head = hdr[:12]
		switch {
		case binary.BigEndian.Uint32(hdr[8:12]) == ngByteOrderMagic:
			g.order = binary.BigEndian
		case binary.LittleEndian.Uint32(hdr[8:12]) == ngByteOrderMagic:
			g.order = binary.LittleEndian
		default:
			return errors.New("pcapng: section header without a byte-order magic")
		}
	}
	if g.order == nil {
		return errors.New("pcapng: a block before the first section header")
	}
	typ, length := g.order.Uint32(hdr[:4]), int(g.order.Uint32(hdr[4:8]))
	if length < 12+len(head)-8 || length%4 != 0 || length > g.max {
		return fmt.Errorf("pcapng: block of type %#x declares %d bytes (want a multiple of 4, from 12 to %d)", typ, length, g.max)
	}
	if cap(g.buf) < length {
		g.buf = make([]byte, length)
	}
	g.buf, g.off = g.buf[:length], 0
	copy(g.buf, head)
	if _, err := io.ReadFull(g.r, g.buf[len(head):]); err != nil {
		return io.ErrUnexpectedEOF
	}
	return g.checkPacket(typ, length)
}

// checkPacket checks that a packet block's packet fits in the block.
func (g *ngGuard) checkPacket(typ uint32, length int) error {
	var captured, room int
	switch typ {
	case ngEnhancedPacket, ngPacket:
		if length < 32 {
			return fmt.Errorf("pcapng: packet block of %d bytes", length)
		}
		captured, room = int(g.order.Uint32(g.buf[20:24])), length-32
	case ngSimplePacket:
		if length < 16 {
			return fmt.Errorf("pcapng: simple packet block of %d bytes", length)
		}
		// pcapgo takes the original length as the captured one.
		captured, room = int(g.order.Uint32(g.buf[8:12])), length-16
	default:
		return nil
	}
	if captured > room {
		return fmt.Errorf("pcapng: a packet block declares %d captured bytes in a block with room for %d", captured, room)
	}
	return nil
}
