package xdp

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf/link"

	"github.com/xdpkit/xdpkit/internal/bpffs"
)

// checkPinPath checks that path can take a pin: it does not exist yet and
// its directory is on a BPF filesystem. Missing directories are created
// when their nearest existing ancestor is on one.
func checkPinPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("pin path %q: %w", path, err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return "", &Error{
			Msg:  fmt.Sprintf("pin path %s already exists: choose another, or detach what is pinned there (xdpkit detach IFACE removes the pins of the link it detaches)", abs),
			Kind: os.ErrExist,
		}
	}
	dir := filepath.Dir(abs)
	if err := bpffs.Check(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create pin directory: %w", err)
	}
	return abs, nil
}

// linkPins finds the pins of bpf_links on every mounted BPF filesystem and
// maps link ids to their pin paths.
func linkPins() (map[link.ID][]string, error) {
	p, err := bpffs.FindPins()
	if err != nil {
		return nil, err
	}
	return p.Links, nil
}
