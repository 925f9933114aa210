package packet

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// EthernetHeaderLen is the length of an Ethernet header without a VLAN
// tag: destination MAC, source MAC, EtherType.
const EthernetHeaderLen = 14

// MaxFrameLen is the largest frame a SPEC may build.
const MaxFrameLen = 65535

// Build parses spec with ParseSpec and builds its frame.
func Build(spec string) ([]byte, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	return s.Build()
}

// Build returns the frame s describes, with the lengths, the IPv4 header
// checksum and the UDP, TCP, ICMP and ICMPv6 checksums computed. The frame
// is not padded to the 60-byte Ethernet minimum: give a payload for that.
// Errors match os.ErrInvalid.
func (s *Spec) Build() ([]byte, error) {
	c, err := compile(s)
	if err != nil {
		return nil, errs.Markf(os.ErrInvalid, "packet spec %q: %w", s.String(), err)
	}
	frame, err := c.serialize()
	if err != nil {
		return nil, errs.Markf(os.ErrInvalid, "packet spec %q: %w", s.String(), err)
	}
	return frame, nil
}

// compiled is a checked Spec: the Ethernet header and the gopacket layers
// that follow it.
type compiled struct {
	ethDst, ethSrc net.HardwareAddr
	ethType        uint16
	layers         []gopacket.SerializableLayer
	size           int
}

func (c *compiled) serialize() ([]byte, error) {
	buf := gopacket.NewSerializeBufferExpectedSize(c.size, 0)
	opts := gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}
	if err := gopacket.SerializeLayers(buf, opts, c.layers...); err != nil {
		return nil, fmt.Errorf("serializing: %w", err)
	}
	// gopacket's Ethernet layer pads to 60 bytes; the header is written
	// here so the frame is exactly what the SPEC says.
	eth, err := buf.PrependBytes(EthernetHeaderLen)
	if err != nil {
		return nil, fmt.Errorf("serializing: %w", err)
	}
	copy(eth[0:6], c.ethDst)
	copy(eth[6:12], c.ethSrc)
	binary.BigEndian.PutUint16(eth[12:14], c.ethType)
	return buf.Bytes(), nil
}

// Defaults of the SPEC fields.
var (
	defaultEthSrc  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	defaultEthDst  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	defaultIPv4Src = net.IP{10, 0, 0, 1}
	defaultIPv4Dst = net.IP{10, 0, 0, 2}
	defaultIPv6Src = net.ParseIP("fc00::1")
	defaultIPv6Dst = net.ParseIP("fc00::2")
)

// Values derived from the next layer when a SPEC gives none.
const (
	etherTypeExperimental = 0x88b5 // IEEE 802 local experimental, for eth/payload
	ipProtoExperimental   = 253    // RFC 3692 experimentation, for ipv4/payload
	ipProtoNoNext         = 59     // IPv6 No Next Header, for ipv6/payload
)

// nextEtherType is the EtherType of the layer after eth or vlan.
func nextEtherType(next string) uint64 {
	switch next {
	case "vlan":
		return 0x8100
	case "arp":
		return 0x0806
	case "ipv4":
		return 0x0800
	case "ipv6":
		return 0x86dd
	}
	return etherTypeExperimental
}

// nextIPProto is the IP protocol number of the layer after ipv4 or ipv6.
func nextIPProto(next string, ipv6 bool) uint64 {
	switch next {
	case "udp":
		return 17
	case "tcp":
		return 6
	case "icmp":
		return 1
	case "icmp6":
		return 58
	case "ipv4":
		return 4
	case "ipv6":
		return 41
	}
	if ipv6 {
		return ipProtoNoNext
	}
	return ipProtoExperimental
}

// compile checks s — layer names and order, field names, values, size —
// and returns what serialize needs.
func compile(s *Spec) (*compiled, error) {
	if len(s.Layers) == 0 {
		return nil, fmt.Errorf("no layers (write layers like eth/ipv4/udp/payload(64))")
	}
	fields := make([]*layerFields, len(s.Layers))
	for i := range s.Layers {
		f, err := checkLayer(s, i)
		if err != nil {
			return nil, err
		}
		fields[i] = f
	}
	c := &compiled{}
	var ipl gopacket.NetworkLayer // the innermost IP layer so far, for checksums
	for i, f := range fields {
		next := ""
		if i+1 < len(fields) {
			next = fields[i+1].name
		}
		d := lookupLayer(f.name)
		c.size += d.size
		var l gopacket.SerializableLayer
		var err error
		switch f.name {
		case "eth":
			err = c.eth(f, next)
		case "vlan":
			l, err = vlanLayer(f, next)
		case "arp":
			l, err = arpLayer(f, c.ethSrc)
		case "ipv4":
			var ip *layers.IPv4
			ip, err = ipv4Layer(f, next)
			l, ipl = ip, ip
		case "ipv6":
			var ip *layers.IPv6
			ip, err = ipv6Layer(f, next)
			l, ipl = ip, ip
		case "udp":
			l, err = udpLayer(f, ipl)
		case "tcp":
			l, err = tcpLayer(f, ipl)
		case "icmp":
			l, err = icmpLayer(f)
		case "icmp6":
			var ls []gopacket.SerializableLayer
			ls, err = icmp6Layers(f, ipl)
			if err == nil {
				c.layers = append(c.layers, ls...)
			}
		case "payload":
			var p gopacket.Payload
			p, err = payloadLayer(f)
			l = p
			c.size += len(p)
		}
		if err != nil {
			return nil, err
		}
		if l != nil {
			c.layers = append(c.layers, l)
		}
	}
	if c.size > MaxFrameLen {
		return nil, fmt.Errorf("the frame would be %d bytes, more than the %d a frame may have (make the payload smaller)", c.size, MaxFrameLen)
	}
	return c, nil
}
