#!/usr/bin/env bash
# Runs every `func Fuzz…` target in the module, one at a time (go test -fuzz
# takes one package and one target per run), each for DURATION.
#
#   bash scripts/fuzz.sh              # 10s per target
#   bash scripts/fuzz.sh 5m           # the long run
#   bash scripts/fuzz.sh 30s Recognise  # only targets matching the regex
#
# DURATION is a Go duration (3s, 5m, 1h30m) or an exec count (100000x).
# scripts/test.sh runs this with a few seconds per target.
#
# A failing input is written by go test to <pkg>/testdata/fuzz/<FuzzX>/<hash>.
# Fix the bug and commit that file: plain `go test` (and so CI) then runs it
# as a regression seed for ever.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

dur=${1:-10s}
filter=${2:-.}
if ! [[ $dur =~ ^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$ || $dur =~ ^[0-9]+x$ ]]; then
  echo "usage: $0 [DURATION] [TARGET_REGEX]   (DURATION like 10s, 5m, 100000x)" >&2
  exit 2
fi

# go test's -timeout bounds the whole fuzzing run: allow the fuzz time plus
# room for building and the baseline pass over the corpus.
timeout=10m
if [[ $dur =~ ^([0-9]+)(s|m|h)$ ]]; then
  n=${BASH_REMATCH[1]}
  case ${BASH_REMATCH[2]} in s) secs=$n ;; m) secs=$((n * 60)) ;; h) secs=$((n * 3600)) ;; esac
  timeout=$((secs + 600))s
elif [[ $dur =~ [hm] ]]; then
  timeout=0 # compound durations (1h30m): no limit rather than a wrong one
fi

# Discovery: grep finds the packages that declare fuzz targets (cheap), then
# `go test -list` asks the go command which targets really build there (build
# tags, and a compile error is reported here rather than per target).
mapfile -t dirs < <(go_files '*_test.go' | grep -vE '(^|/)(testdata|vendor)/|(^|/)[._]' |
  while IFS= read -r f; do grep -lE '^func Fuzz[A-Za-z0-9_]*\(' "$f" || true; done |
  xargs -r -n1 dirname | sort -u | sed 's|^|./|; s|^\./\.$|.|')
if [ ${#dirs[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets found"
  exit 0
fi

listing=$(mktemp)
trap 'rm -f "$listing"' EXIT
if ! go test -list '^Fuzz' "${dirs[@]}" >"$listing" 2>&1; then
  cat "$listing" >&2
  echo "fuzz: FAIL: listing fuzz targets failed (see above)" >&2
  exit 1
fi
targets=() # "importpath target"
pending=()
while IFS= read -r line; do
  case $line in
  Fuzz*) pending+=("$line") ;;
  ok*)
    pkg=$(awk '{print $2}' <<<"$line")
    for t in "${pending[@]}"; do
      if [[ $t =~ $filter ]]; then targets+=("$pkg $t"); fi
    done
    pending=()
    ;;
  esac
done <"$listing"
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets match '$filter'" >&2
  exit 1 # a filter that matches nothing is a typo, not a pass
fi

module=$(go list -m)
marker=$(mktemp)
trap 'rm -f "$listing" "$marker"' EXIT
echo "fuzz: ${#targets[@]} targets, $dur each"

# fuzz_once PKG TARGET LOG: one fuzzing run of TARGET, its output in LOG.
fuzz_once() {
  go test -run '^$' -fuzz "^${2}\$" -fuzztime "$dur" -timeout "$timeout" "$1" >"$3" 2>&1
}

total_execs=0
failed=()
for entry in "${targets[@]}"; do
  pkg=${entry% *} name=${entry#* }
  short=${pkg#"$module"/}
  log=$(mktemp)
  start=$(now_s)
  status=ok
  if ! fuzz_once "$pkg" "$name" "$log"; then
    status=FAIL
    # go's fuzz coordinator can fail with a bare "context deadline exceeded"
    # when -fuzztime ends while a worker is slow to answer (a loaded
    # machine); no input is written then. That is the tool, not a finding:
    # run the target once more. A real failure names its input file.
    if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
      echo "  note $name: fuzz coordinator timed out without a failing input; running it again" >&2
      if fuzz_once "$pkg" "$name" "$log"; then status=ok; fi
    fi
  fi
  secs=$(($(now_s) - start))
  # Progress lines look like "fuzz: elapsed: 3s, execs: 12345 (4115/sec), ...";
  # the last one carries the run's total.
  execs=$(grep -oE 'fuzz: elapsed: [0-9]+s, execs: [0-9]+' "$log" | tail -1 | sed 's/.*execs: //' || true)
  execs=${execs:-0}
  total_execs=$((total_execs + execs))
  printf '  %-4s %-26s %-28s %12s execs  %4ss\n' "$status" "$name" "$short" "$execs" "$secs"
  if [ $status = FAIL ]; then
    failed+=("$short $name")
    sed 's/^/      | /' "$log"
  fi
  rm -f "$log"
done

echo "fuzz: total $total_execs execs over ${#targets[@]} targets"

new_inputs=$(find . -path ./.cache -prune -o -path '*/testdata/fuzz/*' -type f -newer "$marker" -print 2>/dev/null || true)
if [ -n "$new_inputs" ]; then
  echo "fuzz: new failing inputs (fix the bug, then commit them as regression seeds):"
  while IFS= read -r f; do
    echo "  $f"
    head -c 2000 "$f" | sed 's/^/      /'
    echo
  done <<<"$new_inputs"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAIL: ${#failed[@]} of ${#targets[@]} targets failed: $(printf '%s; ' "${failed[@]}")" >&2
  exit 1
fi
