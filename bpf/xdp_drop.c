// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdp_drop: drop every frame.
 *
 * Attached to the peer of a veth it lets that veth accept frames sent with
 * XDP_TX or XDP_REDIRECT, counts them in the peer's RX counters and drops
 * them before the stack: what a traffic generator's receiving end needs to
 * measure the generator rather than the peer's stack. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
