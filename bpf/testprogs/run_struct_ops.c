// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_struct_ops: STRUCT_OPS programs for the members of the kernel's test
 * struct bpf_dummy_ops, the only struct_ops the kernel test-runs. The
 * loader sets each program's target ("bpf_dummy_ops:test_1"); the kernel
 * copies the state its first argument points to in and back out:
 *
 *   dummy_test_1  state->val = val * 2; returns val + 1 (-1 without state).
 *   dummy_test_2  state->val = a1 + a2 + a3 + a4; returns a1 - a2.
 *
 * struct_ops programs must carry a GPL-compatible license.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_dummy_ops_state {
	int val;
};

/* A struct_ops program's context is its arguments, a u64 each. */
SEC("struct_ops/test_1")
int dummy_test_1(unsigned long long *ctx)
{
	struct bpf_dummy_ops_state *state = (void *)ctx[0];
	if (!state)
		return -1;
	int val = state->val;
	state->val = val * 2;
	return val + 1;
}

SEC("struct_ops/test_2")
int dummy_test_2(unsigned long long *ctx)
{
	struct bpf_dummy_ops_state *state = (void *)ctx[0];
	int a1 = (int)ctx[1];
	unsigned short a2 = (unsigned short)ctx[2];
	char a3 = (char)ctx[3];
	unsigned long a4 = (unsigned long)ctx[4];
	if (state)
		state->val = a1 + a2 + a3 + (int)a4;
	return a1 - a2;
}

char _license[] SEC("license") = "Dual BSD/GPL";
