// Command benchtable turns the output of every adapter's BenchmarkMiddleware
// and BenchmarkEndToEnd into one table per adapter, and checks the
// performance targets. scripts/bench.sh (make bench) runs it.
//
// Input: a directory holding ADAPTER.txt for each adapter, in go test's
// benchmark format (run with -benchmem), with any number of runs of each
// sub-benchmark. Every figure is the median of the runs.
//
// BenchmarkMiddleware/SHAPE/CASE times one request through the framework,
// for each token shape, with the cases bare (the route alone), apptoken
// (the middleware with its defaults: it removes the token header),
// apptoken-keep (with WithKeepHeader), apptoken-reject (a wrong token),
// sdk (the check as the Dapr Go SDK writes it), sdk-lean (the same written
// the cheapest way), keyauth (the framework's own auth middleware) and
// deny (a middleware that only writes the 401). "Added" is the median time
// of a case minus that of bare. Targets, for each shape:
//
//	keyauth: added(apptoken-keep) <= 0.5 x added(keyauth), and
//	         apptoken-keep adds no more allocs/op over bare than keyauth
//	sdk:     added(apptoken) <= 1.5 x added(sdk)
//
// Shown for information, not judged: apptoken against keyauth and sdk-lean,
// with the allocations it adds; apptoken-keep against sdk and sdk-lean; and
// apptoken-reject against apptoken + (deny - bare), the accept path plus
// writing the 401 instead of running the route.
//
// BenchmarkEndToEnd/CASE (or BenchmarkEndToEnd/SHAPE/CASE) times a request
// from a real client over a loopback connection, with the cases bare and
// apptoken. Target:
//
//	end to end: apptoken <= 1.03 x bare (ns/op)
//
// An adapter without BenchmarkEndToEnd (or BenchmarkMiddleware) results gets
// a FAIL line saying so.
//
// The ratio checks also say in how many single runs the target held,
// taking the ratio within each run ("met in k of n runs").
//
// Exit status: 0, or 1 with -strict when a target is missed; 2 for a usage
// error or unreadable input.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command, its exit status returned.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "out/bench/latest", "`directory` holding ADAPTER.txt files")
	list := fs.String("adapters", "", "comma-separated adapters, in the order shown (default: every ADAPTER.txt in -dir, by name)")
	strict := fs.Bool("strict", false, "exit with status 1 when a target is missed")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "benchtable: unexpected arguments %q\n", fs.Args())
		return 2
	}
	adapters, err := adaptersOf(*dir, *list)
	if err != nil {
		fmt.Fprintln(stderr, "benchtable:", err)
		return 2
	}

	var total tally
	for _, a := range adapters {
		path := filepath.Join(*dir, a+".txt")
		f, err := os.Open(filepath.Clean(path))
		if err != nil {
			fmt.Fprintln(stderr, "benchtable:", err)
			return 2
		}
		res, err := parse(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "benchtable: %s: %v\n", path, err)
			return 2
		}
		t := report(stdout, a, path, res)
		total.met += t.met
		total.missed += t.missed
	}
	fmt.Fprintf(stdout, "targets: %d met, %d missed\n", total.met, total.missed)
	if *strict && total.missed > 0 {
		return 1
	}
	return 0
}

// adaptersOf returns the adapters named in list (comma-separated), or, when
// list is empty, those with an ADAPTER.txt in dir, sorted.
func adaptersOf(dir, list string) ([]string, error) {
	if list != "" {
		var out []string
		for a := range strings.SplitSeq(list, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			// A name, not a path: the file is in dir.
			if a != filepath.Base(a) || strings.HasPrefix(a, ".") {
				return nil, fmt.Errorf("-adapters: %q is not an adapter's name", a)
			}
			out = append(out, a)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("-adapters %q names no adapter", list)
		}
		return out, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(filepath.Base(f), ".txt"))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no ADAPTER.txt file", dir)
	}
	slices.Sort(out)
	return out, nil
}
