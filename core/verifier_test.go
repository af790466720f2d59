package apptoken_test

import (
	"errors"
	"strings"
	"testing"

	apptoken "github.com/apptoken-go/apptoken/core"
)

const (
	token = "wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M"
	other = "n3Bv8Yq1Lc5Tz0Wk7Xs2Md9Hp4Rf6Gj1Ea8Uo3Iy5Qt"
)

func mustNew(t testing.TB, opts ...apptoken.Option) *apptoken.Verifier {
	t.Helper()
	v, err := apptoken.New(append([]apptoken.Option{apptoken.WithEventHook(nil)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func TestNewFailsClosed(t *testing.T) {
	t.Setenv("APPTOKEN_TEST_BLANK", " \t\n")
	t.Setenv("APPTOKEN_TEST_CTRL", "abc\x01def")
	t.Setenv("APPTOKEN_TEST_NEWLINE_INSIDE", "abc\ndef")
	cases := []struct {
		name    string
		opts    []apptoken.Option
		wantErr error
		wantMsg string // a part of the message; the message must name the source
	}{
		{"default variable unset", nil, apptoken.ErrNoToken, "APP_API_TOKEN is not set"},
		{"named variable unset", []apptoken.Option{apptoken.WithSource(apptoken.Env("APPTOKEN_TEST_UNSET"))}, apptoken.ErrNoToken, "APPTOKEN_TEST_UNSET is not set"},
		{"variable blank", []apptoken.Option{apptoken.WithSource(apptoken.Env("APPTOKEN_TEST_BLANK"))}, apptoken.ErrNoToken, "APPTOKEN_TEST_BLANK is empty"},
		{"control character", []apptoken.Option{apptoken.WithSource(apptoken.Env("APPTOKEN_TEST_CTRL"))}, apptoken.ErrInvalidToken, "environment variable APPTOKEN_TEST_CTRL"},
		{"line break inside", []apptoken.Option{apptoken.WithSource(apptoken.Env("APPTOKEN_TEST_NEWLINE_INSIDE"))}, apptoken.ErrInvalidToken, "control character"},
		{"invalid variable name", []apptoken.Option{apptoken.WithSource(apptoken.Env(""))}, apptoken.ErrInvalidOption, "not a valid variable name"},
		{"empty static list", []apptoken.Option{apptoken.WithTokens()}, apptoken.ErrNoToken, "static list"},
		{"empty static token", []apptoken.Option{apptoken.WithTokens(token, "  ")}, apptoken.ErrNoToken, "token 2"},
		{"DEL character", []apptoken.Option{apptoken.WithTokens("abc\x7f")}, apptoken.ErrInvalidToken, "control character"},
		{"too long", []apptoken.Option{apptoken.WithTokens(strings.Repeat("a", apptoken.MaxTokenLength+1))}, apptoken.ErrInvalidToken, "longer than 4096"},
		{"nil source", []apptoken.Option{apptoken.WithSource(nil)}, apptoken.ErrInvalidOption, "nil source"},
		{"one good one bad source", []apptoken.Option{apptoken.WithTokens(token), apptoken.WithSource(apptoken.Env("APPTOKEN_TEST_UNSET"))}, apptoken.ErrNoToken, "APPTOKEN_TEST_UNSET"},
		{"exemption without method", []apptoken.Option{apptoken.WithTokens(token), apptoken.WithExemptions(apptoken.Exemption{Path: "/x"})}, apptoken.ErrInvalidOption, "method"},
		{"exemption with relative path", []apptoken.Option{apptoken.WithTokens(token), apptoken.WithExemptions(apptoken.Exemption{Method: "GET", Path: "healthz"})}, apptoken.ErrInvalidOption, "does not start with /"},
		{"gRPC exemption not a full method", []apptoken.Option{apptoken.WithTokens(token), apptoken.WithGRPCExemptions("Check")}, apptoken.ErrInvalidOption, "full method"},
		{"reload interval too short", []apptoken.Option{apptoken.WithTokens(token), apptoken.WithReloadInterval(0)}, apptoken.ErrInvalidOption, "shorter than 10ms"},
		{"missing file", []apptoken.Option{apptoken.WithSource(apptoken.File("/nonexistent/apptoken"))}, nil, "file /nonexistent/apptoken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := apptoken.New(c.opts...)
			if err == nil {
				_ = v.Close()
				t.Fatal("New succeeded; want an error")
			}
			if v != nil {
				t.Error("New returned a verifier with its error")
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("error %q is not %v", err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error %q does not contain %q", err, c.wantMsg)
			}
			if strings.Contains(err.Error(), "abc") {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestEnvSourceTrims(t *testing.T) {
	t.Setenv("APP_API_TOKEN", "  "+token+"\n")
	v := mustNew(t)
	if d := v.Verify("POST", "/x", []string{token}); d.Outcome != apptoken.OutcomeAccepted {
		t.Fatalf("trimmed token: %v", d)
	}
	if d := v.Verify("POST", "/x", []string{token + "\n"}); d.Outcome != apptoken.OutcomeInvalid {
		t.Fatalf("untrimmed presented value: %v", d)
	}
}

func TestVerify(t *testing.T) {
	v := mustNew(t, apptoken.WithTokens(token, other))
	long := strings.Repeat("x", apptoken.MaxTokenLength+1)
	cases := []struct {
		method, path string
		values       []string
		want         apptoken.Decision
	}{
		{"POST", "/orders", nil, apptoken.Decision{Outcome: apptoken.OutcomeMissing, Reason: apptoken.ReasonNoValue}},
		{"POST", "/orders", []string{""}, apptoken.Decision{Outcome: apptoken.OutcomeMissing, Reason: apptoken.ReasonNoValue}},
		{"POST", "/orders", []string{"", ""}, apptoken.Decision{Outcome: apptoken.OutcomeMissing, Reason: apptoken.ReasonNoValue}},
		{"POST", "/orders", []string{token}, apptoken.Decision{Outcome: apptoken.OutcomeAccepted, Reason: apptoken.ReasonMatch}},
		{"POST", "/orders", []string{other}, apptoken.Decision{Outcome: apptoken.OutcomeAccepted, Reason: apptoken.ReasonMatch}},
		{"POST", "/orders", []string{"", token}, apptoken.Decision{Outcome: apptoken.OutcomeAccepted, Reason: apptoken.ReasonMatch}},
		{"POST", "/orders", []string{"nope", other}, apptoken.Decision{Outcome: apptoken.OutcomeAccepted, Reason: apptoken.ReasonMatch}},
		{"POST", "/orders", []string{"nope"}, apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonMismatch}},
		{"POST", "/orders", []string{token + token}, apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonMismatch}},
		{"POST", "/orders", []string{token, long}, apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonTooLong}},
		{"POST", "/orders", []string{token, token, token, token, token}, apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonTooManyValues}},
		{"GET", "/healthz", nil, apptoken.Decision{Outcome: apptoken.OutcomeExempt, Reason: apptoken.ReasonExempt}},
		{"HEAD", "/healthz", []string{"wrong"}, apptoken.Decision{Outcome: apptoken.OutcomeExempt, Reason: apptoken.ReasonExempt}},
		{"POST", "/healthz", nil, apptoken.Decision{Outcome: apptoken.OutcomeMissing, Reason: apptoken.ReasonNoValue}},
		{"GET", "/healthz/", nil, apptoken.Decision{Outcome: apptoken.OutcomeMissing, Reason: apptoken.ReasonNoValue}},
	}
	for _, c := range cases {
		got := v.Verify(c.method, c.path, c.values)
		if got != c.want {
			t.Errorf("Verify(%s %s, %d values) = %v, want %v", c.method, c.path, len(c.values), got, c.want)
		}
		if got.Allowed() != (c.want.Outcome == apptoken.OutcomeAccepted || c.want.Outcome == apptoken.OutcomeExempt) {
			t.Errorf("Allowed() = %v for %v", got.Allowed(), got)
		}
		var bs [][]byte
		for _, s := range c.values {
			bs = append(bs, []byte(s))
		}
		if gotB := v.VerifyBytes(c.method, c.path, bs); gotB != got {
			t.Errorf("VerifyBytes = %v, Verify = %v", gotB, got)
		}
	}
}

func TestNilVerifierRejects(t *testing.T) {
	var v *apptoken.Verifier
	for _, d := range []apptoken.Decision{
		v.Verify("GET", "/healthz", []string{token}),
		v.VerifyBytes("GET", "/healthz", [][]byte{[]byte(token)}),
		v.VerifyGRPC(apptoken.GRPCMethodHealthCheck, []string{token}),
	} {
		if d.Allowed() || d.Reason != apptoken.ReasonNoVerifier {
			t.Errorf("nil verifier decided %v", d)
		}
	}
	if err := v.Close(); err != nil {
		t.Error(err)
	}
}

func TestVerifyGRPC(t *testing.T) {
	v := mustNew(t, apptoken.WithTokens(token))
	const invoke = "/dapr.proto.runtime.v1.AppCallback/OnInvoke"
	const topic = "/dapr.proto.runtime.v1.AppCallback/OnTopicEvent"
	for _, m := range apptoken.DefaultGRPCExemptions() {
		if d := v.VerifyGRPC(m, nil); d.Outcome != apptoken.OutcomeExempt {
			t.Errorf("%s: %v, want exempt", m, d)
		}
	}
	if d := v.VerifyGRPC(invoke, []string{"x", token}); d.Outcome != apptoken.OutcomeAccepted {
		t.Errorf("two values, one right: %v", d)
	}
	if d := v.VerifyGRPC(topic, nil); d.Outcome != apptoken.OutcomeMissing {
		t.Errorf("topic event without legacy option: %v", d)
	}
	if d := v.VerifyGRPC(strings.ToLower(apptoken.GRPCMethodHealthCheck), nil); d.Allowed() {
		t.Errorf("case-folded method exempt: %v", d)
	}
	if d := v.VerifyGRPC(apptoken.GRPCMethodHealthCheck+"/", nil); d.Allowed() {
		t.Errorf("extended method exempt: %v", d)
	}

	legacy := mustNew(t, apptoken.WithTokens(token), apptoken.WithInsecureLegacySidecarGRPC())
	for _, m := range apptoken.LegacySidecarGRPCMethods() {
		if d := legacy.VerifyGRPC(m, nil); d.Outcome != apptoken.OutcomeExempt {
			t.Errorf("legacy %s: %v, want exempt", m, d)
		}
	}
	if d := legacy.VerifyGRPC(invoke, nil); d.Outcome != apptoken.OutcomeMissing {
		t.Errorf("legacy option exempts OnInvoke: %v", d)
	}

	none := mustNew(t, apptoken.WithTokens(token), apptoken.WithGRPCExemptions())
	if d := none.VerifyGRPC(apptoken.GRPCMethodHealthCheck, nil); d.Allowed() {
		t.Errorf("exemptions removed, still %v", d)
	}
	// HTTP exemptions do not leak into gRPC and back.
	if d := v.VerifyGRPC("/healthz", nil); d.Allowed() {
		t.Errorf("HTTP exemption applies to gRPC: %v", d)
	}
	if d := v.Verify("POST", apptoken.GRPCMethodHealthCheck, nil); d.Allowed() {
		t.Errorf("gRPC exemption applies to HTTP: %v", d)
	}
}

func TestDecisionHook(t *testing.T) {
	type call struct {
		d            apptoken.Decision
		method, path string
	}
	var calls []call
	v := mustNew(t, apptoken.WithTokens(token), apptoken.WithDecisionHook(func(d apptoken.Decision, method, path string) {
		calls = append(calls, call{d, method, path})
	}))
	v.Verify("POST", "/orders", []string{"bad"})
	v.VerifyGRPC("/svc.S/M", []string{token})
	want := []call{
		{apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonMismatch}, "POST", "/orders"},
		{apptoken.Decision{Outcome: apptoken.OutcomeAccepted, Reason: apptoken.ReasonMatch}, "POST", "/svc.S/M"},
	}
	if len(calls) != len(want) {
		t.Fatalf("hook called %d times, want %d", len(calls), len(want))
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("call %d: %+v, want %+v", i, calls[i], want[i])
		}
	}
}

func TestStrings(t *testing.T) {
	d := apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonTooLong}
	if d.String() != "invalid/too_long" {
		t.Errorf("%q", d.String())
	}
	if apptoken.Outcome(0).String() != "unknown" || apptoken.Reason(200).String() != "unknown" || apptoken.EventKind(0).String() != "unknown" {
		t.Error("unknown values are not named unknown")
	}
	if apptoken.Env("X").String() != "environment variable X" || apptoken.File("f").String() != "file f" {
		t.Error("source descriptions")
	}
	if s := apptoken.Static(token).String(); strings.Contains(s, token) {
		t.Errorf("static source describes itself with its token: %q", s)
	}
}

func TestDefaultSource(t *testing.T) {
	t.Setenv("APP_API_TOKEN", token)
	if got := apptoken.DefaultSource().String(); got != "environment variable APP_API_TOKEN" {
		t.Errorf("without APP_API_TOKEN_FILE: %s", got)
	}
	t.Setenv("APP_API_TOKEN_FILE", "/some/file")
	if got := apptoken.DefaultSource().String(); got != "file /some/file" {
		t.Errorf("with APP_API_TOKEN_FILE: %s", got)
	}
	t.Setenv("APP_API_TOKEN_FILE", " ")
	if _, err := apptoken.New(); err == nil || !strings.Contains(err.Error(), "APP_API_TOKEN_FILE is set but empty") {
		t.Errorf("blank APP_API_TOKEN_FILE: %v", err)
	}
}
