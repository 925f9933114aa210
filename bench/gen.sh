#!/usr/bin/env bash
# gen.sh: `xdpkit gen udp` against livegen, the bare kernel loop (one
# live-frames call per pinned thread, a two-instruction XDP_TX program,
# from ../shared/bench), on the same veth pair in the same run.
#
# Both send 64-byte UDP frames out of NAME0; an XDP program on the peer
# (xdpcount, in its own namespace) counts what arrives. Delivered pps is
# the frames counted at the peer divided by the tool's own run time.
#  1. one thread on a single-queue veth: ROUNDS rounds, the two tools
#     alternating (and which goes first alternating too), medians compared;
#     xdpkit runs with live statistics on (--interval 1s: a line a second on
#     stderr) and, like livegen, without rewriting the headers of every
#     frame (--rewrite-headers never: the peer's xdpcount drops what it
#     gets, so nothing edits the pages); a third run per round rewrites
#     them (--rewrite-headers always, what a peer with a stack needs) to
#     show what that costs.
#  2. a veth with as many queues as CPUs: xdpkit and livegen with one
#     thread per CPU, and xdpkit with one thread, to show the scaling.
#
#   sudo bench/gen.sh [ROUNDS] [FRAMES]      (defaults: 3, 20000000)
# Needs: clang, libbpf-dev, bpftool (scripts/setup.sh installs them), and
# ../shared/bench (set SHARED_BENCH to elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
frames=${2:-20000000}
cpus=$(nproc)
ns=xkbench$$
dev=xkb$$
pin=/run/xdpkit-bench-$$
source bench/lib.sh

need_shared livegen.c xdpcount.c
cc -O2 -o "$work/livegen" "$shared/livegen.c" -lbpf -lpthread
build_xdpcount
build_xdpkit

# pair QUEUES: a veth ${dev}a here, ${dev}b in $ns with xdpcount attached.
pair() {
	cleanup_pair
	ip netns add "$ns"
	ip link add "${dev}a" numtxqueues "$1" numrxqueues "$1" type veth peer name "${dev}b" numtxqueues "$1" numrxqueues "$1" netns "$ns"
	ip link set "${dev}a" up
	ip -n "$ns" link set "${dev}b" up
	attach_xdpcount "${dev}b"
}

# run NAME THREADS: one run of NAME, appends delivered pps to $work/NAME-THREADS.
run() {
	local before after secs
	before=$(counted)
	case $1 in
	livegen)
		secs=$("$work/livegen" -i "${dev}a" -n "$frames" -t "$2" -s 64 | field seconds) ;;
	xdpkit | xdpkit-rewrite)
		rewrite=never
		[ "$1" = xdpkit-rewrite ] && rewrite=always
		"$work/xdpkit" gen udp "${dev}a" --count "$frames" --threads "$2" --size 64 \
			--src-addr 10.0.0.1 --dst-addr 10.0.0.2 --dst-mac ff:ff:ff:ff:ff:ff \
			--rewrite-headers "$rewrite" --interval 1s --json >"$work/out.json" 2>"$work/stats.txt"
		secs=$(field elapsed_seconds <"$work/out.json") ;;
	esac
	sleep 0.2 # the peer's NAPI poll counts the last frames
	after=$(counted)
	awk -v d=$((after - before)) -v s="$secs" 'BEGIN {printf "%.0f\n", d / s}' >>"$work/$1-$2"
	awk -v d=$((after - before)) -v s="$secs" -v n="$1" -v t="$2" \
		'BEGIN {printf "  %-8s %d thread(s): %d frames delivered in %.3f s: %.2f Mpps\n", n, t, d, s, d / s / 1e6}'
}

echo "== 1 thread, single-queue veth, $frames frames of 64 bytes, $rounds rounds alternating"
pair 1
for r in $(seq "$rounds"); do
	if ((r % 2)); then run livegen 1; run xdpkit 1; else run xdpkit 1; run livegen 1; fi
	run xdpkit-rewrite 1
done
echo "  xdpkit's live statistics (last run, stderr):"
sed 's/^/    /' "$work/stats.txt" | tail -n 3
l1=$(median <"$work/livegen-1")
x1=$(median <"$work/xdpkit-1")
xr=$(median <"$work/xdpkit-rewrite-1")

echo "== $cpus threads, veth with $cpus queues"
rm -f "$work/livegen-1" "$work/xdpkit-1"
pair "$cpus"
for r in $(seq "$rounds"); do
	if ((r % 2)); then run livegen "$cpus"; run xdpkit "$cpus"; else run xdpkit "$cpus"; run livegen "$cpus"; fi
	run xdpkit 1
done
ln=$(median <"$work/livegen-$cpus")
xn=$(median <"$work/xdpkit-$cpus")
x1mq=$(median <"$work/xdpkit-1")

echo
echo "== medians (delivered pps)"
awk -v l1="$l1" -v x1="$x1" -v xr="$xr" -v ln="$ln" -v xn="$xn" -v x1mq="$x1mq" -v n="$cpus" 'BEGIN {
	printf "  1 thread:  livegen %.2f Mpps, xdpkit %.2f Mpps: ratio %.3f (target >= 0.95)\n", l1/1e6, x1/1e6, x1/l1
	printf "  1 thread, headers rewritten per frame: xdpkit %.2f Mpps: ratio %.3f\n", xr/1e6, xr/l1
	printf "  %d threads: livegen %.2f Mpps, xdpkit %.2f Mpps: ratio %.3f\n", n, ln/1e6, xn/1e6, xn/ln
	printf "  xdpkit scaling on the %d-queue veth: %d threads / 1 thread = %.2f\n", n, n, xn/x1mq
}'
