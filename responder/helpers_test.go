package responder_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/xdpkit/xdpkit/responder"
)

// The requests below are built with gopacket; the replies are checked
// against replies gopacket builds (bytes compared) and against checksums
// computed here with onesSum, independently of gopacket and of the
// package.

var (
	ownMAC  = net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x00, 0x01}
	peerMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x00, 0x02}
	bcast   = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

	own4   = netip.MustParseAddr("192.0.2.1")
	own4b  = netip.MustParseAddr("198.51.100.7")
	own6   = netip.MustParseAddr("2001:db8::1")
	ownLL  = netip.MustParseAddr("fe80::1:2:3")
	peer4  = netip.MustParseAddr("192.0.2.2")
	peer6  = netip.MustParseAddr("2001:db8::2")
	peerLL = netip.MustParseAddr("fe80::2")
	other4 = netip.MustParseAddr("192.0.2.99")
	other6 = netip.MustParseAddr("2001:db8::99")
	unspec = netip.IPv6Unspecified()

	allNodes    = netip.MustParseAddr("ff02::1")
	allNodesMAC = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}
)

func testConfig() responder.Config {
	return responder.Config{MAC: ownMAC, Addrs: []netip.Addr{own4, own6, own4b, ownLL}}
}

func newResponder(tb testing.TB, cfg responder.Config) *responder.Responder {
	tb.Helper()
	r, err := responder.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// onesSum is the Internet checksum (RFC 1071) of the concatenated parts:
// 0 when the parts hold a valid checksum.
func onesSum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	var s uint32
	for i := 0; i+1 < len(all); i += 2 {
		s += uint32(all[i])<<8 | uint32(all[i+1])
	}
	if len(all)%2 == 1 {
		s += uint32(all[len(all)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// pseudo6 is the IPv6 pseudo-header of an ICMPv6 message of length n.
func pseudo6(src, dst []byte, n int) []byte {
	p := append(append([]byte{}, src...), dst...)
	p = binary.BigEndian.AppendUint32(p, uint32(n))
	return append(p, 0, 0, 0, 58)
}

// checksumField is the checksum msg should carry at off: the sum of the
// parts and of msg with that field zero.
func checksumField(msg []byte, off int, pseudo []byte) uint16 {
	m := bytes.Clone(msg)
	m[off], m[off+1] = 0, 0
	return onesSum(pseudo, m)
}

// l2Len is the length of f's Ethernet header, VLAN tag included.
func l2Len(f []byte) int {
	if binary.BigEndian.Uint16(f[12:]) == 0x8100 {
		return 18
	}
	return 14
}

// eth describes the Ethernet header of a request.
type eth struct {
	dmac, smac net.HardwareAddr // default ownMAC, peerMAC
	vlan       bool             // one 802.1Q tag, VLAN 42 priority 5
	pad        int              // zero bytes appended after the frame, which gopacket pads to 60 bytes already
}

// serialize builds a frame: e's header for type et, then ls, with lengths
// and checksums computed.
func serialize(tb testing.TB, e eth, et layers.EthernetType, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	if e.dmac == nil {
		e.dmac = ownMAC
	}
	if e.smac == nil {
		e.smac = peerMAC
	}
	all := []gopacket.SerializableLayer{&layers.Ethernet{DstMAC: e.dmac, SrcMAC: e.smac, EthernetType: et}}
	if e.vlan {
		all[0].(*layers.Ethernet).EthernetType = layers.EthernetTypeDot1Q
		all = append(all, &layers.Dot1Q{Priority: 5, VLANIdentifier: 42, Type: et})
	}
	all = append(all, ls...)
	b := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...); err != nil {
		tb.Fatal(err)
	}
	return append(bytes.Clone(b.Bytes()), make([]byte, e.pad)...)
}

func payload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

// arpReq is an ARP request from (sha, spa) for tpa.
type arpReq struct {
	eth
	op       uint16 // default request
	sha      net.HardwareAddr
	spa, tpa netip.Addr
}

func (a arpReq) frame(tb testing.TB) []byte {
	if a.op == 0 {
		a.op = layers.ARPRequest
	}
	if a.sha == nil {
		a.sha = peerMAC
	}
	if a.dmac == nil {
		a.dmac = bcast
	}
	return serialize(tb, a.eth, layers.EthernetTypeARP, &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: a.op,
		SourceHwAddress: a.sha, SourceProtAddress: a.spa.AsSlice(),
		DstHwAddress: make([]byte, 6), DstProtAddress: a.tpa.AsSlice(),
	})
}

// echo4 is an ICMPv4 echo request (or, with typ, another ICMPv4 message).
type echo4 struct {
	eth
	src, dst netip.Addr
	options  []layers.IPv4Option
	tos, ttl uint8
	flags    layers.IPv4Flag
	typ      uint8 // default (0) echo request
	id, seq  uint16
	data     []byte
}

func (e echo4) ip() *layers.IPv4 {
	if e.ttl == 0 {
		e.ttl = 61
	}
	return &layers.IPv4{Version: 4, TOS: e.tos, Id: 0x1234, Flags: e.flags, TTL: e.ttl,
		Protocol: layers.IPProtocolICMPv4, SrcIP: e.src.AsSlice(), DstIP: e.dst.AsSlice(), Options: e.options}
}

func (e echo4) frame(tb testing.TB) []byte {
	typ := e.typ
	if typ == 0 {
		typ = layers.ICMPv4TypeEchoRequest
	}
	return serialize(tb, e.eth, layers.EthernetTypeIPv4, e.ip(),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: e.id, Seq: e.seq},
		gopacket.Payload(e.data))
}

// reply is the echo reply gopacket builds for e.
func (e echo4) reply(tb testing.TB) []byte {
	ip := e.ip()
	ip.SrcIP, ip.DstIP, ip.TTL = e.dst.AsSlice(), e.src.AsSlice(), 64
	re := eth{dmac: e.srcMAC(), smac: ownMAC, vlan: e.vlan}
	f := serialize(tb, re, layers.EthernetTypeIPv4, ip,
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: e.id, Seq: e.seq},
		gopacket.Payload(e.data))
	// gopacket pads a short frame to 60 bytes; the reply ends with the
	// IPv4 packet.
	return f[:l2Len(f)+int(binary.BigEndian.Uint16(f[l2Len(f)+2:]))]
}

func (e eth) srcMAC() net.HardwareAddr {
	if e.smac == nil {
		return peerMAC
	}
	return e.smac
}

// ip6 is the IPv6 header of a request.
type ip6 struct {
	src, dst netip.Addr
	hop      uint8 // default 64, or 255 for a solicitation
	tc       uint8
	flow     uint32
}

func (h ip6) layer(hop uint8) *layers.IPv6 {
	if h.hop != 0 {
		hop = h.hop
	}
	return &layers.IPv6{Version: 6, TrafficClass: h.tc, FlowLabel: h.flow, NextHeader: layers.IPProtocolICMPv6,
		HopLimit: hop, SrcIP: h.src.AsSlice(), DstIP: h.dst.AsSlice()}
}

// echo6 is an ICMPv6 echo request.
type echo6 struct {
	eth
	ip6
	typ     uint8 // default echo request
	id, seq uint16
	data    []byte
}

func (e echo6) frame(tb testing.TB) []byte {
	typ := e.typ
	if typ == 0 {
		typ = layers.ICMPv6TypeEchoRequest
	}
	ip := e.layer(64)
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	return serialize(tb, e.eth, layers.EthernetTypeIPv6, ip, icmp,
		&layers.ICMPv6Echo{Identifier: e.id, SeqNumber: e.seq}, gopacket.Payload(e.data))
}

func (e echo6) reply(tb testing.TB) []byte {
	ip := e.layer(64)
	ip.SrcIP, ip.DstIP, ip.HopLimit = e.dst.AsSlice(), e.src.AsSlice(), 64
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoReply, 0)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	return serialize(tb, eth{dmac: e.srcMAC(), smac: ownMAC, vlan: e.vlan}, layers.EthernetTypeIPv6, ip, icmp,
		&layers.ICMPv6Echo{Identifier: e.id, SeqNumber: e.seq}, gopacket.Payload(e.data))
}

// solicitedNode is the solicited-node multicast address of a and its MAC.
func solicitedNode(a netip.Addr) (netip.Addr, net.HardwareAddr) {
	b := a.As16()
	g := netip.AddrFrom16([16]byte{0xff, 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
	return g, net.HardwareAddr{0x33, 0x33, 0xff, b[13], b[14], b[15]}
}

// ns is a neighbour solicitation for target; with sllao it carries a
// source link-layer address option, extra options follow.
type ns struct {
	eth
	ip6
	target netip.Addr
	sllao  bool
	extra  layers.ICMPv6Options
}

func (s ns) frame(tb testing.TB) []byte {
	ip := s.layer(255)
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	var opts layers.ICMPv6Options
	if s.sllao {
		opts = append(opts, layers.ICMPv6Option{Type: layers.ICMPv6OptSourceAddress, Data: s.srcMAC()})
	}
	opts = append(opts, s.extra...)
	return serialize(tb, s.eth, layers.EthernetTypeIPv6, ip, icmp,
		&layers.ICMPv6NeighborSolicitation{TargetAddress: s.target.AsSlice(), Options: opts})
}

// reply is the neighbour advertisement gopacket builds for s.
func (s ns) reply(tb testing.TB) []byte {
	dst, mac, flags := s.src, s.srcMAC(), uint8(0x60)
	if s.src.IsUnspecified() {
		dst, mac, flags = allNodes, allNodesMAC, 0x20
	}
	ip := (ip6{src: s.target, dst: dst}).layer(255)
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	return serialize(tb, eth{dmac: mac, smac: ownMAC, vlan: s.vlan}, layers.EthernetTypeIPv6, ip, icmp,
		&layers.ICMPv6NeighborAdvertisement{Flags: flags, TargetAddress: s.target.AsSlice(),
			Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: ownMAC}}})
}

// fix4 recomputes the IPv4 header checksum of f and, for ICMP, the ICMP
// checksum, after a test changed a field.
func fix4(f []byte) []byte {
	ip := f[l2Len(f):]
	hl := int(ip[0]&0xf) * 4
	binary.BigEndian.PutUint16(ip[10:], checksumField(ip[:hl], 10, nil))
	tl := min(int(binary.BigEndian.Uint16(ip[2:])), len(ip))
	if ip[9] == 1 && tl >= hl+4 {
		binary.BigEndian.PutUint16(ip[hl+2:], checksumField(ip[hl:tl], 2, nil))
	}
	return f
}

// fix6 recomputes the ICMPv6 checksum of f after a test changed a field.
func fix6(f []byte) []byte {
	ip := f[l2Len(f):]
	n := min(int(binary.BigEndian.Uint16(ip[4:])), len(ip)-40)
	binary.BigEndian.PutUint16(ip[42:], checksumField(ip[40:40+n], 2, pseudo6(ip[8:24], ip[24:40], n)))
	return f
}

// mod returns a copy of f changed by fn.
func mod(f []byte, fn func(f []byte, l3 []byte)) []byte {
	c := bytes.Clone(f)
	fn(c, c[l2Len(c):])
	return c
}

// verifyReply checks that reply, of kind k, is a well-formed reply to req
// that decodes with gopacket, with every checksum right.
func verifyReply(tb testing.TB, req, reply []byte, k responder.Kind) {
	tb.Helper()
	p := gopacket.NewPacket(reply, layers.LayerTypeEthernet, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		tb.Fatalf("%v reply does not decode: %v\n%s", k, el.Error(), p.Dump())
	}
	e := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if !bytes.Equal(e.SrcMAC, ownMAC) {
		tb.Errorf("%v: source MAC %v, want %v", k, e.SrcMAC, ownMAC)
	}
	wantDst := net.HardwareAddr(req[6:12])
	l2 := l2Len(req)
	if k == responder.NeighborAdvertisement && bytes.Equal(req[l2+8:l2+24], make([]byte, 16)) {
		wantDst = allNodesMAC
	}
	if !bytes.Equal(e.DstMAC, wantDst) {
		tb.Errorf("%v: destination MAC %v, want %v", k, e.DstMAC, wantDst)
	}
	if l2Len(reply) != l2 || !bytes.Equal(reply[12:l2], req[12:l2]) {
		tb.Errorf("%v: VLAN tag or EtherType changed: % x, want % x", k, reply[12:l2Len(reply)], req[12:l2])
	}
	switch k {
	case responder.ARPReply:
		a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
		if !ok {
			tb.Fatalf("no ARP layer in\n%s", p.Dump())
		}
		q := req[l2:]
		if len(reply) != len(req) || a.Operation != layers.ARPReply ||
			!bytes.Equal(a.SourceHwAddress, ownMAC) || !bytes.Equal(a.SourceProtAddress, q[24:28]) ||
			!bytes.Equal(a.DstHwAddress, q[8:14]) || !bytes.Equal(a.DstProtAddress, q[14:18]) ||
			!bytes.Equal(reply[l2+28:], req[l2+28:]) {
			tb.Errorf("bad ARP reply to\n% x:\n% x", req, reply)
		}
	case responder.EchoReplyV4:
		ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		icmp, ok2 := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
		if !ok || !ok2 {
			tb.Fatalf("no IPv4/ICMPv4 layer in\n%s", p.Dump())
		}
		if len(reply) != l2+int(ip.Length) {
			tb.Errorf("reply is %d bytes, IPv4 total length %d", len(reply), ip.Length)
		}
		if ip.TTL != 64 || icmp.TypeCode != layers.CreateICMPv4TypeCode(0, 0) {
			tb.Errorf("TTL %d, type %v", ip.TTL, icmp.TypeCode)
		}
		q := req[l2:]
		if !bytes.Equal(ip.SrcIP, q[16:20]) || !bytes.Equal(ip.DstIP, q[12:16]) {
			tb.Errorf("addresses %v -> %v not swapped", ip.SrcIP, ip.DstIP)
		}
		if want := checksumField(ip.Contents, 10, nil); ip.Checksum != want {
			tb.Errorf("IPv4 header checksum %#04x, want %#04x", ip.Checksum, want)
		}
		msg := reply[l2+len(ip.Contents):]
		if want := checksumField(msg, 2, nil); icmp.Checksum != want {
			tb.Errorf("ICMPv4 checksum %#04x, want %#04x", icmp.Checksum, want)
		}
		if !bytes.Equal(msg[4:], q[len(ip.Contents)+4:len(ip.Contents)+len(msg)]) {
			tb.Error("ICMPv4 id, sequence or data changed")
		}
	case responder.EchoReplyV6, responder.NeighborAdvertisement:
		ip, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		icmp, ok2 := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
		if !ok || !ok2 {
			tb.Fatalf("no IPv6/ICMPv6 layer in\n%s", p.Dump())
		}
		if len(reply) != l2+40+int(ip.Length) || ip.NextHeader != layers.IPProtocolICMPv6 {
			tb.Errorf("reply is %d bytes, IPv6 payload length %d, next header %v", len(reply), ip.Length, ip.NextHeader)
		}
		msg := reply[l2+40:]
		if want := checksumField(msg, 2, pseudo6(ip.SrcIP, ip.DstIP, len(msg))); icmp.Checksum != want {
			tb.Errorf("ICMPv6 checksum %#04x, want %#04x", icmp.Checksum, want)
		}
		q := req[l2:]
		if k == responder.EchoReplyV6 {
			if ip.HopLimit != 64 || icmp.TypeCode != layers.CreateICMPv6TypeCode(129, 0) ||
				!bytes.Equal(ip.SrcIP, q[24:40]) || !bytes.Equal(ip.DstIP, q[8:24]) ||
				!bytes.Equal(msg[4:], q[44:40+len(msg)]) {
				tb.Errorf("bad echo reply to\n% x:\n% x", req, reply)
			}
			return
		}
		na, ok := p.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement)
		if !ok {
			tb.Fatalf("no neighbour advertisement in\n%s", p.Dump())
		}
		wantDst, wantFlags := q[8:24], uint8(0x60)
		if bytes.Equal(wantDst, make([]byte, 16)) {
			wantDst, wantFlags = allNodes.AsSlice(), 0x20
		}
		if ip.HopLimit != 255 || ip.Length != 32 || na.Flags != wantFlags ||
			!bytes.Equal(ip.SrcIP, q[48:64]) || !bytes.Equal(ip.DstIP, wantDst) ||
			!bytes.Equal(na.TargetAddress, q[48:64]) || len(na.Options) != 1 ||
			na.Options[0].Type != layers.ICMPv6OptTargetAddress || !bytes.Equal(na.Options[0].Data, ownMAC) {
			tb.Errorf("bad neighbour advertisement to\n% x:\n%s", req, p.Dump())
		}
	default:
		tb.Fatalf("kind %v", k)
	}
}
