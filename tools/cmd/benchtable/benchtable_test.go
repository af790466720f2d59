package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Hand-made `go test -bench -benchmem` outputs, three runs each (as
// scripts/bench.sh makes them: the binary run once per run, -count 1).
const header = `goos: linux
goarch: amd64
pkg: github.com/apptoken-go/apptoken/adapters/gin
cpu: AMD EPYC
`

// mwMeets: one shape, every target met. Medians: bare 100, apptoken 150
// (+50), apptoken-keep 120 (+20), sdk 200 (+100), keyauth 300 (+200).
const mwMeets = `BenchmarkMiddleware/43B/bare-2             	 1000000	       100.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-2         	 1000000	       150.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-keep-2    	 1000000	       120.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-reject-2  	 1000000	       160.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/sdk-2              	 1000000	       200.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkMiddleware/43B/sdk-lean-2         	 1000000	       140.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/keyauth-2          	 1000000	       300.0 ns/op	      96 B/op	       3 allocs/op
BenchmarkMiddleware/43B/deny-2             	 1000000	       110.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/bare-2             	 1000000	       102.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-2         	 1000000	       151.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-keep-2    	 1000000	       125.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-reject-2  	 1000000	       161.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/sdk-2              	 1000000	       201.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkMiddleware/43B/sdk-lean-2         	 1000000	       141.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/keyauth-2          	 1000000	       301.0 ns/op	      96 B/op	       3 allocs/op
BenchmarkMiddleware/43B/deny-2             	 1000000	       111.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/bare-2             	 1000000	        98.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-2         	 1000000	       149.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-keep-2    	 1000000	       118.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/apptoken-reject-2  	 1000000	       159.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/sdk-2              	 1000000	       199.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkMiddleware/43B/sdk-lean-2         	 1000000	       139.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/43B/keyauth-2          	 1000000	       299.0 ns/op	      96 B/op	       3 allocs/op
BenchmarkMiddleware/43B/deny-2             	 1000000	       109.0 ns/op	       0 B/op	       0 allocs/op
`

// mwKeepFails: apptoken-keep adds 130 ns (median 230) against keyauth's
// 200, met in one run only, and allocates 4 where keyauth allocates 3; sdk
// adds 20, so apptoken's 50 misses the sdk target too.
const mwKeepFails = `BenchmarkMiddleware/jwt/bare           	 1000000	       100.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/jwt/apptoken       	 1000000	       150.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/jwt/apptoken-keep  	 1000000	       230.0 ns/op	     128 B/op	       4 allocs/op
BenchmarkMiddleware/jwt/sdk            	 1000000	       120.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkMiddleware/jwt/keyauth        	 1000000	       300.0 ns/op	      96 B/op	       3 allocs/op
BenchmarkMiddleware/jwt/bare           	 1000000	       102.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/jwt/apptoken       	 1000000	       150.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/jwt/apptoken-keep  	 1000000	       190.0 ns/op	     128 B/op	       4 allocs/op
BenchmarkMiddleware/jwt/sdk            	 1000000	       120.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkMiddleware/jwt/keyauth        	 1000000	       300.0 ns/op	      96 B/op	       3 allocs/op
BenchmarkMiddleware/jwt/bare           	 1000000	        98.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/jwt/apptoken       	 1000000	       150.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMiddleware/jwt/apptoken-keep  	 1000000	       240.0 ns/op	     128 B/op	       4 allocs/op
BenchmarkMiddleware/jwt/sdk            	 1000000	       120.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkMiddleware/jwt/keyauth        	 1000000	       300.0 ns/op	      96 B/op	       3 allocs/op
`

// e2eWithin: apptoken 51000 against bare 50000 (1.02), within 3 % in two
// of three runs.
const e2eWithin = `BenchmarkEndToEnd/bare-2        	   20000	     50000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/apptoken-2    	   20000	     51000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/bare-2        	   20000	     51000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/apptoken-2    	   20000	     50500 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/bare-2        	   20000	     49000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/apptoken-2    	   20000	     52000 ns/op	    5200 B/op	      61 allocs/op
`

// e2ePaired: timed one after the other, apptoken looks 12 % slower than
// bare (drift between the two loops); the paired case, requests taken in
// turns, says 1.01 and 1.02.
const e2ePaired = `BenchmarkEndToEnd/bare-2        	   20000	     50000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/apptoken-2    	   20000	     56000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/paired-2      	   10000	    101000 ns/op	   10400 B/op	     120 allocs/op	         1.010 apptoken/bare
BenchmarkEndToEnd/bare-2        	   20000	     50000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/apptoken-2    	   20000	     56000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/paired-2      	   10000	    101000 ns/op	   10400 B/op	     120 allocs/op	         1.020 apptoken/bare
`

// e2eWithout: apptoken 55000 against bare 50000 (1.10), with a shape level.
const e2eWithout = `BenchmarkEndToEnd/43B/bare-2        	   20000	     50000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/43B/apptoken-2    	   20000	     55000 ns/op	    5200 B/op	      61 allocs/op
BenchmarkEndToEnd/43B/bare-2        	   20000	     50000 ns/op	    5200 B/op	      60 allocs/op
BenchmarkEndToEnd/43B/apptoken-2    	   20000	     51000 ns/op	    5200 B/op	      61 allocs/op
`

const trailer = `PASS
ok  	github.com/apptoken-go/apptoken/adapters/gin	12.345s
`

func mustParse(t *testing.T, parts ...string) results {
	t.Helper()
	res, err := parse(strings.NewReader(strings.Join(parts, "")))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestParse(t *testing.T) {
	res := mustParse(t, header, mwMeets, header, e2eWithin, trailer)
	mw, e2e := res[middleware], res[endToEnd]
	if mw == nil || e2e == nil {
		t.Fatalf("benchmarks found: %v", slices.Sorted(maps.Keys(res)))
	}
	if !reflect.DeepEqual(mw.shapes, []string{"43B"}) || !reflect.DeepEqual(e2e.shapes, []string{""}) {
		t.Errorf("shapes %q and %q", mw.shapes, e2e.shapes)
	}
	if !reflect.DeepEqual(mw.cases, middlewareCases) || !reflect.DeepEqual(e2e.cases, []string{"bare", "apptoken"}) {
		t.Errorf("cases %q and %q", mw.cases, e2e.cases)
	}
	keep := mw.get("43B", "apptoken-keep")
	if keep == nil || !reflect.DeepEqual(keep.ns, []float64{120, 125, 118}) || !reflect.DeepEqual(keep.allocs, []float64{0, 0, 0}) {
		t.Errorf("apptoken-keep runs %+v", keep)
	}
	if got := medianOf(keep); got != (med{120, 0}) {
		t.Errorf("apptoken-keep median %+v, want 120 ns, 0 allocs", got)
	}
	app := e2e.get("", "apptoken")
	if app == nil || !reflect.DeepEqual(app.allocs, []float64{60, 60, 61}) {
		t.Errorf("end-to-end apptoken runs %+v", app)
	}

	// The -GOMAXPROCS suffix is optional; a case name with a hyphen keeps it.
	res = mustParse(t, "BenchmarkMiddleware/jwt/apptoken-keep 10 5 ns/op 0 B/op 0 allocs/op\n",
		"BenchmarkMiddleware/jwt/apptoken-keep-8 10 7 ns/op 0 B/op 0 allocs/op\n",
		"BenchmarkEndToEnd/x/y/bare-4 10 9 ns/op 0 B/op 1 allocs/op\n",
		"BenchmarkOther/jwt/bare-2 10 1 ns/op 0 B/op 0 allocs/op\n",
		"BenchmarkMiddlewareX/jwt/bare-2 10 1 ns/op 0 B/op 0 allocs/op\n",
		"BenchmarkMiddleware 10 1 ns/op 0 B/op 0 allocs/op\n")
	if s := res[middleware].get("jwt", "apptoken-keep"); s == nil || !reflect.DeepEqual(s.ns, []float64{5, 7}) {
		t.Errorf("apptoken-keep runs %+v", s)
	}
	if s := res[endToEnd].get("x/y", "bare"); s == nil || s.ns[0] != 9 {
		t.Errorf("deeper end-to-end name: %+v", res[endToEnd])
	}
	if len(res) != 2 || len(res[middleware].runs) != 1 {
		t.Errorf("other benchmarks kept: %+v", res[middleware].runs)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"nothing", header + trailer, "no BenchmarkMiddleware or BenchmarkEndToEnd results"},
		{"empty", "", "no BenchmarkMiddleware or BenchmarkEndToEnd results"},
		{"without -benchmem", "BenchmarkEndToEnd/bare-2 100 5000 ns/op\tx\n", "BenchmarkEndToEnd/bare-2: no ns/op or allocs/op"},
	} {
		if _, err := parse(strings.NewReader(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5}, 5},
	} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %g, want %g", tt.in, got, tt.want)
		}
	}
}

func TestPerRun(t *testing.T) {
	below := func(ns []float64) bool { return ns[1] <= ns[0] }
	a := &sample{ns: []float64{10, 10, 10}}
	b := &sample{ns: []float64{9, 11, 10}}
	for _, tt := range []struct {
		name string
		ss   []*sample
		want string
	}{
		{"two of three", []*sample{a, b}, "; met in 2 of 3 runs"},
		{"unequal runs", []*sample{a, {ns: []float64{1, 2}}}, ""},
		{"one run", []*sample{{ns: []float64{1}}, {ns: []float64{1}}}, ""},
		{"a case missing", []*sample{a, nil}, ""},
		{"none", nil, ""},
	} {
		if got := perRun(below, tt.ss...); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string // the verdict lines, in order
	}{{
		name: "apptoken-keep meets its targets; end to end within 3 %",
		in:   []string{header, mwMeets, e2eWithin, trailer},
		want: []string{
			"PASS gin 43B: apptoken-keep adds 20.0 ns = 0.10 x keyauth's 200.0 ns (target <= 0.5 x); met in 3 of 3 runs",
			"PASS gin 43B: apptoken-keep adds +0 allocs/op over bare, keyauth +3 (target <= keyauth's)",
			"PASS gin 43B: apptoken adds 50.0 ns = 0.50 x sdk's 100.0 ns (target <= 1.5 x); met in 3 of 3 runs",
			"info gin 43B: apptoken (default) adds 50.0 ns, +0 allocs/op over bare; 0.25 x keyauth's 200.0 ns; 1.25 x sdk-lean's 40.0 ns",
			"info gin 43B: apptoken-keep adds 20.0 ns; 0.20 x sdk's; 0.50 x sdk-lean's",
			"info gin 43B: apptoken-reject 160.0 ns <= apptoken + (deny - bare) = 150.0 + 10.0 = 160.0 ns",
			"PASS gin e2e: apptoken/bare 1.020 (median of the runs' ratios; medians 51000.0 and 50000.0 ns/op), +0 allocs/op (target <= 1.03 x); met in 2 of 3 runs",
		},
	}, {
		name: "apptoken-keep misses its targets; end to end 10 % over",
		in:   []string{mwKeepFails, e2eWithout},
		want: []string{
			"FAIL gin jwt: apptoken-keep adds 130.0 ns = 0.65 x keyauth's 200.0 ns (target <= 0.5 x); met in 1 of 3 runs",
			"FAIL gin jwt: apptoken-keep adds +4 allocs/op over bare, keyauth +3 (target <= keyauth's)",
			"FAIL gin jwt: apptoken adds 50.0 ns = 2.50 x sdk's 20.0 ns (target <= 1.5 x); met in 0 of 3 runs",
			"info gin jwt: apptoken (default) adds 50.0 ns, +0 allocs/op over bare; 0.25 x keyauth's 200.0 ns",
			"info gin jwt: apptoken-keep adds 130.0 ns; 6.50 x sdk's",
			"FAIL gin e2e/43B: apptoken/bare 1.060 (median of the runs' ratios; medians 53000.0 and 50000.0 ns/op), +1 allocs/op (target <= 1.03 x); met in 1 of 2 runs",
		},
	}, {
		name: "end to end judged on the paired case",
		in:   []string{e2ePaired},
		want: []string{
			"FAIL gin: no BenchmarkMiddleware results",
			"PASS gin e2e: apptoken/bare 1.015 (paired, median of the runs; medians 56000.0 and 50000.0 ns/op), +0 allocs/op (target <= 1.03 x); met in 2 of 2 runs",
		},
	}, {
		name: "no end-to-end results",
		in:   []string{header, mwMeets, trailer},
		want: []string{
			"PASS gin 43B: apptoken-keep adds 20.0 ns = 0.10 x keyauth's 200.0 ns (target <= 0.5 x); met in 3 of 3 runs",
			"PASS gin 43B: apptoken-keep adds +0 allocs/op over bare, keyauth +3 (target <= keyauth's)",
			"PASS gin 43B: apptoken adds 50.0 ns = 0.50 x sdk's 100.0 ns (target <= 1.5 x); met in 3 of 3 runs",
			"info gin 43B: apptoken (default) adds 50.0 ns, +0 allocs/op over bare; 0.25 x keyauth's 200.0 ns; 1.25 x sdk-lean's 40.0 ns",
			"info gin 43B: apptoken-keep adds 20.0 ns; 0.20 x sdk's; 0.50 x sdk-lean's",
			"info gin 43B: apptoken-reject 160.0 ns <= apptoken + (deny - bare) = 150.0 + 10.0 = 160.0 ns",
			"FAIL gin: no BenchmarkEndToEnd results: the end-to-end target not judged",
		},
	}, {
		name: "no middleware results",
		in:   []string{e2eWithin},
		want: []string{
			"FAIL gin: no BenchmarkMiddleware results",
			"PASS gin e2e: apptoken/bare 1.020 (median of the runs' ratios; medians 51000.0 and 50000.0 ns/op), +0 allocs/op (target <= 1.03 x); met in 2 of 3 runs",
		},
	}, {
		name: "cases missing",
		in: []string{
			"BenchmarkMiddleware/43B/apptoken 1 150 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/jwt/bare 1 100 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/jwt/apptoken-keep 1 120 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/jwt/apptoken 1 150 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkEndToEnd/bare 1 50000 ns/op 0 B/op 60 allocs/op\n",
			"BenchmarkEndToEnd/43B/apptoken 1 50000 ns/op 0 B/op 60 allocs/op\n",
		},
		want: []string{
			"FAIL gin 43B: no bare result: the targets not judged",
			"FAIL gin jwt: no keyauth result: the apptoken-keep target not judged",
			"FAIL gin jwt: no sdk result: the sdk target not judged",
			"info gin jwt: apptoken (default) adds 50.0 ns, +0 allocs/op over bare",
			"info gin jwt: apptoken-keep adds 20.0 ns",
			"FAIL gin e2e: no apptoken result: the end-to-end target not judged",
			"FAIL gin e2e/43B: no bare result: the end-to-end target not judged",
		},
	}, {
		name: "keyauth and sdk no slower than bare",
		in: []string{
			"BenchmarkMiddleware/43B/bare 1 100 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/43B/apptoken 1 150 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/43B/apptoken-keep 1 120 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/43B/sdk 1 99 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/43B/keyauth 1 100 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/43B/apptoken-reject 1 170 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkMiddleware/43B/deny 1 110 ns/op 0 B/op 0 allocs/op\n",
			"BenchmarkEndToEnd/bare 1 50000 ns/op 0 B/op 60 allocs/op\n",
			"BenchmarkEndToEnd/apptoken 1 51500 ns/op 0 B/op 60 allocs/op\n",
		},
		want: []string{
			"FAIL gin 43B: keyauth adds 0.0 ns over bare: no ratio to take (noise?)",
			"PASS gin 43B: apptoken-keep adds +0 allocs/op over bare, keyauth +0 (target <= keyauth's)",
			"FAIL gin 43B: sdk adds -1.0 ns over bare: no ratio to take (noise?)",
			"info gin 43B: apptoken (default) adds 50.0 ns, +0 allocs/op over bare",
			"info gin 43B: apptoken-keep adds 20.0 ns",
			"info gin 43B: apptoken-reject 170.0 ns > apptoken + (deny - bare) = 150.0 + 10.0 = 160.0 ns",
			"PASS gin e2e: apptoken/bare 1.030 (ratio of the medians; medians 51500.0 and 50000.0 ns/op), +0 allocs/op (target <= 1.03 x)",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, v := range judge("gin", mustParse(t, tt.in...)) {
				got = append(got, v.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestReport(t *testing.T) {
	var b bytes.Buffer
	got := report(&b, "gin", "out/bench/latest/gin.txt", mustParse(t, header, mwMeets, e2eWithout))
	if got != (tally{met: 3, missed: 1}) {
		t.Errorf("tally %+v, want 3 met, 1 missed", got)
	}
	want := `== gin: median of 3 runs (out/bench/latest/gin.txt); keyauth = gin.BasicAuth
shape   case                  ns/op   added ns  allocs/op      added
43B     bare                  100.0          -          0          -
43B     apptoken              150.0      +50.0          0         +0
43B     apptoken-keep         120.0      +20.0          0         +0
43B     apptoken-reject       160.0      +60.0          0         +0
43B     sdk                   200.0     +100.0          1         +1
43B     sdk-lean              140.0      +40.0          0         +0
43B     keyauth               300.0     +200.0          3         +3
43B     deny                  110.0      +10.0          0         +0
e2e/43B bare                50000.0          -         60          -
e2e/43B apptoken            53000.0    +3000.0         61         +1
PASS gin 43B: apptoken-keep adds 20.0 ns = 0.10 x keyauth's 200.0 ns (target <= 0.5 x); met in 3 of 3 runs
PASS gin 43B: apptoken-keep adds +0 allocs/op over bare, keyauth +3 (target <= keyauth's)
PASS gin 43B: apptoken adds 50.0 ns = 0.50 x sdk's 100.0 ns (target <= 1.5 x); met in 3 of 3 runs
info gin 43B: apptoken (default) adds 50.0 ns, +0 allocs/op over bare; 0.25 x keyauth's 200.0 ns; 1.25 x sdk-lean's 40.0 ns
info gin 43B: apptoken-keep adds 20.0 ns; 0.20 x sdk's; 0.50 x sdk-lean's
info gin 43B: apptoken-reject 160.0 ns <= apptoken + (deny - bare) = 150.0 + 10.0 = 160.0 ns
FAIL gin e2e/43B: apptoken/bare 1.060 (median of the runs' ratios; medians 53000.0 and 50000.0 ns/op), +1 allocs/op (target <= 1.03 x); met in 1 of 2 runs

`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	// An adapter the heading does not know yet, and a case it does not know,
	// shown after the known ones.
	b.Reset()
	report(&b, "newframework", "x.txt", mustParse(t,
		"BenchmarkEndToEnd/stream 1 7 ns/op 0 B/op 0 allocs/op\n",
		"BenchmarkEndToEnd/apptoken 1 6 ns/op 0 B/op 0 allocs/op\n",
		"BenchmarkEndToEnd/bare 1 5 ns/op 0 B/op 0 allocs/op\n"))
	if !strings.Contains(b.String(), "keyauth = the framework's own (see adapters/newframework)") {
		t.Errorf("heading for an unknown adapter:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "e2e     bare") || !strings.Contains(b.String(), "e2e     stream                  7.0       +2.0") {
		t.Errorf("end-to-end table:\n%s", b.String())
	}
	if i, j := strings.Index(b.String(), "e2e     apptoken"), strings.Index(b.String(), "e2e     stream"); i > j {
		t.Errorf("a known case shown after an unknown one:\n%s", b.String())
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, parts ...string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(parts, "")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("gin.txt", header, mwMeets, e2eWithin, trailer)
	write("chi.txt", header, mwMeets, trailer) // no BenchmarkEndToEnd
	write("grpc.txt", header, mwKeepFails, e2eWithin, trailer)
	write("broken.txt", header, trailer)

	tests := []struct {
		name    string
		args    []string
		status  int
		wantOut []string
		wantErr string
	}{
		{"all met", []string{"-dir", dir, "-adapters", "gin", "-strict"}, 0,
			[]string{"== gin: median of 3 runs", "targets: 4 met, 0 missed"}, ""},
		{"missing end to end, not strict", []string{"-dir", dir, "-adapters", "chi"}, 0,
			[]string{"FAIL chi: no BenchmarkEndToEnd results", "targets: 3 met, 1 missed"}, ""},
		{"missing end to end, strict", []string{"-dir", dir, "-adapters", "chi", "-strict"}, 1,
			[]string{"FAIL chi: no BenchmarkEndToEnd results", "targets: 3 met, 1 missed"}, ""},
		{"missed, strict", []string{"-dir", dir, "-adapters", "gin,grpc", "-strict"}, 1,
			[]string{"== gin:", "== grpc:", "targets: 5 met, 3 missed"}, ""},
		{"adapters in the order given", []string{"-dir", dir, "-adapters", "grpc, gin"}, 0,
			[]string{"== grpc:", "targets: 5 met, 3 missed"}, ""},
		{"a missing adapter's file", []string{"-dir", dir, "-adapters", "gin,fiber"}, 2, nil, "fiber.txt"},
		{"a file without results", []string{"-dir", dir, "-adapters", "broken"}, 2, nil, "broken.txt: no BenchmarkMiddleware"},
		{"every file by default", []string{"-dir", dir}, 2, nil, "broken.txt: no BenchmarkMiddleware"},
		{"a path for a name", []string{"-dir", dir, "-adapters", "gin,../gin"}, 2, nil, `"../gin" is not an adapter's name`},
		{"a hidden name", []string{"-dir", dir, "-adapters", ".gin"}, 2, nil, `".gin" is not an adapter's name`},
		{"an empty directory", []string{"-dir", t.TempDir()}, 2, nil, "no ADAPTER.txt file"},
		{"an empty list", []string{"-dir", dir, "-adapters", ","}, 2, nil, "names no adapter"},
		{"arguments", []string{"gin"}, 2, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if got := run(tt.args, &out, &errOut); got != tt.status {
				t.Errorf("status %d, want %d; stderr: %s", got, tt.status, errOut.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output does not hold %q:\n%s", w, out.String())
				}
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr does not hold %q: %s", tt.wantErr, errOut.String())
			}
		})
	}
	// Without -adapters, every file in the directory, by name.
	if err := os.Remove(filepath.Join(dir, "broken.txt")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if got := run([]string{"-dir", dir}, &out, &out); got != 0 {
		t.Fatalf("status %d: %s", got, out.String())
	}
	if i, j, k := strings.Index(out.String(), "== chi:"), strings.Index(out.String(), "== gin:"), strings.Index(out.String(), "== grpc:"); i < 0 || i > j || j > k {
		t.Errorf("adapters not in name order:\n%s", out.String())
	}
}
