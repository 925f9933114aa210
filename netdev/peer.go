package netdev

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// findPeer returns the peer of the veth described by a, or nil when it
// cannot be reached. The kernel gives the peer's ifindex (IFLA_LINK) and,
// when the peer is in another namespace, that namespace's ID as seen from
// the current one (IFLA_LINK_NETNSID); the ID is mapped to a name by
// asking the ID of every namespace under /run/netns.
func findPeer(a *netlink.LinkAttrs) *Peer {
	if a.ParentIndex <= 0 {
		return nil
	}
	p := &Peer{Index: a.ParentIndex}
	if a.NetNsID >= 0 {
		name, ok := netnsByID(a.NetNsID)
		if !ok {
			return nil
		}
		p.Netns = name
	}
	if err := withHandle(p.Netns, p.read); err != nil {
		return nil
	}
	return p
}

// read fills in the peer's name, MAC, addresses and XDP program from its
// link, read by index through h (a handle in the peer's namespace).
func (p *Peer) read(h *netlink.Handle) error {
	link, err := h.LinkByIndex(p.Index)
	if err != nil {
		return fmt.Errorf("read veth peer %d%s: %w", p.Index, p.where(), err)
	}
	a := link.Attrs()
	addrs, err := addrsOf(h, link)
	if err != nil {
		return err
	}
	p.Name, p.MAC, p.Addrs = a.Name, a.HardwareAddr, addrs
	p.XDPProgID = 0
	if a.Xdp != nil && a.Xdp.Attached {
		p.XDPProgID = a.Xdp.ProgId
	}
	return nil
}

// where returns " in netns NAME", or "" for the current namespace.
func (p *Peer) where() string {
	if p.Netns == "" {
		return ""
	}
	return " in netns " + p.Netns
}

// netnsByID returns the name of the namespace under /run/netns whose ID,
// in the current namespace, is id.
func netnsByID(id int) (string, bool) {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return "", false
	}
	for _, e := range entries {
		ns, err := netns.GetFromPath(filepath.Join(netnsDir, e.Name()))
		if err != nil {
			continue
		}
		got, err := netlink.GetNetNsIdByFd(int(ns))
		ns.Close()
		if err == nil && got == id {
			return e.Name(), true
		}
	}
	return "", false
}

// withHandle calls fn with a rtnetlink handle in the named namespace ("" for
// the current one).
func withHandle(nsName string, fn func(*netlink.Handle) error) error {
	var (
		h   *netlink.Handle
		err error
	)
	if nsName == "" {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	} else {
		var ns netns.NsHandle
		ns, err = netns.GetFromPath(filepath.Join(netnsDir, nsName))
		if err != nil {
			return fmt.Errorf("open netns %s: %w", nsName, err)
		}
		defer ns.Close()
		h, err = netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	}
	if err != nil {
		return fmt.Errorf("netlink in netns %q: %w", nsName, err)
	}
	defer h.Close()
	return fn(h)
}
