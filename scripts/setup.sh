#!/usr/bin/env bash
# Prepares a machine for xdpkit: Debian packages, Go on PATH, a BPF
# filesystem at /sys/fs/bpf. Idempotent: run it as often as you like.
# Sourced by scripts/test.sh and scripts/demo.sh; runnable on its own.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "xdpkit setup: needs root (installs packages, mounts bpffs, loads BPF programs): run it with sudo" >&2
	exit 3
fi

# Go: the machine's toolchain, where Debian's images keep it.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
	echo "xdpkit setup: no Go toolchain found (need Go >= 1.26 on PATH or in /usr/local/go)" >&2
	exit 1
fi
export PATH="$(go env GOPATH)/bin:$PATH"

# Debian packages: clang/llvm/libbpf-dev rebuild the BPF objects (CI checks
# they match the committed ones, which Debian 12's clang 14 built); gcc is
# the C compiler `go test -race` links its runtime with; the rest are the
# tools tests drive for real; libxdp-dev builds the AF_XDP reference of
# bench/xsk.sh.
packages=(clang llvm libbpf-dev libxdp-dev linux-libc-dev gcc libc6-dev iproute2 iputils-ping tcpdump bpftool ethtool)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "xdpkit setup: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs, for pinned programs, links and maps.
if ! mountpoint -q /sys/fs/bpf; then
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf
fi
