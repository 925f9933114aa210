package progrun_test

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// The STRUCT_OPS tests run the programs of bpf/testprogs/run_struct_ops.c,
// loaded for members of the kernel's test struct bpf_dummy_ops (the only
// struct_ops the kernel test-runs). A test run takes exactly as many u64
// arguments as the member has; the first is a userspace pointer to a
// struct bpf_dummy_ops_state { int val; }, which the kernel copies in
// before the run and back out after it.

// dummyState returns a pinned state and its address as an argument.
func dummyState(t *testing.T, val int32) (*int32, uint64) {
	st := new(int32)
	*st = val
	var pin runtime.Pinner
	pin.Pin(st)
	t.Cleanup(pin.Unpin)
	return st, uint64(uintptr(unsafe.Pointer(st)))
}

func TestStructOpsTest1(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_struct_ops", "dummy_test_1")
	st, ptr := dummyState(t, 21)
	res := run(t, r, progrun.Input{Context: &progrun.StructOpsContext{Args: []uint64{ptr}}})
	if res.Return != 22 {
		t.Errorf("return %d, want 22 (val + 1)", int32(res.Return))
	}
	if *st != 42 {
		t.Errorf("state after the run %d, want 42 (val * 2)", *st)
	}
	// The kernel neither times STRUCT_OPS runs nor returns a context.
	if res.Duration != 0 || res.Context != nil || res.Data != nil || res.Repeat != 1 {
		t.Errorf("duration %v context %v data %x repeat %d, want none and 1", res.Duration, res.Context, res.Data, res.Repeat)
	}

	// A 0 first argument is a NULL state.
	res = run(t, r, progrun.Input{Context: &progrun.StructOpsContext{Args: []uint64{0}}})
	if int32(res.Return) != -1 {
		t.Errorf("return without state %d, want -1", int32(res.Return))
	}
}

func TestStructOpsTest2(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_struct_ops", "dummy_test_2")
	st, ptr := dummyState(t, 0)
	// test_2(state, int a1, unsigned short a2, char a3, unsigned long a4)
	res := run(t, r, progrun.Input{Context: &progrun.StructOpsContext{Args: []uint64{ptr, 7, 300, 5, 1000}}})
	if int32(res.Return) != 7-300 {
		t.Errorf("return %d, want %d (a1 - a2)", int32(res.Return), 7-300)
	}
	if *st != 7+300+5+1000 {
		t.Errorf("state after the run %d, want %d (a1 + a2 + a3 + a4)", *st, 7+300+5+1000)
	}
}
