#!/usr/bin/env bash
# govulncheck, offline: the vulnerability database is built locally from the
# golang.org/x/vulndb module (fetched through the Go module proxy like any
# module) with that module's own cmd/indexdb, then govulncheck reads it with
# -db file://. Nothing else is contacted. Two scans:
#
#  1. binary: `govulncheck -mode binary dist/main`, the shipped binary as
#     build.sh makes it. Any vulnerability fails the run; there is no
#     allow-list. dist/main is stripped (-s), so govulncheck cannot see which
#     symbols it holds and judges every module (and the standard library) by
#     its version alone, as artefact scanners do.
#  2. source: `govulncheck ./...`, all of the code (the CLI and the emulators
#     too). A finding (a vulnerable symbol the code can reach) fails the run
#     unless its id is in scripts/vulncheck-allow.txt with a reason; allowed
#     ids no longer found are reported so the list can shrink.
#
#   bash scripts/vulncheck.sh                       # runs build.sh, then both scans
#   bash scripts/vulncheck.sh --no-build            # scans the dist/main already built
#   VULNDB_VERSION=latest bash scripts/vulncheck.sh # newest advisories
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

build=1
if only_flag --no-build "$@"; then build=0; fi

allowlist=${VULNCHECK_ALLOWLIST:-$REPO_ROOT/scripts/vulncheck-allow.txt}

govulncheck=$(tool_bin "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION")

# Resolve "latest" (or any query) to the exact version, from outside the
# module so the project's go.mod and go.sum are not touched.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if ! (cd "$scratch" && GOFLAGS='' go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" >"$scratch/dl.json"); then
  echo "error: could not download golang.org/x/vulndb@$VULNDB_VERSION through the Go module proxy" >&2
  cat "$scratch/dl.json" >&2 || true
  exit 1
fi
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" "$scratch/dl.json" | head -1; }
vulndb_version=$(json_field Version)
vulndb_src=$(json_field Dir)
if [ -z "$vulndb_version" ] || [ ! -d "$vulndb_src/data/osv" ]; then
  echo "error: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv directory" >&2
  exit 1
fi

db=$CACHE_DIR/vulndb/$vulndb_version
if [ ! -f "$db/index/db.json" ]; then
  indexdb=$(tool_bin "golang.org/x/vulndb/cmd/indexdb@$vulndb_version")
  echo "building the vulnerability database from golang.org/x/vulndb@$vulndb_version"
  rm -rf "$db.tmp"
  "$indexdb" -vulns "$vulndb_src/data/osv" -out "$db.tmp"
  rm -rf "$db" && mv "$db.tmp" "$db"
fi
echo "database: golang.org/x/vulndb@$vulndb_version ($(find "$db/ID" -name '*.json' | wc -l) advisories), govulncheck@$GOVULNCHECK_VERSION, $(go env GOVERSION)"

# scan OUT ARG...: govulncheck ARG... against the local database, its report
# in OUT and its exit status in scan_rc. Text mode exits 3 when it finds a
# vulnerability, 0 when it does not, anything else on error: an error ends
# the run.
scan() {
  local out=$1
  shift
  scan_rc=0
  "$govulncheck" -db "file://$db" "$@" >"$out" 2>&1 || scan_rc=$?
  if [ $scan_rc -ne 0 ] && [ $scan_rc -ne 3 ]; then
    cat "$out"
    echo "error: govulncheck $* failed (exit $scan_rc)" >&2
    exit 1
  fi
}

# 1. The shipped binary: no allow-list.
if [ $build -eq 1 ]; then
  bash build.sh >/dev/null
fi
[ -f dist/main ] || { echo "error: no dist/main; run bash build.sh first" >&2; exit 1; }
echo "binary: dist/main, built by $(go version dist/main | sed 's/^dist\/main: //'), sha256 $(sha256 dist/main)"
out=$scratch/binary.txt
scan "$out" -mode binary dist/main
if [ $scan_rc -eq 3 ] || ! grep -qx 'No vulnerabilities found.' "$out"; then
  cat "$out"
  echo
  echo "FAIL: govulncheck -mode binary dist/main found vulnerabilities in the shipped binary (no allow-list applies)." >&2
  echo "Upgrade the module named above (go get MODULE@FIXED-VERSION) or the toolchain pinned in scripts/lib.sh." >&2
  exit 1
fi
echo "govulncheck -mode binary dist/main: $(cat "$out")"

# 2. The source: reachable vulnerabilities, with the allow-list.
out=$scratch/source.txt
scan "$out" ./...

found=$(grep -oE '^Vulnerability #[0-9]+: GO-[0-9]+-[0-9]+' "$out" | sed 's/.*: //' | sort -u || true)
allowed_ids=$(sed -e 's/#.*//' "$allowlist" 2>/dev/null | awk 'NF {print $1}' | sort -u || true)

unexpected=()
for id in $found; do
  if grep -qx "$id" <<<"$allowed_ids"; then
    reason=$(grep -E "^${id}[[:space:]]" "$allowlist" | head -1 | sed -E "s/^${id}[[:space:]]+//")
    echo "allowed  $id  $reason"
  else
    unexpected+=("$id")
  fi
done
for id in $allowed_ids; do
  if ! grep -qx "$id" <<<"$found"; then
    echo "note: $id is in scripts/vulncheck-allow.txt but no longer found; remove it"
  fi
done
# govulncheck's own closing summary: counts of reachable / imported-only /
# required-only vulnerabilities, or that it found none at all.
summary=$(sed -n '/^Your code is affected by/,/^Use .-show verbose/p' "$out")
[ -n "$summary" ] || summary=$(grep -x 'No vulnerabilities found.' "$out" || true)
echo "govulncheck ./...: $summary"

if [ ${#unexpected[@]} -gt 0 ]; then
  echo
  cat "$out"
  echo
  echo "FAIL: govulncheck found ${#unexpected[@]} reachable vulnerabilit$([ ${#unexpected[@]} -eq 1 ] && echo y || echo ies) not in scripts/vulncheck-allow.txt: ${unexpected[*]}" >&2
  echo "Upgrade the module (or toolchain) named above, or add the id to the allowlist with a reason." >&2
  exit 1
fi
echo "govulncheck: the shipped binary has no known vulnerability; the source reaches none outside the allowlist"
