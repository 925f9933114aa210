package responder

import "encoding/binary"

// IPv4 (RFC 791) and ICMPv4 echo (RFC 792).
const (
	ipv4MinHeaderLen = 20
	protoICMPv4      = 1
	icmpv4EchoReq    = 8
	icmpv4EchoReply  = 0
	icmpEchoLen      = 8 // type, code, checksum, identifier, sequence number
	replyHopLimit    = 64
)

// echoV4 answers an ICMPv4 echo request in f, whose IPv4 header starts at
// l2. The reply ends where the request's IPv4 total length ends.
func (r *Responder) echoV4(f []byte, l2 int) (int, Kind) {
	ip := f[l2:]
	if len(ip) < ipv4MinHeaderLen || ip[0]>>4 != 4 || ip[9] != protoICMPv4 {
		return 0, None
	}
	hl := int(ip[0]&0x0f) * 4
	tl := int(binary.BigEndian.Uint16(ip[2:]))
	if hl < ipv4MinHeaderLen || tl < hl+icmpEchoLen || tl > len(ip) {
		return 0, None
	}
	if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
		// A fragment: MF set or a non-zero offset.
		return 0, None
	}
	if !r.toMe(f) {
		return 0, None
	}
	src := [4]byte(ip[12:16])
	dst := [4]byte(ip[16:20])
	if !r.hasV4(dst) {
		return 0, None
	}
	if src == [4]byte{} || src[0]&0xf0 == 0xe0 || src == [4]byte{255, 255, 255, 255} {
		// Unspecified, multicast or broadcast source: no one to answer.
		return 0, None
	}
	hdr := ip[:hl]
	if !valid(sum(0, hdr)) || !optionsWellFormed(hdr[ipv4MinHeaderLen:]) {
		return 0, None
	}
	icmp := ip[hl:tl]
	if icmp[0] != icmpv4EchoReq || icmp[1] != 0 {
		return 0, None
	}
	// rest is the sum of the message but for its type, code and checksum.
	rest := sum(0, icmp[4:])
	if !valid(add(add(rest, uint64(binary.BigEndian.Uint16(icmp[0:]))), uint64(binary.BigEndian.Uint16(icmp[2:])))) {
		return 0, None
	}

	r.setEther(f)
	copy(hdr[12:16], dst[:])
	copy(hdr[16:20], src[:])
	hdr[8] = replyHopLimit
	hdr[10], hdr[11] = 0, 0
	binary.BigEndian.PutUint16(hdr[10:], ^fold(sum(0, hdr)))
	icmp[0] = icmpv4EchoReply
	// Type and code are now zero: the checksum is rest's alone.
	binary.BigEndian.PutUint16(icmp[2:], ^fold(rest))
	return l2 + tl, EchoReplyV4
}

// optionsWellFormed reports whether the IPv4 options in opts are well
// formed (RFC 791 3.1): each option but End of Option List (0) and No
// Operation (1) has a length of at least 2 that stays within opts; after
// End of Option List only padding follows.
func optionsWellFormed(opts []byte) bool {
	for len(opts) > 0 {
		switch opts[0] {
		case 0:
			return true
		case 1:
			opts = opts[1:]
		default:
			if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
				return false
			}
			opts = opts[opts[1]:]
		}
	}
	return true
}
