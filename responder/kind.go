package responder

import "strconv"

// Kind is the kind of reply Answer made.
type Kind uint8

// The kinds of reply.
const (
	// None means the frame was not a request the responder answers.
	None Kind = iota
	// ARPReply answers an ARP request for one of the IPv4 addresses.
	ARPReply
	// NeighborAdvertisement answers an IPv6 neighbour solicitation for
	// one of the IPv6 addresses.
	NeighborAdvertisement
	// EchoReplyV4 answers an ICMPv4 echo request.
	EchoReplyV4
	// EchoReplyV6 answers an ICMPv6 echo request.
	EchoReplyV6
)

// numKinds is the number of kinds, None included.
const numKinds = EchoReplyV6 + 1

// Counts has one counter per kind: these fail to compile if it does not.
var (
	_ [len(Counts{}) - int(numKinds)]struct{}
	_ [int(numKinds) - len(Counts{})]struct{}
)

var kindNames = [numKinds]string{
	None:                  "none",
	ARPReply:              "arp-reply",
	NeighborAdvertisement: "neighbor-advertisement",
	EchoReplyV4:           "echo-reply-v4",
	EchoReplyV6:           "echo-reply-v6",
}

// String returns the kind's name: "none", "arp-reply",
// "neighbor-advertisement", "echo-reply-v4" or "echo-reply-v6"; "kind(N)"
// for any other value.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Counts counts Answer's results by kind: Counts[None] the frames not
// answered, Counts[ARPReply] the ARP replies, and so on. It is a plain
// array: give each goroutine its own, or guard it.
type Counts [5]uint64

// Add counts one result of kind k; it ignores kinds out of range.
func (c *Counts) Add(k Kind) {
	if int(k) < len(c) {
		c[k]++
	}
}

// Total returns the number of results counted, answered or not.
func (c *Counts) Total() uint64 {
	var t uint64
	for _, v := range c {
		t += v
	}
	return t
}
