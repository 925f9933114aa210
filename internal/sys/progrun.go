package sys

import (
	"errors"
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

// ProgRunAttr is the test member of union bpf_attr, as BPF_PROG_RUN reads
// and writes it. Pointers are unsafe.Pointer so that the garbage collector
// keeps the buffers alive and in place for the call.
type ProgRunAttr struct {
	ProgFD      uint32
	Retval      uint32
	DataSizeIn  uint32
	DataSizeOut uint32
	DataIn      unsafe.Pointer
	DataOut     unsafe.Pointer
	Repeat      uint32
	Duration    uint32
	CtxSizeIn   uint32
	CtxSizeOut  uint32
	CtxIn       unsafe.Pointer
	CtxOut      unsafe.Pointer
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
// EINTR is returned as is: whether a run was interrupted or finished is for
// the caller to decide from the repeat count.
func ProgRun(attr *ProgRunAttr) error {
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_TEST_RUN, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr))
	if errno != 0 {
		return errno
	}
	return nil
}

// SlicePointer returns the address of b's first byte, or nil for an empty
// slice, as BPF_PROG_RUN wants its buffers.
func SlicePointer(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
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
