package responder

import "encoding/binary"

// ARP for IPv4 over Ethernet (RFC 826).
const (
	arpLen       = 28
	arpHTypeEth  = 1
	arpOpRequest = 1
	arpOpReply   = 2
)

// arp answers an ARP request in f, whose ARP packet starts at l2. It keeps
// the frame's length, Ethernet padding included.
func (r *Responder) arp(f []byte, l2 int) (int, Kind) {
	p := f[l2:]
	if len(p) < arpLen {
		return 0, None
	}
	if binary.BigEndian.Uint16(p[0:]) != arpHTypeEth ||
		binary.BigEndian.Uint16(p[2:]) != etherTypeIPv4 ||
		p[4] != 6 || p[5] != 4 ||
		binary.BigEndian.Uint16(p[6:]) != arpOpRequest {
		return 0, None
	}
	if !r.toMe(f) && [6]byte(f[0:6]) != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
		return 0, None
	}
	sha := [6]byte(p[8:14])
	spa := [4]byte(p[14:18])
	tpa := [4]byte(p[24:28])
	if spa == tpa || !r.hasV4(tpa) {
		// Gratuitous ARP announces, it asks nothing; or not ours.
		return 0, None
	}
	if spa[0]&0xf0 == 0xe0 || spa == [4]byte{255, 255, 255, 255} || sha[0]&1 != 0 {
		// A multicast or broadcast sender cannot be answered.
		return 0, None
	}

	r.setEther(f)
	binary.BigEndian.PutUint16(p[6:], arpOpReply)
	copy(p[8:14], r.mac[:])
	copy(p[14:18], tpa[:])
	copy(p[18:24], sha[:])
	copy(p[24:28], spa[:])
	return len(f), ARPReply
}
