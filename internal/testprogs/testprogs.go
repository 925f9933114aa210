// Package testprogs holds the BPF programs that xdpkit's tests load: C under
// bpf/testprogs, compiled by bpf2go into this directory and committed.
//
// Each program has a gen_NAME.go file with its go:generate line, so that
// programs can be added without touching one shared file. Tests that need the
// object as a file (the CLI's) use Path; library tests use Spec.
package testprogs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/cilium/ebpf"
)

// Dir is the directory that holds the committed objects.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testprogs: cannot locate package directory")
	}
	return filepath.Dir(file)
}

// Path returns the path of the object compiled from bpf/testprogs/NAME.c,
// for example Path("maps") for maps_bpfel.o. It panics when there is none:
// a test asking for a program that does not exist is a bug in the test.
func Path(name string) string {
	p := filepath.Join(Dir(), name+"_bpfel.o")
	if _, err := os.Stat(p); err != nil {
		panic(fmt.Sprintf("testprogs: no object for %q: %v (run go generate ./internal/testprogs)", name, err))
	}
	return p
}

// Spec parses the object compiled from bpf/testprogs/NAME.c.
func Spec(name string) (*ebpf.CollectionSpec, error) {
	b, err := os.ReadFile(Path(name))
	if err != nil {
		return nil, err
	}
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(b))
}
