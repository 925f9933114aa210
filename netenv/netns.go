package netenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetnsDir is where named network namespaces live, as with "ip netns add":
// each is a bind mount of a namespace file, so "ip netns exec" and other
// processes find it by name.
const NetnsDir = "/run/netns"

// Names of the kernel objects of env NAME. The "xk-" and "xko-" prefixes
// mark them as made by xdpkit: List and "env teardown --all" only touch
// namespaces named so.
const (
	innerNetnsPrefix = "xk-"  // netns of the inner end: xk-NAME
	outerNetnsPrefix = "xko-" // netns of the outer end when Isolated: xko-NAME
	outerIfPrefix    = "xk-"  // outer interface: xk-NAME
	innerIfSuffix    = "-in"  // inner interface: xk-NAME-in
)

func innerNetnsName(name string) string { return innerNetnsPrefix + name }
func outerNetnsName(name string) string { return outerNetnsPrefix + name }
func outerIfName(name string) string    { return outerIfPrefix + name }
func innerIfName(name string) string    { return outerIfPrefix + name + innerIfSuffix }

func netnsPath(ns string) string { return filepath.Join(NetnsDir, ns) }

// netnsExists reports whether the named namespace's file exists.
func netnsExists(ns string) bool {
	_, err := os.Lstat(netnsPath(ns))
	return err == nil
}

// isNetns reports whether the named namespace's file is a live namespace,
// not the bare file a setup killed halfway leaves.
func isNetns(ns string) bool {
	var st unix.Statfs_t
	return unix.Statfs(netnsPath(ns), &st) == nil && st.Type == unix.NSFS_MAGIC
}

// createNetns makes a new network namespace and pins it as
// /run/netns/NAME, like "ip netns add NAME". It fails with an error
// matching os.ErrExist when the name is taken.
func createNetns(ns string) error {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", NetnsDir, err)
	}
	path := netnsPath(ns)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("create netns file: %w", err)
	}
	f.Close()

	// A fresh thread unshares its network namespace and bind-mounts it on
	// the file. The goroutine ends with the thread still locked, so the Go
	// runtime discards the thread instead of reusing it in the wrong
	// namespace.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare network namespace: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("bind mount %s on %s: %w", src, path, err)
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// deleteNetns unpins a named namespace, like "ip netns delete NAME". The
// kernel frees it once no process or descriptor refers to it any more. A
// missing namespace is not an error.
func deleteNetns(ns string) error {
	path := netnsPath(ns)
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// openNetns returns a handle to the named namespace, or to the current
// thread's one when ns is empty. The caller closes it.
func openNetns(ns string) (netns.NsHandle, error) {
	if ns == "" {
		h, err := netns.Get()
		if err != nil {
			return netns.None(), fmt.Errorf("open current netns: %w", err)
		}
		return h, nil
	}
	h, err := netns.GetFromPath(netnsPath(ns))
	if err != nil {
		return netns.None(), fmt.Errorf("open netns %s: %w", ns, err)
	}
	return h, nil
}

// doInNetns runs fn on a locked OS thread switched to the named
// namespace, then switches the thread back. If switching back fails, the
// thread is left locked so that the Go runtime discards it. A panic in fn
// is re-raised in the caller's goroutine.
func doInNetns(ns string, fn func() error) error {
	target, err := openNetns(ns)
	if err != nil {
		return err
	}
	defer target.Close()

	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("open current netns: %w", err)}
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("enter netns %s: %w", ns, err)}
			return
		}
		var res result
		func() {
			defer func() { res.panic = recover() }()
			res.err = fn()
		}()
		if err := netns.Set(orig); err != nil {
			// Keep the thread locked: it dies with this goroutine.
			res.err = errors.Join(res.err, fmt.Errorf("return from netns %s: %w", ns, err))
			done <- res
			return
		}
		runtime.UnlockOSThread()
		done <- res
	}()
	res := <-done
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}
