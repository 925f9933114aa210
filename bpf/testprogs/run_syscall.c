// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_syscall: a SYSCALL program for progrun's test runs. Its context is
 * struct sum_args as the caller lays it out; it writes a + b to sum (the
 * kernel copies the context back) and returns a - b.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sum_args {
	__u32 a;
	__u32 b;
	__u32 sum;
};

SEC("syscall")
int sum(struct sum_args *ctx)
{
	ctx->sum = ctx->a + ctx->b;
	return ctx->a - ctx->b;
}

char _license[] SEC("license") = "Dual BSD/GPL";
