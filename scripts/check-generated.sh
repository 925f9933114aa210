#!/usr/bin/env bash
# Rebuilds every bpf2go object from its C source in a scratch copy of the
# tree and fails when the result differs from what is committed: the
# committed objects are what `go build` embeds, so they must be what the
# sources say. The objects are built with Debian 12's clang 14; another
# clang version compiles to other bytes, which this check reports.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "clang: $(clang --version | head -n 1)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The tree as git sees it: tracked files, and untracked ones not ignored.
files=$(git ls-files --cached --others --exclude-standard)
printf '%s\n' "$files" | while IFS= read -r f; do
	[ -e "$f" ] || continue # deleted in the work tree
	mkdir -p "$scratch/$(dirname "$f")"
	cp -p "$f" "$scratch/$f"
done
(cd "$scratch" && go generate ./... >/dev/null)

changed=0
objects=$(git ls-files --cached --others --exclude-standard '*_bpfel.o' '*_bpfel.go')
if [ -z "$objects" ]; then
	echo "no generated objects found: is this an xdpkit checkout?" >&2
	exit 1
fi
while IFS= read -r f; do
	if ! cmp -s "$f" "$scratch/$f"; then
		echo "stale: $f differs from what its C source compiles to (run: go generate ./... and commit)" >&2
		changed=1
	fi
done <<<"$objects"

# Objects that a go:generate line produces but nobody committed.
generated=$(cd "$scratch" && find . \( -name '*_bpfel.o' -o -name '*_bpfel.go' \) | sed 's|^\./||')
while IFS= read -r f; do
	if [ -n "$f" ] && [ ! -e "$f" ]; then
		echo "missing: $f is generated but not in the tree (run: go generate ./... and commit it)" >&2
		changed=1
	fi
done <<<"$generated"

if [ "$changed" -ne 0 ]; then
	exit 1
fi
echo "generated objects are up to date ($(printf '%s\n' "$objects" | grep -c '\.o$') objects)"
