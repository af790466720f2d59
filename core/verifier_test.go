package apptoken_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
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
	v, err := apptoken.New(append([]apptoken.Option{apptoken.WithEventLog(nil)}, opts...)...)
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
		{"exemption with relative path", []apptoken.Option{apptoken.WithTokens(token), apptoken.WithExemptions(apptoken.Exemption{Method: "GET", Path: "healthz"})}, apptoken.ErrInvalidOption, "must start with /"},
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
	if d := v.Verify("POST", "/x", []string{token}); d != apptoken.Accepted {
		t.Fatalf("trimmed token: %v", d)
	}
	if d := v.Verify("POST", "/x", []string{token + "\n"}); d != apptoken.Mismatch {
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
		{"POST", "/orders", nil, apptoken.Missing},
		{"POST", "/orders", []string{""}, apptoken.Missing},
		{"POST", "/orders", []string{"", ""}, apptoken.Missing},
		{"POST", "/orders", []string{token}, apptoken.Accepted},
		{"POST", "/orders", []string{other}, apptoken.Accepted},
		{"POST", "/orders", []string{"", token}, apptoken.Accepted},
		{"POST", "/orders", []string{"nope", other}, apptoken.Accepted},
		{"POST", "/orders", []string{"nope"}, apptoken.Mismatch},
		{"POST", "/orders", []string{token + token}, apptoken.Mismatch},
		{"POST", "/orders", []string{token, long}, apptoken.TooLong},
		{"POST", "/orders", []string{token, token, token, token, token}, apptoken.TooManyValues},
		{"GET", "/healthz", nil, apptoken.Exempt},
		{"HEAD", "/healthz", []string{"wrong"}, apptoken.Exempt},
		{"POST", "/healthz", nil, apptoken.Missing},
		{"GET", "/healthz/", nil, apptoken.Missing},
	}
	for _, c := range cases {
		got := v.Verify(c.method, c.path, c.values)
		if got != c.want {
			t.Errorf("Verify(%s %s, %d values) = %v, want %v", c.method, c.path, len(c.values), got, c.want)
		}
		if got.Allowed() != (c.want == apptoken.Accepted || c.want == apptoken.Exempt) {
			t.Errorf("Allowed() = %v for %v", got.Allowed(), got)
		}
	}
}

func TestNilVerifierRejects(t *testing.T) {
	var v *apptoken.Verifier
	for _, d := range []apptoken.Decision{
		v.Verify("GET", "/healthz", []string{token}),
		v.VerifyGRPC(healthCheck, []string{token}),
		v.Admit(httptest.NewRequest(http.MethodGet, "/healthz", nil)),
	} {
		if d != apptoken.Mismatch {
			t.Errorf("nil verifier decided %v", d)
		}
	}
	if !v.HidesToken() {
		t.Error("nil verifier does not hide the token")
	}
	if err := v.Close(); err != nil {
		t.Error(err)
	}
}

const healthCheck = "/grpc.health.v1.Health/Check"

func TestVerifyGRPC(t *testing.T) {
	v := mustNew(t, apptoken.WithTokens(token))
	const invoke = "/dapr.proto.runtime.v1.AppCallback/OnInvoke"
	for _, m := range defaultGRPCExemptions {
		if d := v.VerifyGRPC(m, nil); d != apptoken.Exempt {
			t.Errorf("%s: %v, want exempt", m, d)
		}
	}
	if d := v.VerifyGRPC(invoke, []string{"x", token}); d != apptoken.Accepted {
		t.Errorf("two values, one right: %v", d)
	}
	for _, m := range legacyGRPCMethods {
		if d := v.VerifyGRPC(m, nil); d != apptoken.Missing {
			t.Errorf("%s without the legacy option: %v", m, d)
		}
	}
	if d := v.VerifyGRPC(strings.ToLower(healthCheck), nil); d.Allowed() {
		t.Errorf("case-folded method exempt: %v", d)
	}
	if d := v.VerifyGRPC(healthCheck+"/", nil); d.Allowed() {
		t.Errorf("extended method exempt: %v", d)
	}

	legacy := mustNew(t, apptoken.WithTokens(token), apptoken.WithInsecureLegacySidecarGRPC())
	for _, m := range legacyGRPCMethods {
		if d := legacy.VerifyGRPC(m, nil); d != apptoken.Exempt {
			t.Errorf("legacy %s: %v, want exempt", m, d)
		}
	}
	if d := legacy.VerifyGRPC(invoke, nil); d != apptoken.Missing {
		t.Errorf("legacy option exempts OnInvoke: %v", d)
	}

	none := mustNew(t, apptoken.WithTokens(token), apptoken.WithoutDefaultExemptions())
	if d := none.VerifyGRPC(healthCheck, nil); d.Allowed() {
		t.Errorf("default exemptions removed, still %v", d)
	}
	// HTTP exemptions do not leak into gRPC and back.
	if d := v.VerifyGRPC("/healthz", nil); d.Allowed() {
		t.Errorf("HTTP exemption applies to gRPC: %v", d)
	}
	if d := v.Verify("POST", healthCheck, nil); d.Allowed() {
		t.Errorf("gRPC exemption applies to HTTP: %v", d)
	}
}

// legacyGRPCMethods are the callbacks daprd sends without a token before
// v1.15.13 and in v1.16.0-1, as WithInsecureLegacySidecarGRPC documents them.
var legacyGRPCMethods = []string{
	"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
	"/dapr.proto.runtime.v1.AppCallback/OnBulkTopicEvent",
	"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1",
	"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
	"/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
	"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
}

// TestExemptionsCompose checks that the exemption options give the same
// set whatever their order, and that adding one keeps the defaults.
func TestExemptionsCompose(t *testing.T) {
	ready := apptoken.Exemption{Method: "GET", Path: "/ready"}
	const custom = "/orders.Orders/Ping"
	type probe struct {
		grpc         bool
		method, path string
	}
	probes := []probe{
		{false, "GET", "/healthz"}, {false, "HEAD", "/healthz"}, {false, "GET", "/ready"}, {false, "HEAD", "/ready"},
		{true, "", healthCheck}, {true, "", custom}, {true, "", legacyGRPCMethods[0]},
	}
	exempted := func(opts ...apptoken.Option) []probe {
		v := mustNew(t, append([]apptoken.Option{apptoken.WithTokens(token)}, opts...)...)
		var got []probe
		for _, p := range probes {
			d := v.Verify(p.method, p.path, nil)
			if p.grpc {
				d = v.VerifyGRPC(p.path, nil)
			}
			if d == apptoken.Exempt {
				got = append(got, p)
			}
		}
		return got
	}
	ex, gr, legacy, nodef := apptoken.WithExemptions(ready), apptoken.WithGRPCExemptions(custom), apptoken.WithInsecureLegacySidecarGRPC(), apptoken.WithoutDefaultExemptions()
	all := []probe{probes[0], probes[1], probes[2], probes[4], probes[5], probes[6]}
	explicit := []probe{probes[2], probes[5], probes[6]}
	for _, c := range []struct {
		name string
		opts []apptoken.Option
		want []probe
	}{
		{"defaults", nil, []probe{probes[0], probes[1], probes[4]}},
		{"added, legacy", []apptoken.Option{ex, gr, legacy}, all},
		{"legacy, added", []apptoken.Option{legacy, gr, ex}, all},
		{"gRPC first", []apptoken.Option{gr, legacy, ex}, all},
		{"without defaults last", []apptoken.Option{ex, gr, legacy, nodef}, explicit},
		{"without defaults first", []apptoken.Option{nodef, legacy, gr, ex}, explicit},
	} {
		if got := exempted(c.opts...); !slices.Equal(got, c.want) {
			t.Errorf("%s: exempt %v, want %v", c.name, got, c.want)
		}
	}
}

func TestExemptionErrors(t *testing.T) {
	for _, e := range []apptoken.Exemption{
		{"get", "/healthz"}, {"", "/healthz"}, {"GET ", "/x"}, {"Get", "/x"},
		{"GET", "healthz"}, {"GET", ""}, {"GET", "/x?y=1"}, {"GET", "/x#y"}, {"GET", "/a b"}, {"GET", "/a\x00"},
	} {
		_, err := apptoken.New(apptoken.WithTokens(token), apptoken.WithExemptions(e))
		if !errors.Is(err, apptoken.ErrInvalidOption) {
			t.Errorf("WithExemptions(%q %q): %v, want ErrInvalidOption", e.Method, e.Path, err)
		}
	}
	for _, m := range []string{"", "Check", "/Check", "//Check", "/svc/", "/svc.S/M/x", "svc.S/M"} {
		_, err := apptoken.New(apptoken.WithTokens(token), apptoken.WithGRPCExemptions(m))
		if !errors.Is(err, apptoken.ErrInvalidOption) {
			t.Errorf("WithGRPCExemptions(%q): %v, want ErrInvalidOption", m, err)
		}
	}
	mustNew(t, apptoken.WithTokens(token), apptoken.WithExemptions(apptoken.Exemption{Method: "M-SEARCH", Path: "/a%20b"}))
}

// TestAdmit checks the net/http entry point: it decides on the raw path,
// takes the header off an allowed request unless WithKeepHeader, and leaves
// a rejected one as it was.
func TestAdmit(t *testing.T) {
	hide := mustNew(t, apptoken.WithTokens(token))
	keep := mustNew(t, apptoken.WithTokens(token), apptoken.WithKeepHeader())
	if !hide.HidesToken() || keep.HidesToken() {
		t.Fatalf("HidesToken: %v with defaults, %v with WithKeepHeader", hide.HidesToken(), keep.HidesToken())
	}
	for _, c := range []struct {
		v          *apptoken.Verifier
		target     string
		value      string
		want       apptoken.Decision
		headerLeft bool
	}{
		{hide, "/orders", token, apptoken.Accepted, false},
		{keep, "/orders", token, apptoken.Accepted, true},
		{hide, "/orders", "wrong", apptoken.Mismatch, true},
		{hide, "/healthz", "wrong", apptoken.Exempt, false},
		{keep, "/healthz", "wrong", apptoken.Exempt, true},
		{hide, "/%68ealthz", "", apptoken.Missing, false},
		{hide, "/healthz?x=1", "", apptoken.Exempt, false},
	} {
		r := httptest.NewRequest(http.MethodGet, c.target, nil)
		if c.value != "" {
			r.Header.Set(apptoken.HeaderName, c.value)
		}
		d := c.v.Admit(r)
		left := r.Header.Get(apptoken.HeaderName) != ""
		if d != c.want || left != c.headerLeft {
			t.Errorf("GET %s: %v, header left %v; want %v, %v", c.target, d, left, c.want, c.headerLeft)
		}
	}
}

// TestWriteRejection checks the standard rejection, and that each response
// gets header values of its own: a later middleware appending to one must
// not change the next rejection.
func TestWriteRejection(t *testing.T) {
	first := httptest.NewRecorder()
	apptoken.WriteRejection(first)
	h := first.Header()
	h["Cache-Control"][0] = "public"
	h["Content-Type"] = append(h["Content-Type"][:1:1], "text/html")

	rec := httptest.NewRecorder()
	apptoken.WriteRejection(rec)
	if rec.Code != apptoken.RejectionStatus || rec.Body.String() != apptoken.RejectionBody ||
		rec.Header().Get("Cache-Control") != "no-store" || len(rec.Header()["Content-Type"]) != 1 ||
		rec.Header().Get("Content-Type") != apptoken.RejectionContentType {
		t.Errorf("second rejection: %d %v %q", rec.Code, rec.Header(), rec.Body)
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
		{apptoken.Mismatch, "POST", "/orders"},
		{apptoken.Accepted, "POST", "/svc.S/M"},
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
	for d, want := range map[apptoken.Decision]string{
		apptoken.Accepted: "accepted", apptoken.Exempt: "exempt", apptoken.Missing: "missing",
		apptoken.Mismatch: "mismatch", apptoken.TooLong: "too_long", apptoken.TooManyValues: "too_many_values",
		0: "unknown", 200: "unknown",
	} {
		if d.String() != want {
			t.Errorf("Decision(%d).String() = %q, want %q", d, d.String(), want)
		}
	}
	if apptoken.EventKind(0).String() != "unknown" {
		t.Error("unknown event kind is not named unknown")
	}
	if apptoken.Env("X").String() != "environment variable X" || apptoken.File("f").String() != "file f" {
		t.Error("source descriptions")
	}
}

func TestDefaultSource(t *testing.T) {
	t.Setenv("APP_API_TOKEN", token)
	if got := apptoken.DefaultSource().String(); got != "environment variable APP_API_TOKEN" {
		t.Errorf("without APP_API_TOKEN_FILE: %s", got)
	}
	t.Setenv("APP_API_TOKEN_FILE", "/some/file")
	if got := apptoken.DefaultSource().String(); got != "file /some/file (named by APP_API_TOKEN_FILE)" {
		t.Errorf("with APP_API_TOKEN_FILE: %s", got)
	}
	// A token file that cannot be read is an error naming the file and the
	// variable that named it (here a directory: root reads any file, so the
	// permission-denied case runs only as another user, in reload_test.go).
	dir := t.TempDir()
	t.Setenv("APP_API_TOKEN_FILE", dir)
	if _, err := apptoken.New(); err == nil || !strings.Contains(err.Error(), "file "+dir+" (named by APP_API_TOKEN_FILE)") || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("unreadable APP_API_TOKEN_FILE: %v", err)
	}
	t.Setenv("APP_API_TOKEN_FILE", " ")
	if _, err := apptoken.New(); err == nil || !strings.Contains(err.Error(), "APP_API_TOKEN_FILE is set but empty") {
		t.Errorf("blank APP_API_TOKEN_FILE: %v", err)
	}
}

// TestHooksCompose: every decision hook and every event hook is called, in
// the order given; events are logged to the logger of WithEventLog, and to
// none with WithEventLog(nil), while the hooks still run.
func TestHooksCompose(t *testing.T) {
	var calls []string
	var buf bytes.Buffer
	v := mustNew(t, apptoken.WithTokens(token),
		apptoken.WithDecisionHook(func(d apptoken.Decision, _, _ string) { calls = append(calls, "first "+d.String()) }),
		apptoken.WithDecisionHook(nil),
		apptoken.WithDecisionHook(func(d apptoken.Decision, _, _ string) { calls = append(calls, "second "+d.String()) }),
	)
	v.Verify(http.MethodPost, "/orders", []string{token})
	if want := []string{"first accepted", "second accepted"}; !slices.Equal(calls, want) {
		t.Errorf("decision hooks: %q, want %q", calls, want)
	}

	expired := "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjEwMDAwMDAwMDB9.c2ln" // exp in 2001
	for _, c := range []struct {
		name   string
		log    *slog.Logger
		logged bool
	}{{"own logger", slog.New(slog.NewTextHandler(&buf, nil)), true}, {"no log", nil, false}} {
		buf.Reset()
		var kinds []apptoken.EventKind
		hook := func(e apptoken.Event) { kinds = append(kinds, e.Kind) }
		if _, err := apptoken.New(apptoken.WithTokens(expired), apptoken.WithEventLog(c.log),
			apptoken.WithEventHook(hook), apptoken.WithEventHook(hook)); err != nil {
			t.Fatal(err)
		}
		if want := []apptoken.EventKind{apptoken.EventTokenExpired, apptoken.EventTokenExpired}; !slices.Equal(kinds, want) {
			t.Errorf("%s: event hooks saw %v, want %v", c.name, kinds, want)
		}
		if got := strings.Contains(buf.String(), "has expired"); got != c.logged {
			t.Errorf("%s: logged %v, want %v: %q", c.name, got, c.logged, buf.String())
		}
	}
}
