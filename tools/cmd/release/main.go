// Command release cuts and checks releases of the repository's modules,
// which are released together at one version, the one in the file VERSION.
// It is run from the repository's root by the Makefile:
//
//	release set VERSION      require every module of the repository at VERSION, everywhere
//	release prepare VERSION  make release: check, set, commit, compare APIs, tag
//	release check            make release-check: go get every adapter like a user, from an on-disk proxy
//
// prepare refuses a version without a section in CHANGELOG.md, a dirty work
// tree, and a tag that exists already; it commits the version change and
// creates the tags the Go command expects for nested modules
// (core/v0.1.0, adapters/gin/v0.1.0, ...) locally. Pushing them stays a
// person's step.
//
// check builds a module proxy on disk holding every published module at
// the version in VERSION, zipped from the committed tree the way the Go
// command zips a module, then, in a scratch module outside the workspace,
// gets each adapter at that version, builds and runs a program that sends
// it an authorised and an unauthorised request, and builds every Go
// snippet of README.md completed by a fixed harness.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; {
	case cmd == "set" && len(args) == 1:
		err = setVersion(".", args[0])
	case cmd == "prepare" && len(args) == 1:
		err = prepare(".", args[0])
	case cmd == "check" && len(args) == 0:
		err = check(".")
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: release set VERSION | release prepare VERSION | release check")
	os.Exit(2)
}
