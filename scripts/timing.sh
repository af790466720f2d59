#!/usr/bin/env bash
# Timing-leak measurement, dudect-style, of the core's verify step.
#
# Usage: scripts/timing.sh [SAMPLES]
#   SAMPLES  measurements per case (default: the test's own, 20000; at least 10000)
#
# Runs the core's TestTiming (no secret may show: a case fails when |t| exceeds 4.5 and
# its classes differ by at least 0.01 ns per call) and TestTimingCatchesLeaks
# (deliberately leaky compares must show, over both) with APPTOKEN_TIMING=1, then
# prints their table: per case, the samples, |t| and the difference in ns per call,
# the same for the one retry a failing case gets, the bound and the verdict. Control
# rows measure what the time is allowed to depend on (the presented value's length,
# the number of tokens, the outcome) and are not judged. See core/timing_test.go for
# the design, and for why the floor.
#
# Exits non-zero when a case fails. Takes under a minute; a quiet machine gives
# the clearest numbers, but the verdicts are built to hold on a busy one.
set -euo pipefail

usage() {
	echo "usage: $0 [SAMPLES]" >&2
	exit 2
}
[[ $# -le 1 ]] || usage
if [[ $# -eq 1 ]]; then
	[[ $1 =~ ^[0-9]+$ ]] || usage
	export APPTOKEN_TIMING_SAMPLES=$1
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
report=$work/report.txt
log=$work/test.log

echo "timing: measuring the core's verify step (under a minute)..." >&2
status=0
(
	cd "$root/core"
	APPTOKEN_TIMING=1 APPTOKEN_TIMING_REPORT="$report" \
		go test -run '^(TestTiming|TestTimingCatchesLeaks)$' -count=1 -v -timeout 15m .
) >"$log" 2>&1 || status=$?

if [[ -s $report ]]; then
	cat "$report"
fi
if [[ $status -ne 0 ]]; then
	echo "timing: FAILED; the test's output:" >&2
	cat "$log" >&2
	exit "$status"
fi
if [[ ! -s $report ]]; then
	echo "timing: the tests wrote no table; their output:" >&2
	cat "$log" >&2
	exit 1
fi
echo "timing: ok ($(tail -n 1 "$log"))"
