package apptoken

import (
	"context"
	"errors"
	"fmt"
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
	// CanonicalHeaderName is HeaderName in the canonical form net/http uses as
	// the key of http.Header.
	CanonicalHeaderName = "Dapr-Api-Token"
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
	// [Reloader]) are read again.
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
// safe for concurrent use. Its request path takes no lock and allocates
// nothing: the accepted tokens sit behind an atomic pointer that a reload
// swaps as a whole.
//
// A nil *Verifier rejects every request.
type Verifier struct {
	tokens atomic.Pointer[tokenSet]

	exempt     []Exemption
	grpcExempt []string
	keepHeader bool
	onDecision func(d Decision, method, path string)
	onEvent    func(Event)

	sources        []Source
	reloadInterval time.Duration
	now            func() time.Time

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a verifier configured by opts. With no [WithSource] option it
// uses [DefaultSource]: the file named by APP_API_TOKEN_FILE if that is
// set, else the environment variable APP_API_TOKEN.
//
// New fails when a source yields no token or a malformed one: the verifier
// never starts in a state that lets requests through unchecked. When a source
// can change (a [File]), New starts a goroutine that reloads it; call Close,
// or cancel the context given with [WithContext], to stop it.
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
	if len(c.sources) == 0 {
		c.sources = []Source{DefaultSource()}
	}
	v := &Verifier{
		exempt:         c.exempt,
		grpcExempt:     c.grpcExempt,
		keepHeader:     c.keepHeader,
		onDecision:     c.onDecision,
		onEvent:        c.onEvent,
		sources:        c.sources,
		reloadInterval: c.reloadInterval,
		now:            c.now,
	}
	set, err := loadSources(v.sources)
	if err != nil {
		return nil, err
	}
	v.tokens.Store(set)
	v.reportExpiry(set)
	if reloading(v.sources) {
		v.stop = make(chan struct{})
		v.done = make(chan struct{})
		go v.reloadLoop(c.ctx)
	}
	return v, nil
}

// Close stops the background reloader, if any, and waits for it to end. The
// verifier keeps answering with the tokens it last loaded. Close is safe to
// call more than once and on a verifier with nothing to stop.
func (v *Verifier) Close() error {
	if v == nil || v.stop == nil {
		return nil
	}
	v.closeOnce.Do(func() { close(v.stop) })
	<-v.done
	return nil
}

// Verify decides an HTTP request given its method, its path as received (not
// decoded or cleaned; see [Verifier.VerifyRequest]) and every value of its
// dapr-api-token header. It never keeps the values.
func (v *Verifier) Verify(method, path string, values []string) Decision {
	if v == nil {
		return decisionNoVerifier
	}
	var d Decision
	if v.isExempt(method, path) {
		d = decisionExempt
	} else {
		d = check(v.tokens.Load(), values)
	}
	if v.onDecision != nil {
		v.onDecision(d, method, path)
	}
	return d
}

// VerifyBytes is Verify for frameworks that hold header values as byte
// slices, such as fasthttp. It never keeps or changes the values.
func (v *Verifier) VerifyBytes(method, path string, values [][]byte) Decision {
	if v == nil {
		return decisionNoVerifier
	}
	var d Decision
	if v.isExempt(method, path) {
		d = decisionExempt
	} else {
		d = check(v.tokens.Load(), values)
	}
	if v.onDecision != nil {
		v.onDecision(d, method, path)
	}
	return d
}

// VerifyGRPC decides a gRPC call given its full method name
// ("/package.Service/Method") and every value of its dapr-api-token metadata
// key. The hook sees the method as "POST" and the full method name as path.
func (v *Verifier) VerifyGRPC(fullMethod string, values []string) Decision {
	if v == nil {
		return decisionNoVerifier
	}
	var d Decision
	if v.isExemptGRPC(fullMethod) {
		d = decisionExempt
	} else {
		d = check(v.tokens.Load(), values)
	}
	if v.onDecision != nil {
		v.onDecision(d, http.MethodPost, fullMethod)
	}
	return d
}

// VerifyRequest decides a net/http request, and is what adapters for
// frameworks built on net/http call. It reads every value of the
// dapr-api-token header and matches exemptions against the path exactly as
// the client sent it (URL.RawPath when the path was percent-encoded, else
// URL.Path), so an encoded or dot-segment path never reaches an exempt
// route unchecked. Unless [WithKeepHeader] was given, an allowed request
// leaves without its dapr-api-token header, so handlers cannot log or forward it.
func (v *Verifier) VerifyRequest(r *http.Request) Decision {
	path := ""
	if r.URL != nil {
		path = r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
	}
	d := v.Verify(r.Method, path, r.Header[CanonicalHeaderName])
	if d.Allowed() && !v.keepHeader {
		delete(r.Header, CanonicalHeaderName)
	}
	return d
}

// KeepHeader reports whether adapters should leave the token header (or
// metadata key) on an allowed request. It is false unless [WithKeepHeader]
// was given.
func (v *Verifier) KeepHeader() bool { return v != nil && v.keepHeader }

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

// check compares the presented values with the accepted tokens. Limits are
// checked on public facts (how many values, how long) before any compare.
func check[T string | []byte](s *tokenSet, values []T) Decision {
	if len(values) > MaxValues {
		return decisionTooManyValues
	}
	present := false
	for _, x := range values {
		if len(x) > MaxTokenLength {
			return decisionTooLong
		}
		present = present || len(x) > 0
	}
	if !present {
		return decisionMissing
	}
	if matchAny(s, values) == 1 {
		return decisionAccepted
	}
	return decisionMismatch
}

// reloadLoop reads every source again each interval until Close or the
// context ends it.
func (v *Verifier) reloadLoop(ctx context.Context) {
	defer close(v.done)
	t := time.NewTicker(v.reloadInterval)
	defer t.Stop()
	var ctxDone <-chan struct{}
	if ctx != nil {
		ctxDone = ctx.Done()
	}
	for {
		select {
		case <-v.stop:
			return
		case <-ctxDone:
			return
		case <-t.C:
			v.reload()
		}
	}
}

// reload loads every source again. On any error it keeps the last good set
// and reports the error: a failed reload never widens or empties what is
// accepted.
func (v *Verifier) reload() {
	set, err := loadSources(v.sources)
	if err != nil {
		v.emit(Event{Kind: EventReloadFailed, Err: err, Tokens: len(v.tokens.Load().lens)})
		return
	}
	if slices.Equal(set.raw, v.tokens.Load().raw) {
		return
	}
	v.tokens.Store(set)
	v.emit(Event{Kind: EventReloaded, Tokens: len(set.lens)})
	v.reportExpiry(set)
}
