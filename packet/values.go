package packet

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The parsers below read one SPEC field value. Their errors name the value
// and the accepted form; the caller adds the layer and the field.

// parseUint reads a decimal or 0x-hex number from 0 to max. Leading zeros
// are decimal ("010" is ten), never octal.
func parseUint(v string, max uint64) (uint64, error) {
	digits, base := v, 10
	if len(v) > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') {
		digits, base = v[2:], 16
	}
	ok := digits != ""
	for i := range len(digits) {
		c := digits[i]
		if !isDigit(c) && !(base == 16 && isHexLetter(c)) {
			ok = false
			break
		}
	}
	var n uint64
	var err error
	if ok {
		n, err = strconv.ParseUint(digits, base, 64)
	}
	if !ok || err != nil || n > max {
		return 0, fmt.Errorf("%q is not a number from 0 to %d (decimal or 0x hex)", v, max)
	}
	return n, nil
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isHexLetter(c byte) bool { return c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// parseNamedUint reads a number from 0 to max, or one of the names in
// names (case-insensitive). what describes the value in the error, e.g.
// "an ICMP type".
func parseNamedUint(v string, max uint64, names []namedValue, what string) (uint64, error) {
	for _, nv := range names {
		if strings.EqualFold(v, nv.name) {
			return nv.value, nil
		}
	}
	n, err := parseUint(v, max)
	if err != nil {
		list := make([]string, len(names))
		for i, nv := range names {
			list[i] = nv.name
		}
		return 0, fmt.Errorf("%q is not %s (%s, or a number from 0 to %d)", v, what, strings.Join(list, ", "), max)
	}
	return n, nil
}

// namedValue is a name a SPEC accepts in place of a number.
type namedValue struct {
	name  string
	value uint64
}

// nameOf returns the name of value in names, or "".
func nameOf(names []namedValue, value uint64) string {
	for _, nv := range names {
		if nv.value == value {
			return nv.name
		}
	}
	return ""
}

var (
	etherTypeNames = []namedValue{{"ipv4", 0x0800}, {"arp", 0x0806}, {"vlan", 0x8100}, {"ipv6", 0x86dd}}
	ipProtoNames   = []namedValue{{"icmp", 1}, {"ipip", 4}, {"tcp", 6}, {"udp", 17}, {"ipv6", 41}, {"icmp6", 58}}
	arpOpNames     = []namedValue{{"request", 1}, {"reply", 2}}
	icmpTypeNames  = []namedValue{
		{"echo-reply", 0}, {"dest-unreachable", 3}, {"redirect", 5},
		{"echo-request", 8}, {"time-exceeded", 11}, {"param-problem", 12},
	}
	icmp6TypeNames = []namedValue{
		{"dest-unreachable", 1}, {"packet-too-big", 2}, {"time-exceeded", 3}, {"param-problem", 4},
		{"echo-request", 128}, {"echo-reply", 129},
		{"router-solicitation", 133}, {"router-advertisement", 134},
		{"neighbor-solicitation", 135}, {"neighbor-advertisement", 136},
	}
)

// parseMAC reads a 6-byte MAC address: 02:00:00:00:00:01, 02-00-00-00-00-01
// or 0200.0000.0001.
func parseMAC(v string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(v)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("%q is not a MAC address (want 6 bytes like 02:00:00:00:00:01)", v)
	}
	return mac, nil
}

// parseIPv4 reads a dotted-quad IPv4 address.
func parseIPv4(v string) (net.IP, error) {
	a, err := netip.ParseAddr(v)
	if err == nil && a.Is4() {
		return net.IP(a.AsSlice()), nil
	}
	if err == nil {
		return nil, fmt.Errorf("%q is an IPv6 address; ipv4 needs an IPv4 address like 10.0.0.1 (use the ipv6 layer for IPv6)", v)
	}
	return nil, fmt.Errorf("%q is not an IPv4 address (want a dotted quad like 10.0.0.1)", v)
}

// parseIPv6 reads an IPv6 address without a zone.
func parseIPv6(v string) (net.IP, error) {
	a, err := netip.ParseAddr(v)
	switch {
	case err == nil && a.Is4():
		return nil, fmt.Errorf("%q is an IPv4 address; ipv6 needs an IPv6 address like fc00::1 (use the ipv4 layer for IPv4, or write ::ffff:%s)", v, v)
	case err == nil && a.Zone() != "":
		return nil, fmt.Errorf("%q has a zone; a packet carries no zone (write it without %%%s)", v, a.Zone())
	case err == nil:
		return net.IP(a.AsSlice()), nil
	}
	return nil, fmt.Errorf("%q is not an IPv6 address (want one like fc00::1)", v)
}

// parseBool reads true/false (also 1/0, yes/no).
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

// tcpFlagLetters are the TCP flag letters in header bit order, lowest bit
// first: FIN SYN RST PSH ACK URG ECE CWR.
const tcpFlagLetters = "FSRPAUEC"

// parseTCPFlags reads letters from FSRPAUEC (either case) or "none" into
// the flags byte, bit i for letter i of tcpFlagLetters.
func parseTCPFlags(v string) (uint8, error) {
	if strings.EqualFold(v, "none") {
		return 0, nil
	}
	if v == "" {
		return 0, fmt.Errorf("no flags given (letters from %s, e.g. SA, or none)", tcpFlagLetters)
	}
	var flags uint8
	for _, c := range v {
		i := strings.IndexRune(tcpFlagLetters, c)
		if i < 0 && c >= 'a' && c <= 'z' {
			i = strings.IndexRune(tcpFlagLetters, c-'a'+'A')
		}
		if i < 0 {
			return 0, fmt.Errorf("%q: %q is not a TCP flag (letters from %s, e.g. SA, or none)", v, c, tcpFlagLetters)
		}
		flags |= 1 << i
	}
	return flags, nil
}

// tcpFlagString is the inverse of parseTCPFlags: "SA", or "none".
func tcpFlagString(flags uint8) string {
	var b strings.Builder
	for i := range len(tcpFlagLetters) {
		if flags&(1<<i) != 0 {
			b.WriteByte(tcpFlagLetters[i])
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}
