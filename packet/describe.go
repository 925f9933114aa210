package packet

import (
	"fmt"
	"net"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Describe returns a one-line summary of an Ethernet frame, e.g.
//
//	eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 udp 1234 > 53 payload 64
//
// Layers use the SPEC names; TCP shows its flags (flags SA), ICMP its type
// and for echoes its id and seq, ARP who asks for what. Bytes after a
// header whose next protocol gopacket does not know show as "type 0x88b5
// payload 20" or "proto 253 payload 3"; bytes that fail to decode as
// "malformed ipv4 (12 bytes)"; a header promising more bytes than the frame
// has adds "(truncated)". A frame shorter than an Ethernet header is
// "short frame (N bytes)". Describe never panics, whatever the bytes.
func Describe(frame []byte) string {
	if len(frame) < EthernetHeaderLen {
		return fmt.Sprintf("short frame (%d bytes)", len(frame))
	}
	d := decodeFrame(frame)
	var parts []string
	for i, l := range d.layers {
		// gopacket decodes an ICMPv6 message's body (neighbor
		// solicitation, MLD report, ...) as a layer of its own, which the
		// icmp6 type already names.
		if i > 0 && d.layers[i-1].LayerType() == layers.LayerTypeICMPv6 && l.LayerType() != layers.LayerTypeICMPv6Echo {
			continue
		}
		parts = append(parts, describeLayer(l))
	}
	if len(d.tail) > 0 {
		parts = append(parts, describeTail(d))
	}
	if d.truncated {
		parts = append(parts, "(truncated)")
	}
	if len(parts) == 0 {
		return fmt.Sprintf("undecodable frame (%d bytes)", len(frame))
	}
	return strings.Join(parts, " ")
}

func describeLayer(l gopacket.Layer) string {
	switch l := l.(type) {
	case *layers.Ethernet:
		return fmt.Sprintf("eth %s > %s", l.SrcMAC, l.DstMAC)
	case *layers.Dot1Q:
		if l.Priority != 0 {
			return fmt.Sprintf("vlan %d prio %d", l.VLANIdentifier, l.Priority)
		}
		return fmt.Sprintf("vlan %d", l.VLANIdentifier)
	case *layers.ARP:
		spa, tpa := net.IP(l.SourceProtAddress), net.IP(l.DstProtAddress)
		switch l.Operation {
		case 1:
			return fmt.Sprintf("arp request who-has %s tell %s", tpa, spa)
		case 2:
			return fmt.Sprintf("arp reply %s is-at %s", spa, net.HardwareAddr(l.SourceHwAddress))
		}
		return fmt.Sprintf("arp op %d %s > %s", l.Operation, spa, tpa)
	case *layers.IPv4:
		s := fmt.Sprintf("ipv4 %s > %s", l.SrcIP, l.DstIP)
		if l.FragOffset != 0 || l.Flags&layers.IPv4MoreFragments != 0 {
			s += fmt.Sprintf(" frag offset %d", int(l.FragOffset)*8)
		}
		return s
	case *layers.IPv6:
		return fmt.Sprintf("ipv6 %s > %s", l.SrcIP, l.DstIP)
	case *layers.UDP:
		return fmt.Sprintf("udp %d > %d", l.SrcPort, l.DstPort)
	case *layers.TCP:
		return fmt.Sprintf("tcp %d > %d flags %s", l.SrcPort, l.DstPort, tcpFlagString(tcpFlags(l)))
	case *layers.ICMPv4:
		typ, code := l.TypeCode.Type(), l.TypeCode.Code()
		s := "icmp " + icmpTypeName(icmpTypeNames, typ, code)
		if typ == 0 || typ == 8 {
			s += fmt.Sprintf(" id %d seq %d", l.Id, l.Seq)
		}
		return s
	case *layers.ICMPv6:
		return "icmp6 " + icmpTypeName(icmp6TypeNames, l.TypeCode.Type(), l.TypeCode.Code())
	case *layers.ICMPv6Echo:
		return fmt.Sprintf("id %d seq %d", l.Identifier, l.SeqNumber)
	}
	return layerName(l.LayerType())
}

// icmpTypeName is "echo-request", "dest-unreachable code 3" or
// "type 42 code 1".
func icmpTypeName(names []namedValue, typ, code uint8) string {
	s := nameOf(names, uint64(typ))
	if s == "" {
		s = fmt.Sprintf("type %d", typ)
	}
	if code != 0 {
		s += fmt.Sprintf(" code %d", code)
	}
	return s
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	for i, set := range []bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if set {
			f |= 1 << i
		}
	}
	return f
}

// describeTail describes the bytes after the decoded layers.
func describeTail(d decoded) string {
	if n := len(d.layers); n > 0 && d.failed == gopacket.LayerTypeZero {
		switch l := d.layers[n-1].(type) {
		case *layers.Ethernet:
			if !hasDecoder(l.EthernetType.LayerType()) {
				return fmt.Sprintf("type 0x%04x payload %d", uint16(l.EthernetType), len(d.tail))
			}
		case *layers.Dot1Q:
			if !hasDecoder(l.Type.LayerType()) {
				return fmt.Sprintf("type 0x%04x payload %d", uint16(l.Type), len(d.tail))
			}
		case *layers.IPv4:
			if !hasDecoder(l.Protocol.LayerType()) {
				return fmt.Sprintf("proto %d payload %d", uint8(l.Protocol), len(d.tail))
			}
		case *layers.IPv6:
			if !hasDecoder(l.NextHeader.LayerType()) {
				return fmt.Sprintf("nh %d payload %d", uint8(l.NextHeader), len(d.tail))
			}
		}
	}
	switch {
	case d.failed != gopacket.LayerTypeZero:
		return fmt.Sprintf("malformed %s (%d bytes)", layerName(d.failed), len(d.tail))
	case d.undecodable:
		return fmt.Sprintf("malformed (%d bytes)", len(d.tail))
	}
	return fmt.Sprintf("payload %d", len(d.tail))
}
