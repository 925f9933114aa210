package bpfobj

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/errs"
)

// RefKind says how a MapRef names a map.
type RefKind int

// The ways to name a map.
const (
	RefID     RefKind = iota + 1 // id:N
	RefPinned                    // pinned:PATH, or a bare path
	RefName                      // name:NAME, or a bare name
)

// MapRef names a map in the kernel: by id, by pin path or by name.
type MapRef struct {
	Kind RefKind
	ID   ebpf.MapID // RefID
	Path string     // RefPinned
	Name string     // RefName
}

// maxNameLen is the longest map name the kernel keeps (BPF_OBJ_NAME_LEN-1).
const maxNameLen = 15

// ParseMapRef parses a map reference:
//
//	id:12             the map with id 12
//	pinned:/sys/fs/bpf/x/counts, or a bare path containing a /
//	name:counts, or a bare name  the loaded map of that name
//
// Errors match ErrInvalidInput (os.ErrInvalid).
func ParseMapRef(s string) (MapRef, error) {
	kind, rest, hasKind := strings.Cut(s, ":")
	if !hasKind || strings.Contains(kind, "/") {
		switch {
		case s == "":
			return MapRef{}, errs.Markf(ErrInvalidInput, "empty map reference: give id:N, pinned:PATH or a map name")
		case strings.Contains(s, "/"):
			return MapRef{Kind: RefPinned, Path: s}, nil
		}
		return parseName(s, s)
	}
	switch kind {
	case "id":
		id, err := strconv.ParseUint(rest, 10, 32)
		if err != nil || id == 0 {
			return MapRef{}, errs.Markf(ErrInvalidInput, "map reference %q: id must be a number from 1 to %d", s, uint32(1<<32-1))
		}
		return MapRef{Kind: RefID, ID: ebpf.MapID(id)}, nil
	case "pinned":
		if rest == "" {
			return MapRef{}, errs.Markf(ErrInvalidInput, "map reference %q: give the pin path after pinned", s)
		}
		return MapRef{Kind: RefPinned, Path: rest}, nil
	case "name":
		return parseName(s, rest)
	}
	return MapRef{}, errs.Markf(ErrInvalidInput, "map reference %q: unknown kind %q: use id:N, pinned:PATH or name:NAME", s, kind)
}

func parseName(ref, name string) (MapRef, error) {
	if name == "" {
		return MapRef{}, errs.Markf(ErrInvalidInput, "map reference %q: give the map name after name", ref)
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f {
			return MapRef{}, errs.Markf(ErrInvalidInput, "map reference %q: a map name holds no spaces or control characters", ref)
		}
	}
	return MapRef{Kind: RefName, Name: name}, nil
}

// String returns r in the form ParseMapRef reads.
func (r MapRef) String() string {
	switch r.Kind {
	case RefID:
		return fmt.Sprintf("id:%d", r.ID)
	case RefPinned:
		return "pinned:" + r.Path
	case RefName:
		return "name:" + r.Name
	}
	return "<no map>"
}

// OpenMap opens the map r names. A map that does not exist matches
// os.ErrNotExist; a name shared by several maps matches ErrInvalidInput and
// lists their ids. Close the result.
func OpenMap(r MapRef) (*Map, error) {
	if err := caps.Require(caps.BPF); err != nil {
		return nil, fmt.Errorf("open map %s: %w", r, err)
	}
	m, err := openEBPF(r)
	if err != nil {
		return nil, err
	}
	info, err := m.Info()
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("map %s: %w", r, err)
	}
	mm, err := newMap(m, info.Name, nil, nil)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("map %s: %w", r, err)
	}
	mm.loadKernelBTF()
	return mm, nil
}

func openEBPF(r MapRef) (*ebpf.Map, error) {
	switch r.Kind {
	case RefID:
		m, err := ebpf.NewMapFromID(r.ID)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, errs.Markf(os.ErrNotExist, "no map with id %d (see xdpkit map list)", r.ID)
			}
			return nil, fmt.Errorf("open map id %d: %w", r.ID, caps.Explain(err, caps.BPF))
		}
		return m, nil
	case RefPinned:
		if _, err := os.Stat(r.Path); err != nil {
			return nil, fmt.Errorf("no pinned map at %s: %w", r.Path, err)
		}
		if err := bpffs.Check(r.Path); err != nil {
			return nil, err
		}
		m, err := ebpf.LoadPinnedMap(r.Path, nil)
		if err != nil {
			if errors.Is(err, os.ErrPermission) {
				return nil, fmt.Errorf("open pinned map %s: %w", r.Path, caps.Explain(err, caps.BPF))
			}
			return nil, fmt.Errorf("open pinned map %s (is it a map, not a program?): %w", r.Path, err)
		}
		return m, nil
	case RefName:
		return openByName(r.Name)
	}
	return nil, errs.Markf(ErrInvalidInput, "empty map reference")
}

// openByName finds the one map called name. Names longer than the kernel
// keeps match on their first 15 bytes.
func openByName(name string) (*ebpf.Map, error) {
	want := name
	if len(want) > maxNameLen {
		want = want[:maxNameLen]
	}
	var found *ebpf.Map
	var ids []ebpf.MapID
	var id ebpf.MapID
	for {
		next, err := ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			if found != nil {
				found.Close()
			}
			return nil, fmt.Errorf("find map %q: %w", name, caps.Explain(err, caps.BPF))
		}
		id = next
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue // freed meanwhile, or not ours to open
		}
		info, err := m.Info()
		if err != nil || info.Name != want {
			m.Close()
			continue
		}
		ids = append(ids, id)
		if found == nil {
			found = m
		} else {
			m.Close()
		}
	}
	switch len(ids) {
	case 0:
		return nil, errs.Markf(os.ErrNotExist, "no map named %q (see xdpkit map list; names are cut to 15 bytes)", name)
	case 1:
		return found, nil
	}
	found.Close()
	slices.Sort(ids)
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = fmt.Sprintf("id:%d", id)
	}
	return nil, fmt.Errorf("%d maps are named %q (%s): name one by id or pin path: %w",
		len(ids), name, strings.Join(list, ", "), ErrInvalidInput)
}
