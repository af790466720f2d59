package apptoken

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"time"
)

// EventKind tells what an [Event] reports.
type EventKind uint8

// The kinds of life-cycle event.
const (
	// EventReloaded: a reload changed the accepted tokens, or succeeded
	// again after an EventReloadFailed (then the tokens may be unchanged).
	EventReloaded EventKind = iota + 1
	// EventReloadFailed: a reload failed; the previous tokens stay accepted.
	// It is reported once for each distinct error, not every interval:
	// while the same error lasts nothing more is reported, and the next
	// EventReloaded tells that it is over.
	EventReloadFailed
	// EventTokenExpiring: a JWT-shaped token expires within ExpiryWarning.
	EventTokenExpiring
	// EventTokenExpired: a JWT-shaped token's exp claim is in the past.
	EventTokenExpired
)

var eventNames = [...]string{
	EventReloaded:      "reloaded",
	EventReloadFailed:  "reload_failed",
	EventTokenExpiring: "token_expiring",
	EventTokenExpired:  "token_expired",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown"
}

// ExpiryWarning is how far ahead of a JWT-shaped token's expiry an
// [EventTokenExpiring] is reported.
const ExpiryWarning = 7 * 24 * time.Hour

// Event reports something that happened outside the request path. It
// never carries a token, nor any part of one.
//
// Events are logged (see [WithEventLog]) and go to the hooks of
// [WithEventHook], one at a time: first from New, before it returns, then from the reloader
// goroutine, which waits for the hook; a hook must therefore be quick and
// must not call Close.
//
// Expiry: New reports every JWT-shaped token that has expired or expires
// within ExpiryWarning. After a reload that changes the tokens, the new set
// is reported the same way. While the reloader runs, it also reports a
// token that crosses into the warning window or past its exp, once per
// crossing. A verifier with no reloader reports expiry only in New.
type Event struct {
	Kind EventKind
	// Tokens is the number of tokens accepted after the event.
	Tokens int
	// Err is the reason of an EventReloadFailed.
	Err error
	// Token is the 1-based position of the token an expiry event is about,
	// in the order the sources yield them, and Expiry its exp claim. Token
	// is 0 for a value a matcher accepted (a signed token daprd sent; see
	// [WithMatcher]); it expires when the matcher said it would.
	Token  int
	Expiry time.Time
}

// eventLogger returns what gives the logger of events: the one of
// WithEventLog, nil for none, else slog's default as it is at each event.
func eventLogger(c config) func() *slog.Logger {
	switch {
	case !c.ownEventLog:
		return slog.Default
	case c.eventLog == nil:
		return nil
	}
	l := c.eventLog
	return func() *slog.Logger { return l }
}

// logEvent writes e as one line to l.
func logEvent(l *slog.Logger, e Event) {
	ctx := context.Background()
	switch e.Kind {
	case EventReloaded:
		l.LogAttrs(ctx, slog.LevelInfo, "apptoken: accepted tokens reloaded", slog.Int("tokens", e.Tokens))
	case EventReloadFailed:
		l.LogAttrs(ctx, slog.LevelError, "apptoken: reload failed; keeping the previous tokens",
			slog.Int("tokens", e.Tokens), slog.String("error", e.Err.Error()))
	case EventTokenExpiring:
		if e.Token == 0 {
			l.LogAttrs(ctx, slog.LevelWarn, "apptoken: the signed token the sidecar sends expires soon; give daprd a new one",
				slog.Time("expiry", e.Expiry))
			return
		}
		l.LogAttrs(ctx, slog.LevelWarn, "apptoken: a configured token expires soon",
			slog.Int("token", e.Token), slog.Time("expiry", e.Expiry))
	case EventTokenExpired:
		if e.Token == 0 {
			l.LogAttrs(ctx, slog.LevelError, "apptoken: the signed token the sidecar sent has expired and is refused; give daprd a new one",
				slog.Time("expiry", e.Expiry))
			return
		}
		l.LogAttrs(ctx, slog.LevelWarn, "apptoken: a configured token has expired",
			slog.Int("token", e.Token), slog.Time("expiry", e.Expiry))
	}
}

// emit logs e and passes it to the event hooks.
func (v *Verifier) emit(e Event) {
	if v.eventLog != nil {
		logEvent(v.eventLog(), e)
	}
	for _, hook := range v.onEvent {
		hook(e)
	}
}

// expiryWatch remembers what was last reported about each token of one
// set, so that a state is reported once.
type expiryWatch struct {
	set  *tokenSet
	said []EventKind // 0, EventTokenExpiring or EventTokenExpired
}

// reportExpiry emits an event for each JWT-shaped token of s that has
// expired or expires within ExpiryWarning, unless that was already said
// about it in s. daprd compares tokens as opaque strings and keeps sending
// an expired one, so this is a warning, not a rejection.
func (v *Verifier) reportExpiry(w *expiryWatch, s *tokenSet) {
	if w.set != s {
		w.set = s
		w.said = make([]EventKind, len(s.raw))
	}
	now := v.now()
	for i, exp := range s.exp {
		var kind EventKind
		switch {
		case exp.IsZero():
			continue
		case !exp.After(now):
			kind = EventTokenExpired
		case exp.Sub(now) <= ExpiryWarning:
			kind = EventTokenExpiring
		default:
			continue
		}
		if w.said[i] == kind {
			continue
		}
		w.said[i] = kind
		v.emit(Event{Kind: kind, Tokens: len(s.raw), Token: i + 1, Expiry: exp})
	}
	expiring, expired := s.memo.expiry(now)
	for _, end := range expiring {
		v.emit(Event{Kind: EventTokenExpiring, Tokens: len(s.raw), Expiry: end})
	}
	for _, end := range expired {
		v.emit(Event{Kind: EventTokenExpired, Tokens: len(s.raw), Expiry: end})
	}
}

// jwtExpiry returns the exp claim of a token shaped like a JWT
// (three base64url parts, the middle one a JSON object with a numeric exp).
// It checks no signature: it only reads what the token says of itself.
func jwtExpiry(t string) (time.Time, bool) {
	header, rest, ok := strings.Cut(t, ".")
	if !ok || header == "" {
		return time.Time{}, false
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	secs, err := claims.Exp.Float64()
	if err != nil || secs <= 0 || secs > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0).UTC(), true
}
