package apptoken

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// HeaderName is the HTTP header, and the gRPC metadata key, in which daprd
	// sends the app API token. Header names are case-insensitive.
	HeaderName = "dapr-api-token"
	// DefaultEnvVar is the environment variable read by default: the one daprd
	// itself reads the token from.
	DefaultEnvVar = "APP_API_TOKEN"
	// DefaultFileEnvVar names the environment variable that, when set, points
	// the default source at a token file instead (see [DefaultSource]).
	DefaultFileEnvVar = "APP_API_TOKEN_FILE"
	// MaxTokenLength is the longest accepted token, in bytes. A configured
	// token longer than this is an error from New; a presented value longer
	// than this is rejected before anything is compared.
	MaxTokenLength = 4096
	// MaxValues is the largest number of values of the header (or metadata
	// key) that a request may present. daprd sends one, or two on gRPC calls
	// proxied by daprd 1.14. A request with more is rejected unread.
	MaxValues = 4
	// DefaultReloadInterval is how often sources that can change (see
	// [Reloading]), such as a [File], are read again. Change it with
	// [WithReloadInterval].
	DefaultReloadInterval = 5 * time.Second
)

// Errors returned by New. They are wrapped with the name of the source at
// fault; test for them with errors.Is.
var (
	// ErrNoToken: a source yields no token: an unset or empty variable, an
	// empty file, an empty static list.
	ErrNoToken = errors.New("no app API token configured")
	// ErrInvalidToken: a configured token contains a control character or is
	// longer than MaxTokenLength.
	ErrInvalidToken = errors.New("invalid app API token")
	// ErrInvalidOption: an option was given a value it cannot take.
	ErrInvalidOption = errors.New("invalid option")
)

// Verifier decides whether a request carries an accepted app API token. It is
// safe for concurrent use. Deciding takes no lock and allocates nothing:
// the accepted tokens sit behind an atomic pointer that a reload swaps as
// a whole. (Logging a rejection with [WithRejectionLog] costs what a log
// line costs, at most 10 times a minute; a value no token equals costs
// what a [Matcher], if any, takes to decide it.)
//
// A nil *Verifier rejects every request.
type Verifier struct {
	tokens atomic.Pointer[tokenSet]

	exempt     []Exemption
	grpcExempt []string
	hideToken  bool
	onDecision []func(d Decision, method, path string)
	onEvent    []func(Event)
	eventLog   func() *slog.Logger // nil: events are not logged
	rejections *rejectionLog       // nil: rejections are not logged

	// sources are read in New. lists holds what each gave then: the
	// reloader reads again only the sources marked live, and keeps the
	// lists of the others; it loads every matcher source again. Only New
	// and then the reloader use them.
	sources        []Source
	lists          [][]string
	live           []bool
	matchers       []MatcherSource
	reloadInterval time.Duration
	now            func() time.Time

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a verifier configured by opts. With no [WithSource],
// [WithTokens] or [WithMatcher] option it uses [DefaultSource]: the file
// named by APP_API_TOKEN_FILE if that is set, else the environment variable
// APP_API_TOKEN.
//
// New fails when a source yields no token or a malformed one, or an option
// is invalid: the verifier never starts in a state that lets requests
// through unchecked. When a source can change (a [File], one made with
// [Reloading], or a [MatcherSource]), New starts a goroutine that reloads
// it; call Close to stop it. A verifier whose sources cannot change starts
// no goroutine.
//
// New reports the expiry of JWT-shaped tokens through the event hook
// before it returns (see [Event]).
func New(opts ...Option) (*Verifier, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		o.apply(&c)
	}
	if c.err != nil {
		return nil, fmt.Errorf("apptoken: %w", c.err)
	}
	if len(c.sources) == 0 && len(c.matchers) == 0 {
		c.sources = []Source{DefaultSource()}
	}
	if !c.noDefaults {
		c.exempt = append(c.exempt, defaultExemptions...)
		c.grpcExempt = append(c.grpcExempt, defaultGRPCExemptions...)
	}
	if c.legacyGRPC {
		c.grpcExempt = append(c.grpcExempt, legacyGRPCMethods...)
	}
	v := &Verifier{
		exempt:         c.exempt,
		grpcExempt:     c.grpcExempt,
		hideToken:      !c.keepHeader,
		onDecision:     c.onDecision,
		onEvent:        c.onEvent,
		eventLog:       eventLogger(c),
		sources:        c.sources,
		lists:          make([][]string, len(c.sources)),
		live:           make([]bool, len(c.sources)),
		matchers:       c.matchers,
		reloadInterval: c.reloadInterval,
		now:            c.now,
	}
	reloads := len(v.matchers) > 0
	for i, src := range v.sources {
		toks, err := readSource(src)
		if err != nil {
			return nil, err
		}
		v.lists[i] = toks
		v.live[i] = live(src)
		reloads = reloads || v.live[i]
	}
	r, err := v.assemble(v.lists)
	if err != nil {
		return nil, err
	}
	if c.rejectionLog != nil {
		v.rejections = newRejectionLog(c.rejectionLog, c.rejectLimit, c.rejectInterval)
	}
	set := newTokenSet(r)
	v.tokens.Store(set)
	var w expiryWatch
	v.reportExpiry(&w, set)
	if reloads {
		v.stop = make(chan struct{})
		v.done = make(chan struct{})
		go v.reloadLoop(&w)
	}
	return v, nil
}

// Close stops the background reloader, if any, and waits for it to end. The
// verifier keeps answering with the tokens it last loaded. With
// [WithRejectionLog], Close also writes the summary of rejections not yet
// logged and stops logging them. Close is safe to call more than once, from
// several goroutines, and on a verifier with nothing to stop. It must not be
// called from the event hook, which runs on the reloader. It always returns
// nil.
func (v *Verifier) Close() error {
	if v == nil {
		return nil
	}
	if v.rejections != nil {
		v.rejections.close()
	}
	if v.stop == nil {
		return nil
	}
	v.closeOnce.Do(func() { close(v.stop) })
	<-v.done
	return nil
}

// Verify decides an HTTP request given its method, its path as received
// (not decoded or cleaned, without the query; see [Verifier.Admit]) and
// every value of its dapr-api-token header. It changes nothing and never
// keeps the values. It is what an adapter for a framework not built on
// net/http calls; such an adapter then removes the header from an allowed
// request when [Verifier.HidesToken] says so.
func (v *Verifier) Verify(method, path string, values []string) Decision {
	if v == nil {
		return Mismatch
	}
	d := Exempt
	if !v.isExempt(method, path) {
		d = check(v.tokens.Load(), values)
	}
	return v.report(d, method, path)
}

// VerifyGRPC decides a gRPC call given its full method name
// ("/package.Service/Method") and every value of its dapr-api-token metadata
// key. It changes nothing. The decision hook sees the method as "POST" and
// the full method name as path.
func (v *Verifier) VerifyGRPC(fullMethod string, values []string) Decision {
	if v == nil {
		return Mismatch
	}
	d := Exempt
	if !v.isExemptGRPC(fullMethod) {
		d = check(v.tokens.Load(), values)
	}
	return v.report(d, http.MethodPost, fullMethod)
}

// canonicalHeader is HeaderName as net/http keys it in http.Header.
const canonicalHeader = "Dapr-Api-Token"

// Admit decides a net/http request and, when it is allowed, removes its
// dapr-api-token header unless [WithKeepHeader] was given, so that the
// handler cannot log or forward the token. It is the one call a net/http
// middleware makes before calling the next handler or answering with
// [WriteRejection].
//
// Exemptions are matched against the path as the client sent it:
// URL.RawPath when net/http kept one (the path used an encoding other than
// the standard one, such as /%68ealthz), else URL.Path, which net/http
// neither cleans nor resolves. So "//healthz", "/healthz/../orders" and
// "/%68ealthz" are not "/healthz".
func (v *Verifier) Admit(r *http.Request) Decision {
	path := ""
	if r.URL != nil {
		path = r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
	}
	d := v.Verify(r.Method, path, r.Header[canonicalHeader])
	if d.Allowed() && v.HidesToken() {
		delete(r.Header, canonicalHeader)
	}
	return d
}

// HidesToken reports whether an allowed request must reach its handler
// without the dapr-api-token header (or gRPC metadata key): true unless
// [WithKeepHeader] was given. [Verifier.Admit] applies it to net/http
// requests; adapters for other request types apply it themselves.
func (v *Verifier) HidesToken() bool { return v == nil || v.hideToken }

// report passes d to the rejection log and the decision hooks, if any, and
// returns it.
func (v *Verifier) report(d Decision, method, path string) Decision {
	if !d.Allowed() && v.rejections != nil {
		v.rejections.record(d, method, path)
	}
	for _, hook := range v.onDecision {
		hook(d, method, path)
	}
	return d
}

func (v *Verifier) isExempt(method, path string) bool {
	for _, e := range v.exempt {
		if e.Path == path && e.Method == method {
			return true
		}
	}
	return false
}

func (v *Verifier) isExemptGRPC(fullMethod string) bool {
	for _, m := range v.grpcExempt {
		if m == fullMethod {
			return true
		}
	}
	return false
}

// check compares the presented values with the accepted tokens, and with
// the values matchers accepted lately, then asks the matchers. Limits are
// checked on public facts (how many values, how long) before any compare.
func check(s *tokenSet, values []string) Decision {
	if len(values) > MaxValues {
		return TooManyValues
	}
	present := false
	for _, x := range values {
		if len(x) > MaxTokenLength {
			return TooLong
		}
		present = present || len(x) > 0
	}
	if !present {
		return Missing
	}
	if matchAny(&s.ctSet, values)|s.memo.match(values) == 1 {
		return Accepted
	}
	if len(s.matchers) == 0 {
		return Mismatch
	}
	return s.matchWith(values)
}

// Reloading. Every interval the reloader reads the live sources once: when
// they give the tokens in force, that is all. When they give something else,
// or fail, it reads them again after a short pause (settle), up to
// confirmReads times, and acts only on two reads in a row that agree: the
// same tokens, swapped in; or the same error, reported. A file caught in
// the middle of an in-place rewrite (truncated, half written) therefore
// neither replaces the tokens nor raises a false alarm; if it cannot be
// confirmed either way, the next interval looks again.
const (
	confirmReads = 3
	maxSettle    = 100 * time.Millisecond
)

// reloadState is the reloader's memory between intervals.
type reloadState struct {
	// failed is the message of the failure last reported, "" after a success.
	failed string
	expiry *expiryWatch
}

// reloadLoop reads the live sources again each interval until Close ends it.
func (v *Verifier) reloadLoop(w *expiryWatch) {
	defer close(v.done)
	t := time.NewTicker(v.reloadInterval)
	defer t.Stop()
	st := reloadState{expiry: w}
	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
			if !v.reload(&st) {
				return
			}
			v.reportExpiry(st.expiry, v.tokens.Load())
		}
	}
}

// reload runs one interval's reading of the sources. On an error it keeps
// the last good set: a failed reload never widens or empties what is
// accepted. It returns false when it was stopped while pausing.
func (v *Verifier) reload(st *reloadState) bool {
	cur := v.tokens.Load()
	r, err := v.read()
	if err == nil && r.same(cur.reading()) && st.failed == "" {
		return true
	}
	settle := min(v.reloadInterval/10, maxSettle)
	for range confirmReads {
		if !v.pause(settle) {
			return false
		}
		next, nextErr := v.read()
		if agree(r, err, next, nextErr) {
			v.settled(st, cur, next, nextErr)
			return true
		}
		r, err = next, nextErr
	}
	return true
}

// settled acts on a confirmed reading. A failure is reported once for
// each distinct error, not every interval; the first success after a
// reported failure is reported as EventReloaded, as is every change.
func (v *Verifier) settled(st *reloadState, cur *tokenSet, r reading, err error) {
	if err != nil {
		if msg := err.Error(); msg != st.failed {
			st.failed = msg
			v.emit(Event{Kind: EventReloadFailed, Err: err, Tokens: len(cur.raw)})
		}
		return
	}
	changed := !r.same(cur.reading())
	if changed {
		v.tokens.Store(newTokenSet(r))
		cur.memo.drop()
	}
	if changed || st.failed != "" {
		st.failed = ""
		v.emit(Event{Kind: EventReloaded, Tokens: len(r.tokens)})
	}
}

// reading is what one reading of the sources gave.
type reading struct {
	tokens   []string
	matchers []Matcher
	digests  []string
}

// same reports whether two readings give the same tokens, in the same
// order, and matchers with the same digests.
func (r reading) same(o reading) bool {
	return slices.Equal(r.tokens, o.tokens) && slices.Equal(r.digests, o.digests)
}

// reading returns what s was made from.
func (s *tokenSet) reading() reading {
	return reading{tokens: s.raw, matchers: s.matchers, digests: s.digests}
}

// assemble unites the token lists and loads the matcher sources. It fails
// when there is neither a token nor a matcher.
func (v *Verifier) assemble(lists [][]string) (reading, error) {
	r := reading{tokens: union(lists)}
	if len(r.tokens) == 0 && len(v.matchers) == 0 {
		return reading{}, fmt.Errorf("apptoken: %w", ErrNoToken)
	}
	for _, src := range v.matchers {
		m, digest, err := loadMatcher(src)
		if err != nil {
			return reading{}, err
		}
		r.matchers = append(r.matchers, m)
		r.digests = append(r.digests, digest)
	}
	return r, nil
}

// read reads the live sources again and returns the tokens they give with
// those the other sources gave in New, and the matchers loaded again.
func (v *Verifier) read() (reading, error) {
	lists := make([][]string, len(v.sources))
	for i, src := range v.sources {
		if !v.live[i] {
			lists[i] = v.lists[i]
			continue
		}
		toks, err := readSource(src)
		if err != nil {
			return reading{}, err
		}
		lists[i] = toks
	}
	return v.assemble(lists)
}

// agree reports whether two readings are the same (see reading.same), or
// failures with the same message.
func agree(a reading, aErr error, b reading, bErr error) bool {
	if aErr != nil || bErr != nil {
		return aErr != nil && bErr != nil && aErr.Error() == bErr.Error()
	}
	return a.same(b)
}

// pause waits for d, or returns false at once when the reloader is stopped.
func (v *Verifier) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-v.stop:
		return false
	}
}
