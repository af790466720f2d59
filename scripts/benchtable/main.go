// Command benchtable turns the output of every adapter's
// BenchmarkMiddleware into one table per adapter and checks the
// performance targets. It is run by scripts/bench.sh as a single file
// (go run scripts/benchtable/main.go) and needs nothing but the standard
// library.
//
// Shown for information, not judged: apptoken-keep (the middleware with
// WithKeepHeader, leaving the token header on the request as sdk does)
// against sdk and keyauth, and apptoken against sdk-lean (the hand-written
// check written the cheapest way, where the adapter has that case).
//
// Input: a directory holding ADAPTER.txt for each adapter named with
// -adapters, in go test's benchmark format, with any number of runs of
// each sub-benchmark (SHAPE/CASE). Every figure is the median of the runs.
//
// Targets, for each adapter and token shape, where "added" is the median
// time of a case minus that of bare:
//
//	allocs:  apptoken allocates no more than bare, plus 1 for grpc
//	keyauth: added(apptoken) <= 0.5 x added(keyauth)
//	sdk:     added(apptoken) <= 1.5 x added(sdk)
//	reject:  apptoken-reject <= apptoken + (deny - bare), that is, the
//	         reject path costs no more than the accept path plus writing
//	         the 401 (deny) instead of running the route (bare)
//
// The ratio checks also say in how many single runs the target held,
// taking the ratio within each run.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const benchName = "BenchmarkMiddleware"

// The cases in the order they are shown.
var cases = []string{"bare", "apptoken", "apptoken-keep", "apptoken-reject", "sdk", "sdk-lean", "keyauth", "deny"}

// What each adapter's keyauth case runs.
var keyauthOf = map[string]string{
	"gin":   "gin.BasicAuth",
	"echo":  "echo middleware.KeyAuthWithConfig",
	"fiber": "fiber middleware/keyauth",
	"chi":   "chi middleware.BasicAuth",
	"grpc":  "go-grpc-middleware/v2 interceptors/auth",
}

// extraAllocs is how many allocations apptoken may add over bare.
var extraAllocs = map[string]float64{"grpc": 1}

const (
	keyauthRatio = 0.5
	sdkRatio     = 1.5
)

// sample holds every run of one sub-benchmark.
type sample struct{ ns, allocs []float64 }

// results maps "SHAPE/CASE" to its runs, and lists the shapes in the order
// they were first seen.
type results struct {
	runs   map[string]*sample
	shapes []string
}

func main() {
	dir := flag.String("dir", "out/bench/latest", "directory holding ADAPTER.txt files")
	adapters := flag.String("adapters", "gin,echo,fiber,chi,grpc", "comma-separated adapters, in the order shown")
	strict := flag.Bool("strict", false, "exit with status 1 when a target is missed")
	flag.Parse()

	pass, fail := 0, 0
	for _, a := range strings.Split(*adapters, ",") {
		path := filepath.Join(*dir, a+".txt")
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(2)
		}
		res, err := parse(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchtable: %s: %v\n", path, err)
			os.Exit(2)
		}
		p, q := report(os.Stdout, a, path, res)
		pass += p
		fail += q
	}
	fmt.Printf("targets: %d met, %d missed\n", pass, fail)
	if *strict && fail > 0 {
		os.Exit(1)
	}
}

// parse reads go test benchmark output.
func parse(r io.Reader) (*results, error) {
	res := &results{runs: map[string]*sample{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], benchName+"/") {
			continue
		}
		name := strings.TrimPrefix(fields[0], benchName+"/")
		// Drop the -GOMAXPROCS suffix.
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		shape, _, ok := strings.Cut(name, "/")
		if !ok {
			continue
		}
		ns, allocs := math.NaN(), math.NaN()
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				ns = v
			case "allocs/op":
				allocs = v
			}
		}
		if math.IsNaN(ns) || math.IsNaN(allocs) {
			return nil, fmt.Errorf("%s: no ns/op or allocs/op (run with -benchmem)", fields[0])
		}
		s := res.runs[name]
		if s == nil {
			s = &sample{}
			res.runs[name] = s
			if !slices.Contains(res.shapes, shape) {
				res.shapes = append(res.shapes, shape)
			}
		}
		s.ns = append(s.ns, ns)
		s.allocs = append(s.allocs, allocs)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(res.runs) == 0 {
		return nil, errors.New("no " + benchName + " results")
	}
	return res, nil
}

// perRun takes the ratio target within each run rather than between
// medians: in run i, apptoken's added time over other's, both over bare's
// of the same run. It says in how many runs the target held, which shows
// whether a verdict is clear or at the mercy of the machine's noise. It
// says nothing when the cases do not have one result per run.
func perRun(res *results, shape, other string, ratio float64) string {
	bare, app, x := res.runs[shape+"/bare"], res.runs[shape+"/apptoken"], res.runs[shape+"/"+other]
	if bare == nil || app == nil || x == nil {
		return ""
	}
	n := len(bare.ns)
	if n < 2 || len(app.ns) != n || len(x.ns) != n {
		return ""
	}
	met := 0
	for i := range n {
		o := x.ns[i] - bare.ns[i]
		if o > 0 && app.ns[i]-bare.ns[i] <= ratio*o {
			met++
		}
	}
	return fmt.Sprintf("; met in %d of %d runs", met, n)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// report prints the table of one adapter and its target checks, and
// returns how many targets were met and missed.
func report(w io.Writer, adapter, path string, res *results) (pass, fail int) {
	runs := 0
	for _, s := range res.runs {
		runs = max(runs, len(s.ns))
	}
	fmt.Fprintf(w, "== %s: median of %d runs (%s); keyauth = %s\n", adapter, runs, path, keyauthOf[adapter])
	fmt.Fprintf(w, "%-5s %-16s %10s %10s %10s %10s\n", "shape", "case", "ns/op", "added ns", "allocs/op", "added")
	type med struct{ ns, allocs float64 }
	var lines []string
	for _, shape := range res.shapes {
		m := map[string]med{}
		for _, c := range cases {
			if s := res.runs[shape+"/"+c]; s != nil {
				m[c] = med{median(s.ns), median(s.allocs)}
			}
		}
		bare, ok := m["bare"]
		if !ok {
			lines = append(lines, fmt.Sprintf("FAIL %s %s: no bare result", adapter, shape))
			fail++
			continue
		}
		for _, c := range cases {
			x, ok := m[c]
			if !ok {
				continue
			}
			added, addedAllocs := "-", "-"
			if c != "bare" {
				added = fmt.Sprintf("%+.1f", x.ns-bare.ns)
				addedAllocs = fmt.Sprintf("%+g", x.allocs-bare.allocs)
			}
			fmt.Fprintf(w, "%-5s %-16s %10.1f %10s %10g %10s\n", shape, c, x.ns, added, x.allocs, addedAllocs)
		}
		check := func(ok bool, format string, args ...any) {
			verdict := "PASS"
			if ok {
				pass++
			} else {
				verdict = "FAIL"
				fail++
			}
			lines = append(lines, fmt.Sprintf("%s %s %s: ", verdict, adapter, shape)+fmt.Sprintf(format, args...))
		}
		app, ok := m["apptoken"]
		if !ok {
			lines = append(lines, fmt.Sprintf("FAIL %s %s: no apptoken result", adapter, shape))
			fail++
			continue
		}
		appAdded := app.ns - bare.ns
		limit := extraAllocs[adapter]
		check(app.allocs-bare.allocs <= limit, "apptoken adds %g allocs/op over bare (target <= %g)", app.allocs-bare.allocs, limit)
		for _, r := range []struct {
			name  string
			ratio float64
		}{{"keyauth", keyauthRatio}, {"sdk", sdkRatio}} {
			x, ok := m[r.name]
			if !ok {
				continue
			}
			other := x.ns - bare.ns
			if other <= 0 {
				check(false, "%s adds %.1f ns over bare: no ratio to take (noise?)", r.name, other)
				continue
			}
			check(appAdded <= r.ratio*other, "apptoken adds %.1f ns = %.2f x %s's %.1f ns (target <= %g x)%s",
				appAdded, appAdded/other, r.name, other, r.ratio,
				perRun(res, shape, r.name, r.ratio))
		}
		// Not targets: apptoken against the cheapest hand-written check,
		// and the same check without removing the header, as sdk does.
		if x, ok := m["sdk-lean"]; ok {
			line := fmt.Sprintf("info %s %s: apptoken adds %.1f ns", adapter, shape, appAdded)
			if x.ns > bare.ns {
				line += fmt.Sprintf(" = %.2f x sdk-lean's %.1f ns", appAdded/(x.ns-bare.ns), x.ns-bare.ns)
			}
			lines = append(lines, line)
		}
		if k, ok := m["apptoken-keep"]; ok {
			line := fmt.Sprintf("info %s %s: apptoken-keep adds %.1f ns, %+g allocs/op", adapter, shape, k.ns-bare.ns, k.allocs-bare.allocs)
			for _, other := range []string{"sdk", "sdk-lean", "keyauth"} {
				if x, ok := m[other]; ok && x.ns > bare.ns {
					line += fmt.Sprintf("; %.2f x %s's", (k.ns-bare.ns)/(x.ns-bare.ns), other)
				}
			}
			lines = append(lines, line)
		}
		rej, okr := m["apptoken-reject"]
		deny, okd := m["deny"]
		if okr && okd {
			bound := app.ns + deny.ns - bare.ns
			check(rej.ns <= bound, "apptoken-reject %.1f ns vs apptoken + (deny - bare) = %.1f + %.1f = %.1f ns (target <=)",
				rej.ns, app.ns, deny.ns-bare.ns, bound)
		}
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	return pass, fail
}
