package trafficgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Flags of the program's cfg_flags (bpf/xdp_gen.c).
const (
	flagLimit  = 1 << 0
	flagPace   = 1 << 1
	flagDPort  = 1 << 2
	flagSPort  = 1 << 3
	flagSAddr  = 1 << 4
	flagFrames = 1 << 5
	flagIPv6   = 1 << 6
	flagL4Csum = 1 << 7
	flagUDP    = 1 << 8
	flagHdr    = 1 << 9
)

// maxHeaderWrite is the most bytes of headers the program writes anew for
// every frame (GEN_MAX_HDR).
const maxHeaderWrite = 128

// XDP verdicts (include/uapi/linux/bpf.h).
const (
	xdpPass     = 2
	xdpTX       = 3
	xdpRedirect = 4
)

// genConfig is the program's read-only configuration.
type genConfig struct {
	flags                   uint32
	action, redirectIfindex uint32
	threads, burst, nframes uint32
	ipCsumOff, saddrOff     uint32
	sportOff, l4CsumOff     uint32
	dportBase, dportCount   uint32
	sportBase, sportCount   uint32
	saddrBase, saddrCount   uint32
	ipCsum, l4Csum          uint16
	frameMapEntries         uint32
	hdr                     [maxHeaderWrite]byte
	hdrLen                  uint32
}

// configure derives the program's configuration from a validated spec.
// redirectIfindex is the ifindex of spec.RedirectTo, if any; rewrite says
// whether to write a single template's headers anew for every frame.
func configure(spec *Spec, redirectIfindex int, rewrite bool) (genConfig, error) {
	c := genConfig{
		threads:         uint32(spec.threads()),
		burst:           uint32(spec.batch()),
		nframes:         uint32(len(spec.Frames)),
		dportCount:      1,
		sportCount:      1,
		saddrCount:      1,
		frameMapEntries: 1,
		redirectIfindex: uint32(redirectIfindex),
	}
	switch spec.Action {
	case TX:
		c.action = xdpTX
	case Pass:
		c.action = xdpPass
	case Redirect:
		c.action = xdpRedirect
	}
	if spec.PPS != 0 {
		c.flags |= flagPace
		if spec.Count != 0 {
			c.flags |= flagLimit
		}
	}
	if len(spec.Frames) > 1 {
		c.flags |= flagFrames
		c.frameMapEntries = uint32(len(spec.Frames))
		return c, nil
	}

	frame := spec.Frames[0]
	f, err := FieldsOf(frame)
	if err != nil {
		return c, err
	}
	if rewrite {
		// A receiver's stack may have edited the page the frame comes
		// back in (see Rewrite).
		c.flags |= flagHdr
		c.hdrLen = uint32(min(roundUp8(headerEnd(frame, f)), len(frame)&^7, maxHeaderWrite))
		copy(c.hdr[:], frame[:c.hdrLen])
	}
	if !spec.Flows.varies() {
		return c, nil
	}
	if (spec.Flows.DstPorts > 1 || spec.Flows.SrcPorts > 1) && !f.HasPorts() {
		return c, invalidf("varying ports needs a UDP or TCP frame")
	}
	if spec.Flows.SrcAddrs > 1 && !f.HasAddr() {
		return c, invalidf("varying the source address needs an IPv4 or IPv6 frame")
	}
	if f.IPv6 {
		c.flags |= flagIPv6
	}
	if f.HasPorts() {
		c.sportOff = uint32(f.SrcPort)
		c.sportBase = uint32(binary.BigEndian.Uint16(frame[f.SrcPort:]))
		c.dportBase = uint32(binary.BigEndian.Uint16(frame[f.SrcPort+2:]))
	}
	if n := spec.Flows.DstPorts; n > 1 {
		if uint64(c.dportBase)+uint64(n)-1 > 0xffff {
			return c, invalidf("%d destination ports from %d go past 65535: start lower or use fewer", n, c.dportBase)
		}
		c.flags |= flagDPort
		c.dportCount = n
	}
	if n := spec.Flows.SrcPorts; n > 1 {
		if uint64(c.sportBase)+uint64(n)-1 > 0xffff {
			return c, invalidf("%d source ports from %d go past 65535: start lower or use fewer", n, c.sportBase)
		}
		c.flags |= flagSPort
		c.sportCount = n
	}
	if n := spec.Flows.SrcAddrs; n > 1 {
		c.saddrOff = uint32(f.SrcAddr)
		c.saddrBase = binary.BigEndian.Uint32(frame[f.SrcAddr:])
		if uint64(c.saddrBase)+uint64(n)-1 > 0xffffffff {
			return c, invalidf("%d source addresses from the template's go past the end of the address space: start lower or use fewer", n)
		}
		c.flags |= flagSAddr
		c.saddrCount = n
		if !f.IPv6 {
			c.ipCsumOff = uint32(f.IPChecksum)
			c.ipCsum = binary.NativeEndian.Uint16(frame[f.IPChecksum:])
		}
	}
	if f.L4Checksum >= 0 {
		c.flags |= flagL4Csum
		c.l4CsumOff = uint32(f.L4Checksum)
		c.l4Csum = binary.NativeEndian.Uint16(frame[f.L4Checksum:])
		if f.Proto == unix.IPPROTO_UDP {
			c.flags |= flagUDP
		}
	}
	return c, nil
}

// headerEnd returns the length of frame's headers: up to the end of the
// transport header, else of the IP header, else of the Ethernet header and
// its VLAN tags.
func headerEnd(frame []byte, f Fields) int {
	switch {
	case f.L4 >= 0 && f.Proto == unix.IPPROTO_TCP && f.L4+13 <= len(frame):
		return f.L4 + int(frame[f.L4+12]>>4)*4
	case f.L4 >= 0:
		return f.L4 + 8
	case f.L3 >= 0 && f.IPv6:
		return f.L3 + 40
	case f.L3 >= 0:
		return f.L3 + int(frame[f.L3]&0x0f)*4
	}
	return EthernetHeaderLen + 4*vlanTags(frame)
}

func roundUp8(n int) int { return (n + 7) &^ 7 }

// loadProgram loads the generator's program configured by c.
func loadProgram(c genConfig) (*xdpGenObjects, error) {
	spec, err := loadXdpGen()
	if err != nil {
		return nil, fmt.Errorf("trafficgen: parse the generator's program: %w", err)
	}
	vars := []struct {
		v   *ebpf.VariableSpec
		val any
	}{
		{spec.Variables["cfg_flags"], c.flags},
		{spec.Variables["cfg_action"], c.action},
		{spec.Variables["cfg_redirect_ifindex"], c.redirectIfindex},
		{spec.Variables["cfg_threads"], c.threads},
		{spec.Variables["cfg_burst"], c.burst},
		{spec.Variables["cfg_nframes"], c.nframes},
		{spec.Variables["cfg_ip_csum_off"], c.ipCsumOff},
		{spec.Variables["cfg_saddr_off"], c.saddrOff},
		{spec.Variables["cfg_sport_off"], c.sportOff},
		{spec.Variables["cfg_l4_csum_off"], c.l4CsumOff},
		{spec.Variables["cfg_dport_base"], c.dportBase},
		{spec.Variables["cfg_dport_count"], c.dportCount},
		{spec.Variables["cfg_sport_base"], c.sportBase},
		{spec.Variables["cfg_sport_count"], c.sportCount},
		{spec.Variables["cfg_saddr_base"], c.saddrBase},
		{spec.Variables["cfg_saddr_count"], c.saddrCount},
		{spec.Variables["cfg_ip_csum"], c.ipCsum},
		{spec.Variables["cfg_l4_csum"], c.l4Csum},
		{spec.Variables["cfg_hdr"], c.hdr},
		{spec.Variables["cfg_hdr_len"], c.hdrLen},
	}
	for _, v := range vars {
		if v.v == nil {
			return nil, errors.New("trafficgen: the generator's program lacks a configuration variable (stale object?)")
		}
		if err := v.v.Set(v.val); err != nil {
			return nil, fmt.Errorf("trafficgen: set %s: %w", v.v.Name, err)
		}
	}
	spec.Maps["gen_frames"].MaxEntries = c.frameMapEntries

	var objs xdpGenObjects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, os.ErrPermission) {
			return nil, errs.Markf(os.ErrPermission, "trafficgen: load the generator's XDP program: %w (needs CAP_BPF and CAP_NET_ADMIN: run as root)", err)
		}
		return nil, fmt.Errorf("trafficgen: load the generator's XDP program: %w", err)
	}
	return &objs, nil
}

// fillFrames puts the frames of a pcap-mode run into the program's frame
// map.
func fillFrames(m *ebpf.Map, frames [][]byte) error {
	var v xdpGenGenFrame
	for i, f := range frames {
		v.Len = uint32(len(f))
		clear(v.Data[:])
		copy(v.Data[:], f)
		if err := m.Update(uint32(i), &v, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("trafficgen: store frame %d: %w", i+1, err)
		}
	}
	return nil
}
