package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
)

// xdpPassObject is the path of the built-in xdp_pass object.
func xdpPassObject() string {
	return filepath.Join(testutil.RepoRoot(), "internal", "builtin", "xdppass_bpfel.o")
}

// startAttach starts xdpkit attach in the background and waits for the
// line it prints on stdout once the program is attached. The process is
// killed when the test ends if it is still running.
func startAttach(t *testing.T, args ...string) (*exec.Cmd, interfaceJSON) {
	t.Helper()
	cmd := exec.Command(testutil.BuildCLI(t), append([]string{"attach", "--json"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, stdout)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatalf("xdpkit attach %v printed nothing in 20s; stderr: %s", args, stderr.String())
	}
	var in interfaceJSON
	if err := json.Unmarshal([]byte(line), &in); err != nil {
		cmd.Wait()
		t.Fatalf("xdpkit attach %v printed %q (%v); stderr: %s", args, line, err, stderr.String())
	}
	return cmd, in
}

// waitExit waits up to 5s for cmd to exit and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("xdpkit did not exit within 5s")
	}
	return cmd.ProcessState.ExitCode()
}

func TestAttachForeground(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, tc := range []struct {
		name string
		mode string
		stop func(*exec.Cmd) error
		code int
	}{
		{"SIGINT native", "native", func(c *exec.Cmd) error { return c.Process.Signal(os.Interrupt) }, 0},
		{"SIGTERM generic", "generic", func(c *exec.Cmd) error { return c.Process.Signal(syscall.SIGTERM) }, 0},
		{"SIGKILL", "native", func(c *exec.Cmd) error { return c.Process.Kill() }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iface := xdpTestVeth(t)
			cmd, attached := startAttach(t, iface, xdpPassObject(), "--mode", tc.mode, "--duration", "30s")
			if len(attached.Programs) != 1 || attached.Programs[0].Name != "xdp_pass" {
				t.Fatalf("attach printed %+v", attached)
			}

			in := xdpStatusJSON(t, iface)
			if in.Mode != tc.mode || len(in.Programs) != 1 {
				t.Fatalf("status --json = %+v, want one program in %s mode", in, tc.mode)
			}
			p := in.Programs[0]
			want := attached.Programs[0]
			if p.Name != "xdp_pass" || p.Attach != "link" || p.ID != want.ID || p.LinkID != want.LinkID || p.LinkID == 0 {
				t.Fatalf("status program = %+v, want %+v", p, want)
			}

			if err := tc.stop(cmd); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, cmd); code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			// Nothing remains, even after SIGKILL: the link dies with the
			// process's file descriptors.
			waitDetached(t, iface)
		})
	}
}

func TestAttachDuration(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := xdpTestVeth(t)
	start := time.Now()
	r := runXdpkit(t, false, "attach", iface, xdpPassObject(), "--duration", "300ms")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("attach --duration 300ms returned after %v", d)
	}
	if !strings.HasPrefix(r.stdout, iface+": attached xdp_pass (id ") || !strings.Contains(r.stdout, "native mode, link ") {
		t.Errorf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "attached; detaching in 300ms") || !strings.Contains(r.stderr, "detached xdp_pass from "+iface) {
		t.Errorf("stderr %q", r.stderr)
	}
	waitDetached(t, iface)
}

func TestAttachPinDetach(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := xdpTestVeth(t)
	bpffs := t.TempDir()
	if err := unix.Mount("bpf", bpffs, "bpf", 0, "mode=0700"); err != nil {
		testutil.SkipOrFail(t, "mount bpffs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(bpffs, unix.MNT_DETACH) })
	pin := filepath.Join(bpffs, "xdpkit", iface)

	r := runXdpkit(t, false, "attach", iface, xdpPassObject(), "--pin", pin, "--mode", "generic")
	if r.code != 0 {
		t.Fatalf("attach --pin: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "pinned at "+pin) || !strings.Contains(r.stderr, "xdpkit detach "+iface) {
		t.Errorf("stderr %q", r.stderr)
	}
	in := xdpStatusJSON(t, iface)
	if len(in.Programs) != 1 || in.Programs[0].Attach != "link" || len(in.Programs[0].Pins) != 1 || in.Programs[0].Pins[0] != pin {
		t.Fatalf("after attach --pin, status = %+v", in)
	}

	r = runXdpkit(t, false, "detach", iface, "--mode", "native")
	if r.code != ExitNotFound || !strings.Contains(r.stderr, "no XDP program in native mode") {
		t.Errorf("detach --mode native: exit %d, %q", r.code, r.stderr)
	}
	r = runXdpkit(t, false, "detach", iface, "--json")
	if r.code != 0 {
		t.Fatalf("detach: exit %d: %s", r.code, r.stderr)
	}
	var d detachJSON
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Interface != iface || len(d.Detached) != 1 ||
		d.Detached[0].Name != "xdp_pass" || d.Detached[0].Pins[0] != pin {
		t.Errorf("detach --json printed %q (%v)", r.stdout, err)
	}
	if _, err := os.Stat(pin); !os.IsNotExist(err) {
		t.Errorf("pin %s remains after detach: %v", pin, err)
	}
	waitDetached(t, iface)

	r = runXdpkit(t, false, "detach", iface)
	if r.code != ExitNotFound || !strings.Contains(r.stderr, "has no XDP program attached") {
		t.Errorf("second detach: exit %d, %q", r.code, r.stderr)
	}
}

func TestAttachBusyCLI(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := xdpTestVeth(t)
	cmd, _ := startAttach(t, iface, xdpPassObject(), "--duration", "30s")
	r := runXdpkit(t, false, "attach", iface, xdpPassObject(), "--duration", "1s")
	want := iface + " already has XDP program xdp_pass (id "
	if r.code != ExitUsage || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "detach it first with xdpkit detach "+iface) {
		t.Errorf("second attach: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	// Detach works on a link a foreground attach holds.
	r = runXdpkit(t, false, "detach", iface)
	if r.code != 0 || !strings.Contains(r.stdout, "link ") {
		t.Errorf("detach: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	waitDetached(t, iface)
	cmd.Process.Signal(os.Interrupt)
	if code := waitExit(t, cmd); code != 0 {
		t.Errorf("attach after its link was detached: exit %d", code)
	}
}

func TestAttachErrorsCLI(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := xdpTestVeth(t)
	notELF := filepath.Join(t.TempDir(), "not.o")
	if err := os.WriteFile(notELF, []byte("not an object\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	multi := testprogs.Path("attach_multi")
	pass := xdpPassObject()

	for _, tc := range []struct {
		name         string
		unprivileged bool
		args         []string
		code         int
		msg          []string
	}{
		{"missing interface", false, []string{"attach", "nosuchif0", pass}, ExitNotFound,
			[]string{`interface "nosuchif0" does not exist (see ip link)`}},
		{"missing file", false, []string{"attach", iface, "/nonexistent.o"}, ExitNotFound,
			[]string{"/nonexistent.o does not exist"}},
		{"not ELF", false, []string{"attach", iface, notELF}, ExitUsage,
			[]string{"is not a BPF ELF object"}},
		{"wrong prog name", false, []string{"attach", iface, multi, "--prog", "nope"}, ExitNotFound,
			[]string{`no program "nope"`, "multi_drop, multi_pass"}},
		{"wrong program type", false, []string{"attach", iface, multi, "--prog", "multi_tc"}, ExitUsage,
			[]string{`program "multi_tc" is SchedCLS, not XDP`}},
		{"several XDP programs", false, []string{"attach", iface, multi}, ExitUsage,
			[]string{"has 2 XDP programs (multi_drop, multi_pass): choose one with --prog"}},
		{"pin not on bpffs", false, []string{"attach", iface, pass, "--pin", filepath.Join(t.TempDir(), "link")}, ExitUsage,
			[]string{"is not on a BPF filesystem", "mount -t bpf bpf /sys/fs/bpf"}},
		{"bad mode", false, []string{"attach", iface, pass, "--mode", "fast"}, ExitUsage,
			[]string{`unknown XDP mode "fast"`}},
		{"offload", false, []string{"attach", iface, pass, "--mode", "offload"}, ExitNotSupported,
			[]string{"offload mode is not supported: use native or generic\n"}},
		{"pin with a dot", false, []string{"attach", iface, pass, "--pin", "/sys/fs/bpf/xdpkit-test.v1"}, ExitUsage,
			[]string{"bpffs names cannot contain '.'"}},
		{"detach bad mode", false, []string{"detach", iface, "--mode", "fast"}, ExitUsage,
			[]string{`unknown XDP mode "fast"`, "offload"}},
		{"pin and duration", false, []string{"attach", iface, pass, "--pin", "/sys/fs/bpf/x", "--duration", "1s"}, ExitUsage,
			[]string{"--pin and --duration exclude each other"}},
		{"missing args", false, []string{"attach", iface}, ExitUsage,
			[]string{"accepts 2 arg(s)"}},
		{"native unsupported", false, []string{"attach", "lo", pass}, ExitNotSupported,
			[]string{"does not support native XDP", "--mode generic"}},
		{"unprivileged attach", true, []string{"attach", iface, pass}, ExitPermission,
			[]string{"CAP_BPF", "CAP_NET_ADMIN"}},
		{"unprivileged detach", true, []string{"detach", iface}, ExitPermission,
			[]string{"CAP_SYS_ADMIN", "CAP_NET_ADMIN"}},
		{"detach nothing", false, []string{"detach", iface}, ExitNotFound,
			[]string{"has no XDP program attached"}},
		{"detach missing interface", false, []string{"detach", "nosuchif0"}, ExitNotFound,
			[]string{`interface "nosuchif0" does not exist`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runXdpkit(t, tc.unprivileged, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			for _, m := range tc.msg {
				if !strings.Contains(r.stderr, m) {
					t.Errorf("stderr %q does not contain %q", r.stderr, m)
				}
			}
		})
	}
	if in := xdpStatusJSON(t, iface); len(in.Programs) != 0 {
		t.Errorf("a failed attach left %+v", in.Programs)
	}
}
