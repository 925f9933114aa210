package netenv_test

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/xdpkit/xdpkit/netenv"
)

func TestSpecValidate(t *testing.T) {
	good := []netenv.Spec{
		{},
		{Name: "a"},
		{Name: "test-1", Queues: 4, MTU: 9000},
		{Name: "123456789"},
		{IPv4: netip.MustParsePrefix("192.168.7.1/30"), IPv6: netip.MustParsePrefix("fd00::1/126")},
		{NoIPv4: true, NoIPv6: true, Isolated: true},
		{Queues: netenv.MaxQueues},
	}
	for _, s := range good {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := []struct {
		spec netenv.Spec
		want string
	}{
		{netenv.Spec{Name: "1234567890"}, "at most 9"},
		{netenv.Spec{Name: "Test"}, "lowercase"},
		{netenv.Spec{Name: "-x"}, "lowercase"},
		{netenv.Spec{Name: "a/b"}, "lowercase"},
		{netenv.Spec{Name: "a b"}, "lowercase"},
		{netenv.Spec{Queues: -1}, "queues"},
		{netenv.Spec{Queues: netenv.MaxQueues + 1}, "queues"},
		{netenv.Spec{MTU: 20}, "mtu"},
		{netenv.Spec{MTU: 70000}, "mtu"},
		{netenv.Spec{IPv4: netip.MustParsePrefix("fd00::1/64")}, "not an ipv4"},
		{netenv.Spec{IPv6: netip.MustParsePrefix("10.0.0.1/24")}, "not an ipv6"},
		{netenv.Spec{IPv4: netip.MustParsePrefix("10.0.0.1/31")}, "prefix length"},
		{netenv.Spec{IPv4: netip.MustParsePrefix("10.0.0.0/24")}, "network address"},
		{netenv.Spec{IPv4: netip.MustParsePrefix("10.0.0.254/24")}, "does not fit"},
		{netenv.Spec{IPv6: netip.MustParsePrefix("fd00::ffff/112")}, "does not fit"},
		{netenv.Spec{IPv4: netip.MustParsePrefix("224.0.0.1/24")}, "unicast"},
		{netenv.Spec{IPv4: netip.MustParsePrefix("10.0.0.1/24"), NoIPv4: true}, "choose one"},
	}
	for _, b := range bad {
		err := b.spec.Validate()
		if err == nil {
			t.Errorf("%+v: no error", b.spec)
			continue
		}
		if !errors.Is(err, os.ErrInvalid) {
			t.Errorf("%+v: %v does not match os.ErrInvalid", b.spec, err)
		}
		if !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: %q does not say %q", b.spec, err, b.want)
		}
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"", "a", "test1", "a-b", "-a", "Ab", "123456789", "1234567890", "a/b", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := netenv.ValidateName(name)
		if err != nil {
			if !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("%q: %v does not match os.ErrInvalid", name, err)
			}
			return
		}
		// A valid name makes valid interface and netns names.
		if len(name) == 0 || len(name) > netenv.MaxNameLen || len("xk-"+name+"-in") > 15 {
			t.Fatalf("%q accepted but too long or empty", name)
		}
		if strings.ContainsAny(name, "/ \t\n:.%") || name[0] == '-' {
			t.Fatalf("%q accepted with a character an interface or netns name cannot hold", name)
		}
	})
}

func FuzzSpecAddresses(f *testing.F) {
	for _, s := range []string{"10.11.5.1/24", "10.0.0.1/30", "10.0.0.2/30", "fc00:dead:cafe:5::1/64", "fd00::fffe/112", "::ffff:10.0.0.1/120", "fe80::1/64", "0.0.0.0/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return
		}
		for _, spec := range []netenv.Spec{{IPv4: p}, {IPv6: p}} {
			if err := spec.Validate(); err != nil {
				if !errors.Is(err, os.ErrInvalid) {
					t.Fatalf("%s: %v does not match os.ErrInvalid", p, err)
				}
				continue
			}
			// Both ends' addresses are distinct hosts of the prefix.
			inner := p.Addr().Next()
			if !p.Contains(p.Addr()) || !p.Contains(inner) || p.Masked().Addr() == p.Addr() {
				t.Fatalf("%s accepted but the ends do not fit", p)
			}
			if spec.IPv4.IsValid() != p.Addr().Is4() {
				t.Fatalf("%s accepted in the wrong family", p)
			}
		}
	})
}

func FuzzParsePingStats(f *testing.F) {
	f.Add([]byte("PING 10.11.5.1 (10.11.5.1) 56(84) bytes of data.\n\n--- 10.11.5.1 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 402ms\nrtt min/avg/max/mdev = 0.030/0.041/0.050/0.008 ms\n"))
	f.Add([]byte("3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2030ms\n"))
	f.Add([]byte("2 packets transmitted, 2 packets received, 0% packet loss\n"))
	f.Add([]byte("99999999999999999999999 packets transmitted, 1 received"))
	f.Add([]byte("ping: connect: Network is unreachable\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		sent, received, ok := netenv.ParsePingStats(out)
		if !ok {
			if sent != 0 || received != 0 {
				t.Fatal("counts returned without ok")
			}
			return
		}
		if sent < 0 || received < 0 {
			t.Fatalf("negative counts %d %d", sent, received)
		}
	})
}

func TestParsePingStats(t *testing.T) {
	for _, c := range []struct {
		out            string
		sent, received int
		ok             bool
	}{
		{"--- x ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 402ms\n", 3, 3, true},
		{"5 packets transmitted, 2 received, 60% packet loss\n", 5, 2, true},
		{"2 packets transmitted, 2 packets received, 0% packet loss\n", 2, 2, true},
		{"ping: unknown host\n", 0, 0, false},
	} {
		sent, received, ok := netenv.ParsePingStats([]byte(c.out))
		if sent != c.sent || received != c.received || ok != c.ok {
			t.Errorf("%q: got %d %d %v", c.out, sent, received, ok)
		}
	}
}
