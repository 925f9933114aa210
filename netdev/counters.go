package netdev

import (
	"errors"
	"fmt"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/netenv"
)

// Counters are an interface's 64-bit packet counters (rtnetlink
// IFLA_STATS64, as "ip -s link" shows them), counted since it was made.
// On a veth, TxPackets counts frames the end transmitted and the peer's
// RxPackets those that arrived; RxDropped on the peer counts frames it
// dropped, such as XDP frames sent while it had no XDP program.
type Counters struct {
	RxPackets, RxBytes, RxDropped, RxErrors uint64
	TxPackets, TxBytes, TxDropped, TxErrors uint64
}

// Counters reads the interface's counters: one netlink request.
func (d *Device) Counters() (Counters, error) {
	var c Counters
	err := netenv.WithHandle("", func(h *netlink.Handle) (err error) {
		c, err = readCounters(h, d.Index)
		return err
	})
	if err != nil {
		return Counters{}, fmt.Errorf("read counters of %s: %w", d.Name, err)
	}
	return c, nil
}

// Counters reads the peer's counters inside its namespace: one netlink
// request, plus opening the namespace.
func (p *Peer) Counters() (Counters, error) {
	var c Counters
	err := netenv.WithHandle(p.Netns, func(h *netlink.Handle) (err error) {
		c, err = readCounters(h, p.Index)
		return err
	})
	if err != nil {
		return Counters{}, fmt.Errorf("read counters of veth peer %s%s: %w", p.Name, p.where(), err)
	}
	return c, nil
}

func readCounters(h *netlink.Handle, index int) (Counters, error) {
	link, err := h.LinkByIndex(index)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return Counters{}, errs.Markf(os.ErrNotExist, "interface index %d is gone", index)
		}
		return Counters{}, err
	}
	s := link.Attrs().Statistics
	if s == nil {
		return Counters{}, errors.New("the kernel reported no statistics")
	}
	return Counters{
		RxPackets: s.RxPackets, RxBytes: s.RxBytes, RxDropped: s.RxDropped, RxErrors: s.RxErrors,
		TxPackets: s.TxPackets, TxBytes: s.TxBytes, TxDropped: s.TxDropped, TxErrors: s.TxErrors,
	}, nil
}
