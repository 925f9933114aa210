package netdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// XDPFeatures are the XDP feature flags a driver reports for an interface
// (enum netdev_xdp_act of include/uapi/linux/netdev.h, Linux 6.3+).
type XDPFeatures uint64

// The XDP feature flags, in the kernel's bit order.
const (
	// FeatureBasic: XDP_ABORTED, XDP_DROP, XDP_PASS and XDP_TX.
	FeatureBasic XDPFeatures = 1 << iota
	// FeatureRedirect: XDP_REDIRECT out of this interface's programs.
	FeatureRedirect
	// FeatureNDOXmit: the driver implements ndo_xdp_xmit, so frames can
	// be redirected to (transmitted by) this interface. A veth clears it
	// while its peer has no XDP program (nor GRO): it would drop them.
	FeatureNDOXmit
	// FeatureXSKZeroCopy: AF_XDP sockets can bind in zero-copy mode.
	FeatureXSKZeroCopy
	// FeatureHWOffload: programs can be offloaded to the NIC.
	FeatureHWOffload
	// FeatureRxSG: programs can receive multi-buffer (fragmented) frames.
	FeatureRxSG
	// FeatureNDOXmitSG: ndo_xdp_xmit takes multi-buffer frames.
	FeatureNDOXmitSG
)

var featureNames = []string{"basic", "redirect", "ndo-xmit", "xsk-zerocopy", "hw-offload", "rx-sg", "ndo-xmit-sg"}

// Has reports whether f holds every flag of g.
func (f XDPFeatures) Has(g XDPFeatures) bool { return f&g == g }

// String returns the flags' names joined by commas, such as
// "basic,redirect,ndo-xmit", unknown bits as hex, or "none" for 0.
func (f XDPFeatures) String() string {
	if f == 0 {
		return "none"
	}
	var names []string
	for i, n := range featureNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if rest := f &^ (1<<len(featureNames) - 1); rest != 0 {
		names = append(names, fmt.Sprintf("%#x", uint64(rest)))
	}
	return strings.Join(names, ",")
}

// Generic netlink family "netdev" (include/uapi/linux/netdev.h).
const (
	netdevFamily         = "netdev"
	netdevFamilyVersion  = 1
	netdevCmdDevGet      = 1 // NETDEV_CMD_DEV_GET
	netdevAttrIfindex    = 1 // NETDEV_A_DEV_IFINDEX, u32
	netdevAttrXDPFeature = 3 // NETDEV_A_DEV_XDP_FEATURES, u64
)

// XDPFeatures asks the kernel for the interface's XDP feature flags, over
// the generic netlink family "netdev" (two requests), in the current
// namespace. A kernel without that family (before 6.3) fails with an error
// matching errors.ErrUnsupported; a vanished interface with one matching
// os.ErrNotExist.
func (d *Device) XDPFeatures() (XDPFeatures, error) {
	fam, err := netlink.GenlFamilyGet(netdevFamily)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return 0, errs.Markf(errors.ErrUnsupported, "read XDP features of %s: the kernel has no generic netlink family %q (Linux 6.3+ reports XDP features)", d.Name, netdevFamily)
		}
		return 0, fmt.Errorf("read XDP features of %s: find generic netlink family %q: %w", d.Name, netdevFamily, err)
	}
	req := nl.NewNetlinkRequest(int(fam.ID), 0)
	req.AddData(genlHeader{cmd: netdevCmdDevGet, version: netdevFamilyVersion})
	req.AddData(nl.NewRtAttr(netdevAttrIfindex, nl.Uint32Attr(uint32(d.Index))))
	msgs, err := req.Execute(unix.NETLINK_GENERIC, 0)
	if err != nil {
		if errors.Is(err, unix.ENODEV) {
			return 0, errs.Markf(os.ErrNotExist, "read XDP features of %s: interface index %d is gone: %w", d.Name, d.Index, err)
		}
		return 0, fmt.Errorf("read XDP features of %s: %w", d.Name, err)
	}
	for _, m := range msgs {
		if len(m) < nl.SizeofGenlmsg {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[nl.SizeofGenlmsg:])
		if err != nil {
			return 0, fmt.Errorf("read XDP features of %s: parse reply: %w", d.Name, err)
		}
		for _, a := range attrs {
			if a.Attr.Type == netdevAttrXDPFeature && len(a.Value) >= 8 {
				return XDPFeatures(binary.NativeEndian.Uint64(a.Value)), nil
			}
		}
	}
	return 0, fmt.Errorf("read XDP features of %s: the kernel's reply holds no NETDEV_A_DEV_XDP_FEATURES", d.Name)
}

// genlHeader is a struct genlmsghdr with its reserved bytes zeroed. Not
// nl.Genlmsg: its Serialize reads 4 bytes from a 2-byte struct, so the
// reserved bytes hold whatever memory follows, and the kernel rejects a
// non-zero reserved field with EINVAL for newer families such as "netdev"
// (commands at or past the family's resv_start_op).
type genlHeader struct{ cmd, version uint8 }

func (h genlHeader) Len() int          { return nl.SizeofGenlmsg }
func (h genlHeader) Serialize() []byte { return []byte{h.cmd, h.version, 0, 0} }
