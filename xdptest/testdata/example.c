// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* example: the XDP program xdptest's own tests (and its package
 * documentation) run.
 *
 *   - 4 bytes of metadata (data_meta) equal to 1: XDP_DROP (a tag left by an
 *     earlier program); other metadata is overwritten with 0x2 ("seen");
 *   - not IPv4, or too short: XDP_PASS, unchanged;
 *   - TCP: XDP_DROP;
 *   - UDP to port 7 (echo): MAC addresses, IP addresses and UDP ports
 *     swapped, XDP_TX (no checksum changes: swaps keep the sums);
 *   - UDP to port 53: TTL decremented with an incremental checksum update,
 *     XDP_PASS;
 *   - any other IPv4: XDP_PASS, unchanged.
 *
 * Every run counts its verdict in the array map "verdicts" (index = XDP
 * action). xdp_drop_all drops every frame, so that the object has more
 * than one program; tc_mark, a SCHED_CLS program, drops (TC_ACT_SHOT)
 * packets marked 7 and marks the others 42 (TC_ACT_OK). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int count(int action)
{
	__u32 key = action;
	__u64 *n = bpf_map_lookup_elem(&verdicts, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return action;
}

static __always_inline int decide(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *data_meta = (void *)(long)ctx->data_meta;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;

	if (data_meta + sizeof(__u32) <= data) {
		__u32 *tag = data_meta;
		if (*tag == 1)
			return XDP_DROP;
		*tag = 2;
	}

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return XDP_PASS;
	if (ip->protocol == IPPROTO_TCP)
		return XDP_DROP;
	if (ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;

	if (udp->dest == bpf_htons(7)) {
		unsigned char mac[ETH_ALEN];
		__be32 addr;
		__be16 port;

		__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
		addr = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = addr;
		port = udp->source;
		udp->source = udp->dest;
		udp->dest = port;
		return XDP_TX;
	}
	if (udp->dest == bpf_htons(53)) {
		/* RFC 1624: HC' = ~(~HC + ~m + m'), m the 16-bit word holding
		 * the TTL; one's complement sums work in either byte order. */
		__u16 *word = (__u16 *)&ip->ttl;
		__u32 sum = (__u16)~ip->check;

		sum += (__u16)~*word;
		ip->ttl--;
		sum += *word;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ip->check = (__u16)~sum;
		return XDP_PASS;
	}
	return XDP_PASS;
}

SEC("xdp")
int xdp_example(struct xdp_md *ctx)
{
	return count(decide(ctx));
}

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	if (skb->mark == 7)
		return TC_ACT_SHOT;
	skb->mark = 42;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
