#!/usr/bin/env bash
# Builds the Function Compute deployment package:
#   dist/main           static linux/amd64 executable (FC runtime go1, handler "main")
#   dist/function.zip   `main` at the archive root, mode 0755 (what s.yaml uploads)
#   dist/sbom.cdx.json  CycloneDX SBOM of dist/main: every module in it, and the Go toolchain
# Works from any directory; needs only Go (any go1.21 or later: the go1.27.3
# toolchain and the SBOM tool come through the Go module proxy on first use).
# Two runs from the same commit give a byte-identical function.zip (README "Deploy").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

die() {
	echo "build.sh: $*" >&2
	exit 1
}
trap 'die "failed at line $LINENO: $BASH_COMMAND"' ERR

command -v go >/dev/null 2>&1 || die "the go command is not on PATH"
[[ -f main.go ]] || die "no main.go at the module root ($(pwd)); nothing to build"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# The shipped binary is built with the toolchain pinned in lib.sh whatever go
# is on PATH: go1.26.8 has ten vulnerabilities reachable from this code that
# go1.27.3 fixes. lib.sh's GOTOOLCHAIN makes the local go fetch it
# (golang.org/toolchain through the module proxy, once) and hand over to it.
# Everything else that could change the output is fixed here too, so that the
# artefact depends on the commit alone: no GOFLAGS from the environment or
# `go env -w`, the baseline amd64 instruction set, no experiments.
export GOFLAGS= GOAMD64=v1 GOEXPERIMENT=

mkdir -p dist
rm -f dist/main dist/function.zip dist/sbom.cdx.json

# CGO_ENABLED=0: FC's go1 runtime gives no guarantee about the libc, so the
# binary must not need one. -trimpath keeps build paths (checkout, module
# cache, GOROOT) out of the binary and its panics, so that where it was built
# does not change its bytes. -buildvcs=true records the commit (vcs.revision,
# vcs.time, vcs.modified; `go version -m dist/main` shows them) and fails
# rather than leave it out when git cannot be run; a tree without .git
# builds unstamped. -s -w drop symbol and DWARF tables the function never
# reads. -tags fconly leaves the CLI and the emulators out (see main.go).
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
	go build -trimpath -buildvcs=true -tags fconly -ldflags='-s -w' -o dist/main .

built_with=$(go version dist/main)
[[ $built_with == "dist/main: $GO_TOOLCHAIN" ]] || die "dist/main was built by ${built_with#dist/main: }, want $GO_TOOLCHAIN"

# Tools run on the build machine, so they are built for the host; with
# -trimpath they reuse the standard library compiled for dist/main instead of
# compiling it a second time.
#
# The SBOM is read from the binary's own build information (the modules the
# linker put in, with versions and go.sum hashes) plus the toolchain (-std).
# No serial number or timestamp, so that it too is the same on every build.
GOOS= GOARCH= CGO_ENABLED=0 go run -trimpath \
	"github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_GOMOD_VERSION" \
	bin -json -std -noserial -notimestamp -output dist/sbom.cdx.json dist/main

GOOS= GOARCH= CGO_ENABLED=0 go run -trimpath ./internal/tools/mkzip -o dist/function.zip -mode 0755 dist/main

[[ -s dist/function.zip ]] || die "dist/function.zip was not written"

size() { wc -c <"$1" | tr -d ' '; }
printf 'toolchain          %s\n' "$GO_TOOLCHAIN"
printf 'dist/main          %10s bytes  sha256 %s\n' "$(size dist/main)" "$(sha256 dist/main)"
printf 'dist/function.zip  %10s bytes  sha256 %s\n' "$(size dist/function.zip)" "$(sha256 dist/function.zip)"
printf 'dist/sbom.cdx.json %10s bytes\n' "$(size dist/sbom.cdx.json)"
