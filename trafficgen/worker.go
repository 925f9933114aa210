package trafficgen

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/sys"
)

// worker runs the generator's program on one CPU: a locked OS thread
// pinned to the CPU making one long live-frames call, made again only
// when something other than Stop interrupted it.
type worker struct {
	cpu   int
	frame []byte
	batch uint32
	prog  *ebpf.Program
	ifidx uint32
	stop  <-chan struct{}
	// share is the worker's share of Count, 0 for no count.
	share uint64
	// paced: the program, not the call's repeat, limits the frames.
	paced bool
	// remain returns how many frames of its share the worker has still
	// to send.
	remain func(cpu int, share uint64) (uint64, error)
}

// run sends the worker's frames and returns when its share is sent, when
// stop is closed or when the call fails.
func (w *worker) run() error {
	runtime.LockOSThread()
	// The thread is left locked: its affinity was changed, so the Go
	// runtime discards it when the goroutine ends.
	var set unix.CPUSet
	set.Set(w.cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("trafficgen: pin worker to CPU %d: %w", w.cpu, err)
	}
	interrupt := sys.InterruptOnDone(w.stop)
	defer interrupt()

	call := sys.NewLiveFrames(w.prog.FD(), w.frame, w.ifidx, 0, w.batch)
	left := w.share
	for {
		select {
		case <-w.stop:
			return nil
		default:
		}
		repeat := uint64(maxRepeat)
		if w.share != 0 && !w.paced {
			repeat = min(left, maxRepeat)
		}
		err := call.Run(uint32(repeat))
		switch {
		case errors.Is(err, unix.EINTR):
			// Stop, or a stray signal: the loop checks which.
		case err != nil:
			return explainRun(err, w.cpu)
		case w.share != 0 && !w.paced && repeat == left:
			return nil
		}
		if w.share != 0 && !w.paced {
			var err error
			if left, err = w.remain(w.cpu, w.share); err != nil {
				return fmt.Errorf("trafficgen: worker on CPU %d: %w", w.cpu, err)
			}
			if left == 0 {
				return nil
			}
		}
	}
}

// explainRun turns a failed live-frames call into an error that says
// what to do.
func explainRun(err error, cpu int) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("trafficgen: live-frames run on CPU %d: %w (needs CAP_BPF and CAP_NET_ADMIN: run as root)", cpu, err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("trafficgen: live-frames run on CPU %d refused by the kernel: %w (a frame longer than a live-frames page holds, or a kernel before 5.18)", cpu, err)
	}
	return fmt.Errorf("trafficgen: live-frames run on CPU %d: %w", cpu, err)
}
