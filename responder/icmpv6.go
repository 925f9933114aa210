package responder

import "encoding/binary"

// IPv6 (RFC 8200) and ICMPv6 (RFC 4443).
const (
	ipv6HeaderLen   = 40
	protoICMPv6     = 58
	icmpv6EchoReq   = 128
	icmpv6EchoReply = 129
)

// ipv6 answers an ICMPv6 echo request or neighbour solicitation in
// buf[:n], whose IPv6 header starts at l2. The ICMPv6 message must follow
// the IPv6 header directly: no extension headers.
func (r *Responder) ipv6(buf []byte, n, l2 int) (int, Kind) {
	ip := buf[l2:n]
	if len(ip) < ipv6HeaderLen || ip[0]>>4 != 6 || ip[6] != protoICMPv6 {
		return 0, None
	}
	plen := int(binary.BigEndian.Uint16(ip[4:]))
	if plen < 4 || plen > len(ip)-ipv6HeaderLen {
		return 0, None
	}
	if ip[8] == 0xff {
		// A multicast source cannot be answered.
		return 0, None
	}
	msg := ip[ipv6HeaderLen : ipv6HeaderLen+plen]
	switch msg[0] {
	case icmpv6EchoReq:
		return r.echoV6(buf[:n], l2, plen)
	case icmpv6NeighSol:
		return r.solicitation(buf, n, l2, plen)
	}
	return 0, None
}

// pseudoSum returns the sum of the IPv6 pseudo-header (RFC 8200 8.1) of
// an ICMPv6 message of length plen sent between the addresses in addrs,
// the 32 bytes source then destination of an IPv6 header.
func pseudoSum(addrs []byte, plen int) uint64 {
	return add(sum(0, addrs[:32]), uint64(plen)+protoICMPv6)
}

// echoV6 answers the ICMPv6 echo request in f, whose IPv6 header starts at
// l2 and carries plen bytes. The reply ends where the request's payload
// ends.
func (r *Responder) echoV6(f []byte, l2, plen int) (int, Kind) {
	ip := f[l2:]
	msg := ip[ipv6HeaderLen : ipv6HeaderLen+plen]
	if plen < icmpEchoLen || msg[1] != 0 || !r.toMe(f) {
		return 0, None
	}
	src := [16]byte(ip[8:24])
	dst := [16]byte(ip[24:40])
	if src == [16]byte{} || !r.hasV6(dst) {
		return 0, None
	}
	// rest is the sum of the pseudo-header and of the message but for its
	// type, code and checksum; swapping the addresses does not change it.
	rest := sum(pseudoSum(ip[8:40], plen), msg[4:])
	if !valid(add(add(rest, uint64(binary.BigEndian.Uint16(msg[0:]))), uint64(binary.BigEndian.Uint16(msg[2:])))) {
		return 0, None
	}

	r.setEther(f)
	copy(ip[8:24], dst[:])
	copy(ip[24:40], src[:])
	ip[7] = replyHopLimit
	msg[0] = icmpv6EchoReply
	binary.BigEndian.PutUint16(msg[2:], ^fold(add(rest, icmpv6EchoReply<<8)))
	return l2 + ipv6HeaderLen + plen, EchoReplyV6
}
