#!/usr/bin/env bash
# The project's test command (README "Try it, test it"; .ci/run calls it).
# Offline except for the Go module proxy; safe to run from any directory.
#
#   bash scripts/test.sh          # everything: what CI runs
#   bash scripts/test.sh --quick  # gofmt, vet and tests only, for iterating
#
# Steps, in order, stopping at the first failure:
#   gofmt -> go vet -> golangci-lint -> go test -race -> short fuzz
#   -> build (build.sh) -> govulncheck (binary and source) -> reproducible
# Every step runs on the Go toolchain pinned in scripts/lib.sh (go1.27.3,
# fetched on first use), the one build.sh ships with. Lint, fuzz,
# reproducibility and vulncheck are also runnable alone: scripts/lint.sh,
# scripts/fuzz.sh [duration], scripts/reproducible.sh, scripts/vulncheck.sh.
# FUZZTIME sets the per-target fuzz time here (default 3s). Tools are pinned
# in scripts/lib.sh and installed under .cache/ on first use.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

quick=0
for arg in "$@"; do
  case $arg in
  --quick) quick=1 ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

results=$(mktemp)
trap 'rm -f "$results"' EXIT
timings=()
run_start=$(now_s)

summary() {
  echo
  echo "step timings:"
  local line
  for line in "${timings[@]}"; do echo "  $line"; done
  printf '  %-14s %5ss\n' total "$(($(now_s) - run_start))"
}

# step NAME CMD...: runs CMD, times it, stops the whole run if it fails.
step() {
  local name=$1 rc=0 t0 dt
  shift
  printf '\n==> %s\n' "$name"
  t0=$(now_s)
  "$@" || rc=$?
  dt=$(($(now_s) - t0))
  if [ $rc -ne 0 ]; then
    timings+=("$(printf '%-14s %5ss  FAILED' "$name" "$dt")")
    summary
    printf '\nFAIL: step "%s" failed (exit %d) after %ds; see its output above.\n' "$name" "$rc" "$dt" >&2
    exit 1
  fi
  timings+=("$(printf '%-14s %5ss' "$name" "$dt")")
  printf -- '--- %s: ok (%ds)\n' "$name" "$dt"
}

check_gofmt() {
  local files unformatted gofmt
  # The toolchain's own gofmt, not whichever one is on PATH.
  gofmt="$(go env GOROOT)/bin/gofmt"
  files=$(go_files '*.go')
  [ -n "$files" ] || { echo "no Go files found" >&2; return 1; }
  unformatted=$(xargs "$gofmt" -l <<<"$files")
  if [ -n "$unformatted" ]; then
    echo "gofmt would change these files (run: gofmt -w FILE):"
    echo "$unformatted"
    return 1
  fi
  echo "$(wc -l <<<"$files") files formatted"
}

run_tests() {
  local gotestsum
  gotestsum=$(tool_bin "gotest.tools/gotestsum@$GOTESTSUM_VERSION")
  "$gotestsum" --format pkgname --format-hide-empty-pkg --jsonfile "$results" -- \
    -race -count=1 -timeout 8m ./...
}

# count_tests ACTION: test-level events with that action in go test -json
# output (subtests included; package-level events have no "Test" field).
count_tests() { grep -c "^{\"Time\":\"[^\"]*\",\"Action\":\"$1\",\"Package\":\"[^\"]*\",\"Test\":" "$results" || true; }

# The first go command fetches the toolchain if this machine lacks it.
step toolchain go version
step gofmt check_gofmt
step "go vet" go vet ./...
if [ $quick -eq 0 ]; then step golangci-lint bash scripts/lint.sh; fi
step "go test -race" run_tests
if [ $quick -eq 0 ]; then
  step fuzz bash scripts/fuzz.sh "${FUZZTIME:-3s}"
  step build bash build.sh
  step govulncheck bash scripts/vulncheck.sh --no-build
  step reproducible bash scripts/reproducible.sh
fi

summary
if [ $quick -eq 1 ]; then echo "(--quick: golangci-lint, fuzz, build, govulncheck and reproducible skipped)"; fi
echo
echo "all checks passed"
echo "tests: $(count_tests pass) passed, $(count_tests fail) failed, $(count_tests skip) skipped"
