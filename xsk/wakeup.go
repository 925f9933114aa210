package xsk

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/sys"
)

// Kick makes the kernel send what the TX ring holds with a sendto: with
// NeedWakeup only when the TX ring asks for it, unless the socket
// busy-polls (BusyPoll), which needs the call every time. The transient
// errors of a busy device (EAGAIN, EBUSY, ENOBUFS, ENETDOWN) are not
// errors: the frames stay on the ring for the next Kick. It does not
// allocate.
func (s *Socket) Kick() error {
	if s.tx == nil || !s.wakes(&s.tx.ring) {
		return nil
	}
	if err := sys.XSKKick(s.fd); err != nil && !transient(err) {
		return os.NewSyscallError("sendto", err)
	}
	return nil
}

// WakeRX makes the kernel process the FILL ring, and drives busy
// polling, with a recvfrom: with NeedWakeup only when the FILL ring asks
// for it, unless the socket busy-polls (BusyPoll), which needs the call
// every time. Transient errors are not errors, as for Kick. It does not
// allocate.
func (s *Socket) WakeRX() error {
	if !s.wakes(&s.rings.fill.ring) {
		return nil
	}
	if err := sys.XSKWakeRX(s.fd); err != nil && !transient(err) {
		return os.NewSyscallError("recvfrom", err)
	}
	return nil
}

// wakes reports whether waking the kernel for ring r takes a syscall now:
// always without need_wakeup and when busy polling (as the kernel's
// xdpsock does), else when the kernel set the ring's need_wakeup flag.
func (s *Socket) wakes(r *ring) bool {
	return s.busyPoll || !s.NeedWakeup() || r.needsWakeup()
}

// transient reports whether err, of the sendto of Kick or the recvfrom of
// WakeRX, only says that the device cannot make progress now (EAGAIN,
// EBUSY, ENOBUFS, ENETDOWN): the rings keep their entries for the next
// call.
func transient(err error) bool {
	switch err {
	case unix.EAGAIN, unix.EBUSY, unix.ENOBUFS, unix.ENETDOWN:
		return true
	}
	return false
}

// Poll waits up to timeout (negative: no limit) for received frames (and,
// with tx set, for room on TX) and reports whether the socket is ready.
// It does not allocate.
func (s *Socket) Poll(timeout time.Duration, tx bool) (bool, error) {
	s.pfd.Events = unix.POLLIN
	if tx {
		s.pfd.Events |= unix.POLLOUT
	}
	s.pfd.Revents = 0
	ts := &s.timeout
	if timeout < 0 {
		ts = nil
	} else {
		s.timeout = unix.NsecToTimespec(int64(timeout))
	}
	ok, err := sys.XSKPoll(&s.pfd, ts)
	if err != nil && err != unix.EINTR {
		return false, os.NewSyscallError("ppoll", err)
	}
	return ok, nil
}

// setBusyPoll sets the busy-polling socket options of bp on fd.
func setBusyPoll(fd int, bp BusyPoll) error {
	if bp.Prefer {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PREFER_BUSY_POLL, 1); err != nil {
			return fmt.Errorf("setting SO_PREFER_BUSY_POLL: %w", os.NewSyscallError("setsockopt", err))
		}
	}
	if bp.Timeout > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BUSY_POLL, int(bp.Timeout/time.Microsecond)); err != nil {
			return caps.Explain(fmt.Errorf("setting SO_BUSY_POLL: %w", os.NewSyscallError("setsockopt", err)), caps.NetAdmin)
		}
	}
	if bp.Budget > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BUSY_POLL_BUDGET, bp.Budget); err != nil {
			return caps.Explain(fmt.Errorf("setting SO_BUSY_POLL_BUDGET: %w", os.NewSyscallError("setsockopt", err)), caps.NetAdmin)
		}
	}
	return nil
}
