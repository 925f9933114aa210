// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bad_loop: a loop that never ends. The verifier rejects it; verifier's tests
 * expect the line marked FAIL HERE. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bad_infinite_loop(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;

	/* The empty asm hides from clang that the loop never changes ifindex. */
	while (ifindex != 0) asm volatile("" : "+r"(ifindex)); /* FAIL HERE */
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
