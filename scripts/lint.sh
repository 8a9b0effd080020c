#!/usr/bin/env bash
# golangci-lint with the repo's .golangci.yml, at the version pinned in
# scripts/lib.sh (installed on first use). Extra arguments go to `run`,
# e.g. `bash scripts/lint.sh --fix` or `bash scripts/lint.sh ./handler/...`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

lint=$(tool_bin "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION")
# Its analysis cache lives with the other tool state, so `rm -rf .cache`
# really is a cold start.
export GOLANGCI_LINT_CACHE=${GOLANGCI_LINT_CACHE:-$CACHE_DIR/golangci-lint}

if [ $# -eq 0 ]; then set -- ./...; fi
exec "$lint" run "$@"
