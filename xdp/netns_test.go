package xdp_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/xdp"
)

// newNetns creates a network namespace with a unique name in /run/netns,
// as ip netns add does, brings its lo up, and deletes it when the test
// ends.
func newNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	name := testutil.UniqueName("xdpt")
	type result struct {
		ns  netns.NsHandle
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The thread ends up in the new namespace: it stays locked, so
		// that the runtime discards it when this goroutine returns.
		runtime.LockOSThread()
		ns, err := netns.NewNamed(name)
		done <- result{ns, err}
	}()
	res := <-done
	if res.err != nil {
		t.Fatalf("create netns %s: %v", name, res.err)
	}
	t.Cleanup(func() {
		res.ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			t.Errorf("delete netns %s: %v", name, err)
		}
	})
	inNetns(t, res.ns, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	})
	return res.ns
}

// inNetns runs fn on a locked OS thread in ns and fails the test if it
// returns an error.
func inNetns(t *testing.T, ns netns.NsHandle, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			done <- err
			return
		}
		err = fn()
		if err2 := netns.Set(orig); err2 != nil {
			done <- errors.Join(err, err2) // the thread stays locked and dies
			return
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// loStatus returns what Status says of lo in ns.
func loStatus(t *testing.T, ns netns.NsHandle) xdp.Interface {
	t.Helper()
	var in xdp.Interface
	inNetns(t, ns, func() error {
		ifaces, err := xdp.Status("lo")
		if err != nil {
			return err
		}
		if len(ifaces) != 1 {
			return fmt.Errorf("Status(lo) = %+v", ifaces)
		}
		in = ifaces[0]
		return nil
	})
	return in
}

// linkLo attaches prog to lo in ns in generic mode with a bpf_link pinned
// at pin, and returns the link's id.
func linkLo(t *testing.T, ns netns.NsHandle, prog *ebpf.Program, pin string) link.ID {
	t.Helper()
	var id link.ID
	inNetns(t, ns, func() error {
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: 1, Flags: link.XDPGenericMode})
		if err != nil {
			return fmt.Errorf("attach link: %w", err)
		}
		defer l.Close()
		if err := l.Pin(pin); err != nil {
			return err
		}
		info, err := l.Info()
		if err != nil {
			return err
		}
		id = info.ID
		return nil
	})
	return id
}

// TestNetnsSameIfindex is the case of a program attached to lo (ifindex 1
// in every namespace) through netlink in one namespace and through a
// pinned bpf_link in another: links do not say their namespace, and
// Status and Detach used to take the other namespace's link for ours,
// detach it and remove its pin.
func TestNetnsSameIfindex(t *testing.T) {
	testutil.RequireNetenv(t)
	testutil.RequireBPFFS(t, "/sys/fs/bpf")
	pinDir := filepath.Join("/sys/fs/bpf", testutil.UniqueName("xdpt"))
	if err := os.Mkdir(pinDir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(pinDir); err != nil {
			t.Errorf("remove %s: %v", pinDir, err)
		}
	})

	prog := testutil.LoadXDPPass(t, "xdp_pass")
	info, err := prog.Info()
	if err != nil {
		t.Fatal(err)
	}
	progID, _ := info.ID()

	// Cleanups run last in, first out: the namespaces go before the pins.
	nsA, nsB := newNetns(t), newNetns(t)
	inNetns(t, nsA, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetXdpFdWithFlags(lo, prog.FD(), unix.XDP_FLAGS_SKB_MODE)
	})
	pinB := filepath.Join(pinDir, "b")
	linkB := linkLo(t, nsB, prog, pinB)

	checkA := func(when string) {
		t.Helper()
		in := loStatus(t, nsA)
		if len(in.Programs) != 1 {
			t.Fatalf("%s: Status in A = %+v, want one program", when, in)
		}
		if p := in.Programs[0]; p.ID != progID || p.Via != xdp.ViaNetlink || p.LinkID != 0 || len(p.Pins) != 0 ||
			p.Mode != xdp.ModeGeneric || p.Name != "xdp_pass" {
			t.Fatalf("%s: Status in A = %+v, want program %d via netlink", when, p, progID)
		}
	}
	checkB := func(when string) {
		t.Helper()
		in := loStatus(t, nsB)
		if len(in.Programs) != 1 {
			t.Fatalf("%s: Status in B = %+v, want one program", when, in)
		}
		if p := in.Programs[0]; p.ID != progID || p.Via != xdp.ViaLink || p.LinkID != linkB || !slices.Equal(p.Pins, []string{pinB}) {
			t.Fatalf("%s: Status in B = %+v, want program %d via link %d pinned at %s", when, p, progID, linkB, pinB)
		}
		if _, err := os.Stat(pinB); err != nil {
			t.Fatalf("%s: pin of B: %v", when, err)
		}
	}
	checkA("netlink in A, link in B")
	checkB("netlink in A, link in B")

	var done []xdp.Program
	inNetns(t, nsA, func() (err error) {
		done, err = xdp.Detach("lo", xdp.DetachOptions{})
		return err
	})
	if len(done) != 1 || done[0].Via != xdp.ViaNetlink || done[0].ID != progID {
		t.Errorf("Detach in A = %+v, want program %d via netlink", done, progID)
	}
	if in := loStatus(t, nsA); len(in.Programs) != 0 {
		t.Fatalf("after Detach in A: Status in A = %+v, want nothing", in)
	}
	checkB("after Detach in A")

	// Links in both: the kernel cannot say which is A's, so Status does not
	// name one and Detach refuses.
	pinA := filepath.Join(pinDir, "a")
	linkA := linkLo(t, nsA, prog, pinA)
	in := loStatus(t, nsA)
	want := []link.ID{min(linkA, linkB), max(linkA, linkB)}
	if len(in.Programs) != 1 || in.Programs[0].Via != xdp.ViaLink || in.Programs[0].LinkID != 0 ||
		!slices.Equal(in.Programs[0].LinkCandidates, want) || len(in.Programs[0].Pins) != 0 {
		t.Fatalf("links in A and B: Status in A = %+v, want via link, LinkID 0, LinkCandidates %v", in, want)
	}
	inNetns(t, nsA, func() error {
		_, err := xdp.Detach("lo", xdp.DetachOptions{})
		if !errors.Is(err, xdp.ErrAmbiguousLink) {
			return fmt.Errorf("Detach in A with links in A and B: %v, want ErrAmbiguousLink", err)
		}
		t.Logf("Detach: %v", err)
		return nil
	})
	for name, ns := range map[string]netns.NsHandle{"A": nsA, "B": nsB} {
		in := loStatus(t, ns)
		if len(in.Programs) != 1 || in.Programs[0].Via != xdp.ViaLink || !slices.Equal(in.Programs[0].LinkCandidates, want) {
			t.Fatalf("after refused Detach in A: Status in %s = %+v, want via link, LinkCandidates %v", name, in, want)
		}
	}
	for _, pin := range []string{pinA, pinB} {
		if _, err := os.Stat(pin); err != nil {
			t.Fatalf("pin after refused Detach: %v", err)
		}
	}

	// Once B's link is detached (defunct, ifindex 0), A's is the only
	// candidate.
	l, err := link.LoadPinnedLink(pinB, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = l.Detach()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	inNetns(t, nsA, func() (err error) {
		done, err = xdp.Detach("lo", xdp.DetachOptions{})
		return err
	})
	if len(done) != 1 || done[0].Via != xdp.ViaLink || done[0].LinkID != linkA || !slices.Equal(done[0].Pins, []string{pinA}) {
		t.Errorf("Detach in A = %+v, want link %d pinned at %s", done, linkA, pinA)
	}
	if _, err := os.Stat(pinA); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin of A after Detach: %v", err)
	}
	if in := loStatus(t, nsA); len(in.Programs) != 0 {
		t.Fatalf("after Detach in A: Status in A = %+v, want nothing", in)
	}
	if _, err := os.Stat(pinB); err != nil {
		t.Errorf("pin of B after Detach in A: %v", err)
	}
}
