package apptoken

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Option configures a [Verifier]. Options are made by the With… functions of
// this package; the interface is sealed. Options may be given in any order
// with the same result; a nil Option is ignored.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	sources        []Source
	matchers       []MatcherSource
	exempt         []Exemption
	grpcExempt     []string
	noDefaults     bool
	legacyGRPC     bool
	keepHeader     bool
	onDecision     []func(Decision, string, string)
	onEvent        []func(Event)
	eventLog       *slog.Logger
	ownEventLog    bool // WithEventLog was given; else slog.Default() at each event
	rejectionLog   *slog.Logger
	rejectLimit    int
	rejectInterval time.Duration
	reloadInterval time.Duration
	now            func() time.Time
	err            error
}

func defaultConfig() config {
	return config{
		reloadInterval: DefaultReloadInterval,
		rejectLimit:    rejectionLogLimit,
		rejectInterval: rejectionLogInterval,
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
// this option, [WithTokens] or [WithMatcher], the verifier uses
// [DefaultSource].
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

// WithTokens adds fixed accepted tokens, for tests and for tokens the
// application gets by other means (a secret manager, a flag). They are
// never reloaded.
func WithTokens(tokens ...string) Option {
	return WithSource(staticSource(append([]string(nil), tokens...)))
}

// Exemption lets requests with exactly this method and path through without
// a token. Both are compared byte for byte with the request as received:
// no prefix, case-folding, decoding or path cleaning, so "/healthz/",
// "/Healthz", "//healthz" and "/%68ealthz" are not "/healthz". A path
// holding a character that must be escaped ("/a b") is matched by its
// standard encoding ("/a%20b"), which is what routers route on too.
type Exemption struct {
	Method string // an upper-case HTTP method, such as "GET"
	Path   string // starts with "/"; no query
}

// defaultExemptions: daprd's app health check probes GET /healthz
// without a token; HEAD is its body-less twin.
var defaultExemptions = []Exemption{{"GET", "/healthz"}, {"HEAD", "/healthz"}}

// defaultGRPCExemptions: what daprd calls without a token in every
// version, and the standard health service that Kubernetes probes call.
var defaultGRPCExemptions = []string{
	"/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck",
	"/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions",
	"/dapr.proto.runtime.v1.AppCallback/ListInputBindings",
	"/grpc.health.v1.Health/Check",
	"/grpc.health.v1.Health/Watch",
}

// legacyGRPCMethods: the callbacks daprd sends without a token before
// v1.15.13 and in v1.16.0-1.
var legacyGRPCMethods = []string{
	"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
	"/dapr.proto.runtime.v1.AppCallback/OnBulkTopicEvent",
	"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1",
	"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
	"/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
	"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
}

// WithExemptions adds HTTP exemptions to the default ones, GET and HEAD on
// exactly /healthz (the path daprd's app health check probes without a
// token), for example a readiness probe or a metrics path. Use
// [WithoutDefaultExemptions] to drop the defaults. A method that is not an
// upper-case HTTP method ("get") or a path that does not start with "/" or
// holds a query, a fragment, a space or a control character is an error
// from New.
func WithExemptions(exemptions ...Exemption) Option {
	return optionFunc(func(c *config) {
		for _, e := range exemptions {
			if !isMethod(e.Method) {
				c.fail("WithExemptions: method %q is not an upper-case HTTP method such as GET", e.Method)
				return
			}
			if !strings.HasPrefix(e.Path, "/") || strings.ContainsFunc(e.Path, notInPath) {
				c.fail("WithExemptions: path %q must start with / and hold no query, fragment, space or control character", e.Path)
				return
			}
		}
		c.exempt = append(c.exempt, exemptions...)
	})
}

func isMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if (r < 'A' || r > 'Z') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

func notInPath(r rune) bool { return r <= ' ' || r == 0x7f || r == '?' || r == '#' }

// WithGRPCExemptions adds exempt gRPC methods, given as full method names
// ("/package.Service/Method") and matched exactly, to the default ones:
// the calls daprd makes without a token in every version
// (/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck and
// AppCallback's ListTopicSubscriptions and ListInputBindings) and the
// standard health service's Check and Watch (/grpc.health.v1.Health/...),
// which Kubernetes probes call. Use [WithoutDefaultExemptions] to drop the
// defaults.
func WithGRPCExemptions(fullMethods ...string) Option {
	return optionFunc(func(c *config) {
		for _, m := range fullMethods {
			svc, method, ok := strings.Cut(strings.TrimPrefix(m, "/"), "/")
			if !strings.HasPrefix(m, "/") || !ok || svc == "" || method == "" || strings.Contains(method, "/") {
				c.fail("WithGRPCExemptions: %q is not a full method name like /pkg.Service/Method", m)
				return
			}
		}
		c.grpcExempt = append(c.grpcExempt, fullMethods...)
	})
}

// WithoutDefaultExemptions drops the default HTTP and gRPC exemptions (see
// [WithExemptions] and [WithGRPCExemptions]), so that only those given
// explicitly apply. With nothing given, every request needs a token.
func WithoutDefaultExemptions() Option {
	return optionFunc(func(c *config) { c.noDefaults = true })
}

// WithInsecureLegacySidecarGRPC also exempts the gRPC callbacks that old
// sidecars send without a token: daprd v1.14.x, v1.15.0 to v1.15.12 and
// v1.16.0 to v1.16.1 call AppCallback's OnTopicEvent, OnBulkTopicEvent,
// OnBindingEvent and OnJobEvent (and AppCallbackAlpha's OnBulkTopicEventAlpha1
// and OnJobEventAlpha1) without one. Without this option, those versions
// cannot deliver pub/sub messages, binding events or jobs to a gRPC app
// that checks the token. It adds to the other exemptions, whatever their
// order.
//
// What real sidecars did (the end-to-end suite, `make compat`, whose table
// is in the repository's README): v1.14.4, v1.15.4 and v1.16.0 sent
// OnTopicEvent and OnBindingEvent without a token, v1.16.5 and v1.18.0 with
// it. The boundaries themselves (v1.15.13, v1.16.2) and v1.17 rest on
// Dapr's release notes and source: those versions could not be built from
// the module proxy there. OnBulkTopicEvent and OnJobEvent were not
// run; in Dapr's source the change that added the token covers them too.
//
// Risk: anyone who can reach the app's gRPC port can then call those
// methods without a token, that is, inject messages, binding events and
// jobs. Use it only while such a sidecar is deployed, with the app port
// reachable by nothing but its sidecar (loopback or a network policy), and
// upgrade daprd to v1.15.13, v1.16.2, v1.17.0 or later to drop it.
func WithInsecureLegacySidecarGRPC() Option {
	return optionFunc(func(c *config) { c.legacyGRPC = true })
}

// WithKeepHeader leaves the dapr-api-token header (or gRPC metadata key)
// on allowed requests. By default it is removed before the handler runs,
// so that handlers cannot log or forward it (see [Verifier.HidesToken]).
func WithKeepHeader() Option {
	return optionFunc(func(c *config) { c.keepHeader = true })
}

// WithDecisionHook calls hook with every decision, for logging and metrics.
// method and path are the request's (for gRPC, "POST" and the full method
// name); they may share memory with the framework's request and must not be
// kept after hook returns. The hook runs on the request path, so it should
// be quick and must be safe for concurrent use. It is never given a token.
// Several hooks are called in the order given; a nil hook is ignored.
func WithDecisionHook(hook func(d Decision, method, path string)) Option {
	return optionFunc(func(c *config) {
		if hook != nil {
			c.onDecision = append(c.onDecision, hook)
		}
	})
}

// WithEventHook calls hook with every life-cycle [Event] (reloads, failed
// reloads, tokens near or past their expiry), besides logging it (see
// [WithEventLog]). Several hooks are called in the order given; a nil hook
// is ignored. Events never carry a token.
func WithEventHook(hook func(Event)) Option {
	return optionFunc(func(c *config) {
		if hook != nil {
			c.onEvent = append(c.onEvent, hook)
		}
	})
}

// WithEventLog logs life-cycle events to l, by default log/slog's default
// logger (as it is when the event happens). WithEventLog(nil) logs none;
// the hooks of [WithEventHook] are still called.
func WithEventLog(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.eventLog, c.ownEventLog = l, true })
}

// WithReloadInterval sets how often sources that can change (a [File], or
// any source made with [Reloading]) are read again; the default is
// [DefaultReloadInterval]. It must be at least 10ms.
func WithReloadInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 10*time.Millisecond {
			c.fail("WithReloadInterval: %v is shorter than 10ms", d)
			return
		}
		c.reloadInterval = d
	})
}
