// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xsk_redirect: xdpkit's default AF_XDP program. A frame received on queue
 * q goes to the AF_XDP socket registered in xsks_map[q]; when the slot is
 * empty (or q is beyond the map), the frame passes to the network stack
 * (the flags argument of bpf_redirect_map, Linux 5.3+).
 *
 * xsk_stats counts per queue, per CPU, the frames redirected and the frames
 * passed, so that a receiver can tell "no frames came" from "frames came
 * but no socket took them". Frames of queues beyond the maps pass,
 * uncounted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The loader sets max_entries of both maps to the interface's number of
 * queues when it is larger. */
#define MAX_QUEUES 64

struct xsk_counters {
	__u64 redirected;
	__u64 passed;
};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct xsk_counters);
} xsk_stats SEC(".maps");

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	__u32 queue = ctx->rx_queue_index;
	long action = bpf_redirect_map(&xsks_map, queue, XDP_PASS);
	struct xsk_counters *c = bpf_map_lookup_elem(&xsk_stats, &queue);

	if (c) {
		if (action == XDP_REDIRECT)
			c->redirected++;
		else
			c->passed++;
	}
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
