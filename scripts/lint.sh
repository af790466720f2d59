#!/usr/bin/env bash
# Lint every given module with a pinned golangci-lint, and check the layering rules.
#
# Usage: scripts/lint.sh VERSION MODULE...
#   VERSION  golangci-lint version, e.g. v2.15.0 (the Makefile pins it)
#   MODULE   a module folder relative to the repository root (core, adapters/gin, ...);
#            `make modules` lists them
#
# golangci-lint is installed with `go install` into $GOBIN (the Makefile exports the
# repository's ./bin; run directly, the script uses ./bin too), unless the binary there
# already reports VERSION. golangci-lint works on one module at a time, so it runs in
# each module's folder with the repository's .golangci.yml; a module outside the
# workspace (go.work) is linted with GOWORK=off.
#
# Besides golangci-lint, two layering checks cover modules the depguard rules may not
# name yet: no package of an adapters/<name> module imports another adapter, and the
# core's go.mod requires nothing (the core is standard library only).
set -euo pipefail

usage() {
	echo "usage: $0 VERSION MODULE...   (e.g. $0 v2.15.0 core adapters/gin)" >&2
	exit 2
}
[[ $# -ge 2 ]] || usage
version=$1
shift
[[ $version =~ ^v2\.[0-9]+\.[0-9]+$ ]] || {
	echo "lint.sh: VERSION '$version' is not a golangci-lint v2 version like v2.15.0" >&2
	exit 2
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GOBIN=${GOBIN:-$root/bin}
bin=$GOBIN/golangci-lint
config=$root/.golangci.yml
readonly prefix=github.com/apptoken-go/apptoken

log() { printf '[%(%H:%M:%S)T] lint: %s\n' -1 "$*" >&2; }

# Install the pinned version unless it is there already.
if [[ -x $bin ]] && "$bin" version --short 2>/dev/null | grep -qx "${version#v}"; then
	log "golangci-lint $version already in $GOBIN"
else
	log "installing golangci-lint $version into $GOBIN"
	mkdir -p "$GOBIN"
	# Outside any module, so that neither go.work nor a go.mod steers the install.
	(cd "$(mktemp -d)" && GOWORK=off GOFLAGS=-mod=mod go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version")
	"$bin" version --short | grep -qx "${version#v}" || {
		echo "lint.sh: installed golangci-lint does not report $version" >&2
		exit 1
	}
fi

# shellcheck source=scripts/gowork.sh
. "$root/scripts/gowork.sh"

failed=()
for mod in "$@"; do
	dir=$root/$mod
	if [[ ! -f $dir/go.mod ]]; then
		echo "lint.sh: $mod: no go.mod (modules are relative to the repository root)" >&2
		exit 2
	fi
	gowork=$(gowork_for "$dir")
	log "$mod: golangci-lint run${gowork:+ (GOWORK=$gowork)}"
	# --allow-serial-runners: wait for another golangci-lint on this machine
	# (CI, an editor) instead of failing.
	if ! (cd "$dir" && GOWORK=$gowork "$bin" run --config "$config" --allow-serial-runners ./...); then
		failed+=("$mod")
	fi

	# Layering: an adapter imports no other adapter (direct imports, tests included).
	if [[ $mod == adapters/* ]]; then
		own=$prefix/$mod
		bad=$(cd "$dir" && GOWORK=$gowork go list \
			-f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' ./... |
			awk -v own="$own" -v adapters="$prefix/adapters/" '
				{ for (i = 2; i <= NF; i++) if (index($i, adapters) == 1 && $i != own && index($i, own "/") != 1) print $1 " imports " $i }
			' | sort -u)
		if [[ -n $bad ]]; then
			echo "lint.sh: $mod: an adapter must not import another adapter:" >&2
			echo "$bad" >&2
			failed+=("$mod (layering)")
		fi
	fi
	if [[ $mod == core ]] && grep -qE '^[[:space:]]*require\b' "$dir/go.mod"; then
		echo "lint.sh: core/go.mod requires modules; the core must stay standard library only" >&2
		failed+=("core (go.mod)")
	fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
	echo "lint.sh: findings in: ${failed[*]}" >&2
	exit 1
fi
log "clean: $*"
