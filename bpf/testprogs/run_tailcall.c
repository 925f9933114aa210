// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_tailcall: an XDP program that tail-calls through a program array,
 * for xdpkit run --set, which fills maps before the runs.
 *
 *   tail_entry  tail-calls jmp[0]; XDP_PASS when the slot is empty.
 *   tail_drop   XDP_DROP, and counts its runs in hits[0].
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}

SEC("xdp")
int tail_drop(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
