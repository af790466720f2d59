#!/usr/bin/env bash
# Build (once) and print the path of a daprd binary at a pinned Dapr version.
#
# Usage: scripts/daprd.sh VERSION        e.g. scripts/daprd.sh v1.18.0
#
# Stdout: only the absolute path of the binary. Progress and errors go to stderr.
#
# The binary is built from the Go module github.com/dapr/dapr@VERSION, fetched through
# the Go module proxy configured for `go` (GOPROXY), with the cmd/daprd/components
# folder cut down to what the end-to-end tests use: pubsub.in-memory, state.in-memory,
# the cron input binding and the kubernetes name resolver (no mDNS). Nothing else is
# downloaded.
#
# Cache: ${APPTOKEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apptoken}/daprd/VERSION-SET/daprd
# where SET is the first 8 hex digits of the SHA-256 of KEEP_COMPONENTS below: a binary
# built with another set of components is never taken for this one. A cached binary
# is reused as long as it runs (`daprd --version`); delete its folder to force a
# rebuild. Concurrent callers for one version wait on a lock.
set -euo pipefail

readonly DAPR_MODULE=github.com/dapr/dapr
# Component registration files kept from cmd/daprd/components (all others are removed).
# "a|b": whichever of the two the version has (the cron binding's file is
# binding_cron.go up to v1.14, bindings_cron.go from v1.15).
readonly KEEP_COMPONENTS=(pubsub_in-memory.go state_in-memory.go nameresolution_kubernetes.go 'binding_cron.go|bindings_cron.go')

usage() {
	echo "usage: $0 VERSION   (e.g. v1.14.4 or v1.18.0)" >&2
	exit 2
}

[[ $# -eq 1 ]] || usage
VERSION=$1
if [[ ! $VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	echo "daprd.sh: invalid VERSION '$VERSION': want vMAJOR.MINOR.PATCH, e.g. v1.18.0" >&2
	exit 2
fi

log() {
	printf '[%(%H:%M:%S)T] daprd %s: %s\n' -1 "$VERSION" "$*" >&2
}

die() {
	log "ERROR: $*"
	exit 1
}

cache_root=${APPTOKEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apptoken}
[[ $cache_root == /* ]] || cache_root="$PWD/$cache_root"
component_set=$(printf '%s\n' "${KEEP_COMPONENTS[@]}" | sha256sum | cut -c1-8)
cache_dir="$cache_root/daprd/$VERSION-$component_set"
bin="$cache_dir/daprd"

# usable BIN: exists, is executable and starts (`--version` exits at once).
usable() {
	[[ -f $1 && -x $1 ]] && "$1" --version >/dev/null 2>&1
}

if usable "$bin"; then
	printf '%s\n' "$bin"
	exit 0
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH"
command -v flock >/dev/null 2>&1 || die "flock is not on PATH"

mkdir -p "$cache_dir"
exec 9>"$cache_dir/.lock"
if ! flock -n 9; then
	log "another build of this version is running; waiting for it"
	flock 9
fi
# The build we waited for may have produced the binary.
if usable "$bin"; then
	printf '%s\n' "$bin"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/daprd-build.XXXXXX")
tmp_bin="$cache_dir/.daprd.$$.tmp"
cleanup() {
	rm -rf "$work" "$tmp_bin"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Module mode, no workspace, whatever the caller's GOFLAGS say. The copied module source
# carries its own go.mod/go.sum (with replace directives, hence no `go install pkg@v`).
export GOWORK=off GOFLAGS='-mod=mod -buildvcs=false' CGO_ENABLED=0

start=$SECONDS
log "phase 1/4: downloading module $DAPR_MODULE@$VERSION (cache: $cache_dir)"
if ! (cd "$work" && go mod download -json "$DAPR_MODULE@$VERSION") >"$work/download.json" 2>"$work/download.err"; then
	cat "$work/download.err" "$work/download.json" >&2 || true
	die "go mod download $DAPR_MODULE@$VERSION failed"
fi
mod_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$work/download.json")
[[ -n $mod_dir && -d $mod_dir ]] || die "no module directory in go mod download output"

# Refuse early, with a clear message, when the module needs a newer Go than the local one
# (rather than letting `go` try to switch toolchains).
go_local=$(go env GOVERSION)
go_local=${go_local#go}
go_need=$(sed -n 's/^go[[:space:]]\{1,\}\([0-9][0-9.a-z]*\).*/\1/p' "$mod_dir/go.mod" | head -n 1)
if [[ -n $go_need ]]; then
	lowest=$(printf '%s\n%s\n' "$go_need" "$go_local" | sort -V | head -n 1)
	if [[ $lowest != "$go_need" ]]; then
		die "$DAPR_MODULE@$VERSION needs go $go_need (go.mod), the local toolchain is go $go_local"
	fi
fi

log "phase 2/4: preparing a writable copy with cmd/daprd/components cut down (go $go_need needed, go $go_local here)"
src="$work/src"
mkdir -p "$src"
cp -R "$mod_dir/." "$src/"
chmod -R u+w "$src"
comp="$src/cmd/daprd/components"
[[ -d $comp ]] || die "$comp does not exist in this version"
# The file names kept, each entry of KEEP_COMPONENTS resolved to the one this version has.
keep_files=()
for entry in "${KEEP_COMPONENTS[@]}"; do
	found=
	IFS='|' read -r -a alternatives <<<"$entry"
	for f in "${alternatives[@]}"; do
		if [[ -f $comp/$f ]]; then
			found=$f
			break
		fi
	done
	[[ -n $found ]] || die "cmd/daprd/components has none of ${entry//|/, } in this version"
	keep_files+=("$found")
done
for f in "$comp"/*; do
	keep=false
	for k in "${keep_files[@]}"; do
		[[ ${f##*/} == "$k" ]] && keep=true
	done
	$keep || rm -rf "$f"
done
for k in "${keep_files[@]}"; do
	# Drop the build constraint (allcomponents || stablecomponents) so the file is always built.
	sed -i -e '/^\/\/go:build /d' -e '/^\/\/ +build /d' "$comp/$k"
done

log "phase 3/4: resolving packages of ./cmd/daprd (downloads the modules it needs)"
if ! (cd "$src" && go list -deps -f '{{.ImportPath}}' ./cmd/daprd) >"$work/deps.txt" 2>"$work/list.err"; then
	tail -n 40 "$work/list.err" >&2 || true
	die "go list ./cmd/daprd failed"
fi
n_deps=$(wc -l <"$work/deps.txt")
n_dl=$(grep -c '^go: downloading ' "$work/list.err" || true)
log "  $n_deps packages in the build, $n_dl modules downloaded ($((SECONDS - start))s so far)"

log "phase 4/4: go build -trimpath ./cmd/daprd"
ldflags="-s -w -X $DAPR_MODULE/pkg/buildinfo.version=${VERSION#v} -X $DAPR_MODULE/pkg/buildinfo.gitversion=$VERSION"
# `go build -v` names each package it compiles; count them instead of printing them.
# Lines that are not package paths (errors, downloads) are passed through.
progress() {
	local line n=0 last=$SECONDS
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$work/build.log"
		if [[ $line =~ ^[^[:space:]]+$ && $line != \#* ]]; then
			n=$((n + 1))
			if ((SECONDS - last >= 10)); then
				log "  compiled $n of at most $n_deps packages"
				last=$SECONDS
			fi
		else
			printf '%s\n' "$line" >&2
		fi
	done
	log "  compiled $n packages (the others came from the build cache)"
}
set +e
(cd "$src" && go build -trimpath -v -ldflags "$ldflags" -o "$tmp_bin" ./cmd/daprd) 2>&1 | progress
rc=${PIPESTATUS[0]}
set -e
[[ $rc -eq 0 ]] || die "go build failed (exit $rc)"

usable "$tmp_bin" || die "the built binary does not start ($tmp_bin --version)"
mv -f "$tmp_bin" "$bin"
log "done in $((SECONDS - start))s: $("$bin" --version 2>&1 | head -n 1)"
printf '%s\n' "$bin"
