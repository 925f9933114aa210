// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_flow: a FLOW_DISSECTOR program for progrun's test runs. It parses
 * IPv4 or IPv6, then TCP or UDP, from keys->nhoff into struct
 * bpf_flow_keys, the way the kernel's own dissector fills them: addresses,
 * ports and flow label in network order, fragments marked, ports only for
 * first fragments. Other ethertypes are BPF_DROP.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_MF_ 0x2000
#define IP_OFFSET_ 0x1fff
/* Offsets are bounded so that the verifier can check header + offset
 * against data_end; a test-run packet is at most a page anyway. */
#define MAX_OFF 4096

SEC("flow_dissector")
int flow_parse(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 nhoff = keys->nhoff, thoff;
	__u8 proto;

	if (nhoff > MAX_OFF)
		return BPF_DROP;

	if (keys->n_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + nhoff;
		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return BPF_DROP;
		keys->addr_proto = ETH_P_IP;
		keys->ipv4_src = ip->saddr;
		keys->ipv4_dst = ip->daddr;
		keys->ip_proto = ip->protocol;
		thoff = nhoff + ip->ihl * 4;
		keys->thoff = thoff;
		proto = ip->protocol;
		if (ip->frag_off & bpf_htons(IP_MF_ | IP_OFFSET_)) {
			keys->is_frag = 1;
			if (ip->frag_off & bpf_htons(IP_OFFSET_))
				return BPF_OK; /* no ports in later fragments */
			keys->is_first_frag = 1;
			if (!(keys->flags & BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG))
				return BPF_OK;
		}
	} else if (keys->n_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + nhoff;
		if ((void *)(ip6 + 1) > end)
			return BPF_DROP;
		keys->addr_proto = ETH_P_IPV6;
		__builtin_memcpy(keys->ipv6_src, &ip6->saddr, sizeof(ip6->saddr));
		__builtin_memcpy(keys->ipv6_dst, &ip6->daddr, sizeof(ip6->daddr));
		keys->flow_label = *(__be32 *)ip6 & bpf_htonl(0x000fffff);
		keys->ip_proto = ip6->nexthdr;
		thoff = nhoff + sizeof(*ip6);
		keys->thoff = thoff;
		proto = ip6->nexthdr;
	} else {
		return BPF_DROP;
	}

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return BPF_OK;
	/* Both headers start with the two ports. */
	if (thoff > MAX_OFF)
		return BPF_DROP;
	struct udphdr *l4 = data + thoff;
	if ((void *)(l4 + 1) > end)
		return BPF_DROP;
	keys->sport = l4->source;
	keys->dport = l4->dest;
	return BPF_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
