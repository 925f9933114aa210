package xdp

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// xdpAttachedMulti is XDP_ATTACHED_MULTI, the IFLA_XDP_ATTACHED value of an
// interface with programs in several modes.
const xdpAttachedMulti = 4

// Status returns the XDP programs attached to the interface named iface, or
// to every interface of the current network namespace when iface is empty,
// sorted by interface index. Interfaces without a program are included with
// no Programs.
//
// Whether a bpf_link holds a program is asked of the kernel for the
// interface of this network namespace (see the top of owner.go): an
// RTM_SETLINK that replaces the program by itself, which changes nothing
// but sends an RTM_NEWLINK notification. When several XDP links of
// different namespaces match the interface index and program, the
// program's LinkID is 0 and LinkCandidates lists them. Without
// CAP_NET_ADMIN, a matching link is taken for the interface's, which is
// wrong when it is another namespace's.
//
// Without CAP_SYS_ADMIN, Status still returns what netlink says (interface,
// mode, program id) together with an error matching ErrIncomplete and
// os.ErrPermission; callers may print the partial result.
//
// A missing interface is an error matching ErrNoInterface and
// os.ErrNotExist.
func Status(iface string) ([]Interface, error) {
	var links []netlink.Link
	if iface == "" {
		all, err := listLinks()
		if err != nil {
			return nil, fmt.Errorf("list interfaces: %w", err)
		}
		links = all
	} else {
		l, err := lookupInterface(iface)
		if err != nil {
			return nil, err
		}
		links = []netlink.Link{l}
	}

	ifaces := make([]Interface, 0, len(links))
	for _, l := range links {
		in, err := fromNetlink(l)
		if err != nil {
			return nil, err
		}
		ifaces = append(ifaces, in)
	}
	sort.Slice(ifaces, func(i, j int) bool { return ifaces[i].Index < ifaces[j].Index })

	if err := describe(ifaces); err != nil {
		return ifaces, err
	}
	return ifaces, nil
}

// listLinks lists the interfaces of the current netns. A dump that an
// interface coming or going interrupted is taken again, a few times, and
// then given as it is.
func listLinks() ([]netlink.Link, error) {
	for try := 0; ; try++ {
		links, err := netlink.LinkList()
		if errors.Is(err, netlink.ErrDumpInterrupted) {
			if try < 5 {
				continue
			}
			return links, nil
		}
		return links, err
	}
}

// lookupInterface finds the interface named name in the current netns.
func lookupInterface(name string) (netlink.Link, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return nil, newError(ErrNoInterface, err, "interface %q does not exist (see ip link)", name)
		}
		return nil, fmt.Errorf("look up interface %q: %w", name, err)
	}
	return l, nil
}

// fromNetlink returns the interface l with the ids and modes of its XDP
// programs as netlink reports them.
func fromNetlink(l netlink.Link) (Interface, error) {
	attrs := l.Attrs()
	in := Interface{Name: attrs.Name, Index: attrs.Index}
	x := attrs.Xdp
	if x == nil || !x.Attached {
		return in, nil
	}
	switch x.AttachMode {
	case nl.XDP_ATTACHED_DRV:
		in.Mode = ModeNative
	case nl.XDP_ATTACHED_SKB:
		in.Mode = ModeGeneric
	case nl.XDP_ATTACHED_HW:
		in.Mode = ModeOffload
	case xdpAttachedMulti:
		in.Mode = ModeMulti
	default:
		return in, fmt.Errorf("interface %s: unknown XDP attach mode %d", in.Name, x.AttachMode)
	}
	if in.Mode != ModeMulti {
		in.Programs = []Program{{ID: ebpf.ProgramID(x.ProgId), Mode: in.Mode}}
		return in, nil
	}

	// With several modes netlink reports one id per mode, which the
	// netlink package does not parse: ask for them.
	ids, err := progIDsPerMode(in.Index)
	if err != nil {
		return in, fmt.Errorf("interface %s: %w", in.Name, err)
	}
	for _, m := range []Mode{ModeNative, ModeGeneric, ModeOffload} {
		if id := ids[m]; id != 0 {
			in.Programs = append(in.Programs, Program{ID: ebpf.ProgramID(id), Mode: m})
		}
	}
	return in, nil
}

// progIDsPerMode asks netlink (RTM_GETLINK) for the program id attached to
// ifindex in each mode: IFLA_XDP_{DRV,SKB,HW}_PROG_ID.
func progIDsPerMode(ifindex int) (map[Mode]uint32, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(ifindex)
	req.AddData(msg)
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if err != nil {
		return nil, fmt.Errorf("netlink RTM_GETLINK: %w", err)
	}
	ids := make(map[Mode]uint32)
	for _, m := range msgs {
		if len(m) < unix.SizeofIfInfomsg {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[unix.SizeofIfInfomsg:])
		if err != nil {
			return nil, fmt.Errorf("parse netlink link message: %w", err)
		}
		for _, a := range attrs {
			if a.Attr.Type&nl.NLA_TYPE_MASK != unix.IFLA_XDP {
				continue
			}
			nested, err := nl.ParseRouteAttr(a.Value)
			if err != nil {
				return nil, fmt.Errorf("parse IFLA_XDP: %w", err)
			}
			for _, n := range nested {
				if len(n.Value) < 4 {
					continue
				}
				id := nl.NativeEndian().Uint32(n.Value[:4])
				switch n.Attr.Type & nl.NLA_TYPE_MASK {
				case unix.IFLA_XDP_DRV_PROG_ID:
					ids[ModeNative] = id
				case unix.IFLA_XDP_SKB_PROG_ID:
					ids[ModeGeneric] = id
				case unix.IFLA_XDP_HW_PROG_ID:
					ids[ModeOffload] = id
				}
			}
		}
	}
	return ids, nil
}

// describe fills in the name, tag, type and attachment of every program
// in ifaces. Without privileges it returns an ErrIncomplete error and
// leaves the fields it could not read empty.
func describe(ifaces []Interface) error {
	n := 0
	for _, in := range ifaces {
		n += len(in.Programs)
	}
	if n == 0 {
		return nil
	}

	links, err := xdpLinks()
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return newError(ErrIncomplete, err, "XDP program names, tags and attach types need CAP_SYS_ADMIN: run as root (sudo xdpkit ...) to see them")
		}
		return err
	}
	var pins map[link.ID][]string
	if len(links) > 0 {
		// Best effort: a bpffs we cannot walk hides only the pin paths.
		pins, _ = linkPins()
	}

	for i := range ifaces {
		in := &ifaces[i]
		for j := range in.Programs {
			p := &in.Programs[j]
			prog, err := openProgram(p)
			if err != nil {
				if errors.Is(err, os.ErrPermission) {
					return newError(ErrIncomplete, err, "XDP program names and tags need CAP_SYS_ADMIN: run as root (sudo xdpkit ...) to see them")
				}
				// The program went away since netlink was read.
				if !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
			var via Via
			if prog != nil {
				via, _ = probeOwner(in.Index, p.Mode, prog)
				prog.Close()
			}
			setVia(p, via, links[linkKey{in.Index, p.ID}], pins)
		}
	}
	return nil
}

// setVia fills in how p is attached: via as probeOwner found it (empty
// when it could not tell), and the XDP links matching p's ifindex and
// program, which may be of other network namespaces.
func setVia(p *Program, via Via, candidates []link.ID, pins map[link.ID][]string) {
	if via == "" {
		// Without the probe (no CAP_NET_ADMIN, or the program changed
		// meanwhile) a matching link is the best guess, wrong when the
		// link is another namespace's.
		via = ViaNetlink
		if len(candidates) > 0 {
			via = ViaLink
		}
	}
	p.Via = via
	if via != ViaLink {
		return
	}
	if len(candidates) == 1 {
		p.LinkID = candidates[0]
		p.Pins = pins[p.LinkID]
		return
	}
	p.LinkCandidates = candidates
}

// openProgram opens p by id and fills its name, tag and type from the
// kernel. It needs CAP_SYS_ADMIN.
func openProgram(p *Program) (*ebpf.Program, error) {
	prog, err := ebpf.NewProgramFromID(p.ID)
	if err != nil {
		return nil, fmt.Errorf("program id %d: %w", p.ID, err)
	}
	info, err := prog.Info()
	if err != nil {
		prog.Close()
		return nil, fmt.Errorf("program id %d: info: %w", p.ID, err)
	}
	p.Name, p.Tag, p.Type = info.Name, info.Tag, info.Type
	return prog, nil
}
