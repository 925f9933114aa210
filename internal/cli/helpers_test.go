package cli

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
)

// cliResult is what a run of the xdpkit binary printed and returned.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runXdpkit runs the built xdpkit binary with args, as nobody when
// unprivileged, and fails the test when it cannot be run or takes over a
// minute.
func runXdpkit(t *testing.T, unprivileged bool, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.BuildCLI(t), args...)
	if unprivileged {
		testutil.Unprivileged(t, cmd)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run xdpkit %v: %v", args, err)
	}
	return cliResult{stdout.String(), stderr.String(), code}
}

// want checks the exit code and returns stdout.
func (r cliResult) want(t *testing.T, code int, args ...string) string {
	t.Helper()
	if r.code != code {
		t.Fatalf("xdpkit %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r.stdout
}
