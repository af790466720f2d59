package apptoken_test

import (
	"os"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
)

func TestStatus(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	early, late := now.Add(-time.Hour), now.Add(48*time.Hour)
	cases := []struct {
		name   string
		tokens []string
		want   apptoken.Status
	}{
		{"opaque tokens", []string{token, other}, apptoken.Status{Tokens: 2}},
		{"earliest of the JWTs, expired or not", []string{jwtExp(late), token, jwtExp(early)}, apptoken.Status{Tokens: 3, Expiry: early.UTC()}},
		{"malformed JWTs carry no expiry", append([]string{jwtExp(late)}, malformedJWTs()...), apptoken.Status{Tokens: 1 + len(malformedJWTs()), Expiry: late.UTC()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := mustNew(t, apptoken.WithTokens(c.tokens...))
			if got := v.Status(); got != c.want {
				t.Errorf("Status() = %+v, want %+v", got, c.want)
			}
		})
	}
	var nilVerifier *apptoken.Verifier
	if got := nilVerifier.Status(); got != (apptoken.Status{}) {
		t.Errorf("nil verifier: %+v", got)
	}
}

// TestStatusFollowsReload: a reload that changes the tokens changes the
// Status; a failed one keeps it.
func TestStatusFollowsReload(t *testing.T) {
	exp := time.Now().Add(72 * time.Hour).Truncate(time.Second).UTC()
	path := writeTokenFile(t, rotOld)
	log := &eventLog{}
	v := mustNew(t, apptoken.WithSource(apptoken.File(path)), apptoken.WithReloadInterval(testInterval), apptoken.WithEventHook(log.hook))
	if got, want := v.Status(), (apptoken.Status{Tokens: 1}); got != want {
		t.Fatalf("at start: %+v, want %+v", got, want)
	}
	if err := os.WriteFile(path, lines(rotOld, jwtExp(exp)), 0o600); err != nil {
		t.Fatal(err)
	}
	log.wait(t, apptoken.EventReloaded, 1)
	want := apptoken.Status{Tokens: 2, Expiry: exp}
	if got := v.Status(); got != want {
		t.Fatalf("after the reload: %+v, want %+v", got, want)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	log.wait(t, apptoken.EventReloadFailed, 1)
	if got := v.Status(); got != want {
		t.Errorf("after a failed reload: %+v, want %+v", got, want)
	}
}
