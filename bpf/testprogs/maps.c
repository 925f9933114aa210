// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* maps: maps of many BTF shapes for the map commands' tests, and a trivial
 * XDP program that references them all so that they are loaded together. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED, GREEN = 5, BLUE };

struct addr {
	__u8 mac[6];
	__u16 vlan;
};

struct entry {
	__u32 id;
	enum color color;
	struct addr addr;
	__s64 delta;
	char name[8];
	union {
		__u32 u32;
		__u8 bytes[4];
	} raw;
};

/* array: u32 key, u64 value */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* hash: struct key and value */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct addr);
	__type(value, struct entry);
} entries SEC(".maps");

/* per-CPU array */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} percpu SEC(".maps");

/* hash without BTF key/value: sizes only */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__uint(key_size, 4);
	__uint(value_size, 12);
} raw SEC(".maps");

SEC("xdp")
int maps_prog(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct addr a = {};
	__u64 *v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	if (bpf_map_lookup_elem(&entries, &a))
		return XDP_DROP;
	if (bpf_map_lookup_elem(&percpu, &k))
		return XDP_PASS;
	if (bpf_map_lookup_elem(&raw, &k))
		return XDP_ABORTED;
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
