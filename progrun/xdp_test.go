package progrun_test

import (
	"bytes"
	"testing"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/progrun"
)

// The XDP tests run xdp_echo of bpf/testprogs/run_xdp.c.

func xdpMeta(res progrun.Result) []byte {
	c, ok := res.Context.(*progrun.XDPContext)
	if !ok {
		return []byte("not an *XDPContext")
	}
	return c.Meta
}

func TestXDPEchoTX(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_xdp", "xdp_echo")
	in := udp4Frame(ip4C, 40000, 7, "ping")
	orig := bytes.Clone(in)

	res := run(t, r, progrun.Input{Data: in})
	wantVerdict(t, res, 3, "XDP_TX")
	want := cat(macB, macA, orig[12:]) // the MACs swapped
	wantBytes(t, "packet out", res.Data, want)
	wantBytes(t, "packet in after the run", in, orig)
	if m := xdpMeta(res); len(m) != 0 {
		t.Errorf("meta out % x, want none", m)
	}
	if res.Repeat != 1 {
		t.Errorf("repeat %d, want 1", res.Repeat)
	}
}

func TestXDPDropAndPass(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_xdp", "xdp_echo")
	for _, tc := range []struct {
		name  string
		frame []byte
		code  uint32
		verd  string
	}{
		{"tcp", tcp4Frame(ip4C, 40000, 80), 1, "XDP_DROP"},
		{"udp other port", udp4Frame(ip4C, 40000, 53, "query"), 2, "XDP_PASS"},
		{"arp", arpFrame(), 2, "XDP_PASS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, r, progrun.Input{Data: tc.frame})
			wantVerdict(t, res, tc.code, tc.verd)
			if got := res.Verdict.Dropped(); got != (tc.code == 1) {
				t.Errorf("Dropped() = %v", got)
			}
			wantBytes(t, "packet out", res.Data, tc.frame)
		})
	}
}

// Without a context, the kernel runs the program on the loopback device's
// queue 0, which is what the program reads as ingress_ifindex; the context
// out keeps what went in (0).
func TestXDPMetaAdded(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_xdp", "xdp_echo")
	in := udp4Frame(ip4C, 40000, 9, "meta")

	res := run(t, r, progrun.Input{Data: in})
	wantVerdict(t, res, 2, "XDP_PASS")
	wantBytes(t, "meta out", xdpMeta(res), cat(ne32(1), ne32(0)))
	wantBytes(t, "packet out", res.Data, in)
	if c := res.Context.(*progrun.XDPContext); c.IngressIfindex != 0 || c.RxQueueIndex != 0 {
		t.Errorf("context out %+v, want ifindex and queue 0 as given", c)
	}

	// Metadata in: the program puts its 8 bytes in front of it.
	ctx := &progrun.XDPContext{IngressIfindex: 1, Meta: []byte{0xde, 0xad, 0xbe, 0xef}}
	res = run(t, r, progrun.Input{Data: in, Context: ctx})
	wantBytes(t, "meta out", xdpMeta(res), cat(ne32(1), ne32(0), []byte{0xde, 0xad, 0xbe, 0xef}))
	wantBytes(t, "packet out", res.Data, in)
	wantBytes(t, "meta in after the run", ctx.Meta, []byte{0xde, 0xad, 0xbe, 0xef})

	// Metadata in, left alone by the program: it comes back as it went in.
	other := udp4Frame(ip4C, 40000, 53, "x")
	res = run(t, r, progrun.Input{Data: other, Context: &progrun.XDPContext{Meta: []byte{1, 2, 3, 4, 5, 6, 7, 8}}})
	wantVerdict(t, res, 2, "XDP_PASS")
	wantBytes(t, "meta out", xdpMeta(res), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	wantBytes(t, "packet out", res.Data, other)
}

// On a real interface the program sees its ifindex and the rx queue given.
func TestXDPIngressVeth(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{Queues: 2})
	r := loadRunner(t, "run_xdp", "xdp_echo")
	in := udp4Frame(ip4C, 40000, 9, "veth")
	ifindex := uint32(env.Outer.Ifindex)
	for _, q := range []uint32{0, 1} {
		ctx := &progrun.XDPContext{IngressIfindex: ifindex, RxQueueIndex: q}
		res := run(t, r, progrun.Input{Data: in, Context: ctx})
		wantVerdict(t, res, 2, "XDP_PASS")
		wantBytes(t, "meta out", xdpMeta(res), cat(ne32(ifindex), ne32(q)))
		c := res.Context.(*progrun.XDPContext)
		if c.IngressIfindex != ifindex || c.RxQueueIndex != q {
			t.Errorf("context out %+v, want ifindex %d queue %d", c, ifindex, q)
		}
	}
}

func TestXDPAdjustHead(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_xdp", "xdp_echo")
	plain := udp4Frame(ip4C, 40000, 11, "vlan")
	tagged := cat(plain[:12], []byte{0x81, 0x00, 0x00, 100}, plain[12:]) // 802.1Q, VID 100

	res := run(t, r, progrun.Input{Data: plain})
	wantVerdict(t, res, 2, "XDP_PASS")
	wantBytes(t, "pushed", res.Data, tagged)

	res = run(t, r, progrun.Input{Data: tagged})
	wantVerdict(t, res, 2, "XDP_PASS")
	wantBytes(t, "popped", res.Data, plain)

	// A short tagged frame the program cannot pop is dropped as it is.
	short := cat(ether(ethVLAN), []byte{0, 100})
	res = run(t, r, progrun.Input{Data: short})
	wantVerdict(t, res, 1, "XDP_DROP")
	wantBytes(t, "short", res.Data, short)
}

// The kernel runs a repeated XDP program on the same buffer: 1000 MAC
// swaps leave the MACs where they were.
func TestXDPRepeat(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_xdp", "xdp_echo")
	in := udp4Frame(ip4C, 40000, 7, "ping")
	res := run(t, r, progrun.Input{Data: in, Repeat: 1000})
	wantVerdict(t, res, 3, "XDP_TX")
	if res.Repeat != 1000 {
		t.Errorf("repeat %d, want 1000", res.Repeat)
	}
	if res.Duration <= 0 {
		t.Errorf("duration %v, want > 0", res.Duration)
	}
	wantBytes(t, "packet out after 1000 swaps", res.Data, in)

	res = run(t, r, progrun.Input{Data: in, Repeat: 3})
	wantBytes(t, "packet out after 3 swaps", res.Data, cat(macB, macA, in[12:]))
}

// A packet longer than the first buffer (3520 bytes on 4 KiB pages) runs
// as a multi-buffer packet, also for a program not loaded for it
// (SEC("xdp") rather than SEC("xdp.frags")): the kernel does not check,
// and such a program sees only the first buffer. The packet comes back
// whole.
func TestXDPMultiBuffer(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := loadCollection(t, "run_xdp")
	big := udp4Frame(ip4C, 40000, 7, string(bytes.Repeat([]byte("0123456789"), 500)))[:5000]

	res := run(t, progrun.New(coll.Programs["xdp_echo"]), progrun.Input{Data: big})
	wantVerdict(t, res, 3, "XDP_TX")
	wantBytes(t, "5000-byte packet out", res.Data, cat(macB, macA, big[12:]))

	lens := coll.Maps["lens"]
	for _, prog := range []string{"xdp_lens", "xdp_frags"} {
		res := run(t, progrun.New(coll.Programs[prog]), progrun.Input{Data: big})
		wantVerdict(t, res, 2, "XDP_PASS")
		wantBytes(t, prog+": packet out", res.Data, big)
		var total, linear uint64
		if err := lens.Lookup(uint32(0), &total); err != nil {
			t.Fatal(err)
		}
		if err := lens.Lookup(uint32(1), &linear); err != nil {
			t.Fatal(err)
		}
		if total != 5000 || linear != 3520 {
			t.Errorf("%s saw %d bytes, %d of them linear; want 5000 and 3520", prog, total, linear)
		}
	}
}

func TestXDPResultClone(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_xdp", "xdp_echo")
	first := udp4Frame(ip4C, 40000, 9, "first")
	kept := run(t, r, progrun.Input{Data: first}).Clone()
	run(t, r, progrun.Input{Data: udp4Frame(ip4C, 40000, 7, "second"), Context: &progrun.XDPContext{Meta: make([]byte, 8)}})
	wantBytes(t, "cloned packet", kept.Data, first)
	wantBytes(t, "cloned meta", xdpMeta(kept), cat(ne32(1), ne32(0)))
}

// Run allocates nothing per call once its buffers have grown: without a
// context, and with one *XDPContext reused, metadata included.
func TestXDPAllocs(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_xdp", "xdp_echo")
	pkt := udp4Frame(ip4C, 40000, 9, "allocs")
	ctx := &progrun.XDPContext{IngressIfindex: 1, Meta: []byte{1, 2, 3, 4}}
	for _, tc := range []struct {
		name string
		in   progrun.Input
		runs int
	}{
		{"no context", progrun.Input{Data: pkt}, 200},
		{"context", progrun.Input{Data: pkt, Context: ctx}, 200},
		// An XDP call with a repeat costs the kernel ~50 ms (see Input.Repeat).
		{"repeat", progrun.Input{Data: pkt, Context: ctx, Repeat: 10}, 5},
	} {
		var err error
		allocs := testing.AllocsPerRun(tc.runs, func() { _, err = r.Run(tc.in) })
		if err != nil {
			t.Fatal(err)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Run, want 0", tc.name, allocs)
		}
	}
}
