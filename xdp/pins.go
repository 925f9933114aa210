package xdp

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// maxPinScan bounds how many files linkPins opens on BPF filesystems.
const maxPinScan = 1 << 16

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
	existing := dir
	for {
		if _, err := os.Stat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	if !onBPFFS(existing) {
		return "", newError(ErrNotBPFFS, nil,
			"%s is not on a BPF filesystem: pin under a bpffs mount such as /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create pin directory: %w", err)
	}
	return abs, nil
}

// onBPFFS reports whether path is on a BPF filesystem.
func onBPFFS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return uint32(st.Type) == unix.BPF_FS_MAGIC
}

// bpffsMounts returns the mount points of the BPF filesystems of this
// mount namespace, one per filesystem (bind mounts are skipped).
func bpffsMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := make(map[string]bool)
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 0:30 / /sys/fs/bpf rw,... shared:1 - bpf bpf rw,...
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, fsFields := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(fsFields) < 1 || fsFields[0] != "bpf" {
			continue
		}
		dev := fields[2] + fields[3] // device and root inside it
		if seen[dev] {
			continue
		}
		seen[dev] = true
		mounts = append(mounts, unescapeMount(fields[4]))
	}
	return mounts, sc.Err()
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

// linkPins finds the pins of bpf_links on every mounted BPF filesystem, the
// way bpftool does: it walks each one and opens every file in it (at most
// maxPinScan), keeping those that are links. The result maps link ids to
// pin paths.
func linkPins() (map[link.ID][]string, error) {
	mounts, err := bpffsMounts()
	if err != nil {
		return nil, fmt.Errorf("find BPF filesystems: %w", err)
	}
	pins := make(map[link.ID][]string)
	scanned := 0
	errStop := errors.New("stop")
	for _, mnt := range mounts {
		err := filepath.WalkDir(mnt, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable: skip
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if scanned++; scanned > maxPinScan {
				return errStop
			}
			l, err := link.LoadPinnedLink(path, nil)
			if err != nil {
				return nil // a map, a program, or not ours to open
			}
			defer l.Close()
			info, err := l.Info()
			if err != nil {
				return nil
			}
			pins[info.ID] = append(pins[info.ID], path)
			return nil
		})
		if errors.Is(err, errStop) {
			break
		}
	}
	return pins, nil
}
