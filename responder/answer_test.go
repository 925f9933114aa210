package responder_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/xdpkit/xdpkit/responder"
)

// request is a valid request, the reply gopacket builds for it (nil when
// checked by verifyReply alone) and the room the reply needs beyond it.
type request struct {
	name  string
	frame []byte
	want  []byte
	kind  responder.Kind
	slack int
}

// requests returns valid requests of every kind.
func requests(tb testing.TB) []request {
	snm6, snmMAC6 := solicitedNode(own6)
	snmLL, snmMACLL := solicitedNode(ownLL)
	rr := []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0} // record route, 2 slots
	var out []request
	for _, vlan := range []bool{false, true} {
		tag := ""
		if vlan {
			tag = "/vlan"
		}
		add := func(name string, frame, want []byte, k responder.Kind, slack int) {
			out = append(out, request{name + tag, frame, want, k, slack})
		}
		for _, a := range []arpReq{
			{eth: eth{vlan: vlan, pad: 18 - 4*b2i(vlan)}, spa: peer4, tpa: own4},
			{eth: eth{vlan: vlan}, spa: peer4, tpa: own4b},
			{eth: eth{vlan: vlan, dmac: ownMAC}, spa: peer4, tpa: own4},                            // unicast refresh
			{eth: eth{vlan: vlan}, spa: netip.IPv4Unspecified(), tpa: own4},                        // RFC 5227 probe
			{eth: eth{vlan: vlan}, sha: net.HardwareAddr{2, 9, 9, 9, 9, 9}, spa: peer4, tpa: own4}, // proxy
		} {
			f := a.frame(tb)
			add(fmt.Sprintf("arp/%v->%v/%d", a.spa, a.tpa, len(f)), f, nil, responder.ARPReply, 0)
		}
		for _, e := range []echo4{
			{eth: eth{vlan: vlan}, src: peer4, dst: own4, id: 1, seq: 1, data: payload(56)},
			{eth: eth{vlan: vlan}, src: peer4, dst: own4b, id: 0xbeef, seq: 0xffff, data: payload(57)},
			{eth: eth{vlan: vlan}, src: peer4, dst: own4, data: payload(1)},
			{eth: eth{vlan: vlan}, src: peer4, dst: own4, data: payload(1473)},
			{eth: eth{vlan: vlan, pad: 18}, src: peer4, dst: own4, data: nil},        // Ethernet padding
			{eth: eth{vlan: vlan, pad: 15}, src: peer4, dst: own4, data: payload(3)}, // odd padding
			{eth: eth{vlan: vlan}, src: peer4, dst: own4, flags: layers.IPv4DontFragment, tos: 0xb8, data: payload(9)},
			{eth: eth{vlan: vlan}, src: peer4, dst: own4, data: payload(31), options: []layers.IPv4Option{
				{OptionType: 1}, {OptionType: 7, OptionLength: 11, OptionData: rr[2:]}}},
			{eth: eth{vlan: vlan, pad: 6}, src: peer4, dst: own4, data: payload(2), options: []layers.IPv4Option{
				{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}}, // router alert
			{eth: eth{vlan: vlan}, src: peer4, dst: own4, ttl: 1, data: make([]byte, 8)},
			{eth: eth{vlan: vlan}, src: peer4, dst: own4, data: payload(5), options: []layers.IPv4Option{
				{OptionType: 1}, {OptionType: 0}}}, // NOP, End of Option List, padding
		} {
			f := e.frame(tb)
			add(fmt.Sprintf("echo4/%d+%dopt/pad%d", len(e.data), len(e.options), e.pad), f, e.reply(tb), responder.EchoReplyV4, 0)
		}
		for _, e := range []echo6{
			{eth: eth{vlan: vlan}, ip6: ip6{src: peer6, dst: own6}, id: 7, seq: 8, data: payload(56)},
			{eth: eth{vlan: vlan}, ip6: ip6{src: peerLL, dst: ownLL, tc: 0x2e, flow: 0xabcde, hop: 1}, data: payload(57)},
			{eth: eth{vlan: vlan, pad: 9}, ip6: ip6{src: peer6, dst: own6}, data: payload(0)},
			{eth: eth{vlan: vlan}, ip6: ip6{src: peer6, dst: own6}, data: payload(1)},
			{eth: eth{vlan: vlan}, ip6: ip6{src: peer6, dst: own6}, data: payload(1453)},
		} {
			f := e.frame(tb)
			add(fmt.Sprintf("echo6/%v/%d/pad%d", e.src, len(e.data), e.pad), f, e.reply(tb), responder.EchoReplyV6, 0)
		}
		for _, s := range []struct {
			name string
			ns
			slack int
		}{
			{"multicast/sllao", ns{eth: eth{vlan: vlan, dmac: snmMAC6}, ip6: ip6{src: peer6, dst: snm6}, target: own6, sllao: true}, 0},
			{"multicast/no-sllao", ns{eth: eth{vlan: vlan, dmac: snmMAC6}, ip6: ip6{src: peer6, dst: snm6}, target: own6}, 8},
			{"multicast/link-local", ns{eth: eth{vlan: vlan, dmac: snmMACLL}, ip6: ip6{src: peerLL, dst: snmLL}, target: ownLL, sllao: true}, 0},
			{"multicast/own-mac", ns{eth: eth{vlan: vlan}, ip6: ip6{src: peer6, dst: snm6}, target: own6, sllao: true}, 0},
			{"unicast/sllao", ns{eth: eth{vlan: vlan}, ip6: ip6{src: peer6, dst: own6}, target: own6, sllao: true}, 0},
			{"unicast/no-sllao", ns{eth: eth{vlan: vlan}, ip6: ip6{src: peerLL, dst: ownLL}, target: ownLL}, 8},
			{"unicast/other-own-addr", ns{eth: eth{vlan: vlan}, ip6: ip6{src: peer6, dst: own6}, target: ownLL}, 8},
			{"unicast/padded", ns{eth: eth{vlan: vlan, pad: 8}, ip6: ip6{src: peer6, dst: own6}, target: own6}, 0},
			{"dad", ns{eth: eth{vlan: vlan, dmac: snmMAC6}, ip6: ip6{src: unspec, dst: snm6}, target: own6}, 8},
			{"dad/nonce", ns{eth: eth{vlan: vlan, dmac: snmMACLL}, ip6: ip6{src: unspec, dst: snmLL}, target: ownLL,
				extra: layers.ICMPv6Options{{Type: 14, Data: []byte{1, 2, 3, 4, 5, 6}}}}, 0}, // RFC 7527 nonce
			{"sllao+mtu", ns{eth: eth{vlan: vlan, dmac: snmMAC6}, ip6: ip6{src: peer6, dst: snm6}, target: own6, sllao: true,
				extra: layers.ICMPv6Options{{Type: 5, Data: []byte{0, 0, 0, 0, 5, 0xdc}}, {Type: 200, Data: make([]byte, 14)}}}, 0},
		} {
			add("ns/"+s.name, s.frame(tb), s.reply(tb), responder.NeighborAdvertisement, s.slack)
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestAnswer(t *testing.T) {
	r := newResponder(t, testConfig())
	for _, q := range requests(t) {
		t.Run(q.name, func(t *testing.T) {
			for _, extra := range []int{q.slack, q.slack + 100} {
				buf := append(bytes.Clone(q.frame), bytes.Repeat([]byte{0xa5}, extra)...)
				n, k := r.Answer(buf, len(q.frame))
				if k != q.kind || n <= 0 || n > len(buf) {
					t.Fatalf("Answer = (%d, %v), want kind %v", n, k, q.kind)
				}
				reply := buf[:n]
				verifyReply(t, q.frame, reply, k)
				if q.want != nil && !bytes.Equal(reply, q.want) {
					t.Errorf("reply\n% x\nwant (gopacket)\n% x", reply, q.want)
				}
				if end := max(n, len(q.frame)); !bytes.Equal(buf[end:], bytes.Repeat([]byte{0xa5}, len(buf)-end)) {
					t.Errorf("Answer wrote past the reply: % x", buf[end:])
				}
				// A reply is never a request.
				if n2, k2 := r.Answer(bytes.Clone(buf), n); k2 != responder.None || n2 != 0 {
					t.Errorf("the reply is answered too: (%d, %v)", n2, k2)
				}
			}
		})
	}
}

// TestAnswerNoRoom: a neighbour advertisement that does not fit in buf is
// not made, and buf is untouched.
func TestAnswerNoRoom(t *testing.T) {
	r := newResponder(t, testConfig())
	for _, q := range requests(t) {
		if q.slack == 0 {
			continue
		}
		for extra := range q.slack {
			buf := append(bytes.Clone(q.frame), make([]byte, extra)...)
			orig := bytes.Clone(buf)
			if n, k := r.Answer(buf, len(q.frame)); k != responder.None || n != 0 || !bytes.Equal(buf, orig) {
				t.Errorf("%s with %d bytes of room: (%d, %v), buf changed %v", q.name, extra, n, k, !bytes.Equal(buf, orig))
			}
		}
	}
}

// TestAnswerBadN: n out of range answers nothing.
func TestAnswerBadN(t *testing.T) {
	r := newResponder(t, testConfig())
	f := echo4{src: peer4, dst: own4, data: payload(8)}.frame(t)
	for _, n := range []int{-1, len(f) + 1, 0, 13} {
		buf := bytes.Clone(f)
		if m, k := r.Answer(buf, n); m != 0 || k != responder.None || !bytes.Equal(buf, f) {
			t.Errorf("n=%d: (%d, %v)", n, m, k)
		}
	}
	if m, k := r.Answer(nil, 0); m != 0 || k != responder.None {
		t.Errorf("nil buf: (%d, %v)", m, k)
	}
	var nilR *responder.Responder
	if m, k := nilR.Answer(bytes.Clone(f), len(f)); m != 0 || k != responder.None {
		t.Errorf("nil Responder: (%d, %v)", m, k)
	}
}

// rejected is a frame the responder must not answer, and why.
type rejected struct {
	name  string
	frame []byte
	r     *responder.Responder // default the test config's
}

func rejections(tb testing.TB) []rejected {
	v6only := newResponder(tb, responder.Config{MAC: ownMAC, Addrs: []netip.Addr{own6}})
	v4only := newResponder(tb, responder.Config{MAC: ownMAC, Addrs: []netip.Addr{own4}})
	snm6, snmMAC6 := solicitedNode(own6)
	snmOther, snmMACOther := solicitedNode(netip.MustParseAddr("2001:db8::abcd:ef01"))
	other := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x77}

	arp := arpReq{spa: peer4, tpa: own4}.frame(tb)
	e4 := echo4{src: peer4, dst: own4, id: 1, seq: 2, data: payload(40)}
	echo4f := e4.frame(tb)
	e6 := echo6{ip6: ip6{src: peer6, dst: own6}, id: 1, seq: 2, data: payload(40)}
	echo6f := e6.frame(tb)
	nsm := ns{eth: eth{dmac: snmMAC6}, ip6: ip6{src: peer6, dst: snm6}, target: own6, sllao: true}
	nsf := nsm.frame(tb)
	dad := ns{eth: eth{dmac: snmMAC6}, ip6: ip6{src: unspec, dst: snm6}, target: own6}

	const nsOpt = 40 + 24 // the first NS option, from the start of the IPv6 header
	var out []rejected
	add := func(name string, f []byte) { out = append(out, rejected{name: name, frame: f}) }
	addR := func(name string, f []byte, r *responder.Responder) { out = append(out, rejected{name, f, r}) }

	// Ethernet.
	add("eth/runt", arp[:13])
	add("eth/vlan-runt", (arpReq{eth: eth{vlan: true}, spa: peer4, tpa: own4}).frame(tb)[:17])
	add("eth/multicast-src", arpReq{eth: eth{smac: net.HardwareAddr{1, 0, 0x5e, 0, 0, 1}}, spa: peer4, tpa: own4}.frame(tb))
	add("eth/broadcast-src", arpReq{eth: eth{smac: bcast}, spa: peer4, tpa: own4}.frame(tb))
	add("eth/qinq", mod(arp, func(f, _ []byte) { binary.BigEndian.PutUint16(f[12:], 0x88a8) }))
	add("eth/double-tag", append(append(bytes.Clone(arp[:12]), 0x81, 0, 0, 1, 0x81, 0, 0, 2), arp[12:]...))
	add("eth/ipx", mod(arp, func(f, _ []byte) { binary.BigEndian.PutUint16(f[12:], 0x8137) }))

	// ARP.
	add("arp/other-dst-mac", arpReq{eth: eth{dmac: other}, spa: peer4, tpa: own4}.frame(tb))
	add("arp/not-ours", arpReq{spa: peer4, tpa: other4}.frame(tb))
	add("arp/gratuitous", arpReq{spa: own4, tpa: own4}.frame(tb))
	add("arp/gratuitous-peer", arpReq{spa: peer4, tpa: peer4}.frame(tb))
	add("arp/reply", arpReq{op: layers.ARPReply, spa: peer4, tpa: own4}.frame(tb))
	add("arp/rarp-op", mod(arp, func(_, p []byte) { p[7] = 3 }))
	add("arp/htype", mod(arp, func(_, p []byte) { p[1] = 6 }))
	add("arp/ptype", mod(arp, func(_, p []byte) { p[2], p[3] = 0x86, 0xdd }))
	add("arp/hlen", mod(arp, func(_, p []byte) { p[4] = 8 }))
	add("arp/plen", mod(arp, func(_, p []byte) { p[5] = 16 }))
	add("arp/truncated", arp[:14+27])
	add("arp/multicast-sender-ip", arpReq{spa: netip.MustParseAddr("224.0.0.251"), tpa: own4}.frame(tb))
	add("arp/broadcast-sender-ip", arpReq{spa: netip.MustParseAddr("255.255.255.255"), tpa: own4}.frame(tb))
	add("arp/multicast-sha", arpReq{sha: net.HardwareAddr{1, 2, 3, 4, 5, 6}, spa: peer4, tpa: own4}.frame(tb))
	addR("arp/v6-only", arp, v6only)

	// ICMPv4 echo.
	add("echo4/broadcast-mac", echo4{eth: eth{dmac: bcast}, src: peer4, dst: own4, data: payload(8)}.frame(tb))
	add("echo4/other-mac", echo4{eth: eth{dmac: other}, src: peer4, dst: own4, data: payload(8)}.frame(tb))
	add("echo4/not-ours", echo4{src: peer4, dst: other4, data: payload(8)}.frame(tb))
	add("echo4/directed-broadcast", echo4{src: peer4, dst: netip.MustParseAddr("192.0.2.255"), data: payload(8)}.frame(tb))
	add("echo4/multicast", echo4{eth: eth{dmac: net.HardwareAddr{1, 0, 0x5e, 0, 0, 1}}, src: peer4, dst: netip.MustParseAddr("224.0.0.1"), data: payload(8)}.frame(tb))
	add("echo4/multicast-src", echo4{src: netip.MustParseAddr("239.1.1.1"), dst: own4, data: payload(8)}.frame(tb))
	add("echo4/broadcast-src", echo4{src: netip.MustParseAddr("255.255.255.255"), dst: own4, data: payload(8)}.frame(tb))
	add("echo4/unspecified-src", echo4{src: netip.IPv4Unspecified(), dst: own4, data: payload(8)}.frame(tb))
	add("echo4/echo-reply", fix4(mod(echo4f, func(_, ip []byte) { ip[20] = layers.ICMPv4TypeEchoReply })))
	add("echo4/timestamp", echo4{src: peer4, dst: own4, typ: layers.ICMPv4TypeTimestampRequest, data: payload(12)}.frame(tb))
	add("echo4/code-1", fix4(mod(echo4f, func(_, ip []byte) { ip[21] = 1 })))
	add("echo4/bad-ip-checksum", mod(echo4f, func(_, ip []byte) { ip[10] ^= 1 }))
	add("echo4/bad-icmp-checksum", mod(echo4f, func(_, ip []byte) { ip[22] ^= 0x80 }))
	add("echo4/zero-icmp-checksum", mod(echo4f, func(_, ip []byte) { ip[22], ip[23] = 0, 0 }))
	add("echo4/payload-changed", mod(echo4f, func(_, ip []byte) { ip[40]++ }))
	add("echo4/more-fragments", echo4{src: peer4, dst: own4, flags: layers.IPv4MoreFragments, data: payload(8)}.frame(tb))
	add("echo4/fragment-offset", fix4(mod(echo4f, func(_, ip []byte) { ip[7] = 1 })))
	add("echo4/version-6", fix4(mod(echo4f, func(_, ip []byte) { ip[0] = 0x65 })))
	add("echo4/ihl-4", fix4(mod(echo4f, func(_, ip []byte) { ip[0] = 0x44 })))
	add("echo4/ihl-past-total", fix4(mod(echo4f, func(_, ip []byte) { ip[0] = 0x4f; binary.BigEndian.PutUint16(ip[2:], 56) })))
	add("echo4/total-past-frame", fix4(mod(echo4f, func(_, ip []byte) { binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)+1)) })))
	add("echo4/total-below-icmp", fix4(mod(echo4f, func(_, ip []byte) { binary.BigEndian.PutUint16(ip[2:], 27) })))
	add("echo4/truncated", echo4f[:14+40])
	add("echo4/ip-runt", echo4f[:14+19])
	add("echo4/udp", fix4(mod(echo4f, func(_, ip []byte) { ip[9] = 17 })))
	add("echo4/tcp", fix4(mod(echo4f, func(_, ip []byte) { ip[9] = 6 })))
	add("echo4/bad-option-length", echo4{src: peer4, dst: own4, data: payload(8), options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1}}}.frame(tb))
	out[len(out)-1].frame = fix4(mod(out[len(out)-1].frame, func(_, ip []byte) { ip[20], ip[21] = 7, 1 }))
	add("echo4/option-past-header", fix4(mod(echo4{src: peer4, dst: own4, data: payload(8), options: []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}}.frame(tb),
		func(_, ip []byte) { ip[21] = 5 })))
	addR("echo4/v6-only", echo4f, v6only)

	// ICMPv6 echo.
	add("echo6/all-nodes", echo6{eth: eth{dmac: allNodesMAC}, ip6: ip6{src: peer6, dst: allNodes}, data: payload(8)}.frame(tb))
	add("echo6/all-nodes-own-mac", echo6{ip6: ip6{src: peer6, dst: allNodes}, data: payload(8)}.frame(tb))
	add("echo6/solicited-node", echo6{eth: eth{dmac: snmMAC6}, ip6: ip6{src: peer6, dst: snm6}, data: payload(8)}.frame(tb))
	add("echo6/not-ours", echo6{ip6: ip6{src: peer6, dst: other6}, data: payload(8)}.frame(tb))
	add("echo6/other-mac", echo6{eth: eth{dmac: other}, ip6: ip6{src: peer6, dst: own6}, data: payload(8)}.frame(tb))
	add("echo6/unspecified-src", echo6{ip6: ip6{src: unspec, dst: own6}, data: payload(8)}.frame(tb))
	add("echo6/multicast-src", echo6{ip6: ip6{src: allNodes, dst: own6}, data: payload(8)}.frame(tb))
	add("echo6/echo-reply", echo6{ip6: ip6{src: peer6, dst: own6}, typ: layers.ICMPv6TypeEchoReply, data: payload(8)}.frame(tb))
	add("echo6/code-1", fix6(mod(echo6f, func(_, ip []byte) { ip[41] = 1 })))
	add("echo6/bad-checksum", mod(echo6f, func(_, ip []byte) { ip[42] ^= 1 }))
	add("echo6/src-changed", mod(echo6f, func(_, ip []byte) { ip[23] ^= 1 }))
	add("echo6/version-4", mod(echo6f, func(_, ip []byte) { ip[0] = 0x40 }))
	add("echo6/payload-past-frame", mod(echo6f, func(_, ip []byte) { binary.BigEndian.PutUint16(ip[4:], uint16(len(ip)-40+1)) }))
	add("echo6/payload-below-8", fix6(mod(echo6f, func(_, ip []byte) { binary.BigEndian.PutUint16(ip[4:], 7) })))
	add("echo6/truncated", echo6f[:14+39])
	add("echo6/hop-by-hop", func() []byte {
		// next header 0, an 8-byte hop-by-hop header (PadN) then ICMPv6
		f := bytes.Clone(echo6f)
		ip := f[14:]
		hbh := []byte{58, 0, 1, 4, 0, 0, 0, 0}
		out := append(append(append([]byte{}, f[:14+40]...), hbh...), ip[40:]...)
		out[14+6] = 0
		binary.BigEndian.PutUint16(out[14+4:], uint16(len(ip)-40+8))
		return out
	}())
	add("echo6/udp", mod(echo6f, func(_, ip []byte) { ip[6] = 17 }))
	add("echo6/mld-report", fix6(mod(echo6f, func(_, ip []byte) { ip[40] = 143 })))
	add("echo6/router-solicitation", fix6(mod(echo6f, func(_, ip []byte) { ip[40] = 133 })))
	add("echo6/na", fix6(mod(nsf, func(_, ip []byte) { ip[40] = 136 })))
	addR("echo6/v4-only", echo6f, v4only)

	// Neighbour solicitation.
	add("ns/hop-limit-254", mod(nsf, func(_, ip []byte) { ip[7] = 254 }))
	add("ns/code-1", fix6(mod(nsf, func(_, ip []byte) { ip[41] = 1 })))
	add("ns/bad-checksum", mod(nsf, func(_, ip []byte) { ip[43] ^= 1 }))
	add("ns/no-checksum", mod(nsf, func(_, ip []byte) { ip[42], ip[43] = 0, 0 }))
	add("ns/not-our-target", ns{eth: eth{dmac: snmMAC6}, ip6: ip6{src: peer6, dst: snm6}, target: other6, sllao: true}.frame(tb))
	add("ns/multicast-target", ns{eth: eth{dmac: allNodesMAC}, ip6: ip6{src: peer6, dst: allNodes}, target: allNodes, sllao: true}.frame(tb))
	add("ns/short", fix6(mod(nsf, func(_, ip []byte) { binary.BigEndian.PutUint16(ip[4:], 23) })))
	add("ns/option-length-0", fix6(mod(nsf, func(_, ip []byte) { ip[nsOpt+1] = 0 })))
	add("ns/option-past-message", fix6(mod(nsf, func(_, ip []byte) { ip[nsOpt+1] = 2 })))
	nsPadded := nsm
	nsPadded.pad = 8
	add("ns/option-runt", fix6(mod(nsPadded.frame(tb), func(_, ip []byte) { binary.BigEndian.PutUint16(ip[4:], 24+8+1) })))
	add("ns/dad-with-sllao", ns{eth: eth{dmac: snmMAC6}, ip6: ip6{src: unspec, dst: snm6}, target: own6, sllao: true}.frame(tb))
	add("ns/dad-unicast", ns{ip6: ip6{src: unspec, dst: own6}, target: own6}.frame(tb))
	add("ns/dad-all-nodes", ns{eth: eth{dmac: allNodesMAC}, ip6: ip6{src: unspec, dst: allNodes}, target: own6}.frame(tb))
	add("ns/other-solicited-node", ns{eth: eth{dmac: snmMACOther}, ip6: ip6{src: peer6, dst: snmOther}, target: own6, sllao: true}.frame(tb))
	add("ns/solicited-node-mac-mismatch", ns{eth: eth{dmac: snmMACOther}, ip6: ip6{src: peer6, dst: snm6}, target: own6, sllao: true}.frame(tb))
	add("ns/all-nodes-dst", ns{eth: eth{dmac: allNodesMAC}, ip6: ip6{src: peer6, dst: allNodes}, target: own6, sllao: true}.frame(tb))
	add("ns/unicast-other-mac", ns{eth: eth{dmac: other}, ip6: ip6{src: peer6, dst: own6}, target: own6, sllao: true}.frame(tb))
	add("ns/unicast-not-ours", ns{ip6: ip6{src: peer6, dst: other6}, target: own6, sllao: true}.frame(tb))
	add("ns/multicast-src", ns{eth: eth{dmac: snmMAC6}, ip6: ip6{src: allNodes, dst: snm6}, target: own6}.frame(tb))
	add("ns/no-room", dad.frame(tb))
	add("ns/truncated", nsf[:len(nsf)-1])
	addR("ns/v4-only", nsf, v4only)
	return out
}

func TestAnswerRejects(t *testing.T) {
	def := newResponder(t, testConfig())
	for _, c := range rejections(t) {
		t.Run(c.name, func(t *testing.T) {
			r := c.r
			if r == nil {
				r = def
			}
			for _, extra := range []int{0, 4} {
				buf := append(bytes.Clone(c.frame), make([]byte, extra)...)
				if n, k := r.Answer(buf, len(c.frame)); n != 0 || k != responder.None {
					t.Errorf("with %d bytes of room: Answer = (%d, %v), want (0, none)", extra, n, k)
				}
				if !bytes.Equal(buf[:len(c.frame)], c.frame) || !bytes.Equal(buf[len(c.frame):], make([]byte, extra)) {
					t.Errorf("with %d bytes of room: buf changed", extra)
				}
			}
		})
	}
}

// TestRejectionsBasesAnswered: the requests most rejections change one
// field of are answered, so each rejection is for its field.
func TestRejectionsBasesAnswered(t *testing.T) {
	r := newResponder(t, testConfig())
	snm6, snmMAC6 := solicitedNode(own6)
	for _, f := range [][]byte{
		arpReq{spa: peer4, tpa: own4}.frame(t),
		echo4{src: peer4, dst: own4, id: 1, seq: 2, data: payload(40)}.frame(t),
		echo6{ip6: ip6{src: peer6, dst: own6}, id: 1, seq: 2, data: payload(40)}.frame(t),
		ns{eth: eth{dmac: snmMAC6}, ip6: ip6{src: peer6, dst: snm6}, target: own6, sllao: true}.frame(t),
	} {
		if _, k := r.Answer(bytes.Clone(f), len(f)); k == responder.None {
			t.Errorf("base request not answered:\n% x", f)
		}
	}
}

// TestConcurrent runs Answer from several goroutines on one Responder.
func TestConcurrent(t *testing.T) {
	r := newResponder(t, testConfig())
	qs := requests(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				q := qs[(g+i)%len(qs)]
				buf := append(bytes.Clone(q.frame), make([]byte, q.slack)...)
				if _, k := r.Answer(buf, len(q.frame)); k != q.kind {
					t.Errorf("%s: kind %v, want %v", q.name, k, q.kind)
					return
				}
			}
		})
	}
	wg.Wait()
}
