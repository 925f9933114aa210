package trafficgen

import "encoding/binary"

// IP protocol numbers of the transports FieldsOf finds.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// EtherTypes FieldsOf reads.
const (
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	etherTypeVLAN  = 0x8100 // 802.1Q
	etherTypeQinQ  = 0x88a8 // 802.1ad service tag
	maxVLANTags    = 2
	icmpv6CsumOff  = 2
	udpCsumOff     = 6
	tcpCsumOff     = 16
	ipv4CsumOff    = 10
	ipv4SrcOff     = 12
	ipv6SrcLastOff = 8 + 12 // the last 4 bytes of the 16-byte source
)

// Fields locates, in one frame, the fields the generator's program varies
// (bpf/xdp_gen.c): the ports, the source address and the checksums that
// cover them. Offsets are from the start of the frame; -1 means the frame
// has no such field, or none the program may change. Every offset that is
// not -1 lies inside the frame with room for its field.
type Fields struct {
	// IPv6 reports whether the IP header is IPv6.
	IPv6 bool
	// L3 is the offset of the IPv4 or IPv6 header, after up to two VLAN
	// tags (0x8100 or 0x88a8); -1 when the frame carries neither, or its
	// IP header is cut short or malformed.
	L3 int
	// L4 is the offset of the UDP, TCP, ICMP or ICMPv6 header; -1 when
	// there is none, when the IPv4 packet is a fragment (MF set or a
	// fragment offset), when the IPv6 next header is not directly UDP, TCP
	// or ICMPv6 (an extension header comes first), or when the header's
	// fixed part (8 bytes, 20 for TCP) does not fit.
	L4 int
	// Proto is the IP protocol of the L4 header (17, 6, 1 or 58); 0 when
	// L4 is -1.
	Proto uint8
	// IPChecksum is the offset of the IPv4 header checksum; -1 for IPv6
	// or no IP.
	IPChecksum int
	// SrcAddr is the offset of the 32 bits of source address that vary:
	// the IPv4 source, or the last 4 bytes of the IPv6 source; -1 without
	// IP.
	SrcAddr int
	// SrcPort is the offset of the UDP or TCP source port; the
	// destination port is at SrcPort+2. -1 for other transports.
	SrcPort int
	// L4Checksum is the offset of the transport checksum that covers the
	// ports and the source address: TCP's, UDP's unless it is zero (not
	// computed, so the program must leave it zero), and ICMPv6's, which
	// covers the pseudo-header. -1 otherwise; ICMPv4's checksum does not
	// cover the addresses.
	L4Checksum int
}

// HasPorts reports whether f has UDP or TCP ports.
func (f Fields) HasPorts() bool { return f.SrcPort >= 0 }

// HasAddr reports whether f has an IP source address.
func (f Fields) HasAddr() bool { return f.SrcAddr >= 0 }

// noFields is a frame without IP.
var noFields = Fields{L3: -1, L4: -1, IPChecksum: -1, SrcAddr: -1, SrcPort: -1, L4Checksum: -1}

// FieldsOf finds the fields the generator varies in frame, an Ethernet
// frame without FCS. A frame that is not IPv4 or IPv6 is no error: its
// offsets are -1. Headers cut short by the end of the frame count as
// absent. The only error, matching os.ErrInvalid, is a frame shorter than
// an Ethernet header. It never panics, and allocates only for that error.
func FieldsOf(frame []byte) (Fields, error) {
	if len(frame) < EthernetHeaderLen {
		return noFields, invalidf("frame is %d bytes, shorter than an Ethernet header (%d)", len(frame), EthernetHeaderLen)
	}
	f := noFields
	off := EthernetHeaderLen
	typ := binary.BigEndian.Uint16(frame[off-2:])
	for tags := 0; (typ == etherTypeVLAN || typ == etherTypeQinQ) && tags < maxVLANTags; tags++ {
		if len(frame) < off+vlanTagLen {
			return f, nil
		}
		off += vlanTagLen
		typ = binary.BigEndian.Uint16(frame[off-2:])
	}
	switch typ {
	case etherTypeIPv4:
		ipv4Fields(frame, off, &f)
	case etherTypeIPv6:
		ipv6Fields(frame, off, &f)
	}
	return f, nil
}

// ipv4Fields fills f for the IPv4 header at off.
func ipv4Fields(frame []byte, off int, f *Fields) {
	if len(frame) < off+ipv4HeaderLen || frame[off]>>4 != 4 {
		return
	}
	hlen := int(frame[off]&0x0f) * 4
	if hlen < ipv4HeaderLen || len(frame) < off+hlen {
		return
	}
	f.L3, f.IPChecksum, f.SrcAddr = off, off+ipv4CsumOff, off+ipv4SrcOff
	if binary.BigEndian.Uint16(frame[off+6:])&0x3fff != 0 { // MF or a fragment offset
		return
	}
	end := len(frame)
	if tl := int(binary.BigEndian.Uint16(frame[off+2:])); tl >= hlen && off+tl < end {
		end = off + tl // the rest is Ethernet padding
	}
	l4Fields(frame[:end], off+hlen, frame[off+9], false, f)
}

// ipv6Fields fills f for the IPv6 header at off.
func ipv6Fields(frame []byte, off int, f *Fields) {
	if len(frame) < off+ipv6HeaderLen || frame[off]>>4 != 6 {
		return
	}
	f.IPv6, f.L3, f.SrcAddr = true, off, off+ipv6SrcLastOff
	end := len(frame)
	if pl := int(binary.BigEndian.Uint16(frame[off+4:])); pl != 0 && off+ipv6HeaderLen+pl < end {
		end = off + ipv6HeaderLen + pl // the rest is Ethernet padding
	}
	l4Fields(frame[:end], off+ipv6HeaderLen, frame[off+6], true, f)
}

// l4Fields fills f for the transport header of protocol proto at off, if
// its fixed part lies inside frame.
func l4Fields(frame []byte, off int, proto uint8, ipv6 bool, f *Fields) {
	need := 0
	switch {
	case proto == protoUDP:
		need = udpHeaderLen
	case proto == protoTCP:
		need = tcpHeaderLen
	case proto == protoICMP && !ipv6, proto == protoICMPv6 && ipv6:
		need = icmpHeaderLen
	default:
		return
	}
	if len(frame) < off+need {
		return
	}
	f.L4, f.Proto = off, proto
	switch proto {
	case protoUDP:
		f.SrcPort = off
		if binary.BigEndian.Uint16(frame[off+udpCsumOff:]) != 0 {
			f.L4Checksum = off + udpCsumOff
		}
	case protoTCP:
		f.SrcPort = off
		f.L4Checksum = off + tcpCsumOff
	case protoICMPv6:
		f.L4Checksum = off + icmpv6CsumOff
	}
}
