#!/usr/bin/env bash
# The main job, end to end against the real kernel: builds xdpkit, makes a
# test environment (a veth pair into a network namespace), checks objects
# with the verifier, attaches a counting XDP program with bpf_link, sends
# pings through it, shows status and the program's map, and tears it all
# down, also when interrupted. Installs what it needs first; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== build"
CGO_ENABLED=0 go build -o bin/xdpkit ./cmd/xdpkit
x=bin/xdpkit
env=demo
iface=xk-$env
pin=/sys/fs/bpf/xdpkit-demo

step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

cleanup() {
	$x detach "$iface" >/dev/null 2>&1 || true
	rm -rf "$pin"
	$x env teardown "$env" >/dev/null 2>&1 || true
}
cleanup # what an interrupted earlier run may have left
trap cleanup EXIT
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
step "traffic through the program: ping from the namespace" \
	$x env ping "$env" --count 5
step "what xdp_count counted, per EtherType and IP protocol (BTF-formatted, per CPU)" \
	$x map dump xdp_count_stats
step "detach" \
	$x detach "$iface"
step "status: nothing attached" \
	$x status "$iface"
step "tear down" \
	$x env teardown "$env"
echo
echo "demo: done"
