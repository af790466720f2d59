#!/usr/bin/env bash
# Run every Go fuzz target of the given modules, one after another.
#
# Usage: scripts/fuzz.sh FUZZTIME MODULE...
#   FUZZTIME  how long to fuzz each target, as go test's -fuzztime takes it (60s, 5m, 100000x)
#   MODULE    a module folder relative to the repository root (core, adapters/gin, ...);
#             `make modules` lists them
#
# Targets are found, not listed here: for each module, `go test -list '^Fuzz' ./...`
# names the fuzz targets of every package, so a target added to any package of any
# module is fuzzed without touching this script. Each runs in its package's folder as
#   go test -run='^$' -fuzz='^NAME$' -fuzztime=FUZZTIME .
# A module outside the workspace (go.work) is run with GOWORK=off.
#
# A failing input is written by go test to the package's testdata/fuzz/NAME/, where
# plain `go test` then replays it; commit it with the fix. The run goes on with the
# other targets and exits non-zero at the end if any failed. A summary table follows.
set -euo pipefail

usage() {
	echo "usage: $0 FUZZTIME MODULE...   (e.g. $0 60s core adapters/gin)" >&2
	exit 2
}
[[ $# -ge 2 ]] || usage
fuzztime=$1
shift
[[ $fuzztime =~ ^[0-9]+(ns|us|ms|s|m|h|x)$|^([0-9]+(\.[0-9]+)?(h|m|s))+$ ]] || {
	echo "fuzz.sh: invalid FUZZTIME '$fuzztime'" >&2
	usage
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

log() { printf '[%(%H:%M:%S)T] fuzz: %s\n' -1 "$*" >&2; }

# shellcheck source=scripts/gowork.sh
. "$root/scripts/gowork.sh"

summary=()
failed=0
total=0
for mod in "$@"; do
	dir=$root/$mod
	if [[ ! -f $dir/go.mod ]]; then
		echo "fuzz.sh: $mod: no go.mod (run from anywhere; modules are relative to the repository root)" >&2
		exit 2
	fi
	gowork=$(gowork_for "$dir")
	# Lines naming fuzz targets come before the "ok <package>" line of their package.
	if ! listing=$(cd "$dir" && GOWORK=$gowork go test -list '^Fuzz' ./... 2>&1); then
		echo "$listing" >&2
		echo "fuzz.sh: $mod: listing the fuzz targets failed" >&2
		exit 1
	fi
	targets=$(awk '
		/^Fuzz[A-Za-z0-9_]*$/ { names = names " " $1; next }
		$1 == "ok" { n = split(names, a, " "); for (i = 1; i <= n; i++) print $2, a[i]; names = "" }
	' <<<"$listing")
	if [[ -z $targets ]]; then
		log "$mod: no fuzz targets"
		continue
	fi
	while read -r pkg name; do
		total=$((total + 1))
		pkgdir=$(cd "$dir" && GOWORK=$gowork go list -f '{{.Dir}}' "$pkg")
		out=$logdir/$total.log
		log "$mod: $pkg $name for $fuzztime"
		start=$SECONDS
		status=0
		(cd "$pkgdir" && GOWORK=$gowork go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" .) >"$out" 2>&1 || status=$?
		elapsed=$((SECONDS - start))
		# The last progress line: "fuzz: elapsed: 1m0s, execs: 123456 (2057/sec), new interesting: 3 (total: 40)"
		last=$(grep -E '^fuzz: elapsed: .*execs: ' "$out" | tail -n 1 || true)
		execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
		interesting=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 new, \2 in corpus/p' <<<"$last")
		if [[ $status -eq 0 ]]; then
			result=ok
		else
			result=FAIL
			failed=$((failed + 1))
			echo "---- $pkg $name: go test output" >&2
			cat "$out" >&2
		fi
		summary+=("$(printf '%s\t%s\t%s\t%ss\t%s\t%s\t%s' "$mod" "${pkg#github.com/apptoken-go/apptoken/}" "$name" "$elapsed" "${execs:--}" "${interesting:--}" "$result")")
	done <<<"$targets"
done

if [[ $total -eq 0 ]]; then
	log "no fuzz targets in: $*"
	exit 0
fi
{
	printf 'module\tpackage\ttarget\twall\texecs\tinteresting\tresult\n'
	printf '%s\n' "${summary[@]}"
} | awk -F'\t' '
	{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } ; if (NF > nf) nf = NF }
	END { for (r = 1; r <= NR; r++) { line = ""; for (i = 1; i <= nf; i++) line = line sprintf("%-*s  ", w[i], cell[r, i]); sub(/ +$/, "", line); print line } }
'
if [[ $failed -gt 0 ]]; then
	echo "fuzz.sh: $failed of $total fuzz targets failed; failing inputs are in the packages' testdata/fuzz/" >&2
	exit 1
fi
