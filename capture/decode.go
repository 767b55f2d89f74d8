package capture

import (
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// segment is one TCP segment from a frame.
type segment struct {
	ts       time.Time
	src, dst netip.AddrPort
	seq      uint32
	syn, ack bool
	fin, rst bool
	payload  []byte
	// incomplete: the capture cut the frame short, so the payload is
	// not all the segment carried.
	incomplete bool
}

// linkTypeLinuxSLL2 is LINKTYPE_LINUX_SLL2 (276, tcpdump -i any since
// libpcap 1.10): a 20-byte header whose first two bytes are the protocol
// type. gopacket v1.1.19 does not know it and keeps link types in a byte,
// so pcapgo hands it over as 276 mod 256; no link type registered there
// (LINKTYPE 20 is unassigned) is taken for it.
const linkTypeLinuxSLL2 = layers.LinkType(276 & 0xff)

// decoder takes frames apart down to TCP with gopacket's layers, and no
// further: the payload is ours to read. Frames of other kinds (ARP, UDP,
// IP fragments, unknown link types) are skipped.
type decoder struct {
	eth      layers.Ethernet
	dot1q    layers.Dot1Q
	sll      layers.LinuxSLL
	loop     layers.Loopback
	ip4      layers.IPv4
	ip6      layers.IPv6
	tcp      layers.TCP
	payload  gopacket.Payload
	parsers  map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded  []gopacket.LayerType
	hasIPv4  bool
	src, dst netip.Addr
}

func (d *decoder) parser(first gopacket.LayerType) *gopacket.DecodingLayerParser {
	if d.parsers == nil {
		d.parsers = map[gopacket.LayerType]*gopacket.DecodingLayerParser{}
	}
	p := d.parsers[first]
	if p == nil {
		p = gopacket.NewDecodingLayerParser(first, &d.eth, &d.dot1q, &d.sll, &d.loop, &d.ip4, &d.ip6, &d.tcp, &d.payload)
		p.IgnoreUnsupported = true // a layer we do not decode ends the frame, no error
		d.parsers[first] = p
	}
	return p
}

func (d *decoder) decode(f frame) (segment, bool) {
	data := f.data
	var first gopacket.LayerType
	switch f.link {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		first = layers.LayerTypeLoopback
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if len(data) == 0 {
			return segment{}, false
		}
		first = ipLayer(data[0] >> 4)
	case linkTypeLinuxSLL2:
		if len(data) < 20 {
			return segment{}, false
		}
		switch layers.EthernetType(uint16(data[0])<<8 | uint16(data[1])) {
		case layers.EthernetTypeIPv4:
			first = layers.LayerTypeIPv4
		case layers.EthernetTypeIPv6:
			first = layers.LayerTypeIPv6
		}
		data = data[20:]
	}
	if first == gopacket.LayerTypeZero {
		return segment{}, false
	}
	d.decoded = d.decoded[:0]
	if err := d.parser(first).DecodeLayers(data, &d.decoded); err != nil {
		return segment{}, false
	}
	var haveIP, haveTCP bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			// A fragment's TCP header may be in another frame; tcpdump
			// on loopback never shows one, and reassembling IP is
			// beyond this reader.
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				return segment{}, false
			}
			d.src, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
			d.dst, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
			haveIP = true
		case layers.LayerTypeIPv6:
			d.src, _ = netip.AddrFromSlice(d.ip6.SrcIP.To16())
			d.dst, _ = netip.AddrFromSlice(d.ip6.DstIP.To16())
			haveIP = true
		case layers.LayerTypeTCP:
			haveTCP = true
		}
	}
	if !haveIP || !haveTCP || !d.src.IsValid() || !d.dst.IsValid() {
		return segment{}, false
	}
	t := &d.tcp
	return segment{
		ts:  f.ts,
		src: netip.AddrPortFrom(d.src, uint16(t.SrcPort)), dst: netip.AddrPortFrom(d.dst, uint16(t.DstPort)),
		seq: t.Seq, syn: t.SYN, ack: t.ACK, fin: t.FIN, rst: t.RST,
		payload:    t.Payload,
		incomplete: f.truncated,
	}, true
}

func ipLayer(version byte) gopacket.LayerType {
	switch version {
	case 4:
		return layers.LayerTypeIPv4
	case 6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}
