package netdev_test

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/netenv"
)

func TestLookupVeth(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != env.Outer.Interface || d.Index != env.Outer.Ifindex || d.Kind != "veth" {
		t.Errorf("device %s index %d kind %q, want %s index %d kind veth", d.Name, d.Index, d.Kind, env.Outer.Interface, env.Outer.Ifindex)
	}
	if d.MAC.String() != env.Outer.MAC.String() || d.MTU != env.MTU || !d.Up {
		t.Errorf("MAC %s MTU %d up %v, want %s %d true", d.MAC, d.MTU, d.Up, env.Outer.MAC, env.MTU)
	}
	if d.RxQueues != env.Queues || d.TxQueues != env.Queues {
		t.Errorf("queues rx %d tx %d, want %d", d.RxQueues, d.TxQueues, env.Queues)
	}
	checkAddrs(t, "device", d.Addrs, env.Outer)

	p := d.Peer
	if p == nil {
		t.Fatal("no peer found")
	}
	if p.Name != env.Inner.Interface || p.Index != env.Inner.Ifindex || p.Netns != env.Inner.Netns {
		t.Errorf("peer %s index %d in netns %q, want %s index %d in %q", p.Name, p.Index, p.Netns, env.Inner.Interface, env.Inner.Ifindex, env.Inner.Netns)
	}
	if p.MAC.String() != env.Inner.MAC.String() {
		t.Errorf("peer MAC %s, want %s", p.MAC, env.Inner.MAC)
	}
	if p.XDPProgID != 0 {
		t.Errorf("peer has XDP program %d on a fresh env", p.XDPProgID)
	}
	checkAddrs(t, "peer", p.Addrs, env.Inner)
}

// checkAddrs checks that addrs hold end's addresses, IPv4 ones first.
func checkAddrs(t *testing.T, what string, addrs []netip.Prefix, end netenv.End) {
	t.Helper()
	for _, want := range []netip.Prefix{end.IPv4, end.IPv6} {
		if want.IsValid() && !slices.Contains(addrs, want) {
			t.Errorf("%s addresses %v lack %s", what, addrs, want)
		}
	}
	for i := 1; i < len(addrs); i++ {
		if addrs[i].Addr().Is4() && addrs[i-1].Addr().Is6() {
			t.Errorf("%s addresses %v: IPv4 after IPv6", what, addrs)
		}
	}
}

func TestLookupMissing(t *testing.T) {
	_, err := netdev.Lookup("xk-nosuchif")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Lookup of a missing interface: %v, want os.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), `"xk-nosuchif"`) || !strings.Contains(err.Error(), "ip link show") {
		t.Errorf("message %q names neither the interface nor how to list them", err)
	}
}

func TestLookupLoopback(t *testing.T) {
	d, err := netdev.Lookup("lo")
	if err != nil {
		t.Fatal(err)
	}
	if d.Peer != nil {
		t.Errorf("lo has a peer: %+v", d.Peer)
	}
	if d.Kind != "device" || d.Index != 1 {
		t.Errorf("lo: kind %q index %d, want device 1", d.Kind, d.Index)
	}
	if !slices.Contains(d.Addrs, netip.MustParsePrefix("127.0.0.1/8")) {
		t.Errorf("lo addresses %v lack 127.0.0.1/8", d.Addrs)
	}
}

func TestRefresh(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Outer.Exec(t.Context(), "ip", "link", "set", env.Outer.Interface, "down", "mtu", "1400"); err != nil {
		t.Fatal(err)
	}
	if err := d.Refresh(); err != nil {
		t.Fatal(err)
	}
	if d.Up || d.MTU != 1400 || d.Peer == nil {
		t.Errorf("after down and mtu 1400: up %v MTU %d peer %v", d.Up, d.MTU, d.Peer)
	}
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Refresh(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Refresh of a deleted interface: %v, want os.ErrNotExist", err)
	}
}
