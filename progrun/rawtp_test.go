package progrun_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// The RAW_TRACEPOINT tests run record_args of bpf/testprogs/run_raw_tp.c,
// which leaves args[0] + args[1], its CPU and a run count in rec[0].

type rawTPRecord struct {
	Sum  uint64
	CPU  uint32
	Runs uint32
}

func lastRecord(t *testing.T, rec *ebpf.Map) rawTPRecord {
	t.Helper()
	var r rawTPRecord
	if err := rec.Lookup(uint32(0), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// requireCPUs skips (or fails in CI) unless CPUs 0 to n-1 are online.
func requireCPUs(t *testing.T, n int) {
	t.Helper()
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		t.Fatal(err)
	}
	online := strings.TrimSpace(string(b))
	for i := range n {
		if !cpuOnline(online, i) {
			testutil.SkipOrFail(t, "CPU %d is not online (online: %s)", i, online)
		}
	}
}

// cpuOnline reports whether cpu is in a list such as "0-3,5".
func cpuOnline(list string, cpu int) bool {
	for _, part := range strings.Split(list, ",") {
		first, last, isRange := strings.Cut(part, "-")
		if !isRange {
			last = first
		}
		lo, err1 := strconv.Atoi(first)
		hi, err2 := strconv.Atoi(last)
		if err1 == nil && err2 == nil && lo <= cpu && cpu <= hi {
			return true
		}
	}
	return false
}

func TestRawTracepoint(t *testing.T) {
	testutil.RequirePrivileged(t)
	requireCPUs(t, 2)
	coll := loadCollection(t, "run_raw_tp")
	r := progrun.New(coll.Programs["record_args"])
	rec := coll.Maps["rec"]

	runs := uint32(0)
	for _, tc := range []struct {
		args []uint64
		cpu  uint32
		ret  uint32
		sum  uint64
	}{
		{[]uint64{3, 4}, 1, 7, 7},
		{[]uint64{3, 4}, 0, 7, 7},
		{[]uint64{0xffffffff00000001, 2}, 1, 3, 0xffffffff00000003},
		{[]uint64{100, 28, 99, 99}, 0, 100 ^ 28, 128}, // more arguments than the program reads
	} {
		res := run(t, r, progrun.Input{Context: &progrun.RawTracepointContext{Args: tc.args, OnCPU: true, CPU: tc.cpu}})
		runs++
		// RAW_TRACEPOINT return values have no names: the verdict is the number.
		if res.Return != tc.ret || res.Verdict.String() != strconv.FormatUint(uint64(tc.ret), 10) {
			t.Errorf("args %v: return %d (%v), want %d", tc.args, res.Return, res.Verdict, tc.ret)
		}
		if got := lastRecord(t, rec); got != (rawTPRecord{Sum: tc.sum, CPU: tc.cpu, Runs: runs}) {
			t.Errorf("args %v on CPU %d: recorded %+v, want sum %d cpu %d runs %d", tc.args, tc.cpu, got, tc.sum, tc.cpu, runs)
		}
		// The kernel neither times raw tracepoint runs nor returns a context.
		if res.Duration != 0 || res.Context != nil || res.Data != nil || res.Repeat != 1 {
			t.Errorf("duration %v context %v data %x repeat %d, want none and 1", res.Duration, res.Context, res.Data, res.Repeat)
		}
	}

	// Without OnCPU it runs where the caller runs: some online CPU.
	run(t, r, progrun.Input{Context: &progrun.RawTracepointContext{Args: []uint64{1, 1}}})
	if got := lastRecord(t, rec); got.Sum != 2 || got.Runs != runs+1 || got.CPU > 1 {
		t.Errorf("recorded %+v, want sum 2, runs %d, CPU 0 or 1", got, runs+1)
	}
}
