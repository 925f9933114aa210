package bpfobj

import (
	"errors"
	"strings"
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

// TestLoadTestRunStructOpsSection: an object that names its STRUCT_OPS
// programs in a ".struct_ops" section, which cilium/ebpf refuses, loads
// for a test run; loading it to attach says why it cannot.
func TestLoadTestRunStructOpsSection(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj, err := Load(testprogs.Path("run_struct_ops_sec"), &LoadOptions{TestRun: true})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if len(obj.Programs) != 1 || obj.Programs[0].Name != "sec_test_1" || len(obj.Maps) != 0 {
		t.Errorf("programs %v, maps %v: want sec_test_1 and no struct_ops map", obj.Programs, obj.Maps)
	}
	_, err = Load(testprogs.Path("run_struct_ops_sec"), nil)
	if !errors.Is(err, ebpf.ErrNotSupported) || !strings.Contains(err.Error(), `SEC(".struct_ops.link")`) {
		t.Errorf("load to attach: %v, want ErrNotSupported naming .struct_ops.link", err)
	}
}

func TestHideStructOpsSection(t *testing.T) {
	in := []byte("\x00.rel.struct_ops\x00.struct_ops.link\x00.struct_ops\x00")
	want := "\x00.rel.xdpkit_ign\x00.struct_ops.link\x00.xdpkit_ign\x00"
	if got := string(hideStructOpsSection(in)); got != want {
		t.Errorf("hideStructOpsSection = %q, want %q", got, want)
	}
	if string(in) != "\x00.rel.struct_ops\x00.struct_ops.link\x00.struct_ops\x00" {
		t.Error("the input was changed")
	}
}
