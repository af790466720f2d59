package apptoken

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

func testJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestJWTExpiryParse(t *testing.T) {
	padded := base64.URLEncoding.EncodeToString([]byte(`{"exp":1700000000,"x":"a"}`))
	if !strings.HasSuffix(padded, "=") {
		t.Fatal("test payload is not padded")
	}
	cases := []struct {
		token string
		want  int64 // 0: no exp read
	}{
		{testJWT(`{"exp":1700000000}`), 1700000000},
		{testJWT(`{"sub":"a","exp":4102444800,"aud":["x"]}`), 4102444800},
		{testJWT(`{"exp":1700000000.9}`), 1700000000},
		{testJWT(`{"exp":1.7e9}`), 1700000000},
		{"eyJhbGciOiJIUzI1NiJ9." + padded + ".c2ln", 1700000000},
		{testJWT(`{}`), 0},
		{testJWT(`{"exp":0}`), 0},
		{testJWT(`{"exp":-1}`), 0},
		{testJWT(`{"exp":1e300}`), 0},
		{testJWT(`{"exp":"soon"}`), 0},
		{testJWT(`{"exp":null}`), 0},
		{testJWT(`{"exp":[1]}`), 0},
		{testJWT(`[{"exp":1700000000}]`), 0},
		{testJWT(`{"exp":1700000000`), 0},
		{"." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":1700000000}`)) + ".c2ln", 0},
		{testJWT(`{"exp":1700000000}`) + ".more", 0},
		{"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9", 0}, // two parts
		{"eyJhbGciOiJIUzI1NiJ9.e+yJleHAiOjE3MDAwMDAwMDB9.c2ln", 0},
		{"plain-opaque-token", 0},
		{"a.b.c", 0},
		{"..", 0},
		{"", 0},
	}
	for _, c := range cases {
		exp, ok := jwtExpiry(c.token)
		switch {
		case c.want == 0 && ok:
			t.Errorf("%q: exp %v read, want none", c.token, exp)
		case c.want != 0 && (!ok || exp.Unix() != c.want):
			t.Errorf("%q: exp %v, %v; want %d", c.token, exp, ok, c.want)
		}
	}
	// Whatever the bytes, no panic.
	for i := range 4096 {
		s := fmt.Sprintf("%x.%s.%c", i, strings.Repeat(string(rune(i%128)), i%40), rune(i))
		jwtExpiry(s)
		jwtExpiry(testJWT(s))
	}
}

// TestExpiryWatch: with a clock that moves, each token's crossing into the
// warning window and past its exp is reported once; a new set is reported
// afresh.
func TestExpiryWatch(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	now := t0
	var events []Event
	v := &Verifier{now: func() time.Time { return now }, onEvent: []func(Event){func(e Event) { events = append(events, e) }}}
	take := func() []Event { e := events; events = nil; return e }

	farExp := t0.Add(ExpiryWarning + 24*time.Hour)
	nearExp := t0.Add(time.Hour)
	set := newTokenSet(reading{tokens: []string{
		testJWT(fmt.Sprintf(`{"exp":%d}`, farExp.Unix())),
		"opaque",
		testJWT(fmt.Sprintf(`{"exp":%d}`, nearExp.Unix())),
	}})
	var w expiryWatch
	check := func(step string, want ...Event) {
		t.Helper()
		v.reportExpiry(&w, set)
		got := take()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: events %v, want %v", step, got, want)
		}
	}
	check("start", Event{Kind: EventTokenExpiring, Tokens: 3, Token: 3, Expiry: nearExp})
	check("same time again")
	now = t0.Add(30 * time.Minute)
	check("still near")
	now = t0.Add(time.Hour)
	check("at exp", Event{Kind: EventTokenExpired, Tokens: 3, Token: 3, Expiry: nearExp})
	now = t0.Add(2 * time.Hour)
	check("still expired")
	now = t0.Add(24*time.Hour + time.Second)
	check("far enters the window", Event{Kind: EventTokenExpiring, Tokens: 3, Token: 1, Expiry: farExp})
	check("far again")

	set = newTokenSet(reading{tokens: set.raw[:]})
	check("a new set is reported whole",
		Event{Kind: EventTokenExpiring, Tokens: 3, Token: 1, Expiry: farExp},
		Event{Kind: EventTokenExpired, Tokens: 3, Token: 3, Expiry: nearExp})
}
