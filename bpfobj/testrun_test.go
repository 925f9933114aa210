package bpfobj

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
)

// TestLoadTestRunStructOps: STRUCT_OPS programs that no struct_ops map
// claims load for a test run, their target taken from their section.
func TestLoadTestRunStructOps(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj, err := Load(testprogs.Path("run_struct_ops"), &LoadOptions{TestRun: true})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if len(obj.Programs) != 2 {
		t.Fatalf("%d programs, want 2", len(obj.Programs))
	}
	for _, p := range obj.Programs {
		if p.Type != ebpf.StructOps {
			t.Errorf("%s: type %v", p.Name, p.Type)
		}
	}
	if _, err := Load(testprogs.Path("run_struct_ops"), nil); err == nil {
		t.Error("without TestRun the programs have no target and must not load")
	}
}
