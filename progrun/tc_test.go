package progrun_test

import (
	"testing"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// The TC tests run tc_mark (SCHED_CLS) and act_rewrite (SCHED_ACT) of
// bpf/testprogs/run_tc.c. Both see the frame from the Ethernet header on.

func skbOut(t *testing.T, res progrun.Result) *progrun.SKBContext {
	t.Helper()
	c, ok := res.Context.(*progrun.SKBContext)
	if !ok {
		t.Fatalf("context out is %T, want *progrun.SKBContext", res.Context)
	}
	return c
}

// tosFrame is a UDP frame from 10.0.0.1:12345 to 192.0.2.7:dport with the
// given TTL and TOS.
func tosFrame(dport uint16, ttl, tos byte) []byte {
	l4 := udp(12345, dport, []byte("payload"))
	return cat(ether(ethIPv4), ipv4(ip4A, ip4C, 17, ttl, tos, len(l4)), l4)
}

func TestSchedCLSMark(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	in := tosFrame(53, 64, 0x28)
	ctx := &progrun.SKBContext{Mark: 5, Priority: 3, CB: [5]uint32{0, 0, 7, 8, 41}}

	res := run(t, r, progrun.Input{Data: in, Context: ctx})
	wantVerdict(t, res, 0, "TC_ACT_OK")
	want := setIPv4(in, 14, 8, 63) // TTL 64 -> 63, checksum recomputed
	wantBytes(t, "packet out", res.Data, want)
	if !ipv4Valid(res.Data, 14) {
		t.Errorf("IPv4 checksum of the packet out does not verify")
	}
	got := skbOut(t, res)
	wantCtx := progrun.SKBContext{
		Mark:     0xc0000207, // 192.0.2.7
		Priority: 0x28,
		Ifindex:  1, // no ifindex in: the kernel runs it on loopback
		CB:       [5]uint32{12345, 53, 7, 8, 42},
		WireLen:  uint32(len(in)),
	}
	if *got != wantCtx {
		t.Errorf("context out\n got %+v\nwant %+v", *got, wantCtx)
	}
	if ctx.Mark != 5 || ctx.CB[4] != 41 {
		t.Errorf("context in changed by the run: %+v", ctx)
	}
}

func TestSchedCLSShot(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	in := tosFrame(9, 64, 0)
	res := run(t, r, progrun.Input{Data: in})
	wantVerdict(t, res, 2, "TC_ACT_SHOT")
	if !res.Verdict.Dropped() {
		t.Errorf("TC_ACT_SHOT not Dropped()")
	}
	// The kernel hands back the packet as the program left it, shot or not.
	wantBytes(t, "packet out", res.Data, setIPv4(in, 14, 8, 63))
}

func TestSchedCLSNotIPv4(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	in := arpFrame()
	res := run(t, r, progrun.Input{Data: in, Context: &progrun.SKBContext{Mark: 77, CB: [5]uint32{1, 2, 3, 4, 5}}})
	wantVerdict(t, res, 0, "TC_ACT_OK")
	wantBytes(t, "packet out", res.Data, in)
	if c := skbOut(t, res); c.Mark != 77 || c.CB != [5]uint32{1, 2, 3, 4, 5} {
		t.Errorf("context out %+v, want mark and cb as given", c)
	}
}

// The fields a test run takes come back as the kernel kept them: gso_size
// is not written back, so it stays what went in.
func TestSchedCLSContextFields(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	in := arpFrame()
	ctx := &progrun.SKBContext{
		Mark: 1, Priority: 2, IngressIfindex: 7, Ifindex: 1, CB: [5]uint32{3, 4, 5, 6, 7},
		Tstamp: 123456789, WireLen: 1000, GSOSegs: 3, GSOSize: 1400, HWTstamp: 987654321,
	}
	res := run(t, r, progrun.Input{Data: in, Context: ctx})
	if got := skbOut(t, res); *got != *ctx {
		t.Errorf("context out\n got %+v\nwant %+v", *got, *ctx)
	}
}

// Repeated runs work on the same skb: 100 runs take 100 off the TTL and
// add 100 to cb[4].
func TestSchedCLSRepeat(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	in := tosFrame(53, 200, 0)
	res := run(t, r, progrun.Input{Data: in, Repeat: 100, Context: &progrun.SKBContext{}})
	wantVerdict(t, res, 0, "TC_ACT_OK")
	if res.Repeat != 100 || res.Duration <= 0 {
		t.Errorf("repeat %d duration %v, want 100 and > 0", res.Repeat, res.Duration)
	}
	wantBytes(t, "packet out", res.Data, setIPv4(in, 14, 8, 100))
	if c := skbOut(t, res); c.CB[4] != 100 {
		t.Errorf("cb[4] %d, want 100", c.CB[4])
	}
}

func TestSchedACT(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "act_rewrite")
	in := tosFrame(53, 64, 0)
	res := run(t, r, progrun.Input{Data: in, Context: &progrun.SKBContext{Mark: 41}})
	wantVerdict(t, res, 3, "TC_ACT_PIPE")
	wantBytes(t, "packet out", res.Data, cat([]byte{2, 0, 0, 0, 0, 1}, in[6:]))
	if c := skbOut(t, res); c.Mark != 42 {
		t.Errorf("mark %d, want 42", c.Mark)
	}

	v6 := cat(ether(ethIPv6), []byte{0x60, 0, 0, 0, 0, 0, 59, 64}, ip6A, ip6B)
	res = run(t, r, progrun.Input{Data: v6})
	wantVerdict(t, res, 0xffffffff, "TC_ACT_UNSPEC")
	wantBytes(t, "packet out", res.Data, v6)

	res = run(t, r, progrun.Input{Data: in, Repeat: 50})
	if res.Repeat != 50 || res.Duration <= 0 {
		t.Errorf("repeat %d duration %v, want 50 and > 0", res.Repeat, res.Duration)
	}
	if c := skbOut(t, res); c.Mark != 50 {
		t.Errorf("mark after 50 runs %d, want 50", c.Mark)
	}
}

// Run allocates nothing per call with a reused *SKBContext.
func TestSchedCLSAllocs(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	in := progrun.Input{Data: tosFrame(53, 64, 0), Context: &progrun.SKBContext{Mark: 1, CB: [5]uint32{1}}}
	var err error
	allocs := testing.AllocsPerRun(200, func() { _, err = r.Run(in) })
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per Run, want 0", allocs)
	}
}
