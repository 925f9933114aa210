// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run_skb: programs of the skb types that see the packet from the network
 * header on (SOCKET_FILTER, CGROUP_SKB, LWT_*), for progrun's test runs.
 * Offset 0 is the IPv4 header here, not the Ethernet header:
 *
 *   sock_keep     UDP: keep 28 bytes (IPv4 and UDP headers); TCP: keep 0
 *                 (drop); anything else: keep skb->len (the whole packet
 *                 from the network header).
 *   cg_port       cgroup_skb/ingress: deny TCP or UDP to port 23, allow
 *                 the rest; mark = destination port (host order).
 *   lwt_in_prog, lwt_out_prog, lwt_xmit_prog
 *                 BPF_DROP for IPv4 destinations in 192.0.2.0/24, BPF_OK
 *                 for the rest; mark = 1, 2 or 3 (which program ran).
 *                 lwt_xmit_prog also sets the TOS to 0x10 on the packets
 *                 it passes, fixing the checksum with bpf_l3_csum_replace.
 *   seg6_prog     lwt_seg6local: BPF_OK. The kernel cannot test-run it.
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TELNET_PORT 23
#define TOS_LOWDELAY 0x10

SEC("socket")
int sock_keep(struct __sk_buff *skb)
{
	struct iphdr ip;
	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
		return 0;
	if (ip.protocol == IPPROTO_UDP)
		return sizeof(struct iphdr) + sizeof(struct udphdr);
	if (ip.protocol == IPPROTO_TCP)
		return 0;
	return skb->len;
}

SEC("cgroup_skb/ingress")
int cg_port(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr l4;
	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
		return 1;
	if (ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_UDP)
		return 1;
	/* Both headers start with the two ports. */
	if (bpf_skb_load_bytes(skb, ip.ihl * 4, &l4, sizeof(l4)))
		return 1;
	skb->mark = bpf_ntohs(l4.dest);
	return l4.dest == bpf_htons(TELNET_PORT) ? 0 : 1;
}

/* 192.0.2.0/24, TEST-NET-1 */
static __always_inline int blocked(struct __sk_buff *skb, struct iphdr **iph)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;
	*iph = 0;
	if ((void *)(ip + 1) > end || ip->version != 4)
		return 0;
	*iph = ip;
	return (bpf_ntohl(ip->daddr) & 0xffffff00) == 0xc0000200;
}

SEC("lwt_in")
int lwt_in_prog(struct __sk_buff *skb)
{
	struct iphdr *ip;
	skb->mark = 1;
	return blocked(skb, &ip) ? BPF_DROP : BPF_OK;
}

SEC("lwt_out")
int lwt_out_prog(struct __sk_buff *skb)
{
	struct iphdr *ip;
	skb->mark = 2;
	return blocked(skb, &ip) ? BPF_DROP : BPF_OK;
}

SEC("lwt_xmit")
int lwt_xmit_prog(struct __sk_buff *skb)
{
	struct iphdr *ip;
	skb->mark = 3;
	if (blocked(skb, &ip))
		return BPF_DROP;
	if (!ip)
		return BPF_OK;
	/* TOS shares a 16-bit word of the checksum with version and IHL.
	 * The words are built from the bytes: reading them through a __u16
	 * pointer lets the compiler reuse the old word for the new one. */
	__u8 *hdr = (__u8 *)ip;
	__be16 old = bpf_htons((__u16)hdr[0] << 8 | hdr[1]);
	__be16 new = bpf_htons((__u16)hdr[0] << 8 | TOS_LOWDELAY);
	hdr[1] = TOS_LOWDELAY;
	if (bpf_l3_csum_replace(skb, offsetof(struct iphdr, check), old, new, sizeof(new)))
		return BPF_DROP;
	return BPF_OK;
}

SEC("lwt_seg6local")
int seg6_prog(struct __sk_buff *skb)
{
	return BPF_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
