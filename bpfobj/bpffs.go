package bpfobj

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// DefaultBPFFS is where a BPF filesystem is usually mounted.
const DefaultBPFFS = "/sys/fs/bpf"

// checkBPFFS returns nil when path, or the nearest of its parents that
// exists, is on a BPF filesystem.
func checkBPFFS(path string) error {
	d := filepath.Clean(path)
	for {
		var st unix.Statfs_t
		err := unix.Statfs(d, &st)
		if err == nil {
			if st.Type == unix.BPF_FS_MAGIC {
				return nil
			}
			break
		}
		if !errors.Is(err, unix.ENOENT) || d == filepath.Dir(d) {
			return fmt.Errorf("check %s: %w", d, os.NewSyscallError("statfs", err))
		}
		d = filepath.Dir(d)
	}
	return fmt.Errorf("%s is %w: pin under a bpffs such as %s (mount one with: mount -t bpf bpf %s)",
		path, ErrNotBPFFS, DefaultBPFFS, DefaultBPFFS)
}

// bpffsMounts returns the mount points of BPF filesystems.
func bpffsMounts() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint options ... - fstype source opts
		fields := strings.Fields(sc.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "bpf" && len(fields) > 4 {
				out = append(out, unescapeMount(fields[4]))
			}
		}
	}
	return out
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
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

// pins maps the ids of pinned programs and maps to their pin paths, found
// by walking every mounted bpffs. Objects that vanish meanwhile or cannot be
// opened are left out: pins are a hint in listings, not a guarantee.
type pins struct {
	progs map[ebpf.ProgramID][]string
	maps  map[ebpf.MapID][]string
}

func findPins() pins {
	p := pins{progs: map[ebpf.ProgramID][]string{}, maps: map[ebpf.MapID][]string{}}
	for _, mnt := range bpffsMounts() {
		_ = filepath.WalkDir(mnt, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if prog, err := ebpf.LoadPinnedProgram(path, nil); err == nil {
				if info, err := prog.Info(); err == nil {
					if id, ok := info.ID(); ok {
						p.progs[id] = append(p.progs[id], path)
					}
				}
				prog.Close()
				return nil
			}
			if m, err := ebpf.LoadPinnedMap(path, &ebpf.LoadPinOptions{ReadOnly: true}); err == nil {
				if info, err := m.Info(); err == nil {
					if id, ok := info.ID(); ok {
						p.maps[id] = append(p.maps[id], path)
					}
				}
				m.Close()
			}
			return nil
		})
	}
	return p
}
