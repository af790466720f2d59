package apptokenotel

import (
	"context"
	"fmt"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the instruments: the name of
// the meter they are made with.
const ScopeName = "github.com/apptoken-go/apptoken/otel"

// Names of the instruments and attributes (see the package documentation).
const (
	decisionsName = "apptoken.decisions"
	reloadsName   = "apptoken.reloads"
	tokenCount    = "apptoken.token.count"
	tokenTimeLeft = "apptoken.token.time_left"

	decisionKey     = attribute.Key("apptoken.decision")
	allowedKey      = attribute.Key("apptoken.allowed")
	methodKey       = attribute.Key("http.request.method")
	reloadResultKey = attribute.Key("apptoken.reload.result")
)

// decisions are those the attribute sets are made for in advance.
var decisions = []apptoken.Decision{
	apptoken.Accepted, apptoken.Exempt, apptoken.Missing,
	apptoken.Mismatch, apptoken.TooLong, apptoken.TooManyValues,
	// What a matcher (signed tokens) says.
	apptoken.Malformed, apptoken.Expired, apptoken.NotYetValid, apptoken.WrongAudience,
	apptoken.WrongIssuer, apptoken.UnknownKey, apptoken.BadSignature,
}

// methods are the values of http.request.method: the methods the semantic
// conventions call known, and "_OTHER" for any other.
var methods = []string{
	"_OTHER", "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE",
}

// methodIndex returns the index in methods of the request method m.
func methodIndex(m string) int {
	switch m {
	case "CONNECT":
		return 1
	case "DELETE":
		return 2
	case "GET":
		return 3
	case "HEAD":
		return 4
	case "OPTIONS":
		return 5
	case "PATCH":
		return 6
	case "POST":
		return 7
	case "PUT":
		return 8
	case "QUERY":
		return 9
	case "TRACE":
		return 10
	}
	return 0
}

// Option configures [New]. Options are made by the With… functions of this
// package; a nil Option is ignored.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	provider metric.MeterProvider
	method   bool
}

// WithMeterProvider records with mp instead of the global meter provider
// (otel.GetMeterProvider() when New is called). A nil mp means the global
// one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.provider = mp })
}

// WithMethodAttribute adds the attribute http.request.method to
// apptoken.decisions: the request's method when it is one the semantic
// conventions know (GET, POST, ...), else "_OTHER", so that the number of
// label sets stays bounded whatever callers send. gRPC calls count as POST.
func WithMethodAttribute() Option {
	return optionFunc(func(c *config) { c.method = true })
}

// Metrics records what an [apptoken.Verifier] decides and reports as
// OpenTelemetry metrics. Make it with [New], give [Metrics.Options] to
// apptoken.New, and pass the verifier to [Metrics.Observe]. It is safe for
// concurrent use.
type Metrics struct {
	meter     metric.Meter
	decisions metric.Int64Counter
	reloads   metric.Int64Counter
	tokens    metric.Int64ObservableGauge
	timeLeft  metric.Float64ObservableGauge
	method    bool

	// byDecision[d][m] is what decision d of a request with methods[m]
	// is recorded with (m is 0 without WithMethodAttribute): made in New
	// so that recording allocates nothing.
	byDecision       [][][]metric.AddOption
	reloaded, failed []metric.AddOption
}

// New makes the instruments with the meter provider of the options. It
// fails only when the meter provider refuses an instrument.
func New(opts ...Option) (*Metrics, error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.provider == nil {
		c.provider = otel.GetMeterProvider()
	}
	m := &Metrics{meter: c.provider.Meter(ScopeName), method: c.method}
	var err error
	if m.decisions, err = m.meter.Int64Counter(decisionsName,
		metric.WithUnit("{decision}"),
		metric.WithDescription("Requests decided by the app API token verifier, by decision.")); err != nil {
		return nil, fmt.Errorf("apptokenotel: %w", err)
	}
	if m.reloads, err = m.meter.Int64Counter(reloadsName,
		metric.WithUnit("{reload}"),
		metric.WithDescription("Reloads of the accepted app API tokens that changed them or failed, by result.")); err != nil {
		return nil, fmt.Errorf("apptokenotel: %w", err)
	}
	if m.tokens, err = m.meter.Int64ObservableGauge(tokenCount,
		metric.WithUnit("{token}"),
		metric.WithDescription("Accepted app API tokens in force.")); err != nil {
		return nil, fmt.Errorf("apptokenotel: %w", err)
	}
	if m.timeLeft, err = m.meter.Float64ObservableGauge(tokenTimeLeft,
		metric.WithUnit("s"),
		metric.WithDescription("Time left until the earliest exp claim of the JWT-shaped accepted app API tokens; negative once it has passed.")); err != nil {
		return nil, fmt.Errorf("apptokenotel: %w", err)
	}

	nm := 1
	if m.method {
		nm = len(methods)
	}
	m.byDecision = make([][][]metric.AddOption, len(decisions)+1)
	for _, d := range decisions {
		m.byDecision[d] = make([][]metric.AddOption, nm)
		for i := range nm {
			kv := []attribute.KeyValue{decisionKey.String(d.String()), allowedKey.Bool(d.Allowed())}
			if m.method {
				kv = append(kv, methodKey.String(methods[i]))
			}
			m.byDecision[d][i] = addOptions(kv...)
		}
	}
	m.reloaded = addOptions(reloadResultKey.String("success"))
	m.failed = addOptions(reloadResultKey.String("failure"))

	// Every series that can appear starts at 0: Prometheus' increase() and
	// rate() miss the first increment of a series that appears with it, so
	// that the first failed reload would never fire an alert. With the
	// method attribute that would be 143 series of decisions, so those then
	// appear with their first request.
	ctx := context.Background()
	if !m.method {
		for _, d := range decisions {
			m.decisions.Add(ctx, 0, m.byDecision[d][0]...)
		}
	}
	m.reloads.Add(ctx, 0, m.reloaded...)
	m.reloads.Add(ctx, 0, m.failed...)
	return m, nil
}

func addOptions(kv ...attribute.KeyValue) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
}

// Options returns the options that make a verifier record into m: a
// decision hook for apptoken.decisions and an event hook for
// apptoken.reloads. They add to the verifier's other hooks.
func (m *Metrics) Options() []apptoken.Option {
	return []apptoken.Option{apptoken.WithDecisionHook(m.decision), apptoken.WithEventHook(m.event)}
}

// decision is the decision hook. It allocates nothing for the decisions
// this package knows.
func (m *Metrics) decision(d apptoken.Decision, method, _ string) {
	if int(d) >= len(m.byDecision) || m.byDecision[d] == nil {
		// A decision added to the core after this package: recorded,
		// at the price of an allocation.
		m.decisions.Add(context.Background(), 1, metric.WithAttributes(
			decisionKey.String(d.String()), allowedKey.Bool(d.Allowed())))
		return
	}
	i := 0
	if m.method {
		i = methodIndex(method)
	}
	m.decisions.Add(context.Background(), 1, m.byDecision[d][i]...)
}

// event is the event hook.
func (m *Metrics) event(e apptoken.Event) {
	switch e.Kind {
	case apptoken.EventReloaded:
		m.reloads.Add(context.Background(), 1, m.reloaded...)
	case apptoken.EventReloadFailed:
		m.reloads.Add(context.Background(), 1, m.failed...)
	}
}

// Observe reports v's [apptoken.Status] through the gauges
// apptoken.token.count and apptoken.token.time_left, read at each
// collection; time_left is not reported while no token carries an exp
// claim. Unregister the returned registration when v is closed. The gauges
// describe one verifier: observe only one per meter provider.
func (m *Metrics) Observe(v *apptoken.Verifier) (metric.Registration, error) {
	reg, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := v.Status()
		o.ObserveInt64(m.tokens, int64(s.Tokens))
		if !s.Expiry.IsZero() {
			o.ObserveFloat64(m.timeLeft, time.Until(s.Expiry).Seconds())
		}
		return nil
	}, m.tokens, m.timeLeft)
	if err != nil {
		return nil, fmt.Errorf("apptokenotel: %w", err)
	}
	return reg, nil
}
