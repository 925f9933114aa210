package netdev

import (
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// usableNeigh are the neighbour states whose link-layer address can be
// used to address frames.
const usableNeigh = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY |
	netlink.NUD_PROBE | netlink.NUD_PERMANENT | netlink.NUD_NOARP

// Neighbour returns the link-layer address the neighbour table (ARP for
// IPv4, NDP for IPv6) of the current namespace holds for addr on this
// interface, and false when it holds no usable entry: none, or one
// incomplete or failed. It costs one netlink dump of the interface's
// entries and never sends a request on the wire; ping addr first to fill
// the table.
func (d *Device) Neighbour(addr netip.Addr) (net.HardwareAddr, bool) {
	addr = addr.Unmap().WithZone("")
	family := netlink.FAMILY_V6
	if addr.Is4() {
		family = netlink.FAMILY_V4
	}
	neighs, err := netlink.NeighList(d.Index, family)
	if err != nil {
		return nil, false
	}
	for _, n := range neighs {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || ip.Unmap() != addr || n.State&usableNeigh == 0 || !nonZero(n.HardwareAddr) {
			continue
		}
		return n.HardwareAddr, true
	}
	return nil, false
}

func nonZero(mac net.HardwareAddr) bool {
	for _, b := range mac {
		if b != 0 {
			return true
		}
	}
	return false
}
