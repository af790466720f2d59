# Sourced by the scripts that run go in each module (lint.sh, vuln.sh,
# fuzz.sh); not run on its own.

# gowork_for DIR prints the GOWORK value to run go in DIR with: empty (the default
# lookup) when DIR's module is in the workspace or there is none, "off" otherwise.
gowork_for() {
	if (cd "$1" && go list -m >/dev/null 2>&1); then
		echo ""
	else
		echo off
	fi
}
