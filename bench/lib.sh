# bench/lib.sh: what the benchmark scripts share. Source it from the
# repository's root after setting ns, dev and pin (this run's namespace,
# veth name prefix and bpffs mount point). It makes $work, cleans up the
# veth pair, the namespace, the pins and $work on exit, and offers:
#   need_shared FILE...      fail clearly when ../shared/bench lacks one
#   build_xdpcount, build_xdpkit
#   attach_xdpcount IFACE    load xdpcount pinned under $pin, attach it to
#                            IFACE in $ns; counted prints what it counted
#   median                   the median of numbers on stdin
#   field NAME[.SUB]         a field of the last JSON line on stdin
export PATH=$PATH:/usr/local/go/bin
shared=${SHARED_BENCH:-../shared/bench}
work=$(mktemp -d)

cleanup_pair() {
	ip netns del "$ns" 2>/dev/null || true
	ip link del "${dev}a" 2>/dev/null || true
	rm -f "$pin"/* 2>/dev/null || true
}
bench_cleanup() {
	cleanup_pair
	umount "$pin" 2>/dev/null || true
	rm -rf "$pin" "$work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

need_shared() {
	local f
	for f in "$@"; do
		[ -f "$shared/$f" ] || { echo "$(basename "$0"): $shared/$f not found: set SHARED_BENCH" >&2; exit 2; }
	done
}
build_xdpcount() {
	clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -c "$shared/xdpcount.c" -o "$work/xdpcount.o"
}
build_xdpkit() { CGO_ENABLED=0 go build -o "$work/xdpkit" ./cmd/xdpkit; }
attach_xdpcount() {
	mkdir -p "$pin"
	mountpoint -q "$pin" || mount -t bpf bpf "$pin"
	bpftool prog load "$work/xdpcount.o" "$pin/prog" type xdp pinmaps "$pin"
	ip netns exec "$ns" bpftool net attach xdpdrv pinned "$pin/prog" dev "$1"
}
counted() {
	bpftool -j map lookup pinned "$pin/counts" key 0 0 0 0 | python3 -c '
import json,sys; d=json.load(sys.stdin)
vals=d.get("values") or d.get("formatted",{}).get("values")
print(sum(int(v["value"]) if isinstance(v["value"],int) else int.from_bytes(bytes(int(x,16) for x in v["value"]),"little") for v in vals))'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() {
	python3 -c 'import json,sys
d=json.loads(sys.stdin.read().strip().splitlines()[-1])
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"
}
