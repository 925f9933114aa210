package netdev_test

import (
	"testing"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/netenv"
)

func TestCounters(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil {
		t.Fatal(err)
	}
	if d.Peer == nil {
		t.Fatal("no peer found")
	}
	dev0, err := d.Counters()
	if err != nil {
		t.Fatal(err)
	}
	peer0, err := d.Peer.Counters()
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	if _, err := env.Ping(t.Context(), netenv.PingOptions{From: netenv.Outer, Count: n}); err != nil {
		t.Fatal(err)
	}
	dev1, err := d.Counters()
	if err != nil {
		t.Fatal(err)
	}
	peer1, err := d.Peer.Counters()
	if err != nil {
		t.Fatal(err)
	}
	// Each echo request leaves the outer end and arrives at the inner
	// one; each reply goes back. ARP adds a few.
	for _, c := range []struct {
		what        string
		before, now uint64
	}{
		{"device TxPackets", dev0.TxPackets, dev1.TxPackets},
		{"device RxPackets", dev0.RxPackets, dev1.RxPackets},
		{"peer RxPackets", peer0.RxPackets, peer1.RxPackets},
		{"peer TxPackets", peer0.TxPackets, peer1.TxPackets},
	} {
		if c.now < c.before+n {
			t.Errorf("%s went from %d to %d after %d pings", c.what, c.before, c.now, n)
		}
	}
	if dev1.TxBytes <= dev0.TxBytes || peer1.RxBytes <= peer0.RxBytes {
		t.Errorf("byte counters did not move: device tx %d->%d, peer rx %d->%d", dev0.TxBytes, dev1.TxBytes, peer0.RxBytes, peer1.RxBytes)
	}
}
