package progrun_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// The SYSCALL test runs sum of bpf/testprogs/run_syscall.c on a context
// struct { __u32 a, b, sum; }: it writes a + b to sum and returns a - b.

func sumArgs(a, b, sum uint32, extra ...byte) []byte {
	ne := binary.NativeEndian
	return append(ne.AppendUint32(ne.AppendUint32(ne.AppendUint32(nil, a), b), sum), extra...)
}

func TestSyscall(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_syscall", "sum")
	for _, tc := range []struct {
		a, b uint32
		ret  uint32
	}{
		{5, 7, 0xfffffffe}, // -2
		{1000, 1, 999},
		{0xffffffff, 2, 0xfffffffd},
	} {
		in := sumArgs(tc.a, tc.b, 0xdeadbeef, 0xaa, 0xbb) // bytes past the struct come back as they went
		orig := bytes.Clone(in)
		res := run(t, r, progrun.Input{Context: &progrun.SyscallContext{Data: in}})
		if res.Return != tc.ret {
			t.Errorf("%d - %d: return %d, want %d", tc.a, tc.b, res.Return, tc.ret)
		}
		out, ok := res.Context.(*progrun.SyscallContext)
		if !ok {
			t.Fatalf("context out is %T", res.Context)
		}
		wantBytes(t, "context out", out.Data, sumArgs(tc.a, tc.b, tc.a+tc.b, 0xaa, 0xbb))
		wantBytes(t, "context in after the run", in, orig)
		// The kernel does not time SYSCALL runs.
		if res.Duration != 0 || res.Data != nil || res.Repeat != 1 {
			t.Errorf("duration %v data %x repeat %d, want 0, none and 1", res.Duration, res.Data, res.Repeat)
		}
	}
}
