#!/usr/bin/env bash
# Runs xdpkit's whole test suite, kernel tests included, on a fresh machine:
# installs what it needs first (scripts/setup.sh). With CI=true, a test that
# would skip for missing privileges or kernel features fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== generated BPF objects match bpf/ sources"
scripts/check-generated.sh

echo "== build without cgo"
CGO_ENABLED=0 go build -o /dev/null ./cmd/xdpkit

echo "== go test -race (kernel tests run for real)"
# With CI=true, a test that would skip for lack of privileges or kernel
# features fails instead (internal/testutil.SkipOrFail).
go test -race -count=1 -timeout 20m ./...
