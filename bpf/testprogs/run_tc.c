// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_tc: SCHED_CLS and SCHED_ACT programs for progrun's test runs, each
 * with an effect the tests compute on their own from the input frame:
 *
 *   tc_mark    IPv4 frames: mark = destination address (host order),
 *              priority = TOS, cb[0] = source port, cb[1] = destination
 *              port (TCP or UDP, host order), cb[4] += 1; the TTL goes
 *              down by one with the header checksum fixed by
 *              bpf_l3_csum_replace. UDP to port 9 is TC_ACT_SHOT, the
 *              rest TC_ACT_OK. Not IPv4: TC_ACT_OK, untouched.
 *   act_rewrite  IPv4: destination MAC set to 02:00:00:00:00:01 with
 *              bpf_skb_store_bytes, mark += 1, TC_ACT_PIPE. Not IPv4:
 *              TC_ACT_UNSPEC (-1).
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define DISCARD_PORT 9

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl != 5)
		return TC_ACT_OK;

	__u16 sport = 0, dport = 0;
	__u8 proto = ip->protocol;
	if (proto == IPPROTO_UDP || proto == IPPROTO_TCP) {
		/* Both headers start with the two ports. */
		struct udphdr *l4 = (void *)(ip + 1);
		if ((void *)(l4 + 1) > end)
			return TC_ACT_OK;
		sport = bpf_ntohs(l4->source);
		dport = bpf_ntohs(l4->dest);
	}
	skb->mark = bpf_ntohl(ip->daddr);
	skb->priority = ip->tos;
	skb->cb[0] = sport;
	skb->cb[1] = dport;
	skb->cb[4] += 1;

	/* TTL and protocol share a 16-bit word of the checksum, built here
	 * from the bytes (not read through a __u16 pointer, which lets the
	 * compiler reuse the old word for the new one). */
	__u8 ttl = ip->ttl;
	__be16 old = bpf_htons((__u16)ttl << 8 | proto);
	__be16 new = bpf_htons((__u16)(__u8)(ttl - 1) << 8 | proto);
	ip->ttl = ttl - 1;
	if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, new, sizeof(new)))
		return TC_ACT_SHOT;

	if (proto == IPPROTO_UDP && dport == DISCARD_PORT)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("action")
int act_rewrite(struct __sk_buff *skb)
{
	static const unsigned char mac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x01};
	__be16 proto;
	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)))
		return TC_ACT_SHOT;
	if (proto != bpf_htons(ETH_P_IP))
		return TC_ACT_UNSPEC;
	if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), mac, ETH_ALEN, 0))
		return TC_ACT_SHOT;
	skb->mark += 1;
	return TC_ACT_PIPE;
}

char _license[] SEC("license") = "Dual BSD/GPL";
