package xdp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf/link"

	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/errs"
)

// pinPath is where Attach pins a link, checked by checkPinPath.
type pinPath struct {
	path    string   // absolute
	missing []string // directories to create, outermost first
	created []string // directories mkdir created, outermost first
}

// checkPinPath checks, without changing anything, that path can take a
// pin: it does not exist yet, its nearest existing ancestor is on a BPF
// filesystem, and the names to create there have no '.', which bpffs
// refuses (with EPERM).
func checkPinPath(path string) (*pinPath, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("pin path %q: %w", path, err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return nil, &Error{
			Msg:  fmt.Sprintf("pin path %s already exists: choose another, or detach what is pinned there (xdpkit detach IFACE removes the pins of the link it detaches)", abs),
			Kind: os.ErrExist,
		}
	}
	dir := filepath.Dir(abs)
	if err := bpffs.Check(dir); err != nil {
		return nil, err
	}
	p := &pinPath{path: abs}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		p.missing = append([]string{d}, p.missing...)
	}
	for _, d := range append(p.missing, abs) {
		if name := filepath.Base(d); strings.Contains(name, ".") {
			return nil, errs.Markf(os.ErrInvalid, "pin path %s: bpffs names cannot contain '.' (%q): choose a name without one", abs, name)
		}
	}
	return p, nil
}

// mkdir creates the missing directories of p.
func (p *pinPath) mkdir() error {
	for _, d := range p.missing {
		err := os.Mkdir(d, 0o700)
		if errors.Is(err, os.ErrExist) {
			continue // made by someone else meanwhile: not ours to remove
		}
		if err != nil {
			return fmt.Errorf("create pin directory: %w", err)
		}
		p.created = append(p.created, d)
	}
	return nil
}

// cleanup removes the directories mkdir created, innermost first, as far
// as they are empty.
func (p *pinPath) cleanup() {
	for i := len(p.created) - 1; i >= 0; i-- {
		if os.Remove(p.created[i]) != nil {
			return
		}
	}
	p.created = nil
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
