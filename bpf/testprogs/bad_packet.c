// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bad_packet: checks that one byte of the packet is there, then reads four.
 * The verifier rejects it; verifier's tests expect the line marked FAIL HERE. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bad_packet_access(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + 1 > data_end)
		return XDP_DROP;
	if (*(__u32 *)data == 0) /* FAIL HERE */
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
