#!/usr/bin/env bash
# Compatibility run: the end-to-end suite (e2e/) against every daprd version
# around the legacy gRPC boundaries, and README.md's compatibility table
# written from its results.
#
# Usage: scripts/compat.sh [go test flags...]   e.g. scripts/compat.sh -run 'TestSidecar/v1.16.0/'
#
# Gets each daprd of VERSIONS through scripts/daprd.sh (built once, then
# cached), runs the suite against all of them, prints its tables, and fails
# if any test failed or was skipped. When the whole suite ran (no flags) and
# passed, it writes the compatibility table to e2e/testdata/compat.md and
# between the compat-table markers of README.md; `make test` fails while
# the two differ. Nothing else writes that table.
set -euo pipefail
cd "$(dirname "$0")/.."

# v1.14.4 and v1.18.0 are the pinned versions of `make e2e`. The others are
# those on each side of the legacy boundaries that the Go module proxy serves
# and that build: v1.15.12, v1.15.13 and v1.16.1 are not served; v1.16.2,
# v1.17.0 and v1.17.5 are, but need a components-contrib or durabletask-go
# version that is not (see CONTRIBUTING.md).
readonly VERSIONS=(v1.14.4 v1.15.4 v1.16.0 v1.16.5 v1.18.0)
readonly TABLE=e2e/testdata/compat.md
readonly BEGIN='<!-- compat-table:begin (written by make compat from its last run; do not edit) -->'
readonly END='<!-- compat-table:end -->'

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
log() { printf '[%(%H:%M:%S)T] compat: %s\n' -1 "$*" >&2; }

t0=$(now)
more=()
timings=()
for v in "${VERSIONS[@]}"; do
	tv=$(now)
	bin=$(bash scripts/daprd.sh "$v")
	[[ $bin != *[[:space:]]* ]] || { log "FAIL: the daprd path '$bin' has a space, which DAPRD_MORE cannot carry"; exit 1; }
	timings+=("$v $(since "$tv")")
	case $v in
	v1.14.4) export DAPRD_1_14=$bin ;;
	v1.18.0) export DAPRD_1_18=$bin ;;
	*) more+=("$v=$bin") ;;
	esac
done
export DAPRD_MORE="${more[*]}"
t_daprd=$(since "$t0")
log "daprd binaries ready in $t_daprd (${timings[*]})"

out=$(mktemp "${TMPDIR:-/tmp}/apptoken-compat.XXXXXX")
table=$(mktemp "${TMPDIR:-/tmp}/apptoken-compat-table.XXXXXX")
readme=$(mktemp "${TMPDIR:-/tmp}/apptoken-compat-readme.XXXXXX")
trap 'rm -f "$out" "$table" "$readme"' EXIT

# -parallel 4: a pair of processes mostly waits (for daprd's probes, the cron
# binding's next second), so four pairs at once take about half the time of
# two on 2 cores (warm, about 1.2 minutes instead of 2.2).
t1=$(now)
set +e
APPTOKEN_COMPAT_TABLE=$table go test -count=1 -v -timeout 40m -run '^TestSidecar$' -parallel 4 "$@" ./e2e/ 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
t_test=$(since "$t1")

if grep -qE -- '--- SKIP' "$out"; then
	log "FAIL: tests were skipped (the suite must run here):"
	grep -E -- '--- SKIP' "$out" >&2
	rc=1
fi
for v in "${VERSIONS[@]}"; do
	if [[ $# -eq 0 ]] && ! grep -qE -- "--- PASS: TestSidecar/$v/" "$out" && [[ $rc -eq 0 ]]; then
		log "FAIL: no TestSidecar subtest passed for daprd $v"
		rc=1
	fi
done

log "timings: daprd $t_daprd, tests $t_test, total $(since "$t0")"
if [[ $rc -ne 0 ]]; then
	log "FAILED (exit $rc); the compatibility table is left as it was"
	exit "$rc"
fi
if [[ $# -gt 0 ]]; then
	log "PASS (a partial run: the compatibility table is left as it was)"
	exit 0
fi
grep -q 'UNEXPECTED' "$table" && { log "FAIL: the table has UNEXPECTED cells"; exit 1; }
cp "$table" "$TABLE"
# README.md: the lines between the markers become the table.
grep -qxF -- "$BEGIN" README.md && grep -qxF -- "$END" README.md || {
	log "FAIL: README.md lacks the compat-table markers"
	exit 1
}
awk -v begin="$BEGIN" -v end="$END" -v file="$TABLE" '
	$0 == begin { print; print ""; while ((getline line < file) > 0) print line; print ""; skip = 1; next }
	$0 == end { skip = 0 }
	!skip { print }
' README.md >"$readme"
cat "$readme" >README.md
log "PASS: the table is in $TABLE and README.md"
