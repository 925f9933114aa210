package xdp

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// DetachOptions narrows what Detach removes.
type DetachOptions struct {
	// Mode limits Detach to the program attached in this mode. Empty:
	// every XDP program of the interface.
	Mode Mode
}

// Detach removes the XDP programs attached to the interface named iface
// (only the one in opts.Mode when set) and returns what it removed.
//
// A program attached through a bpf_link is detached with BPF_LINK_DETACH,
// which works whoever holds the link (a pin, or a process such as a
// foreground xdpkit attach, which then sees its link defunct). Every pin of
// that link on a mounted BPF filesystem is removed: Detach finds them by
// opening the files of each bpffs mount, as bpftool does, since a pin of
// a detached link would only keep a defunct link alive. A program attached
// through netlink (ip link set dev X xdp ...) is removed through netlink
// with the flags of its mode.
//
// It needs CAP_NET_ADMIN and CAP_SYS_ADMIN (to find links). Nothing
// attached is an error matching ErrNotAttached and os.ErrNotExist.
func Detach(iface string, opts DetachOptions) ([]Program, error) {
	switch opts.Mode {
	case "", ModeNative, ModeGeneric, ModeOffload:
	default:
		return nil, errs.Markf(os.ErrInvalid, "mode %q: use native, generic or offload", opts.Mode)
	}
	ifaces, err := Status(iface)
	if errors.Is(err, ErrIncomplete) {
		return nil, newError(ErrIncomplete, err, "detach needs CAP_SYS_ADMIN to find the bpf_link of %s's XDP program: run as root (sudo xdpkit ...)", iface)
	}
	if err != nil {
		return nil, err
	}
	in := ifaces[0]

	var todo []Program
	var other []string
	for _, p := range in.Programs {
		if opts.Mode == "" || p.Mode == opts.Mode {
			todo = append(todo, p)
		} else {
			other = append(other, string(p.Mode))
		}
	}
	if len(todo) == 0 {
		if len(other) > 0 {
			return nil, newError(ErrNotAttached, nil, "%s has no XDP program in %s mode (it has one in %s mode: drop --mode)",
				iface, opts.Mode, strings.Join(other, " and "))
		}
		return nil, newError(ErrNotAttached, nil, "%s has no XDP program attached (see xdpkit status)", iface)
	}

	var done []Program
	for _, p := range todo {
		var err error
		switch p.Via {
		case ViaLink:
			err = detachLink(p)
		default:
			err = detachNetlink(in.Index, p)
		}
		if err != nil {
			return done, fmt.Errorf("detach %s from %s: %w", p.Describe(), iface, err)
		}
		done = append(done, p)
	}
	return done, nil
}

// detachLink detaches the bpf_link holding p and removes its pins.
func detachLink(p Program) error {
	l, err := link.NewFromID(p.LinkID)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // released since Status looked
		}
		return fmt.Errorf("open link %d: %w", p.LinkID, err)
	}
	defer l.Close()
	if err := l.Detach(); err != nil {
		return fmt.Errorf("link %d: %w", p.LinkID, err)
	}
	var errs []error
	for _, pin := range p.Pins {
		if err := os.Remove(pin); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove pin: %w", err))
		}
	}
	return errors.Join(errs...)
}

// detachNetlink removes p, attached through netlink, from ifindex.
func detachNetlink(ifindex int, p Program) error {
	l, err := netlink.LinkByIndex(ifindex)
	if err != nil {
		return fmt.Errorf("interface %d: %w", ifindex, err)
	}
	if err := netlink.LinkSetXdpFdWithFlags(l, -1, p.Mode.netlinkFlags()); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	return nil
}
