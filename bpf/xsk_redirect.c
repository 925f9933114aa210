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

/* The loader sets max_entries of xsks_map to the interface's number of
 * queues when it is larger, and of xsk_stats to twice that. */
#define MAX_QUEUES 64

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

/* Two counters per queue: [2q] frames redirected, [2q+1] frames passed.
 * Each is its own entry, found with a scalar key: a branch choosing
 * between two fields of one entry compiles to pointer arithmetic that the
 * verifier refuses to programs loaded without CAP_PERFMON. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u64);
} xsk_stats SEC(".maps");

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	__u32 queue = ctx->rx_queue_index;
	long action = bpf_redirect_map(&xsks_map, queue, XDP_PASS);
	__u32 key = 2 * queue + (action != XDP_REDIRECT);
	__u64 *count = bpf_map_lookup_elem(&xsk_stats, &key);

	if (count)
		(*count)++;
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
