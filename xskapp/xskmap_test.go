package xskapp_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
	"github.com/xdpkit/xdpkit/xskapp"
)

// TestOwnProgramAndPinnedXSKMap is libxdp's inhibit-prog-load +
// update-xskmap: bpftool loads and attaches a program and pins its XSKMAP;
// xskapp registers its socket there and loads nothing of its own.
func TestOwnProgramAndPinnedXSKMap(t *testing.T) {
	env := testutil.NewQuietEnv(t, netenv.Spec{})
	testutil.RequireBPFFS(t, "/sys/fs/bpf")
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		testutil.SkipOrFail(t, "bpftool is not installed (scripts/setup.sh installs it)")
	}
	dir := filepath.Join("/sys/fs/bpf", testutil.UniqueName("xsk"))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	obj := filepath.Join(t.TempDir(), "prog.o")
	if err := os.WriteFile(obj, xsk.ProgramObject(), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(bpftool, args...).CombinedOutput(); err != nil {
			t.Fatalf("bpftool %v: %v\n%s", args, err, out)
		}
	}
	run("prog", "load", obj, dir+"/prog", "type", "xdp", "pinmaps", dir)
	run("net", "attach", "xdpdrv", "pinned", dir+"/prog", "dev", env.Outer.Interface)
	t.Cleanup(func() { exec.Command(bpftool, "net", "detach", "xdpdrv", "dev", env.Outer.Interface).Run() })

	const n = 1000
	app := newApp(t, xskapp.Config{Kind: xskapp.RX, Interface: env.Outer.Interface, Bind: xsk.ModeCopy,
		XSKMapPin: dir + "/xsks_map", Count: n, Duration: 10 * time.Second})
	sock := testutil.OpenPacketSocket(t, env.Inner, etherTest)
	frame := testFrame(env.Inner.MAC, env.Outer.MAC, 0)
	done := runInBackground(t, app)
	sendPaced(t, app, sock, frame, n)
	if s := <-done; s.RxPackets != n || s.Program != nil {
		t.Fatalf("received %d frames (want %d), program counters %v (want none: not xdpkit's program)", s.RxPackets, n, s.Program)
	}
}
