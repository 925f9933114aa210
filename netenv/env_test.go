package netenv_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// uniqueName returns an env name no other test uses.
func uniqueName() string { return testutil.UniqueName("n")[:netenv.MaxNameLen] }

// assertGone checks that nothing of env name is left in the kernel.
func assertGone(t *testing.T, name string) {
	t.Helper()
	for _, ns := range []string{"xk-" + name, "xko-" + name} {
		if _, err := os.Lstat(filepath.Join(netenv.NetnsDir, ns)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("netns %s left behind (%v)", ns, err)
		}
	}
	for _, ifname := range []string{"xk-" + name, "xk-" + name + "-in"} {
		if _, err := net.InterfaceByName(ifname); err == nil {
			t.Errorf("interface %s left behind in the root netns", ifname)
		}
	}
	if _, err := os.Lstat(filepath.Join(netenv.StateDir, name+".owner")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("owner file of %s left behind (%v)", name, err)
	}
	names, err := netenv.List()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, name) {
		t.Errorf("List still shows %s", name)
	}
}

// linkIn returns the named link as seen from end's namespace.
func linkIn(t *testing.T, end netenv.End) netlink.Link {
	t.Helper()
	ns, err := end.OpenNetns()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName(end.Interface)
	if err != nil {
		t.Fatalf("%s in netns %q: %v", end.Interface, end.Netns, err)
	}
	return link
}

// exec runs a command in the test's own namespace and returns its output.
func exec(ctx context.Context, argv ...string) (string, error) {
	out, err := osexec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	return string(out), err
}

func checkEnd(t *testing.T, end netenv.End) {
	t.Helper()
	link := linkIn(t, end)
	a := link.Attrs()
	if a.Index != end.Ifindex || a.HardwareAddr.String() != end.MAC.String() {
		t.Errorf("%s: ifindex %d mac %s, Env says %d %s", end.Interface, a.Index, a.HardwareAddr, end.Ifindex, end.MAC)
	}
	if a.Flags&net.FlagUp == 0 {
		t.Errorf("%s is not up", end.Interface)
	}
	if link.Type() != "veth" {
		t.Errorf("%s is a %s, not a veth", end.Interface, link.Type())
	}
}

func TestSetupPingExecTeardown(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	ctx := ctxFor(t)
	name := uniqueName()
	env, err := netenv.Setup(ctx, netenv.Spec{Name: name, Temporary: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })

	if env.Name != name || env.Queues != 1 || env.Isolated || !env.Temporary {
		t.Errorf("env %+v", env)
	}
	if env.Outer.Netns != "" || env.Inner.Netns != "xk-"+name || env.Outer.Interface != "xk-"+name || env.Inner.Interface != "xk-"+name+"-in" {
		t.Errorf("names: outer %+v inner %+v", env.Outer, env.Inner)
	}
	checkEnd(t, env.Outer)
	checkEnd(t, env.Inner)
	for _, p := range []netip.Prefix{env.Outer.IPv4, env.Outer.IPv6} {
		if !p.IsValid() {
			t.Fatalf("outer end lacks an address: %+v", env.Outer)
		}
	}
	if env.Inner.IPv4.Addr() != env.Outer.IPv4.Addr().Next() || env.Inner.IPv6.Addr() != env.Outer.IPv6.Addr().Next() {
		t.Errorf("inner addresses %s %s do not follow outer %s %s", env.Inner.IPv4, env.Inner.IPv6, env.Outer.IPv4, env.Outer.IPv6)
	}
	if !strings.HasPrefix(env.Outer.IPv4.String(), "10.11.") || !strings.HasPrefix(env.Outer.IPv6.String(), "fc00:dead:cafe:") {
		t.Errorf("default addresses %s %s", env.Outer.IPv4, env.Outer.IPv6)
	}

	for _, from := range []netenv.Side{netenv.Inner, netenv.Outer} {
		for _, v6 := range []bool{false, true} {
			res, err := env.Ping(ctx, netenv.PingOptions{From: from, IPv6: v6, Count: 2})
			if err != nil {
				t.Errorf("ping from %s (v6 %v): %v", from, v6, err)
			} else if res.Sent != 2 || res.Received != 2 {
				t.Errorf("ping from %s: %+v", from, res)
			}
		}
	}

	// Exec runs inside the namespace: it sees the inner end, not the outer.
	out, err := env.Exec(ctx, "ip", "-o", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), env.Inner.Interface+"@") || strings.Contains(string(out), env.Outer.Interface+"@") {
		t.Errorf("ip link inside the env:\n%s", out)
	}
	// /sys shows the namespace's interfaces too.
	if _, err := env.Exec(ctx, "test", "-d", "/sys/class/net/"+env.Inner.Interface); err != nil {
		t.Error(err)
	}
	if _, err := env.Exec(ctx, "false"); err == nil {
		t.Error("Exec of false succeeded")
	}

	// Do runs Go code inside the namespace and returns to the original.
	before, _ := net.InterfaceByName(env.Outer.Interface)
	err = env.Do(func() error {
		ifi, err := net.InterfaceByName(env.Inner.Interface)
		if err != nil {
			return err
		}
		if ifi.Index != env.Inner.Ifindex {
			return fmt.Errorf("ifindex %d, want %d", ifi.Index, env.Inner.Ifindex)
		}
		// A socket bound to the inner address works only in there.
		c, err := net.ListenPacket("udp4", net.JoinHostPort(env.Inner.IPv4.Addr().String(), "0"))
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if after, err := net.InterfaceByName(env.Outer.Interface); err != nil || before == nil || after.Index != before.Index {
		t.Errorf("not back in the root netns after Do: %v", err)
	}

	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if err := env.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	assertGone(t, name)
	if err := netenv.Teardown(name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Teardown of a removed env: %v, want os.ErrNotExist", err)
	}
}

func TestSetupDuplicateName(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	ctx := ctxFor(t)
	env := testutil.NewEnv(t, netenv.Spec{})
	for _, spec := range []netenv.Spec{{Name: env.Name}, {Name: env.Name, Isolated: true}} {
		_, err := netenv.Setup(ctx, spec)
		if !errors.Is(err, os.ErrExist) {
			t.Fatalf("second Setup of %s: %v, want os.ErrExist", env.Name, err)
		}
		if !strings.Contains(err.Error(), "xdpkit env teardown "+env.Name) {
			t.Errorf("error does not say how to remove the env: %v", err)
		}
	}
	// The first env is intact.
	if _, err := env.Ping(ctx, netenv.PingOptions{Count: 1}); err != nil {
		t.Fatal(err)
	}
	checkEnd(t, env.Outer)
}

func TestSetupFailsMidway(t *testing.T) {
	testutil.RequireNetenv(t)
	// Not parallel: the hook is global (it only fails this test's envs).
	for _, s := range []string{"netns", "veth", "addresses", "up", "done"} {
		for _, isolated := range []bool{false, true} {
			for _, temporary := range []bool{false, true} {
				name := uniqueName()
				t.Cleanup(func() { netenv.Teardown(name) })
				restore := netenv.SetSetupHook(func(n, step string) error {
					if n == name && step == s {
						return errors.New("injected failure")
					}
					return nil
				})
				_, err := netenv.Setup(ctxFor(t), netenv.Spec{Name: name, Isolated: isolated, Temporary: temporary, Queues: 2})
				restore()
				if err == nil || !strings.Contains(err.Error(), "injected failure") {
					t.Fatalf("step %s: %v", s, err)
				}
				assertGone(t, name)
			}
		}
	}

	// A cancelled context stops setup and cleans up too.
	ctx, cancel := context.WithCancel(context.Background())
	name := uniqueName()
	t.Cleanup(func() { netenv.Teardown(name) })
	restore := netenv.SetSetupHook(func(n, step string) error {
		if n == name && step == "addresses" {
			cancel()
		}
		return nil
	})
	defer restore()
	_, err := netenv.Setup(ctx, netenv.Spec{Name: name, Temporary: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled setup: %v", err)
	}
	assertGone(t, name)

	// An explicit address already in use fails before anything is made.
	taken := testutil.NewEnv(t, netenv.Spec{})
	name = uniqueName()
	t.Cleanup(func() { netenv.Teardown(name) })
	_, err = netenv.Setup(ctxFor(t), netenv.Spec{Name: name, IPv4: taken.Outer.IPv4, Temporary: true})
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("setup with an address in use: %v", err)
	}
	assertGone(t, name)
}

func TestMultiQueue(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	ctx := ctxFor(t)
	env := testutil.NewEnv(t, netenv.Spec{Queues: 2, MTU: 3000})
	if env.Queues != 2 || env.MTU != 3000 {
		t.Errorf("queues %d mtu %d", env.Queues, env.MTU)
	}
	for _, end := range []netenv.End{env.Inner, env.Outer} {
		a := linkIn(t, end).Attrs()
		if a.NumTxQueues != 2 || a.NumRxQueues != 2 || a.MTU != 3000 {
			t.Errorf("%s: %d tx %d rx queues, mtu %d", end.Interface, a.NumTxQueues, a.NumRxQueues, a.MTU)
		}
		out, err := end.Exec(ctx, "ls", "/sys/class/net/"+end.Interface+"/queues")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(string(out)); !slices.Equal(got, []string{"rx-0", "rx-1", "tx-0", "tx-1"}) {
			t.Errorf("%s queues: %v", end.Interface, got)
		}
	}
}

func TestIsolated(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	ctx := ctxFor(t)
	env := testutil.NewEnv(t, netenv.Spec{Isolated: true, NoIPv4: true})
	if env.Outer.Netns != "xko-"+env.Name || !env.Isolated {
		t.Fatalf("outer end %+v", env.Outer)
	}
	if _, err := net.InterfaceByName(env.Outer.Interface); err == nil {
		t.Errorf("isolated outer end %s is in the root netns", env.Outer.Interface)
	}
	if env.Outer.IPv4.IsValid() || env.Inner.IPv4.IsValid() {
		t.Errorf("NoIPv4 env has IPv4 addresses: %s %s", env.Outer.IPv4, env.Inner.IPv4)
	}
	checkEnd(t, env.Outer)
	checkEnd(t, env.Inner)
	if _, err := env.Ping(ctx, netenv.PingOptions{From: netenv.Outer, IPv6: true, Count: 2}); err != nil {
		t.Error(err)
	}
	if _, err := env.Ping(ctx, netenv.PingOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("IPv4 ping without IPv4: %v", err)
	}
	out, err := env.Outer.Exec(ctx, "ip", "-o", "link", "show", "lo")
	if err != nil || !strings.Contains(string(out), "UP") {
		t.Errorf("lo in the outer netns: %v\n%s", err, out)
	}
	name := env.Name
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, name)
}

func TestParallelEnvsDoNotCollide(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	const n = 8
	envs := make([]*netenv.Env, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			envs[i], errs[i] = netenv.Setup(ctxFor(t), netenv.Spec{Name: uniqueName(), Temporary: true})
		})
	}
	wg.Wait()
	// Every cleanup first: a t.Fatal below must not leak the later envs.
	for _, env := range envs {
		if env != nil {
			t.Cleanup(func() { env.Close() })
		}
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// All alive at once: no two share a subnet, and each pair talks.
	seen := map[netip.Prefix]string{}
	for _, env := range envs {
		for _, p := range []netip.Prefix{env.Outer.IPv4.Masked(), env.Outer.IPv6.Masked()} {
			if other, ok := seen[p]; ok {
				t.Errorf("envs %s and %s share %s", other, env.Name, p)
			}
			seen[p] = env.Name
		}
	}
	for _, env := range envs {
		wg.Go(func() {
			if _, err := env.Ping(ctxFor(t), netenv.PingOptions{Count: 1}); err != nil {
				t.Error(err)
			}
			if _, err := env.Ping(ctxFor(t), netenv.PingOptions{Count: 1, IPv6: true, From: netenv.Outer}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestAcrossProcesses checks that an env lives in the kernel, not in the
// process that made it: another process (the ip command, and this one
// reading the kernel afresh) finds it by name, and removes it. (The env is
// Temporary so that a killed test run leaves nothing for long: envs that
// are not are tested through the CLI's env setup.)
func TestAcrossProcesses(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	ctx := ctxFor(t)
	name := uniqueName()
	made, err := netenv.Setup(ctx, netenv.Spec{Name: name, Queues: 3, Temporary: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netenv.Teardown(name) })

	out, err := exec(ctx, "ip", "netns", "exec", "xk-"+name, "ip", "-o", "addr", "show", "dev", made.Inner.Interface)
	if err != nil || !strings.Contains(out, made.Inner.IPv4.String()) || !strings.Contains(out, made.Inner.IPv6.String()) {
		t.Fatalf("ip netns exec: %v\n%s", err, out)
	}

	names, err := netenv.List()
	if err != nil || !slices.Contains(names, name) {
		t.Fatalf("List: %v %v", names, err)
	}
	opened, err := netenv.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if opened.Name != made.Name || opened.Queues != 3 || opened.MTU != 1500 || opened.Isolated || !opened.Temporary ||
		opened.Outer.String() != made.Outer.String() || opened.Inner.String() != made.Inner.String() {
		t.Errorf("Open:\n%+v\nSetup:\n%+v", opened, made)
	}
	if _, err := opened.Ping(ctx, netenv.PingOptions{Count: 1}); err != nil {
		t.Error(err)
	}

	if _, err := netenv.Open("nosuchenv"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing env: %v", err)
	}
	if _, err := netenv.Open("Bad/Name"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("Open of a bad name: %v", err)
	}

	// Tear it down from "another process": the ip command deletes the
	// veth, leaving an incomplete env that Open reports and Teardown
	// removes.
	if out, err := exec(ctx, "ip", "link", "del", made.Outer.Interface); err != nil {
		t.Fatalf("ip link del: %v\n%s", err, out)
	}
	if _, err := netenv.Open(name); !errors.Is(err, netenv.ErrIncomplete) {
		t.Errorf("Open of an env without veth: %v", err)
	}
	if err := netenv.Teardown(name); err != nil {
		t.Fatal(err)
	}
	// Close releases the owner file that Teardown by name leaves to the
	// (live) owner.
	if err := made.Close(); err != nil {
		t.Errorf("Close after Teardown by name: %v", err)
	}
	assertGone(t, name)
}

// TestSweepOrphans kills a process that owns a temporary env and checks
// that SweepOrphans removes the env, but not the envs of live owners.
func TestSweepOrphans(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	ctx := ctxFor(t)
	live := testutil.NewEnv(t, netenv.Spec{})

	name := uniqueName()
	child := osexec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperOwner$", "-test.count=1")
	child.Env = append(os.Environ(), "NETENV_HELPER_OWNER="+name)
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netenv.Teardown(name) })
	buf := make([]byte, 64)
	n, _ := stdout.Read(buf)
	if !strings.Contains(string(buf[:n]), "ready") {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("helper: %q", buf[:n])
	}
	env, err := netenv.Open(name)
	if err != nil || !env.Temporary {
		t.Fatalf("helper's env: %v %+v", err, env)
	}
	// While the owner lives, the env stays.
	if swept, err := netenv.SweepOrphans(); err != nil || slices.Contains(swept, name) {
		t.Fatalf("swept a live owner's env: %v %v", swept, err)
	}
	child.Process.Kill()
	child.Wait()

	// Another test binary's sweep may get there first: what matters is
	// that the orphan is gone and the live env is not.
	swept, err := netenv.SweepOrphans()
	if err != nil || slices.Contains(swept, live.Name) {
		t.Fatalf("SweepOrphans: %v %v", swept, err)
	}
	assertGone(t, name)
	if _, err := netenv.Open(live.Name); err != nil {
		t.Errorf("live env: %v", err)
	}
}

// TestHelperOwner is run by TestSweepOrphans in a child process: it sets
// up a temporary env, says "ready" and waits to be killed.
func TestHelperOwner(t *testing.T) {
	name := os.Getenv("NETENV_HELPER_OWNER")
	if name == "" {
		t.Skip("helper for TestSweepOrphans")
	}
	if _, err := netenv.Setup(context.Background(), netenv.Spec{Name: name, Temporary: true}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute)
	os.Exit(1)
}

// TestHalfMadeEnv checks what a setup killed with SIGKILL may leave (the
// namespace file, not yet a namespace): List shows it, Open says it is
// incomplete, and Teardown removes it.
func TestHalfMadeEnv(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	name := uniqueName()
	path := filepath.Join(netenv.NetnsDir, "xk-"+name)
	if err := os.MkdirAll(netenv.NetnsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })

	names, err := netenv.List()
	if err != nil || !slices.Contains(names, name) {
		t.Fatalf("List: %v %v", names, err)
	}
	if _, err := netenv.Open(name); !errors.Is(err, netenv.ErrIncomplete) || !strings.Contains(err.Error(), "xdpkit env teardown "+name) {
		t.Errorf("Open: %v", err)
	}
	if _, err := netenv.Setup(ctxFor(t), netenv.Spec{Name: name, Temporary: true}); !errors.Is(err, os.ErrExist) {
		t.Errorf("Setup over a half-made env: %v", err)
	}
	if err := netenv.Teardown(name); err != nil {
		t.Fatal(err)
	}
	assertGone(t, name)
}

// TestDoGoexit checks that Do returns, with an error, when fn ends its
// goroutine (as t.FailNow would) instead of returning, and re-raises a
// panic of fn.
func TestDoGoexit(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	errc := make(chan error, 1)
	go func() {
		errc <- env.Do(func() error {
			runtime.Goexit()
			return nil
		})
	}()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "Goexit") {
			t.Errorf("Do of fn calling runtime.Goexit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Do hangs when fn calls runtime.Goexit")
	}

	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("panic in Do: recovered %v", p)
			}
		}()
		env.Do(func() error { panic("boom") })
	}()

	// The threads Do used, Goexit or not, are back in this namespace: no
	// goroutine lands on one left in the env's.
	want, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if got, err := os.Readlink("/proc/thread-self/ns/net"); err != nil || got != want {
				t.Errorf("a thread is in netns %s (%v), not %s", got, err, want)
			}
		})
	}
	wg.Wait()
}

// TestIPv6Disabled disables IPv6 in the outer namespace of an isolated env,
// as containers often do in theirs, right before its veth is made: an env
// with default addresses comes up without IPv6 and says so, one with an
// explicit IPv6 prefix fails with errors.ErrUnsupported.
func TestIPv6Disabled(t *testing.T) {
	testutil.RequireNetenv(t)
	// Not parallel: the hook is global (it only acts on this test's envs).
	for _, explicit := range []bool{false, true} {
		name := uniqueName()
		t.Cleanup(func() { netenv.Teardown(name) })
		restore := netenv.SetSetupHook(func(n, step string) error {
			if n != name || step != "veth" {
				return nil
			}
			out, err := exec(ctxFor(t), "ip", "netns", "exec", "xko-"+name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
			if err != nil {
				return fmt.Errorf("disable IPv6: %v: %s", err, out)
			}
			return nil
		})
		spec := netenv.Spec{Name: name, Isolated: true, Temporary: true}
		if explicit {
			spec.IPv6 = netip.MustParsePrefix("fc00:dead:beef::1/64")
		}
		env, err := netenv.Setup(ctxFor(t), spec)
		restore()
		const why = "IPv6 is disabled in netns xko-"
		if explicit {
			if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), why) ||
				!strings.Contains(err.Error(), "(sysctl net.ipv6.conf.all.disable_ipv6=1): use --no-ipv6") {
				t.Errorf("setup with --ipv6 where IPv6 is disabled: %v", err)
			}
			assertGone(t, name)
			continue
		}
		if err != nil {
			t.Fatalf("setup where IPv6 is disabled: %v", err)
		}
		t.Cleanup(func() { env.Close() })
		if len(env.Notes) != 1 || !strings.Contains(env.Notes[0], why) {
			t.Errorf("notes %q", env.Notes)
		}
		if env.Outer.IPv6.IsValid() || env.Inner.IPv6.IsValid() || !env.Inner.IPv4.IsValid() {
			t.Errorf("addresses: outer %v inner %v", env.Outer, env.Inner)
		}
		if _, err := env.Ping(ctxFor(t), netenv.PingOptions{Count: 1}); err != nil {
			t.Error(err)
		}
	}
}

// TestDefaultAddressesAvoidRoutes checks that the default subnet of an env
// overlaps no route of the current namespace (a VPN's, say). It picks
// addresses inside the outer namespace of an isolated env, so that the
// route it adds there touches nothing else.
func TestDefaultAddressesAvoidRoutes(t *testing.T) {
	t.Parallel()
	env := testutil.NewEnv(t, netenv.Spec{Isolated: true, NoIPv6: true})
	name := uniqueName()
	err := env.Outer.Do(func() error {
		spec := netenv.Spec{Name: name}
		if err := netenv.PickAddresses(&spec); err != nil {
			return err
		}
		routed := spec.IPv4.Masked()
		dst := &net.IPNet{IP: routed.Addr().AsSlice(), Mask: net.CIDRMask(routed.Bits(), 32)}
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: env.Outer.Ifindex, Dst: dst}); err != nil {
			return fmt.Errorf("add route to %s: %w", dst, err)
		}
		spec = netenv.Spec{Name: name}
		if err := netenv.PickAddresses(&spec); err != nil {
			return err
		}
		if spec.IPv4.Overlaps(routed) {
			return fmt.Errorf("picked %s despite the route to %s", spec.IPv4, routed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSetupWaitsForLock holds the netenv lock as a hung process would:
// Setup waits until its context is done, then names the lock and holder.
func TestSetupWaitsForLock(t *testing.T) {
	testutil.RequireNetenv(t)
	t.Parallel()
	if err := os.MkdirAll(netenv.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(netenv.StateDir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	name := uniqueName()
	t.Cleanup(func() { netenv.Teardown(name) })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = netenv.Setup(ctx, netenv.Spec{Name: name, Temporary: true})
	f.Close()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), path) ||
		!strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) {
		t.Errorf("setup while the lock is held: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("setup gave up after %v, its context after 200ms", d)
	}
	assertGone(t, name)
}

// TestNetnsDirShared checks that after a setup NetnsDir is a shared mount,
// as "ip netns add" leaves it.
func TestNetnsDirShared(t *testing.T) {
	testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 6 && f[4] == netenv.NetnsDir {
			last = line // the topmost mount on it is the last one
		}
	}
	if !strings.Contains(last, " shared:") {
		t.Errorf("%s is not a shared mount: %q", netenv.NetnsDir, last)
	}
}
