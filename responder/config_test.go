package responder_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/xdpkit/xdpkit/responder"
)

func TestValidate(t *testing.T) {
	ok := []netip.Addr{own4}
	for _, c := range []struct {
		name string
		cfg  responder.Config
		want string // in the error; "" for valid
	}{
		{"valid", testConfig(), ""},
		{"v4-only", responder.Config{MAC: ownMAC, Addrs: ok}, ""},
		{"v6-only", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{own6}}, ""},
		{"zoned-link-local", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{netip.MustParseAddr("fe80::1%eth0")}}, ""},
		{"duplicates", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{own4, own4, own6, own6}}, ""},
		{"no-mac", responder.Config{Addrs: ok}, "is 0 bytes"},
		{"eui64-mac", responder.Config{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0, 0, 1}, Addrs: ok}, "is 8 bytes"},
		{"multicast-mac", responder.Config{MAC: net.HardwareAddr{1, 0, 0x5e, 0, 0, 1}, Addrs: ok}, "multicast"},
		{"broadcast-mac", responder.Config{MAC: bcast, Addrs: ok}, "broadcast"},
		{"zero-mac", responder.Config{MAC: make(net.HardwareAddr, 6), Addrs: ok}, "all zero"},
		{"no-addrs", responder.Config{MAC: ownMAC}, "no addresses"},
		{"zero-addr", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{own4, {}}}, "address 1: the zero netip.Addr"},
		{"unspecified4", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{netip.IPv4Unspecified()}}, "0.0.0.0 is the unspecified"},
		{"unspecified6", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{netip.IPv6Unspecified()}}, ":: is the unspecified"},
		{"multicast4", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{netip.MustParseAddr("224.0.0.1")}}, "multicast"},
		{"multicast6", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{allNodes}}, "multicast"},
		{"broadcast4", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{netip.MustParseAddr("255.255.255.255")}}, "limited broadcast"},
		{"mapped", responder.Config{MAC: ownMAC, Addrs: []netip.Addr{netip.MustParseAddr("::ffff:192.0.2.1")}}, "give it unmapped as 192.0.2.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			r, nerr := responder.New(c.cfg)
			if c.want == "" {
				if err != nil || nerr != nil || r == nil {
					t.Fatalf("Validate: %v, New: %v", err, nerr)
				}
				return
			}
			if err == nil || !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate = %v, want an os.ErrInvalid error containing %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "responder config: ") || strings.HasSuffix(err.Error(), "invalid argument") {
				t.Errorf("message %q", err)
			}
			if r != nil || nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("New = %v, %v", r, nerr)
			}
		})
	}
}

// TestNewCopies: changing the Config after New changes nothing.
func TestNewCopies(t *testing.T) {
	cfg := testConfig()
	r := newResponder(t, cfg)
	cfg.MAC[5] = 0x99
	cfg.Addrs[0] = other4
	f := arpReq{spa: peer4, tpa: own4}.frame(t)
	if _, k := r.Answer(f, len(f)); k != responder.ARPReply || net.HardwareAddr(f[6:12]).String() != "02:00:5e:00:00:01" {
		t.Errorf("kind %v, source MAC %v", k, net.HardwareAddr(f[6:12]))
	}
}

// TestZonedAddr: an IPv6 zone is ignored.
func TestZonedAddr(t *testing.T) {
	r := newResponder(t, responder.Config{MAC: ownMAC, Addrs: []netip.Addr{netip.MustParseAddr("fe80::1:2:3%eth0")}})
	e := echo6{ip6: ip6{src: peerLL, dst: ownLL}, data: payload(8)}
	f := e.frame(t)
	if _, k := r.Answer(f, len(f)); k != responder.EchoReplyV6 {
		t.Errorf("kind %v", k)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[responder.Kind]string{
		responder.None:                  "none",
		responder.ARPReply:              "arp-reply",
		responder.NeighborAdvertisement: "neighbor-advertisement",
		responder.EchoReplyV4:           "echo-reply-v4",
		responder.EchoReplyV6:           "echo-reply-v6",
		5:                               "kind(5)",
		255:                             "kind(255)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

func TestCounts(t *testing.T) {
	var c responder.Counts
	for _, k := range []responder.Kind{responder.None, responder.ARPReply, responder.ARPReply, responder.EchoReplyV6, 9} {
		c.Add(k)
	}
	if c != (responder.Counts{1, 2, 0, 0, 1}) || c.Total() != 4 {
		t.Errorf("counts %v, total %d", c, c.Total())
	}
}
