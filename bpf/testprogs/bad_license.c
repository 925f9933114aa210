// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bad_license: a program whose license is not GPL-compatible calling a
 * GPL-only helper. The verifier rejects it; verifier's tests expect the line
 * marked FAIL HERE. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bad_gpl_helper(struct xdp_md *ctx)
{
	bpf_printk("ifindex %u", ctx->ingress_ifindex); /* FAIL HERE */
	return XDP_PASS;
}

char _license[] SEC("license") = "Proprietary";
