#!/usr/bin/env bash
# Proves that build.sh is reproducible: builds the checked-out commit in two
# directories and fails unless dist/function.zip, dist/main and
# dist/sbom.cdx.json come out byte-identical (sha256).
#
#   A  this checkout, as `bash build.sh` leaves it (a clone of HEAD instead
#      when the working tree has uncommitted changes: reproducibility is a
#      property of a commit, and the binary records vcs.modified);
#   B  a fresh clone of HEAD in a temporary directory, with its own module
#      cache (GOMODCACHE), filled from this machine's module cache as a
#      file:// proxy so that nothing is downloaded: the modules' sources and
#      the Go toolchain itself (GOROOT) then sit in other places too.
#
#   bash scripts/reproducible.sh                # what CI runs (about 30 s)
#   bash scripts/reproducible.sh --clean-cache  # B also starts from an empty
#                                               # build cache (about 3 minutes)
#
# Without --clean-cache, B shares the build cache (GOCACHE) with A. That
# still catches every path that leaks into the output: Go keys its cache by
# a build's inputs, and a -trimpath build leaves directories out of the key
# only because they are left out of the result; what it cannot catch is a
# compiler that gives different bytes for the same inputs, which the Go
# project rules out and tests itself. --clean-cache recompiles everything.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

clean_cache=0
if only_flag --clean-cache "$@"; then clean_cache=1; fi

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || {
  echo "reproducible.sh: $REPO_ROOT is not a git checkout; nothing to compare builds of" >&2
  exit 1
}
commit=$(git rev-parse HEAD)
modcache=$(go env GOMODCACHE)

scratch=$(mktemp -d)
# The module cache is read-only by design; make it removable first.
trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT

# clone DIR: a checkout of $commit in DIR, without the hard links a local
# clone would share with this repository's objects.
clone() {
  git clone --quiet --no-hardlinks --no-checkout "$REPO_ROOT" "$1"
  git -C "$1" -c advice.detachedHead=false checkout --quiet --detach "$commit"
}

# build DIR LABEL [VAR=VALUE...]: bash DIR/build.sh, from an unrelated
# directory, with the given environment; timed, output kept for failures.
build() {
  local dir=$1 label=$2 t0 rc=0
  shift 2
  t0=$(now_s)
  (cd "$scratch" && env "$@" bash "$dir/build.sh") >"$scratch/$label.log" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    cat "$scratch/$label.log" >&2
    echo "reproducible.sh: build $label in $dir failed (exit $rc)" >&2
    exit 1
  fi
  echo "build $label: $dir ($(($(now_s) - t0))s)"
}

if [ -z "$(git status --porcelain)" ]; then
  a=$REPO_ROOT
  build "$a" A
else
  echo "the working tree has uncommitted changes: A is a clone of HEAD too"
  a=$scratch/a
  clone "$a"
  build "$a" A
fi

b=$scratch/b
clone "$b"
# GOSUMDB=off: the proxy is a copy of modules this machine already verified
# (the project's own are checked against go.sum all the same), and the
# checksum database cannot be reached through a file:// proxy.
b_env=(GOMODCACHE="$scratch/gomodcache" GOPROXY="file://$modcache/cache/download" GOSUMDB=off)
if [ $clean_cache -eq 1 ]; then
  b_env+=(GOCACHE="$scratch/gocache")
fi
build "$b" B "${b_env[@]}"

echo "commit $commit, $GO_TOOLCHAIN; B: own directory and module cache$([ $clean_cache -eq 1 ] && echo ", empty build cache")"
differ=()
for f in dist/function.zip dist/main dist/sbom.cdx.json; do
  sa=$(sha256 "$a/$f")
  sb=$(sha256 "$b/$f")
  printf '  %-19s A %s\n  %-19s B %s\n' "$f" "$sa" "" "$sb"
  [ "$sa" = "$sb" ] || differ+=("$f")
done

if [ ${#differ[@]} -gt 0 ]; then
  echo
  echo "build information, A then B:"
  go version -m "$a/dist/main" | sed 1d >"$scratch/a.buildinfo"
  go version -m "$b/dist/main" | sed 1d >"$scratch/b.buildinfo"
  diff "$scratch/a.buildinfo" "$scratch/b.buildinfo" || true
  for dir in "$a" "$b" "$modcache" "$scratch/gomodcache"; do
    if grep -aqF "$dir" "$a/dist/main" "$b/dist/main"; then
      echo "a binary contains the build path $dir"
    fi
  done
  echo "FAIL: not reproducible: ${differ[*]} differ between two builds of $commit" >&2
  exit 1
fi
echo "reproducible: both builds gave the same dist/function.zip, dist/main and dist/sbom.cdx.json"
