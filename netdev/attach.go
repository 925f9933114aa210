package netdev

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/builtin"
	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/netenv"
)

// AttachPass attaches xdpkit's built-in pass-through program (xdp_pass of
// internal/builtin) to the peer, in driver mode, with a bpf_link made
// inside the peer's namespace. While it is attached the veth accepts the
// XDP frames sent to it (XDP_TX, redirect) instead of dropping them, and
// the sending end reports FeatureNDOXmit. Close detaches it; the link is
// not pinned, so it also goes when the process exits.
//
// A peer that already has an XDP program fails with an error matching
// os.ErrExist. AttachPass needs CAP_BPF (or CAP_SYS_ADMIN) and
// CAP_NET_ADMIN, and CAP_SYS_ADMIN to enter a peer's namespace; it costs
// loading a program and, for a peer in another namespace, a thread switch
// and two setns calls.
func (p *Peer) AttachPass() (io.Closer, error) {
	return p.attachBuiltin("pass-through", "xdp_pass", builtin.XDPPassSpec)
}

// AttachDrop is AttachPass with xdpkit's built-in xdp_drop, which drops
// every frame: the veth accepts XDP frames and counts them in the peer's
// RX counters, and the peer's stack never sees them.
func (p *Peer) AttachDrop() (io.Closer, error) {
	return p.attachBuiltin("dropping", "xdp_drop", builtin.XDPDropSpec)
}

// attachBuiltin attaches the built-in program name, described as what,
// to the peer.
func (p *Peer) attachBuiltin(what, name string, load func() (*ebpf.CollectionSpec, error)) (io.Closer, error) {
	var cur uint32
	attached := false
	err := netenv.WithHandle(p.Netns, func(h *netlink.Handle) error {
		l, err := h.LinkByIndex(p.Index)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
				return errs.Markf(os.ErrNotExist, "it is gone")
			}
			return err
		}
		if x := l.Attrs().Xdp; x != nil && x.Attached {
			attached, cur = true, x.ProgId
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("attach %s program to veth peer %s%s: %w", what, p.Name, p.where(), err)
	}
	if attached {
		return nil, p.errHasProgram(cur)
	}

	spec, err := load()
	if err != nil {
		return nil, fmt.Errorf("parse built-in %s: %w", name, err)
	}
	ps := spec.Programs[name]
	if ps == nil {
		return nil, fmt.Errorf("built-in %s object has no program %s", name, name)
	}
	prog, err := ebpf.NewProgram(ps)
	if err != nil {
		return nil, fmt.Errorf("load built-in %s: %w", name, err)
	}
	var l link.Link
	err = netenv.DoIn(p.Netns, func() error {
		var err error
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: p.Index, Flags: link.XDPDriverMode})
		return err
	})
	if err != nil {
		prog.Close()
		if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST) {
			// Another program got there between the check and the attach.
			return nil, p.errHasProgram(0)
		}
		if errors.Is(err, unix.ERANGE) {
			return nil, errs.Markf(os.ErrInvalid, "attach %s program to veth peer %s%s: its MTU is too large for an XDP program that does not take multi-buffer frames (about 3500 bytes on 4 KiB pages): lower it with \"ip link set %s mtu 1500\": %w", what, p.Name, p.where(), p.Name, err)
		}
		return nil, fmt.Errorf("attach %s program to veth peer %s%s: %w", what, p.Name, p.where(), err)
	}
	return &peerLink{link: l, prog: prog}, nil
}

func (p *Peer) errHasProgram(id uint32) error {
	which := "an XDP program"
	if id != 0 {
		which = fmt.Sprintf("XDP program ID %d", id)
	}
	return errs.Markf(os.ErrExist, "veth peer %s%s already has %s: it accepts frames already; drop --peer-prog", p.Name, p.where(), which)
}

// peerLink is the attachment AttachPass and AttachDrop return.
type peerLink struct {
	once sync.Once
	err  error
	link link.Link
	prog *ebpf.Program
}

var _ io.Closer = (*peerLink)(nil)

// Close detaches the program and unloads it. Calls after the first return
// the first one's result.
func (c *peerLink) Close() error {
	c.once.Do(func() {
		var all []error
		if err := c.link.Close(); err != nil {
			all = append(all, fmt.Errorf("detach peer program: %w", err))
		}
		if err := c.prog.Close(); err != nil {
			all = append(all, fmt.Errorf("unload peer program: %w", err))
		}
		c.err = errors.Join(all...)
	})
	return c.err
}
