package trafficgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	tmplSrcMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	tmplDstMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
)

// tmplOf returns a valid template of proto over IPv4 or IPv6.
func tmplOf(proto Proto, v6 bool, size int) Template {
	t := Template{
		Proto:  proto,
		SrcMAC: tmplSrcMAC, DstMAC: tmplDstMAC,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		SrcPort: 1234, DstPort: 5678,
		Size: size,
	}
	if v6 {
		t.Src, t.Dst = netip.MustParseAddr("fc00::1:a0b:c0d"), netip.MustParseAddr("fc00::2")
	}
	return t
}

// tmplHeaderLen is the headers' length of a template, counted here
// independently of template.go.
func tmplHeaderLen(proto Proto, v6 bool, vlan bool) int {
	n := 14
	if vlan {
		n += 4
	}
	if v6 {
		n += 40
	} else {
		n += 20
	}
	if proto == TCP {
		return n + 20
	}
	return n + 8
}

// tmplOnesSum adds b to sum as big-endian 16-bit words, the last odd byte
// padded with zero.
func tmplOnesSum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// tmplOnesFold folds sum into 16 bits.
func tmplOnesFold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// tmplCheckChecksums verifies the IPv4 header checksum and the transport
// checksum of a frame whose IP header is at l3, summing the bytes itself.
func tmplCheckChecksums(t *testing.T, frame []byte, l3 int, v6 bool) {
	t.Helper()
	var l4 int
	var proto byte
	var pseudo uint32
	if v6 {
		l4, proto = l3+40, frame[l3+6]
		pseudo = tmplOnesSum(0, frame[l3+8:l3+40])
	} else {
		ihl := int(frame[l3]&0x0f) * 4
		if got := tmplOnesFold(tmplOnesSum(0, frame[l3:l3+ihl])); got != 0xffff {
			t.Errorf("IPv4 header checksum %#04x is wrong: the header sums to %#04x", binary.BigEndian.Uint16(frame[l3+10:]), got)
		}
		l4, proto = l3+ihl, frame[l3+9]
		pseudo = tmplOnesSum(0, frame[l3+12:l3+20])
	}
	end := l3 + 40 + int(binary.BigEndian.Uint16(frame[l3+4:]))
	if !v6 {
		end = l3 + int(binary.BigEndian.Uint16(frame[l3+2:]))
	}
	seg := frame[l4:end] // not the Ethernet padding after it
	if proto != 1 {      // ICMPv4 has no pseudo-header
		pseudo += uint32(proto) + uint32(len(seg))
	} else {
		pseudo = 0
	}
	if proto == 17 && binary.BigEndian.Uint16(seg[6:]) == 0 {
		t.Errorf("UDP checksum is 0 (not computed)")
	}
	if got := tmplOnesFold(tmplOnesSum(pseudo, seg)); got != 0xffff {
		t.Errorf("protocol %d checksum %#04x is wrong: the segment sums to %#04x", proto, binary.BigEndian.Uint16(frame[l4+tmplChecksumAt(proto):]), got)
	}
}

func tmplChecksumAt(proto byte) int {
	switch proto {
	case 17:
		return 6
	case 6:
		return 16
	}
	return 2
}

func TestTemplateFrame(t *testing.T) {
	for _, proto := range []Proto{UDP, TCP, ICMP} {
		for _, v6 := range []bool{false, true} {
			for _, size := range []int{0, 60, 64, 128, 1514, 3408} {
				fam := "ipv4"
				if v6 {
					fam = "ipv6"
				}
				t.Run(fmt.Sprintf("%s/%s/%d", proto, fam, size), func(t *testing.T) {
					tmpl := tmplOf(proto, v6, size)
					hdr := tmplHeaderLen(proto, v6, false)
					frame, err := tmpl.Frame()
					if size != 0 && size < hdr {
						if !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("size %d: ", size)) {
							t.Fatalf("Frame() error = %v, want an os.ErrInvalid naming size %d", err, size)
						}
						return
					}
					if err != nil {
						t.Fatalf("Frame(): %v", err)
					}
					want := size
					if size == 0 {
						want = max(60, hdr)
					}
					if len(frame) != want {
						t.Fatalf("frame is %d bytes, want %d", len(frame), want)
					}
					checkTemplateFrame(t, tmpl, frame, 14)
				})
			}
		}
	}
}

// checkTemplateFrame decodes frame with gopacket and checks it against
// tmpl, whose IP header is at l3.
func checkTemplateFrame(t *testing.T, tmpl Template, frame []byte, l3 int) {
	t.Helper()
	v6 := tmpl.Src.Is6()
	pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatalf("gopacket cannot decode the frame: %v", el.Error())
	}
	eth := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if !bytes.Equal(eth.SrcMAC, tmpl.SrcMAC) || !bytes.Equal(eth.DstMAC, tmpl.DstMAC) {
		t.Errorf("MACs %s > %s, want %s > %s", eth.SrcMAC, eth.DstMAC, tmpl.SrcMAC, tmpl.DstMAC)
	}
	wantTTL := tmpl.TTL
	if wantTTL == 0 {
		wantTTL = 64
	}
	l3Len := len(frame) - l3 // IP header and all it carries
	if tmpl.Proto == TCP && len(tmpl.Payload) == 0 && len(frame) <= MinFrameLen {
		l3Len = tmpl.headerLen() - l3 // no data: Ethernet padding fills the frame
	}
	var l4Len int
	if v6 {
		ip, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		if !ok {
			t.Fatalf("no IPv6 layer in %v", pkt)
		}
		if a, _ := netip.AddrFromSlice(ip.SrcIP); a != tmpl.Src {
			t.Errorf("source %s, want %s", a, tmpl.Src)
		}
		if a, _ := netip.AddrFromSlice(ip.DstIP); a != tmpl.Dst {
			t.Errorf("destination %s, want %s", a, tmpl.Dst)
		}
		if ip.HopLimit != wantTTL {
			t.Errorf("hop limit %d, want %d", ip.HopLimit, wantTTL)
		}
		if int(ip.Length) != l3Len-40 {
			t.Errorf("IPv6 payload length %d, want %d", ip.Length, l3Len-40)
		}
		l4Len = l3Len - 40
	} else {
		ip, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if !ok {
			t.Fatalf("no IPv4 layer in %v", pkt)
		}
		if a, _ := netip.AddrFromSlice(ip.SrcIP.To4()); a != tmpl.Src {
			t.Errorf("source %s, want %s", a, tmpl.Src)
		}
		if a, _ := netip.AddrFromSlice(ip.DstIP.To4()); a != tmpl.Dst {
			t.Errorf("destination %s, want %s", a, tmpl.Dst)
		}
		if ip.TTL != wantTTL {
			t.Errorf("TTL %d, want %d", ip.TTL, wantTTL)
		}
		if int(ip.Length) != l3Len {
			t.Errorf("IPv4 total length %d, want %d", ip.Length, l3Len)
		}
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			t.Errorf("IPv4 packet is a fragment: flags %v offset %d", ip.Flags, ip.FragOffset)
		}
		l4Len = l3Len - 20
	}
	hdr := 8
	switch tmpl.Proto {
	case UDP:
		udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			t.Fatalf("no UDP layer in %v", pkt)
		}
		if uint16(udp.SrcPort) != tmpl.SrcPort || uint16(udp.DstPort) != tmpl.DstPort {
			t.Errorf("UDP ports %d > %d, want %d > %d", udp.SrcPort, udp.DstPort, tmpl.SrcPort, tmpl.DstPort)
		}
		if int(udp.Length) != l4Len {
			t.Errorf("UDP length %d, want %d", udp.Length, l4Len)
		}
	case TCP:
		tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			t.Fatalf("no TCP layer in %v", pkt)
		}
		hdr = 20
		if uint16(tcp.SrcPort) != tmpl.SrcPort || uint16(tcp.DstPort) != tmpl.DstPort {
			t.Errorf("TCP ports %d > %d, want %d > %d", tcp.SrcPort, tcp.DstPort, tmpl.SrcPort, tmpl.DstPort)
		}
		if tmpl.TCPFlags == "" && (!tcp.SYN || tcp.ACK || tcp.RST || tcp.FIN || tcp.PSH) {
			t.Errorf("TCP flags of the default template: SYN %v ACK %v RST %v FIN %v PSH %v, want SYN alone", tcp.SYN, tcp.ACK, tcp.RST, tcp.FIN, tcp.PSH)
		}
		if tcp.DataOffset != 5 {
			t.Errorf("TCP data offset %d, want 5", tcp.DataOffset)
		}
	case ICMP:
		if v6 {
			icmp, ok := pkt.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
			if !ok {
				t.Fatalf("no ICMPv6 layer in %v", pkt)
			}
			if icmp.TypeCode.Type() != layers.ICMPv6TypeEchoRequest || icmp.TypeCode.Code() != 0 {
				t.Errorf("ICMPv6 type %v, want an echo request", icmp.TypeCode)
			}
			if pkt.Layer(layers.LayerTypeICMPv6Echo) == nil {
				t.Errorf("no ICMPv6 echo layer in %v", pkt)
			}
		} else {
			icmp, ok := pkt.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
			if !ok {
				t.Fatalf("no ICMPv4 layer in %v", pkt)
			}
			if icmp.TypeCode.Type() != layers.ICMPv4TypeEchoRequest || icmp.TypeCode.Code() != 0 {
				t.Errorf("ICMP type %v, want an echo request", icmp.TypeCode)
			}
		}
	}
	tmplCheckChecksums(t, frame, l3, v6)
	payload := frame[len(frame)-l4Len+hdr:]
	for i, b := range payload {
		want := byte(0)
		if len(tmpl.Payload) > 0 {
			want = tmpl.Payload[i%len(tmpl.Payload)]
		}
		if b != want {
			t.Fatalf("payload byte %d is %#02x, want %#02x", i, b, want)
		}
	}
}

func TestTemplateVLAN(t *testing.T) {
	for _, proto := range []Proto{UDP, TCP, ICMP} {
		for _, v6 := range []bool{false, true} {
			tmpl := tmplOf(proto, v6, 128)
			tmpl.VLAN = 100
			frame, err := tmpl.Frame()
			if err != nil {
				t.Fatalf("%s v6=%v: %v", proto, v6, err)
			}
			pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
			tag, ok := pkt.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q)
			if !ok || tag.VLANIdentifier != 100 {
				t.Fatalf("%s v6=%v: no 802.1Q tag with id 100 in %v", proto, v6, pkt)
			}
			checkTemplateFrame(t, tmpl, frame, 18)
		}
	}
	tmpl := tmplOf(TCP, true, 0)
	tmpl.VLAN = 7
	frame, err := tmpl.Frame()
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) != 78 {
		t.Errorf("default size of TCP over IPv6 with a tag is %d, want 78", len(frame))
	}
}

func TestTemplateOptions(t *testing.T) {
	tmpl := tmplOf(UDP, false, 100)
	tmpl.Payload = []byte("abc")
	tmpl.TTL = 7
	frame, err := tmpl.Frame()
	if err != nil {
		t.Fatal(err)
	}
	checkTemplateFrame(t, tmpl, frame, 14)
	if got := string(frame[42:48]); got != "abcabc" {
		t.Errorf("payload starts %q, want abcabc...", got)
	}

	for _, c := range []struct {
		flags              string
		syn, ack, fin, rst bool
	}{
		{"SA", true, true, false, false},
		{"fa", false, true, true, false},
		{"R", false, false, false, true},
		{"none", false, false, false, false},
	} {
		tmpl := tmplOf(TCP, true, 0)
		tmpl.TCPFlags = c.flags
		frame, err := tmpl.Frame()
		if err != nil {
			t.Fatalf("flags %q: %v", c.flags, err)
		}
		checkTemplateFrame(t, tmpl, frame, 14)
		tcp := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp.SYN != c.syn || tcp.ACK != c.ack || tcp.FIN != c.fin || tcp.RST != c.rst {
			t.Errorf("flags %q: SYN %v ACK %v FIN %v RST %v", c.flags, tcp.SYN, tcp.ACK, tcp.FIN, tcp.RST)
		}
	}

	// ICMP takes no ports; those given are ignored.
	for _, v6 := range []bool{false, true} {
		tmpl := tmplOf(ICMP, v6, 64)
		tmpl.SrcPort, tmpl.DstPort = 0, 0
		if _, err := tmpl.Frame(); err != nil {
			t.Errorf("ICMP without ports: %v", err)
		}
	}
}

func TestTemplateInvalid(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Template)
		want string
	}{
		{"no source MAC", func(t *Template) { t.SrcMAC = nil }, "no source MAC address"},
		{"short destination MAC", func(t *Template) { t.DstMAC = t.DstMAC[:4] }, "destination MAC address 02:00:00:00 is 4 bytes"},
		{"no source", func(t *Template) { t.Src = netip.Addr{} }, "no source address"},
		{"no destination", func(t *Template) { t.Dst = netip.Addr{} }, "no destination address"},
		{"mixed families", func(t *Template) { t.Dst = netip.MustParseAddr("fc00::1") },
			"source 10.0.0.1 is IPv4 but destination fc00::1 is IPv6: use addresses of one family"},
		{"mixed families reversed", func(t *Template) { t.Src = netip.MustParseAddr("fc00::1") },
			"source fc00::1 is IPv6 but destination 10.0.0.2 is IPv4"},
		{"IPv4-mapped", func(t *Template) { t.Src = netip.MustParseAddr("::ffff:10.0.0.1") }, "IPv4-mapped IPv6 address: write it as IPv4 (10.0.0.1)"},
		{"zone", func(t *Template) {
			t.Src, t.Dst = netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("fe80::2")
		}, "has a zone"},
		{"source port 0", func(t *Template) { t.SrcPort = 0 }, "source port 0"},
		{"destination port 0", func(t *Template) { t.Proto, t.DstPort = TCP, 0 }, "destination port 0: tcp"},
		{"size below minimum", func(t *Template) { t.Size = 50 }, "size 50: frames are 60 to 3408 bytes"},
		{"size negative", func(t *Template) { t.Size = -1 }, "size -1: "},
		{"size above maximum", func(t *Template) { t.Size = 3409 }, "size 3409: frames are 60 to 3408 bytes"},
		{"size below headers", func(t *Template) {
			t.Proto, t.Src, t.Dst, t.Size = TCP, netip.MustParseAddr("fc00::1"), netip.MustParseAddr("fc00::2"), 70
		}, "size 70: TCP over IPv6 has 74 bytes of headers: use a size of at least 74"},
		{"size below headers with a tag", func(t *Template) {
			t.Src, t.Dst, t.Size, t.VLAN = netip.MustParseAddr("fc00::1"), netip.MustParseAddr("fc00::2"), 64, 5
		}, "size 64: UDP over IPv6 with a VLAN tag has 66 bytes"},
		{"unknown proto", func(t *Template) { t.Proto = 7 }, "unknown protocol 7: use udp, tcp or icmp"},
		{"bad TCP flags", func(t *Template) { t.Proto, t.TCPFlags = TCP, "SX" }, `TCP flags "SX": 'X' is not a flag`},
		{"VLAN 4095", func(t *Template) { t.VLAN = 4095 }, "VLAN 4095: use an id from 1 to 4094"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmpl := tmplOf(UDP, false, 0)
			c.edit(&tmpl)
			err := tmpl.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want an error with %q", c.want)
			}
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("error %q does not match os.ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "trafficgen: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want one starting trafficgen: and holding %q", err, c.want)
			}
			if frame, ferr := tmpl.Frame(); frame != nil || ferr == nil || ferr.Error() != err.Error() {
				t.Errorf("Frame() = %d bytes, %v; want Validate's error", len(frame), ferr)
			}
		})
	}
}

func TestTemplateProtoNames(t *testing.T) {
	for _, p := range []Proto{UDP, TCP, ICMP} {
		got, err := ParseProto(strings.ToUpper(p.String()))
		if err != nil || got != p {
			t.Errorf("ParseProto(%q) = %v, %v", strings.ToUpper(p.String()), got, err)
		}
	}
	if s := Proto(9).String(); s != "proto(9)" {
		t.Errorf("Proto(9).String() = %q", s)
	}
	if _, err := ParseProto("sctp"); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "udp, tcp or icmp") {
		t.Errorf("ParseProto(sctp) error = %v", err)
	}
}
