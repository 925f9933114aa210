#!/usr/bin/env bash
# Rebuilds every bpf2go object from its C source in a scratch copy of the
# tree and fails when the result differs from what is committed: the
# committed objects are what `go build` embeds, so they must be what the
# sources say.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$scratch/" 2>/dev/null || true
(cd "$scratch" && go generate ./... >/dev/null)

changed=0
while IFS= read -r f; do
	if ! cmp -s "$f" "$scratch/$f"; then
		echo "stale: $f differs from what its C source compiles to (run: go generate ./...)" >&2
		changed=1
	fi
done < <(git ls-files --cached --others --exclude-standard '*_bpfel.o' '*_bpfel.go')

# Objects that a go:generate line produces but nobody committed.
while IFS= read -r f; do
	rel=${f#"$scratch"/}
	if [ ! -e "$rel" ]; then
		echo "missing: $rel is generated but not in the tree (run: go generate ./... and commit it)" >&2
		changed=1
	fi
done < <(find "$scratch" -name '*_bpfel.o' -o -name '*_bpfel.go')

if [ "$changed" -ne 0 ]; then
	exit 1
fi
echo "generated objects are up to date"
