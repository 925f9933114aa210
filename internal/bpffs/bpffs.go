// Package bpffs knows the BPF filesystem: whether a path is on one, where
// they are mounted, and which pinned programs, maps and links they hold.
package bpffs

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Default is where a BPF filesystem is usually mounted.
const Default = "/sys/fs/bpf"

// MaxScan bounds how many files FindPins opens.
const MaxScan = 1 << 16

// ErrNotBPFFS is matched (errors.Is) by the error Check returns for a path
// that is not on a BPF filesystem.
var ErrNotBPFFS = errors.New("not on a BPF filesystem")

// NotBPFFSError says that Path is not on a BPF filesystem and how to mount
// one. It matches ErrNotBPFFS and os.ErrInvalid.
type NotBPFFSError struct {
	Path string
}

func (e *NotBPFFSError) Error() string {
	return fmt.Sprintf("%s is not on a BPF filesystem: pin under a bpffs such as %s (mount one with: mount -t bpf bpf %s)",
		e.Path, Default, Default)
}

// Is makes a NotBPFFSError match ErrNotBPFFS and os.ErrInvalid.
func (e *NotBPFFSError) Is(target error) bool {
	return target == ErrNotBPFFS || target == os.ErrInvalid
}

// Check returns nil when path, or the nearest of its parents that exists,
// is on a BPF filesystem, so that a pin can be made there (creating the
// missing directories); else a *NotBPFFSError.
func Check(path string) error {
	d := filepath.Clean(path)
	for {
		var st unix.Statfs_t
		err := unix.Statfs(d, &st)
		if err == nil {
			if uint32(st.Type) == unix.BPF_FS_MAGIC {
				return nil
			}
			return &NotBPFFSError{Path: path}
		}
		if !errors.Is(err, unix.ENOENT) || d == filepath.Dir(d) {
			return fmt.Errorf("check %s for a BPF filesystem: %w", d, os.NewSyscallError("statfs", err))
		}
		d = filepath.Dir(d)
	}
}

// Mounts returns the mount points of the BPF filesystems of this mount
// namespace, one per filesystem (bind mounts of the same one are skipped).
func Mounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMountinfo(f)
}

func parseMountinfo(f *os.File) ([]string, error) {
	seen := make(map[string]bool)
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 0:30 / /sys/fs/bpf rw,... shared:1 - bpf bpf rw,...
		mnt, dev, ok := bpfMountLine(sc.Text())
		if !ok || seen[dev] {
			continue
		}
		seen[dev] = true
		mounts = append(mounts, mnt)
	}
	return mounts, sc.Err()
}

// bpfMountLine returns the mount point of a mountinfo line of a bpf
// filesystem, and its device and root to tell bind mounts apart.
func bpfMountLine(line string) (mountPoint, dev string, ok bool) {
	pre, post, ok := strings.Cut(line, " - ")
	if !ok {
		return "", "", false
	}
	fields, fsFields := strings.Fields(pre), strings.Fields(post)
	if len(fields) < 5 || len(fsFields) < 1 || fsFields[0] != "bpf" {
		return "", "", false
	}
	return unescapeMount(fields[4]), fields[2] + fields[3], true
}

// unescapeMount decodes the octal escapes (\040 for a space) of a mount
// point in /proc/self/mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Pins maps the ids of pinned programs, maps and links to their pin paths.
type Pins struct {
	Programs map[ebpf.ProgramID][]string
	Maps     map[ebpf.MapID][]string
	Links    map[link.ID][]string
}

// FindPins walks every mounted BPF filesystem, as bpftool does, and opens
// each file in it (at most MaxScan) to learn what it pins. Objects that
// vanish meanwhile or cannot be opened are left out: pins are a hint in
// listings, not a guarantee.
func FindPins() (*Pins, error) {
	mounts, err := Mounts()
	if err != nil {
		return nil, fmt.Errorf("find BPF filesystems: %w", err)
	}
	p := &Pins{
		Programs: map[ebpf.ProgramID][]string{},
		Maps:     map[ebpf.MapID][]string{},
		Links:    map[link.ID][]string{},
	}
	scanned := 0
	errStop := errors.New("stop")
	for _, mnt := range mounts {
		err := filepath.WalkDir(mnt, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil // unreadable or a directory: skip
			}
			if scanned++; scanned > MaxScan {
				return errStop
			}
			p.add(path)
			return nil
		})
		if errors.Is(err, errStop) {
			break
		}
	}
	return p, nil
}

// add records what the pin at path holds.
func (p *Pins) add(path string) {
	if l, err := link.LoadPinnedLink(path, nil); err == nil {
		if info, err := l.Info(); err == nil {
			p.Links[info.ID] = append(p.Links[info.ID], path)
		}
		l.Close()
		return
	}
	if prog, err := ebpf.LoadPinnedProgram(path, nil); err == nil {
		if info, err := prog.Info(); err == nil {
			if id, ok := info.ID(); ok {
				p.Programs[id] = append(p.Programs[id], path)
			}
		}
		prog.Close()
		return
	}
	if m, err := ebpf.LoadPinnedMap(path, &ebpf.LoadPinOptions{ReadOnly: true}); err == nil {
		if info, err := m.Info(); err == nil {
			if id, ok := info.ID(); ok {
				p.Maps[id] = append(p.Maps[id], path)
			}
		}
		m.Close()
	}
}
