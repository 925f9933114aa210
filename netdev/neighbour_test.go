package netdev_test

import (
	"net/netip"
	"testing"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/netenv"
)

func TestNeighbour(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil {
		t.Fatal(err)
	}
	inner := env.Inner.IPv4.Addr()
	if mac, ok := d.Neighbour(inner); ok {
		t.Errorf("neighbour %s known before any traffic: %s", inner, mac)
	}
	if _, err := env.Ping(t.Context(), netenv.PingOptions{From: netenv.Outer, Count: 1}); err != nil {
		t.Fatal(err)
	}
	mac, ok := d.Neighbour(inner)
	if !ok || mac.String() != env.Inner.MAC.String() {
		t.Errorf("neighbour %s after a ping: %s %v, want %s", inner, mac, ok, env.Inner.MAC)
	}
	if mac, ok := d.Neighbour(netip.MustParseAddr("192.0.2.1")); ok {
		t.Errorf("neighbour 192.0.2.1 never seen: %s", mac)
	}
}
