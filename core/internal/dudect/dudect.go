// Package dudect tells whether the running time of an operation depends on
// its input, in the manner of dudect ("Dude, is my code constant time?",
// Reparaz, Balasch and Verbauwhede, 2017): time the operation many times on
// inputs of two classes, chosen at random for each measurement, and run
// Welch's t-test on the two sets of times. A |t| beyond about 4.5 means the
// classes differ in time with overwhelming confidence; below it, no
// difference was found at this number of measurements.
//
// As dudect does, the measurements are also tested after cropping: for each
// of a series of percentiles of the times (taken from a warm-up run), only
// the times below it are kept. Noise on a shared machine (interrupts, other
// processes, frequency changes) adds a long upper tail that hides small
// differences; cropping removes it. The reported statistic is the largest
// |t| of the uncropped and every cropped test with enough measurements.
//
// This package only measures and computes; what counts as a leak, and what
// to retry, is for the caller to decide.
package dudect

import (
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"time"
)

// Bound is the |t| above which dudect reports a leak.
const Bound = 4.5

// Welch accumulates measurements of two classes (0 and 1) online, with
// Welford's method, and gives Welch's t statistic for the difference of
// their means. The zero Welch is empty and ready to use.
type Welch struct {
	n, mean, m2 [2]float64
}

// Add records measurement x of class c (0 or 1).
func (w *Welch) Add(c int, x float64) {
	w.n[c]++
	d := x - w.mean[c]
	w.mean[c] += d / w.n[c]
	w.m2[c] += d * (x - w.mean[c])
}

// N returns the number of measurements of class c.
func (w *Welch) N(c int) int { return int(w.n[c]) }

// Mean returns the mean of class c.
func (w *Welch) Mean(c int) float64 { return w.mean[c] }

// Var returns the sample variance of class c.
func (w *Welch) Var(c int) float64 {
	if w.n[c] < 2 {
		return 0
	}
	return w.m2[c] / (w.n[c] - 1)
}

// T returns Welch's t statistic, (mean0 - mean1) / sqrt(var0/n0 + var1/n1).
// It is 0 while either class has fewer than two measurements, and ±Inf when
// both classes are constant and differ.
func (w *Welch) T() float64 {
	if w.n[0] < 2 || w.n[1] < 2 {
		return 0
	}
	d := w.mean[0] - w.mean[1]
	se := math.Sqrt(w.Var(0)/w.n[0] + w.Var(1)/w.n[1])
	if se == 0 {
		if d == 0 {
			return 0
		}
		return math.Inf(int(math.Copysign(1, d)))
	}
	return d / se
}

// Percentile returns the p-quantile (0 <= p <= 1) of sorted, which must be
// sorted in increasing order and not empty: the element at index p*len,
// clamped to the last one, as dudect takes it.
func Percentile(sorted []float64, p float64) float64 {
	i := int(p * float64(len(sorted)))
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Thresholds returns dudect's n cropping thresholds for the times in
// sample: for k = 0..n-1, the (1 - 0.5^(10(k+1)/n)) percentile. They go
// from a harsh crop (k = 0 keeps the fastest 7% when n = 100) to a light
// one (k = n-1 keeps 99.9%). sample is not changed.
func Thresholds(sample []float64, n int) []float64 {
	if len(sample) == 0 || n <= 0 {
		return nil
	}
	sorted := slices.Clone(sample)
	slices.Sort(sorted)
	th := make([]float64, n)
	for k := range th {
		th[k] = Percentile(sorted, 1-math.Pow(0.5, 10*float64(k+1)/float64(n)))
	}
	return th
}

// Stat is the outcome of one t-test.
type Stat struct {
	// T is Welch's t statistic; |T| beyond Bound means the classes differ.
	T float64
	// N is the number of measurements the test used, both classes together.
	N int
	// Crop is the threshold the measurements were cropped at, or +Inf for
	// the uncropped test.
	Crop float64
	// Mean is each class's mean, in the unit of the measurements.
	Mean [2]float64
}

// Abs returns |T|.
func (s Stat) Abs() float64 { return math.Abs(s.T) }

// Test is a t-test on the uncropped measurements and one per cropping
// threshold.
type Test struct {
	// MinN is the number of measurements a cropped test needs before Max
	// considers it, so that a harsh crop of few measurements does not
	// decide.
	MinN       int
	thresholds []float64
	raw        Welch
	cropped    []Welch
}

// NewTest returns a test that crops at each of thresholds (as from
// [Thresholds]) besides testing every measurement.
func NewTest(thresholds []float64, minN int) *Test {
	return &Test{
		MinN:       minN,
		thresholds: slices.Clone(thresholds),
		cropped:    make([]Welch, len(thresholds)),
	}
}

// Add records measurement x of class c (0 or 1) in every test whose
// threshold it is below.
func (t *Test) Add(c int, x float64) {
	t.raw.Add(c, x)
	for i, th := range t.thresholds {
		if x < th {
			t.cropped[i].Add(c, x)
		}
	}
}

// Raw returns the test on every measurement.
func (t *Test) Raw() Stat { return stat(&t.raw, math.Inf(1)) }

// Max returns the test with the largest |t|: the uncropped test, or a
// cropped one with at least MinN measurements of each class.
func (t *Test) Max() Stat {
	best := t.Raw()
	for i := range t.cropped {
		w := &t.cropped[i]
		if w.N(0) < t.MinN || w.N(1) < t.MinN {
			continue
		}
		if s := stat(w, t.thresholds[i]); s.Abs() > best.Abs() {
			best = s
		}
	}
	return best
}

func stat(w *Welch, crop float64) Stat {
	return Stat{T: w.T(), N: w.N(0) + w.N(1), Crop: crop, Mean: [2]float64{w.Mean(0), w.Mean(1)}}
}

// Config says how [Measure] measures.
type Config struct {
	// Samples is the number of measurements tested, both classes together.
	Samples int
	// Warmup is the number of measurements made first, only to warm caches
	// and branch predictors and to set the cropping thresholds; they are
	// not tested. Default: Samples/10, at least 1000.
	Warmup int
	// Percentiles is the number of cropping thresholds. Default: 100, as
	// in dudect.
	Percentiles int
	// MinN is the least number of measurements of each class a cropped
	// test needs to count. Default: Samples/10, so that a crop counts
	// when it keeps at least a fifth of the measurements. (A harsher crop
	// of times that fall on few steps of the clock makes a sample too
	// discrete for the t statistic to be trusted.)
	MinN int
	// Seed seeds the random choice of class for each measurement.
	Seed uint64
}

// Result is the outcome of [Measure].
type Result struct {
	// Max is the test with the largest |t| (see [Test.Max]).
	Max Stat
	// Raw is the test on every measurement, uncropped.
	Raw Stat
	// Samples is the number of measurements tested.
	Samples int
	// Elapsed is the wall time the measurement took.
	Elapsed time.Duration
}

// Measure times run after prepare(0) or prepare(1), the class chosen at
// random for each measurement, and tests whether the two classes' times
// differ. prepare sets up the input of a class and is not timed; run is
// timed, and each call of it is one measurement, in nanoseconds, so it
// should repeat the operation enough times to be well above the clock's
// overhead and resolution (a microsecond or more).
//
// The surest way to have the classes differ in nothing but the input is
// for prepare to write each class's input into the same memory: then
// alignment, cache sets and the like cannot tell the classes apart, only
// what the operation does with the input can.
//
// While it measures, Measure keeps the goroutine on one OS thread and turns
// the garbage collector off (prepare and run should not allocate), so that
// neither lands in the measurements more for one class than for the other.
func Measure(cfg Config, prepare func(class int), run func()) Result {
	if cfg.Warmup <= 0 {
		cfg.Warmup = max(1000, cfg.Samples/10)
	}
	if cfg.Percentiles <= 0 {
		cfg.Percentiles = 100
	}
	if cfg.MinN <= 0 {
		cfg.MinN = max(1, cfg.Samples/10)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	gc := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(gc)
	runtime.GC()

	start := time.Now()
	warm := make([]float64, cfg.Warmup)
	for i := range warm {
		prepare(int(rng.Uint64() & 1))
		warm[i] = timed(run)
	}
	test := NewTest(Thresholds(warm, cfg.Percentiles), cfg.MinN)
	for range cfg.Samples {
		c := int(rng.Uint64() & 1)
		prepare(c)
		test.Add(c, timed(run))
	}
	return Result{Max: test.Max(), Raw: test.Raw(), Samples: cfg.Samples, Elapsed: time.Since(start)}
}

// timed returns the time run takes, in nanoseconds.
func timed(run func()) float64 {
	t0 := time.Now()
	run()
	return float64(time.Since(t0))
}
