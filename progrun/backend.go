package progrun

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/sys"
)

// Request is one BPF_PROG_RUN call in the kernel's own terms: raw buffers
// in, raw buffers and numbers out. Typed contexts are encoded into it by the
// Runner; backends never see them.
type Request struct {
	DataIn  []byte // packet in (nil for types that take none)
	DataOut []byte // room for the packet out; nil asks for none
	CtxIn   []byte // context in; nil for none
	CtxOut  []byte // room for the context out; nil asks for none
	Repeat  uint32 // runs; 0 and 1 both mean one
	Flags   uint32 // BPF_F_TEST_* flags (FlagRunOnCPU, FlagXDPLiveFrames)
	CPU     uint32 // with FlagRunOnCPU

	// Done, when not nil and closed, stops the run: the backend ends it
	// as soon as it can, and a run that was interrupted is not restarted
	// but fails with EINTR. Nil runs to the end.
	Done <-chan struct{}

	// Filled in by Run.
	Retval      uint32
	DataSizeOut uint32 // bytes of packet out; more than len(DataOut) with ENOSPC
	CtxSizeOut  uint32 // bytes of context out; more than len(CtxOut) with ENOSPC
	Duration    uint32 // average nanoseconds per run, as the kernel measured it
}

// Backend runs programs as BPF_PROG_RUN does. The kernel is one backend;
// xdpkit's emulator is another.
type Backend interface {
	// Type is the program type, which decides how inputs are laid out.
	Type() ebpf.ProgramType
	// Run runs the program once per req.Repeat and fills in req's results.
	// Errors are the kernel's errnos (unix.EINVAL, sys.ENOTSUPP, ...);
	// unix.EINTR when req.Done stopped the run.
	Run(req *Request) error
}

// Kernel is the Backend that issues BPF_PROG_RUN on a loaded program. It
// keeps the call's arguments between calls, so one Kernel must not run two
// Requests at the same time: give each Runner its own.
type Kernel struct {
	prog *ebpf.Program
	attr sys.ProgRunAttr
}

var _ Backend = (*Kernel)(nil)

// NewKernel returns the kernel Backend for prog. prog stays the caller's to
// close, after the last Run.
func NewKernel(prog *ebpf.Program) *Kernel {
	return &Kernel{prog: prog}
}

// Type returns the program's type.
func (k *Kernel) Type() ebpf.ProgramType { return k.prog.Type() }

// maxRestarts bounds how often Kernel.Run restarts an interrupted call,
// so that a stream of signals cannot keep it running forever.
const maxRestarts = 1000

// Run issues BPF_PROG_RUN.
//
// The kernel answers EINTR when a signal arrives during a repeated run,
// and the repeat starts over when the call is made again: Run makes it
// again, up to 1000 times, unless req.Done is closed. With a Done
// channel and a repeat count, Run interrupts the call itself once Done is
// closed (it signals its thread; see sys.InterruptOnDone) and returns
// EINTR; a single run is left to finish.
//
// Kernels before 5.13 also answer EINTR after a single run, having run the
// program but copied nothing out: Run makes such a call again as well, so
// the program runs twice (its map updates happen twice), and never returns
// a result the kernel did not write. After EINTR the Request's results are
// zero.
func (k *Kernel) Run(req *Request) error {
	// Only a repeated run lasts long enough to need interrupting: a
	// single one takes microseconds, and signalling costs a goroutine.
	if req.Done != nil && req.Repeat > 1 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer sys.InterruptOnDone(req.Done)()
	}
	a := &k.attr
	var err error
	for restarts := 0; ; restarts++ {
		// Every call starts from the arguments alone: the kernel writes
		// the results only when it succeeds (or with ENOSPC).
		*a = sys.ProgRunAttr{
			ProgFD:      uint32(k.prog.FD()),
			DataSizeIn:  uint32(len(req.DataIn)),
			DataSizeOut: uint32(len(req.DataOut)),
			DataIn:      sys.SlicePointer(req.DataIn),
			DataOut:     sys.SlicePointer(req.DataOut),
			Repeat:      req.Repeat,
			CtxSizeIn:   uint32(len(req.CtxIn)),
			CtxSizeOut:  uint32(len(req.CtxOut)),
			CtxIn:       sys.SlicePointer(req.CtxIn),
			CtxOut:      sys.SlicePointer(req.CtxOut),
			Flags:       req.Flags,
			CPU:         req.CPU,
		}
		err = sys.ProgRun(a)
		if !errors.Is(err, unix.EINTR) || restarts >= maxRestarts || isClosed(req.Done) {
			break
		}
	}
	runtime.KeepAlive(req)
	runtime.KeepAlive(k.prog)
	req.Retval, req.DataSizeOut, req.CtxSizeOut, req.Duration = a.Retval, a.DataSizeOut, a.CtxSizeOut, a.Duration
	if errors.Is(err, unix.EINTR) {
		req.Retval, req.DataSizeOut, req.CtxSizeOut, req.Duration = 0, 0, 0, 0
	}
	// Keep no pointers to the caller's buffers between calls.
	a.DataIn, a.DataOut, a.CtxIn, a.CtxOut = sys.Pointer{}, sys.Pointer{}, sys.Pointer{}, sys.Pointer{}
	if err != nil {
		return fmt.Errorf("BPF_PROG_RUN: %w", err)
	}
	return nil
}

// isClosed reports whether done is closed; a nil done never is.
func isClosed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
