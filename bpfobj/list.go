package bpfobj

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/caps"
)

// ProgramInfo describes a program loaded in the kernel, as bpftool prog
// list shows it. Fields the kernel does not report are zero.
type ProgramInfo struct {
	ID       ebpf.ProgramID
	Type     ebpf.ProgramType
	Name     string
	Tag      string
	LoadedAt time.Time // zero if unknown
	UID      uint32
	HasUID   bool
	MapIDs   []ebpf.MapID
	// XlatedSize and JitedSize are the sizes of the translated (verified)
	// and JIT-compiled code in bytes.
	XlatedSize int
	JitedSize  uint32
	BTFID      uint32
	// Pinned lists the paths where the program is pinned on mounted bpffs.
	Pinned []string
}

// MapInfo describes a map in the kernel, as bpftool map list shows it.
type MapInfo struct {
	ID         ebpf.MapID
	Type       ebpf.MapType
	Name       string
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	BTFID      uint32
	// Pinned lists the paths where the map is pinned on mounted bpffs
	// (filled by Maps; empty from Map.Info).
	Pinned []string
}

// Programs lists every program loaded in the kernel, by ID order. It needs
// CAP_BPF (or CAP_SYS_ADMIN). Programs unloaded during the walk are skipped.
func Programs() ([]ProgramInfo, error) {
	if err := caps.Require(caps.BPF); err != nil {
		return nil, fmt.Errorf("list programs: %w", err)
	}
	boot := bootTime()
	pinned := findPins()
	var out []ProgramInfo
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list programs after id %d: %w", id, caps.Explain(err, caps.BPF))
		}
		id = next
		prog, err := ebpf.NewProgramFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // unloaded meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("open program %d: %w", id, caps.Explain(err, caps.BPF))
		}
		info, err := prog.Info()
		prog.Close()
		if err != nil {
			return nil, fmt.Errorf("program %d info: %w", id, err)
		}
		pi := ProgramInfo{ID: id, Type: info.Type, Name: info.Name, Tag: info.Tag, Pinned: pinned.Programs[id]}
		if lt, ok := info.LoadTime(); ok && !boot.IsZero() {
			pi.LoadedAt = boot.Add(lt)
		}
		pi.UID, pi.HasUID = info.CreatedByUID()
		pi.MapIDs, _ = info.MapIDs()
		pi.XlatedSize, _ = info.TranslatedSize()
		pi.JitedSize, _ = info.JitedSize()
		if b, ok := info.BTFID(); ok {
			pi.BTFID = uint32(b)
		}
		out = append(out, pi)
	}
}

// Maps lists every map in the kernel, by ID order. It needs CAP_BPF (or
// CAP_SYS_ADMIN). Maps freed during the walk are skipped.
func Maps() ([]MapInfo, error) {
	if err := caps.Require(caps.BPF); err != nil {
		return nil, fmt.Errorf("list maps: %w", err)
	}
	pinned := findPins()
	var out []MapInfo
	var id ebpf.MapID
	for {
		next, err := ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list maps after id %d: %w", id, caps.Explain(err, caps.BPF))
		}
		id = next
		m, err := ebpf.NewMapFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open map %d: %w", id, caps.Explain(err, caps.BPF))
		}
		mi, err := mapInfo(m)
		m.Close()
		if err != nil {
			return nil, fmt.Errorf("map %d: %w", id, err)
		}
		mi.Pinned = pinned.Maps[id]
		out = append(out, mi)
	}
}

func mapInfo(m *ebpf.Map) (MapInfo, error) {
	info, err := m.Info()
	if err != nil {
		return MapInfo{}, fmt.Errorf("info: %w", err)
	}
	mi := MapInfo{
		Type:       info.Type,
		Name:       info.Name,
		KeySize:    info.KeySize,
		ValueSize:  info.ValueSize,
		MaxEntries: info.MaxEntries,
		Flags:      info.Flags,
	}
	mi.ID, _ = info.ID()
	if b, ok := info.BTFID(); ok {
		mi.BTFID = uint32(b)
	}
	return mi, nil
}

// bootTime returns the wall-clock time the system booted, to turn the
// kernel's since-boot load times into dates.
func bootTime() time.Time {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}
	}
	return time.Now().Add(-time.Duration(ts.Nano()))
}

// findPins is bpffs.FindPins, with no pins when the filesystems cannot be
// read: pins are a hint in listings.
func findPins() *bpffs.Pins {
	p, err := bpffs.FindPins()
	if err != nil {
		return &bpffs.Pins{}
	}
	return p
}
