// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdp_gen: the traffic generator's XDP program, run by BPF_PROG_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES on frames the kernel took from a page pool it
 * filled once with the template.
 *
 * Per frame it may
 *   - stop transmitting once its CPU's share of --count is sent (limit),
 *   - pace: a token bucket on bpf_ktime_get_ns; a frame over budget is
 *     XDP_DROPped, which only recycles its page,
 *   - vary destination port, source port and source address over ranges,
 *   - or, with several frames, copy frame number N mod nframes in,
 * then count the frame and return the action (XDP_TX by default).
 *
 * Pages are recycled without being rewritten, so a page holds either the
 * template or this program's own earlier edit of it. Every field is
 * therefore written as an absolute value computed from a counter, and the
 * checksums are computed from the template's checksum and the template's
 * field values, never from what the page holds.
 *
 * Configuration is read-only data set before load (the verifier removes
 * the branches a run does not use); the per-CPU gen_state entry of each
 * CPU belongs to the worker pinned to it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NSEC_PER_SEC 1000000000ULL

/* The largest frame a live-frames page holds: a 4 KiB page less the
 * kernel's page head (112), the XDP headroom (256) and skb_shared_info
 * (320). */
#define GEN_MAX_FRAME 3408

/* Flags in cfg_flags. */
#define GEN_LIMIT     (1 << 0) /* stop transmitting at gen_state.limit */
#define GEN_PACE      (1 << 1) /* token bucket at gen_state.rate */
#define GEN_DPORT     (1 << 2) /* vary the destination port */
#define GEN_SPORT     (1 << 3) /* vary the source port */
#define GEN_SADDR     (1 << 4) /* vary the source address */
#define GEN_FRAMES    (1 << 5) /* several frames: copy one in per frame */
#define GEN_IPV6      (1 << 6) /* the template is IPv6 (else IPv4) */
#define GEN_L4CSUM    (1 << 7) /* the template's L4 checksum covers ports/addresses */
#define GEN_UDP       (1 << 8) /* the L4 checksum is UDP's (0 is written 0xffff) */
#define GEN_HDR       (1 << 9) /* write the template's headers anew */

/* The most bytes of headers GEN_HDR writes. */
#define GEN_MAX_HDR 128

const volatile __u32 cfg_flags = 0;
const volatile __u32 cfg_action = XDP_TX;   /* XDP_TX, XDP_PASS or XDP_REDIRECT */
const volatile __u32 cfg_redirect_ifindex = 0;
const volatile __u32 cfg_threads = 1;       /* frames are numbered frame*threads+worker */
const volatile __u32 cfg_burst = 64;        /* pacer's largest burst, in frames */
const volatile __u32 cfg_nframes = 1;       /* with GEN_FRAMES */

/* Offsets into the frame, checked against data_end before use. */
const volatile __u32 cfg_ip_csum_off = 0;   /* IPv4 header checksum */
const volatile __u32 cfg_saddr_off = 0;     /* the 32 bits of source address that vary */
const volatile __u32 cfg_sport_off = 0;     /* L4 source port; destination port is +2 */
const volatile __u32 cfg_l4_csum_off = 0;

/* The template's values, as numbers (host order). */
const volatile __u32 cfg_dport_base = 0, cfg_dport_count = 1;
const volatile __u32 cfg_sport_base = 0, cfg_sport_count = 1;
const volatile __u32 cfg_saddr_base = 0, cfg_saddr_count = 1;
/* The template's checksums as they lie in memory (read as __u16). */
const volatile __u16 cfg_ip_csum = 0, cfg_l4_csum = 0;

/* With GEN_HDR: the template's first cfg_hdr_len bytes (a multiple of 8),
 * its headers. A receiver that takes a frame into its stack may edit the
 * page in place (untagging a VLAN frame moves the MAC addresses,
 * forwarding decrements the TTL), and the page comes back to the pool
 * edited: so the headers are written anew for every frame. */
const volatile __u8 cfg_hdr[GEN_MAX_HDR] = {};
const volatile __u32 cfg_hdr_len = 0;

struct gen_state {
	__u64 frames;   /* frames given cfg_action */
	__u64 bytes;    /* their bytes, counted only with GEN_FRAMES */
	__u64 paced;    /* frames the pacer dropped */
	__u64 over;     /* frames dropped after the limit was reached */
	__u64 limit;    /* set by userspace: this CPU's share of --count */
	__u64 rate;     /* set by userspace: this CPU's frames per second */
	__u64 worker;   /* set by userspace: this CPU's worker index */
	__u64 credit;   /* pacer: frame-nanoseconds owed at the rate */
	__u64 burst;    /* pacer: frame-nanoseconds allowed at twice the rate */
	__u64 last_ns;  /* pacer: when the buckets were last filled */
	__u64 first_ns; /* when the first frame was sent (bpf_ktime_get_ns) */
	__u64 sent_ns;  /* pacer: when the last frame was sent */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_state);
} gen_state SEC(".maps");

struct gen_frame {
	__u32 len;
	__u8 data[GEN_MAX_FRAME];
};

/* With GEN_FRAMES: the frames in order; userspace sets max_entries. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_frame);
} gen_frames SEC(".maps");

/* csum_replace32 adds to a ones'-complement sum the change of a 32-bit
 * word (as it lies in memory) from old to new. */
static __always_inline __u32 csum_replace32(__u32 sum, __u32 old, __u32 new)
{
	old = ~old;
	return sum + (old & 0xffff) + (old >> 16) + (new & 0xffff) + (new >> 16);
}

static __always_inline __u32 csum_replace16(__u32 sum, __u16 old, __u16 new)
{
	return sum + (__u16)~old + new;
}

/* csum_finish folds sum and returns the checksum to store. */
static __always_inline __u16 csum_finish(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* pace reports whether a frame may go now. Two token buckets: credit
 * fills at the rate and holds up to a second of frames, so time the
 * worker was not running (descheduled, interrupted) is made up and the
 * rate holds on average; burst fills at twice the rate and holds one
 * batch, so making up never goes faster than twice the rate nor in
 * bursts longer than a batch. */
static __always_inline int pace(struct gen_state *st)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 elapsed, credit, burst;

	if (!st->last_ns) {
		st->last_ns = now;
		st->credit = NSEC_PER_SEC;
		st->burst = NSEC_PER_SEC;
	}
	elapsed = now - st->last_ns;
	if (elapsed > NSEC_PER_SEC)
		elapsed = NSEC_PER_SEC;
	st->last_ns = now;
	credit = st->credit + elapsed * st->rate;
	if (credit > st->rate * NSEC_PER_SEC)
		credit = st->rate * NSEC_PER_SEC;
	burst = st->burst + 2 * elapsed * st->rate;
	if (burst > (__u64)cfg_burst * NSEC_PER_SEC)
		burst = (__u64)cfg_burst * NSEC_PER_SEC;
	if (credit < NSEC_PER_SEC || burst < NSEC_PER_SEC) {
		st->credit = credit;
		st->burst = burst;
		return 0;
	}
	st->credit = credit - NSEC_PER_SEC;
	st->burst = burst - NSEC_PER_SEC;
	st->sent_ns = now;
	return 1;
}

/* write_headers writes the template's headers over the frame's. */
static __always_inline int write_headers(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	int i;

	if (data + cfg_hdr_len > data_end)
		return -1;
#pragma unroll
	for (i = 0; i < GEN_MAX_HDR / 8; i++)
		if (i * 8 < cfg_hdr_len)
			*(__u64 *)(data + i * 8) = *(const volatile __u64 *)&cfg_hdr[i * 8];
	return 0;
}

/* vary writes frame number n's ports and source address and their
 * checksums. */
static __always_inline int vary(struct xdp_md *ctx, __u64 n)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l4sum = (__u16)~cfg_l4_csum, ipsum = (__u16)~cfg_ip_csum;
	__u64 k = n;

	if (cfg_flags & GEN_DPORT) {
		__u16 *p = data + cfg_sport_off + 2;
		__u16 port = bpf_htons(cfg_dport_base + k % cfg_dport_count);

		if ((void *)(p + 1) > data_end)
			return -1;
		*p = port;
		l4sum = csum_replace16(l4sum, bpf_htons(cfg_dport_base), port);
		k /= cfg_dport_count;
	}
	if (cfg_flags & GEN_SPORT) {
		__u16 *p = data + cfg_sport_off;
		__u16 port = bpf_htons(cfg_sport_base + k % cfg_sport_count);

		if ((void *)(p + 1) > data_end)
			return -1;
		*p = port;
		l4sum = csum_replace16(l4sum, bpf_htons(cfg_sport_base), port);
		k /= cfg_sport_count;
	}
	if (cfg_flags & GEN_SADDR) {
		__u32 *p = data + cfg_saddr_off;
		__u32 addr = bpf_htonl(cfg_saddr_base + (__u32)(k % cfg_saddr_count));
		__u32 base = bpf_htonl(cfg_saddr_base);

		if ((void *)(p + 1) > data_end)
			return -1;
		*p = addr;
		l4sum = csum_replace32(l4sum, base, addr);
		if (!(cfg_flags & GEN_IPV6)) {
			__u16 *c = data + cfg_ip_csum_off;

			if ((void *)(c + 1) > data_end)
				return -1;
			*c = csum_finish(csum_replace32(ipsum, base, addr));
		}
	}
	if (cfg_flags & GEN_L4CSUM) {
		__u16 *c = data + cfg_l4_csum_off;
		__u16 sum = csum_finish(l4sum);

		if ((void *)(c + 1) > data_end)
			return -1;
		if ((cfg_flags & GEN_UDP) && sum == 0)
			sum = 0xffff;
		*c = sum;
	}
	return 0;
}

/* copy_frame makes the frame frame number n mod nframes, returning its
 * length. */
static __always_inline int copy_frame(struct xdp_md *ctx, __u64 n)
{
	__u32 idx = n % cfg_nframes;
	struct gen_frame *f = bpf_map_lookup_elem(&gen_frames, &idx);
	__u32 len;
	int cur;

	if (!f)
		return -1;
	len = f->len;
	if (len < 14 || len > GEN_MAX_FRAME)
		return -1;
	cur = bpf_xdp_get_buff_len(ctx);
	if (bpf_xdp_adjust_tail(ctx, (int)len - cur))
		return -1;
	if (bpf_xdp_store_bytes(ctx, 0, f->data, len))
		return -1;
	return len;
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct gen_state *st = bpf_map_lookup_elem(&gen_state, &zero);
	__u64 n;

	if (!st)
		return XDP_ABORTED;
	if ((cfg_flags & GEN_LIMIT) && st->frames >= st->limit) {
		st->over++;
		return XDP_DROP;
	}
	if ((cfg_flags & GEN_PACE) && !pace(st)) {
		st->paced++;
		return XDP_DROP;
	}
	if (!st->first_ns)
		st->first_ns = bpf_ktime_get_ns();
	n = st->frames * cfg_threads + st->worker;
	if ((cfg_flags & GEN_HDR) && write_headers(ctx))
		return XDP_ABORTED;
	if (cfg_flags & GEN_FRAMES) {
		int len = copy_frame(ctx, n);

		if (len < 0)
			return XDP_ABORTED;
		st->bytes += len;
	} else if (cfg_flags & (GEN_DPORT | GEN_SPORT | GEN_SADDR)) {
		if (vary(ctx, n))
			return XDP_ABORTED;
	}
	st->frames++;
	if (cfg_action == XDP_REDIRECT)
		return bpf_redirect(cfg_redirect_ifindex, 0);
	return cfg_action;
}

char _license[] SEC("license") = "Dual BSD/GPL";
