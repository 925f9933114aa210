// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_raw_tp: a RAW_TRACEPOINT program for progrun's test runs. Each run
 * stores args[0] + args[1], the CPU it ran on and a run count in rec[0],
 * and returns args[0] ^ args[1] (truncated to 32 bits).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct record {
	__u64 sum;
	__u32 cpu;
	__u32 runs;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct record);
} rec SEC(".maps");

SEC("raw_tracepoint/xdpkit_test")
int record_args(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 key = 0;
	struct record *r = bpf_map_lookup_elem(&rec, &key);
	if (!r)
		return -1;
	r->sum = ctx->args[0] + ctx->args[1];
	r->cpu = bpf_get_smp_processor_id();
	r->runs++;
	return ctx->args[0] ^ ctx->args[1];
}

char _license[] SEC("license") = "Dual BSD/GPL";
