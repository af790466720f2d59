#!/usr/bin/env bash
# End-to-end suite: every example app behind real daprd v1.14.4 and v1.18.0,
# started as processes on loopback (see e2e/).
#
# Usage: scripts/e2e.sh [go test flags...]   e.g. scripts/e2e.sh -run 'TestSidecar/v1.18.0/gin'
#
# Gets both daprd binaries through scripts/daprd.sh (built once, then cached),
# runs the suite, prints its results table, and fails if any test failed or
# was skipped.
#
# The race detector is off: the code under test runs in the example apps,
# separate processes; in the test binary it would only watch the harness,
# whose own tests `make test` already runs with -race. Warm it changes
# nothing measurable; cold it adds a race build of grpc and its dependencies.
# Pass -race to turn it on anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
log() { printf '[%(%H:%M:%S)T] e2e: %s\n' -1 "$*" >&2; }

t0=$(now)
log "getting daprd v1.14.4 and v1.18.0 (built from the Go module proxy on first use, then cached)"
DAPRD_1_14=$(bash scripts/daprd.sh v1.14.4)
DAPRD_1_18=$(bash scripts/daprd.sh v1.18.0)
export DAPRD_1_14 DAPRD_1_18
t_daprd=$(since "$t0")
log "daprd binaries ready in $t_daprd"

out=$(mktemp "${TMPDIR:-/tmp}/apptoken-e2e.XXXXXX")
trap 'rm -f "$out"' EXIT

# -parallel 4: a pair of processes mostly waits (for daprd's probes, the cron
# binding's next second), so four pairs at once finish sooner than two on a
# 2-core machine (see scripts/compat.sh).
t1=$(now)
set +e
go test -count=1 -v -timeout 20m -parallel 4 "$@" ./e2e/... 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
t_test=$(since "$t1")

if grep -qE -- '--- SKIP' "$out"; then
	log "FAIL: tests were skipped (the suite must run here):"
	grep -E -- '--- SKIP' "$out" >&2
	rc=1
fi
if ! grep -qE -- '--- PASS: TestSidecar/' "$out" && [[ $rc -eq 0 ]]; then
	log "FAIL: no TestSidecar subtest ran"
	rc=1
fi

log "timings: daprd $t_daprd, tests $t_test, total $(since "$t0")"
if [[ $rc -ne 0 ]]; then
	log "FAILED (exit $rc)"
	exit "$rc"
fi
log "PASS"
