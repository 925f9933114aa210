// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bad_null: uses a map lookup result without checking it for NULL.
 * The verifier rejects it; verifier's tests expect the line marked FAIL HERE. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

SEC("xdp")
int bad_null_deref(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;
	__u64 *count = bpf_map_lookup_elem(&counters, &key);

	*count += 1; /* FAIL HERE */
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
