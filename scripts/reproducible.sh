#!/usr/bin/env bash
# Proves that build.sh is reproducible: builds the checked-out commit in two
# directories and fails unless dist/function.zip, dist/main and
# dist/sbom.cdx.json come out byte-identical (sha256).
#
#   A  this checkout, as `bash build.sh` leaves it (a clone of HEAD instead
#      when the working tree has uncommitted changes: reproducibility is a
#      property of a commit, and the binary records vcs.modified);
#   B  a fresh clone of HEAD in a temporary directory, built with an empty
#      build cache (GOCACHE) and its own module cache (GOMODCACHE), filled
#      from this machine's module cache as a file:// proxy, so that nothing
#      is downloaded and the Go toolchain itself (GOROOT) sits elsewhere too.
#
#   bash scripts/reproducible.sh
#
# B compiles everything from scratch: about 2 minutes of CPU on a warm machine.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

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
build "$b" B \
  GOCACHE="$scratch/gocache" \
  GOMODCACHE="$scratch/gomodcache" \
  GOPROXY="file://$modcache/cache/download" \
  GOSUMDB=off

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

echo "commit $commit, $GO_TOOLCHAIN"
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
  go version -m "$a/dist/main" >"$scratch/a.buildinfo"
  go version -m "$b/dist/main" >"$scratch/b.buildinfo"
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
