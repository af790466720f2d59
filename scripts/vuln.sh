#!/usr/bin/env bash
# govulncheck, pinned, on every given module, against an offline vulnerability
# database built from a pinned golang.org/x/vulndb.
#
# Usage: scripts/vuln.sh VERSION MODULE...
#   VERSION  govulncheck version, e.g. v1.9.0 (the Makefile pins it)
#   MODULE   a module folder relative to the repository root (core, adapters/gin, ...);
#            `make modules` lists them
#
# 1. govulncheck is installed with `go install` into $GOBIN (the Makefile exports the
#    repository's ./bin; run directly, the script uses ./bin too), unless the binary
#    there already reports VERSION.
# 2. The database: the module golang.org/x/vulndb at VULNDB_VERSION below carries the
#    OSV entries in data/osv/; its cmd/indexdb turns them into the layout govulncheck
#    reads with -db file://DIR. The module is fetched with `go mod download` (so through
#    the configured Go module proxy, checksum-verified), copied to a writable folder and
#    indexed there. The result is cached by version in
#      ${XDG_CACHE_HOME:-$HOME/.cache}/apptoken/vulndb/VULNDB_VERSION
#    and reused; delete that folder to rebuild. To move to newer entries, change
#    VULNDB_VERSION (a pseudo-version of the module) and commit.
# 3. `govulncheck -db file://DIR -format json ./...` runs in each module's folder (a
#    module outside the workspace with GOWORK=off), and tools/cmd/vulnreport (built
#    once per run) sorts its findings and prints them:
#      - a vulnerability in a module dependency that the code reaches (govulncheck's
#        call-level finding) fails the run;
#      - a vulnerability in the standard library that the code reaches is reported with
#        the Go release that fixes it, and does not fail the run: it comes from the Go
#        toolchain that builds the code, which the project cannot change, and is fixed
#        by building with that release or later;
#      - vulnerabilities in code that is imported but not reached are counted only.
#
# A finding listed in ACCEPTED below (tools/cmd/vulnreport/accepted.txt) is reported as
# accepted, with its reason, and does not fail the run.
#
# Exit status: 0 clean (standard-library and accepted findings allowed), 1 a reachable
# finding in a module dependency, 2 usage, other: a tool failed.
set -euo pipefail

readonly VULNDB_MODULE=golang.org/x/vulndb
readonly VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018

# Reachable findings in module dependencies that were reviewed and accepted, with the
# reason for each (relative to the repository root; the file says what may go in it).
readonly ACCEPTED=tools/cmd/vulnreport/accepted.txt

usage() {
	echo "usage: $0 VERSION MODULE...   (e.g. $0 v1.9.0 core adapters/gin)" >&2
	exit 2
}
[[ $# -ge 2 ]] || usage
version=$1
shift
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || {
	echo "vuln.sh: VERSION '$version' is not a version like v1.9.0" >&2
	exit 2
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GOBIN=${GOBIN:-$root/bin}
bin=$GOBIN/govulncheck
cache=${XDG_CACHE_HOME:-$HOME/.cache}/apptoken/vulndb/$VULNDB_VERSION
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log() { printf '[%(%H:%M:%S)T] vuln: %s\n' -1 "$*" >&2; }

# 1. govulncheck.
if [[ -x $bin ]] && "$bin" -version 2>/dev/null | grep -q "govulncheck@$version\$"; then
	log "govulncheck $version already in $GOBIN"
else
	log "installing govulncheck $version into $GOBIN"
	mkdir -p "$GOBIN"
	(cd "$work" && GOWORK=off GOFLAGS=-mod=mod go install "golang.org/x/vuln/cmd/govulncheck@$version")
	"$bin" -version | grep -q "govulncheck@$version\$" || {
		echo "vuln.sh: installed govulncheck does not report $version" >&2
		exit 3
	}
fi

# 2. The database, built once per vulndb version.
build_db() {
	log "building the vulnerability database from $VULNDB_MODULE@$VULNDB_VERSION"
	local info dir src out
	info=$(cd "$work" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$VULNDB_MODULE@$VULNDB_VERSION")
	dir=$(sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p' <<<"$info")
	if [[ -z $dir || ! -d $dir/data/osv ]]; then
		echo "$info" >&2
		echo "vuln.sh: $VULNDB_MODULE@$VULNDB_VERSION has no data/osv" >&2
		exit 3
	fi
	src=$work/vulndb
	cp -R "$dir" "$src"
	chmod -R u+w "$src"
	out=$work/db
	(cd "$src" && GOWORK=off GOFLAGS=-mod=mod go run ./cmd/indexdb -vulns data/osv -out "$out")
	[[ -f $out/index/db.json ]] || {
		echo "vuln.sh: indexdb wrote no index/db.json" >&2
		exit 3
	}
	mkdir -p "$(dirname "$cache")"
	rm -rf "$cache.tmp"
	cp -R "$out" "$cache.tmp"
	mv -T "$cache.tmp" "$cache"
	log "database cached in $cache ($(find "$cache" -type f | wc -l) files)"
}
if [[ -f $cache/index/db.json ]]; then
	log "database for $VULNDB_VERSION from the cache"
else
	mkdir -p "$(dirname "$cache")"
	# One builder at a time; a second caller waits, then finds the cache filled.
	exec 9>"$cache.lock"
	if command -v flock >/dev/null; then flock 9; fi
	if [[ -f $cache/index/db.json ]]; then
		log "database for $VULNDB_VERSION from the cache"
	else
		build_db
	fi
	exec 9>&-
fi

# 3. The reader of govulncheck's JSON stream: tools/cmd/vulnreport, built once.
(cd "$root/tools" && GOWORK=off go build -o "$work/vulnreport" ./cmd/vulnreport) || {
	echo "vuln.sh: building tools/cmd/vulnreport failed" >&2
	exit 3
}

# shellcheck source=scripts/gowork.sh
. "$root/scripts/gowork.sh"

failed=()
for mod in "$@"; do
	dir=$root/$mod
	if [[ ! -f $dir/go.mod ]]; then
		echo "vuln.sh: $mod: no go.mod (modules are relative to the repository root)" >&2
		exit 2
	fi
	gowork=$(gowork_for "$dir")
	echo "== $mod"
	out=$work/$(tr / _ <<<"$mod").json
	if ! (cd "$dir" && GOWORK=$gowork "$bin" -db "file://$cache" -format json ./...) >"$out" 2>"$out.err"; then
		cat "$out.err" >&2
		echo "vuln.sh: $mod: govulncheck failed" >&2
		exit 3
	fi
	status=0
	(cd "$root" && "$work/vulnreport" -accepted "$ACCEPTED") <"$out" || status=$?
	case $status in
	0) ;;
	1) failed+=("$mod") ;;
	*) exit 3 ;;
	esac
done

if [[ ${#failed[@]} -gt 0 ]]; then
	echo "vuln.sh: reachable vulnerabilities in module dependencies of: ${failed[*]}" >&2
	exit 1
fi
log "no reachable vulnerability in module dependencies: $*"
