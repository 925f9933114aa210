package packet

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseHex(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"0a0b0c", []byte{0x0a, 0x0b, 0x0c}},
		{"0x0A0b0C", []byte{0x0a, 0x0b, 0x0c}},
		{"0a 0b\t0c\n0d\r\n", []byte{0x0a, 0x0b, 0x0c, 0x0d}},
		{"0a:0b:0c", []byte{0x0a, 0x0b, 0x0c}},
		{"0a-0b-0c", []byte{0x0a, 0x0b, 0x0c}},
		{"0x0a 0x0b 0X0c", []byte{0x0a, 0x0b, 0x0c}},
		{"0a0b\n0c0d", []byte{0x0a, 0x0b, 0x0c, 0x0d}},
		{"ff", []byte{0xff}},
		{"00", []byte{0x00}},
	}
	for _, tc := range tests {
		got, err := ParseHex(tc.in)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("ParseHex(%q) = %x, %v; want %x", tc.in, got, err, tc.want)
		}
	}
}

func TestParseHexErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0a0b0c0d0e0f0", "hex input: odd number of hex digits (13)"},
		{"0a0bzz", `hex input: "zz" at byte 3 is not hex`},
		{"0a 0b zz", `hex input: "zz" at byte 3 is not hex`},
		{"0g", `hex input: "0g" at byte 1 is not hex`},
		{"0a0x0b", `hex input: "0x" at byte 2 is not hex`},
		{"0aé", `hex input: "é" at byte 2 is not hex`},
		{"", "hex input: no hex digits (write bytes like 0a0b0c)"},
		{" :- ", "hex input: no hex digits"},
		{"0x", "hex input: no hex digits"},
	}
	for _, tc := range tests {
		_, err := ParseHex(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseHex(%q) = %v, want %q", tc.in, err, tc.want)
			continue
		}
		if !errors.Is(err, os.ErrInvalid) {
			t.Errorf("ParseHex(%q): %v does not match os.ErrInvalid", tc.in, err)
		}
	}
}

func TestFromArg(t *testing.T) {
	udp := expectUDPv4()
	tests := []struct {
		arg  string
		want []byte
	}{
		{"0a0b0c", []byte{0x0a, 0x0b, 0x0c}},
		{"0x0a0b", []byte{0x0a, 0x0b}},
		{"de:ad:be:ef", []byte{0xde, 0xad, 0xbe, 0xef}},
		{"  ff ff  ", []byte{0xff, 0xff}},
		{"eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(sport=1234,dport=53)/payload(hex=01020304)", udp},
		{"eth", cat(macDst, macSrc, []byte{0x88, 0xb5})},
		{"ETH", cat(macDst, macSrc, []byte{0x88, 0xb5})},
		{"  eth(type=0x0800)", ethIPv4},
	}
	for _, tc := range tests {
		got, err := FromArg(tc.arg)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("FromArg(%q) = %x, %v; want %x", tc.arg, got, err, tc.want)
		}
	}
	errTests := []struct{ arg, want string }{
		{"", "empty packet argument (give hex bytes like 0a0b0c or a spec like eth/ipv4/udp/payload(64))"},
		{"0a0g", `hex input: "0g" at byte 2 is not hex`},
		{"add", "hex input: odd number of hex digits (3)"},
		{"ipv5", `packet spec "ipv5": layer 1: unknown layer "ipv5"`},
		{"ipv4", `layer 1 ipv4: a spec starts with eth`},
		{"eth ipv4", `layer 1 eth: unexpected 'i' after the layer`},
		{"0a/0b", `packet spec "0a/0b": layer 1: unknown layer "0a"`},
	}
	for _, tc := range errTests {
		_, err := FromArg(tc.arg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, os.ErrInvalid) {
			t.Errorf("FromArg(%q) = %v, want an invalid-input error containing %q", tc.arg, err, tc.want)
		}
	}
}
