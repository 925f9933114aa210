#!/usr/bin/env bash
# The main job, end to end against the real kernel: builds xdpkit, makes a
# test environment (a veth pair into a network namespace), checks objects
# with the verifier, attaches a counting XDP program with bpf_link, sends
# pings through it (captured with tcpdump), shows status and the program's
# map, tears it all down, also when interrupted, and then replays the
# captured pings through an XDP firewall with BPF_PROG_RUN: a verdict per
# packet, a summary, the replies it built. Before the teardown, the traffic
# generator sends two million frames on XDP live frames and says how many
# arrived, and xdpkit's AF_XDP ping responder answers a real ping and
# ping -6 from userspace. Installs what it needs first;
# safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== build"
CGO_ENABLED=0 go build -o bin/xdpkit ./cmd/xdpkit
x=bin/xdpkit
env=demo
iface=xk-$env
pin=/sys/fs/bpf/xdpkit-demo
work=$(mktemp -d)

step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

cleanup() {
	$x detach "$iface" >/dev/null 2>&1 || true
	rm -rf "$pin"
	$x env teardown "$env" >/dev/null 2>&1 || true
}
trap_exit() {
	cleanup
	rm -rf "$work"
}
cleanup # what an interrupted earlier run may have left
trap trap_exit EXIT
trap 'exit 130' INT TERM

step "a test environment: $iface here, $iface-in in netns xk-$env" \
	$x env setup "$env"
step "load an object: the verifier accepts it (released again at exit)" \
	$x prog load internal/builtin/xdpcount_bpfel.o
echo
echo "== an object the verifier rejects, explained"
echo "\$ $x prog load internal/testprogs/bad_packet_bpfel.o"
if $x prog load internal/testprogs/bad_packet_bpfel.o; then
	echo "demo: the verifier was expected to reject bad_packet" >&2
	exit 1
fi
step "attach xdp_count to $iface with bpf_link, pinned so it outlives this command" \
	$x attach "$iface" internal/builtin/xdpcount_bpfel.o --pin "$pin"
step "status" \
	$x status "$iface"
echo
echo "== traffic through the program: ping from the namespace, captured with tcpdump"
echo "\$ $x env ping $env --count 5"
tcpdump -i "$iface" -w "$work/ping.pcap" -U -q 2>/dev/null &
tcpdump_pid=$!
for _ in $(seq 50); do [ -s "$work/ping.pcap" ] && break; sleep 0.1; done # tcpdump is listening
$x env ping "$env" --count 5
sleep 0.5
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
step "what xdp_count counted, per EtherType and IP protocol (BTF-formatted, per CPU)" \
	$x map dump xdp_count_stats
step "detach" \
	$x detach "$iface"
step "status: nothing attached" \
	$x status "$iface"
echo
echo "== can $iface send XDP frames? A veth drops them unless its peer has an XDP program"
echo "\$ $x gen probe $iface"
$x gen probe "$iface" || echo "(exit $?: not as it is; --peer-prog attaches a program to the peer for a run)"
step "the traffic generator on XDP live frames: two million UDP frames over 16 destination ports, counted and dropped by a program on the peer in netns xk-$env" \
	$x gen udp "$iface" --count 2000000 --dyn-ports 16 --peer-prog=drop
step "the same into the peer's stack, paced at 100 kpps for 2 seconds" \
	$x gen udp "$iface" --pps 100000 --duration 2s --peer-prog
echo
echo "== AF_XDP: xdpkit answers ping from userspace. The redirect program sends every frame of queue 0 to an"
echo "   AF_XDP socket; ARP, neighbour solicitations and echo requests are answered in place in the UMEM and"
echo "   leave through the TX ring. The kernel's stack never sees them."
v4=$(ip -4 -o addr show dev "$iface" | awk '{print $4}' | cut -d/ -f1 | head -n 1)
v6=$(ip -6 -o addr show dev "$iface" scope global | awk '{print $4}' | cut -d/ -f1 | head -n 1)
echo "\$ $x xsk ping $iface --copy --duration 20s &"
$x xsk ping "$iface" --copy --duration 20s --interval 1s >"$work/xskping.out" 2>"$work/xskping.err" &
xsk_pid=$!
for _ in $(seq 100); do ip link show "$iface" | grep -q prog/xdp && break; sleep 0.05; done
ip netns exec "xk-$env" ip neigh flush all # so that the responder must answer ARP and NDP too
step "a real ping -6 from netns xk-$env" \
	ip netns exec "xk-$env" ping -6 -c 3 -i 0.2 -W 2 "$v6"
step "and IPv4" \
	ip netns exec "xk-$env" ping -c 3 -i 0.2 -W 2 "$v4"
kill -INT "$xsk_pid"
status=0
wait "$xsk_pid" || status=$?
[ "$status" = 130 ] || { echo "demo: xsk ping exited $status" >&2; cat "$work/xskping.err" >&2; exit 1; }
echo
echo "== what xsk ping reported (live statistics on stderr, the last of them; the report on stdout)"
tail -n 4 "$work/xskping.err"
cat "$work/xskping.out"
step "tear down" \
	$x env teardown "$env"
step "replay the capture through an XDP firewall with BPF_PROG_RUN (nothing attached, nothing sent): echo requests become replies (XDP_TX), telnet is dropped" \
	$x run internal/builtin/xdp_fw_bpfel.o --pcap "$work/ping.pcap" --packet 'eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/tcp(dport=23)' \
	--out "$work/replies.pcap" --out-verdict XDP_TX --dump-maps
step "the frames it sent back, as tcpdump reads them" \
	tcpdump -nr "$work/replies.pcap" icmp or icmp6
step "the same program's verdicts as a Go table test would check them (xdptest)" \
	go test -count=1 -run 'TestXDPFirewall$' ./internal/builtin/
echo
echo "demo: done"
