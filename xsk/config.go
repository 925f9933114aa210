package xsk

import (
	"fmt"
	"os"
	"time"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// BindMode chooses between copy and zero-copy binding.
type BindMode uint8

// The bind modes.
const (
	// ModeAuto lets the kernel bind zero-copy where the driver can, and
	// fall back to copy mode.
	ModeAuto BindMode = iota
	// ModeCopy binds in copy mode (XDP_COPY): works on every driver with
	// XDP_REDIRECT, veth included.
	ModeCopy
	// ModeZeroCopy binds in zero-copy mode (XDP_ZEROCOPY) and fails with
	// ErrZeroCopyUnsupported where the driver cannot.
	ModeZeroCopy
)

// String returns "auto", "copy" or "zerocopy".
func (m BindMode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeCopy:
		return "copy"
	case ModeZeroCopy:
		return "zerocopy"
	}
	return fmt.Sprintf("BindMode(%d)", uint8(m))
}

// BusyPoll sets the busy-polling socket options (Linux 5.11+ for Prefer
// and Budget): the process then drives the driver's NAPI itself from
// Socket.WakeRX and Socket.Kick instead of waiting for interrupts. A
// busy-polling socket's WakeRX and Kick make their syscall every time,
// with NeedWakeup too: the busy poll happens in that syscall.
type BusyPoll struct {
	// Timeout is SO_BUSY_POLL: how long a busy poll may spin.
	Timeout time.Duration
	// Budget is SO_BUSY_POLL_BUDGET: frames per busy poll (0: the
	// kernel's default).
	Budget int
	// Prefer sets SO_PREFER_BUSY_POLL.
	Prefer bool
}

// SocketConfig describes a socket. Interface is required; the rest
// defaults to queue 0, RX and TX rings of 2048 entries, ModeAuto.
type SocketConfig struct {
	// Interface is the name of the interface to bind to.
	Interface string
	// Queue is the queue id to bind to: one of the interface's RX queues
	// for a socket with an RX ring, one of its TX queues for a socket
	// with a TX ring.
	Queue uint32
	// RxSize and TxSize are the entries of the RX and TX rings: powers of
	// two; 0 means DefaultRingSize.
	RxSize, TxSize uint32
	// NoRX and NoTX leave out the RX or TX ring (a TX-only or RX-only
	// socket). Not both.
	NoRX, NoTX bool
	// Mode is copy, zero-copy or auto.
	Mode BindMode
	// NeedWakeup binds with XDP_USE_NEED_WAKEUP: the kernel says on each
	// ring when it needs a syscall to make progress, and Kick and WakeRX
	// make one only then (unless the socket busy-polls). Without it,
	// every Kick is a sendto and every WakeRX a recvfrom.
	NeedWakeup bool
	// BusyPoll, when non-nil, sets the busy-polling socket options.
	BusyPoll *BusyPoll
}

func (c SocketConfig) withDefaults() SocketConfig {
	if c.RxSize == 0 {
		c.RxSize = DefaultRingSize
	}
	if c.TxSize == 0 {
		c.TxSize = DefaultRingSize
	}
	return c
}

// Validate checks the configuration without touching the kernel. Its
// errors match os.ErrInvalid.
func (c SocketConfig) Validate() error {
	c = c.withDefaults()
	if c.Interface == "" {
		return errs.Markf(os.ErrInvalid, "no interface given")
	}
	if c.NoRX && c.NoTX {
		return errs.Markf(os.ErrInvalid, "a socket needs an RX or a TX ring: NoRX and NoTX are both set")
	}
	if !c.NoRX {
		if err := checkRingSize("RX", c.RxSize); err != nil {
			return err
		}
	}
	if !c.NoTX {
		if err := checkRingSize("TX", c.TxSize); err != nil {
			return err
		}
	}
	if c.Mode > ModeZeroCopy {
		return errs.Markf(os.ErrInvalid, "bind mode %d: use ModeAuto, ModeCopy or ModeZeroCopy", c.Mode)
	}
	if c.BusyPoll != nil && (c.BusyPoll.Timeout < 0 || c.BusyPoll.Budget < 0) {
		return errs.Markf(os.ErrInvalid, "busy poll timeout and budget must not be negative")
	}
	return nil
}
