package trafficgen

import (
	"testing"

	"github.com/xdpkit/xdpkit/internal/sys"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/netenv"
)

// TestLiveFramesCallAllocatesNothing: a worker's call, made again after a
// stray signal, allocates nothing.
func TestLiveFramesCallAllocatesNothing(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil || d.Peer == nil {
		t.Fatalf("lookup: %v", err)
	}
	drop, err := d.Peer.AttachDrop()
	if err != nil {
		t.Fatal(err)
	}
	defer drop.Close()
	frame := envFrame(t, env, Template{Proto: UDP})
	spec := Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}}
	c, err := configure(&spec, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := loadProgram(c)
	if err != nil {
		t.Fatal(err)
	}
	defer objs.Close()
	call := sys.NewLiveFrames(objs.XdpGen.FD(), frame, uint32(d.Index), 0, 0)
	allocs := testing.AllocsPerRun(3, func() {
		if err := call.Run(64); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("a live-frames call allocates %v times", allocs)
	}
}

// BenchmarkGenerator sends b.N 60-byte UDP frames on one thread to a veth
// whose peer drops them, and reports frames per second (over the active
// time) and per frame what the whole run allocated.
func BenchmarkGenerator(b *testing.B) {
	for _, rewrite := range []Rewrite{RewriteNever, RewriteAlways} {
		b.Run("rewrite="+rewrite.String(), func(b *testing.B) {
			env := testutil.NewEnv(b, netenv.Spec{})
			tmpl := Template{Proto: UDP, SrcMAC: env.Outer.MAC, DstMAC: env.Inner.MAC,
				Src: env.Outer.IPv4.Addr(), Dst: env.Inner.IPv4.Addr(), SrcPort: 1, DstPort: 9}
			frame, err := tmpl.Frame()
			if err != nil {
				b.Fatal(err)
			}
			g, err := New(Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}, Count: uint64(max(b.N, 1)),
				PeerProgram: PeerDrop, Rewrite: rewrite})
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			b.ReportAllocs()
			b.ResetTimer()
			s, err := g.Run(b.Context())
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(Rate(s.Frames, s.Active), "frames/s")
			if s.Device != nil {
				b.ReportMetric(float64(s.Device.Delivered())/float64(max(s.Frames, 1)), "delivered/sent")
			}
		})
	}
}
