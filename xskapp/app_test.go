package xskapp_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/responder"
	"github.com/xdpkit/xdpkit/xsk"
	"github.com/xdpkit/xdpkit/xskapp"
)

// start runs app in the background and returns a function that stops it
// and returns its final stats.
func start(t *testing.T, app *xskapp.App) func() xskapp.Stats {
	t.Helper()
	type result struct {
		s   xskapp.Stats
		err error
	}
	ctx, cancel := context.WithCancel(t.Context())
	res := make(chan result, 1)
	go func() {
		s, err := app.Run(ctx)
		res <- result{s, err}
	}()
	return func() xskapp.Stats {
		cancel()
		r := <-res
		if r.err != nil {
			t.Fatalf("Run: %v", r.err)
		}
		return r.s
	}
}

func TestPingResponder(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	resp, err := responder.New(responder.Config{
		MAC:   env.Outer.MAC,
		Addrs: []netip.Addr{env.Outer.IPv4.Addr(), env.Outer.IPv6.Addr()},
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := xskapp.New(xskapp.Config{Kind: xskapp.Ping, Interface: env.Outer.Interface, Bind: xsk.ModeCopy, Responder: resp})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	// The inner end must learn the outer end's MAC from the responder.
	if _, err := env.Exec(t.Context(), "ip", "neigh", "flush", "all"); err != nil {
		t.Fatal(err)
	}
	stop := start(t, app)
	// More frames the responder does not answer than its FILL ring holds:
	// it must keep handing their UMEM frames back, or it goes deaf.
	sock := testutil.OpenPacketSocket(t, env.Inner, etherTest)
	for i := range 3000 {
		if err := sock.Send(testFrame(env.Inner.MAC, env.Outer.MAC, uint32(i))); err != nil {
			t.Fatal(err)
		}
	}
	for _, v6 := range []bool{false, true} {
		r, err := env.Ping(t.Context(), netenv.PingOptions{IPv6: v6, Count: 5, Interval: 50 * time.Millisecond})
		if err != nil {
			t.Errorf("ping (IPv6 %v): %v", v6, err)
		} else if r.Received != 5 {
			t.Errorf("ping (IPv6 %v): %d of 5 replies", v6, r.Received)
		}
	}
	s := stop()
	t.Logf("stats: %+v", s.Counters)
	if s.Replies[responder.EchoReplyV4] < 5 || s.Replies[responder.EchoReplyV6] < 5 {
		t.Errorf("replies %v: want at least 5 echo replies of each family", s.Replies)
	}
	if s.Replies[responder.ARPReply] == 0 || s.Replies[responder.NeighborAdvertisement] == 0 {
		t.Errorf("replies %v: want an ARP reply and a neighbour advertisement", s.Replies)
	}
}
