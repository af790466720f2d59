package apptokenotel_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenotel "github.com/apptoken-go/apptoken/otel"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

const (
	token = "wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M"
	other = "n3Bv8Yq1Lc5Tz0Wk7Xs2Md9Hp4Rf6Gj1Ea8Uo3Iy5Qt"
)

// jwtExp returns an unsigned JWT-shaped token whose exp claim is t.
func jwtExp(t time.Time) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString(fmt.Appendf(nil, `{"sub":"orders","exp":%d}`, t.Unix())) + "." +
		enc.EncodeToString([]byte("not-a-real-signature"))
}

// newMetrics returns Metrics recording into an SDK meter provider read by
// the returned ManualReader.
func newMetrics(t testing.TB, opts ...apptokenotel.Option) (*apptokenotel.Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m, err := apptokenotel.New(append([]apptokenotel.Option{apptokenotel.WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m, reader
}

// point is one data point: its attributes as "k=v,k=v", sorted, and its value.
type point struct {
	attrs string
	value float64
}

// instrument is what a collection gives for one instrument.
type instrument struct {
	unit, kind string
	points     []point
}

// collect reads every instrument of the apptoken scope.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]instrument {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]instrument{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != apptokenotel.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
			continue
		}
		for _, md := range sm.Metrics {
			in := instrument{unit: md.Unit}
			switch data := md.Data.(type) {
			case metricdata.Sum[int64]:
				in.kind = fmt.Sprintf("sum monotonic=%v %v", data.IsMonotonic, data.Temporality)
				for _, p := range data.DataPoints {
					in.points = append(in.points, point{attrString(p.Attributes), float64(p.Value)})
				}
			case metricdata.Gauge[int64]:
				in.kind = "gauge"
				for _, p := range data.DataPoints {
					in.points = append(in.points, point{attrString(p.Attributes), float64(p.Value)})
				}
			case metricdata.Gauge[float64]:
				in.kind = "gauge"
				for _, p := range data.DataPoints {
					in.points = append(in.points, point{attrString(p.Attributes), p.Value})
				}
			default:
				t.Errorf("%s: unexpected data %T", md.Name, md.Data)
			}
			slices.SortFunc(in.points, func(a, b point) int { return strings.Compare(a.attrs, b.attrs) })
			got[md.Name] = in
		}
	}
	return got
}

func attrString(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}

// events counts the events of one kind a verifier reports.
type events struct {
	mu sync.Mutex
	n  map[apptoken.EventKind]int
}

func (e *events) hook(ev apptoken.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[apptoken.EventKind]int{}
	}
	e.n[ev.Kind]++
}

func (e *events) wait(t *testing.T, k apptoken.EventKind, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		e.mu.Lock()
		seen := e.n[k]
		e.mu.Unlock()
		if seen >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d %v event(s) within 5s", n, k)
		}
	}
}

func writeFile(t *testing.T, path string, tokens ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(tokens, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestScriptedRun drives a verifier through accepts, every rejection
// reason, an exemption, a reload, a failed reload and a token that expires
// in three days, and checks every instrument as the SDK reports it.
func TestScriptedRun(t *testing.T) {
	m, reader := newMetrics(t)
	expiry := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	jwt := jwtExp(expiry)
	path := filepath.Join(t.TempDir(), "tokens")
	writeFile(t, path, token, jwt)
	var ev events
	v, err := apptoken.New(append(m.Options(),
		apptoken.WithSource(apptoken.File(path)),
		apptoken.WithReloadInterval(20*time.Millisecond),
		apptoken.WithEventHook(ev.hook),
		apptoken.WithEventLog(nil))...)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	reg, err := m.Observe(v)
	if err != nil {
		t.Fatal(err)
	}

	for range 3 {
		v.Verify("POST", "/orders", []string{token})
	}
	v.Verify("POST", "/orders", []string{jwt})
	v.Verify("GET", "/healthz", nil)
	v.Verify("POST", "/orders", nil)
	v.VerifyGRPC("/orders.Orders/Create", []string{""})
	v.Verify("POST", "/orders", []string{other})
	v.Verify("POST", "/orders", []string{strings.Repeat("x", apptoken.MaxTokenLength+1)})
	v.Verify("POST", "/orders", []string{"a", "b", "c", "d", "e"})

	writeFile(t, path, token, other, jwt) // a reload that adds a token
	ev.wait(t, apptoken.EventReloaded, 1)
	writeFile(t, path) // an empty file: the reload fails, the tokens stay
	ev.wait(t, apptoken.EventReloadFailed, 1)
	v.Verify("POST", "/orders", []string{other})

	got := collect(t, reader)
	want := map[string]instrument{
		"apptoken.decisions": {"{decision}", "sum monotonic=true CumulativeTemporality", []point{
			{"apptoken.allowed=false,apptoken.decision=bad_signature", 0},
			{"apptoken.allowed=false,apptoken.decision=expired", 0},
			{"apptoken.allowed=false,apptoken.decision=malformed", 0},
			{"apptoken.allowed=false,apptoken.decision=mismatch", 1},
			{"apptoken.allowed=false,apptoken.decision=missing", 2},
			{"apptoken.allowed=false,apptoken.decision=not_yet_valid", 0},
			{"apptoken.allowed=false,apptoken.decision=too_long", 1},
			{"apptoken.allowed=false,apptoken.decision=too_many_values", 1},
			{"apptoken.allowed=false,apptoken.decision=unknown_key", 0},
			{"apptoken.allowed=false,apptoken.decision=wrong_audience", 0},
			{"apptoken.allowed=false,apptoken.decision=wrong_issuer", 0},
			{"apptoken.allowed=true,apptoken.decision=accepted", 5},
			{"apptoken.allowed=true,apptoken.decision=exempt", 1},
		}},
		"apptoken.reloads": {"{reload}", "sum monotonic=true CumulativeTemporality", []point{
			{"apptoken.reload.result=failure", 1},
			{"apptoken.reload.result=success", 1},
		}},
		"apptoken.token.count":     {"{token}", "gauge", []point{{"", 3}}},
		"apptoken.token.time_left": {"s", "gauge", []point{{"", time.Until(expiry).Seconds()}}},
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not reported", name)
			continue
		}
		if g.unit != w.unit || g.kind != w.kind {
			t.Errorf("%s: unit %q kind %q, want %q %q", name, g.unit, g.kind, w.unit, w.kind)
		}
		if !samePoints(g.points, w.points) {
			t.Errorf("%s:\n got  %v\n want %v", name, g.points, w.points)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d instruments reported, want %d: %v", len(got), len(want), got)
	}

	// Unregistered, the gauges are no longer reported.
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	got = collect(t, reader)
	for _, name := range []string{"apptoken.token.count", "apptoken.token.time_left"} {
		if in, ok := got[name]; ok && len(in.points) > 0 {
			t.Errorf("%s reported after Unregister: %v", name, in.points)
		}
	}
}

// samePoints compares data points; values within a minute of each other
// are the same (time_left moves while the test runs).
func samePoints(a, b []point) bool {
	return slices.EqualFunc(a, b, func(x, y point) bool {
		return x.attrs == y.attrs && math.Abs(x.value-y.value) < 60
	})
}

// TestMethodAttribute: with the option, the method is an attribute, and
// one the semantic conventions do not know is "_OTHER".
func TestMethodAttribute(t *testing.T) {
	m, reader := newMetrics(t, apptokenotel.WithMethodAttribute())
	v, err := apptoken.New(append(m.Options(), apptoken.WithTokens(token), apptoken.WithEventLog(nil))...)
	if err != nil {
		t.Fatal(err)
	}
	v.Verify("GET", "/stats", []string{token})
	v.Verify("POST", "/orders", nil)
	v.VerifyGRPC("/orders.Orders/Create", nil)
	v.Verify("BREW", "/pot", nil)
	v.Verify("get", "/orders", nil)
	v.Verify("HEAD", "/healthz", nil)
	got := collect(t, reader)["apptoken.decisions"].points
	want := []point{
		{"apptoken.allowed=false,apptoken.decision=missing,http.request.method=POST", 2},
		{"apptoken.allowed=false,apptoken.decision=missing,http.request.method=_OTHER", 2},
		{"apptoken.allowed=true,apptoken.decision=accepted,http.request.method=GET", 1},
		{"apptoken.allowed=true,apptoken.decision=exempt,http.request.method=HEAD", 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("\n got  %v\n want %v", got, want)
	}
}

// TestNoExpiry: without a JWT-shaped token there is no time left to report.
func TestNoExpiry(t *testing.T) {
	m, reader := newMetrics(t)
	v, err := apptoken.New(append(m.Options(), apptoken.WithTokens(token, other), apptoken.WithEventLog(nil))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Observe(v); err != nil {
		t.Fatal(err)
	}
	got := collect(t, reader)
	if p := got["apptoken.token.count"].points; !slices.Equal(p, []point{{"", 2}}) {
		t.Errorf("token count %v", p)
	}
	if p := got["apptoken.token.time_left"].points; len(p) != 0 {
		t.Errorf("time left reported: %v", p)
	}
}

// TestGlobalMeterProvider: without WithMeterProvider, the global meter
// provider is used.
func TestGlobalMeterProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	defer otel.SetMeterProvider(prev)
	m, err := apptokenotel.New(nil, apptokenotel.WithMeterProvider(nil))
	if err != nil {
		t.Fatal(err)
	}
	v, err := apptoken.New(append(m.Options(), apptoken.WithTokens(token), apptoken.WithEventLog(nil))...)
	if err != nil {
		t.Fatal(err)
	}
	v.Verify("POST", "/orders", nil)
	if p := collect(t, reader)["apptoken.decisions"].points; !slices.Contains(p, point{"apptoken.allowed=false,apptoken.decision=missing", 1}) {
		t.Errorf("decisions %v", p)
	}
}

// TestSeriesStartAtZero: before any request or reload, every decision and
// both reload results are reported at 0, so that Prometheus' increase()
// sees the first one; with the method attribute, decisions are not.
func TestSeriesStartAtZero(t *testing.T) {
	_, reader := newMetrics(t)
	got := collect(t, reader)
	if p := got["apptoken.decisions"].points; len(p) != 13 || slices.ContainsFunc(p, func(x point) bool { return x.value != 0 }) {
		t.Errorf("decisions: %v, want the 13 at 0", p)
	}
	want := []point{{"apptoken.reload.result=failure", 0}, {"apptoken.reload.result=success", 0}}
	if p := got["apptoken.reloads"].points; !slices.Equal(p, want) {
		t.Errorf("reloads: %v, want %v", p, want)
	}
	_, reader = newMetrics(t, apptokenotel.WithMethodAttribute())
	if p := collect(t, reader)["apptoken.decisions"].points; len(p) != 0 {
		t.Errorf("decisions with the method attribute: %v, want none", p)
	}
}

// TestZeroAllocations: recording a decision with the SDK's meter allocates
// nothing, with or without the method attribute.
func TestZeroAllocations(t *testing.T) {
	for _, withMethod := range []bool{false, true} {
		var opts []apptokenotel.Option
		if withMethod {
			opts = append(opts, apptokenotel.WithMethodAttribute())
		}
		m, _ := newMetrics(t, opts...)
		v, err := apptoken.New(append(m.Options(), apptoken.WithTokens(token), apptoken.WithEventLog(nil))...)
		if err != nil {
			t.Fatal(err)
		}
		for name, values := range map[string][]string{"accepted": {token}, "mismatch": {other}, "missing": nil} {
			v.Verify("POST", "/orders", values) // the first point of each set is made once
			if n := testing.AllocsPerRun(1000, func() { v.Verify("POST", "/orders", values) }); n != 0 {
				t.Errorf("method attribute %v, %s: %v allocations per decision", withMethod, name, n)
			}
		}
	}
}
