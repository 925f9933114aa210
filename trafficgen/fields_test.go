package trafficgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/xdpkit/xdpkit/packet"
)

// fieldsProblem returns what is wrong with f as FieldsOf's answer for a
// frame of n bytes, or "".
func fieldsProblem(f Fields, n int) string {
	for _, o := range []struct {
		name     string
		off, len int
	}{
		{"L3", f.L3, 20}, {"L4", f.L4, 8}, {"IPChecksum", f.IPChecksum, 2}, {"SrcAddr", f.SrcAddr, 4},
		{"SrcPort", f.SrcPort, 4}, {"L4Checksum", f.L4Checksum, 2},
	} {
		if o.off < -1 || o.off >= 0 && o.off+o.len > n {
			return fmt.Sprintf("%s %d (a %d-byte field) is outside a %d-byte frame", o.name, o.off, o.len, n)
		}
	}
	switch {
	case f.L3 < 0 && (f.IPv6 || f.L4 >= 0 || f.IPChecksum >= 0 || f.SrcAddr >= 0):
		return "fields without an IP header"
	case f.L3 >= 0 && f.L3 < EthernetHeaderLen:
		return "L3 inside the Ethernet header"
	case f.L3 >= 0 && f.IPv6 && (f.IPChecksum >= 0 || f.SrcAddr != f.L3+20 || f.L3+40 > n):
		return "IPv6 offsets wrong"
	case f.L3 >= 0 && !f.IPv6 && (f.IPChecksum != f.L3+10 || f.SrcAddr != f.L3+12):
		return "IPv4 offsets wrong"
	case f.L4 < 0 && (f.Proto != 0 || f.SrcPort >= 0 || f.L4Checksum >= 0):
		return "transport fields without a transport header"
	case f.L4 >= 0 && f.L4 < f.L3+20:
		return "L4 inside the IP header"
	case f.SrcPort >= 0 && (f.SrcPort != f.L4 || f.Proto != 17 && f.Proto != 6):
		return "ports of a transport without ports"
	case f.Proto == 6 && (f.L4+20 > n || f.L4Checksum != f.L4+16):
		return "TCP offsets wrong"
	case f.Proto == 1 && (f.IPv6 || f.L4Checksum >= 0 || f.SrcPort >= 0):
		return "ICMP offsets wrong"
	case f.Proto == 58 && (!f.IPv6 || f.L4Checksum != f.L4+2):
		return "ICMPv6 offsets wrong"
	case f.L4 >= 0 && f.Proto != 1 && f.Proto != 6 && f.Proto != 17 && f.Proto != 58:
		return "unknown transport"
	}
	return ""
}

func TestFieldsOfTemplates(t *testing.T) {
	for _, proto := range []Proto{UDP, TCP, ICMP} {
		for _, v6 := range []bool{false, true} {
			for _, vlan := range []uint16{0, 100} {
				t.Run(fmt.Sprintf("%s/v6=%v/vlan=%d", proto, v6, vlan), func(t *testing.T) {
					tmpl := tmplOf(proto, v6, 0)
					tmpl.VLAN = vlan
					tmpl.SrcPort, tmpl.DstPort = 0xabcd, 0x1234
					frame, err := tmpl.Frame()
					if err != nil {
						t.Fatal(err)
					}
					f, err := FieldsOf(frame)
					if err != nil {
						t.Fatal(err)
					}
					if p := fieldsProblem(f, len(frame)); p != "" {
						t.Fatalf("%+v: %s", f, p)
					}
					l3 := 14
					if vlan != 0 {
						l3 = 18
					}
					if f.L3 != l3 || f.IPv6 != v6 {
						t.Fatalf("L3 %d IPv6 %v, want %d %v", f.L3, f.IPv6, l3, v6)
					}
					if !f.HasAddr() || f.HasPorts() != (proto != ICMP) {
						t.Errorf("HasAddr %v HasPorts %v", f.HasAddr(), f.HasPorts())
					}
					src := tmpl.Src.As16()
					if got := binary.BigEndian.Uint32(frame[f.SrcAddr:]); got != binary.BigEndian.Uint32(src[12:]) {
						t.Errorf("SrcAddr %d holds %#08x, want the source's last 32 bits %x", f.SrcAddr, got, src[12:])
					}

					pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
					if v6 {
						if f.IPChecksum != -1 {
							t.Errorf("IPChecksum %d for IPv6", f.IPChecksum)
						}
					} else {
						ip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
						if got := binary.BigEndian.Uint16(frame[f.IPChecksum:]); f.IPChecksum < 0 || got != ip.Checksum {
							t.Errorf("IPChecksum %d holds %#04x, want the header checksum %#04x", f.IPChecksum, got, ip.Checksum)
						}
					}

					wantL4 := l3 + 20
					if v6 {
						wantL4 = l3 + 40
					}
					if f.L4 != wantL4 {
						t.Errorf("L4 %d, want %d", f.L4, wantL4)
					}
					var wantProto uint8
					var csum uint16
					switch {
					case proto == UDP:
						wantProto, csum = 17, pkt.Layer(layers.LayerTypeUDP).(*layers.UDP).Checksum
					case proto == TCP:
						wantProto, csum = 6, pkt.Layer(layers.LayerTypeTCP).(*layers.TCP).Checksum
					case v6:
						wantProto, csum = 58, pkt.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6).Checksum
					default:
						wantProto = 1
					}
					if f.Proto != wantProto {
						t.Errorf("Proto %d, want %d", f.Proto, wantProto)
					}
					if proto == ICMP && !v6 {
						if f.L4Checksum != -1 || f.SrcPort != -1 {
							t.Errorf("ICMPv4: L4Checksum %d SrcPort %d, want -1 -1", f.L4Checksum, f.SrcPort)
						}
						return
					}
					if got := binary.BigEndian.Uint16(frame[f.L4Checksum:]); f.L4Checksum < 0 || got != csum {
						t.Errorf("L4Checksum %d holds %#04x, want the checksum %#04x", f.L4Checksum, got, csum)
					}
					if proto == ICMP {
						if f.SrcPort != -1 {
							t.Errorf("ICMPv6: SrcPort %d, want -1", f.SrcPort)
						}
						return
					}
					if f.SrcPort < 0 || binary.BigEndian.Uint16(frame[f.SrcPort:]) != 0xabcd || binary.BigEndian.Uint16(frame[f.SrcPort+2:]) != 0x1234 {
						t.Errorf("SrcPort %d does not hold ports %#x > %#x", f.SrcPort, 0xabcd, 0x1234)
					}
				})
			}
		}
	}
}

// fieldsMust returns FieldsOf(frame), failing t on an error or an answer
// out of bounds.
func fieldsMust(t *testing.T, frame []byte) Fields {
	t.Helper()
	f, err := FieldsOf(frame)
	if err != nil {
		t.Fatalf("FieldsOf(%d bytes): %v", len(frame), err)
	}
	if p := fieldsProblem(f, len(frame)); p != "" {
		t.Fatalf("FieldsOf(%d bytes) = %+v: %s", len(frame), f, p)
	}
	return f
}

func fieldsBuild(t *testing.T, spec string) []byte {
	t.Helper()
	frame, err := packet.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

// tmplMustFrame returns the frame of tmplOf(proto, v6, size).
func tmplMustFrame(t *testing.T, proto Proto, v6 bool, size int) []byte {
	t.Helper()
	frame, err := tmplOf(proto, v6, size).Frame()
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

func TestFieldsOfVLANTags(t *testing.T) {
	qinq := fieldsBuild(t, "eth(type=0x88a8)/vlan(id=10)/vlan(id=20)/ipv4/udp/payload(20)")
	if f := fieldsMust(t, qinq); f.L3 != 22 || f.L4 != 42 || f.SrcPort != 42 {
		t.Errorf("two tags: %+v, want L3 22, L4 42", f)
	}
	three := fieldsBuild(t, "eth/vlan(id=10)/vlan(id=20)/vlan(id=30)/ipv4/udp/payload(20)")
	if f := fieldsMust(t, three); f != noFields {
		t.Errorf("three tags: %+v, want no IP (at most two tags are read)", f)
	}
	v6 := fieldsBuild(t, "eth/vlan(id=10)/ipv6/tcp")
	if f := fieldsMust(t, v6); f.L3 != 18 || !f.IPv6 || f.L4 != 58 || f.L4Checksum != 74 || f.SrcAddr != 38 {
		t.Errorf("tagged IPv6: %+v", f)
	}
}

func TestFieldsOfIPv4Options(t *testing.T) {
	base := tmplMustFrame(t, UDP, false, 100)
	// Insert a 4-byte option (four NOPs) after the 20-byte header.
	frame := append(append(append([]byte{}, base[:34]...), 1, 1, 1, 1), base[34:]...)
	frame[14] = 0x46
	binary.BigEndian.PutUint16(frame[16:], binary.BigEndian.Uint16(frame[16:])+4)
	f := fieldsMust(t, frame)
	if f.L3 != 14 || f.L4 != 38 || f.SrcPort != 38 || f.L4Checksum != 44 || f.IPChecksum != 24 || f.SrcAddr != 26 {
		t.Errorf("IHL 6: %+v, want L4 38", f)
	}
	if binary.BigEndian.Uint16(frame[f.SrcPort:]) != 1234 {
		t.Errorf("SrcPort %d does not hold 1234", f.SrcPort)
	}

	// IHL below 5 is malformed, and a header longer than the frame is cut
	// short: no IP.
	for _, ihl := range []byte{0x44, 0x4f} {
		bad := append([]byte{}, base[:40]...)
		bad[14] = ihl
		if f := fieldsMust(t, bad); f != noFields {
			t.Errorf("first IPv4 byte %#x in a 40-byte frame: %+v, want no IP", ihl, f)
		}
	}
	// Version 6 behind EtherType IPv4.
	bad := append([]byte{}, base...)
	bad[14] = 0x65
	if f := fieldsMust(t, bad); f != noFields {
		t.Errorf("version 6 in an IPv4 EtherType: %+v, want no IP", f)
	}
}

func TestFieldsOfFragments(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags uint16
		l4    bool
	}{
		{"more fragments", 0x2000, false},
		{"offset", 0x0001, false},
		{"last fragment", 0x0100, false},
		{"don't fragment", 0x4000, true},
	} {
		frame := tmplMustFrame(t, UDP, false, 64)
		binary.BigEndian.PutUint16(frame[20:], c.flags)
		f := fieldsMust(t, frame)
		if f.L3 != 14 || f.SrcAddr != 26 || f.IPChecksum != 24 {
			t.Errorf("%s: %+v, want the IPv4 fields", c.name, f)
		}
		if got := f.L4 >= 0; got != c.l4 {
			t.Errorf("%s: %+v, want a transport header %v", c.name, f, c.l4)
		}
	}
}

func TestFieldsOfIPv6Extension(t *testing.T) {
	// Hop-by-hop options (next header UDP, PadN of 4) and then UDP.
	frame := fieldsBuild(t, "eth/ipv6(nh=0)/payload(hex=1100 0104 0000 0000 04d2 162e 0010 1234 0000 0000 0000 0000)")
	f := fieldsMust(t, frame)
	if f.L3 != 14 || !f.IPv6 || f.SrcAddr != 34 || f.L4 != -1 || f.SrcPort != -1 || f.L4Checksum != -1 || f.Proto != 0 {
		t.Errorf("IPv6 with hop-by-hop: %+v, want IP fields and no transport", f)
	}
	// ICMPv4 in IPv6 is not a transport the program knows.
	frame = fieldsBuild(t, "eth/ipv6(nh=1)/payload(8)")
	if f := fieldsMust(t, frame); f.L4 != -1 {
		t.Errorf("protocol 1 in IPv6: %+v, want no transport", f)
	}
	frame = fieldsBuild(t, "eth/ipv4(proto=58)/payload(8)")
	if f := fieldsMust(t, frame); f.L4 != -1 {
		t.Errorf("protocol 58 in IPv4: %+v, want no transport", f)
	}
}

func TestFieldsOfNonIP(t *testing.T) {
	for _, spec := range []string{"eth/arp", "eth", "eth/payload(100)", "eth(type=0x0800)", "eth(type=0x86dd)/payload(39)"} {
		frame := fieldsBuild(t, spec)
		f := fieldsMust(t, frame)
		if f != noFields || f.HasAddr() || f.HasPorts() {
			t.Errorf("%s: %+v, want no fields", spec, f)
		}
	}
}

func TestFieldsOfZeroUDPChecksum(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		frame := tmplMustFrame(t, UDP, v6, 0)
		f := fieldsMust(t, frame)
		if f.L4Checksum < 0 {
			t.Fatalf("v6=%v: %+v, want the UDP checksum", v6, f)
		}
		frame[f.L4Checksum], frame[f.L4Checksum+1] = 0, 0
		z := fieldsMust(t, frame)
		if z.L4Checksum != -1 || z.SrcPort != f.SrcPort || z.L4 != f.L4 || z.Proto != 17 {
			t.Errorf("v6=%v zero checksum: %+v, want L4Checksum -1 and the ports", v6, z)
		}
	}
}

func TestFieldsOfPadding(t *testing.T) {
	// The IP lengths say where the packet ends; a header in the Ethernet
	// padding after it is no header.
	frame := tmplMustFrame(t, UDP, false, 60)
	binary.BigEndian.PutUint16(frame[16:], 20+7) // total length: 7 bytes of UDP
	if f := fieldsMust(t, frame); f.L3 != 14 || f.L4 != -1 {
		t.Errorf("IPv4 total length short of the UDP header: %+v", f)
	}
	frame = tmplMustFrame(t, TCP, true, 100)
	binary.BigEndian.PutUint16(frame[18:], 19) // payload length: 19 bytes of TCP
	if f := fieldsMust(t, frame); f.L3 != 14 || f.L4 != -1 {
		t.Errorf("IPv6 payload length short of the TCP header: %+v", f)
	}
	// A total length past the frame's end is ignored.
	frame = tmplMustFrame(t, UDP, false, 60)
	binary.BigEndian.PutUint16(frame[16:], 9000)
	if f := fieldsMust(t, frame); f.L4 != 34 {
		t.Errorf("IPv4 total length past the end: %+v", f)
	}
}

func TestFieldsOfTruncated(t *testing.T) {
	for _, c := range []struct {
		name   string
		frame  []byte
		l3, l4 int // the offsets in the whole frame
		ipLen  int
		l4Len  int
	}{
		{"udp4", tmplMustFrame(t, UDP, false, 0), 14, 34, 20, 8},
		{"tcp6", tmplMustFrame(t, TCP, true, 0), 14, 54, 40, 20},
		{"icmp6", tmplMustFrame(t, ICMP, true, 0), 14, 54, 40, 8},
		{"qinq", fieldsBuild(t, "eth(type=0x88a8)/vlan/vlan/ipv4/tcp"), 22, 42, 20, 20},
	} {
		for n := range len(c.frame) + 1 {
			frame := c.frame[:n:n]
			f, err := FieldsOf(frame)
			if n < EthernetHeaderLen {
				if !errors.Is(err, os.ErrInvalid) {
					t.Errorf("%s cut to %d bytes: error %v, want os.ErrInvalid", c.name, n, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s cut to %d bytes: %v", c.name, n, err)
			}
			if p := fieldsProblem(f, n); p != "" {
				t.Fatalf("%s cut to %d bytes: %+v: %s", c.name, n, f, p)
			}
			wantL3, wantL4 := -1, -1
			if n >= c.l3+c.ipLen {
				wantL3 = c.l3
			}
			if n >= c.l4+c.l4Len {
				wantL4 = c.l4
			}
			if f.L3 != wantL3 || f.L4 != wantL4 {
				t.Errorf("%s cut to %d bytes: L3 %d L4 %d, want %d %d", c.name, n, f.L3, f.L4, wantL3, wantL4)
			}
		}
	}
}
