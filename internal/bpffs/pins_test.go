package bpffs_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/testutil"
)

func TestFindPins(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBPFFS(t, bpffs.Default)
	dir := filepath.Join(bpffs.Default, testutil.UniqueName("bpffs"))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	path := filepath.Join(dir, "m")
	if err := m.Pin(path); err != nil {
		t.Fatal(err)
	}
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info.ID()

	pins, err := bpffs.FindPins()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pins.Maps[id], path) {
		t.Fatalf("map %d pinned at %s, FindPins says %v", id, path, pins.Maps[id])
	}
}
