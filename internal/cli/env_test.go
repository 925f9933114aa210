package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
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
