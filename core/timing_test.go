package apptoken

// Timing-leak measurement of the verify step, dudect-style (see package
// internal/dudect for the method). It runs only when asked, because it
// takes a while and wants the machine to itself as far as it can get it:
//
//	APPTOKEN_TIMING=1 go test -run '^TestTiming$' -count=1 .
//
// make timing runs it and prints the table. APPTOKEN_TIMING_SAMPLES sets
// the number of measurements per case (default 20000), and with
// APPTOKEN_TIMING_REPORT set to a file name the table is written there too.
//
// What is measured is (*Verifier).Verify, the whole decision a request
// costs, called as an adapter calls it, on a batch of calls per
// measurement.
//
// # What may show and what must not
//
// By design the time of Verify depends on public facts only: the length of
// each presented value (the caller chose it and it is on the wire; each
// value is compared over its own length with every padded token), the
// number of configured tokens (every token is compared every time), and
// the outcome (accepted or not, which the response tells anyway). It must
// not depend on the configured tokens' content or length, nor on how much
// of a presented value matches, nor on which token matches. So each case
// has two classes that differ in one such secret and agree in every public
// fact:
//
//   - content: against one token, a value sharing all but its last byte
//     with it vs one sharing no byte, of equal length (for tokens of one
//     chunk and of sixteen); one differing in its first byte vs in its
//     last; a prefix of the token vs a value as long that shares nothing.
//     An early exit shows here.
//   - configured length: one presented value of a fixed length, against a
//     token as long as it vs shorter vs longer (in the same chunk, several
//     chunks on, and MaxTokenLength). A compare that stops at the shorter
//     length, or returns at once on a length mismatch (as
//     subtle.ConstantTimeCompare does), shows here. This is also how the
//     presented length is tested against the token's: "a value shorter
//     than, as long as, longer than the token" is only a secret through
//     the token's length, since the value's own length is public; so the
//     value's length stays fixed and the token's varies.
//   - several tokens: against three tokens of the same length, a value
//     equal to the first vs to the last; and equal to the first (or last)
//     vs to none. A compare that stops at the first match shows here. As
//     matching none is also a different outcome, on which Verify branches
//     after the compare, the two "vs none" rows time the compare alone
//     (every value against every token); a control row times the whole
//     decision.
//
// Control rows measure the public facts on purpose: a presented value of
// 43 vs 63 bytes (same chunk), of one chunk vs two, one configured token
// vs three, and the outcome. They show that the method sees differences of
// that size here, and what the time does depend on; they are reported, not
// judged.
//
// The detection rows run deliberately leaky compares through the same
// harness, with the same work around them (exemptions, limits): an early
// exit at the first differing byte, ==, and subtle.ConstantTimeCompare
// against tokens of different lengths. Each must be found over the bound
// (and over the floor below).
//
// # Robustness
//
// Every measurement gets a class at random; the garbage collector is off
// and the goroutine pinned to a thread while measuring; times are cropped
// at dudect's percentiles; a measurement times a batch of calls, well
// above the clock's overhead and its 10 ns steps on this kind of machine;
// and a case that fails is measured again, with new seeds, after all the
// others, before it fails.
//
// Above all, the two classes must differ in the secret and in nothing
// else, because with this many measurements the t-test resolves a few
// hundredths of a nanosecond per call. Three things that are not a leak
// were measured to show otherwise, and the rig is built against each:
//
//   - Memory: before each measurement the class's input is written into
//     the very same memory (the verifier's token set, rewritten in place,
//     which is why this test is internal, and one page-aligned buffer for
//     the value), so that addresses, alignment and cache sets are equal.
//     Copying equal content from two different places showed |t| = 30.
//   - What the untimed preparation did (stores still draining, lines it
//     pulled in) leaks into the next timed batch; one untimed batch of the
//     same calls after preparing settles it.
//   - Content: two fixed random tokens of the same length gave |t| of 5 to
//     20 depending only on which bytes they held (a data-dependent
//     physical effect well under a hundredth of a nanosecond per call, of
//     the kind frequency and power management cause). So the bytes are
//     drawn afresh for every measurement, from the same distribution for
//     both classes: the classes differ in structure (where the values
//     differ from the tokens, how long the tokens are, which one matches),
//     never in particular bytes.
//
// What remains, on a quiet machine, is the CPU itself: tokens of 43 and
// 300 bytes against the same value, say, or a value sharing all but one
// byte with the token against one sharing none, differ by 0.0002 to 0.003
// ns per call (up to about 0.7 ns per batch of 256, a hundredth of a cycle
// per call), which 20000 measurements resolve at |t| of 5 to 10 when the
// machine is quiet and not at all when it is busy. The compare runs the
// same instructions on the same addresses there; only the bytes differ (a
// zero word against a non-zero one). That is consistent with a physical
// effect of the data, of the kind power, frequency and voltage management
// cause, out of this library's reach and of its threat model. So a case is
// judged on a floor as well as on the t-test: it fails when |t| exceeds
// 4.5 and its classes differ by at least timingFloor, 0.01 ns per call, a
// thirtieth of a cycle at 3 GHz: over three times the largest such effect
// seen, and a hundred times below the smallest leak measured here (== on
// 43 bytes, about 1.2 ns per call). The table shows both numbers for every
// case, so nothing is hidden by the floor.

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
	"unsafe"

	"github.com/apptoken-go/apptoken/core/internal/dudect"
)

// classSpec describes one class of a case: how its tokens and its one
// presented value are drawn afresh for each measurement.
type classSpec struct {
	tokens []int // the configured tokens' lengths; their bytes are random
	// The value: from < 0 draws n random bytes; otherwise it is token
	// from's first n bytes (random bytes past its end), with the bytes at
	// [flipFrom, flipTo) changed, so that they differ from the token's.
	from, n          int
	flipFrom, flipTo int
}

// derived returns a class of tokens of the given lengths and a value that is
// token from, n bytes long, changed at [flipFrom, flipTo).
func derived(tokens []int, from, n, flipFrom, flipTo int) classSpec {
	return classSpec{tokens: tokens, from: from, n: n, flipFrom: flipFrom, flipTo: flipTo}
}

// random returns a class of tokens of the given lengths and a random value
// of n bytes (unlike every token).
func random(tokens []int, n int) classSpec { return classSpec{tokens: tokens, from: -1, n: n} }

// accepts reports whether the class's value equals one of its tokens.
func (c classSpec) accepts() bool {
	return c.from >= 0 && c.flipFrom >= c.flipTo && c.n == c.tokens[c.from]
}

// compareKind says which compare a case measures.
type compareKind int

const (
	realVerify      compareKind = iota // the Verifier itself
	matchOnly                          // the Verifier's compare alone, without the decision around it
	remembered                         // a Verifier with a matcher, the tokens being values it accepted lately
	earlyExit                          // leaky: stops at the first differing byte
	plainEqual                         // leaky: ==
	stdConstantTime                    // leaky: subtle.ConstantTimeCompare, which hides content, not length
)

type expectation int

const (
	expectUnder   expectation = iota // must be under the bound: a secret
	expectOver                       // must be over: a deliberate leak
	expectControl                    // a public fact: reported, not judged
)

type timingCase struct {
	group, name string
	compare     compareKind
	class       [2]classSpec
	expect      expectation
}

func timingCases() []timingCase {
	one := []int{43} // one chunk: the shape of a 32-byte secret in base64url
	three := []int{43, 43, 43}
	return []timingCase{
		{"content", "43 B token: all but the last byte shared vs none", realVerify,
			[2]classSpec{derived(one, 0, 43, 42, 43), derived(one, 0, 43, 0, 43)}, expectUnder},
		{"content", "1000 B token: all but the last byte shared vs none", realVerify,
			[2]classSpec{derived([]int{1000}, 0, 1000, 999, 1000), derived([]int{1000}, 0, 1000, 0, 1000)}, expectUnder},
		{"content", "43 B token: first byte differs vs last byte differs", realVerify,
			[2]classSpec{derived(one, 0, 43, 0, 1), derived(one, 0, 43, 42, 43)}, expectUnder},
		{"content", "43 B token: 36 B value, a prefix of it vs unlike it", realVerify,
			[2]classSpec{derived(one, 0, 36, 0, 0), derived(one, 0, 36, 0, 36)}, expectUnder},

		{"configured length", "43 B value: token 43 B (as long) vs 20 B (shorter)", realVerify,
			[2]classSpec{random(one, 43), random([]int{20}, 43)}, expectUnder},
		{"configured length", "43 B value: token 43 B (as long) vs 60 B (longer, same chunk)", realVerify,
			[2]classSpec{random(one, 43), random([]int{60}, 43)}, expectUnder},
		{"configured length", "43 B value: token 43 B (as long) vs 300 B (longer)", realVerify,
			[2]classSpec{random(one, 43), random([]int{300}, 43)}, expectUnder},
		{"configured length", "43 B value: token 20 B vs 4096 B (the maximum)", realVerify,
			[2]classSpec{random([]int{20}, 43), random([]int{MaxTokenLength}, 43)}, expectUnder},
		{"configured length", "100 B value: token 100 B (as long) vs 43 B (shorter)", realVerify,
			[2]classSpec{random([]int{100}, 100), random(one, 100)}, expectUnder},
		{"configured length", "43 B value, its prefix: token 43 B vs 100 B", realVerify,
			[2]classSpec{derived(one, 0, 43, 42, 43), derived([]int{100}, 0, 43, 42, 43)}, expectUnder},

		{"several tokens", "3 tokens: value matches the first vs the last", realVerify,
			[2]classSpec{derived(three, 0, 43, 0, 0), derived(three, 2, 43, 0, 0)}, expectUnder},
		{"several tokens", "3 tokens: value matches the first vs none (compare)", matchOnly,
			[2]classSpec{derived(three, 0, 43, 0, 0), derived(three, 0, 43, 0, 43)}, expectUnder},
		{"several tokens", "3 tokens: value matches the last vs none (compare)", matchOnly,
			[2]classSpec{derived(three, 2, 43, 0, 0), derived(three, 2, 43, 0, 43)}, expectUnder},

		// The same compare, over the values a matcher accepted (signed
		// tokens daprd sent) instead of the configured tokens; a value
		// the verifier does not remember goes to a matcher that refuses
		// everything at once.
		{"remembered", "43 B remembered: all but the last byte shared vs none", remembered,
			[2]classSpec{derived(one, 0, 43, 42, 43), derived(one, 0, 43, 0, 43)}, expectUnder},
		{"remembered", "300 B remembered: first byte differs vs last byte differs", remembered,
			[2]classSpec{derived([]int{300}, 0, 300, 0, 1), derived([]int{300}, 0, 300, 299, 300)}, expectUnder},
		{"remembered", "43 B value: remembered 43 B vs 300 B", remembered,
			[2]classSpec{random(one, 43), random([]int{300}, 43)}, expectUnder},
		{"remembered", "3 remembered: value matches the first vs the last", remembered,
			[2]classSpec{derived(three, 0, 43, 0, 0), derived(three, 2, 43, 0, 0)}, expectUnder},

		{"public (control)", "value length: 43 B vs 63 B (same chunk)", realVerify,
			[2]classSpec{random(one, 43), random(one, 63)}, expectControl},
		{"public (control)", "value length: 1 chunk vs 2 chunks", realVerify,
			[2]classSpec{random(one, 43), random(one, 100)}, expectControl},
		{"public (control)", "token count: 1 vs 3", realVerify,
			[2]classSpec{random(one, 43), random(three, 43)}, expectControl},
		{"public (control)", "outcome: 3 tokens, value matches the last vs none", realVerify,
			[2]classSpec{derived(three, 2, 43, 0, 0), derived(three, 2, 43, 0, 43)}, expectControl},

		{"leaky (detection)", "early exit: all but the last byte shared vs none", earlyExit,
			[2]classSpec{derived(one, 0, 43, 42, 43), derived(one, 0, 43, 0, 43)}, expectOver},
		{"leaky (detection)", "==: 43 B token, all but the last byte shared vs none", plainEqual,
			[2]classSpec{derived(one, 0, 43, 42, 43), derived(one, 0, 43, 0, 43)}, expectOver},
		{"leaky (detection)", "==: 1000 B token, all but the last byte shared vs none", plainEqual,
			[2]classSpec{derived([]int{1000}, 0, 1000, 999, 1000), derived([]int{1000}, 0, 1000, 0, 1000)}, expectOver},
		{"leaky (detection)", "subtle.ConstantTimeCompare: 43 B value, token 43 B vs 20 B", stdConstantTime,
			[2]classSpec{random(one, 43), random([]int{20}, 43)}, expectOver},
	}
}

const (
	pageSize = 4096
	// maxTimingTokens is the most tokens a case configures.
	maxTimingTokens = 3
	// timingBatch is the number of calls one measurement times: about 5
	// µs for a 43-byte value. With fewer, the times of most measurements
	// fall on two or three steps of the clock, and the t-test on so
	// discrete a sample (once cropped) is far too eager.
	timingBatch = 256
)

// rig holds the one Verifier and the one presented value that every
// measurement of every case uses, and rewrites them in place for each
// measurement (see the file comment).
type rig struct {
	v      *Verifier
	vm     *Verifier // with a matcher, remembering what v's set holds
	set    *tokenSet
	padded [][MaxTokenLength]byte // the set's full capacity
	lens   []int
	buf    []byte    // the presented value's page
	values [1]string // the presented value, over buf
	tokens [maxTimingTokens]string
	ntok   int
	leaky  func(a, b string) bool
	rng    *rand.Rand

	// The current case, and how many bytes a token slot and the value
	// take: the most any class of the case needs. prepare writes exactly
	// that many, whatever the class.
	cur              *timingCase
	tokSpan, valSpan int
}

func newRig(t *testing.T) *rig {
	t.Helper()
	// Three placeholder tokens give the set room for maxTimingTokens.
	v, err := New(WithTokens("a", "b", "c"), WithEventLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	set := v.tokens.Load()
	// vm has no token, and remembers the values in v's set: the same
	// memory, rewritten for each measurement.
	vm, err := New(WithMatcher(refuseAll{}), WithEventLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = vm.Close() })
	vm.tokens.Load().memo.set.Store(&set.ctSet)
	page := make([]byte, 2*pageSize)
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(page))) //nolint:gosec // G103: only to align the value's buffer to a page
	skip := int((pageSize - addr%pageSize) % pageSize)
	return &rig{
		v: v, vm: vm, set: set, padded: set.padded, lens: set.lens,
		buf: page[skip : skip+pageSize : skip+pageSize],
		rng: rand.New(rand.NewPCG(1, 2)),
	}
}

// use sets the rig up for case c: its compare, its spans, and a seed for
// the bytes it draws.
func (r *rig) use(c *timingCase, seed uint64) {
	r.cur = c
	r.tokSpan, r.valSpan = 0, 0
	for _, k := range c.class {
		if len(k.tokens) > maxTimingTokens {
			panic("timing case " + c.name + ": too many tokens")
		}
		for _, n := range k.tokens {
			r.tokSpan = max(r.tokSpan, n)
		}
		r.valSpan = max(r.valSpan, k.n)
	}
	r.rng = rand.New(rand.NewPCG(seed, ^seed))
	// The set must hold zeros past each token's length, as newTokenSet
	// leaves it; prepare keeps that within the spans.
	for i := range r.padded {
		clear(r.padded[i][:])
	}
	clear(r.buf)
	switch c.compare {
	case realVerify, matchOnly, remembered:
		r.leaky = nil
	case earlyExit:
		r.leaky = func(a, b string) bool {
			if len(a) != len(b) {
				return false
			}
			for i := 0; i < len(a); i++ {
				if a[i] != b[i] {
					return false
				}
			}
			return true
		}
	case plainEqual:
		r.leaky = func(a, b string) bool { return a == b }
	case stdConstantTime:
		r.leaky = func(a, b string) bool {
			//nolint:gosec // G103: read-only byte views of the strings, so that the reference compare is timed without a copy
			return subtle.ConstantTimeCompare(unsafe.Slice(unsafe.StringData(a), len(a)), unsafe.Slice(unsafe.StringData(b), len(b))) == 1
		}
	}
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// fill writes random base64url bytes to the first n bytes of b and zeros
// to the rest: the same stores whatever n is.
func (r *rig) fill(b []byte, n int) {
	var x uint64
	for i := range b {
		if i%10 == 0 {
			x = r.rng.Uint64()
		}
		c := tokenAlphabet[x&63]
		x >>= 6
		if i >= n {
			c = 0
		}
		b[i] = c
	}
}

// prepare draws the case's class k afresh into the verifier's token set
// and the value's buffer. It writes the same bytes of the same memory
// whatever the class.
func (r *rig) prepare(k int) {
	spec := &r.cur.class[k]
	ts, vs := r.tokSpan, r.valSpan
	for i := range r.padded {
		n := 0
		if i < len(spec.tokens) {
			n = spec.tokens[i]
		}
		r.fill(r.padded[i][:ts], n)
		r.lens[i] = n
		// The leaky compares see the same bytes, as strings.
		r.tokens[i] = unsafe.String(&r.padded[i][0], n) //nolint:gosec // G103: a view of the token set, rewritten only between measurements
	}
	r.set.padded = r.padded[:len(spec.tokens)]
	r.set.lens = r.lens[:len(spec.tokens)]
	r.ntok = len(spec.tokens)

	r.values[0] = ""
	v := r.buf[:vs]
	r.fill(v, spec.n)
	if spec.from >= 0 {
		tok := r.padded[spec.from][:spec.tokens[spec.from]]
		copy(v[:spec.n], tok)
		for i := spec.flipFrom; i < spec.flipTo; i++ {
			v[i] ^= 0x01 // stays a printable, different byte
		}
	}
	r.values[0] = unsafe.String(unsafe.SliceData(v), spec.n) //nolint:gosec // G103: a string over a buffer rewritten only between measurements
}

// verify is the step measured: the Verifier's, or a leaky stand-in that
// does the same work around the compare (exemptions, limits).
func (r *rig) verify(method, path string, values []string) Decision {
	if r.cur != nil && r.cur.compare == remembered {
		return r.vm.Verify(method, path, values)
	}
	if r.leaky == nil {
		return r.v.Verify(method, path, values)
	}
	for _, e := range r.v.exempt {
		if e.Path == path && e.Method == method {
			return Exempt
		}
	}
	if len(values) > MaxValues {
		return TooManyValues
	}
	present := false
	for _, v := range values {
		if len(v) > MaxTokenLength {
			return TooLong
		}
		present = present || v != ""
	}
	if !present {
		return Missing
	}
	for _, v := range values {
		for _, tok := range r.tokens[:r.ntok] {
			if r.leaky(v, tok) {
				return Accepted
			}
		}
	}
	return Mismatch
}

var timingSink uint64

func measureCase(r *rig, c *timingCase, samples int, seed uint64) dudect.Result {
	r.use(c, seed)
	run := func() {
		var acc uint64
		for range timingBatch {
			acc += uint64(r.verify("POST", "/orders", r.values[:]))
		}
		timingSink += acc
	}
	if c.compare == matchOnly {
		run = func() {
			var acc uint64
			for range timingBatch {
				acc += uint64(matchAny(&r.set.ctSet, r.values[:]))
			}
			timingSink += acc
		}
	}
	prepare := func(k int) {
		r.prepare(k)
		run() // settles what preparing did; not timed
	}
	return dudect.Measure(dudect.Config{Samples: samples, Seed: seed}, prepare, run)
}

// timingFloor is the smallest difference, in nanoseconds per call, that a
// case is judged on (see the file comment): about a thirtieth of a cycle.
const timingFloor = 0.01

// timingTry is one measurement of a case: its |t| and the difference of
// the classes' means, per call, at the test that gave that |t|.
type timingTry struct{ t, perCall float64 }

func (e expectation) holds(r timingTry) bool {
	switch e {
	case expectUnder:
		return r.t < dudect.Bound || r.perCall < timingFloor
	case expectOver:
		return r.t > dudect.Bound && r.perCall >= timingFloor
	}
	return true
}

func (e expectation) String() string {
	switch e {
	case expectUnder:
		return "under"
	case expectOver:
		return "over"
	}
	return "public"
}

func timingSamples(t *testing.T) int {
	t.Helper()
	n := 20_000
	if s := os.Getenv("APPTOKEN_TIMING_SAMPLES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 10_000 {
			t.Fatalf("APPTOKEN_TIMING_SAMPLES=%q: want a number of at least 10000", s)
		}
	}
	return n
}

// TestTimingRig checks that every class decides as its case says through
// the rig, so that no case can pass by measuring something else.
func TestTimingRig(t *testing.T) {
	r := newRig(t)
	cases := timingCases()
	for i := range cases {
		c := &cases[i]
		r.use(c, uint64(i))
		for k := range 2 {
			for range 20 { // fresh bytes each time
				r.prepare(k)
				want := Mismatch
				if c.class[k].accepts() {
					want = Accepted
				}
				if d := r.verify("POST", "/orders", r.values[:]); d != want {
					t.Fatalf("%s: class %d decided %v, want %v", c.name, k, d, want)
				}
				if got := matchAny(&r.set.ctSet, r.values[:]); got != btoi(want == Accepted) {
					t.Fatalf("%s: class %d: matchAny = %d", c.name, k, got)
				}
				if c.compare == remembered && len(r.vm.tokens.Load().lens) != 0 {
					t.Fatalf("%s: the verifier with a matcher has tokens of its own", c.name)
				}
				if len(r.values[0]) != c.class[k].n || len(r.set.lens) != len(c.class[k].tokens) {
					t.Fatalf("%s: class %d: value of %d bytes, %d tokens", c.name, k, len(r.values[0]), len(r.set.lens))
				}
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestTiming measures every case but the deliberately leaky ones, retries
// each failing case once after all the others, and fails when a secret
// shows: |t| over 4.5.
func TestTiming(t *testing.T) {
	var cases []timingCase
	for _, c := range timingCases() {
		if c.expect != expectOver {
			cases = append(cases, c)
		}
	}
	runTiming(t, cases)
}

// TestTimingCatchesLeaks measures the deliberately leaky compares the same
// way, and fails unless each is found: |t| over 4.5.
func TestTimingCatchesLeaks(t *testing.T) {
	var cases []timingCase
	for _, c := range timingCases() {
		if c.expect == expectOver {
			cases = append(cases, c)
		}
	}
	runTiming(t, cases)
}

func runTiming(t *testing.T, cases []timingCase) {
	t.Helper()
	if os.Getenv("APPTOKEN_TIMING") == "" {
		t.Skip("timing measurement: set APPTOKEN_TIMING=1 to run it")
	}
	samples := timingSamples(t)
	r := newRig(t)

	tries := make([][]timingTry, len(cases))
	measure := func(i int) bool {
		c := &cases[i]
		try := len(tries[i])
		res := measureCase(r, c, samples, uint64(i)<<8+uint64(try)+0x5eed)
		tr := timingTry{t: res.Max.Abs(), perCall: math.Abs(res.Max.Mean[0]-res.Max.Mean[1]) / timingBatch}
		tries[i] = append(tries[i], tr)
		t.Logf("%s / %s: try %d: |t| = %.2f, %.4f ns per call (n = %d, crop %.0f ns; means %.1f / %.1f ns per %d calls; raw |t| %.2f) in %v",
			c.group, c.name, try+1, tr.t, tr.perCall, res.Max.N, res.Max.Crop, res.Max.Mean[0], res.Max.Mean[1],
			timingBatch, res.Raw.Abs(), res.Elapsed.Round(time.Millisecond))
		return c.expect.holds(tr)
	}
	var failed []int
	for i := range cases {
		if !measure(i) {
			failed = append(failed, i)
		}
	}
	for _, i := range failed {
		measure(i)
	}

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "group\tcase\tsamples\t|t|\tns/call\tretry |t|\tretry ns/call\tbound\texpected\tresult\n")
	for i := range cases {
		c, ts := &cases[i], tries[i]
		last := ts[len(ts)-1]
		result := "ok"
		switch {
		case !c.expect.holds(last):
			result = "FAIL"
			t.Errorf("%s / %s: %s, expected %s %.1f", c.group, c.name, fmtTries(ts), c.expect, dudect.Bound)
		case c.expect == expectUnder && last.t >= dudect.Bound:
			result = fmt.Sprintf("ok (under %.2f ns/call)", timingFloor)
		}
		retryT, retryD := "-", "-"
		if len(ts) > 1 {
			retryT, retryD = fmtT(ts[1].t), fmt.Sprintf("%.4f", ts[1].perCall)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.4f\t%s\t%s\t%.1f\t%s\t%s\n",
			c.group, c.name, samples, fmtT(ts[0].t), ts[0].perCall, retryT, retryD, dudect.Bound, c.expect, result)
	}
	_ = tw.Flush()
	t.Logf("%s:\n%s", t.Name(), table.String())
	// The report gathers the tables of every timing test of the run.
	if path := os.Getenv("APPTOKEN_TIMING_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err == nil {
			_, err = fmt.Fprintf(f, "%s\n%s\n", t.Name(), table.String())
			err = errors.Join(err, f.Close())
		}
		if err != nil {
			t.Error(err)
		}
	}
}

func fmtT(x float64) string {
	if math.IsInf(x, 0) {
		return "inf"
	}
	return fmt.Sprintf("%.2f", x)
}

func fmtTries(ts []timingTry) string {
	parts := make([]string, len(ts))
	for i, r := range ts {
		parts[i] = fmt.Sprintf("|t| = %s at %.4f ns per call", fmtT(r.t), r.perCall)
	}
	return strings.Join(parts, "; retry: ")
}

// refuseAll is a matcher that refuses every value at once.
type refuseAll struct{}

func (refuseAll) Load() (Matcher, string, error)         { return refuseAll{}, "", nil }
func (refuseAll) String() string                         { return "refuse all" }
func (refuseAll) Match(string) (Decision, time.Duration) { return Mismatch, 0 }
