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
	if err := prepareNetnsDir(); err != nil {
		return err
	}
	path := netnsPath(ns)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("create netns file: %w", err)
	}
	f.Close()

	// A locked thread unshares its network namespace, bind-mounts it on
	// the file and returns to the namespace it came from. Only if that
	// return fails does the goroutine end with the thread still locked, so
	// that the Go runtime discards the thread instead of reusing it in the
	// wrong namespace. (Ending locked on the main thread would park it for
	// good instead, and keep the namespace alive after its teardown.)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("unshare network namespace: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		err = unix.Mount(src, path, "none", unix.MS_BIND, "")
		if err != nil {
			err = fmt.Errorf("bind mount %s on %s: %w", src, path, err)
		}
		if serr := netns.Set(orig); serr != nil {
			// Stay locked: the thread dies with this goroutine.
			errc <- errors.Join(err, fmt.Errorf("return from new netns %s: %w", ns, serr))
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	if err := <-errc; err != nil {
		unix.Unmount(path, unix.MNT_DETACH)
		os.Remove(path)
		return err
	}
	return nil
}

// prepareNetnsDir creates NetnsDir and makes it a shared mount, as
// "ip netns add" does: it becomes a mount point (bind-mounted on itself)
// if it is not one yet, and then shared, recursively. Namespaces pinned
// later then show up in the mount namespaces that already exist (those of
// running containers or "unshare -m" shells), and unpinning one there
// unpins it everywhere, so the kernel can free it.
func prepareNetnsDir() error {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", NetnsDir, err)
	}
	for bound := false; ; bound = true {
		err := unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		// EINVAL: not a mount point yet.
		if !errors.Is(err, unix.EINVAL) || bound {
			return fmt.Errorf("make %s a shared mount: %w", NetnsDir, err)
		}
		if err := unix.Mount(NetnsDir, NetnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind mount %s on itself: %w", NetnsDir, err)
		}
	}
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
// is re-raised in the caller's goroutine. fn must not call
// runtime.Goexit (t.FailNow, t.Fatal, t.SkipNow): it runs on a goroutine
// of its own, so that would end only that goroutine; doInNetns then
// returns an error saying so.
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
		// Deferred calls run however fn ends: by returning, by panicking
		// or by runtime.Goexit. They run last to first: record how fn
		// ended, switch the thread back, send the result.
		var res result
		defer func() { done <- res }()
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			res.err = fmt.Errorf("open current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			res.err = fmt.Errorf("enter netns %s: %w", ns, err)
			return
		}
		defer func() {
			if err := netns.Set(orig); err != nil {
				// Keep the thread locked: it dies with this goroutine.
				res.err = errors.Join(res.err, fmt.Errorf("return from netns %s: %w", ns, err))
				return
			}
			runtime.UnlockOSThread()
		}()
		returned := false
		defer func() {
			if returned {
				return
			}
			if p := recover(); p != nil {
				res.panic = p
				return
			}
			res.err = fmt.Errorf("in netns %s: fn called runtime.Goexit (t.FailNow inside Do?)", ns)
		}()
		res.err = fn()
		returned = true
	}()
	res := <-done
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}
