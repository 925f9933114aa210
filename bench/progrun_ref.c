// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* progrun_ref: the reference for xdpkit's BPF_PROG_RUN overhead. It loads
 * an object with libbpf and calls bpf_prog_test_run_opts in a loop with the
 * same buffers xdpkit's progrun.Runner passes for XDP (packet in and out,
 * xdp_md in and out), then prints {"ns_per_run": N} as JSON.
 *
 *   progrun_ref OBJ PROG RUNS [PACKET_LEN]
 *
 * Build: cc -O2 -o progrun_ref progrun_ref.c -lbpf */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s OBJ PROG RUNS [PACKET_LEN]\n", argv[0]);
		return 2;
	}
	long runs = atol(argv[3]);
	size_t len = argc > 4 ? (size_t)atol(argv[4]) : 64;

	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "progrun_ref: cannot load %s\n", argv[1]);
		return 1;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (!prog) {
		fprintf(stderr, "progrun_ref: no program %s in %s\n", argv[2], argv[1]);
		return 1;
	}
	int fd = bpf_program__fd(prog);

	unsigned char *in = calloc(1, len), *out = calloc(1, len + 65536);
	struct xdp_md ctx_in = { .data_end = len }, ctx_out;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	double start = now();
	for (long i = 0; i < runs; i++) {
		opts.data_in = in;
		opts.data_size_in = len;
		opts.data_out = out;
		opts.data_size_out = len + 65536;
		opts.ctx_in = &ctx_in;
		opts.ctx_size_in = sizeof(ctx_in);
		opts.ctx_out = &ctx_out;
		opts.ctx_size_out = sizeof(ctx_out);
		opts.repeat = 1;
		if (bpf_prog_test_run_opts(fd, &opts)) {
			perror("progrun_ref: BPF_PROG_RUN");
			return 1;
		}
	}
	double elapsed = now() - start;
	printf("{\"runs\": %ld, \"ns_per_run\": %.1f}\n", runs, elapsed / runs);
	bpf_object__close(obj);
	return 0;
}
