package apptoken_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// prefixMatcher accepts the values that start with its prefix, for ttl,
// says Expired of those that start with "old-", and counts its calls.
type prefixMatcher struct {
	prefix string
	ttl    time.Duration
	other  apptoken.Decision // what it says of any other value
	calls  atomic.Int64
}

func (m *prefixMatcher) Match(value string) (apptoken.Decision, time.Duration) {
	m.calls.Add(1)
	switch {
	case strings.HasPrefix(value, m.prefix):
		return apptoken.Accepted, m.ttl
	case strings.HasPrefix(value, "old-"):
		return apptoken.Expired, 0
	}
	return m.other, 0
}

// matcherSource gives a prefixMatcher whose prefix and failure the test
// changes; its digest is the prefix.
type matcherSource struct {
	mu     sync.Mutex
	prefix string
	ttl    time.Duration
	err    error
	loads  int
	last   *prefixMatcher
}

func (s *matcherSource) Load() (apptoken.Matcher, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if s.err != nil {
		return nil, "", s.err
	}
	if s.last == nil || s.last.prefix != s.prefix {
		s.last = &prefixMatcher{prefix: s.prefix, ttl: s.ttl, other: apptoken.BadSignature}
	}
	return s.last, s.prefix, nil
}

func (s *matcherSource) String() string { return "test matcher" }

func (s *matcherSource) set(prefix string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefix, s.err = prefix, err
}

func (s *matcherSource) current() *prefixMatcher {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func TestMatcherAloneNeedsNoToken(t *testing.T) {
	t.Setenv("APP_API_TOKEN", "")
	t.Setenv("APP_API_TOKEN_FILE", "")
	src := &matcherSource{prefix: "signed-", ttl: time.Hour}
	v, err := apptoken.New(apptoken.WithMatcher(src), apptoken.WithEventLog(nil))
	if err != nil {
		t.Fatalf("New with a matcher and no token: %v", err)
	}
	defer v.Close()
	for _, c := range []struct {
		values []string
		want   apptoken.Decision
	}{
		{[]string{"signed-1"}, apptoken.Accepted},
		{[]string{"old-1"}, apptoken.Expired},
		{[]string{"forged"}, apptoken.BadSignature},
		{[]string{"", "signed-2"}, apptoken.Accepted},
		{[]string{"old-1", "forged"}, apptoken.Expired}, // the first reason given
		{nil, apptoken.Missing},
		{[]string{strings.Repeat("s", apptoken.MaxTokenLength+1)}, apptoken.TooLong},
	} {
		if got := v.Verify("POST", "/orders", c.values); got != c.want {
			t.Errorf("Verify(%q) = %v, want %v", c.values, got, c.want)
		}
	}
}

func TestMatcherWithTokens(t *testing.T) {
	src := &matcherSource{prefix: "signed-", ttl: time.Hour}
	v, err := apptoken.New(apptoken.WithTokens("plain-token"), apptoken.WithMatcher(src), apptoken.WithEventLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	m := src.current()
	if got := v.Verify("POST", "/orders", []string{"plain-token"}); got != apptoken.Accepted {
		t.Errorf("the plain token: %v", got)
	}
	if n := m.calls.Load(); n != 0 {
		t.Errorf("the matcher was asked %d times about a configured token", n)
	}
	if got := v.Verify("POST", "/orders", []string{"signed-x"}); got != apptoken.Accepted {
		t.Errorf("a signed token: %v", got)
	}
	if got := v.Verify("GET", "/healthz", nil); got != apptoken.Exempt {
		t.Errorf("health: %v", got)
	}
}

// A matcher that answers with something that is not a rejection is taken
// to say Mismatch: it cannot let a request through by mistake.
func TestMatcherOddAnswerIsMismatch(t *testing.T) {
	for _, odd := range []apptoken.Decision{0, apptoken.Exempt, 200} {
		src := &oddSource{d: odd}
		v, err := apptoken.New(apptoken.WithMatcher(src), apptoken.WithEventLog(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Verify("POST", "/orders", []string{"x"}); got != apptoken.Mismatch {
			t.Errorf("matcher answering %d: %v, want mismatch", odd, got)
		}
		v.Close()
	}
}

type oddSource struct{ d apptoken.Decision }

func (s *oddSource) Load() (apptoken.Matcher, string, error) { return s, "", nil }
func (s *oddSource) String() string                          { return "odd" }
func (s *oddSource) Match(string) (apptoken.Decision, time.Duration) {
	return s.d, time.Hour
}

func TestMatcherRemembers(t *testing.T) {
	src := &matcherSource{prefix: "signed-", ttl: time.Hour}
	v, err := apptoken.New(apptoken.WithMatcher(src), apptoken.WithEventLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	m := src.current()
	for range 5 {
		if got := v.Verify("POST", "/orders", []string{"signed-a"}); got != apptoken.Accepted {
			t.Fatalf("Verify = %v", got)
		}
	}
	if n := m.calls.Load(); n != 1 {
		t.Errorf("the matcher was asked %d times about one value, want once", n)
	}
	if exp := v.Status().Expiry; exp.Before(time.Now().Add(59*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("Status().Expiry = %v, want in an hour", exp)
	}

	// Rejected values are never remembered.
	for range 3 {
		v.Verify("POST", "/orders", []string{"forged"})
	}
	if n := m.calls.Load(); n != 4 {
		t.Errorf("after 3 forgeries the matcher was asked %d times, want 4", n)
	}

	// At most MaxRemembered values are remembered: the one over is asked
	// about on every call.
	for i := range apptoken.MaxRemembered - 1 {
		v.Verify("POST", "/orders", []string{"signed-" + string(rune('b'+i))})
	}
	before := m.calls.Load()
	v.Verify("POST", "/orders", []string{"signed-over"})
	v.Verify("POST", "/orders", []string{"signed-over"})
	v.Verify("POST", "/orders", []string{"signed-a"})
	if n := m.calls.Load() - before; n != 2 {
		t.Errorf("the matcher was asked %d times, want 2 (the value over the bound, twice)", n)
	}
}

func TestMatcherForgetsAtTTL(t *testing.T) {
	src := &matcherSource{prefix: "signed-", ttl: 50 * time.Millisecond}
	v, err := apptoken.New(apptoken.WithMatcher(src), apptoken.WithEventLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	m := src.current()
	v.Verify("POST", "/orders", []string{"signed-a"})
	deadline := time.Now().Add(5 * time.Second)
	for !v.Status().Expiry.IsZero() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !v.Status().Expiry.IsZero() {
		t.Fatal("the value is still remembered long after its ttl")
	}
	v.Verify("POST", "/orders", []string{"signed-a"})
	if n := m.calls.Load(); n != 2 {
		t.Errorf("the matcher was asked %d times, want 2: once more after the ttl", n)
	}
}

func TestMatcherReload(t *testing.T) {
	src := &matcherSource{prefix: "k1-", ttl: 30 * 24 * time.Hour} // far from expiring
	events := make(chan apptoken.Event, 16)
	v, err := apptoken.New(apptoken.WithMatcher(src), apptoken.WithEventLog(nil),
		apptoken.WithReloadInterval(10*time.Millisecond),
		apptoken.WithEventHook(func(e apptoken.Event) { events <- e }))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if got := v.Verify("POST", "/orders", []string{"k1-token"}); got != apptoken.Accepted {
		t.Fatalf("before the reload: %v", got)
	}

	// A failing load keeps the matcher in force, remembered values too.
	src.set("k1-", errors.New("key file half written"))
	e := waitEvent(t, events)
	if e.Kind != apptoken.EventReloadFailed || !strings.Contains(e.Err.Error(), "test matcher") {
		t.Fatalf("event %v (%v), want reload_failed naming the source", e.Kind, e.Err)
	}
	if got := v.Verify("POST", "/orders", []string{"k1-token"}); got != apptoken.Accepted {
		t.Errorf("after a failed reload: %v", got)
	}

	// A new digest puts the new matcher in force and forgets what the old
	// one accepted.
	src.set("k2-", nil)
	if e := waitEvent(t, events); e.Kind != apptoken.EventReloaded {
		t.Fatalf("event %v, want reloaded", e.Kind)
	}
	if got := v.Verify("POST", "/orders", []string{"k1-token"}); got != apptoken.BadSignature {
		t.Errorf("a token of the retired key after the reload: %v, want bad_signature", got)
	}
	if got := v.Verify("POST", "/orders", []string{"k2-token"}); got != apptoken.Accepted {
		t.Errorf("a token of the new key: %v", got)
	}
}

func waitEvent(t *testing.T, events <-chan apptoken.Event) apptoken.Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event in 5s")
	}
	return apptoken.Event{}
}

func TestMatcherLoadErrors(t *testing.T) {
	boom := errors.New("no such key file")
	if _, err := apptoken.New(apptoken.WithMatcher(&matcherSource{err: boom})); !errors.Is(err, boom) ||
		!strings.Contains(err.Error(), "test matcher") {
		t.Errorf("New with a failing matcher source: %v", err)
	}
	if _, err := apptoken.New(apptoken.WithMatcher(nil)); !errors.Is(err, apptoken.ErrInvalidOption) {
		t.Errorf("WithMatcher(nil): %v", err)
	}
	if _, err := apptoken.New(apptoken.WithMatcher(nilMatcher{})); !errors.Is(err, apptoken.ErrInvalidOption) {
		t.Errorf("a source that loads no matcher: %v", err)
	}
}

type nilMatcher struct{}

func (nilMatcher) Load() (apptoken.Matcher, string, error) { return nil, "", nil }
func (nilMatcher) String() string                          { return "nil matcher" }

func TestMatcherDecisionNames(t *testing.T) {
	for d, want := range map[apptoken.Decision]string{
		apptoken.Malformed: "malformed", apptoken.Expired: "expired", apptoken.NotYetValid: "not_yet_valid",
		apptoken.WrongAudience: "wrong_audience", apptoken.WrongIssuer: "wrong_issuer",
		apptoken.UnknownKey: "unknown_key", apptoken.BadSignature: "bad_signature",
	} {
		if d.String() != want || d.Allowed() {
			t.Errorf("%d: %q allowed=%v, want %q, not allowed", d, d.String(), d.Allowed(), want)
		}
	}
}

// TestMatcherExpiryEvents: a remembered value near its end is reported
// once as expiring, and once as expired when it is forgotten, both with
// Token 0.
func TestMatcherExpiryEvents(t *testing.T) {
	src := &matcherSource{prefix: "signed-", ttl: 300 * time.Millisecond}
	events := make(chan apptoken.Event, 16)
	v, err := apptoken.New(apptoken.WithMatcher(src), apptoken.WithEventLog(nil),
		apptoken.WithReloadInterval(10*time.Millisecond),
		apptoken.WithEventHook(func(e apptoken.Event) { events <- e }))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	v.Verify("POST", "/orders", []string{"signed-a"})
	if e := waitEvent(t, events); e.Kind != apptoken.EventTokenExpiring || e.Token != 0 || e.Expiry.IsZero() {
		t.Fatalf("event %+v, want token_expiring for token 0", e)
	}
	if e := waitEvent(t, events); e.Kind != apptoken.EventTokenExpired || e.Token != 0 {
		t.Fatalf("event %+v, want token_expired for token 0", e)
	}
	select {
	case e := <-events:
		t.Errorf("one more event: %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}
