package bpffs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	err := Check(filepath.Join(dir, "a", "b"))
	if !errors.Is(err, ErrNotBPFFS) || !errors.Is(err, os.ErrInvalid) {
		t.Fatalf("tmpdir: %v, want ErrNotBPFFS", err)
	}
	if !strings.Contains(err.Error(), "mount -t bpf bpf /sys/fs/bpf") {
		t.Fatalf("no mount hint: %v", err)
	}
}

func TestCheckMounted(t *testing.T) {
	mounts, err := Mounts()
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) == 0 {
		t.Skip("no BPF filesystem mounted")
	}
	if err := Check(filepath.Join(mounts[0], "not", "yet")); err != nil {
		t.Fatalf("%s: %v", mounts[0], err)
	}
}

func TestBPFMountLine(t *testing.T) {
	for _, tc := range []struct {
		line, mnt string
		ok        bool
	}{
		{"36 35 0:30 / /sys/fs/bpf rw,nosuid shared:1 - bpf bpf rw,mode=700", "/sys/fs/bpf", true},
		{`40 35 0:31 / /run/my\040bpf rw - bpf none rw`, "/run/my bpf", true},
		{"22 1 0:21 / /sys rw - sysfs sysfs rw", "", false},
		{"garbage", "", false},
		{"1 2 3 - bpf", "", false},
	} {
		mnt, _, ok := bpfMountLine(tc.line)
		if ok != tc.ok || mnt != tc.mnt {
			t.Errorf("%q: got %q %v, want %q %v", tc.line, mnt, ok, tc.mnt, tc.ok)
		}
	}
}

func FuzzBPFMountLine(f *testing.F) {
	f.Add("36 35 0:30 / /sys/fs/bpf rw,nosuid shared:1 - bpf bpf rw,mode=700")
	f.Add(`40 35 0:31 / /run/my\040bpf rw - bpf none rw`)
	f.Add(`1 2 3 4 \0 - bpf`)
	f.Fuzz(func(t *testing.T, line string) {
		mnt, _, ok := bpfMountLine(line)
		if ok && mnt == "" && !strings.Contains(line, " - bpf") {
			t.Fatalf("%q: accepted without a bpf type", line)
		}
	})
}
