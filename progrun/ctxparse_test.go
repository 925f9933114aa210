package progrun_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/progrun"
)

// ParseContext's messages name program types as the kernel does.
func TestParseContextMessages(t *testing.T) {
	for _, tc := range []struct {
		typ     ebpf.ProgramType
		setting string
		msg     string
	}{
		{ebpf.SchedCLS, "hash=1", "the kernel does not accept __sk_buff.hash in a test run (it must be zero); SCHED_CLS programs take mark, priority"},
		{ebpf.SchedCLS, "bogus=1", `SCHED_CLS programs have no context field "bogus"; they take mark`},
		{ebpf.LWTXmit, "bogus=1", `LWT_XMIT programs have no context field "bogus"`},
		{ebpf.XDP, "mark=1", `XDP programs have no context field "mark"; they take ingress_ifindex, rx_queue_index, meta`},
	} {
		_, err := progrun.ParseContext(tc.typ, []string{tc.setting})
		if !errors.Is(err, progrun.ErrContext) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v %s: error %v, want %q", tc.typ, tc.setting, err, tc.msg)
		}
	}
}

// The flags are the kernel's BPF_F_TEST_* values.
func TestFlags(t *testing.T) {
	if progrun.FlagRunOnCPU != 1<<0 || progrun.FlagXDPLiveFrames != 1<<1 {
		t.Errorf("FlagRunOnCPU %d FlagXDPLiveFrames %d, want 1 and 2", progrun.FlagRunOnCPU, progrun.FlagXDPLiveFrames)
	}
}
