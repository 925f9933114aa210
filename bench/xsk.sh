#!/usr/bin/env bash
# xsk.sh: `xdpkit xsk rx` against xskrx, and `xdpkit xsk tx` against
# xsktx, the libxdp (C) references, on the same veth pair in the same run.
#
# RX: livegen (../shared/bench, the bare live-frames loop) sends 64-byte
# frames out of NAME-b, in a namespace, at full speed; the receiver under
# test sits on NAME-a in copy mode, busy-spinning, and reports the frames it
# got and its rate from its first frame to its last, and the socket's drop
# counters. ROUNDS rounds alternate which receiver goes first; medians are
# compared. Then each receiver gets FRAMES frames paced at the rate xskrx
# reached (xdpkit gen --pps) and reports its drops: the target is none.
#
# TX: the sender under test sends FRAMES 64-byte frames out of NAME-a in
# copy mode; xdpcount on NAME-b counts what arrives. Rate: frames delivered
# over the sender's own run time.
#
#   sudo bench/xsk.sh [ROUNDS] [FRAMES]      (defaults: 3, 10000000)
# Needs: clang, libbpf-dev, libxdp-dev, bpftool (scripts/setup.sh installs
# them), and ../shared/bench (set SHARED_BENCH to elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
frames=${2:-10000000}
ns=xkxb$$
dev=xkx$$
pin=/run/xdpkit-xskbench-$$
source bench/lib.sh

need_shared xskrx.c livegen.c xdpcount.c
cc -O2 -o "$work/xskrx" "$shared/xskrx.c" -lxdp -lbpf
cc -O2 -o "$work/livegen" "$shared/livegen.c" -lbpf -lpthread
cc -O2 -o "$work/xsktx" bench/xsktx.c -lxdp -lbpf
build_xdpcount
build_xdpkit

# A veth ${dev}a here, ${dev}b in $ns, IPv6 off on both so that no stray
# frames (router solicitations, MLD) reach the receivers.
ip netns add "$ns"
ip link add "${dev}a" type veth peer name "${dev}b" netns "$ns"
sysctl -qw "net.ipv6.conf.${dev}a.disable_ipv6=1"
ip netns exec "$ns" sysctl -qw "net.ipv6.conf.${dev}b.disable_ipv6=1"
ip link set "${dev}a" up
ip -n "$ns" link set "${dev}b" up
mac_a=$(cat "/sys/class/net/${dev}a/address")
mac_b=$(ip netns exec "$ns" cat "/sys/class/net/${dev}b/address")
sleep 1

wait_xdp() { # until the receiver's XDP program is on ${dev}a
	for _ in $(seq 100); do ip link show "${dev}a" | grep -q "prog/xdp" && return 0; sleep 0.05; done
	echo "xsk.sh: no XDP program appeared on ${dev}a" >&2; return 1
}

# receive TOOL SENDER...: one receiver run while SENDER runs in $ns; prints
# "packets pps drops".
receive() {
	local tool=$1 secs=$(( frames / 2000000 + 4 ))
	shift
	case $tool in
	xskrx) "$work/xskrx" -i "${dev}a" -c copy -d "$secs" >"$work/rx.json" 2>/dev/null & ;;
	xdpkit) "$work/xdpkit" xsk rx "${dev}a" --copy --duration "${secs}s" --json >"$work/rx.json" 2>/dev/null & ;;
	esac
	local pid=$!
	wait_xdp
	sleep 0.3
	ip netns exec "$ns" "$@" >/dev/null
	wait "$pid"
	case $tool in
	xskrx) echo "$(field packets <"$work/rx.json") $(field pps <"$work/rx.json") $(( $(field rx_dropped <"$work/rx.json") + $(field rx_ring_full <"$work/rx.json") ))" ;;
	xdpkit) echo "$(field rx_packets <"$work/rx.json") $(field rx_pps <"$work/rx.json") $(( $(field socket.rx_dropped <"$work/rx.json") + $(field socket.rx_ring_full <"$work/rx.json") ))" ;;
	esac
}

echo "== RX, copy mode, busy-spin: $frames frames of 64 bytes from livegen, $rounds rounds alternating"
for r in $(seq "$rounds"); do
	order="xskrx xdpkit"
	((r % 2)) || order="xdpkit xskrx"
	for tool in $order; do
		read -r pkts pps drops < <(receive "$tool" "$work/livegen" -i "${dev}b" -n "$frames")
		echo "$pps" >>"$work/rx-$tool"
		printf "  %-7s %d frames at %.2f Mpps, %d dropped\n" "$tool" "$pkts" "$(awk -v p="$pps" 'BEGIN{print p/1e6}')" "$drops"
	done
done
rc=$(median <"$work/rx-xskrx")
rx=$(median <"$work/rx-xdpkit")

rate=$(awk -v p="$rc" 'BEGIN {printf "%d", p}')
echo "== RX at xskrx's rate: $frames frames paced at $rate pps (xdpkit gen --pps)"
for tool in xskrx xdpkit; do
	read -r pkts pps drops < <(receive "$tool" "$work/xdpkit" gen udp "${dev}b" --count "$frames" --pps "$rate" \
		--src-addr 10.0.0.2 --dst-addr 10.0.0.1 --dst-mac "$mac_a")
	echo "$drops" >"$work/paced-$tool"
	printf "  %-7s %d of %d frames, %d dropped\n" "$tool" "$pkts" "$frames" "$drops"
done

# TX: xdpcount on ${dev}b counts what arrives.
attach_xdpcount "${dev}b"
echo "== TX, copy mode: $frames frames of 64 bytes to xdpcount, $rounds rounds alternating"
for r in $(seq "$rounds"); do
	order="xsktx xdpkit"
	((r % 2)) || order="xdpkit xsktx"
	for tool in $order; do
		before=$(counted)
		case $tool in
		xsktx) secs=$("$work/xsktx" -i "${dev}a" -s "$mac_a" -d "$mac_b" -c copy -n "$frames" -t 60 | field seconds) ;;
		xdpkit) secs=$("$work/xdpkit" xsk tx "${dev}a" --copy --count "$frames" --duration 60s --size 64 \
			--src-addr 10.0.0.1 --dst-addr 10.0.0.2 --dst-mac "$mac_b" --json | field active_s) ;;
		esac
		sleep 0.2
		d=$(( $(counted) - before ))
		awk -v d="$d" -v s="$secs" 'BEGIN {printf "%.0f\n", d / s}' >>"$work/tx-$tool"
		awk -v d="$d" -v s="$secs" -v n="$tool" 'BEGIN {printf "  %-7s %d frames delivered in %.3f s: %.2f Mpps\n", n, d, s, d / s / 1e6}'
	done
done
tc=$(median <"$work/tx-xsktx")
tx=$(median <"$work/tx-xdpkit")

echo
echo "== medians"
awk -v rc="$rc" -v rx="$rx" -v tc="$tc" -v tx="$tx" -v dc="$(cat "$work/paced-xskrx")" -v dx="$(cat "$work/paced-xdpkit")" 'BEGIN {
	printf "  RX: xskrx %.2f Mpps, xdpkit %.2f Mpps: ratio %.3f (target >= 1.0)\n", rc/1e6, rx/1e6, rx/rc
	printf "  RX at xskrx'"'"'s rate: drops xskrx %d, xdpkit %d (target 0)\n", dc, dx
	printf "  TX: xsktx %.2f Mpps, xdpkit %.2f Mpps: ratio %.3f\n", tc/1e6, tx/1e6, tx/tc
}'
