package responder

import "encoding/binary"

// Neighbor Discovery (RFC 4861).
const (
	icmpv6NeighSol = 135
	icmpv6NeighAdv = 136

	ndpHopLimit  = 255
	nsMinLen     = 24 // type, code, checksum, reserved, target address
	naLen        = 32 // type, code, checksum, flags, target address, TLLAO
	optSourceLL  = 1
	optTargetLL  = 2
	naFlagSolic  = 0x40
	naFlagOverr  = 0x20
	allNodesLast = 0x01
)

// solicitedPrefix is the first 13 bytes of a solicited-node multicast
// address, ff02::1:ff00:0/104.
var solicitedPrefix = [13]byte{0xff, 0x02, 11: 0x01, 12: 0xff}

// allNodes is ff02::1, where a neighbour advertisement answering duplicate
// address detection goes.
var allNodes = [16]byte{0xff, 0x02, 15: allNodesLast}

// allNodesMAC is the Ethernet multicast address of ff02::1.
var allNodesMAC = [6]byte{0x33, 0x33, 5: allNodesLast}

// solicitation answers the neighbour solicitation in buf[:n], whose IPv6
// header starts at l2 and carries plen bytes, with a neighbour
// advertisement written over it. The advertisement may be longer than the
// solicitation and use buf beyond n.
func (r *Responder) solicitation(buf []byte, n, l2, plen int) (int, Kind) {
	f := buf[:n]
	ip := f[l2:]
	msg := ip[ipv6HeaderLen : ipv6HeaderLen+plen]
	if plen < nsMinLen || msg[1] != 0 || ip[7] != ndpHopLimit {
		return 0, None
	}
	target := [16]byte(msg[8:24])
	if target[0] == 0xff || !r.hasV6(target) {
		return 0, None
	}
	src := [16]byte(ip[8:24])
	dst := [16]byte(ip[24:40])
	dad := src == [16]byte{}
	if !r.acceptsNSDest(f, dst, dad) {
		return 0, None
	}
	sllao := false
	for opts := msg[nsMinLen:]; len(opts) > 0; {
		if len(opts) < 2 || opts[1] == 0 || int(opts[1])*8 > len(opts) {
			return 0, None
		}
		if opts[0] == optSourceLL {
			sllao = true
		}
		opts = opts[int(opts[1])*8:]
	}
	if dad && sllao {
		// RFC 4861 7.1.1: no source link-layer address from ::.
		return 0, None
	}
	if !valid(sum(pseudoSum(ip[8:40], plen), msg)) {
		return 0, None
	}
	end := l2 + ipv6HeaderLen + naLen
	if end > len(buf) {
		return 0, None
	}

	// Everything is checked: write the advertisement. buf[:end] may
	// reach past f.
	a := buf[:end]
	ip = a[l2:]
	msg = ip[ipv6HeaderLen:]
	r.setEther(a)
	to, flags := src, byte(naFlagSolic|naFlagOverr)
	if dad {
		copy(a[0:6], allNodesMAC[:])
		to, flags = allNodes, naFlagOverr
	}
	binary.BigEndian.PutUint32(ip[0:], 6<<28)
	binary.BigEndian.PutUint16(ip[4:], naLen)
	ip[6] = protoICMPv6
	ip[7] = ndpHopLimit
	copy(ip[8:24], target[:])
	copy(ip[24:40], to[:])
	msg[0] = icmpv6NeighAdv
	msg[1] = 0
	msg[2], msg[3] = 0, 0
	msg[4], msg[5], msg[6], msg[7] = flags, 0, 0, 0
	// msg[8:24] holds the target already: it is where the solicitation
	// had it.
	msg[24] = optTargetLL
	msg[25] = 1
	copy(msg[26:32], r.mac[:])
	binary.BigEndian.PutUint16(msg[2:], ^fold(sum(pseudoSum(ip[8:40], naLen), msg[:naLen])))
	return end, NeighborAdvertisement
}

// acceptsNSDest reports whether a neighbour solicitation sent to the IPv6
// address dst in the frame f is for the responder: to one of its addresses
// at its MAC, or to the solicited-node multicast address of one of them at
// that group's MAC (33:33 and the address's last four bytes) or at its own.
// From the unspecified address (dad) only the solicited-node multicast
// address is allowed (RFC 4861 7.1.1).
func (r *Responder) acceptsNSDest(f []byte, dst [16]byte, dad bool) bool {
	if dst[0] != 0xff {
		return !dad && r.toMe(f) && r.hasV6(dst)
	}
	if [13]byte(dst[:13]) != solicitedPrefix {
		return false
	}
	if !r.toMe(f) && (f[0] != 0x33 || f[1] != 0x33 || [4]byte(f[2:6]) != [4]byte(dst[12:16])) {
		return false
	}
	for _, a := range r.v6 {
		if [3]byte(a[13:16]) == [3]byte(dst[13:16]) {
			return true
		}
	}
	return false
}
