package sys

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BPF_PROG_RUN flags (include/uapi/linux/bpf.h).
const (
	// TestRunOnCPU asks the kernel to run the program on ProgRunAttr.CPU
	// (raw tracepoints only).
	TestRunOnCPU = 1 << 0
	// TestXDPLiveFrames runs an XDP program in live-frames mode: the
	// frames it returns XDP_TX or XDP_REDIRECT for are really sent.
	TestXDPLiveFrames = 1 << 1
)

// ENOTSUPP is the kernel-internal errno 524 that BPF_PROG_RUN returns for
// program types without a test runner; golang.org/x/sys has no name for it.
const ENOTSUPP = unix.Errno(524)

// Pointer is a pointer as union bpf_attr holds one: an __aligned_u64, 8
// bytes on every GOARCH. It is made of unsafe.Pointers so that the garbage
// collector sees what it points to and keeps it alive and in place. On
// 64-bit hosts it is one pointer; on 32-bit hosts two words, the pointer in
// the one the kernel reads as the low half (the first on little-endian,
// the second on big-endian) and nil in the other.
type Pointer struct {
	words [8 / ptrSize]unsafe.Pointer
}

const ptrSize = unsafe.Sizeof(unsafe.Pointer(nil))

// lowWord is the index of the word of a Pointer that holds the low half of
// the __u64: the last one on big-endian hosts.
var lowWord = func() int {
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		return len(Pointer{}.words) - 1
	}
	return 0
}()

// NewPointer returns p as the kernel reads a pointer.
func NewPointer(p unsafe.Pointer) Pointer {
	var ptr Pointer
	ptr.words[lowWord] = p
	return ptr
}

// IsNil reports whether the pointer is NULL.
func (p Pointer) IsNil() bool { return p.words[lowWord] == nil }

// ProgRunAttr is the test member of union bpf_attr, as BPF_PROG_RUN reads
// and writes it: 80 bytes, with the same offsets on every GOARCH.
type ProgRunAttr struct {
	ProgFD      uint32
	Retval      uint32
	DataSizeIn  uint32
	DataSizeOut uint32
	DataIn      Pointer
	DataOut     Pointer
	Repeat      uint32
	Duration    uint32
	CtxSizeIn   uint32
	CtxSizeOut  uint32
	CtxIn       Pointer
	CtxOut      Pointer
	Flags       uint32
	CPU         uint32
	BatchSize   uint32
	_           uint32
}

// (cilium/ebpf's Program.Run does not return the kernel's duration when a
// context is given, nor data_size_out when the output buffer was too small,
// and it allocates on every call; the live-frames generator and the
// per-packet timing of xdpkit run need all three.)

// ProgRun issues BPF_PROG_RUN with attr and returns the errno, if any. The
// kernel writes Retval, DataSizeOut, CtxSizeOut and Duration back into attr.
// EINTR is returned as is: whether to run again is for the caller to
// decide.
func ProgRun(attr *ProgRunAttr) error {
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_TEST_RUN, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr))
	if errno != 0 {
		return errno
	}
	return nil
}

// SlicePointer returns the address of b's first byte, or NULL for an empty
// slice, as BPF_PROG_RUN wants its buffers.
func SlicePointer(b []byte) Pointer {
	if len(b) == 0 {
		return Pointer{}
	}
	return NewPointer(unsafe.Pointer(unsafe.SliceData(b)))
}

// IsENOTSUPP reports whether err is the kernel's ENOTSUPP.
func IsENOTSUPP(err error) bool { return errors.Is(err, ENOTSUPP) }

// Address returns the address of b's first byte as the kernel reads a
// pointer argument (a STRUCT_OPS test run's state). The caller keeps b
// alive until the kernel is done with it; Go's heap does not move
// objects, and a slice that escapes to the heap stays where it is.
func Address(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

// interruptEvery is how often InterruptOnDone signals the thread once done
// is closed: a signal that arrives before the system call starts is
// handled in userspace and lost, so it is sent again until the call ends.
const interruptEvery = 10 * time.Millisecond

// InterruptOnDone makes a long system call on the calling thread return
// EINTR once done is closed: from then on until stop is called, it sends
// the thread SIGURG every 10 ms. The caller must have locked the goroutine
// to its thread (runtime.LockOSThread) and keep it locked until stop
// returns; after stop returns, no more signals are sent. SIGURG is the
// signal the Go runtime sends threads itself to preempt goroutines and
// handles without side effects; it interrupts a system call that waits on
// a signal check, such as BPF_PROG_RUN's repeat loop (its EINTR is not
// restarted by SA_RESTART). A process that ignores SIGURG (SIG_IGN) cannot
// be interrupted this way. A nil done gives a stop that does nothing.
func InterruptOnDone(done <-chan struct{}) (stop func()) {
	if done == nil {
		return func() {}
	}
	pid, tid := unix.Getpid(), unix.Gettid()
	finished := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-finished:
			return
		case <-done:
		}
		tick := time.NewTicker(interruptEvery)
		defer tick.Stop()
		for {
			_ = unix.Tgkill(pid, tid, unix.SIGURG)
			select {
			case <-finished:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(finished)
		wg.Wait()
	}
}
