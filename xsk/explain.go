package xsk

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/netdev"
)

// The errors of making and binding a socket, worded to say why and what to
// do, in the library's terms (a command line adds its own flags).

func explainSocketErr(err error) error {
	if errors.Is(err, unix.EAFNOSUPPORT) {
		return errs.Markf(errors.ErrUnsupported, "this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS): %w", err)
	}
	return caps.Explain(err, caps.NetRaw)
}

// checkQueue checks cfg.Queue against the queues the socket's rings use:
// an RX ring receives from one of dev's RX queues, a TX ring sends on one
// of its TX queues. The kernel binds to any queue below the larger of the
// two counts (4.x kernels checked as this does), but there a socket beyond
// the RX queues never receives and one beyond the TX queues never sends:
// Kick succeeds and the frames stay on the TX ring.
func checkQueue(dev *netdev.Device, cfg SocketConfig) error {
	q := int(cfg.Queue)
	if (!cfg.NoRX && q >= dev.RxQueues) || (!cfg.NoTX && q >= dev.TxQueues) {
		return errs.Markf(ErrQueueRange, "%s", queueRangeText(dev, cfg))
	}
	return nil
}

// queueRangeText says that cfg.Queue is not a queue a socket like cfg's
// can bind to on dev, and what to do.
func queueRangeText(dev *netdev.Device, cfg SocketConfig) string {
	has := plural(dev.RxQueues, "queue")
	below := dev.RxQueues
	if dev.RxQueues != dev.TxQueues {
		has = plural(dev.RxQueues, "RX queue") + " and " + plural(dev.TxQueues, "TX queue")
		switch {
		case cfg.NoTX:
			has += ", and a socket with an RX ring receives only from an RX queue"
		case cfg.NoRX:
			has += ", and a socket with a TX ring sends only on a TX queue"
			below = dev.TxQueues
		default:
			has += ", and a socket with RX and TX rings needs a queue below both counts"
			below = min(dev.RxQueues, dev.TxQueues)
		}
	}
	return fmt.Sprintf("queue %d is out of range: %s has %s; use a queue below %d%s", cfg.Queue, dev.Name, has, below, moreQueuesHint(dev))
}

func explainBind(err error, dev *netdev.Device, cfg SocketConfig) error {
	where := fmt.Sprintf("%s queue %d", dev.Name, cfg.Queue)
	switch {
	case errors.Is(err, unix.EBUSY):
		return errs.Markf(ErrQueueBusy, "binding to %s: the queue already has an AF_XDP socket (%w), or had one until a few tens of milliseconds ago (the kernel frees a queue after an RCU grace period): close it, share its UMEM, or try again", where, err)
	case errors.Is(err, unix.EOPNOTSUPP) && cfg.Mode == ModeZeroCopy:
		return errs.Markf(ErrZeroCopyUnsupported, "binding to %s: %s (%s) does not support zero-copy AF_XDP (%w): %s", where, dev.Name, dev.Kind, err, useCopyMode)
	case errors.Is(err, unix.EINVAL):
		// The queue counts may have changed since dev was looked up
		// (ethtool -L).
		if now, lerr := netdev.Lookup(dev.Name); lerr == nil && now.Index == dev.Index {
			dev = now
		}
		if checkQueue(dev, cfg) != nil {
			return errs.Markf(ErrQueueRange, "binding to %s: %s (%w)", where, queueRangeText(dev, cfg), err)
		}
	case errors.Is(err, unix.ENETDOWN):
		return fmt.Errorf("binding to %s: the interface is down (%w): \"ip link set %s up\"", where, err, dev.Name)
	}
	return caps.Explain(fmt.Errorf("binding to %s in %s mode: %w", where, cfg.Mode, os.NewSyscallError("bind", err)), caps.NetRaw)
}

// useCopyMode is what to do where zero-copy is not supported.
const useCopyMode = "use copy mode (ModeCopy, or ModeAuto, which falls back to it)"

// zeroCopyUnsupported says that dev cannot bind zero-copy, as its XDP
// features show.
func zeroCopyUnsupported(dev *netdev.Device, f netdev.XDPFeatures) error {
	return errs.Markf(ErrZeroCopyUnsupported, "%s (%s) does not support zero-copy AF_XDP (its XDP features: %s): %s", dev.Name, dev.Kind, f, useCopyMode)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func moreQueuesHint(dev *netdev.Device) string {
	if dev.Kind == "veth" {
		return ", or make the veth with more (ip link add ... numrxqueues N numtxqueues N)"
	}
	return ", or add queues (ethtool -L)"
}
