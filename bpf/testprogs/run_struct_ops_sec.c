// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_struct_ops_sec: a STRUCT_OPS object in the older layout many
 * objects still use (the kernel's own selftests among them): the programs
 * named in a ".struct_ops" section (not ".struct_ops.link"), which
 * cilium/ebpf v0.22 refuses. xdpkit run loads it for a test run anyway.
 *
 *   sec_test_1  state->val += 100; returns 7.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_dummy_ops_state {
	int val;
};

struct bpf_dummy_ops {
	int (*test_1)(struct bpf_dummy_ops_state *cb);
	int (*test_2)(struct bpf_dummy_ops_state *cb, int a1, unsigned short a2, char a3, unsigned long a4);
	int (*test_sleepable)(struct bpf_dummy_ops_state *cb);
};

SEC("struct_ops/test_1")
int sec_test_1(unsigned long long *ctx)
{
	struct bpf_dummy_ops_state *state = (void *)ctx[0];

	if (state)
		state->val += 100;
	return 7;
}

SEC(".struct_ops")
struct bpf_dummy_ops sec_ops = {
	.test_1 = (void *)sec_test_1,
};

char _license[] SEC("license") = "Dual BSD/GPL";
