#!/usr/bin/env bash
# Benchmarks of every adapter against the frameworks' own auth middleware,
# and end to end.
#
# Usage: scripts/bench.sh BENCHSTAT_VERSION    (make bench passes the pinned one)
#
# Runs two benchmarks of each adapter module:
#   - BenchmarkMiddleware: the route alone (bare); behind apptoken with a
#     valid token, with WithKeepHeader (apptoken-keep) and with a wrong one
#     (apptoken-reject); behind the hand-written `header != token` check as
#     the Dapr Go SDK writes it (sdk) and written the cheapest way
#     (sdk-lean); behind the framework's own key-auth or basic-auth
#     middleware (keyauth); and behind a middleware that only writes the
#     401 (deny); for a 43-byte and a JWT-shaped token;
#   - BenchmarkEndToEnd: a real client calling the app over a loopback
#     connection with keep-alive, without (bare) and with apptoken.
# Then prints one table per adapter (medians), the target checks (PASS/FAIL
# lines, made by tools/cmd/benchtable, which states the targets), and
# benchstat's summary, compared with the previous run when there is one.
#
# Each adapter's test binary is built once and run BENCH_COUNT times with
# -count 1, the adapters taking turns, so that a burst of load on the
# machine spreads over every case instead of landing on one.
#
# Environment:
#   BENCH_COUNT     runs of each sub-benchmark (default 6)
#   BENCH_TIME      -benchtime of each run (default 200ms)
#   BENCH_ADAPTERS  adapters to run, e.g. "gin grpc" (default: every folder
#                   adapters/NAME with a go.mod, by name)
#   BENCH_STRICT=1  exit with status 1 when a target is missed, or an
#                   adapter has no BenchmarkEndToEnd results
#
# Raw output: out/bench/latest/ADAPTER.txt; the run before it is kept in
# out/bench/previous/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ]; then
	echo "usage: $0 BENCHSTAT_VERSION" >&2
	exit 2
fi
benchstat_version=$1
count=${BENCH_COUNT:-6}
benchtime=${BENCH_TIME:-200ms}
if [ -n "${BENCH_ADAPTERS:-}" ]; then
	read -r -a adapters <<<"$BENCH_ADAPTERS"
else
	adapters=()
	for m in adapters/*/go.mod; do
		[ -f "$m" ] || continue
		m=${m#adapters/}
		adapters+=("${m%/go.mod}")
	done
fi
if [ ${#adapters[@]} -eq 0 ]; then
	echo "bench.sh: no adapter to run (BENCH_ADAPTERS is blank, or no adapters/*/go.mod)" >&2
	exit 2
fi
for a in "${adapters[@]}"; do
	if [ ! -f "adapters/$a/go.mod" ]; then
		echo "bench.sh: BENCH_ADAPTERS names '$a', but adapters/$a has no go.mod" >&2
		exit 2
	fi
done

root=$(pwd)
export GOBIN=${GOBIN:-$root/bin}
benchstat=$GOBIN/benchstat

log() { printf '[%(%H:%M:%S)T] bench: %s\n' -1 "$*" >&2; }
t0=$(date +%s)

# benchstat, pinned; installed once into GOBIN.
if ! { [ -x "$benchstat" ] && go version -m "$benchstat" 2>/dev/null | grep -q "golang.org/x/perf[[:space:]]*$benchstat_version"; }; then
	log "installing benchstat $benchstat_version into $GOBIN"
	GOWORK=off go install "golang.org/x/perf/cmd/benchstat@$benchstat_version"
fi

out=out/bench
mkdir -p "$out"
if [ -d "$out/latest" ]; then
	rm -rf "$out/previous"
	mv "$out/latest" "$out/previous"
fi
mkdir -p "$out/latest" "$out/bin"

# The table maker, built before the long part, so that a broken build shows at once.
(cd tools && GOWORK=off go build -o "$root/$out/bin/benchtable" ./cmd/benchtable)

for a in "${adapters[@]}"; do
	log "building adapters/$a"
	go test -c -o "$out/bin/$a.test" "./adapters/$a"
done

log "running ${#adapters[@]} adapters x $count runs, -benchtime $benchtime"
for ((i = 1; i <= count; i++)); do
	for a in "${adapters[@]}"; do
		(cd "adapters/$a" && "$root/$out/bin/$a.test" -test.run '^$' \
			-test.bench '^(BenchmarkMiddleware|BenchmarkEndToEnd)$' -test.benchmem \
			-test.benchtime "$benchtime" -test.count 1) >>"$out/latest/$a.txt"
	done
	log "run $i/$count done"
done

echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs; $(go version | cut -d' ' -f3-)"
echo "Command: BENCH_COUNT=$count BENCH_TIME=$benchtime make bench"
echo
strict=()
if [ "${BENCH_STRICT:-0}" = 1 ]; then strict=(-strict); fi
status=0
"$out/bin/benchtable" -dir "$out/latest" \
	-adapters "$(IFS=,; echo "${adapters[*]}")" "${strict[@]}" || status=$?

units='.unit:(sec/op OR allocs/op)'
for a in "${adapters[@]}"; do
	echo
	if [ -f "$out/previous/$a.txt" ]; then
		echo "== benchstat $a: previous run vs this one"
		"$benchstat" -filter "$units" "$out/previous/$a.txt" "$out/latest/$a.txt"
	else
		echo "== benchstat $a"
		"$benchstat" -filter "$units" "$out/latest/$a.txt"
	fi
done

log "done in $(($(date +%s) - t0))s; raw output in $out/latest/"
exit "$status"
