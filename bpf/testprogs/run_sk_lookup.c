// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_sk_lookup: an SK_LOOKUP program for progrun's test runs. The tests
 * put sockets into the SOCKMAP socks and check which one a lookup selects:
 *
 *   local port 7007  TCP from 10.1.2.3:40000: bpf_sk_assign socks[0],
 *                    SK_PASS; from anywhere else SK_DROP.
 *   local port 7008  SK_DROP.
 *   local port 7009  bpf_sk_assign socks[1] without
 *                    BPF_SK_LOOKUP_F_NO_REUSEPORT (a SO_REUSEPORT socket
 *                    there is what a test run cannot resolve), SK_PASS.
 *   local port 7010  SK_PASS when the lookup is IPv6 from 2001:db8::/32 to
 *                    ::1, SK_DROP otherwise; selects nothing.
 *   other ports      SK_PASS, nothing selected.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/socket.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef AF_INET6
#define AF_INET6 10
#endif

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");

static __always_inline int assign(struct bpf_sk_lookup *ctx, __u32 key)
{
	struct bpf_sock *sk = bpf_map_lookup_elem(&socks, &key);
	if (!sk)
		return SK_DROP;
	long err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	return err ? SK_DROP : SK_PASS;
}

SEC("sk_lookup")
int lookup(struct bpf_sk_lookup *ctx)
{
	switch (ctx->local_port) {
	case 7007:
		if (ctx->protocol != IPPROTO_TCP || ctx->remote_ip4 != bpf_htonl(0x0a010203) ||
		    ctx->remote_port != bpf_htons(40000))
			return SK_DROP;
		return assign(ctx, 0);
	case 7008:
		return SK_DROP;
	case 7009:
		return assign(ctx, 1);
	case 7010:
		if (ctx->family == AF_INET6 && ctx->remote_ip6[0] == bpf_htonl(0x20010db8) &&
		    ctx->local_ip6[0] == 0 && ctx->local_ip6[1] == 0 && ctx->local_ip6[2] == 0 &&
		    ctx->local_ip6[3] == bpf_htonl(1))
			return SK_PASS;
		return SK_DROP;
	}
	return SK_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
