package xdp_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/builtin"
	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/xdp"
)

// newVeth creates a veth pair with unique names in the current (root)
// network namespace, up, and deletes it when the test ends. It returns the
// name of one end.
func newVeth(t *testing.T) string {
	t.Helper()
	name := testutil.UniqueName("xa")
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: name},
		PeerName:  testutil.UniqueName("xb"),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("create veth %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := netlink.LinkDel(veth); err != nil {
			t.Errorf("delete veth %s: %v", name, err)
		}
	})
	for _, n := range []string{name, veth.PeerName} {
		l, err := netlink.LinkByName(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// mountBPFFS mounts a private BPF filesystem for the test and returns its
// path.
func mountBPFFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		testutil.SkipOrFail(t, "mount bpffs at %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// status returns the one interface Status reports for name.
func status(t *testing.T, name string) xdp.Interface {
	t.Helper()
	ifaces, err := xdp.Status(name)
	if err != nil {
		t.Fatalf("Status(%s): %v", name, err)
	}
	if len(ifaces) != 1 || ifaces[0].Name != name {
		t.Fatalf("Status(%s) = %+v, want that interface only", name, ifaces)
	}
	return ifaces[0]
}

func attach(t *testing.T, opts xdp.AttachOptions) *xdp.Attachment {
	t.Helper()
	a, err := xdp.Attach(opts)
	if err != nil {
		t.Fatalf("Attach(%+v): %v", opts, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestAttachStatusClose(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, mode := range []xdp.Mode{xdp.ModeNative, xdp.ModeGeneric} {
		t.Run(string(mode), func(t *testing.T) {
			iface := newVeth(t)
			a := attach(t, xdp.AttachOptions{Interface: iface, Object: builtin.XDPPassObject(), Mode: mode})

			got := a.Info()
			if len(got.Programs) != 1 || got.Programs[0].ID == 0 || got.Programs[0].LinkID == 0 {
				t.Fatalf("Info() = %+v, want one program with ids", got)
			}
			want := got.Programs[0]

			in := status(t, iface)
			if in.Mode != mode || len(in.Programs) != 1 {
				t.Fatalf("Status = %+v, want one program in %s mode", in, mode)
			}
			p := in.Programs[0]
			if p.ID != want.ID || p.Name != "xdp_pass" || p.Mode != mode || p.Type != ebpf.XDP ||
				p.Via != xdp.ViaLink || p.LinkID != want.LinkID || p.Tag == "" || p.Tag != want.Tag {
				t.Fatalf("Status program = %+v, want %+v", p, want)
			}
			if len(p.Pins) != 0 {
				t.Errorf("Pins = %v, want none", p.Pins)
			}

			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if in := status(t, iface); len(in.Programs) != 0 || in.Mode != "" {
				t.Fatalf("after Close: %+v, want nothing attached", in)
			}
		})
	}
}

func TestStatusAll(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := newVeth(t)
	attach(t, xdp.AttachOptions{Interface: iface, Object: builtin.XDPCountObject(), Mode: xdp.ModeGeneric})
	ifaces, err := xdp.Status("")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, in := range ifaces {
		if in.Name == "lo" && in.Index != 1 {
			t.Errorf("lo has index %d", in.Index)
		}
		if in.Name == iface {
			found = len(in.Programs) == 1 && in.Programs[0].Name == "xdp_count"
		}
	}
	if !found {
		t.Fatalf("Status(\"\") = %+v, want %s with xdp_count", ifaces, iface)
	}
}

func TestAttachPinDetach(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := newVeth(t)
	pin := filepath.Join(mountBPFFS(t), "xdpkit", "links", iface)

	a := attach(t, xdp.AttachOptions{Interface: iface, ObjectPath: testprogs.Path("maps"), Pin: pin})
	if !a.Pinned() {
		t.Fatal("Pinned() = false")
	}
	if a.Map("counts") == nil || a.Map("entries") == nil {
		t.Errorf("maps of maps_prog not loaded: counts=%v entries=%v", a.Map("counts"), a.Map("entries"))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// Still attached after Close: the pin holds the link.
	in := status(t, iface)
	if len(in.Programs) != 1 || in.Programs[0].Name != "maps_prog" || in.Programs[0].Via != xdp.ViaLink {
		t.Fatalf("after Close of a pinned attachment: %+v, want maps_prog via link", in)
	}
	if got := in.Programs[0].Pins; len(got) != 1 || got[0] != pin {
		t.Errorf("Pins = %v, want [%s]", got, pin)
	}

	done, err := xdp.Detach(iface, xdp.DetachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].Name != "maps_prog" {
		t.Errorf("Detach = %+v, want maps_prog", done)
	}
	if _, err := os.Stat(pin); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin %s still there after Detach: %v", pin, err)
	}
	if in := status(t, iface); len(in.Programs) != 0 {
		t.Fatalf("after Detach: %+v", in)
	}

	_, err = xdp.Detach(iface, xdp.DetachOptions{})
	if !errors.Is(err, xdp.ErrNotAttached) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("second Detach: %v, want ErrNotAttached", err)
	}
}

func TestDetachHeldLink(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := newVeth(t)
	a := attach(t, xdp.AttachOptions{Interface: iface, Object: builtin.XDPPassObject()})
	if _, err := xdp.Detach(iface, xdp.DetachOptions{Mode: xdp.ModeGeneric}); !errors.Is(err, xdp.ErrNotAttached) ||
		!strings.Contains(err.Error(), "native") {
		t.Fatalf("Detach in the wrong mode: %v", err)
	}
	if _, err := xdp.Detach(iface, xdp.DetachOptions{Mode: xdp.ModeNative}); err != nil {
		t.Fatal(err)
	}
	if in := status(t, iface); len(in.Programs) != 0 {
		t.Fatalf("after Detach: %+v", in)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close after Detach: %v", err)
	}
}

func TestAttachBusy(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := newVeth(t)
	first := attach(t, xdp.AttachOptions{Interface: iface, Object: builtin.XDPPassObject()})
	id := first.Info().Programs[0].ID

	for _, mode := range []xdp.Mode{xdp.ModeNative, xdp.ModeGeneric} {
		_, err := xdp.Attach(xdp.AttachOptions{Interface: iface, Object: builtin.XDPCountObject(), Mode: mode})
		if !errors.Is(err, xdp.ErrAlreadyAttached) || !errors.Is(err, os.ErrExist) {
			t.Fatalf("second Attach in %s mode: %v, want ErrAlreadyAttached", mode, err)
		}
		msg := err.Error()
		for _, want := range []string{iface, "xdp_pass", "native", "xdpkit detach " + iface, "id " + strconv.Itoa(int(id))} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not mention %q", msg, want)
			}
		}
	}
}

func TestLegacyNetlink(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, mode := range []xdp.Mode{xdp.ModeNative, xdp.ModeGeneric} {
		t.Run(string(mode), func(t *testing.T) {
			iface := newVeth(t)
			prog := testutil.LoadXDPPass(t, "xdp_pass")
			l, err := netlink.LinkByName(iface)
			if err != nil {
				t.Fatal(err)
			}
			flags := unix.XDP_FLAGS_DRV_MODE
			if mode == xdp.ModeGeneric {
				flags = unix.XDP_FLAGS_SKB_MODE
			}
			if err := netlink.LinkSetXdpFdWithFlags(l, prog.FD(), flags); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { netlink.LinkSetXdpFdWithFlags(l, -1, flags) })

			in := status(t, iface)
			if len(in.Programs) != 1 || in.Programs[0].Via != xdp.ViaNetlink || in.Programs[0].Mode != mode ||
				in.Programs[0].Name != "xdp_pass" || in.Programs[0].LinkID != 0 {
				t.Fatalf("Status = %+v, want xdp_pass via netlink in %s mode", in, mode)
			}

			done, err := xdp.Detach(iface, xdp.DetachOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != 1 || done[0].Via != xdp.ViaNetlink {
				t.Errorf("Detach = %+v", done)
			}
			if in := status(t, iface); len(in.Programs) != 0 {
				t.Fatalf("after Detach: %+v", in)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := newVeth(t)
	notELF := filepath.Join(t.TempDir(), "not.o")
	if err := os.WriteFile(notELF, []byte("this is not an ELF file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	multi := testprogs.Path("attach_multi")
	pass := testprogs.Path("maps")

	for _, tc := range []struct {
		name string
		opts xdp.AttachOptions
		is   []error
		msg  []string
	}{
		{"missing interface", xdp.AttachOptions{Interface: "nosuchif0", ObjectPath: pass},
			[]error{xdp.ErrNoInterface, os.ErrNotExist}, []string{`interface "nosuchif0" does not exist (see ip link)`}},
		{"missing file", xdp.AttachOptions{Interface: iface, ObjectPath: "/nonexistent/x.o"},
			[]error{os.ErrNotExist}, []string{"/nonexistent/x.o does not exist"}},
		{"not ELF", xdp.AttachOptions{Interface: iface, ObjectPath: notELF},
			[]error{xdp.ErrBadObject, os.ErrInvalid}, []string{"not a BPF ELF object", "clang"}},
		{"not BPF", xdp.AttachOptions{Interface: iface, ObjectPath: "/bin/true"},
			[]error{xdp.ErrBadObject, os.ErrInvalid}, []string{"not a BPF ELF object"}},
		{"wrong prog name", xdp.AttachOptions{Interface: iface, ObjectPath: multi, Program: "nope"},
			[]error{xdp.ErrNoProgram, os.ErrNotExist}, []string{`"nope"`, "multi_drop, multi_pass"}},
		{"wrong type", xdp.AttachOptions{Interface: iface, ObjectPath: multi, Program: "multi_tc"},
			[]error{xdp.ErrWrongType, os.ErrInvalid}, []string{`program "multi_tc" is SchedCLS, not XDP`}},
		{"several XDP programs", xdp.AttachOptions{Interface: iface, ObjectPath: multi},
			[]error{xdp.ErrAmbiguous, os.ErrInvalid}, []string{"has 2 XDP programs (multi_drop, multi_pass): choose one with --prog"}},
		{"pin not on bpffs", xdp.AttachOptions{Interface: iface, ObjectPath: pass, Pin: filepath.Join(t.TempDir(), "l")},
			[]error{xdp.ErrNotBPFFS, os.ErrInvalid}, []string{"is not on a BPF filesystem", "mount -t bpf bpf /sys/fs/bpf"}},
		{"offload", xdp.AttachOptions{Interface: iface, ObjectPath: pass, Mode: xdp.ModeOffload},
			[]error{errors.ErrUnsupported}, []string{"offload mode is not supported: use native or generic"}},
		{"pin with a dot", xdp.AttachOptions{Interface: iface, ObjectPath: pass, Pin: filepath.Join(mountBPFFS(t), "links", "link.v1")},
			[]error{os.ErrInvalid}, []string{"bpffs names cannot contain '.'", `"link.v1"`}},
		{"native on lo", xdp.AttachOptions{Interface: "lo", ObjectPath: pass},
			[]error{ebpf.ErrNotSupported}, []string{"native XDP", "--mode generic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := xdp.Attach(tc.opts)
			if err == nil {
				a.Close()
				t.Fatal("Attach succeeded")
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("error %q does not match %v", err, target)
				}
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
			if msg := err.Error(); strings.HasSuffix(msg, ": unsupported operation") || strings.HasSuffix(msg, ": invalid argument") {
				t.Errorf("error %q ends in its sentinel's text", msg)
			}
		})
	}

	// The chosen program of a multi-program object attaches.
	a := attach(t, xdp.AttachOptions{Interface: iface, ObjectPath: multi, Program: "multi_drop"})
	if got := status(t, iface).Programs; len(got) != 1 || got[0].Name != "multi_drop" {
		t.Fatalf("Status = %+v, want multi_drop", got)
	}
	a.Close()

	if _, err := xdp.Status("nosuchif0"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Status of a missing interface: %v", err)
	}
	if _, err := xdp.Detach("nosuchif0", xdp.DetachOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Detach of a missing interface: %v", err)
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]xdp.Mode{"": "", "native": xdp.ModeNative, "driver": xdp.ModeNative,
		"DRV": xdp.ModeNative, "generic": xdp.ModeGeneric, "skb": xdp.ModeGeneric, "hw": xdp.ModeOffload} {
		if got, err := xdp.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := xdp.ParseMode("fast"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("ParseMode(fast): %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []xdp.AttachOptions{
		{ObjectPath: "x.o"},
		{Interface: "eth0"},
		{Interface: "eth0", ObjectPath: "x.o", Object: []byte{1}},
		{Interface: "eth0", ObjectPath: "x.o", Mode: "fast"},
	} {
		if err := o.Validate(); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want os.ErrInvalid", o, err)
		}
	}
}

// TestPinDirsCleanup checks that a failed Attach leaves none of the
// directories of its pin path behind.
func TestPinDirsCleanup(t *testing.T) {
	testutil.RequirePrivileged(t)
	bpffs := mountBPFFS(t)
	for _, tc := range []struct {
		name string
		opts xdp.AttachOptions
	}{
		// Fails in the kernel, after the pin path was checked.
		{"native on lo", xdp.AttachOptions{Interface: "lo", Object: builtin.XDPPassObject()}},
		// The directories would be fine, the pin's name is not.
		{"dot", xdp.AttachOptions{Interface: "lo", Object: builtin.XDPPassObject(), Mode: xdp.ModeGeneric}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Pin = filepath.Join(bpffs, "a", "b", "link")
			if tc.name == "dot" {
				tc.opts.Pin += ".v1"
			}
			a, err := xdp.Attach(tc.opts)
			if err == nil {
				a.Close()
				t.Fatal("Attach succeeded")
			}
			if _, err := os.Lstat(filepath.Join(bpffs, "a")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after a failed Attach (%v): %s/a: %v, want it not created", err, bpffs, err)
			}
		})
	}
}
