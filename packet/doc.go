// Package packet makes, reads, writes, describes and compares the Ethernet
// frames that xdpkit runs BPF programs on: frames built from a short SPEC
// or given as hex, pcap and pcapng files, a one-line description of a
// frame, and a layer-by-layer diff of two frames.
//
// # SPEC
//
// A SPEC names the layers of a frame, outermost first, separated by '/'.
// Each layer is a name, or a name with fields: name(key=value,key=value).
// Names and keys are case-insensitive and whitespace around them is
// ignored. A value holding any of / ( ) , = " may be written as a Go
// string literal: text="a, b". Every field is optional; defaults are in
// brackets. Numbers are decimal or 0x hex.
//
//	eth(src=[02:00:00:00:00:01], dst=[02:00:00:00:00:02], type=)
//	vlan(id=[1], prio=[0], type=)                 802.1Q tag
//	arp(op=[request]|reply|N, sha=[eth src], spa=[10.0.0.1], tha=[00:00:00:00:00:00], tpa=[10.0.0.2])
//	ipv4(src=[10.0.0.1], dst=[10.0.0.2], ttl=[64], tos=[0], id=[0], df=[false]|true, proto=)
//	ipv6(src=[fc00::1], dst=[fc00::2], hlim=[64], tc=[0], flow=[0], nh=)
//	udp(sport=[1234], dport=[5678])
//	tcp(sport=[1234], dport=[80], flags=[S], seq=[0], ack=[0], win=[65535])
//	icmp(type=[echo-request]|echo-reply|dest-unreachable|...|N, code=[0], id=[0], seq=[0])
//	icmp6(type=[echo-request]|echo-reply|neighbor-solicitation|...|N, code=[0], id=[0], seq=[0])
//	payload(N) payload(hex=deadbeef) payload(text=hello)
//
// The frame starts with eth. vlan follows eth or vlan; arp, ipv4 and ipv6
// follow eth or vlan (ipv4 and ipv6 also follow an IP layer, as a tunnel);
// udp and tcp follow ipv4 or ipv6; icmp follows ipv4 and icmp6 ipv6;
// payload may follow any layer and is always last.
//
// An EtherType (eth and vlan type) left out comes from the next layer:
// 0x8100 vlan, 0x0806 arp, 0x0800 ipv4, 0x86dd ipv6, and 0x88b5 (local
// experimental) for a payload or nothing. An IP protocol (ipv4 proto, ipv6
// nh) comes from the next layer the same way: 17 udp, 6 tcp, 1 icmp, 58
// icmp6, 4 ipv4, 41 ipv6, and for a payload or nothing 253
// (experimentation) in ipv4 and 59 (no next header) in ipv6. Both may also
// be given by name: type=ipv6, proto=udp.
//
// tcp flags are letters from FSRPAUEC (FIN SYN RST PSH ACK URG ECE CWR),
// e.g. SA, or none. arp sha defaults to the eth src. icmp6 writes id and
// seq into the 4 bytes after its checksum whatever its type. payload(N) is
// N bytes where byte i is i&0xff; hex and text give the bytes themselves.
//
// Build computes the IPv4 header checksum, the UDP, TCP, ICMP and ICMPv6
// checksums (with the IP pseudo-header) and every length. It does not pad
// frames to the 60-byte Ethernet minimum, and refuses frames over 65535
// bytes. Examples:
//
//	eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(64)
//	eth/ipv6/icmp6(type=echo-request,id=7,seq=1)/payload(56)
//	eth/arp(op=request,tpa=10.11.1.2)
//	eth/vlan(id=100)/ipv4/tcp(dport=443,flags=S)
//
// Errors for bad input — SPEC, hex, capture files — match os.ErrInvalid
// with errors.Is, and name the problem and the fix.
package packet
