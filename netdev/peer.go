package netdev

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"github.com/xdpkit/xdpkit/netenv"
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
	if err := netenv.WithHandle(p.Netns, p.read); err != nil {
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
	entries, err := os.ReadDir(netenv.NetnsDir)
	if err != nil {
		return "", false
	}
	for _, e := range entries {
		ns, err := netns.GetFromPath(filepath.Join(netenv.NetnsDir, e.Name()))
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
