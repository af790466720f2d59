package apptoken_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// jwtWith returns a JWT-shaped token whose payload is claims. It is not
// signed: the verifier only reads what a token says of itself.
func jwtWith(claims string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(claims)) + "." +
		enc.EncodeToString([]byte("not-a-real-signature-"+claims))
}

func jwtExp(t time.Time) string {
	return jwtWith(fmt.Sprintf(`{"sub":"orders","exp":%d}`, t.Unix()))
}

// malformedJWTs look like JWTs but carry no usable exp; they are accepted
// tokens like any other, and reported about never.
func malformedJWTs() []string {
	enc := base64.RawURLEncoding.EncodeToString
	head := enc([]byte(`{"alg":"none"}`))
	return []string{
		"a.b.c",
		"..",
		"x..y",
		head + "." + enc([]byte(`{"exp":1}`)), // two parts
		head + "." + enc([]byte(`{"exp":1}`)) + ".s.extra",          // four parts
		head + ".!!not-base64!!.sig",                                // payload not base64url
		head + "." + enc([]byte(`not json`)) + ".sig",               // payload not JSON
		head + "." + enc([]byte(`[1,2,3]`)) + ".sig",                // not an object
		head + "." + enc([]byte(`{"exp":"soon"}`)) + ".sig",         // exp not a number
		head + "." + enc([]byte(`{"exp":null}`)) + ".sig",           // null exp
		head + "." + enc([]byte(`{"exp":true}`)) + ".sig",           // boolean exp
		head + "." + enc([]byte(`{"exp":-5}`)) + ".sig",             // negative exp
		head + "." + enc([]byte(`{"exp":1e300}`)) + ".sig",          // absurd exp
		head + "." + enc([]byte(`{"exp":1}{"exp":2}`)) + ".sig",     // trailing data
		head + "." + enc([]byte(`{"nbf":1,"iat":1}`)) + ".sig",      // no exp at all
		head + "." + enc([]byte("{\"exp\":\xff\xfe}")) + ".sig",     // invalid UTF-8
		head + "." + enc(bytes.Repeat([]byte(`[`), 2000)) + ".sig",  // deep nesting
		"eyJ." + enc([]byte(`{"exp":12345678901234567890}`)) + ".x", // overflows int64
	}
}

// TestJWTExpiryAtStart: New reports expired and near tokens, in the order
// the sources give them, and nothing about far or malformed ones.
func TestJWTExpiryAtStart(t *testing.T) {
	now := time.Now()
	past := now.Add(-time.Hour).Truncate(time.Second)
	near := now.Add(apptoken.ExpiryWarning / 2).Truncate(time.Second)
	far := now.Add(apptoken.ExpiryWarning * 10)
	tokens := append([]string{jwtExp(far), jwtExp(past), "opaque-token-Rt5Yw2Qz8Kp1", jwtExp(near)}, malformedJWTs()...)
	log := &eventLog{}
	v, err := apptoken.New(apptoken.WithTokens(tokens...), apptoken.WithEventHook(log.hook), apptoken.WithEventLog(nil))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer v.Close()
	// Reported before New returned: there is no goroutine to wait for.
	got := log.all()
	want := []apptoken.Event{
		{Kind: apptoken.EventTokenExpired, Tokens: len(tokens), Token: 2, Expiry: past.UTC()},
		{Kind: apptoken.EventTokenExpiring, Tokens: len(tokens), Token: 4, Expiry: near.UTC()},
	}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
		}
		checkEventHasNoToken(t, got[i], tokens...)
	}
	// Expiry is a warning: every token, expired or not, is accepted.
	for i, tok := range tokens {
		if !accepts(v, tok) {
			t.Errorf("token %d not accepted", i+1)
		}
	}
}

// TestJWTExpiryOnReload: a reload that changes the tokens reports the new
// set's expired and near tokens; an unchanged set is not reported again.
func TestJWTExpiryOnReload(t *testing.T) {
	now := time.Now()
	past := jwtExp(now.Add(-48 * time.Hour))
	near := jwtExp(now.Add(time.Hour))
	far := jwtExp(now.Add(apptoken.ExpiryWarning * 3))
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, lines(far), 0o600); err != nil {
		t.Fatal(err)
	}
	v, log := newFileVerifier(t, path)
	if n := len(log.all()); n != 0 {
		t.Fatalf("%d events at start for a far token", n)
	}

	if err := os.WriteFile(path, lines(far, near, past), 0o600); err != nil {
		t.Fatal(err)
	}
	log.wait(t, apptoken.EventReloaded, 1)
	expiring := log.wait(t, apptoken.EventTokenExpiring, 1)
	expired := log.wait(t, apptoken.EventTokenExpired, 1)
	if expiring.Token != 2 || expired.Token != 3 || expiring.Tokens != 3 {
		t.Errorf("expiring %+v, expired %+v", expiring, expired)
	}
	stays(t, 5*testInterval, "no repeated expiry events", func() bool { return len(log.all()) == 3 })

	// Rotated to the expired token alone: reported again, as token 1.
	if err := os.WriteFile(path, lines(past), 0o600); err != nil {
		t.Fatal(err)
	}
	log.wait(t, apptoken.EventReloaded, 2)
	e := log.wait(t, apptoken.EventTokenExpired, 2)
	if e.Token != 1 || e.Tokens != 1 {
		t.Errorf("after the second reload: %+v", e)
	}
	if !accepts(v, past) || accepts(v, far) {
		t.Error("expired token not accepted, or the removed one still is")
	}
	for _, e := range log.all() {
		checkEventHasNoToken(t, e, past, near, far)
	}
}

// TestDefaultEventLogHasNoToken: the default hook logs every kind of event
// through slog without a token or a part of one.
func TestDefaultEventLogHasNoToken(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	now := time.Now()
	past, near := jwtExp(now.Add(-time.Hour)), jwtExp(now.Add(time.Hour))
	bad := "secret-in-a-bad-line-Wq8Zt3\x01"
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, lines(past, near), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := apptoken.New(apptoken.WithSource(apptoken.File(path)), apptoken.WithReloadInterval(testInterval))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := os.WriteFile(path, lines(near, bad), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * testInterval)
	if err := os.WriteFile(path, lines(near), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * testInterval)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, kind := range []string{"has expired", "expires soon", "reload failed", "reloaded"} {
		if !bytes.Contains(buf.Bytes(), []byte(kind)) {
			t.Errorf("log has no %q line:\n%s", kind, out)
		}
	}
	for _, tok := range []string{past, near, bad[:len(bad)-1]} {
		for _, part := range tokenParts(tok) {
			if bytes.Contains(buf.Bytes(), []byte(part)) {
				t.Errorf("log contains (part of) a token:\n%s", out)
			}
		}
	}
}
