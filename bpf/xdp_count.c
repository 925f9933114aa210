// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdp_count: count frames and bytes per EtherType and IP protocol, pass
 * every frame.
 *
 * The map's key and value are structs, so that tools which format map
 * contents with BTF (`xdpkit map dump`, `bpftool map dump`) show named
 * fields. The counters are per CPU: no atomic operations on the hot path. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct flow_class {
	__u16 ethertype; /* host byte order */
	__u8 ip_proto;   /* 0 when not IP */
	__u8 pad;
};

struct counters {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, struct flow_class);
	__type(value, struct counters);
} xdp_count_stats SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct flow_class key = {};
	struct counters *c;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	key.ethertype = bpf_ntohs(eth->h_proto);
	if (key.ethertype == ETH_P_IP) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) <= data_end)
			key.ip_proto = ip->protocol;
	} else if (key.ethertype == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) <= data_end)
			key.ip_proto = ip6->nexthdr;
	}

	c = bpf_map_lookup_elem(&xdp_count_stats, &key);
	if (!c) {
		struct counters zero = {};
		bpf_map_update_elem(&xdp_count_stats, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&xdp_count_stats, &key);
		if (!c)
			return XDP_PASS;
	}
	c->packets++;
	c->bytes += data_end - data;
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
