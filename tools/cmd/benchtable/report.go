package main

import (
	"fmt"
	"io"
	"math"
	"slices"
)

// The cases of BenchmarkMiddleware, in the order they are shown; others
// found in the input follow in the order first seen.
var middlewareCases = []string{"bare", "apptoken", "apptoken-keep", "apptoken-reject", "sdk", "sdk-lean", "keyauth", "deny"}

// The cases of BenchmarkEndToEnd: bare and apptoken timed one after the
// other, and paired, which alternates them in one loop and reports their
// ratio.
var endToEndCases = []string{"bare", "apptoken", pairedCase}

const pairedCase = "paired"

// What each adapter's keyauth case runs, for the table's heading.
var keyauthOf = map[string]string{
	"gin":     "gin.BasicAuth",
	"echo":    "echo middleware.KeyAuthWithConfig",
	"echov5":  "echo v5 middleware.KeyAuthWithConfig",
	"fiber":   "fiber middleware/keyauth",
	"fiberv3": "fiber v3 middleware/keyauth",
	"chi":     "chi middleware.BasicAuth",
	"grpc":    "go-grpc-middleware/v2 interceptors/auth",
}

func keyauthName(adapter string) string {
	if k, ok := keyauthOf[adapter]; ok {
		return k
	}
	return "the framework's own (see adapters/" + adapter + ")"
}

// The targets.
const (
	// keepKeyauthRatio: in BenchmarkMiddleware, apptoken-keep adds at most
	// this times what keyauth adds over bare (and no more allocations).
	keepKeyauthRatio = 0.5
	// sdkRatio: in BenchmarkMiddleware, apptoken adds at most this times
	// what sdk adds over bare.
	sdkRatio = 1.5
	// endToEndRatio: in BenchmarkEndToEnd, apptoken takes at most this
	// times bare's time.
	endToEndRatio = 1.03
)

// verdict is one line of the checks: a target met (PASS) or missed (FAIL),
// or a figure shown for information (info).
type verdict struct {
	kind string // "PASS", "FAIL" or "info"
	text string // what was checked, after the adapter's name
}

func (v verdict) String() string { return v.kind + " " + v.text }

// med is the median of one case's runs.
type med struct{ ns, allocs float64 }

func medianOf(s *sample) med { return med{median(s.ns), median(s.allocs)} }

// judge checks every target on one adapter's results, in the order the lines
// are shown.
func judge(adapter string, res results) []verdict {
	var out []verdict
	add := func(kind, where, format string, args ...any) {
		out = append(out, verdict{kind, adapter + " " + where + ": " + fmt.Sprintf(format, args...)})
	}
	check := func(ok bool, where, format string, args ...any) {
		kind := "FAIL"
		if ok {
			kind = "PASS"
		}
		add(kind, where, format, args...)
	}

	// BenchmarkMiddleware, for each token shape.
	mw := res[middleware]
	if mw == nil {
		out = append(out, verdict{"FAIL", adapter + ": no " + middleware + " results"})
	}
	for _, shape := range shapesOf(mw) {
		where := shape
		if where == "" {
			where = "middleware"
		}
		m := map[string]med{}
		for _, c := range mw.cases {
			if s := mw.get(shape, c); s != nil {
				m[c] = medianOf(s)
			}
		}
		// missing reports the first of the named cases that has no result,
		// with what is therefore not judged.
		missing := func(what string, cases ...string) bool {
			for _, c := range cases {
				if _, ok := m[c]; !ok {
					add("FAIL", where, "no %s result: %s not judged", c, what)
					return true
				}
			}
			return false
		}
		if missing("the targets", "bare") {
			continue
		}
		bare := m["bare"]
		added := func(c string) float64 { return m[c].ns - bare.ns }
		runs := func(c string) *sample { return mw.get(shape, c) }

		// Target: apptoken-keep (the header left on the request, as the
		// framework's middleware leaves it) against keyauth.
		if !missing("the apptoken-keep target", "apptoken-keep", "keyauth") {
			keep, other := added("apptoken-keep"), added("keyauth")
			if other <= 0 {
				add("FAIL", where, "keyauth adds %.1f ns over bare: no ratio to take (noise?)", other)
			} else {
				check(keep <= keepKeyauthRatio*other, where,
					"apptoken-keep adds %.1f ns = %.2f x keyauth's %.1f ns (target <= %g x)%s",
					keep, keep/other, other, keepKeyauthRatio,
					perRun(func(ns []float64) bool {
						o := ns[2] - ns[0]
						return o > 0 && ns[1]-ns[0] <= keepKeyauthRatio*o
					}, runs("bare"), runs("apptoken-keep"), runs("keyauth")))
			}
			ka, kk := m["apptoken-keep"].allocs-bare.allocs, m["keyauth"].allocs-bare.allocs
			check(ka <= kk, where, "apptoken-keep adds %+g allocs/op over bare, keyauth %+g (target <= keyauth's)", ka, kk)
		}
		// Target: apptoken (the default, removing the header) against the
		// check as the Dapr Go SDK writes it.
		if !missing("the sdk target", "apptoken", "sdk") {
			app, other := added("apptoken"), added("sdk")
			if other <= 0 {
				add("FAIL", where, "sdk adds %.1f ns over bare: no ratio to take (noise?)", other)
			} else {
				check(app <= sdkRatio*other, where,
					"apptoken adds %.1f ns = %.2f x sdk's %.1f ns (target <= %g x)%s",
					app, app/other, other, sdkRatio,
					perRun(func(ns []float64) bool {
						o := ns[2] - ns[0]
						return o > 0 && ns[1]-ns[0] <= sdkRatio*o
					}, runs("bare"), runs("apptoken"), runs("sdk")))
			}
		}

		// Not targets.
		if app, ok := m["apptoken"]; ok {
			line := fmt.Sprintf("apptoken (default) adds %.1f ns, %+g allocs/op over bare", added("apptoken"), app.allocs-bare.allocs)
			for _, other := range []string{"keyauth", "sdk-lean"} {
				if _, ok := m[other]; ok && added(other) > 0 {
					line += fmt.Sprintf("; %.2f x %s's %.1f ns", added("apptoken")/added(other), other, added(other))
				}
			}
			add("info", where, "%s", line)
		}
		if _, ok := m["apptoken-keep"]; ok {
			line := fmt.Sprintf("apptoken-keep adds %.1f ns", added("apptoken-keep"))
			for _, other := range []string{"sdk", "sdk-lean"} {
				if _, ok := m[other]; ok && added(other) > 0 {
					line += fmt.Sprintf("; %.2f x %s's", added("apptoken-keep")/added(other), other)
				}
			}
			add("info", where, "%s", line)
		}
		// The reject path against the accept path plus writing the 401
		// (deny) instead of running the route (bare).
		rej, okr := m["apptoken-reject"]
		deny, okd := m["deny"]
		app, oka := m["apptoken"]
		if okr && okd && oka {
			bound := app.ns + deny.ns - bare.ns
			cmp := "<="
			if rej.ns > bound {
				cmp = ">"
			}
			add("info", where, "apptoken-reject %.1f ns %s apptoken + (deny - bare) = %.1f + %.1f = %.1f ns",
				rej.ns, cmp, app.ns, deny.ns-bare.ns, bound)
		}
	}

	// BenchmarkEndToEnd: a real client over a loopback connection.
	e2e := res[endToEnd]
	if e2e == nil {
		out = append(out, verdict{"FAIL", adapter + ": no " + endToEnd + " results: the end-to-end target not judged"})
	}
	for _, shape := range shapesOf(e2e) {
		where := "e2e"
		if shape != "" {
			where += "/" + shape
		}
		bare, app := e2e.get(shape, "bare"), e2e.get(shape, "apptoken")
		switch {
		case bare == nil:
			add("FAIL", where, "no bare result: the end-to-end target not judged")
		case app == nil:
			add("FAIL", where, "no apptoken result: the end-to-end target not judged")
		default:
			// The verdict is on the paired case when there is one: its
			// ratio is of requests taken in turns in one loop, free of the
			// machine's drift between loops, which is larger than what the
			// middleware costs. Else on the median of each run's own ratio
			// of apptoken to bare, timed a moment apart in one process; and
			// on the ratio of the medians when the runs do not pair up.
			b, a := medianOf(bare), medianOf(app)
			ratio, how := a.ns/b.ns, "ratio of the medians"
			held := perRun(func(ns []float64) bool { return ns[1] <= endToEndRatio*ns[0] }, bare, app)
			if p := e2e.get(shape, pairedCase); p != nil && !slices.ContainsFunc(p.ratio, math.IsNaN) {
				ratio, how = median(p.ratio), "paired, median of the runs"
				k := 0
				for _, r := range p.ratio {
					if r <= endToEndRatio {
						k++
					}
				}
				held = fmt.Sprintf("; met in %d of %d runs", k, len(p.ratio))
			} else if len(bare.ns) == len(app.ns) && len(bare.ns) > 1 {
				rs := make([]float64, len(bare.ns))
				for i := range rs {
					rs[i] = app.ns[i] / bare.ns[i]
				}
				ratio, how = median(rs), "median of the runs' ratios"
			}
			check(ratio <= endToEndRatio, where,
				"apptoken/bare %.3f (%s; medians %.1f and %.1f ns/op), %+g allocs/op (target <= %g x)%s",
				ratio, how, a.ns, b.ns, a.allocs-b.allocs, endToEndRatio, held)
		}
	}
	return out
}

func shapesOf(b *bench) []string {
	if b == nil {
		return nil
	}
	return b.shapes
}

// ordered lists the cases found: the known ones in their order, then the
// others in the order first seen.
func ordered(known, found []string) []string {
	var out []string
	for _, c := range known {
		if slices.Contains(found, c) {
			out = append(out, c)
		}
	}
	for _, c := range found {
		if !slices.Contains(known, c) {
			out = append(out, c)
		}
	}
	return out
}

// table prints the medians of one adapter's cases, and what each adds over
// bare of the same benchmark and shape.
func table(w io.Writer, adapter, path string, res results) {
	runs := 0
	for _, b := range res {
		for _, s := range b.runs {
			runs = max(runs, len(s.ns))
		}
	}
	fmt.Fprintf(w, "== %s: median of %d runs (%s); keyauth = %s\n", adapter, runs, path, keyauthName(adapter))
	fmt.Fprintf(w, "%-7s %-16s %10s %10s %10s %10s\n", "shape", "case", "ns/op", "added ns", "allocs/op", "added")
	for _, t := range []struct {
		name, label string
		known       []string
	}{{middleware, "", middlewareCases}, {endToEnd, "e2e", endToEndCases}} {
		b := res[t.name]
		for _, shape := range shapesOf(b) {
			label := shape
			if t.label != "" {
				label = t.label
				if shape != "" {
					label += "/" + shape
				}
			}
			var bare *med
			if s := b.get(shape, "bare"); s != nil {
				m := medianOf(s)
				bare = &m
			}
			for _, c := range ordered(t.known, b.cases) {
				s := b.get(shape, c)
				if s == nil || c == pairedCase {
					continue // paired's time is two requests'; its ratio is judged below
				}
				x := medianOf(s)
				added, addedAllocs := "-", "-"
				if c != "bare" && bare != nil {
					added = fmt.Sprintf("%+.1f", x.ns-bare.ns)
					addedAllocs = fmt.Sprintf("%+g", x.allocs-bare.allocs)
				}
				fmt.Fprintf(w, "%-7s %-16s %10.1f %10s %10g %10s\n", label, c, x.ns, added, x.allocs, addedAllocs)
			}
		}
	}
}

// tally counts the targets met and missed.
type tally struct{ met, missed int }

// report prints one adapter's table and its checks, and counts them.
func report(w io.Writer, adapter, path string, res results) tally {
	table(w, adapter, path, res)
	var t tally
	for _, v := range judge(adapter, res) {
		switch v.kind {
		case "PASS":
			t.met++
		case "FAIL":
			t.missed++
		}
		fmt.Fprintln(w, v)
	}
	fmt.Fprintln(w)
	return t
}
