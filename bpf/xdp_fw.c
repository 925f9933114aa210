// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdp_fw: a small example XDP firewall and ping responder, for the
 * README's demo (`xdpkit run xdp_fw_bpfel.o --pcap ...` prints a summary
 * by verdict) and as the example of table tests with xdptest.
 *
 *   ICMPv4 echo request   rewritten in place into the echo reply (MACs and
 *                         addresses swapped, type 0, ICMP checksum updated
 *                         incrementally, TTL kept): XDP_TX.
 *   ICMPv6 echo request   the same with type 129 and the ICMPv6 checksum:
 *                         XDP_TX.
 *   TCP to port 23        (telnet), IPv4 or IPv6: XDP_DROP.
 *   UDP to port 9         (discard), IPv4 or IPv6: XDP_DROP.
 *   anything else         XDP_PASS, untouched: other traffic, and whatever
 *                         the program does not understand or cannot
 *                         answer in place (ARP, other EtherTypes, IPv6
 *                         extension headers, IP fragments, frames shorter
 *                         than their headers say, echo requests sent to a
 *                         broadcast or multicast address).
 *
 * Every verdict is counted in the per-CPU array xdp_fw_verdicts, indexed
 * by the XDP action (XDP_ABORTED 0 .. XDP_REDIRECT 4).
 *
 * Swapping the addresses changes neither the IPv4 header checksum nor the
 * pseudo-header sum in the ICMPv6 checksum (a one's complement sum does
 * not depend on the order of its terms), so the only checksum to fix is
 * the ICMP one, for the type byte (RFC 1624, eqn. 3). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* linux/icmp.h includes linux/if.h, which needs the libc's sys/socket.h:
 * the ICMPv4 echo header is declared here instead. */
struct icmp_echo_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

#define ICMP_ECHOREPLY_ 0
#define ICMP_ECHO_ 8
#define TELNET_PORT 23
#define DISCARD_PORT 9
#define IP_MF_ 0x2000
#define IP_OFFSET_ 0x1fff

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} xdp_fw_verdicts SEC(".maps");

static __always_inline int verdict(int action)
{
	__u32 key = action;
	__u64 *n = bpf_map_lookup_elem(&xdp_fw_verdicts, &key);

	if (n)
		*n += 1; /* per CPU: no other writer */
	return action;
}

/* csum_replace2 updates the 16-bit one's complement checksum *sum for a
 * 16-bit word of the data changed from old to new, all three as they lie
 * in the packet (the arithmetic does not depend on byte order):
 * HC' = ~(~HC + ~m + m'). */
static __always_inline void csum_replace2(__u16 *sum, __u16 old, __u16 new)
{
	__u32 s = (__u16)~*sum;

	s += (__u16)~old;
	s += new;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = (__u16)~s;
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	unsigned char tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* l4_verdict decides on TCP and UDP by destination port; l4 points past
 * the IP header and l4_len is the length the IP header gives the
 * payload. */
static __always_inline int l4_verdict(__u8 proto, void *l4, __u32 l4_len, void *end)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > end || l4_len < sizeof(*tcp))
			return XDP_PASS;
		if (tcp->dest == bpf_htons(TELNET_PORT))
			return XDP_DROP;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > end || l4_len < sizeof(*udp))
			return XDP_PASS;
		if (udp->dest == bpf_htons(DISCARD_PORT))
			return XDP_DROP;
	}
	return XDP_PASS;
}

static __always_inline int handle_ipv4(struct ethhdr *eth, void *end)
{
	struct iphdr *ip = (void *)(eth + 1);
	__u32 hlen, tot_len;
	void *l4;

	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
		return XDP_PASS;
	hlen = ip->ihl * 4;
	tot_len = bpf_ntohs(ip->tot_len);
	/* A frame may be longer than its IP packet (Ethernet padding), not
	 * shorter. */
	if (tot_len < hlen || (void *)ip + tot_len > end)
		return XDP_PASS;
	/* Only the first fragment holds the L4 header. */
	if (ip->frag_off & bpf_htons(IP_OFFSET_))
		return XDP_PASS;
	l4 = (void *)ip + hlen;

	if (ip->protocol == IPPROTO_ICMP) {
		struct icmp_echo_hdr *icmp = l4;
		__u16 old, new;
		__be32 addr;

		if ((void *)(icmp + 1) > end || tot_len - hlen < sizeof(*icmp))
			return XDP_PASS;
		if (icmp->type != ICMP_ECHO_)
			return XDP_PASS;
		/* A fragmented request cannot be answered in place, nor one to
		 * a broadcast or multicast address (the reply would come from
		 * it): leave those to the kernel. */
		if (ip->frag_off & bpf_htons(IP_MF_))
			return XDP_PASS;
		if ((eth->h_dest[0] & 1) || (ip->daddr & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000) ||
		    ip->daddr == bpf_htonl(0xffffffff))
			return XDP_PASS;

		swap_macs(eth);
		addr = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = addr;
		__builtin_memcpy(&old, icmp, sizeof(old)); /* type and code */
		icmp->type = ICMP_ECHOREPLY_;
		__builtin_memcpy(&new, icmp, sizeof(new));
		csum_replace2(&icmp->checksum, old, new);
		/* Eqn. 3 gives +0 (0x0000) whenever the new sum is zero, which
		 * is right unless the reply is all zeros (id 0, seq 0, a zero
		 * payload: possible in ICMP, unlike in the IP header RFC 1624
		 * has in mind), where only 0xffff verifies. Both verify when
		 * the data is not all zeros, so write 0xffff for id 0, seq 0,
		 * without reading the payload. */
		if (icmp->checksum == 0 && icmp->id == 0 && icmp->sequence == 0)
			icmp->checksum = 0xffff;
		return XDP_TX;
	}
	return l4_verdict(ip->protocol, l4, tot_len - hlen, end);
}

static __always_inline int handle_ipv6(struct ethhdr *eth, void *end)
{
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	__u32 plen;
	void *l4;

	if ((void *)(ip6 + 1) > end || ip6->version != 6)
		return XDP_PASS;
	plen = bpf_ntohs(ip6->payload_len);
	l4 = ip6 + 1;
	if (l4 + plen > end)
		return XDP_PASS;

	if (ip6->nexthdr == IPPROTO_ICMPV6) {
		struct icmp6hdr *icmp6 = l4;
		struct in6_addr addr;
		__u16 old, new;

		if ((void *)(icmp6 + 1) > end || plen < sizeof(*icmp6))
			return XDP_PASS;
		if (icmp6->icmp6_type != ICMPV6_ECHO_REQUEST)
			return XDP_PASS;
		if ((eth->h_dest[0] & 1) || ip6->daddr.in6_u.u6_addr8[0] == 0xff)
			return XDP_PASS;

		swap_macs(eth);
		addr = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = addr;
		__builtin_memcpy(&old, icmp6, sizeof(old)); /* type and code */
		icmp6->icmp6_type = ICMPV6_ECHO_REPLY;
		__builtin_memcpy(&new, icmp6, sizeof(new));
		csum_replace2(&icmp6->icmp6_cksum, old, new);
		return XDP_TX;
	}
	return l4_verdict(ip6->nexthdr, l4, plen, end);
}

SEC("xdp")
int xdp_fw(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return verdict(XDP_PASS);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return verdict(handle_ipv4(eth, end));
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return verdict(handle_ipv6(eth, end));
	return verdict(XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
