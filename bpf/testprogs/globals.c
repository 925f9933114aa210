// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* globals: an XDP program with global variables, so that its object has
 * the data-section maps .bss, .data and .rodata (whose names bpffs refuses
 * as pin names). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 seen;                    /* .bss */
__u32 verdict = XDP_PASS;      /* .data */
const volatile __u32 limit = 8; /* .rodata */

SEC("xdp")
int globals_prog(struct xdp_md *ctx)
{
	seen++;
	if (seen > limit)
		return XDP_DROP;
	return verdict;
}

char _license[] SEC("license") = "Dual BSD/GPL";
