// xsktx: an AF_XDP transmitter on libxdp's xsk API (C), the reference that
// bench/xsk.sh measures `xdpkit xsk tx` against: one socket on one queue,
// every UMEM frame holding the same 64-byte UDP frame, sent in batches of
// 64 with a sendto per batch, completions recycled. No XDP program is
// loaded (a TX-only socket needs none).
//
// build: cc -O2 -o xsktx xsktx.c -lxdp -lbpf
// usage: xsktx -i IFNAME -s SRCMAC -d DSTMAC [-q QUEUE] [-c copy|zc|auto] [-n COUNT] [-t SECONDS]
#define _GNU_SOURCE
#include <xdp/xsk.h>
#include <linux/if_xdp.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#define NUM_FRAMES 4096
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define RING 2048
#define BATCH 64
#define LEN 64

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void parse_mac(const char *s, unsigned char *m)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "xsktx: bad MAC %s\n", s);
		exit(2);
	}
}

/* frame writes a 64-byte IPv4/UDP frame 10.0.0.1:9 -> 10.0.0.2:9; the
 * receiver only counts it, so the checksums are left 0 except IPv4's. */
static void frame(unsigned char *f, const unsigned char *src, const unsigned char *dst)
{
	memset(f, 0, LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	struct iphdr *ip = (struct iphdr *)(f + 14);
	ip->version = 4, ip->ihl = 5, ip->ttl = 64, ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(LEN - 14);
	ip->saddr = htonl(0x0a000001), ip->daddr = htonl(0x0a000002);
	unsigned sum = 0;
	for (int i = 0; i < 10; i++)
		sum += ((unsigned short *)ip)[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum;
	struct udphdr *udp = (struct udphdr *)(f + 34);
	udp->source = htons(9), udp->dest = htons(9), udp->len = htons(LEN - 34);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *mode = "auto";
	unsigned char src[6] = {2, 0, 0, 0, 0, 1}, dst[6] = {2, 0, 0, 0, 0, 2};
	unsigned long long count = 0;
	double seconds = 5;
	int queue = 0, c;
	while ((c = getopt(argc, argv, "i:s:d:q:c:n:t:")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 's': parse_mac(optarg, src); break;
		case 'd': parse_mac(optarg, dst); break;
		case 'q': queue = atoi(optarg); break;
		case 'c': mode = optarg; break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 't': seconds = atof(optarg); break;
		default: return 2;
		}
	}
	if (!ifname) {
		fprintf(stderr, "usage: xsktx -i IFNAME -s SRCMAC -d DSTMAC [-q QUEUE] [-c copy|zc|auto] [-n COUNT] [-t SECONDS]\n");
		return 2;
	}
	size_t len = (size_t)NUM_FRAMES * FRAME_SIZE;
	unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) { perror("mmap"); return 1; }
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq;
	struct xsk_umem *umem;
	struct xsk_umem_config ucfg = { .fill_size = RING, .comp_size = RING, .frame_size = FRAME_SIZE };
	int err = xsk_umem__create(&umem, buf, len, &fq, &cq, &ucfg);
	if (err) { fprintf(stderr, "xsk_umem__create: %s\n", strerror(-err)); return 1; }
	struct xsk_socket *xsk;
	struct xsk_socket_config scfg = {
		.rx_size = 0, .tx_size = RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = !strcmp(mode, "copy") ? XDP_COPY : !strcmp(mode, "zc") ? XDP_ZEROCOPY : 0,
	};
	err = xsk_socket__create(&xsk, ifname, queue, umem, NULL, &tx, &scfg);
	if (err) { fprintf(stderr, "xsk_socket__create: %s\n", strerror(-err)); return 1; }

	/* a free stack of frames, each holding the frame */
	static unsigned long long free_addrs[NUM_FRAMES];
	int nfree = 0;
	for (int i = 0; i < NUM_FRAMES; i++) {
		frame(buf + (size_t)i * FRAME_SIZE, src, dst);
		free_addrs[nfree++] = (unsigned long long)i * FRAME_SIZE;
	}
	unsigned long long sent = 0, done = 0, outstanding = 0;
	double t0 = now(), end = t0 + seconds;
	while ((!count || done < count) && now() < end) {
		__u32 ci, ti;
		unsigned int n = xsk_ring_cons__peek(&cq, RING, &ci);
		for (unsigned int i = 0; i < n; i++)
			free_addrs[nfree++] = *xsk_ring_cons__comp_addr(&cq, ci++);
		if (n) {
			xsk_ring_cons__release(&cq, n);
			done += n, outstanding -= n;
		}
		unsigned int want = BATCH < nfree ? BATCH : nfree;
		if (count && sent + want > count)
			want = count - sent;
		if (want && xsk_ring_prod__reserve(&tx, want, &ti) == want) {
			for (unsigned int i = 0; i < want; i++) {
				struct xdp_desc *d = xsk_ring_prod__tx_desc(&tx, ti++);
				d->addr = free_addrs[--nfree];
				d->len = LEN;
			}
			xsk_ring_prod__submit(&tx, want);
			sent += want, outstanding += want;
		}
		if (outstanding)
			sendto(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
	}
	double dt = now() - t0;
	struct xdp_statistics st;
	socklen_t sl = sizeof(st);
	getsockopt(xsk_socket__fd(xsk), SOL_XDP, XDP_STATISTICS, &st, &sl);
	printf("{\"tool\":\"xsktx\",\"packets\":%llu,\"seconds\":%.3f,\"pps\":%.0f,\"tx_invalid_descs\":%llu,\"tx_ring_empty\":%llu}\n",
	       done, dt, dt > 0 ? done / dt : 0, st.tx_invalid_descs, st.tx_ring_empty_descs);
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	return 0;
}
