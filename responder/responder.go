// Package responder answers ARP requests, IPv6 neighbour solicitations and
// ICMPv4/ICMPv6 echo requests by rewriting the frame into its reply in
// place, in the buffer it arrived in, ready to be transmitted from the same
// AF_XDP UMEM chunk.
//
// The package does the frame logic only: it opens no socket. A receive loop
// hands each frame to [Responder.Answer] and, when it returns a kind other
// than [None], transmits the first n bytes of the same buffer:
//
//	n, kind := r.Answer(chunk, rxLen)
//	if kind != responder.None {
//		// put chunk[:n] on the TX ring
//	}
//
// Answer validates a request completely (lengths, checksums, addresses)
// before it writes a single byte, allocates nothing and is safe to call
// from several goroutines at once.
package responder

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Ethernet framing.
const (
	ethHeaderLen  = 14
	vlanHeaderLen = 18

	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	etherTypeVLAN = 0x8100
	etherTypeIPv6 = 0x86dd
)

// Config is what a Responder answers for.
type Config struct {
	// MAC is the responder's own MAC address: 6 bytes, unicast and not
	// all zero. Replies carry it as their source MAC.
	MAC net.HardwareAddr
	// Addrs are the addresses the responder owns, IPv4 and/or IPv6. Each
	// must be unicast and specified; IPv4-mapped IPv6 addresses must be
	// given unmapped (10.0.0.1, not ::ffff:10.0.0.1). An IPv6 zone is
	// ignored. Duplicates are allowed and kept once.
	Addrs []netip.Addr
}

// Validate reports whether c can make a Responder. Its errors match
// os.ErrInvalid with errors.Is.
func (c Config) Validate() error {
	if len(c.MAC) != 6 {
		return errs.Markf(os.ErrInvalid, "responder config: MAC %q is %d bytes, want 6", c.MAC.String(), len(c.MAC))
	}
	if c.MAC[0]&1 != 0 {
		return errs.Markf(os.ErrInvalid, "responder config: MAC %s is a multicast or broadcast address", c.MAC)
	}
	if [6]byte(c.MAC) == ([6]byte{}) {
		return errs.Markf(os.ErrInvalid, "responder config: MAC %s is all zero", c.MAC)
	}
	if len(c.Addrs) == 0 {
		return errs.Markf(os.ErrInvalid, "responder config: no addresses")
	}
	for i, a := range c.Addrs {
		if err := validAddr(a); err != nil {
			return errs.Markf(os.ErrInvalid, "responder config: address %d: %w", i, err)
		}
	}
	return nil
}

// validAddr reports why a cannot be one of the responder's addresses.
func validAddr(a netip.Addr) error {
	switch {
	case !a.IsValid():
		return errs.Markf(os.ErrInvalid, "the zero netip.Addr is not an address")
	case a.Is4In6():
		return errs.Markf(os.ErrInvalid, "%s is an IPv4-mapped IPv6 address: give it unmapped as %s", a, a.Unmap())
	case a.IsUnspecified():
		return errs.Markf(os.ErrInvalid, "%s is the unspecified address", a)
	case a.IsMulticast():
		return errs.Markf(os.ErrInvalid, "%s is a multicast address", a)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return errs.Markf(os.ErrInvalid, "%s is the limited broadcast address", a)
	}
	return nil
}

// Responder turns requests into replies. It is immutable after New and
// safe for concurrent use by several goroutines.
type Responder struct {
	mac [6]byte
	v4  [][4]byte
	v6  [][16]byte
}

// New returns a Responder for cfg, or cfg.Validate's error.
func New(cfg Config) (*Responder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Responder{mac: [6]byte(cfg.MAC)}
	for _, a := range cfg.Addrs {
		if a.Is4() {
			if !r.hasV4(a.As4()) {
				r.v4 = append(r.v4, a.As4())
			}
		} else if !r.hasV6(a.As16()) {
			r.v6 = append(r.v6, a.As16())
		}
	}
	return r, nil
}

// hasV4 reports whether a is one of the responder's IPv4 addresses.
func (r *Responder) hasV4(a [4]byte) bool {
	for _, o := range r.v4 {
		if o == a {
			return true
		}
	}
	return false
}

// hasV6 reports whether a is one of the responder's IPv6 addresses.
func (r *Responder) hasV6(a [16]byte) bool {
	for _, o := range r.v6 {
		if o == a {
			return true
		}
	}
	return false
}

// Answer turns the frame in buf[:n] into its reply, in place, and returns
// the reply's length and kind; (0, None) when the frame is not a request it
// answers, and then buf is untouched: check the kind before transmitting.
//
// buf may be longer than n (the rest of a UMEM chunk): a reply longer than
// the request (a neighbour advertisement that adds a target link-layer
// address option) may use it; if it does not fit, Answer returns (0, None).
// An echo reply drops the request's Ethernet padding, so it can be shorter
// than n. Answer allocates nothing and never reads or writes outside buf.
func (r *Responder) Answer(buf []byte, n int) (int, Kind) {
	if r == nil || n < ethHeaderLen || n > len(buf) {
		return 0, None
	}
	f := buf[:n]
	if f[6]&1 != 0 {
		// A multicast or broadcast source cannot be answered.
		return 0, None
	}
	l2 := ethHeaderLen
	et := binary.BigEndian.Uint16(f[12:])
	if et == etherTypeVLAN {
		if n < vlanHeaderLen {
			return 0, None
		}
		l2 = vlanHeaderLen
		et = binary.BigEndian.Uint16(f[16:])
	}
	switch et {
	case etherTypeARP:
		return r.arp(f, l2)
	case etherTypeIPv4:
		return r.echoV4(f, l2)
	case etherTypeIPv6:
		return r.ipv6(buf, n, l2)
	}
	return 0, None
}

// toMe reports whether the frame f is addressed to the responder's MAC.
func (r *Responder) toMe(f []byte) bool {
	return [6]byte(f[0:6]) == r.mac
}

// setEther rewrites f's Ethernet addresses for the reply: the request's
// source becomes the destination, the responder's MAC the source.
func (r *Responder) setEther(f []byte) {
	copy(f[0:6], f[6:12])
	copy(f[6:12], r.mac[:])
}
