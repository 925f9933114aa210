#!/usr/bin/env bash
# progrun.sh: xdpkit's BPF_PROG_RUN overhead against bare loops of the same
# syscall, in one run on this machine: progrun.Runner, a bare Go loop of
# the syscall with the same buffers, cilium/ebpf's Program.Run, and a C
# loop on libbpf (progrun_ref.c). Also the pcap replay rate (packets/s).
# Each side runs ROUNDS times, interleaved, and the medians are compared.
#
#   sudo bench/progrun.sh [ROUNDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
rounds=${1:-5}
runs=${2:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -O2 -Wall -o "$work/progrun_ref" bench/progrun_ref.c -lbpf
go test -c -o "$work/progrun.test" ./progrun/ >/dev/null
obj=internal/builtin/xdppass_bpfel.o

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

benches=(RunnerXDP BareSyscallXDP CiliumRunXDP)
for round in $(seq "$rounds"); do
	"$work/progrun_ref" "$obj" xdp_pass "$runs" | sed -E 's/.*"ns_per_run": ([0-9.]+).*/\1/' >>"$work/c"
	# Alternate the order from round to round, so that no side always
	# runs first on a cold or a warm CPU.
	order=("${benches[@]}")
	if ((round % 2 == 0)); then order=(CiliumRunXDP BareSyscallXDP RunnerXDP); fi
	for b in "${order[@]}"; do
		"$work/progrun.test" -test.run '^$' -test.bench "^Benchmark$b\$" -test.benchtime "${runs}x" \
			-test.benchmem >"$work/go.txt"
		awk -v b="Benchmark$b-" 'index($1, b) == 1 {print $3}' "$work/go.txt" >>"$work/$b"
		grep -E '^Benchmark' "$work/go.txt" | grep -v ' 0 allocs/op' && echo "progrun.sh: $b allocates" >&2
	done
	"$work/progrun.test" -test.run '^$' -test.bench '^Benchmark(Replay|RunnerNoKernel)$' -test.benchtime "$((runs / 1000))x" \
		-test.benchmem >"$work/go.txt"
	awk 'index($1, "BenchmarkReplay-") == 1 {for (i = 1; i <= NF; i++) if ($(i+1) == "packets/s") print $i}' "$work/go.txt" >>"$work/replay"
	awk 'index($1, "BenchmarkReplay-") == 1 {for (i = 1; i <= NF; i++) if ($(i+1) == "allocs/op") print $i}' "$work/go.txt" >>"$work/replay_allocs"
	"$work/progrun.test" -test.run '^$' -test.bench '^BenchmarkRunnerNoKernel$' -test.benchtime 1000000x >"$work/go.txt"
	awk 'index($1, "BenchmarkRunnerNoKernel-") == 1 {print $3}' "$work/go.txt" >>"$work/nokernel"
done

runner=$(median <"$work/RunnerXDP")
bare=$(median <"$work/BareSyscallXDP")
cilium=$(median <"$work/CiliumRunXDP")
c=$(median <"$work/c")
replay=$(median <"$work/replay")
replay_allocs=$(median <"$work/replay_allocs")
nokernel=$(median <"$work/nokernel")
printf 'BPF_PROG_RUN on xdp_pass, 64-byte packet, %d runs x %d rounds (median ns per run)\n' "$runs" "$rounds"
printf '  %-34s %8.0f ns\n' "xdpkit progrun.Runner" "$runner" "bare Go syscall loop" "$bare" \
	"cilium/ebpf Program.Run" "$cilium" "C libbpf bpf_prog_test_run_opts" "$c"
awk -v r="$runner" -v b="$bare" -v ci="$cilium" -v c="$c" 'BEGIN {
	printf "  ratio Runner / bare Go loop:       %.3f (target <= 1.10)\n", r / b
	printf "  ratio Runner / C libbpf loop:      %.3f\n", r / c
	printf "  ratio Runner / cilium Program.Run: %.3f\n", r / ci
}'
printf '  the Runner alone (no syscall):     %.1f ns per run\n' "$nokernel"
printf '  pcap replay (read + run, 1000 frames per op): %.0f packets/s, %s allocations per 1000 frames\n' "$replay" "$replay_allocs"
awk -v r="$runner" -v b="$bare" 'BEGIN { exit !(r / b <= 1.10) }' || { echo "progrun.sh: Runner overhead above 1.10" >&2; exit 1; }
