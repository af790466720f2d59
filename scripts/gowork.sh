# Sourced by the scripts that run go in each module (lint.sh, vuln.sh,
# fuzz.sh); not run on its own.

# gowork_for DIR prints the GOWORK value to run go in DIR with: empty (the default
# lookup) when DIR's module is in the workspace or there is none, "off" otherwise.
gowork_for() {
	local own all
	own=$(cd "$1" && GOWORK=off go list -m 2>/dev/null) || { echo off; return; }
	# In a workspace, go list -m lists every module of it, wherever it runs.
	all=$(cd "$1" && go list -m 2>/dev/null) || { echo off; return; }
	if grep -qxF "$own" <<<"$all"; then
		echo ""
	else
		echo off
	fi
}
