package xdptest

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/bpfobj"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/packet"
	"github.com/xdpkit/xdpkit/progrun"
)

// Program is a BPF program under test. Its methods may be called from
// parallel tests: runs are serialized.
type Program struct {
	// Program is the program the cases run.
	Program *ebpf.Program
	// Collection holds every program and map of the object the program
	// was loaded from; nil for FromProgram.
	Collection *ebpf.Collection
	// Name is the program's name in its object ("" for FromProgram).
	Name string

	mu     sync.Mutex
	runner *progrun.Runner
}

// verifierLogLines is how many of the verifier's last log lines a load
// failure shows: where the verifier gave up.
const verifierLogLines = 30

// Load loads the collection in the ELF object at path and returns the
// program named name, or the only program when name is "". The collection
// is closed when the test ends (t.Cleanup). Without the privileges BPF
// needs, Load skips the test, or fails it when CI=true (see
// RequirePrivileged); a missing file, a missing program or a verifier
// rejection fails it.
func Load(t testing.TB, path, name string) *Program {
	t.Helper()
	RequirePrivileged(t)
	spec, err := bpfobj.TestRunSpec(path)
	if err != nil {
		t.Fatalf("xdptest: read BPF object: %v", err)
	}
	return load(t, spec, path, name)
}

// LoadSpec is Load for a CollectionSpec already in memory, such as the one
// bpf2go's generated load<Name>() returns; set constants (spec.Variables)
// before calling it.
func LoadSpec(t testing.TB, spec *ebpf.CollectionSpec, name string) *Program {
	t.Helper()
	RequirePrivileged(t)
	if spec == nil {
		t.Fatalf("xdptest: LoadSpec: nil CollectionSpec")
	}
	spec = spec.Copy()
	bpfobj.PrepareTestRun(spec)
	return load(t, spec, "the CollectionSpec", name)
}

func load(t testing.TB, spec *ebpf.CollectionSpec, what, name string) *Program {
	t.Helper()
	names := programNames(spec)
	switch {
	case len(names) == 0:
		t.Fatalf("xdptest: %s has no programs", what)
	case name == "" && len(names) > 1:
		t.Fatalf("xdptest: %s has %d programs (%s): name the one to test", what, len(names), strings.Join(names, ", "))
	case name == "":
		name = names[0]
	case spec.Programs[name] == nil:
		t.Fatalf("xdptest: %s has no program %q; its programs: %s", what, name, strings.Join(names, ", "))
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Fatalf("xdptest: load %s: %s", what, loadError(err))
	}
	t.Cleanup(func() { coll.Close() })
	return &Program{
		Program:    coll.Programs[name],
		Collection: coll,
		Name:       name,
		runner:     progrun.New(coll.Programs[name]),
	}
}

// loadError formats a load failure with the end of the verifier's log,
// which says where and why it rejected the program.
func loadError(err error) string {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) && len(ve.Log) > 0 {
		// err is ve wrapped in context ("program NAME: "): keep that, and
		// show the log's last lines in place of its last line alone.
		if outer, ok := strings.CutSuffix(err.Error(), ve.Error()); ok {
			return fmt.Sprintf("%s%-*v", outer, verifierLogLines, ve)
		}
		return fmt.Sprintf("%v\n%-*v", err, verifierLogLines, ve)
	}
	return err.Error()
}

func programNames(spec *ebpf.CollectionSpec) []string {
	names := make([]string, 0, len(spec.Programs))
	for n := range spec.Programs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// FromProgram wraps a program the caller loaded (and closes, after the
// test's last run) so that cases can run on it. Map is unavailable: the
// caller has the maps.
func FromProgram(t testing.TB, prog *ebpf.Program) *Program {
	t.Helper()
	if prog == nil {
		t.Fatalf("xdptest: FromProgram: nil program")
	}
	return &Program{Program: prog, runner: progrun.New(prog)}
}

// Map returns the map called name in the program's collection, to seed it
// before the cases or to read it in a Check. It fails the test when there
// is no such map, listing the maps there are.
func (p *Program) Map(t testing.TB, name string) *ebpf.Map {
	t.Helper()
	if p.Collection == nil {
		t.Fatalf("xdptest: Map(%q): the program came from FromProgram and has no collection; use the maps you loaded with it", name)
	}
	if m := p.Collection.Maps[name]; m != nil {
		return m
	}
	names := make([]string, 0, len(p.Collection.Maps))
	for n := range p.Collection.Maps {
		names = append(names, n)
	}
	slices.Sort(names)
	list := strings.Join(names, ", ")
	if list == "" {
		list = "none"
	}
	t.Fatalf("xdptest: no map %q in the collection of %s; its maps: %s", name, p.describe(), list)
	return nil
}

func (p *Program) describe() string {
	if p.Name != "" {
		return p.Name
	}
	return p.Program.String()
}

// MustBuild builds the frame that a packet SPEC describes (see
// packet.Build), failing the test on a bad SPEC.
func MustBuild(t testing.TB, spec string) []byte {
	t.Helper()
	b, err := packet.Build(spec)
	if err != nil {
		t.Fatalf("xdptest: packet SPEC %q: %v", spec, err)
	}
	return b
}

// RequirePrivileged skips the test unless the process holds CAP_BPF (or
// CAP_SYS_ADMIN) and CAP_NET_ADMIN, what loading and test-running network
// BPF programs takes; the reason names what is missing and how to run the
// tests with it. When the environment variable CI is "true" it fails the
// test instead: in CI a skipped kernel test hides a broken setup. Load and
// LoadSpec call it; call it yourself before loading programs some other
// way.
func RequirePrivileged(t testing.TB) {
	t.Helper()
	requirePrivileged(t, caps.Require(caps.BPF, caps.NetAdmin))
}

func requirePrivileged(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := privilegeMessage(err)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s\nCI=true, so this fails instead of skipping: give the CI job root or these capabilities", msg)
	}
	t.Skip(msg)
}

func privilegeMessage(err error) string {
	var m *caps.MissingError
	if !errors.As(err, &m) || len(m.Caps) == 0 {
		return fmt.Sprintf("xdptest: cannot check BPF privileges: %v", err)
	}
	return fmt.Sprintf("xdptest: loading and running BPF programs needs %s, which this test process lacks: "+
		"run the tests as root (go test -exec sudo ./...) or build the test binary and grant it the capabilities "+
		"(go test -c -o pkg.test && sudo setcap %s+ep pkg.test && ./pkg.test)",
		strings.Join(m.Caps, " and "), strings.ToLower(strings.Join(m.Caps, ",")))
}
