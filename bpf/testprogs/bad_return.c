// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bad_return: an XDP program that exits without setting a return value (R0),
 * written in assembly because C always sets one. The verifier rejects it;
 * verifier's tests expect the line marked FAIL HERE. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
__attribute__((naked)) int bad_no_return(void)
{
	asm volatile("r1 = 0; exit;"); /* FAIL HERE */
}

char _license[] SEC("license") = "Dual BSD/GPL";
