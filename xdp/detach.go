package xdp

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// DetachOptions narrows what Detach removes.
type DetachOptions struct {
	// Mode limits Detach to the program attached in this mode. Empty:
	// every XDP program of the interface.
	Mode Mode
}

// Detach removes the XDP programs attached to the interface named iface
// in the current network namespace (only the one in opts.Mode when set)
// and returns what it removed.
//
// Each program is first removed through netlink with XDP_FLAGS_REPLACE
// and the program as the expected one, which removes exactly that program
// when it was attached through netlink (ip link set dev X xdp ...) and
// which the kernel refuses with EBUSY when a bpf_link owns the hook. The
// link is then found among the kernel's XDP links by interface index and
// program id, and detached with BPF_LINK_DETACH, which works whoever holds
// it (a pin, or a process such as a foreground xdpkit attach, which then
// sees its link defunct). Every pin of that link on a mounted BPF
// filesystem is removed: Detach finds them by opening the files of each
// bpffs mount, as bpftool does, since a pin of a detached link would only
// keep a defunct link alive.
//
// Links do not record their network namespace: when links of other
// namespaces match the same interface index and program (lo is 1 in every
// namespace), Detach cannot tell which is this interface's and returns an
// error matching ErrAmbiguousLink that lists them, detaching nothing.
//
// It needs CAP_NET_ADMIN and CAP_SYS_ADMIN (to open the program and find
// links). Nothing attached is an error matching ErrNotAttached and
// os.ErrNotExist.
func Detach(iface string, opts DetachOptions) ([]Program, error) {
	switch opts.Mode {
	case "", ModeNative, ModeGeneric, ModeOffload:
	default:
		return nil, errs.Markf(os.ErrInvalid, "mode %q: use native, generic or offload", opts.Mode)
	}
	nlLink, err := lookupInterface(iface)
	if err != nil {
		return nil, err
	}
	in, err := fromNetlink(nlLink)
	if err != nil {
		return nil, err
	}

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
		gone, err := detach(iface, in.Index, &p)
		if err != nil {
			return done, err
		}
		if !gone {
			done = append(done, p)
		}
	}
	return done, nil
}

// detach removes p from the interface iface, ifindex, and fills in p's
// name and how it was attached. gone says that p was no longer attached.
func detach(iface string, ifindex int, p *Program) (gone bool, err error) {
	prog, err := openProgram(p)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil // detached since netlink was read
	}
	if errors.Is(err, os.ErrPermission) {
		return false, newError(ErrIncomplete, err, "detach needs CAP_SYS_ADMIN to open %s's XDP program: run as root (sudo xdpkit ...)", iface)
	}
	if err != nil {
		return false, fmt.Errorf("detach from %s: %w", iface, err)
	}
	defer prog.Close()

	// Only a netlink attachment of this very program can go this way.
	err = replaceXDP(ifindex, p.Mode, -1, prog.FD())
	switch {
	case err == nil:
		p.Via = ViaNetlink
		return false, nil
	case errors.Is(err, unix.EEXIST):
		return false, &Error{
			Msg:   fmt.Sprintf("the XDP program of %s in %s mode changed while detaching %s: see xdpkit status %s", iface, p.Mode, p.Describe(), iface),
			Kind:  os.ErrExist,
			Cause: err,
		}
	case !errors.Is(err, unix.EBUSY):
		return false, fmt.Errorf("detach %s from %s: %w", p.Describe(), iface, err)
	}

	// EBUSY: a bpf_link of this namespace owns the hook.
	p.Via = ViaLink
	if err := detachLink(iface, ifindex, p, prog); err != nil {
		return false, fmt.Errorf("detach %s from %s: %w", p.Describe(), iface, err)
	}
	return false, nil
}

// detachLink detaches the bpf_link that owns p's hook on ifindex in this
// network namespace, and removes its pins.
func detachLink(iface string, ifindex int, p *Program, prog *ebpf.Program) error {
	links, err := xdpLinks()
	if err != nil {
		return err
	}
	candidates := links[linkKey{ifindex, p.ID}]
	switch len(candidates) {
	case 0:
		return fmt.Errorf("no XDP bpf_link has ifindex %d and program %d: was it detached meanwhile? (see xdpkit status %s)", ifindex, p.ID, iface)
	case 1:
	default:
		p.LinkCandidates = candidates
		return newError(ErrAmbiguousLink, nil,
			"it is held by one of the XDP links %s, which have the same program and ifindex (%d) in different network namespaces, "+
				"and the kernel does not record which is %s's in this one: find it with bpftool link show (pins, holding processes) "+
				"and detach it with bpftool link detach id ID",
			linkIDList(candidates), ifindex, iface)
	}

	id := candidates[0]
	l, err := link.NewFromID(id)
	if err != nil {
		return fmt.Errorf("open link %d: %w", id, err)
	}
	defer l.Close()
	// Ours was among the candidates when a link owned the hook before and
	// after the search: then the only candidate is ours.
	if via, err := probeOwner(ifindex, p.Mode, prog); err != nil || via != ViaLink {
		return fmt.Errorf("the bpf_link of %s changed while detaching: see xdpkit status %s", iface, iface)
	}
	p.LinkID = id
	if pins, err := linkPins(); err == nil {
		p.Pins = pins[id]
	}
	if err := l.Detach(); err != nil {
		return fmt.Errorf("link %d: %w", id, err)
	}
	var errs []error
	for _, pin := range p.Pins {
		if err := os.Remove(pin); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove pin: %w", err))
		}
	}
	return errors.Join(errs...)
}
