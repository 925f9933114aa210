package xdp

import (
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/xdpkit/xdpkit/internal/builtin"
	"github.com/xdpkit/xdpkit/internal/testutil"
)

// TestProgIDsPerMode checks the netlink query used for interfaces with
// programs in several modes (which needs an offloading NIC to set up) on an
// interface with one: the kernel reports the per-mode id then too.
func TestProgIDsPerMode(t *testing.T) {
	testutil.RequirePrivileged(t)
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: testutil.UniqueName("xi")},
		PeerName:  testutil.UniqueName("xj"),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(veth) })

	for _, mode := range []Mode{ModeGeneric, ModeNative} {
		a, err := Attach(AttachOptions{Interface: veth.Name, Object: builtin.XDPPassObject(), Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		ids, err := progIDsPerMode(a.Info().Index)
		a.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := uint32(a.Info().Programs[0].ID)
		if len(ids) != 1 || ids[mode] != want {
			t.Errorf("%s: progIDsPerMode = %v, want %s: %d", mode, ids, mode, want)
		}
	}
}
