// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach_multi: an object with two XDP programs and one tc (SchedCLS)
 * program, for the tests of choosing a program to attach: no --prog with
 * several XDP programs, a --prog that does not exist, a program of the wrong
 * type. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} multi_hits SEC(".maps");

SEC("xdp")
int multi_pass(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&multi_hits, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

SEC("xdp")
int multi_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tc")
int multi_tc(struct __sk_buff *skb)
{
	return 0; /* TC_ACT_OK */
}

char _license[] SEC("license") = "Dual BSD/GPL";
