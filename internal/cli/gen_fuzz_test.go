package cli

import (
	"encoding/binary"
	"testing"
)

// FuzzParseAddrRange: --src-addr never panics, and what it accepts is a
// range the generator can vary: at least one address, at most 2^32-1,
// and the last one still in the same 32 low bits.
func FuzzParseAddrRange(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/24", "10.0.0.1-10.0.0.50", "fc00::1", "fc00::/120",
		"fc00::1-fc00::ffff:ffff", "0.0.0.0/0", "::/0", "10.0.0.5-10.0.0.1", "fe80::1%eth0", "::ffff:10.0.0.1", "-", "/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseAddrRange("src-addr", s)
		if err != nil {
			return
		}
		if !r.first.IsValid() || r.count < 1 || r.count > maxSrcAddrs {
			t.Fatalf("%q: accepted %+v", s, r)
		}
		a := r.first.As16()
		if low := uint64(binary.BigEndian.Uint32(a[12:])); low+r.count-1 > 0xffffffff {
			t.Fatalf("%q: %d addresses from %s overflow the low 32 bits", s, r.count, r.first)
		}
	})
}

// FuzzParsePortRange: --src-port and --dst-port never panic, and what
// they accept stays within 1 to 65535.
func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"9", "1000-1999", "65535", "0", "65536", "2-1", "1-65535", " 5 - 6 ", "-", "1-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, n, err := parsePortRange("dst-port", s)
		if err != nil {
			return
		}
		if first == 0 || n == 0 || uint64(first)+uint64(n)-1 > 65535 {
			t.Fatalf("%q: accepted port %d and %d ports", s, first, n)
		}
	})
}

// FuzzParseMAC: --src-mac and --dst-mac never panic and accept only
// 6-byte addresses.
func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "0200.0000.0001", "02:00:00:00:00", "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mac, err := parseMAC("dst-mac", s)
		if err == nil && len(mac) != 6 {
			t.Fatalf("%q: accepted %v", s, mac)
		}
	})
}
