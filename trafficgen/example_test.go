package trafficgen_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/xdpkit/xdpkit/trafficgen"
)

// Send a million 64-byte UDP frames out of veth0, to ten destination
// ports, at most 100 000 per second, with a pass-through program on the
// veth's peer so that it accepts them.
func Example() {
	frame, err := trafficgen.Template{
		Proto:   trafficgen.UDP,
		SrcMAC:  net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		DstMAC:  net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		Src:     netip.MustParseAddr("10.0.0.1"),
		Dst:     netip.MustParseAddr("10.0.0.2"),
		SrcPort: 4000, DstPort: 5000,
		Size: 64,
	}.Frame()
	if err != nil {
		panic(err)
	}
	g, err := trafficgen.New(trafficgen.Spec{
		Interface:   "veth0",
		Frames:      [][]byte{frame},
		Flows:       trafficgen.Flows{DstPorts: 10},
		Count:       1_000_000,
		PPS:         100_000,
		PeerProgram: trafficgen.PeerDrop,
	})
	if err != nil {
		panic(err)
	}
	defer g.Close()
	go func() {
		for range time.Tick(time.Second) {
			s := g.Stats()
			fmt.Printf("%d frames, %.0f pps\n", s.Frames, trafficgen.Rate(s.Frames, s.Elapsed))
		}
	}()
	// Run starts the workers and returns when the count is sent (or the
	// context is cancelled, which stops them within a batch).
	s, err := g.Run(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Printf("sent %d frames, %d arrived at the peer\n", s.Frames, s.Device.Delivered())
}
