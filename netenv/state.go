package netenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// StateDir holds the little state netenv keeps outside the kernel:
//
//   - "lock", flock'ed while an env is set up or torn down, so that
//     concurrent processes neither take the same name nor the same
//     addresses;
//   - "NAME.owner" for each Temporary env, holding the owner's PID and
//     flock'ed by the owner for as long as it lives. When the owner dies
//     the kernel drops the lock, and SweepOrphans tears such envs down.
//
// Everything else (which envs exist, their interfaces and addresses) is
// read from the kernel, so it cannot go stale.
const StateDir = "/run/xdpkit/netenv"

// lockWait bounds how long Teardown and SweepOrphans, which take no
// context, wait for the state lock. Setting up or tearing down an env
// holds it for well under a second, so a minute means its holder hangs.
const lockWait = time.Minute

// lockPoll is how often lockState tries the lock again.
const lockPoll = 20 * time.Millisecond

// lockState takes the global netenv lock and returns its release. It waits
// while another process holds the lock, until ctx is done; the error then
// names the lock file and, if /proc/locks tells, the holder's PID.
func lockState(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", StateDir, err)
	}
	path := filepath.Join(StateDir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var tick *time.Ticker
	for {
		err := flock(f, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if tick == nil {
			tick = time.NewTicker(lockPoll)
			defer tick.Stop()
		}
		select {
		case <-ctx.Done():
			holder := "another process"
			if pid := lockHolder(f); pid != 0 {
				holder = fmt.Sprintf("process %d (ps -p %d)", pid, pid)
			}
			f.Close()
			return nil, fmt.Errorf("gave up waiting for the netenv lock %s, held by %s: %w (if that process hangs, stop it; \"fuser -v %s\" shows the holder)",
				path, holder, context.Cause(ctx), path)
		case <-tick.C:
		}
	}
	return func() { f.Close() }, nil
}

// lockHolder returns the PID /proc/locks gives for the flock on f's file,
// or 0 when it does not tell.
func lockHolder(f *os.File) int {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0
	}
	// Lines such as "1: FLOCK  ADVISORY  WRITE 1234 00:19:5678 0 EOF",
	// with the device in hex and the inode in decimal.
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 6 && fields[1] == "FLOCK" && fields[5] == id {
			pid, _ := strconv.Atoi(fields[4])
			return pid
		}
	}
	return 0
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func ownerPath(name string) string { return filepath.Join(StateDir, name+".owner") }

// claimOwner creates and locks the owner file of a Temporary env. A file
// left by a dead owner is taken over; one whose owner lives fails with
// os.ErrExist. Call with the state lock held.
func claimOwner(name string) (*os.File, error) {
	path := ownerPath(name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create owner file: %w", err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errs.Markf(os.ErrExist, "env %q is owned by a running process (%s)", name, path)
		}
		return nil, fmt.Errorf("lock owner file %s: %w", path, err)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		releaseOwner(name, f)
		return nil, fmt.Errorf("write owner file %s: %w", path, err)
	}
	return f, nil
}

// releaseOwner removes the owner file and drops its lock.
func releaseOwner(name string, f *os.File) {
	if f == nil {
		return
	}
	os.Remove(ownerPath(name))
	f.Close()
}

// ownerPID returns the PID recorded for a Temporary env, or 0 when the env
// is not temporary.
func ownerPID(name string) int {
	b, err := os.ReadFile(ownerPath(name))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// isOrphan reports whether name has an owner file that nobody holds.
func isOrphan(name string) bool {
	f, err := os.OpenFile(ownerPath(name), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return false
	}
	return true
}

// SweepOrphans tears down the Temporary envs whose owner process has died
// (a test binary killed before its cleanup ran) and returns their names.
// Envs of running processes and persistent envs are left alone. It gives
// up after a minute if another process holds the netenv lock that long.
func SweepOrphans() ([]string, error) {
	entries, err := os.ReadDir(StateDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", StateDir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	unlock, err := lockState(ctx)
	if err != nil {
		return nil, fmt.Errorf("sweep orphaned envs: %w", err)
	}
	defer unlock()

	var swept []string
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".owner")
		if !ok || ValidateName(name) != nil || !isOrphan(name) {
			continue
		}
		if err := teardownLocked(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		os.Remove(ownerPath(name))
		swept = append(swept, name)
	}
	return swept, errors.Join(errs...)
}
