// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* verifier_reject: an XDP program the verifier rejects, for the tests of
 * what a user sees when loading fails: it reads the packet without first
 * checking the read against data_end. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int reject_prog(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	/* missing: if (data + 1 > (void *)(long)ctx->data_end) return XDP_PASS; */
	if (data[0] == 0xff)
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
