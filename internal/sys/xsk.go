package sys

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The AF_XDP socket options that golang.org/x/sys has the constants and
// structs for but no typed setsockopt/getsockopt wrappers: each is one raw
// call here. Errors are *os.SyscallError wrapping the errno, so that
// errors.Is(err, unix.EBUSY) works.

// XSKSocket opens an AF_XDP socket (close-on-exec).
func XSKSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket(AF_XDP)", err)
	}
	return fd, nil
}

// XSKRegisterUmem registers mem as the socket's UMEM (XDP_UMEM_REG). mem
// must stay mapped until the last socket using it is closed.
func XSKRegisterUmem(fd int, mem []byte, chunkSize, headroom, flags uint32) error {
	reg := unix.XDPUmemReg{
		Addr:     uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem)))),
		Len:      uint64(len(mem)),
		Size:     chunkSize,
		Headroom: headroom,
		Flags:    flags,
	}
	return setsockopt(fd, unix.XDP_UMEM_REG, unsafe.Pointer(&reg), unsafe.Sizeof(reg), "XDP_UMEM_REG")
}

// XSKSetRingSize creates one of the socket's rings with size entries: opt
// is XDP_RX_RING, XDP_TX_RING, XDP_UMEM_FILL_RING or
// XDP_UMEM_COMPLETION_RING.
func XSKSetRingSize(fd, opt int, size uint32) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_XDP, opt, int(size)); err != nil {
		return os.NewSyscallError("setsockopt("+xskOptName(opt)+")", err)
	}
	return nil
}

// XSKMmapOffsets returns where the producer, consumer, flags and
// descriptors of each ring lie in its mapping (XDP_MMAP_OFFSETS).
func XSKMmapOffsets(fd int) (unix.XDPMmapOffsets, error) {
	var off unix.XDPMmapOffsets
	err := getsockopt(fd, unix.XDP_MMAP_OFFSETS, unsafe.Pointer(&off), unsafe.Sizeof(off), "XDP_MMAP_OFFSETS")
	return off, err
}

// XSKStatistics returns the socket's drop counters (XDP_STATISTICS).
func XSKStatistics(fd int) (unix.XDPStatistics, error) {
	var st unix.XDPStatistics
	err := getsockopt(fd, unix.XDP_STATISTICS, unsafe.Pointer(&st), unsafe.Sizeof(st), "XDP_STATISTICS")
	return st, err
}

// XSKOptions returns the socket's XDP_OPTIONS flags
// (XDP_OPTIONS_ZEROCOPY when bound in zero-copy mode).
func XSKOptions(fd int) (uint32, error) {
	var flags uint32
	err := getsockopt(fd, unix.XDP_OPTIONS, unsafe.Pointer(&flags), unsafe.Sizeof(flags), "XDP_OPTIONS")
	return flags, err
}

// XSKKick asks the kernel to send what the TX ring holds: a zero-length
// sendto with MSG_DONTWAIT. It does not allocate.
func XSKKick(fd int) error {
	_, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// XSKWakeRX asks the kernel to process the FILL and RX rings: a
// zero-length recvfrom with MSG_DONTWAIT, which also drives busy polling.
// It does not allocate.
func XSKWakeRX(fd int) error {
	_, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// XSKPoll waits for what pfd.Events asks (POLLIN, POLLOUT) on pfd.Fd, at
// most *timeout (nil: no limit), and reports whether it came. Callers keep
// pfd and timeout in a long-lived struct so that polling allocates nothing.
func XSKPoll(pfd *unix.PollFd, timeout *unix.Timespec) (bool, error) {
	n, _, errno := unix.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(pfd)), 1, uintptr(unsafe.Pointer(timeout)), 0, 0, 0)
	if errno != 0 {
		return false, errno
	}
	return n > 0, nil
}

func setsockopt(fd, opt int, p unsafe.Pointer, size uintptr, name string) error {
	_, _, errno := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), size, 0)
	if errno != 0 {
		return os.NewSyscallError("setsockopt("+name+")", errno)
	}
	return nil
}

func getsockopt(fd, opt int, p unsafe.Pointer, size uintptr, name string) error {
	l := uint32(size)
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if errno != 0 {
		return os.NewSyscallError("getsockopt("+name+")", errno)
	}
	return nil
}

func xskOptName(opt int) string {
	switch opt {
	case unix.XDP_RX_RING:
		return "XDP_RX_RING"
	case unix.XDP_TX_RING:
		return "XDP_TX_RING"
	case unix.XDP_UMEM_FILL_RING:
		return "XDP_UMEM_FILL_RING"
	case unix.XDP_UMEM_COMPLETION_RING:
		return "XDP_UMEM_COMPLETION_RING"
	}
	return "SOL_XDP option"
}
