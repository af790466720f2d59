#!/usr/bin/env bash
# The demo: an example app behind a real daprd v1.18.0, on loopback, with a
# freshly generated token. Calls through the sidecar are accepted, calls
# around it rejected; the table says which, then both processes are stopped.
#
# Usage: scripts/demo.sh            (the gin example)
#        DEMO_APP=chi scripts/demo.sh   (or echo, fiber)
#
# daprd is built from the Go module proxy on first use (a few minutes, with
# progress), then taken from the cache (see scripts/daprd.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'demo: %s\n' "$*" >&2; }

log "getting daprd v1.18.0 (built once from the Go module proxy, then cached)"
DAPRD=$(bash scripts/daprd.sh v1.18.0)
export DAPRD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/apptoken-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

log "building the demo"
go -C e2e build -o "$tmp/demo" ./cmd/demo

# The demo stops the app and daprd itself, on success, failure, Ctrl-C or
# SIGTERM; they are also killed by the kernel if the demo dies.
"$tmp/demo"
