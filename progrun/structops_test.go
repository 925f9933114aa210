package progrun_test

import (
	"encoding/binary"
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
	// The kernel neither times STRUCT_OPS runs nor returns a context; the
	// output context is the arguments, without a State given none.
	out, ok := res.Context.(*progrun.StructOpsContext)
	if !ok || out.State != nil || len(out.Args) != 1 {
		t.Errorf("context out %#v, want the one argument and no state", res.Context)
	}
	if res.Duration != 0 || res.Data != nil || res.Repeat != 1 {
		t.Errorf("duration %v data %x repeat %d, want none and 1", res.Duration, res.Data, res.Repeat)
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

// TestStructOpsState passes the state as bytes: the Runner gives the
// kernel the address of its copy and returns what the program left there.
func TestStructOpsState(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_struct_ops", "dummy_test_1")
	in := progrun.Input{Context: &progrun.StructOpsContext{Args: []uint64{0}, State: progrun.Bytes{21, 0, 0, 0}}}
	res := run(t, r, in)
	if res.Return != 22 {
		t.Errorf("return %d, want 22 (val + 1)", int32(res.Return))
	}
	out := res.Context.(*progrun.StructOpsContext)
	if string(out.State) != string([]byte{42, 0, 0, 0}) {
		t.Errorf("state out % x, want 2a 00 00 00 (val * 2)", []byte(out.State))
	}
	if in.Context.(*progrun.StructOpsContext).State[0] != 21 {
		t.Error("the caller's state was written to")
	}

	// test_2 refuses to run without a state; with one it stores
	// a1 + a2 + a3 + a4 there.
	r2 := loadRunner(t, "run_struct_ops", "dummy_test_2")
	res = run(t, r2, progrun.Input{Context: &progrun.StructOpsContext{Args: []uint64{0, 7, 300, 5, 1000},
		State: make(progrun.Bytes, 4)}})
	if got := binary.LittleEndian.Uint32(res.Context.(*progrun.StructOpsContext).State); got != 7+300+5+1000 {
		t.Errorf("state out %d, want %d", got, 7+300+5+1000)
	}
}
