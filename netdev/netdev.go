// Package netdev tells what a network interface is and can do for XDP: its
// kind and veth peer (also across network namespaces), its XDP feature
// flags, its counters, and neighbour entries.
//
// A Device is a snapshot of an interface of the current network namespace,
// taken by Lookup and renewed by Refresh; its methods ask the kernel again
// each time. For a veth, Device.Peer is the other end, found also when it
// lives in a named namespace (one under /run/netns, as "ip netns add"
// makes). Everything here reads the kernel over rtnetlink or generic
// netlink and needs no privileges, but for two things: reading a peer in
// another namespace needs CAP_SYS_ADMIN (to open a netlink socket there),
// and Peer.AttachPass needs CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN
// too.
package netdev

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Device is an interface of the current network namespace, as the kernel
// described it when Lookup or Refresh ran.
type Device struct {
	// Name and Index identify the interface in the current namespace.
	Name  string
	Index int
	// Kind is the netlink link type: "veth", "device" (a physical NIC or
	// lo), "bridge", ...
	Kind string
	MAC  net.HardwareAddr
	MTU  int
	// Up reports that the interface is administratively up (IFF_UP); its
	// carrier may still be down.
	Up bool

	// Carrier reports that the link is up below (IFF_LOWER_UP): a veth
	// whose peer is up, a cable plugged in, a tap with a reader. Frames
	// sent out of an interface without carrier are dropped.
	Carrier bool
	// RxQueues and TxQueues are the numbers of queues in use (the real
	// numbers, which "ethtool -L" changes), or the numbers allocated
	// where sysfs does not show the current namespace.
	RxQueues, TxQueues int
	// Addrs are the interface's addresses, global and link-local: IPv4
	// first, then IPv6, each in the kernel's order.
	Addrs []netip.Prefix
	// Peer is the other end of a veth, nil for other kinds and when the
	// peer cannot be reached: it lives in a namespace that has no name
	// under /run/netns, or in another namespace and the process lacks
	// CAP_SYS_ADMIN.
	Peer *Peer
}

// Peer is the other end of a veth pair, possibly in another network
// namespace.
type Peer struct {
	// Name and Index identify the peer inside Netns.
	Name  string
	Index int
	// Netns is the name of the namespace holding the peer, under
	// /run/netns ("ip netns exec NETNS" enters it), or "" when the peer
	// is in the current namespace.
	Netns string
	MAC   net.HardwareAddr
	// Addrs are the peer's addresses, as in Device.Addrs.
	Addrs []netip.Prefix
	// XDPProgID is the ID of the XDP program attached to the peer, 0 if
	// none. A veth drops the XDP frames sent to it (XDP_TX, redirect)
	// unless its peer has one (or GRO enabled).
	XDPProgID uint32
}

// Lookup returns the interface named name in the current network
// namespace, with its veth peer when it has one. It costs a few netlink
// requests, and for a veth in another namespace one more per namespace
// under /run/netns. An unknown name fails with an error matching
// os.ErrNotExist. Failing to find a veth's peer does not fail Lookup:
// Peer is nil then.
func Lookup(name string) (*Device, error) {
	link, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return nil, errs.Markf(os.ErrNotExist, "interface %q not found in the current network namespace: \"ip link show\" lists the interfaces", name)
		}
		return nil, fmt.Errorf("look up interface %q: %w", name, err)
	}
	d := &Device{}
	if err := d.fill(link); err != nil {
		return nil, err
	}
	return d, nil
}

// Refresh reads the interface again, by index, and updates every field:
// Up, MTU, addresses, and the peer with its XDPProgID. It fails with an
// error matching os.ErrNotExist when the interface is gone.
func (d *Device) Refresh() error {
	link, err := netlink.LinkByIndex(d.Index)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return errs.Markf(os.ErrNotExist, "interface %s (index %d) is gone from the current network namespace", d.Name, d.Index)
		}
		return fmt.Errorf("read interface %s (index %d): %w", d.Name, d.Index, err)
	}
	fresh := Device{}
	if err := fresh.fill(link); err != nil {
		return err
	}
	*d = fresh
	return nil
}

// fill sets d from link, read in the current namespace.
func (d *Device) fill(link netlink.Link) error {
	a := link.Attrs()
	addrs, err := addrsOf(nil, link)
	if err != nil {
		return err
	}
	*d = Device{
		Name:     a.Name,
		Index:    a.Index,
		Kind:     link.Type(),
		MAC:      a.HardwareAddr,
		MTU:      a.MTU,
		Up:       a.RawFlags&unix.IFF_UP != 0,
		Carrier:  a.RawFlags&unix.IFF_LOWER_UP != 0,
		RxQueues: a.NumRxQueues,
		TxQueues: a.NumTxQueues,
		Addrs:    addrs,
	}
	if rx, tx, ok := realQueues(a.Name, a.Index); ok {
		d.RxQueues, d.TxQueues = rx, tx
	}
	if _, ok := link.(*netlink.Veth); ok {
		d.Peer = findPeer(a)
	}
	return nil
}

// addrsOf returns link's addresses, IPv4 first, read through h (nil for
// the current namespace).
func addrsOf(h *netlink.Handle, link netlink.Link) ([]netip.Prefix, error) {
	list := netlink.AddrList
	if h != nil {
		list = h.AddrList
	}
	addrs, err := list(link, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	var ps []netip.Prefix
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		ps = append(ps, netip.PrefixFrom(ip.Unmap(), ones))
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Addr().Is4() && !ps[j].Addr().Is4() })
	return ps, nil
}

// realQueues counts the rx-N and tx-N queues sysfs shows for the
// interface: the numbers in use, which rtnetlink does not report. ok is
// false when /sys belongs to another namespace (its interface of that
// name, if any, has another index).
func realQueues(name string, index int) (rx, tx int, ok bool) {
	dir := filepath.Join("/sys/class/net", name)
	b, err := os.ReadFile(filepath.Join(dir, "ifindex"))
	if err != nil {
		return 0, 0, false
	}
	if i, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || i != index {
		return 0, 0, false
	}
	entries, err := os.ReadDir(filepath.Join(dir, "queues"))
	if err != nil {
		return 0, 0, false
	}
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "rx-"):
			rx++
		case strings.HasPrefix(e.Name(), "tx-"):
			tx++
		}
	}
	return rx, tx, rx > 0 && tx > 0
}
