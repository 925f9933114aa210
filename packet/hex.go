package packet

import (
	"fmt"
	"os"
	"strings"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// ParseHex decodes hex bytes such as "0a0b0c", "0x0a0b0c", "0a 0b 0c",
// "0a:0b:0c" or "0a-0b-0c", or such bytes split over lines.
// Spaces, tabs, newlines, colons and dashes may stand between digits, and
// each group of digits may start with 0x. Any number of bytes is accepted,
// even fewer than an Ethernet header: the caller decides. Errors match
// os.ErrInvalid.
func ParseHex(s string) ([]byte, error) {
	b, err := decodeHex(s)
	if err != nil {
		return nil, errs.Markf(os.ErrInvalid, "hex input: %w", err)
	}
	return b, nil
}

func isHexSeparator(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == '-'
}

func hexValue(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hexDigits returns s without separators and 0x group prefixes.
func hexDigits(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	groupStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isHexSeparator(c) {
			groupStart = true
			continue
		}
		if groupStart && c == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
			i++
			groupStart = false
			continue
		}
		groupStart = false
		b.WriteByte(c)
	}
	return b.String()
}

// decodeHex is ParseHex without the "hex input: " prefix on its errors.
func decodeHex(s string) ([]byte, error) {
	d := hexDigits(s)
	if d == "" {
		return nil, fmt.Errorf("no hex digits (write bytes like 0a0b0c)")
	}
	for i := 0; i < len(d); i++ {
		if _, ok := hexValue(d[i]); !ok {
			start := i &^ 1
			end := min(start+2, len(d))
			// Show whole characters: the bad byte may start a multi-byte rune.
			for end < len(d) && end < start+6 && d[end]&0xc0 == 0x80 {
				end++
			}
			return nil, fmt.Errorf("%q at byte %d is not hex (bytes are two digits from 0-9 and a-f)", d[start:end], start/2+1)
		}
	}
	if len(d)%2 != 0 {
		return nil, fmt.Errorf("odd number of hex digits (%d); each byte is two digits, e.g. 0a", len(d))
	}
	out := make([]byte, len(d)/2)
	for i := range out {
		hi, _ := hexValue(d[2*i])
		lo, _ := hexValue(d[2*i+1])
		out[i] = hi<<4 | lo
	}
	return out, nil
}

// FromArg returns the frame a command-line argument gives, as hex or as a
// SPEC. The rule: an argument is a SPEC when it contains '/', '(', ')' or
// '=', or when its first word is a layer name (eth, vlan, arp, ipv4, ipv6,
// udp, tcp, icmp, icmp6, payload); otherwise it is hex when it starts with
// a hex digit, and a SPEC when it does not. No layer name is made of hex
// digits, so "eth" is a SPEC and "0a0b0c", "0x0a0b", "de:ad:be:ef" are hex,
// and a mistyped argument gets the error of the form it resembles: "0a0g"
// a hex error, "ipv5" an unknown-layer error. Errors match os.ErrInvalid.
func FromArg(arg string) ([]byte, error) {
	t := strings.TrimFunc(arg, isSpace)
	if t == "" {
		return nil, errs.Markf(os.ErrInvalid, "empty packet argument (give hex bytes like 0a0b0c or a spec like eth/ipv4/udp/payload(64))")
	}
	if isSpecArg(t) {
		return Build(arg)
	}
	if _, ok := hexValue(t[0]); ok {
		return ParseHex(arg)
	}
	return Build(arg)
}

// isSpecArg reports whether a trimmed argument is a SPEC by FromArg's rule.
func isSpecArg(t string) bool {
	if strings.ContainsAny(t, "/()=") {
		return true
	}
	end := 0
	for end < len(t) && isWordByte(t[end]) {
		end++
	}
	return lookupLayer(strings.ToLower(t[:end])) != nil
}
