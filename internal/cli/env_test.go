package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
)

// jsonLines decodes each line of out into a new T.
func jsonLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var vs []T
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var v T
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestEnvCLI(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	name := testutil.UniqueName("c")[:netenv.MaxNameLen]
	t.Cleanup(func() { netenv.Teardown(name) })

	// Twice in a row, as the README demo is run again and again.
	for round := 0; round < 2; round++ {
		stdout, stderr, code := runCLIOut(t, "env", "setup", name, "--queues", "2", "--json")
		if code != 0 {
			t.Fatalf("env setup: exit %d\n%s", code, stderr)
		}
		envs := jsonLines[envJSON](t, stdout)
		if len(envs) != 1 {
			t.Fatalf("env setup --json printed %d objects", len(envs))
		}
		e := envs[0]
		if e.Name != name || e.Queues != 2 || e.MTU != 1500 || e.Outer.Interface != "xk-"+name ||
			e.Inner.Netns != "xk-"+name || e.Outer.Netns != "" || e.Inner.IPv4 == "" || e.Inner.IPv6 == "" || e.Inner.Ifindex == 0 {
			t.Errorf("env setup --json: %+v", e)
		}

		// A second setup with the same name fails with exit 2 and leaves
		// the first env alone.
		_, stderr, code = runCLIOut(t, "env", "setup", name)
		if code != ExitUsage || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "xdpkit env teardown "+name) {
			t.Errorf("second env setup: exit %d\n%s", code, stderr)
		}

		stdout, stderr, code = runCLIOut(t, "env", "list", "--json")
		if code != 0 {
			t.Fatalf("env list: exit %d\n%s", code, stderr)
		}
		found := false
		for _, l := range jsonLines[envJSON](t, stdout) {
			if l.Name == name {
				found = true
				if l != e {
					t.Errorf("env list: %+v\nenv setup: %+v", l, e)
				}
			}
		}
		if !found {
			t.Errorf("env list does not show %s:\n%s", name, stdout)
		}
		stdout, _, _ = runCLIOut(t, "env", "list")
		if !strings.Contains(stdout, "xk-"+name+"-in") || !strings.Contains(stdout, e.Outer.IPv4) {
			t.Errorf("env list:\n%s", stdout)
		}

		stdout, stderr, code = runCLIOut(t, "env", "exec", name, "--", "ip", "-o", "link", "show")
		if code != 0 || !strings.Contains(stdout, e.Inner.Interface+"@") {
			t.Errorf("env exec ip link: exit %d\n%s%s", code, stdout, stderr)
		}
		stdout, _, code = runCLIOut(t, "env", "exec", name, "--outer", "--", "ip", "-o", "link", "show", e.Outer.Interface)
		if code != 0 || !strings.Contains(stdout, e.Outer.Interface+"@") {
			t.Errorf("env exec --outer: exit %d\n%s", code, stdout)
		}
		_, stderr, code = runCLIOut(t, "env", "exec", name, "--", "sh", "-c", "echo oops >&2; exit 7")
		if code != 7 || stderr != "oops\n" {
			t.Errorf("env exec of a failing command: exit %d, stderr %q", code, stderr)
		}
		// A command killed by signal N exits 128+N, as in shells.
		_, stderr, code = runCLIOut(t, "env", "exec", name, "--", "sh", "-c", "kill -TERM $$")
		if code != 128+15 || stderr != "" {
			t.Errorf("env exec of a command killed by SIGTERM: exit %d, stderr %q", code, stderr)
		}

		stdout, stderr, code = runCLIOut(t, "env", "ping", name, "--count", "2", "--json")
		if code != 0 {
			t.Fatalf("env ping: exit %d\n%s", code, stderr)
		}
		pings := jsonLines[pingJSON](t, stdout)
		if len(pings) != 2 || pings[0].Family != "ipv4" || pings[1].Family != "ipv6" {
			t.Fatalf("env ping --json:\n%s", stdout)
		}
		for _, p := range pings {
			if p.Sent != 2 || p.Received != 2 || p.From != "inner" || p.Name != name {
				t.Errorf("env ping: %+v", p)
			}
		}
		if p := pings[1]; p.Target+"/64" != e.Outer.IPv6 {
			t.Errorf("ping target %s, outer end %s", p.Target, e.Outer.IPv6)
		}
		stdout, _, code = runCLIOut(t, "env", "ping", name, "-c", "1", "--ipv6", "--from", "outer")
		if code != 0 || stdout != "ipv6 outer -> "+strings.TrimSuffix(e.Inner.IPv6, "/64")+": 1/1 replies\n" {
			t.Errorf("env ping --ipv6 --from outer: exit %d\n%s", code, stdout)
		}

		stdout, stderr, code = runCLIOut(t, "env", "teardown", name, "--json")
		if code != 0 || stdout != `{"name":"`+name+`","removed":true}`+"\n" {
			t.Fatalf("env teardown: exit %d\n%s%s", code, stdout, stderr)
		}
	}

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"env", "teardown", name}, ExitNotFound, "does not exist"},
		{[]string{"env", "exec", name, "--", "true"}, ExitNotFound, "does not exist"},
		{[]string{"env", "ping", name}, ExitNotFound, "does not exist"},
		{[]string{"env", "setup", "Bad_Name"}, ExitUsage, "lowercase"},
		{[]string{"env", "setup", "muchtoolongname"}, ExitUsage, "at most 9"},
		{[]string{"env", "setup", name, "--ipv4", "10.0.0.0/24"}, ExitUsage, "network address"},
	} {
		stdout, stderr, code := runCLIOut(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) || stdout != "" {
			t.Errorf("xdpkit %v: exit %d (want %d), stdout %q, stderr %q (want %q)", c.args, code, c.code, stdout, stderr, c.says)
		}
	}
}

func TestEnvCLIUnprivileged(t *testing.T) {
	testutil.RequirePrivileged(t)
	t.Parallel()
	bin := testutil.BuildCLI(t)
	for _, args := range [][]string{
		{"env", "setup", "nopriv"},
		{"env", "teardown", "nopriv"},
		{"env", "list"},
		{"env", "exec", "nopriv", "--", "true"},
	} {
		cmd := exec.Command(bin, args...)
		testutil.Unprivileged(t, cmd)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != ExitPermission || !strings.Contains(stderr.String(), "CAP_NET_ADMIN") {
			t.Errorf("unprivileged xdpkit %v: %v, stderr %q", args, err, stderr.String())
		}
	}
	if _, err := os.Stat("/run/netns/xk-nopriv"); err == nil {
		t.Error("an unprivileged env setup left a namespace")
	}
}

func TestEnvCLIUsage(t *testing.T) {
	for _, args := range [][]string{
		{"env", "teardown"},
		{"env", "teardown", "a", "--all"},
		{"env", "exec", "a"},
		{"env", "exec", "a", "--"},
		{"env", "exec", "a", "b", "--", "c"},
		{"env", "exec", "a", "ip", "-br", "link"},
		{"env", "ping", "a", "--from", "sideways"},
		{"env", "ping", "a", "--count", "0"},
		{"env", "setup", "a", "--queues", "0"},
		{"env", "setup", "a", "--ipv6", "nonsense"},
		{"env", "setup", "a", "b"},
		{"env", "list", "a"},
		{"env", "setup", "a", "--legacy-ip"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Run(context.Background(), args, &stdout, &stderr); code != ExitUsage {
			t.Errorf("xdpkit %v: exit %d, want %d (stderr %q)", args, code, ExitUsage, stderr.String())
		}
	}
}

// TestEnvSetupInterrupted sends SIGINT to env setup at various moments: the
// env must then be either complete (setup finished first) or entirely
// gone, never half made.
func TestEnvSetupInterrupted(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	bin := testutil.BuildCLI(t)
	for i := range 12 {
		name := testutil.UniqueName("i")[:netenv.MaxNameLen]
		t.Cleanup(func() { netenv.Teardown(name) })
		cmd := exec.Command(bin, "env", "setup", name)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i) * 5 * time.Millisecond)
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		t.Logf("SIGINT after %dms: %v %s", i*5, err, strings.TrimSpace(stderr.String()))
		// The signal may also come after setup finished, or before it
		// began: either way the env is complete or absent.
		env, oerr := netenv.Open(name)
		if oerr == nil {
			env.Close()
			continue
		}
		if !errors.Is(oerr, os.ErrNotExist) {
			t.Fatalf("after SIGINT (%v): %v", err, oerr)
		}
		if _, err := os.Lstat("/run/netns/xk-" + name); err == nil {
			t.Errorf("interrupted setup left the namespace of %s", name)
		}
		if _, err := exec.Command("ip", "link", "show", "xk-"+name).Output(); err == nil {
			t.Errorf("interrupted setup left the interface xk-%s", name)
		}
	}
}

// runCLIOut runs the built xdpkit with args and returns what it printed and
// its exit code.
func runCLIOut(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	r := runXdpkit(t, false, args...)
	return r.stdout, r.stderr, r.code
}

// TestEnvCLIIPv6Disabled runs env setup in a new network namespace where
// IPv6 is disabled, as in many containers: without --ipv6 the env comes up
// without IPv6 and a note says so; with --ipv6 setup fails with exit 4.
func TestEnvCLIIPv6Disabled(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		testutil.SkipOrFail(t, "unshare (util-linux) not found: %v", err)
	}
	bin := testutil.BuildCLI(t)
	name := testutil.UniqueName("v")[:netenv.MaxNameLen]
	// The outer end lives in the unshared namespace and goes with it when
	// the command exits; the inner namespace stays until teardown.
	t.Cleanup(func() { netenv.Teardown(name) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unshared := func(args ...string) (string, string, int) {
		t.Helper()
		argv := append([]string{"-n", "sh", "-c", `sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && exec "$0" "$@"`, bin}, args...)
		cmd := exec.CommandContext(ctx, "unshare", argv...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("unshare xdpkit %v: %v", args, err)
		}
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}

	stdout, stderr, code := unshared("env", "setup", name, "--json")
	if code != 0 || !strings.Contains(stderr, "note: IPv6 is disabled on this machine (sysctl net.ipv6.conf.all.disable_ipv6=1)") {
		t.Fatalf("env setup where IPv6 is disabled: exit %d\n%s%s", code, stdout, stderr)
	}
	envs := jsonLines[envJSON](t, stdout)
	if len(envs) != 1 || envs[0].Outer.IPv6 != "" || envs[0].Inner.IPv6 != "" || envs[0].Inner.IPv4 == "" {
		t.Errorf("env setup --json: %s", stdout)
	}
	if err := netenv.Teardown(name); err != nil {
		t.Fatal(err)
	}

	_, stderr, code = unshared("env", "setup", name, "--ipv6", "fc00:dead:beef::1/64")
	const want = "IPv6 is disabled on this machine (sysctl net.ipv6.conf.all.disable_ipv6=1): use --no-ipv6 or enable it"
	if code != ExitNotSupported || !strings.Contains(stderr, want) {
		t.Errorf("env setup --ipv6 where IPv6 is disabled: exit %d (want %d)\n%s", code, ExitNotSupported, stderr)
	}
	if _, err := netenv.Open(name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed setup left env %s: %v", name, err)
	}
}

// TestEnvCLIListIncomplete checks that env list labels a half-made env (a
// namespace file that is no namespace) as incomplete, and exits 0.
func TestEnvCLIListIncomplete(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	name := testutil.UniqueName("h")[:netenv.MaxNameLen]
	path := filepath.Join(netenv.NetnsDir, "xk-"+name)
	if err := os.MkdirAll(netenv.NetnsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })

	// Tests in other packages make and remove envs at the same time; one
	// caught half-way through its setup may make env list exit 1, so the
	// exit code only counts when no error names another env.
	othersFailed := func(stderr string) bool {
		return strings.Contains(stderr, "xdpkit: open env") && !strings.Contains(stderr, name)
	}
	stdout, stderr, code := runCLIOut(t, "env", "list", "--json")
	found := false
	for _, e := range jsonLines[envJSON](t, stdout) {
		if e.Name == name {
			found = e.Incomplete && strings.Contains(e.Error, "teardown "+name)
		}
	}
	if (code != 0 && !othersFailed(stderr)) || !found {
		t.Errorf("env list --json: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLIOut(t, "env", "list")
	if (code != 0 && !othersFailed(stderr)) || !strings.Contains(stdout, "(incomplete: remove it with xdpkit env teardown "+name+")") {
		t.Errorf("env list: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestMostSerious(t *testing.T) {
	notFound := fmt.Errorf("env %q: %w", "a", os.ErrNotExist)
	failed := errors.New("tear down env \"b\": device busy")
	denied := fmt.Errorf("env c: %w", os.ErrPermission)
	for _, c := range []struct {
		errs []error
		code int
	}{
		{[]error{notFound}, ExitNotFound},
		{[]error{notFound, failed}, ExitFailure},
		{[]error{failed, notFound}, ExitFailure},
		{[]error{notFound, denied}, ExitPermission},
		{[]error{failed}, ExitFailure},
	} {
		err := mostSerious(c.errs)
		if got := ExitCode(err); got != c.code {
			t.Errorf("%v: exit %d, want %d", c.errs, got, c.code)
		}
		for _, e := range c.errs {
			if !strings.Contains(err.Error(), e.Error()) {
				t.Errorf("%q does not say %q", err, e)
			}
		}
	}
	if mostSerious(nil) != nil {
		t.Error("no failures, yet an error")
	}
}
