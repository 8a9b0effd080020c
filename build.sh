#!/usr/bin/env bash
# Builds the Function Compute deployment package:
#   dist/main          static linux/amd64 executable (FC runtime go1, handler "main")
#   dist/function.zip  `main` at the archive root, mode 0755 (what s.yaml uploads)
# Works from any directory; needs only the Go toolchain (no zip package).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

die() {
	echo "build.sh: $*" >&2
	exit 1
}
trap 'die "failed at line $LINENO: $BASH_COMMAND"' ERR

command -v go >/dev/null 2>&1 || die "the go command is not on PATH"
[[ -f main.go ]] || die "no main.go at the module root ($(pwd)); nothing to build"

mkdir -p dist
rm -f dist/main dist/function.zip

# CGO_ENABLED=0: FC's go1 runtime gives no guarantee about the libc, so the
# binary must not need one. -trimpath keeps build paths out of the binary and
# its panics; -s -w drop symbol and DWARF tables the function never reads.
# -tags fconly leaves the CLI and the emulators out (see main.go).
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
	go build -trimpath -tags fconly -ldflags='-s -w' -o dist/main .

# mkzip runs on the build machine, so it is built for the host, not for FC.
GOOS= GOARCH= CGO_ENABLED=0 go run ./internal/tools/mkzip -o dist/function.zip -mode 0755 dist/main

[[ -s dist/function.zip ]] || die "dist/function.zip was not written"

size() { wc -c <"$1" | tr -d ' '; }
printf 'dist/main          %10s bytes\n' "$(size dist/main)"
printf 'dist/function.zip  %10s bytes\n' "$(size dist/function.zip)"
