package netenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Do runs fn on a locked OS thread inside the end's network namespace and
// returns the thread to its namespace afterwards. Sockets fn opens (and
// XDP programs it attaches by ifindex) belong to that namespace and stay
// there after Do returns. Goroutines fn starts do not run in the
// namespace. Do costs a thread switch and two setns calls.
//
// fn runs on a goroutine of its own, so it must not call t.FailNow,
// t.Fatal or t.Skip (nor runtime.Goexit): return an error instead. If it
// does, Do returns an error saying so rather than hang.
func (e End) Do(fn func() error) error {
	if e.Netns == "" {
		return fn()
	}
	return doInNetns(e.Netns, fn)
}

// Command returns a command that runs argv inside the end's network
// namespace, through "ip netns exec" (which also mounts a /sys showing the
// namespace's interfaces). For an end in the current namespace it runs
// argv directly. When ctx is done, the command gets SIGTERM and, 5 seconds
// later, SIGKILL.
func (e End) Command(ctx context.Context, argv ...string) *exec.Cmd {
	if len(argv) == 0 {
		cmd := exec.CommandContext(ctx, "true")
		cmd.Err = errs.Markf(os.ErrInvalid, "run in netns %q: no command given", e.Netns)
		return cmd
	}
	var cmd *exec.Cmd
	if e.Netns == "" {
		cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	} else {
		cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", e.Netns}, argv...)...)
		if cmd.Err != nil {
			cmd.Err = fmt.Errorf("run in netns %s: \"ip\" not found, install iproute2: %w", e.Netns, cmd.Err)
		}
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Exec runs argv inside the end's network namespace and returns its
// combined output. A failing command's error holds the output too.
func (e End) Exec(ctx context.Context, argv ...string) ([]byte, error) {
	cmd := e.Command(ctx, argv...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		where := "netns " + e.Netns
		if e.Netns == "" {
			where = "the current netns"
		}
		msg := strings.TrimSpace(out.String())
		if msg != "" {
			msg = ": " + msg
		}
		return out.Bytes(), fmt.Errorf("%s in %s: %w%s", strings.Join(argv, " "), where, err, msg)
	}
	return out.Bytes(), nil
}

// Do runs fn inside the inner end's namespace (see End.Do).
func (e *Env) Do(fn func() error) error { return e.Inner.Do(fn) }

// Command returns a command running argv inside the inner end's namespace
// (see End.Command).
func (e *Env) Command(ctx context.Context, argv ...string) *exec.Cmd {
	return e.Inner.Command(ctx, argv...)
}

// Exec runs argv inside the inner end's namespace (see End.Exec).
func (e *Env) Exec(ctx context.Context, argv ...string) ([]byte, error) {
	return e.Inner.Exec(ctx, argv...)
}

// DoIn runs fn on a locked OS thread inside the named network namespace
// under NetnsDir ("" runs fn directly, in the current one) and returns the
// thread to its namespace afterwards, as End.Do does. Calls that resolve
// an ifindex in the calling thread's namespace, such as attaching an XDP
// program with a bpf_link, need it to reach another namespace's devices.
func DoIn(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	return doInNetns(ns, fn)
}
