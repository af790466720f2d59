package apptoken

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Option configures a [Verifier]. Options are made by the With… functions of
// this package; the interface is sealed.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	sources        []Source
	exempt         []Exemption
	grpcExempt     []string
	keepHeader     bool
	onDecision     func(Decision, string, string)
	onEvent        func(Event)
	reloadInterval time.Duration
	ctx            context.Context
	now            func() time.Time
	err            error
}

func defaultConfig() config {
	return config{
		exempt:         DefaultExemptions(),
		grpcExempt:     DefaultGRPCExemptions(),
		onEvent:        logEvent,
		reloadInterval: DefaultReloadInterval,
		now:            time.Now,
	}
}

// fail records the first invalid option; New returns it.
func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

// WithSource adds sources of accepted tokens. Every token of every source is
// accepted, which is how two tokens stay valid during a rotation. Without
// this option the verifier reads the environment variable APP_API_TOKEN.
func WithSource(sources ...Source) Option {
	return optionFunc(func(c *config) {
		for _, s := range sources {
			if s == nil {
				c.fail("WithSource: nil source")
				return
			}
		}
		c.sources = append(c.sources, sources...)
	})
}

// WithTokens accepts the given tokens: shorthand for WithSource(Static(tokens...)).
func WithTokens(tokens ...string) Option {
	return WithSource(Static(tokens...))
}

// Exemption lets requests with exactly this method and path through without
// a token. Both are compared byte for byte with the request as received:
// no prefix, case-folding, decoding or path cleaning, so "/healthz/",
// "/Healthz", "//healthz" and "/%68ealthz" are not "/healthz".
type Exemption struct {
	Method string // for example "GET"; methods are case-sensitive
	Path   string // for example "/healthz"; must start with "/"
}

// DefaultExemptions returns the HTTP exemptions in force unless
// [WithExemptions] replaces them: GET and HEAD on exactly /healthz, the
// path daprd's app health check probes without a token.
func DefaultExemptions() []Exemption {
	return []Exemption{{"GET", "/healthz"}, {"HEAD", "/healthz"}}
}

// WithExemptions replaces the HTTP exemptions. WithExemptions() with no
// argument removes them all, so every request needs a token.
func WithExemptions(exemptions ...Exemption) Option {
	return optionFunc(func(c *config) {
		for _, e := range exemptions {
			if e.Method == "" || strings.ContainsAny(e.Method, " \t\r\n") {
				c.fail("WithExemptions: method %q is not an HTTP method", e.Method)
				return
			}
			if !strings.HasPrefix(e.Path, "/") {
				c.fail("WithExemptions: path %q does not start with /", e.Path)
				return
			}
		}
		c.exempt = append([]Exemption(nil), exemptions...)
	})
}

// Full method names of the gRPC calls daprd makes without a token in every
// version, and of the standard health service.
const (
	GRPCMethodAppHealthCheck         = "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck"
	GRPCMethodListTopicSubscriptions = "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions"
	GRPCMethodListInputBindings      = "/dapr.proto.runtime.v1.AppCallback/ListInputBindings"
	GRPCMethodHealthCheck            = "/grpc.health.v1.Health/Check"
	GRPCMethodHealthWatch            = "/grpc.health.v1.Health/Watch"
)

// DefaultGRPCExemptions returns the gRPC methods exempt unless
// [WithGRPCExemptions] replaces them: those daprd calls without a token in
// every version (app health check, ListTopicSubscriptions,
// ListInputBindings) and the standard grpc.health.v1 Check and Watch used
// by Kubernetes probes.
func DefaultGRPCExemptions() []string {
	return []string{
		GRPCMethodAppHealthCheck,
		GRPCMethodListTopicSubscriptions,
		GRPCMethodListInputBindings,
		GRPCMethodHealthCheck,
		GRPCMethodHealthWatch,
	}
}

// LegacySidecarGRPCMethods returns the AppCallback methods that daprd sends
// without a token before v1.15.13 (v1.14.x, v1.15.0-12) and in v1.16.0-1:
// topic events, bindings and jobs.
func LegacySidecarGRPCMethods() []string {
	return []string{
		"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1",
		"/dapr.proto.runtime.v1.AppCallback/OnBulkTopicEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
		"/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
	}
}

// WithGRPCExemptions replaces the exempt gRPC methods, given as full method
// names ("/package.Service/Method"), matched exactly. WithGRPCExemptions()
// with no argument removes them all.
func WithGRPCExemptions(fullMethods ...string) Option {
	return optionFunc(func(c *config) {
		for _, m := range fullMethods {
			if !strings.HasPrefix(m, "/") || strings.Count(m, "/") != 2 {
				c.fail("WithGRPCExemptions: %q is not a full method name like /pkg.Service/Method", m)
				return
			}
		}
		c.grpcExempt = append([]string(nil), fullMethods...)
	})
}

// WithInsecureLegacySidecarGRPC also exempts the gRPC callbacks that old
// sidecars send without a token: daprd v1.14.x, v1.15.0 to v1.15.12 and
// v1.16.0 to v1.16.1 (see [LegacySidecarGRPCMethods]). Without it, those
// versions cannot deliver pub/sub messages, binding events or jobs to a
// gRPC app that checks the token.
//
// Risk: anyone who can reach the app's gRPC port can then call
// OnTopicEvent, OnBindingEvent and OnJobEvent without a token, that is,
// inject messages, binding events and jobs. Use it only while such a
// sidecar is deployed, with the app port reachable by nothing but its
// sidecar (loopback or a network policy), and upgrade daprd to v1.15.13,
// v1.16.2, v1.17.0 or later to drop it.
func WithInsecureLegacySidecarGRPC() Option {
	return optionFunc(func(c *config) {
		c.grpcExempt = append(c.grpcExempt, LegacySidecarGRPCMethods()...)
	})
}

// WithKeepHeader leaves the dapr-api-token header (or metadata key) on
// allowed requests. By default it is removed before the handler runs, so
// that handlers cannot log or forward it.
func WithKeepHeader() Option {
	return optionFunc(func(c *config) { c.keepHeader = true })
}

// WithDecisionHook calls hook with every decision, for logging and metrics.
// method and path are the request's (for gRPC, "POST" and the full method
// name); they may share memory with the framework's request and must not be
// kept after hook returns. The hook runs on the request path, so it should
// be quick and must be safe for concurrent use. It is never given a token.
func WithDecisionHook(hook func(d Decision, method, path string)) Option {
	return optionFunc(func(c *config) { c.onDecision = hook })
}

// WithEventHook replaces the default handling of life-cycle events (reloads,
// failed reloads, tokens near or past their expiry), which is to log them
// with log/slog's default logger. A nil hook discards them. Events never
// carry a token.
func WithEventHook(hook func(Event)) Option {
	return optionFunc(func(c *config) {
		if hook == nil {
			hook = func(Event) {}
		}
		c.onEvent = hook
	})
}

// WithReloadInterval sets how often sources that can change are read again
// (default [DefaultReloadInterval]). It must be at least 10ms.
func WithReloadInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 10*time.Millisecond {
			c.fail("WithReloadInterval: %v is shorter than 10ms", d)
			return
		}
		c.reloadInterval = d
	})
}

// WithContext stops the background reloader when ctx is done, as Close does.
func WithContext(ctx context.Context) Option {
	return optionFunc(func(c *config) { c.ctx = ctx })
}
