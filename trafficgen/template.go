package trafficgen

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/xdpkit/xdpkit/packet"
)

// Proto is the transport of a Template.
type Proto int

const (
	// UDP is a UDP datagram.
	UDP Proto = iota
	// TCP is a TCP segment without options; its flags are
	// Template.TCPFlags (SYN by default).
	TCP
	// ICMP is an echo request: ICMPv4 type 8 over IPv4, ICMPv6 type 128
	// over IPv6.
	ICMP
)

// String returns "udp", "tcp" or "icmp".
func (p Proto) String() string {
	switch p {
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	case ICMP:
		return "icmp"
	}
	return fmt.Sprintf("proto(%d)", int(p))
}

// ParseProto parses the names String returns, in any case.
func ParseProto(s string) (Proto, error) {
	return parseName("protocol", s, UDP, TCP, ICMP)
}

// Header lengths of the layers a Template may have.
const (
	vlanTagLen    = 4
	ipv4HeaderLen = 20
	ipv6HeaderLen = 40
	udpHeaderLen  = 8
	tcpHeaderLen  = 20
	icmpHeaderLen = 8      // an echo request: type, code, checksum, id, seq
	icmpEchoID    = 0x786b // "xk": the echo requests' identifier
)

// Template describes one frame: Ethernet, an optional 802.1Q tag, IPv4 or
// IPv6 (by the addresses' family), then UDP, TCP or an ICMP echo request,
// padded with payload to Size. It is plain data: Validate checks it and
// Frame builds it with the packet package, which computes every length and
// checksum. The zero values of the optional fields are sane defaults.
type Template struct {
	// Proto is the transport; the zero value is UDP.
	Proto Proto

	// SrcMAC and DstMAC are the Ethernet addresses, 6 bytes each;
	// both are required.
	SrcMAC, DstMAC net.HardwareAddr

	// Src and Dst are the IP addresses, both required and of one family:
	// both IPv4 (an IPv4 frame) or both IPv6 (an IPv6 frame). An
	// IPv4-mapped IPv6 address such as ::ffff:10.0.0.1 is refused: write
	// it as IPv4. Addresses with a zone are refused.
	Src, Dst netip.Addr

	// SrcPort and DstPort are the UDP or TCP ports, 1 to 65535. ICMP
	// ignores them.
	SrcPort, DstPort uint16

	// TTL is the IPv4 time to live or the IPv6 hop limit; 0 means 64.
	TTL uint8

	// Size is the frame's length without the frame check sequence,
	// MinFrameLen to MaxFrameLen and at least the headers' length; 0
	// means the shortest frame: MinFrameLen, or the headers' length when
	// they are longer (TCP over IPv6 is 74 bytes, 78 with a VLAN tag).
	Size int

	// TCPFlags are the TCP flags as the packet SPEC writes them: letters
	// from FSRPAUEC (FIN SYN RST PSH ACK URG ECE CWR), such as SA, or
	// none; "" means S (SYN). Only TCP uses them.
	TCPFlags string

	// VLAN is the 802.1Q VLAN id of a tag after the Ethernet header, 1 to
	// 4094; 0 means no tag.
	VLAN uint16

	// Payload fills the frame after the transport header up to Size,
	// repeated as often as it takes (and cut where the frame ends); nil
	// fills it with zeros.
	Payload []byte
}

// headerLen returns the length of t's headers, Ethernet to transport.
// t.Src must be valid.
func (t Template) headerLen() int {
	n := EthernetHeaderLen
	if t.VLAN != 0 {
		n += vlanTagLen
	}
	if t.Src.Is4() {
		n += ipv4HeaderLen
	} else {
		n += ipv6HeaderLen
	}
	switch t.Proto {
	case TCP:
		n += tcpHeaderLen
	case ICMP:
		n += icmpHeaderLen
	default:
		n += udpHeaderLen
	}
	return n
}

// size returns the frame length t asks for. t.Src must be valid.
func (t Template) size() int {
	if t.Size != 0 {
		return t.Size
	}
	return max(MinFrameLen, t.headerLen())
}

// ipVersion names the family of a for errors.
func ipVersion(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// Validate reports whether Frame can build t. Errors match os.ErrInvalid
// and name the field and what it accepts.
func (t Template) Validate() error {
	switch t.Proto {
	case UDP, TCP, ICMP:
	default:
		return invalidf("unknown protocol %d: use udp, tcp or icmp", int(t.Proto))
	}
	if err := checkMAC("source", t.SrcMAC); err != nil {
		return err
	}
	if err := checkMAC("destination", t.DstMAC); err != nil {
		return err
	}
	if err := checkAddr("source", t.Src); err != nil {
		return err
	}
	if err := checkAddr("destination", t.Dst); err != nil {
		return err
	}
	if t.Src.Is4() != t.Dst.Is4() {
		return invalidf("source %s is %s but destination %s is %s: use addresses of one family", t.Src, ipVersion(t.Src), t.Dst, ipVersion(t.Dst))
	}
	if t.Proto == UDP || t.Proto == TCP {
		if t.SrcPort == 0 {
			return invalidf("source port 0: %s needs a port from 1 to 65535", t.Proto)
		}
		if t.DstPort == 0 {
			return invalidf("destination port 0: %s needs a port from 1 to 65535", t.Proto)
		}
	}
	if t.Proto == TCP && t.TCPFlags != "" {
		if err := checkTCPFlags(t.TCPFlags); err != nil {
			return err
		}
	}
	if t.VLAN > 4094 {
		return invalidf("VLAN %d: use an id from 1 to 4094, or 0 for no tag", t.VLAN)
	}
	if t.Size != 0 && (t.Size < MinFrameLen || t.Size > MaxFrameLen) {
		return invalidf("size %d: frames are %d to %d bytes (0 for the shortest)", t.Size, MinFrameLen, MaxFrameLen)
	}
	if h := t.headerLen(); t.size() < h {
		tag := ""
		if t.VLAN != 0 {
			tag = " with a VLAN tag"
		}
		return invalidf("size %d: %s over %s%s has %d bytes of headers: use a size of at least %d", t.Size, strings.ToUpper(t.Proto.String()), ipVersion(t.Src), tag, h, h)
	}
	return nil
}

func checkMAC(which string, mac net.HardwareAddr) error {
	switch len(mac) {
	case 6:
		return nil
	case 0:
		return invalidf("no %s MAC address: give a 6-byte Ethernet address like 02:00:00:00:00:01", which)
	}
	return invalidf("%s MAC address %s is %d bytes: use a 6-byte Ethernet address like 02:00:00:00:00:01", which, mac, len(mac))
}

func checkAddr(which string, a netip.Addr) error {
	switch {
	case !a.IsValid():
		return invalidf("no %s address: give an IPv4 or IPv6 address", which)
	case a.Is4In6():
		return invalidf("%s %s is an IPv4-mapped IPv6 address: write it as IPv4 (%s) for an IPv4 frame", which, a, a.Unmap())
	case a.Zone() != "":
		return invalidf("%s %s has a zone: a packet carries none (write it without %%%s)", which, a, a.Zone())
	}
	return nil
}

// tcpFlagLetters are the letters the packet SPEC takes for TCP flags.
const tcpFlagLetters = "FSRPAUEC"

func checkTCPFlags(s string) error {
	if strings.EqualFold(s, "none") {
		return nil
	}
	for _, c := range s {
		if !strings.ContainsRune(tcpFlagLetters, c) && !strings.ContainsRune(strings.ToLower(tcpFlagLetters), c) {
			return invalidf("TCP flags %q: %q is not a flag; use letters from %s (FIN SYN RST PSH ACK URG ECE CWR), e.g. SA, or none", s, c, tcpFlagLetters)
		}
	}
	return nil
}

// Frame validates t and returns its frame, Size bytes long: the IPv4 total
// length or IPv6 payload length and the UDP length cover the whole frame
// after the Ethernet header (and tag), and the IPv4 header checksum and
// the transport checksum are valid (UDP always has one). A TCP segment of
// the minimum frame size carries no data: Ethernet padding fills it. ICMP
// echo requests have identifier 0x786b and sequence number 1. It allocates the
// frame and a few strings; call it once per run, not per frame.
func (t Template) Frame() ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	size := t.size()
	ttl := t.TTL
	if ttl == 0 {
		ttl = 64
	}
	ls := []packet.Layer{{Name: "eth", Fields: []packet.Field{
		{Key: "src", Value: t.SrcMAC.String()},
		{Key: "dst", Value: t.DstMAC.String()},
	}}}
	if t.VLAN != 0 {
		ls = append(ls, packet.Layer{Name: "vlan", Fields: []packet.Field{{Key: "id", Value: strconv.Itoa(int(t.VLAN))}}})
	}
	ipv6 := t.Src.Is6()
	if ipv6 {
		ls = append(ls, packet.Layer{Name: "ipv6", Fields: []packet.Field{
			{Key: "src", Value: t.Src.String()},
			{Key: "dst", Value: t.Dst.String()},
			{Key: "hlim", Value: strconv.Itoa(int(ttl))},
		}})
	} else {
		ls = append(ls, packet.Layer{Name: "ipv4", Fields: []packet.Field{
			{Key: "src", Value: t.Src.String()},
			{Key: "dst", Value: t.Dst.String()},
			{Key: "ttl", Value: strconv.Itoa(int(ttl))},
		}})
	}
	ports := []packet.Field{
		{Key: "sport", Value: strconv.Itoa(int(t.SrcPort))},
		{Key: "dport", Value: strconv.Itoa(int(t.DstPort))},
	}
	switch t.Proto {
	case UDP:
		ls = append(ls, packet.Layer{Name: "udp", Fields: ports})
	case TCP:
		flags := t.TCPFlags
		if flags == "" {
			flags = "S"
		}
		ls = append(ls, packet.Layer{Name: "tcp", Fields: append(ports, packet.Field{Key: "flags", Value: flags})})
	case ICMP:
		name := "icmp"
		if ipv6 {
			name = "icmp6"
		}
		// A non-zero identifier and sequence number: an all-zero echo
		// request draws a reply some hosts count as a checksum error.
		ls = append(ls, packet.Layer{Name: name, Fields: []packet.Field{
			{Key: "type", Value: "echo-request"},
			{Key: "id", Value: strconv.Itoa(icmpEchoID)},
			{Key: "seq", Value: "1"},
		}})
	}
	// A TCP segment of the minimum frame size carries no data: the
	// Ethernet padding makes up the 60 bytes, as a real SYN's does.
	trailer := 0
	if t.Proto == TCP && len(t.Payload) == 0 && size <= MinFrameLen {
		trailer = size - t.headerLen()
	} else if n := size - t.headerLen(); n > 0 {
		ls = append(ls, packet.Layer{Name: "payload", Fields: []packet.Field{{Key: "hex", Value: hex.EncodeToString(fill(t.Payload, n))}}})
	}
	spec := packet.Spec{Layers: ls}
	frame, err := spec.Build()
	if err != nil {
		return nil, fmt.Errorf("trafficgen: build the template: %w", err)
	}
	frame = append(frame, make([]byte, trailer)...)
	if len(frame) != size {
		return nil, fmt.Errorf("trafficgen: the template is %d bytes, not the %d asked for (a bug)", len(frame), size)
	}
	return frame, nil
}

// fill returns n bytes of p repeated, or n zeros when p is empty.
func fill(p []byte, n int) []byte {
	b := make([]byte, n)
	if len(p) == 0 {
		return b
	}
	for i := 0; i < n; i += len(p) {
		copy(b[i:], p)
	}
	return b
}
