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
#    module outside the workspace with GOWORK=off), and its findings are sorted:
#      - a vulnerability in a module dependency that the code reaches (govulncheck's
#        call-level finding) fails the run;
#      - a vulnerability in the standard library that the code reaches is reported with
#        the Go release that fixes it, and does not fail the run: it comes from the Go
#        toolchain that builds the code, which the project cannot change, and is fixed
#        by building with that release or later;
#      - vulnerabilities in code that is imported but not reached are counted only.
#
# A finding listed in ACCEPTED below is reported as accepted, with its reason, and does
# not fail the run.
#
# Exit status: 0 clean (standard-library and accepted findings allowed), 1 a reachable
# finding in a module dependency, 2 usage, other: a tool failed.
set -euo pipefail

readonly VULNDB_MODULE=golang.org/x/vulndb
readonly VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018

# Reachable findings in module dependencies that were reviewed and accepted, as
# "OSV-ID MODULE-PATH why". They do not fail the run but are printed, with the reason,
# every time. Only for a finding that no release of the module fixes and that does not
# touch what the project uses; remove the entry as soon as an upgrade clears it.
readonly ACCEPTED=(
	"GO-2026-6872 github.com/labstack/echo/v4 no echo v4 release fixes it (echo v5.1.0 does). It is about Context.RealIP trusting X-Forwarded-For by default, which the echo adapter and the examples do not call; the entry names the whole v4 module, without symbols, so every use of echo is reported as reaching it. Applications that call RealIP should set an IPExtractor."
	"GO-2026-6875 github.com/labstack/echo/v4 no echo v4 release fixes it (echo v5.4.0 does). It is about the Proxy middleware forwarding X-Real-IP upstream, which the echo adapter and the examples do not use; the entry names the whole v4 module, without symbols."
)

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

# 3. The reader of govulncheck's JSON stream: a small standard-library program.
mkdir -p "$work/report"
cat >"$work/report/go.mod" <<'EOF'
module report

go 1.22
EOF
cat >"$work/report/main.go" <<'EOF'
// report reads `govulncheck -format json` on stdin, prints the findings by kind,
// and exits 1 when the code reaches a vulnerability in a module dependency.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

type message struct {
	Config *struct {
		GoVersion string `json:"go_version"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

type vuln struct {
	id, module, version, fixed string
	packages                   map[string]bool
	symbols                    map[string]bool
}

// less compares versions like v1.26.9 numerically; an empty version is smallest.
func less(a, b string) bool {
	pa := strings.Split(strings.TrimPrefix(a, "v"), ".")
	pb := strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func goVersion(v string) string {
	if v == "" {
		return "no fixed release yet"
	}
	return "go" + strings.TrimPrefix(v, "v")
}

func main() {
	// Arguments: accepted findings, each "OSV-ID MODULE-PATH why".
	accepted := map[string]string{}
	for _, a := range os.Args[1:] {
		f := strings.SplitN(a, " ", 3)
		if len(f) == 3 {
			accepted[f[0]+" "+f[1]] = f[2]
		}
	}
	summaries := map[string]string{}
	called := map[string]*vuln{}    // reached: at least one call-level finding
	imported := map[string]string{} // found at package or module level only: its fixed version
	importedStd := map[string]bool{}
	goVer := ""
	dec := json.NewDecoder(os.Stdin)
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "report: reading govulncheck's output:", err)
			os.Exit(4)
		}
		switch {
		case m.Config != nil:
			goVer = m.Config.GoVersion
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f, top := m.Finding, m.Finding.Trace[0]
			if top.Function == "" {
				imported[f.OSV] = f.FixedVersion
				if top.Module == "stdlib" || top.Module == "toolchain" {
					importedStd[f.OSV] = true
				}
				continue
			}
			v := called[f.OSV]
			if v == nil {
				v = &vuln{id: f.OSV, module: top.Module, version: top.Version, fixed: f.FixedVersion,
					packages: map[string]bool{}, symbols: map[string]bool{}}
				called[f.OSV] = v
			}
			v.packages[top.Package] = true
			sym := top.Function
			if top.Receiver != "" {
				sym = strings.TrimPrefix(top.Receiver, "*") + "." + sym
			}
			v.symbols[top.Package+"."+sym] = true
		}
	}
	for id := range called {
		delete(imported, id)
	}

	var deps, std, ok []*vuln
	for _, v := range called {
		switch {
		case v.module == "stdlib" || v.module == "toolchain":
			std = append(std, v)
		case accepted[v.id+" "+v.module] != "":
			ok = append(ok, v)
		default:
			deps = append(deps, v)
		}
	}
	byID := func(s []*vuln) { sort.Slice(s, func(i, j int) bool { return s[i].id < s[j].id }) }
	byID(deps)
	byID(std)
	byID(ok)
	fixedIn := func(v *vuln) string {
		if v.fixed == "" {
			return "no fixed version"
		}
		return "fixed in " + v.fixed
	}
	list := func(v *vuln, fix string) {
		var syms []string
		for s := range v.symbols {
			syms = append(syms, s)
		}
		sort.Strings(syms)
		if len(syms) > 3 {
			syms = append(syms[:3], fmt.Sprintf("and %d more", len(syms)-3))
		}
		fmt.Printf("    %s  %s  %s\n      reached through %s\n", v.id, fix, summaries[v.id], strings.Join(syms, ", "))
	}

	if len(deps) == 0 {
		fmt.Println("  module dependencies: no reachable vulnerability")
	} else {
		fmt.Printf("  module dependencies: %d reachable vulnerabilities (FAIL)\n", len(deps))
		for _, v := range deps {
			list(v, fmt.Sprintf("%s@%s, %s", v.module, v.version, fixedIn(v)))
		}
	}
	if len(ok) > 0 {
		fmt.Printf("  module dependencies, reviewed and accepted (scripts/vuln.sh ACCEPTED): %d\n", len(ok))
		for _, v := range ok {
			list(v, fmt.Sprintf("%s@%s, %s", v.module, v.version, fixedIn(v)))
			fmt.Printf("      accepted: %s\n", accepted[v.id+" "+v.module])
		}
	}
	if len(std) == 0 {
		fmt.Printf("  standard library (%s): no reachable vulnerability\n", goVer)
	} else {
		need := ""
		for _, v := range std {
			if v.fixed != "" && less(need, v.fixed) {
				need = v.fixed
			}
		}
		fmt.Printf("  standard library (%s): %d reachable vulnerabilities, fixed by building with %s or later (not a failure: it is the toolchain's)\n",
			goVer, len(std), goVersion(need))
		for _, v := range std {
			list(v, "fixed in "+goVersion(v.fixed))
		}
	}
	if len(imported) > 0 {
		ids := make([]string, 0, len(imported))
		all := ""
		for id, fixed := range imported {
			ids = append(ids, id)
			if importedStd[id] && fixed != "" && less(all, fixed) {
				all = fixed
			}
		}
		sort.Strings(ids)
		fmt.Printf("  imported but not reached (informational): %s\n", strings.Join(ids, " "))
		if all != "" {
			for _, v := range std {
				if less(all, v.fixed) {
					all = v.fixed
				}
			}
			fmt.Printf("  every known standard-library vulnerability here, reached or not, is fixed in %s\n", goVersion(all))
		}
	}
	if len(deps) > 0 {
		os.Exit(1)
	}
}
EOF
(cd "$work/report" && GOWORK=off go build -o "$work/report-bin" .)

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
	"$work/report-bin" "${ACCEPTED[@]}" <"$out" || status=$?
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
