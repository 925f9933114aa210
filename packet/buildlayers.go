package packet

import (
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The functions below turn one checked SPEC layer into its gopacket layer,
// reading each field or its default; errors name the layer and the field.

func (c *compiled) eth(f *layerFields, next string) error {
	var err error
	if c.ethSrc, err = f.mac("src", defaultEthSrc); err != nil {
		return err
	}
	if c.ethDst, err = f.mac("dst", defaultEthDst); err != nil {
		return err
	}
	t, err := f.named("type", nextEtherType(next), 0xffff, etherTypeNames, "an EtherType")
	c.ethType = uint16(t)
	return err
}

func vlanLayer(f *layerFields, next string) (*layers.Dot1Q, error) {
	id, err := f.uint("id", 1, 4095)
	if err != nil {
		return nil, err
	}
	prio, err := f.uint("prio", 0, 7)
	if err != nil {
		return nil, err
	}
	t, err := f.named("type", nextEtherType(next), 0xffff, etherTypeNames, "an EtherType")
	if err != nil {
		return nil, err
	}
	return &layers.Dot1Q{VLANIdentifier: uint16(id), Priority: uint8(prio), Type: layers.EthernetType(t)}, nil
}

func arpLayer(f *layerFields, ethSrc net.HardwareAddr) (*layers.ARP, error) {
	op, err := f.named("op", 1, 0xffff, arpOpNames, "an ARP operation")
	if err != nil {
		return nil, err
	}
	sha, err := f.mac("sha", ethSrc)
	if err != nil {
		return nil, err
	}
	spa, err := f.ip("spa", defaultIPv4Src, parseIPv4)
	if err != nil {
		return nil, err
	}
	tha, err := f.mac("tha", net.HardwareAddr{0, 0, 0, 0, 0, 0})
	if err != nil {
		return nil, err
	}
	tpa, err := f.ip("tpa", defaultIPv4Dst, parseIPv4)
	if err != nil {
		return nil, err
	}
	return &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: uint16(op),
		SourceHwAddress: sha, SourceProtAddress: spa, DstHwAddress: tha, DstProtAddress: tpa,
	}, nil
}

func ipv4Layer(f *layerFields, next string) (*layers.IPv4, error) {
	ip := &layers.IPv4{Version: 4, IHL: 5}
	var err error
	if ip.SrcIP, err = f.ip("src", defaultIPv4Src, parseIPv4); err != nil {
		return nil, err
	}
	if ip.DstIP, err = f.ip("dst", defaultIPv4Dst, parseIPv4); err != nil {
		return nil, err
	}
	ttl, err := f.uint("ttl", 64, 255)
	if err != nil {
		return nil, err
	}
	tos, err := f.uint("tos", 0, 255)
	if err != nil {
		return nil, err
	}
	id, err := f.uint("id", 0, 0xffff)
	if err != nil {
		return nil, err
	}
	df, err := f.bool("df")
	if err != nil {
		return nil, err
	}
	proto, err := f.named("proto", nextIPProto(next, false), 255, ipProtoNames, "an IP protocol")
	if err != nil {
		return nil, err
	}
	ip.TTL, ip.TOS, ip.Id, ip.Protocol = uint8(ttl), uint8(tos), uint16(id), layers.IPProtocol(proto)
	if df {
		ip.Flags = layers.IPv4DontFragment
	}
	return ip, nil
}

func ipv6Layer(f *layerFields, next string) (*layers.IPv6, error) {
	ip := &layers.IPv6{Version: 6}
	var err error
	if ip.SrcIP, err = f.ip("src", defaultIPv6Src, parseIPv6); err != nil {
		return nil, err
	}
	if ip.DstIP, err = f.ip("dst", defaultIPv6Dst, parseIPv6); err != nil {
		return nil, err
	}
	hlim, err := f.uint("hlim", 64, 255)
	if err != nil {
		return nil, err
	}
	tc, err := f.uint("tc", 0, 255)
	if err != nil {
		return nil, err
	}
	flow, err := f.uint("flow", 0, 0xfffff)
	if err != nil {
		return nil, err
	}
	nh, err := f.named("nh", nextIPProto(next, true), 255, ipProtoNames, "an IP protocol")
	if err != nil {
		return nil, err
	}
	ip.HopLimit, ip.TrafficClass, ip.FlowLabel, ip.NextHeader = uint8(hlim), uint8(tc), uint32(flow), layers.IPProtocol(nh)
	return ip, nil
}

// ports reads sport and dport.
func ports(f *layerFields, defSport, defDport uint64) (uint16, uint16, error) {
	sport, err := f.uint("sport", defSport, 0xffff)
	if err != nil {
		return 0, 0, err
	}
	dport, err := f.uint("dport", defDport, 0xffff)
	if err != nil {
		return 0, 0, err
	}
	return uint16(sport), uint16(dport), nil
}

func udpLayer(f *layerFields, ip gopacket.NetworkLayer) (*layers.UDP, error) {
	sport, dport, err := ports(f, 1234, 5678)
	if err != nil {
		return nil, err
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, f.errorf("%v", err)
	}
	return udp, nil
}

func tcpLayer(f *layerFields, ip gopacket.NetworkLayer) (*layers.TCP, error) {
	sport, dport, err := ports(f, 1234, 80)
	if err != nil {
		return nil, err
	}
	flags := uint8(1 << 1) // S
	if v, ok := f.value("flags"); ok {
		if flags, err = parseTCPFlags(v); err != nil {
			return nil, f.fieldError("flags", err)
		}
	}
	seq, err := f.uint("seq", 0, 0xffffffff)
	if err != nil {
		return nil, err
	}
	ack, err := f.uint("ack", 0, 0xffffffff)
	if err != nil {
		return nil, err
	}
	win, err := f.uint("win", 65535, 0xffff)
	if err != nil {
		return nil, err
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport),
		Seq: uint32(seq), Ack: uint32(ack), Window: uint16(win), DataOffset: 5,
		FIN: flags&(1<<0) != 0, SYN: flags&(1<<1) != 0, RST: flags&(1<<2) != 0, PSH: flags&(1<<3) != 0,
		ACK: flags&(1<<4) != 0, URG: flags&(1<<5) != 0, ECE: flags&(1<<6) != 0, CWR: flags&(1<<7) != 0,
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, f.errorf("%v", err)
	}
	return tcp, nil
}

// icmpFields reads type, code, id and seq of icmp or icmp6.
func icmpFields(f *layerFields, names []namedValue, what string) (typ, code uint8, id, seq uint16, err error) {
	t, err := f.named("type", nameValue(names, "echo-request"), 255, names, what)
	if err != nil {
		return
	}
	c, err := f.uint("code", 0, 255)
	if err != nil {
		return
	}
	i, err := f.uint("id", 0, 0xffff)
	if err != nil {
		return
	}
	s, err := f.uint("seq", 0, 0xffff)
	if err != nil {
		return
	}
	return uint8(t), uint8(c), uint16(i), uint16(s), nil
}

func nameValue(names []namedValue, name string) uint64 {
	for _, nv := range names {
		if nv.name == name {
			return nv.value
		}
	}
	return 0
}

func icmpLayer(f *layerFields) (*layers.ICMPv4, error) {
	typ, code, id, seq, err := icmpFields(f, icmpTypeNames, "an ICMP type")
	if err != nil {
		return nil, err
	}
	return &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: id, Seq: seq}, nil
}

// icmp6Layers returns the ICMPv6 header and the 4 bytes after its checksum,
// the identifier and sequence number of an echo (and, for other types,
// whatever those 4 bytes hold, usually reserved zeros).
func icmp6Layers(f *layerFields, ip gopacket.NetworkLayer) ([]gopacket.SerializableLayer, error) {
	typ, code, id, seq, err := icmpFields(f, icmp6TypeNames, "an ICMPv6 type")
	if err != nil {
		return nil, err
	}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, f.errorf("%v", err)
	}
	return []gopacket.SerializableLayer{icmp, &layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}}, nil
}

func payloadLayer(f *layerFields) (gopacket.Payload, error) {
	if len(f.m) > 1 {
		return nil, f.errorf("give one of len, hex or text, not %d of them", len(f.m))
	}
	if v, ok := f.value("len"); ok {
		n, err := parseUint(v, MaxFrameLen)
		if err != nil {
			return nil, f.errorf("len %v (a frame is at most %d bytes)", err, MaxFrameLen)
		}
		p := make(gopacket.Payload, n)
		for i := range p {
			p[i] = byte(i)
		}
		return p, nil
	}
	if v, ok := f.value("hex"); ok {
		b, err := decodeHex(v)
		if err != nil {
			return nil, f.errorf("hex %q: %v", v, err)
		}
		return b, nil
	}
	if v, ok := f.value("text"); ok {
		return gopacket.Payload(v), nil
	}
	return gopacket.Payload{}, nil
}
