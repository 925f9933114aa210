package testutil

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/builtin"
)

// LoadXDPPass loads xdpkit's built-in xdp_pass program under the name name
// ("xdp_pass" as built; "" loads it nameless) and closes it when the test
// ends. Tests attach it by
// netlink or bpf_link where any XDP program will do.
func LoadXDPPass(t testing.TB, name string) *ebpf.Program {
	t.Helper()
	spec, err := builtin.XDPPassSpec()
	if err != nil {
		t.Fatal(err)
	}
	ps := spec.Programs["xdp_pass"]
	ps.Name = name
	prog, err := ebpf.NewProgram(ps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}
