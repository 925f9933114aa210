package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The expected frames below are written out by hand; their checksums come
// from onesSum, written here independently of gopacket.

// onesSum is the Internet checksum (RFC 1071) of the concatenated parts.
func onesSum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	var sum uint32
	for i := 0; i+1 < len(all); i += 2 {
		sum += uint32(all[i])<<8 | uint32(all[i+1])
	}
	if len(all)%2 == 1 {
		sum += uint32(all[len(all)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// put16 writes v at b[off:off+2].
func put16(b []byte, off int, v uint16) { binary.BigEndian.PutUint16(b[off:], v) }

var (
	macSrc  = []byte{0x02, 0, 0, 0, 0, 0x01}
	macDst  = []byte{0x02, 0, 0, 0, 0, 0x02}
	ip4Src  = []byte{10, 0, 0, 1}
	ip4Dst  = []byte{10, 0, 0, 2}
	ip6Src  = []byte{0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	ip6Dst  = []byte{0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	ethIPv4 = cat(macDst, macSrc, []byte{0x08, 0x00})
	ethIPv6 = cat(macDst, macSrc, []byte{0x86, 0xdd})
	ethARP  = cat([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, macSrc, []byte{0x08, 0x06})
	ethVLAN = cat(macDst, macSrc, []byte{0x81, 0x00})
)

// ipv4Header returns a 20-byte header with its checksum filled in.
func ipv4Header(tos byte, total, id, flags uint16, ttl, proto byte, src, dst []byte) []byte {
	h := cat([]byte{0x45, tos}, be16(total), be16(id), be16(flags), []byte{ttl, proto, 0, 0}, src, dst)
	put16(h, 10, onesSum(h))
	return h
}

// l4Sum4 and l4Sum6 are transport checksums over the IP pseudo-header.
func l4Sum4(src, dst []byte, proto byte, seg []byte) uint16 {
	return onesSum(src, dst, []byte{0, proto}, be16(uint16(len(seg))), seg)
}

func l4Sum6(src, dst []byte, nh byte, seg []byte) uint16 {
	return onesSum(src, dst, binary.BigEndian.AppendUint32(nil, uint32(len(seg))), []byte{0, 0, 0, nh}, seg)
}

// udpCsum maps a computed 0 to 0xffff, as RFC 768 says.
func udpCsum(c uint16) uint16 {
	if c == 0 {
		return 0xffff
	}
	return c
}

func expectUDPv4() []byte {
	payload := []byte{1, 2, 3, 4}
	udp := cat(be16(1234), be16(53), be16(12), be16(0), payload)
	put16(udp, 6, udpCsum(l4Sum4(ip4Src, ip4Dst, 17, udp)))
	return cat(ethIPv4, ipv4Header(0, 32, 0, 0, 64, 17, ip4Src, ip4Dst), udp)
}

func expectTCPv6() []byte {
	tcp := cat(be16(1234), be16(443), []byte{0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x12}, be16(1000), be16(0), be16(0), []byte("hi"))
	put16(tcp, 16, l4Sum6(ip6Src, ip6Dst, 6, tcp))
	ip6 := cat([]byte{0x60, 0, 0, 0}, be16(22), []byte{6, 64}, ip6Src, ip6Dst)
	return cat(ethIPv6, ip6, tcp)
}

func expectICMPv4() []byte {
	icmp := cat([]byte{8, 0, 0, 0}, be16(7), be16(1), []byte{0, 1, 2, 3})
	put16(icmp, 2, onesSum(icmp))
	return cat(ethIPv4, ipv4Header(0, 32, 7, 0x4000, 1, 1, ip4Src, ip4Dst), icmp)
}

func expectICMPv6() []byte {
	icmp := cat([]byte{128, 0, 0, 0}, be16(7), be16(1), []byte{0, 1, 2, 3})
	put16(icmp, 2, l4Sum6(ip6Src, ip6Dst, 58, icmp))
	ip6 := cat([]byte{0x60, 0, 0, 0}, be16(12), []byte{58, 64}, ip6Src, ip6Dst)
	return cat(ethIPv6, ip6, icmp)
}

func expectARP() []byte {
	arp := cat([]byte{0, 1, 0x08, 0x00, 6, 4, 0, 1}, macSrc, ip4Src, make([]byte, 6), []byte{10, 11, 1, 2})
	return cat(ethARP, arp)
}

func expectVLAN() []byte {
	udp := cat(be16(1234), be16(5678), be16(10), be16(0), []byte{0, 1})
	put16(udp, 6, udpCsum(l4Sum4(ip4Src, ip4Dst, 17, udp)))
	tag := cat(be16(5<<13|100), []byte{0x08, 0x00})
	return cat(ethVLAN, tag, ipv4Header(0x10, 30, 0, 0, 64, 17, ip4Src, ip4Dst), udp)
}

func TestBuildExactBytes(t *testing.T) {
	tests := []struct {
		name, spec string
		want       []byte
	}{
		{"udp over ipv4", "eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(sport=1234,dport=53)/payload(hex=01020304)", expectUDPv4()},
		{"tcp over ipv6", "eth/ipv6(src=fc00::1,dst=fc00::2)/tcp(sport=1234,dport=443,flags=SA,seq=1,ack=2,win=1000)/payload(text=hi)", expectTCPv6()},
		{"icmp echo over ipv4", "eth/ipv4(ttl=1,id=7,df=true)/icmp(type=echo-request,id=7,seq=1)/payload(4)", expectICMPv4()},
		{"icmp6 echo", "eth/ipv6/icmp6(type=echo-request,id=7,seq=1)/payload(4)", expectICMPv6()},
		{"arp request", "eth(dst=ff:ff:ff:ff:ff:ff)/arp(op=request,tpa=10.11.1.2)", expectARP()},
		{"vlan ipv4 udp", "eth/vlan(id=100,prio=5)/ipv4(tos=0x10)/udp/payload(2)", expectVLAN()},
		{"defaults and spaces", " ETH / IPv4 ( src = 10.0.0.1 ) / udp(sport=1234, dport=53) / payload(hex=01:02:03:04) ", expectUDPv4()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Build(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("Build(%q)\n got %x\nwant %x\n%s", tc.spec, got, tc.want, FormatDiff(Diff(tc.want, got)))
			}
			verifyChecksums(t, got)
		})
	}
}

// verifyChecksums checks every checksum of frame with gopacket's own
// verification, as a second opinion on onesSum.
func verifyChecksums(t *testing.T, frame []byte) {
	t.Helper()
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	var ip gopacket.NetworkLayer
	checked := 0
	for _, l := range p.Layers() {
		if n, ok := l.(gopacket.NetworkLayer); ok {
			ip = n
		}
		if s, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			if err := s.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatalf("%v: %v", l.LayerType(), err)
			}
		}
		v, ok := l.(interface {
			VerifyChecksum() (error, gopacket.ChecksumVerificationResult)
		})
		if !ok {
			continue
		}
		err, res := v.VerifyChecksum()
		if err != nil || !res.Valid {
			t.Fatalf("gopacket: %v checksum: %v, %+v", l.LayerType(), err, res)
		}
		checked++
	}
	if checked == 0 && p.NetworkLayer() != nil {
		t.Fatalf("gopacket verified no checksum in %x", frame)
	}
}

func TestBuildDerivedValues(t *testing.T) {
	tests := []struct {
		spec string
		off  int
		want []byte
	}{
		{"eth", 12, []byte{0x88, 0xb5}},
		{"eth/payload(1)", 12, []byte{0x88, 0xb5, 0}},
		{"eth(type=ipv6)", 12, []byte{0x86, 0xdd}},
		{"eth(type=0x1234)/ipv4", 12, []byte{0x12, 0x34}},
		{"eth(type=2048)", 12, []byte{0x08, 0x00}},
		{"eth/vlan/vlan(id=4095)/arp", 12, []byte{0x81, 0x00, 0x00, 0x01, 0x81, 0x00, 0x0f, 0xff, 0x08, 0x06}},
		{"eth/ipv4/tcp", 23, []byte{6}},
		{"eth/ipv4/icmp", 23, []byte{1}},
		{"eth/ipv4/ipv6", 23, []byte{41}},
		{"eth/ipv4/ipv4", 23, []byte{4}},
		{"eth/ipv4", 23, []byte{253}},
		{"eth/ipv4(proto=udp)", 23, []byte{17}},
		{"eth/ipv6", 20, []byte{59}},
		{"eth/ipv6/udp", 20, []byte{17}},
		{"eth/ipv6/ipv4", 20, []byte{4}},
		{"eth/ipv6(nh=0x2f)/payload(0)", 20, []byte{47}},
		{"eth/ipv6(tc=0xab,flow=0x12345)", 14, []byte{0x6a, 0xb1, 0x23, 0x45}},
		{"eth(src=aa:bb:cc:dd:ee:ff,dst=0011.2233.4455)", 0, []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}},
		{"eth/payload(3)", 14, []byte{0, 1, 2}},
		{"eth/payload(text=\"a, b\")", 14, []byte("a, b")},
		{"eth/payload(300)", 14 + 255, []byte{255, 0, 1}},
		{"eth/ipv4/tcp(flags=none)", 14 + 20 + 13, []byte{0}},
		{"eth/ipv4/tcp(flags=fsrpauec)", 14 + 20 + 13, []byte{0xff}},
		{"eth/arp(op=reply,sha=02:00:00:00:00:09)", 14 + 6, []byte{0, 2, 2, 0, 0, 0, 0, 9}},
		{"eth/arp(op=7)", 14 + 6, []byte{0, 7}},
	}
	for _, tc := range tests {
		got, err := Build(tc.spec)
		if err != nil {
			t.Errorf("Build(%q): %v", tc.spec, err)
			continue
		}
		if len(got) < tc.off+len(tc.want) || !bytes.Equal(got[tc.off:tc.off+len(tc.want)], tc.want) {
			t.Errorf("Build(%q) at %d: got %x, want %x", tc.spec, tc.off, got[min(tc.off, len(got)):], tc.want)
		}
	}
}

func TestBuildLengths(t *testing.T) {
	tests := []struct {
		spec string
		n    int
	}{
		{"eth", 14},
		{"eth/arp", 42},
		{"eth/ipv4/udp/payload(64)", 14 + 20 + 8 + 64},
		{"eth/vlan/ipv6/tcp", 14 + 4 + 40 + 20},
		{"eth/ipv4/ipv6/icmp6/payload(56)", 14 + 20 + 40 + 8 + 56},
		{"eth/payload(65521)", 65535},
	}
	for _, tc := range tests {
		got, err := Build(tc.spec)
		if err != nil || len(got) != tc.n {
			t.Errorf("Build(%q) = %d bytes, %v; want %d bytes", tc.spec, len(got), err, tc.n)
		}
	}
}

func TestBuildManualSpec(t *testing.T) {
	s := &Spec{Layers: []Layer{{Name: "eth"}, {Name: "ipv4", Fields: []Field{{"ttl", "300"}}}}}
	if _, err := s.Build(); err == nil || !strings.Contains(err.Error(), `ttl "300" is not a number from 0 to 255`) || !errors.Is(err, os.ErrInvalid) {
		t.Fatalf("Build of a bad hand-made Spec: %v", err)
	}
	if _, err := (&Spec{}).Build(); err == nil || !errors.Is(err, os.ErrInvalid) {
		t.Fatalf("Build of an empty Spec: %v", err)
	}
}

func BenchmarkBuild(b *testing.B) {
	s, err := ParseSpec("eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(64)")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Build(); err != nil {
			b.Fatal(err)
		}
	}
}
