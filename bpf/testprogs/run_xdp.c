// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_xdp: XDP programs for progrun's test runs, each with an effect the
 * tests compute on their own from the input frame:
 *
 *   xdp_echo   UDP to port 7: swap the MACs, XDP_TX (an echo reply).
 *              TCP: XDP_DROP.
 *              UDP to port 9: 8 bytes of metadata, the ingress ifindex and
 *              the rx queue index (u32 each, host order), in front of any
 *              metadata already there, XDP_PASS.
 *              UDP to port 11: push an 802.1Q tag (VID 100) after the MACs.
 *              802.1Q-tagged frames: pop the tag, XDP_PASS.
 *              Anything else: XDP_PASS, untouched.
 *   xdp_frags  multi-buffer (xdp.frags): returns XDP_PASS and stores the
 *              length bpf_xdp_get_buff_len sees and the linear length
 *              (data_end - data) in lens[0] and lens[1].
 *   xdp_lens   the same, loaded without xdp.frags.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define VLAN_HLEN 4
#define ETH_P_8021Q_ 0x8100
#define ECHO_PORT 7
#define META_PORT 9
#define VLAN_PORT 11
#define VLAN_ID 100

struct vlan_eth {
	unsigned char dst[ETH_ALEN];
	unsigned char src[ETH_ALEN];
	__be16 tpid;
	__be16 tci;
	__be16 proto;
};

static __always_inline int push_vlan(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, -VLAN_HLEN))
		return XDP_ABORTED;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct vlan_eth *v = data;
	if ((void *)(v + 1) > end)
		return XDP_ABORTED;
	/* Move the MACs to the new front; the old ethertype stays in place
	 * and becomes the inner protocol. */
	__builtin_memmove(v, (char *)v + VLAN_HLEN, 2 * ETH_ALEN);
	v->tpid = bpf_htons(ETH_P_8021Q_);
	v->tci = bpf_htons(VLAN_ID);
	return XDP_PASS;
}

static __always_inline int pop_vlan(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct vlan_eth *v = data;
	if ((void *)(v + 1) > end)
		return XDP_DROP;
	/* The MACs move back by 4 bytes over the tag. */
	__builtin_memmove((char *)v + VLAN_HLEN, v, 2 * ETH_ALEN);
	if (bpf_xdp_adjust_head(ctx, VLAN_HLEN))
		return XDP_ABORTED;
	return XDP_PASS;
}

static __always_inline int add_meta(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	__u32 queue = ctx->rx_queue_index;
	if (bpf_xdp_adjust_meta(ctx, -2 * (int)sizeof(__u32)))
		return XDP_ABORTED;
	void *data = (void *)(long)ctx->data;
	__u32 *meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 2) > data)
		return XDP_ABORTED;
	meta[0] = ifindex;
	meta[1] = queue;
	return XDP_PASS;
}

SEC("xdp")
int xdp_echo(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q_))
		return pop_vlan(ctx);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl != 5)
		return XDP_PASS;
	if (ip->protocol == IPPROTO_TCP)
		return XDP_DROP;
	if (ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return XDP_PASS;

	switch (bpf_ntohs(udp->dest)) {
	case ECHO_PORT: {
		unsigned char tmp[ETH_ALEN];
		__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
		return XDP_TX;
	}
	case META_PORT:
		return add_meta(ctx);
	case VLAN_PORT:
		return push_vlan(ctx);
	}
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} lens SEC(".maps");

static __always_inline int record_lens(struct xdp_md *ctx)
{
	__u32 k0 = 0, k1 = 1;
	__u64 *total = bpf_map_lookup_elem(&lens, &k0);
	__u64 *linear = bpf_map_lookup_elem(&lens, &k1);
	if (!total || !linear)
		return XDP_ABORTED;
	*total = bpf_xdp_get_buff_len(ctx);
	*linear = ctx->data_end - ctx->data;
	return XDP_PASS;
}

SEC("xdp.frags")
int xdp_frags(struct xdp_md *ctx)
{
	return record_lens(ctx);
}

SEC("xdp")
int xdp_lens(struct xdp_md *ctx)
{
	return record_lens(ctx);
}

char _license[] SEC("license") = "Dual BSD/GPL";
