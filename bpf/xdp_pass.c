// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdp_pass: pass every frame to the network stack.
 *
 * The smallest useful XDP program: attached to the peer of a veth it lets
 * that veth accept frames sent with XDP_TX or XDP_REDIRECT. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
