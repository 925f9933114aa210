// Package testutil holds what xdpkit's tests share: privilege and kernel
// checks that skip locally with a reason but fail in CI, unique names for
// kernel objects, and a way to run the CLI as an unprivileged user.
package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/caps"
)

// InCI reports whether the tests run in CI (CI=true), where a test that
// would skip for missing privileges or kernel features fails instead.
func InCI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail skips t with reason locally and fails it in CI.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("CI=true: %s (CI must run this test for real)", reason)
	}
	t.Skip(reason)
}

// RequirePrivileged skips (locally) or fails (in CI) unless the test holds
// CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN, what kernel tests need.
func RequirePrivileged(t testing.TB) {
	t.Helper()
	if err := caps.Require(caps.BPF, caps.NetAdmin); err != nil {
		SkipOrFail(t, "kernel test needs privileges: %v", err)
	}
}

// RequireBPFFS skips or fails unless a BPF filesystem is mounted at dir.
func RequireBPFFS(t testing.TB, dir string) {
	t.Helper()
	if err := bpffs.Check(dir); err != nil {
		SkipOrFail(t, "no bpffs at %s: %v", dir, err)
	}
}

// UniqueName returns prefix followed by random hex, at most 15 bytes long so
// that it fits an interface name (IFNAMSIZ-1). Tests running in parallel,
// in several processes or on several checkouts get different names.
func UniqueName(prefix string) string {
	const max = 15
	if len(prefix) > 7 {
		prefix = prefix[:7]
	}
	b := make([]byte, (max-len(prefix))/2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}

// RepoRoot returns the root of the xdpkit checkout the tests run from.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testutil: cannot locate source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// BuildCLI builds cmd/xdpkit once per test binary and returns the path of
// the executable, in a directory that every user may read, so that tests can
// also run it unprivileged (see Unprivileged).
func BuildCLI(t testing.TB) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "xdpkit-cli-")
		if err != nil {
			cliErr = err
			return
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "xdpkit")
		cmd := exec.Command("go", "build", "-o", cliPath, "./cmd/xdpkit")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("go build ./cmd/xdpkit: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// Unprivileged makes cmd run as the user nobody (65534) with no
// capabilities, for tests of the errors a user without privileges sees. It
// skips or fails when the test itself is not root (it cannot switch user).
func Unprivileged(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "switching to an unprivileged user needs root")
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
}
