package dudect

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// twoPass computes Welch's t the textbook way, to check the online one.
func twoPass(a, b []float64) float64 {
	mv := func(x []float64) (m, v float64) {
		for _, y := range x {
			m += y
		}
		m /= float64(len(x))
		for _, y := range x {
			v += (y - m) * (y - m)
		}
		return m, v / float64(len(x)-1)
	}
	ma, va := mv(a)
	mb, vb := mv(b)
	return (ma - mb) / math.Sqrt(va/float64(len(a))+vb/float64(len(b)))
}

func TestWelchMatchesTwoPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a, b []float64
	var w Welch
	for range 5000 {
		c := int(rng.Uint64() & 1)
		x := 1000 + 50*rng.NormFloat64() + float64(c)*3
		if c == 0 {
			a = append(a, x)
		} else {
			b = append(b, x)
		}
		w.Add(c, x)
	}
	want := twoPass(a, b)
	if got := w.T(); math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Fatalf("T = %v, two-pass %v", got, want)
	}
	if w.N(0) != len(a) || w.N(1) != len(b) {
		t.Fatalf("N = %d, %d; want %d, %d", w.N(0), w.N(1), len(a), len(b))
	}
}

func TestWelchEdgeCases(t *testing.T) {
	var w Welch
	if w.T() != 0 {
		t.Fatal("empty test has t != 0")
	}
	w.Add(0, 1)
	w.Add(1, 2)
	if w.T() != 0 {
		t.Fatal("one measurement per class has t != 0")
	}
	w.Add(0, 1)
	w.Add(1, 2)
	if !math.IsInf(w.T(), -1) {
		t.Fatalf("constant, different classes: t = %v, want -Inf", w.T())
	}
	var same Welch
	for range 3 {
		same.Add(0, 5)
		same.Add(1, 5)
	}
	if same.T() != 0 {
		t.Fatalf("constant, equal classes: t = %v", same.T())
	}
}

// TestWelchPower: a shift of a tenth of a standard deviation is found
// with 20000 measurements, and no shift is not (fixed seed, so no flake).
func TestWelchPower(t *testing.T) {
	for _, c := range []struct {
		shift float64
		leak  bool
	}{{0, false}, {0.1, true}} {
		rng := rand.New(rand.NewPCG(3, 4))
		var w Welch
		for range 20000 {
			k := int(rng.Uint64() & 1)
			w.Add(k, rng.NormFloat64()+c.shift*float64(k))
		}
		if got := math.Abs(w.T()) > Bound; got != c.leak {
			t.Errorf("shift %v: |t| = %.2f, leak %v", c.shift, math.Abs(w.T()), got)
		}
	}
}

func TestThresholds(t *testing.T) {
	sample := make([]float64, 1000)
	for i := range sample {
		sample[len(sample)-1-i] = float64(i)
	}
	orig := slices.Clone(sample)
	th := Thresholds(sample, 100)
	if !slices.Equal(sample, orig) {
		t.Fatal("Thresholds changed its input")
	}
	if len(th) != 100 || !slices.IsSorted(th) {
		t.Fatalf("thresholds not 100 increasing values: %v", th)
	}
	// k = 0: 1 - 0.5^0.1 = 0.0670 -> index 66; k = 99: 0.99902 -> index 999.
	if th[0] != 66 || th[99] != 999 {
		t.Errorf("first, last = %v, %v; want 66, 999", th[0], th[99])
	}
	if Thresholds(nil, 10) != nil || Thresholds(sample, 0) != nil {
		t.Error("no sample or no percentiles must give no thresholds")
	}
	if Percentile([]float64{1, 2, 3}, 1) != 3 || Percentile([]float64{1, 2, 3}, 0) != 1 {
		t.Error("Percentile does not clamp")
	}
}

// TestCropFindsShiftUnderNoise: a small shift hidden by a heavy tail of
// class-independent outliers is found by a cropped test, not the raw one.
func TestCropFindsShiftUnderNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func(c int) float64 {
		x := 1000 + rng.NormFloat64() + 0.2*float64(c)
		if rng.IntN(20) == 0 {
			x += 1e5 * rng.ExpFloat64() // a descheduled measurement
		}
		return x
	}
	warm := make([]float64, 2000)
	for i := range warm {
		warm[i] = gen(int(rng.Uint64() & 1))
	}
	test := NewTest(Thresholds(warm, 100), 1000)
	for range 20000 {
		c := int(rng.Uint64() & 1)
		test.Add(c, gen(c))
	}
	if raw := test.Raw(); raw.Abs() > Bound {
		t.Errorf("raw |t| = %.2f: the noise should hide the shift", raw.Abs())
	}
	m := test.Max()
	if m.Abs() <= Bound || math.IsInf(m.Crop, 1) {
		t.Errorf("max |t| = %.2f at crop %v: the cropped tests should find the shift", m.Abs(), m.Crop)
	}
	if m.N < 1000 {
		t.Errorf("a test with %d measurements counted, fewer than MinN", m.N)
	}
}

// TestMeasureFindsSlowClass runs the real clock on an operation that does
// far more work for class 1.
func TestMeasureFindsSlowClass(t *testing.T) {
	var sink uint64
	n := 0
	prepare := func(c int) { n = 200 + 2000*c }
	run := func() {
		for i := range n {
			sink += uint64(i) * 2654435761
		}
	}
	r := Measure(Config{Samples: 4000, Seed: 7}, prepare, run)
	if r.Max.Abs() <= Bound || r.Max.T >= 0 {
		t.Fatalf("class 1 is ten times slower, yet t = %.2f", r.Max.T)
	}
	if r.Samples != 4000 || r.Raw.N != 4000 {
		t.Fatalf("samples %d, raw N %d; want 4000", r.Samples, r.Raw.N)
	}
	if r.Raw.Mean[1] <= r.Raw.Mean[0] {
		t.Fatalf("means %v: class 1 should be slower", r.Raw.Mean)
	}
	_ = sink
}
