// Command vulnreport reads `govulncheck -format json` for one module on
// standard input, prints its findings by kind, and exits with status 1 when
// the code reaches a vulnerability in a module dependency that is not
// accepted. scripts/vuln.sh (make vuln) runs it on each module.
//
// The findings are sorted so:
//
//   - a vulnerability in a module dependency that the code reaches
//     (govulncheck's call-level finding) fails the run;
//   - one of those listed in the -accepted file (accepted.txt here, read by
//     ParseAccepted) is reported as accepted, with its reason, and does not
//     fail the run;
//   - a vulnerability in the standard library that the code reaches is
//     reported with the Go release that fixes it, and does not fail the run:
//     it comes from the Go toolchain that builds the code, which the project
//     cannot change, and is fixed by building with that release or later;
//   - vulnerabilities in code that is imported but not reached are counted
//     only.
//
// Usage:
//
//	govulncheck -format json ./... | vulnreport [-accepted FILE]
//
// Exit status: 0 clean (standard-library and accepted findings allowed), 1 a
// reachable vulnerability in a module dependency, 2 usage or an unreadable
// -accepted file, 4 unreadable input.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the command, its exit status returned.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vulnreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	acceptedFile := fs.String("accepted", "", "`file` of reviewed and accepted findings (format: see accepted.txt); none if empty")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vulnreport: unexpected arguments %q (govulncheck's JSON comes on standard input)\n", fs.Args())
		return 2
	}
	accepted := map[Key]string{}
	if *acceptedFile != "" {
		f, err := os.Open(*acceptedFile)
		if err != nil {
			fmt.Fprintln(stderr, "vulnreport:", err)
			return 2
		}
		accepted, err = ParseAccepted(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "vulnreport: %s: %v\n", *acceptedFile, err)
			return 2
		}
	}
	rep, err := Read(stdin, accepted)
	if err != nil {
		fmt.Fprintln(stderr, "vulnreport: reading govulncheck's output:", err)
		return 4
	}
	rep.Write(stdout, *acceptedFile)
	if rep.Failed() {
		return 1
	}
	return 0
}
