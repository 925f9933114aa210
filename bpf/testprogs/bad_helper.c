// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bad_helper: an XDP program calling a helper that only socket-buffer
 * programs may call. The verifier rejects it; verifier's tests expect the
 * line marked FAIL HERE. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bad_helper_call(struct xdp_md *ctx)
{
	__u8 buf[4];

	if (bpf_skb_load_bytes(ctx, 0, buf, sizeof(buf))) /* FAIL HERE */
		return XDP_ABORTED;
	return buf[0] ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
