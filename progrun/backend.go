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
	Flags   uint32 // BPF_F_TEST_* flags
	CPU     uint32 // with sys.TestRunOnCPU

	// Filled in by Run.
	Retval      uint32
	DataSizeOut uint32 // bytes of packet out; more than len(DataOut) with ENOSPC
	CtxSizeOut  uint32
	Duration    uint32 // average nanoseconds per run, as the kernel measured it
}

// Backend runs programs as BPF_PROG_RUN does. The kernel is one backend;
// xdpkit's emulator is another.
type Backend interface {
	// Type is the program type, which decides how inputs are laid out.
	Type() ebpf.ProgramType
	// Run runs the program once per req.Repeat and fills in req's results.
	// Errors are the kernel's errnos (unix.EINVAL, sys.ENOTSUPP, ...).
	Run(req *Request) error
}

// Kernel is the Backend that issues BPF_PROG_RUN on a loaded program.
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

// Run issues BPF_PROG_RUN. An EINTR with one run asked for means the run
// happened (older kernels check for signals after the run); with more, the
// call is repeated, so a benchmark interrupted by a signal still completes.
func (k *Kernel) Run(req *Request) error {
	a := &k.attr
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
	for {
		err := sys.ProgRun(a)
		if errors.Is(err, unix.EINTR) {
			if req.Repeat <= 1 {
				err = nil
			} else {
				continue
			}
		}
		runtime.KeepAlive(req)
		runtime.KeepAlive(k.prog)
		req.Retval = a.Retval
		req.DataSizeOut = a.DataSizeOut
		req.CtxSizeOut = a.CtxSizeOut
		req.Duration = a.Duration
		if err != nil {
			return fmt.Errorf("BPF_PROG_RUN: %w", err)
		}
		return nil
	}
}
