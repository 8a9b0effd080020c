# shellcheck shell=bash disable=SC2034
# Shared by scripts/*.sh (sourced, not run). Tool pins live here and only here.
#
# Tools are installed with `go install module@version` through the Go module
# proxy into .cache/tools/<go version>/<tool>@<version>/, so a pin or
# toolchain change installs afresh and nothing leaks into $GOPATH/bin.
# Delete .cache/ to start cold.

# The Go toolchain of build.sh and of every script here (tests, vet, lint,
# fuzz, govulncheck), whatever go is on PATH: the local go (go1.21 or later)
# fetches it through the module proxy on first use (golang.org/toolchain, a
# 72 MiB download, 253 MB in the module cache) and hands every command over
# to it. Tests run with the toolchain that builds the shipped binary, so they
# test what ships (README "Deploy"). `go run . local` outside these scripts
# still works with Go 1.26: go.mod asks for no newer Go.
GO_TOOLCHAIN=go1.27.3
export GOTOOLCHAIN=$GO_TOOLCHAIN

# build.sh's SBOM generator, run with `go run` (cached in the build cache).
CYCLONEDX_GOMOD_VERSION=v1.10.0
GOLANGCI_LINT_VERSION=v2.15.0
GOTESTSUM_VERSION=v1.13.0
GOVULNCHECK_VERSION=v1.9.0
# The vulnerability data: a pseudo-version of golang.org/x/vulndb. Pinned so
# that a CI run is reproducible; bump it (or run with VULNDB_VERSION=latest)
# to pick up new advisories.
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=$REPO_ROOT/.cache

# tool_bin PKG@VERSION: prints the path of the installed binary, installing it
# first if needed. Install output goes to stderr.
tool_bin() {
  local spec=$1 pkg=${1%@*} version=${1##*@}
  local name=${pkg##*/} gover dir
  gover=$(go env GOVERSION)
  dir=$CACHE_DIR/tools/$gover/$name@$version
  if [ ! -x "$dir/$name" ]; then
    echo "installing $spec (first run on this machine/toolchain)" >&2
    mkdir -p "$dir"
    # pkg@version installs ignore the project's go.mod (nothing is added to
    # it); GOFLAGS is reset so a -mod=... of the caller cannot interfere.
    if ! GOBIN=$dir GOFLAGS=-buildvcs=false go install "$spec" >&2; then
      echo "error: could not install $spec through the Go module proxy" >&2
      return 1
    fi
  fi
  printf '%s\n' "$dir/$name"
}

# go_files GLOB: the repository's files matching GLOB, tracked or new (not
# ignored), relative to REPO_ROOT. Falls back to find outside a git checkout.
go_files() {
  local glob=$1
  if git -C "$REPO_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$REPO_ROOT" ls-files --cached --others --exclude-standard -- "$glob" |
      while IFS= read -r f; do [ -f "$REPO_ROOT/$f" ] && printf '%s\n' "$f"; done
  else
    (cd "$REPO_ROOT" && find . -path ./.cache -prune -o -path ./dist -prune -o \
      -type f -name "$glob" -print | sed 's|^\./||')
  fi
}

# now_s: seconds since the epoch (for step timings).
now_s() { date +%s; }

# sha256 FILE: the SHA-256 of FILE in hex (sha256sum, or shasum where there is
# none, as on macOS).
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# only_flag FLAG [ARG...]: for a script whose one option is FLAG. Succeeds
# when FLAG is among the ARGs, fails when it is not; any other argument is a
# usage error that ends the script (exit 2).
only_flag() {
  local flag=$1 arg given=1
  shift
  for arg in "$@"; do
    case $arg in
    "$flag") given=0 ;;
    *) echo "unknown argument: $arg (try: $flag)" >&2; exit 2 ;;
    esac
  done
  return $given
}
