package progrun_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// A repeat of two billion runs takes the kernel tens of seconds; cancelling
// the context stops it within moments (the bounds here are loose: the
// point is seconds rather than tens of them).
func TestRunContextCancel(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_xdp", "xdp_echo")
	pkt := udp4Frame(ip4C, 40000, 7, "ping")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := r.RunContext(ctx, progrun.Input{Data: pkt, Repeat: 2_000_000_000})
	took := time.Since(start)
	if !errors.Is(err, progrun.ErrInterrupted) || !errors.Is(err, context.Canceled) || !errors.Is(err, unix.EINTR) {
		t.Fatalf("error %v after %v, want ErrInterrupted with EINTR", err, took)
	}
	if want := "run XDP program: the run was interrupted before it finished: context canceled (kernel: EINTR)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if took > 5*time.Second {
		t.Errorf("interrupted after %v, want within seconds of the cancel", took)
	}

	// The Runner works on after an interruption, with and without a
	// context that may be cancelled.
	res, err := r.RunContext(context.Background(), progrun.Input{Data: pkt})
	if err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, res, 3, "XDP_TX")
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	res, err = r.RunContext(ctx2, progrun.Input{Data: pkt, Repeat: 3})
	if err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, res, 3, "XDP_TX")
	wantBytes(t, "packet out after 3 swaps", res.Data, cat(macB, macA, pkt[12:]))
}

// The Kernel backend stops a run whose Done is closed, also one closed
// before the call: it does not restart it.
func TestKernelDone(t *testing.T) {
	testutil.RequirePrivileged(t)
	k := progrun.NewKernel(loadCollection(t, "run_xdp").Programs["xdp_echo"])
	pkt := udp4Frame(ip4C, 40000, 7, "ping")
	done := make(chan struct{})
	close(done)
	req := progrun.Request{DataIn: pkt, DataOut: make([]byte, 1024), CtxIn: make([]byte, 24), CtxOut: make([]byte, 24),
		Repeat: 2_000_000_000, Done: done, Retval: 99, DataSizeOut: 99}
	req.CtxIn[4] = byte(len(pkt)) // xdp_md.data_end
	start := time.Now()
	err := k.Run(&req)
	if !errors.Is(err, unix.EINTR) || !strings.Contains(err.Error(), "BPF_PROG_RUN") {
		t.Fatalf("error %v, want EINTR", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("interrupted after %v", took)
	}
	if req.Retval != 0 || req.DataSizeOut != 0 || req.CtxSizeOut != 0 || req.Duration != 0 {
		t.Errorf("results after EINTR: retval %d data %d ctx %d duration %d, want zeros",
			req.Retval, req.DataSizeOut, req.CtxSizeOut, req.Duration)
	}
}

// RunContext with a context that cannot be cancelled allocates no more
// than Run: nothing.
func TestRunContextAllocs(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	in := progrun.Input{Data: tosFrame(53, 64, 0), Context: &progrun.SKBContext{Mark: 1}}
	ctx := context.Background()
	var err error
	allocs := testing.AllocsPerRun(200, func() { _, err = r.RunContext(ctx, in) })
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per RunContext, want 0", allocs)
	}
}
