package apptoken

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Matcher decides the presented values that no accepted token equals. The
// signed-token verifier of the apptokenjwt module is one: it accepts a JWT
// whose signature and claims it can check, so that the app holds a public
// key instead of the token itself. See [WithMatcher].
type Matcher interface {
	// Match decides one presented value. It returns Accepted and how much
	// longer the value stays acceptable (ttl), or the rejecting Decision
	// that says why not, such as Expired or BadSignature (Mismatch when
	// there is nothing more precise to say). value is never empty nor
	// longer than MaxTokenLength. Match must be safe for concurrent use,
	// must not keep value and must not panic.
	Match(value string) (d Decision, ttl time.Duration)
}

// MatcherSource makes a [Matcher] from configuration that can change, such
// as a file of public keys.
type MatcherSource interface {
	// Load reads the configuration and returns the Matcher made from it
	// and a digest of what it read: two Loads that give the same digest
	// read the same configuration.
	Load() (m Matcher, digest string, err error)
	// String describes the source in errors; it must never contain a
	// secret.
	String() string
}

// MaxRemembered is how many values accepted by matchers a verifier
// remembers at once (see [WithMatcher]).
const MaxRemembered = 8

// WithMatcher adds a source of a [Matcher]: a presented value that no
// accepted token equals is given to the matcher, which may accept it. New
// loads the matcher, and fails when that fails. With a matcher and no
// [WithSource] or [WithTokens], the verifier reads no token source, so
// APP_API_TOKEN is not needed; give both to accept plain tokens and signed
// ones during a migration.
//
// The source is loaded again every reload interval, with the rules of
// [Reloading]: a new digest is put in force when two loads in a row agree
// on it, and a failure keeps the last good matcher and is reported as an
// [EventReloadFailed].
//
// daprd sends the same token on every call, so a value a matcher accepted
// is remembered until its ttl ends and accepted again without asking the
// matcher, by the same constant-time compare as the tokens. At most
// [MaxRemembered] values are remembered at once (a value accepted while
// that many are remembered is checked again on its next call), and a new
// matcher starts with none. [Verifier.Status] includes their expiry, and
// the reloader reports a remembered value that comes within ExpiryWarning
// of its end, and its end, as events with Token 0 (see [Event]): daprd
// never renews its token, so that is when it must be given a new one.
func WithMatcher(src MatcherSource) Option {
	return optionFunc(func(c *config) {
		if src == nil {
			c.fail("WithMatcher: nil source")
			return
		}
		c.matchers = append(c.matchers, src)
	})
}

// loadMatcher loads one matcher source. An error names the source.
func loadMatcher(src MatcherSource) (Matcher, string, error) {
	m, digest, err := src.Load()
	if err == nil && m == nil {
		err = fmt.Errorf("%w: Load returned no matcher", ErrInvalidOption)
	}
	if err != nil {
		return nil, "", fmt.Errorf("apptoken: %s: %w", src, err)
	}
	return m, digest, nil
}

// matchWith asks the matchers about each value that is not empty, in
// order, and returns Accepted at the first that accepts one, remembering
// it. Otherwise it returns the first rejection a matcher gave; a matcher
// that answers with anything but a rejecting Decision is taken to say
// Mismatch.
func (s *tokenSet) matchWith(values []string) Decision {
	d := Decision(0)
	for _, m := range s.matchers {
		for _, x := range values {
			if x == "" {
				continue
			}
			got, ttl := m.Match(x)
			if got == Accepted {
				s.memo.add(x, ttl)
				return Accepted
			}
			if d == 0 && !got.Allowed() && got.String() != "unknown" {
				d = got
			}
		}
	}
	if d == 0 {
		return Mismatch
	}
	return d
}

// memo holds the values matchers accepted, each until its ttl ends. The
// request path reads set with one atomic load; adding and forgetting,
// which happen once per value, take the lock and build a new set.
type memo struct {
	set atomic.Pointer[ctSet] // nil: none

	mu     sync.Mutex
	values []string
	ends   []time.Time
	timers []*time.Timer
	warned []bool      // an EventTokenExpiring was reported for the value
	ended  []time.Time // the ends of values forgotten since last asked
}

// match reports, as 1 or 0, whether a value is remembered.
func (m *memo) match(values []string) int {
	if m == nil {
		return 0
	}
	p := m.set.Load()
	if p == nil {
		return 0
	}
	return matchAny(p, values)
}

// add remembers value for ttl, unless it is remembered already or
// MaxRemembered values are.
func (m *memo) add(value string, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.values) >= MaxRemembered || slices.Contains(m.values, value) {
		return
	}
	value = strings.Clone(value) // value may share memory with a request
	m.values = append(m.values, value)
	m.ends = append(m.ends, time.Now().Add(ttl).Round(time.Second))
	m.timers = append(m.timers, time.AfterFunc(ttl, func() { m.forget(value) }))
	m.warned = append(m.warned, false)
	m.publish()
}

// forget drops value, whose ttl has ended.
func (m *memo) forget(value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.Index(m.values, value)
	if i < 0 {
		return
	}
	m.ended = append(m.ended, m.ends[i])
	m.values = slices.Delete(m.values, i, i+1)
	m.ends = slices.Delete(m.ends, i, i+1)
	m.timers = slices.Delete(m.timers, i, i+1)
	m.warned = slices.Delete(m.warned, i, i+1)
	m.publish()
}

// drop forgets every value, for a set no longer in force.
func (m *memo) drop() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.timers {
		t.Stop()
	}
	m.values, m.ends, m.timers, m.warned, m.ended = nil, nil, nil, nil, nil
	m.publish()
}

// expiry returns the ends of the values that came within ExpiryWarning
// of their end since last asked, and of those forgotten at their end.
func (m *memo) expiry(now time.Time) (expiring, expired []time.Time) {
	if m == nil {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, end := range m.ends {
		if !m.warned[i] && end.Sub(now) <= ExpiryWarning {
			m.warned[i] = true
			expiring = append(expiring, end)
		}
	}
	expired, m.ended = m.ended, nil
	return expiring, expired
}

// publish makes the request path see m.values. Called with m.mu held.
func (m *memo) publish() {
	if len(m.values) == 0 {
		m.set.Store(nil)
		return
	}
	p := newCTSet(m.values)
	m.set.Store(&p)
}

// earliestEnd returns the soonest end of a remembered value, or zero.
func (m *memo) earliestEnd() time.Time {
	if m == nil {
		return time.Time{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var t time.Time
	for _, e := range m.ends {
		if t.IsZero() || e.Before(t) {
			t = e
		}
	}
	return t
}
