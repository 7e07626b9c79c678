#!/bin/sh
# compare.sh runs the merge comparison once, -count times, and prints it with
# benchstat: one column per implementation, each compared with the floor.
#
#   ./compare.sh [count]    (default 10; needs benchstat on PATH or in ~/go/bin)
set -eu
cd "$(dirname "$0")"
count=${1:-10}
out=$(mktemp -d)
go test -run '^$' -bench '^BenchmarkMerge$' -benchmem -count "$count" . | tee "$out/raw.txt"
for impl in floor offtheshelf occ; do
	grep -E "^(goos|goarch|pkg|cpu):" "$out/raw.txt" > "$out/$impl.txt"
	grep "^Benchmark.*/$impl-" "$out/raw.txt" | sed "s|/$impl-|-|" >> "$out/$impl.txt"
done
benchstat=$(command -v benchstat || echo "$HOME/go/bin/benchstat")
cd "$out" && "$benchstat" floor=floor.txt offtheshelf=offtheshelf.txt occ=occ.txt
