package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/caps"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitFailure},
		{usagef("bad flag"), ExitUsage},
		{fmt.Errorf("load: %w", unix.EPERM), ExitPermission},
		{&caps.MissingError{Caps: []string{"CAP_BPF"}}, ExitPermission},
		{fmt.Errorf("x: %w", ebpf.ErrNotSupported), ExitNotSupported},
		{fmt.Errorf("x: %w", unix.EOPNOTSUPP), ExitNotSupported},
		{fmt.Errorf("iface: %w", os.ErrNotExist), ExitNotFound},
		{fmt.Errorf("open: %w", unix.ENOENT), ExitNotFound},
		{fmt.Errorf("size: %w", os.ErrInvalid), ExitUsage},
		{fmt.Errorf("env: %w", os.ErrExist), ExitUsage},
		{fmt.Errorf("load: %w", &ebpf.VerifierError{Cause: unix.EACCES}), ExitFailure},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"status", "a", "b", "c"},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), args, &stdout, &stderr)
		if code != ExitUsage {
			t.Errorf("xdpkit %v: exit %d, want %d (stderr %q)", args, code, ExitUsage, stderr.String())
		}
		if !strings.HasPrefix(stderr.String(), "xdpkit: ") {
			t.Errorf("xdpkit %v: stderr %q does not start with \"xdpkit: \"", args, stderr.String())
		}
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"--help"}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("--help: exit %d", code)
	}
	if !strings.Contains(stdout.String(), "Exit codes") {
		t.Fatalf("--help does not document exit codes:\n%s", stdout.String())
	}
}
