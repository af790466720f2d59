package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The benchmarks read, by their top-level names.
const (
	middleware = "BenchmarkMiddleware"
	endToEnd   = "BenchmarkEndToEnd"
)

// sample holds every run of one sub-benchmark, in the order of the input:
// ns/op, allocs/op, and the apptoken/bare metric that the "paired" case of
// BenchmarkEndToEnd reports (NaN where a line has none).
type sample struct{ ns, allocs, ratio []float64 }

// bench holds the runs of one benchmark's sub-benchmarks.
type bench struct {
	runs   map[string]*sample // by "SHAPE/CASE", or "CASE" when there is no shape level
	shapes []string           // in the order first seen; "" for no shape level
	cases  []string           // in the order first seen
}

// get returns the runs of one case of one shape, or nil.
func (b *bench) get(shape, c string) *sample {
	if b == nil {
		return nil
	}
	return b.runs[join(shape, c)]
}

func join(shape, c string) string {
	if shape == "" {
		return c
	}
	return shape + "/" + c
}

// results maps a benchmark's name (middleware, endToEnd) to its runs; a
// benchmark with no result is absent.
type results map[string]*bench

// parse reads go test's benchmark output (run with -benchmem), keeping the
// sub-benchmarks of BenchmarkMiddleware and BenchmarkEndToEnd. A
// sub-benchmark's name is SHAPE/CASE or, with no shape level, CASE; the
// -GOMAXPROCS suffix is dropped.
func parse(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		top, name, ok := strings.Cut(fields[0], "/")
		if !ok || (top != middleware && top != endToEnd) {
			continue
		}
		// Drop the -GOMAXPROCS suffix.
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		shape, c := "", name
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			shape, c = name[:i], name[i+1:]
		}
		if c == "" {
			continue
		}
		ns, allocs, ratio := math.NaN(), math.NaN(), math.NaN()
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
			case "apptoken/bare":
				ratio = v
			}
		}
		if math.IsNaN(ns) || math.IsNaN(allocs) {
			return nil, fmt.Errorf("%s: no ns/op or allocs/op (run with -benchmem)", fields[0])
		}
		b := res[top]
		if b == nil {
			b = &bench{runs: map[string]*sample{}}
			res[top] = b
		}
		s := b.runs[name]
		if s == nil {
			s = &sample{}
			b.runs[name] = s
			if !slices.Contains(b.shapes, shape) {
				b.shapes = append(b.shapes, shape)
			}
			if !slices.Contains(b.cases, c) {
				b.cases = append(b.cases, c)
			}
		}
		s.ns = append(s.ns, ns)
		s.allocs = append(s.allocs, allocs)
		s.ratio = append(s.ratio, ratio)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, errors.New("no " + middleware + " or " + endToEnd + " results")
	}
	return res, nil
}

// median of a non-empty slice.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// perRun takes a target within each single run rather than between medians:
// met is called with the ns/op of each sample in run i, in the order given,
// and perRun says in how many runs it held. That shows whether a verdict is
// clear or at the mercy of the machine's noise. It says nothing (returns "")
// unless every sample has the same number of runs, at least 2.
func perRun(met func(ns []float64) bool, ss ...*sample) string {
	if len(ss) == 0 || ss[0] == nil {
		return ""
	}
	n := len(ss[0].ns)
	for _, s := range ss {
		if s == nil || len(s.ns) != n {
			return ""
		}
	}
	if n < 2 {
		return ""
	}
	k := 0
	v := make([]float64, len(ss))
	for i := range n {
		for j, s := range ss {
			v[j] = s.ns[i]
		}
		if met(v) {
			k++
		}
	}
	return fmt.Sprintf("; met in %d of %d runs", k, n)
}
