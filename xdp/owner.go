package xdp

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Telling a bpf_link from a netlink attachment.
//
// Netlink reports the program attached to an interface of the current
// network namespace, per mode, but not whether a bpf_link holds it. The
// kernel's XDP links do say their interface, but only as an ifindex, with
// no network namespace, and ifindexes are per namespace (lo is 1 in every
// one): matching links to interfaces by (ifindex, program id) takes a link
// of another namespace for ours.
//
// What is reliable is to ask the kernel about our own interface:
// RTM_SETLINK with IFLA_XDP and XDP_FLAGS_REPLACE. dev_xdp_attach
// (net/core/dev.c) first refuses with EBUSY ("Can't replace active BPF XDP
// link") whenever a bpf_link owns the interface's hook in that mode,
// whatever the program fds; otherwise, with IFLA_XDP_EXPECTED_FD, it
// changes the hook only if the attached program is the expected one
// (EEXIST if not). So:
//
//   - replacing the program by itself (probeOwner) changes nothing: EBUSY
//     means a link of this namespace owns it, success means netlink (the
//     effective program is unchanged, so the driver is not called; the
//     only trace is an RTM_NEWLINK notification);
//   - replacing it by none (fd -1, as Detach does) removes a netlink
//     attachment of exactly that program and can never touch a link.
//
// Which link it is remains a guess by (ifindex, program id): right when
// only one XDP link matches, since ours is among the candidates; when
// several namespaces have the same program attached through links to
// interfaces with the same index, the kernel offers no way to tell them
// apart short of detaching one, so Status leaves LinkID 0 and lists the
// candidates, and Detach refuses.

// replaceXDP asks netlink to replace the program attached to ifindex in
// mode, which must be the one of expectedFD, by the one of fd (-1: none).
func replaceXDP(ifindex int, mode Mode, fd, expectedFD int) error {
	req := nl.NewNetlinkRequest(unix.RTM_SETLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(ifindex)
	req.AddData(msg)

	u32 := func(v uint32) []byte {
		b := make([]byte, 4)
		nl.NativeEndian().PutUint32(b, v)
		return b
	}
	attrs := nl.NewRtAttr(unix.IFLA_XDP|unix.NLA_F_NESTED, nil)
	attrs.AddRtAttr(unix.IFLA_XDP_FD, u32(uint32(int32(fd))))
	attrs.AddRtAttr(unix.IFLA_XDP_FLAGS, u32(uint32(mode.netlinkFlags()|unix.XDP_FLAGS_REPLACE)))
	attrs.AddRtAttr(unix.IFLA_XDP_EXPECTED_FD, u32(uint32(int32(expectedFD))))
	req.AddData(attrs)

	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return os.NewSyscallError("netlink RTM_SETLINK", err)
	}
	return nil
}

// probeOwner tells how prog, attached to ifindex in mode, is attached in
// the current network namespace, changing nothing (see the comment at the
// top of this file): ViaLink or ViaNetlink. It needs CAP_NET_ADMIN and
// Linux >= 5.7; an error says the probe could not tell, such as EEXIST
// when prog is no longer the attached program.
func probeOwner(ifindex int, mode Mode, prog *ebpf.Program) (Via, error) {
	err := replaceXDP(ifindex, mode, prog.FD(), prog.FD())
	switch {
	case err == nil:
		return ViaNetlink, nil
	case errors.Is(err, unix.EBUSY):
		return ViaLink, nil
	}
	return "", err
}

// linkKey identifies an XDP bpf_link by what netlink also knows.
type linkKey struct {
	ifindex int
	prog    ebpf.ProgramID
}

// xdpLinks returns the ids of the kernel's XDP bpf_links, in increasing
// order, by interface index and program id. Links are global and
// ifindexes per network namespace: one key may hold links of several
// namespaces (see the top of this file). It needs CAP_SYS_ADMIN.
func xdpLinks() (map[linkKey][]link.ID, error) {
	links := make(map[linkKey][]link.ID)
	var it link.Iterator
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil {
			continue // gone or not readable: not ours to report
		}
		if info.Type != link.XDPType {
			continue
		}
		x := info.XDP()
		if x == nil || x.Ifindex == 0 {
			continue // detached link
		}
		k := linkKey{int(x.Ifindex), info.Program}
		links[k] = append(links[k], info.ID)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("iterate bpf links: %w", err)
	}
	for _, ids := range links {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	}
	return links, nil
}

// linkIDList formats link ids as "3, 5 and 8".
func linkIDList(ids []link.ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
