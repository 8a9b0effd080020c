#!/usr/bin/env bash
# Runs every benchmark of bench/ against the function exactly as build.sh
# builds it, then prints the results as a markdown table with the targets
# (BENCHMARKS.md explains each figure).
#
#   bash scripts/bench.sh                     # everything, default 2s per benchmark
#   bash scripts/bench.sh -benchtime=5s       # extra flags go to `go test`
#   bash scripts/bench.sh -bench ColdStart    # a later -bench wins
#
# The raw `go test -bench` output goes to stderr, the table to stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v go >/dev/null 2>&1 || { echo "bench.sh: the go command is not on PATH" >&2; exit 1; }
# The pinned toolchain (GOTOOLCHAIN) for the in-process benchmarks too, so
# that every figure is of the code as build.sh ships it.
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

echo "==> bash build.sh" >&2
bash build.sh >&2

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

echo "==> go test -run '^\$' -bench . -benchmem ./bench/" >&2
BENCH_FUNCTION_BIN="$PWD/dist/main" BENCH_FUNCTION_ZIP="$PWD/dist/function.zip" \
	go test -run '^$' -bench . -benchmem -benchtime=2s -count=1 -timeout 30m "$@" ./bench/ | tee "$raw" >&2

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
printf '\nMachine: %s CPUs (nproc), %s, %s, %s\n\n' "$(nproc)" "${cpu:-unknown CPU}" "$(go env GOVERSION)" "$(uname -sr)"

# One row per reported metric. Targets are those of issue 7; "met" is
# computed here from the measured value.
awk '
BEGIN {
	target["ColdStart x-hello"] = 1.3
	target["WarmInProcess p50-ms"] = 2
	target["WarmBinary p50-ms"] = 2
	target["DetachLag/detach=2s lag-p50-ms"] = 1000
	target["DetachLag/detach=5s lag-p50-ms"] = 1000
	target["DetachLag/detach=2s ecs-calls-max"] = 6
	target["DetachLag/detach=5s ecs-calls-max"] = 6
	# Allocations are the function'"'"'s own only in the in-process benchmark.
	memOK["WarmInProcess"] = 1
	print "| benchmark | metric | value | target | |"
	print "|---|---|---:|---|---|"
}
/^Benchmark/ {
	name = $1
	sub(/^Benchmark/, "", name)
	sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) {
		value = $i; unit = $(i + 1)
		if (unit == "ns/op") continue
		if ((unit == "B/op" || unit == "allocs/op") && !(name in memOK)) continue
		key = name " " unit
		t = "—"; verdict = ""
		if (key in target) {
			t = "≤ " target[key]
			verdict = (value + 0 <= target[key]) ? "met" : "**missed**"
		}
		printf "| %s | %s | %s | %s | %s |\n", name, unit, value, t, verdict
	}
}
/^(FAIL|panic:)/ { failed = 1 }
END { if (failed) { print "\nbench.sh: a benchmark failed (see the output above)" > "/dev/stderr"; exit 1 } }
' "$raw"
