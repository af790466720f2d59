// Package conformance is the behaviour table that every apptoken adapter
// runs through its real framework router, so that all adapters behave
// alike and a new adapter inherits every case.
//
// An adapter's test calls [Run] with a function that starts the framework
// on a loopback listener, with the adapter's middleware in front of the
// routes in [Routes], each served like [Handler]. Run then sends each case
// as raw bytes on a fresh connection, so that it can send what ordinary
// clients refuse to (control bytes, odd paths, repeated headers), and
// checks the status, the body, the verifier's decision, what the handler
// saw, and that the server still answers afterwards.
package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// Tokens used by the cases. They are test values, not secrets.
const (
	// Token is the token the verifier accepts: 43 characters of base64url,
	// the shape of `openssl rand -base64 32` made URL-safe.
	Token = "wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M"
	// NextToken is a second accepted token in the rotation cases.
	NextToken = "n3Bv8Yq1Lc5Tz0Wk7Xs2Md9Hp4Rf6Gj1Ea8Uo3Iy5Qt"
	// WrongToken has Token's length and alphabet but is not accepted.
	WrongToken = "Zk4nT8Qw1Ys6Mc3Vb9Xe2Lp7Ha5Jd0Fo8Ug4Ri1Ek_N"
	// DaprAPIToken stands for the token callers use towards daprd
	// (DAPR_API_TOKEN): a different secret that must never be accepted.
	DaprAPIToken = "dapr-api-token-of-the-caller-0123456789abcd"
	// JWTToken is a JWT-shaped token of 205 bytes: an HS256 header, the
	// claims iss, sub, aud, iat and exp (in 2100), and a signature.
	JWTToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
		"eyJpc3MiOiJkYXByLXNlbnRyeSIsInN1YiI6Im9yZGVycy1zaWRlY2FyIiwiYXVkIjoib3JkZXJzIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjQxMDI0NDQ4MDB9." +
		"kC2Yk3pQm7Xw0Rt9Lb4Nz6Vh1Sd8Fj5Ga2Ue0Io3Py7"
)

// Route is one route the framework under test must serve.
type Route struct{ Method, Path string }

// Routes are the routes an adapter's test registers, each served like
// [Handler]. Everything else must be left to the framework (its 404).
var Routes = []Route{
	{http.MethodGet, "/healthz"},
	{http.MethodHead, "/healthz"},
	{http.MethodGet, "/orders"},
	{http.MethodPost, "/orders"},
}

// SeenBody is what a route answers with, given the number of
// dapr-api-token values its handler sees.
func SeenBody(n int) string { return fmt.Sprintf("seen=%d", n) }

// Handler serves every route in [Routes] for frameworks built on net/http:
// 200 with SeenBody of the dapr-api-token values it sees.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, SeenBody(len(r.Header.Values(apptoken.HeaderName))))
	})
}

// Header is one header line, written on the wire exactly as given.
type Header struct{ Name, Value string }

// Case is one request and what must come of it.
type Case struct {
	Name string
	// Method and Target form the request line, as written on the wire.
	Method, Target string
	// Headers are written as given, after Host and before Content-Length.
	Headers []Header
	// Trailers, when given, are sent as trailer fields after a chunked
	// body: they come after the request's head and must never count.
	Trailers []Header
	// Options are added to the verifier's, after WithTokens(Token).
	Options []apptoken.Option
	// Want is the status the adapter must answer with.
	Want int
	// Decision is the decision the verifier must have reported; zero when
	// the request must not reach the verifier at all.
	Decision apptoken.Decision
	// Seen is, for a 200 with a body, the number of token values the
	// handler must have seen.
	Seen int
	// Malformed marks a request that the framework may refuse on its own
	// with a 4xx other than 404, or by closing the connection: before the
	// middleware, or after it rejected what the framework made of the
	// request, never after it let it through. Anything the middleware
	// answers must still be Want.
	Malformed bool
}

func tok(v string) []Header { return []Header{{"Dapr-Api-Token", v}} }

// Mode is what the verifier under test accepts: plain tokens ([Plain]), or
// signed ones (the apptokenjwt module's jwttest.Mode), so that the whole
// table runs against either.
type Mode struct {
	// Name names the mode.
	Name string
	// Token is the right token: what the cases send to be accepted.
	Token string
	// Options make a verifier accept Token; a case's options come after.
	Options []apptoken.Option
	// Wrong are the decisions that a wrong value may get in this mode:
	// Mismatch for plain tokens; a matcher says why it refused one.
	Wrong []apptoken.Decision
}

// Plain is the mode of plain tokens: the verifier accepts [Token].
var Plain = Mode{
	Name:    "plain",
	Token:   Token,
	Options: []apptoken.Option{apptoken.WithTokens(Token)},
	Wrong:   []apptoken.Decision{apptoken.Mismatch},
}

// Agrees reports whether got is the decision want stands for in m: want
// itself, or, when want is Mismatch (a wrong value), one of m.Wrong.
func (m Mode) Agrees(want, got apptoken.Decision) bool {
	return got == want || want == apptoken.Mismatch && slices.Contains(m.Wrong, got)
}

// NewVerifier returns a verifier of mode m, with opts after the mode's
// options, without logging events, closed when tb ends.
func (m Mode) NewVerifier(tb testing.TB, opts ...apptoken.Option) *apptoken.Verifier {
	tb.Helper()
	all := append(slices.Clone(m.Options), apptoken.WithEventLog(nil))
	v, err := apptoken.New(append(all, opts...)...)
	if err != nil {
		tb.Fatalf("apptoken.New (%s): %v", m.Name, err)
	}
	tb.Cleanup(func() { _ = v.Close() })
	return v
}

// Cases returns the table of [Plain]. Every case is a fresh copy.
func Cases() []Case { return Plain.Cases() }

// Cases returns the table, with m.Token as the right token. Every case is
// a fresh copy.
func (m Mode) Cases() []Case {
	const post, get, head = http.MethodPost, http.MethodGet, http.MethodHead
	const ok, denied = http.StatusOK, http.StatusUnauthorized
	const acc, ex, miss, inv = apptoken.Accepted, apptoken.Exempt, apptoken.Missing, apptoken.Mismatch
	const long, many = apptoken.TooLong, apptoken.TooManyValues
	token := m.Token
	lookalike := lookalikeOf(token)
	hundred := make([]Header, 100)
	for i := range hundred {
		hundred[i] = Header{"Dapr-Api-Token", WrongToken}
	}
	fiveRight := make([]Header, apptoken.MaxValues+1)
	for i := range fiveRight {
		fiveRight[i] = Header{"Dapr-Api-Token", token}
	}
	return []Case{
		// The token itself.
		{Name: "missing", Method: post, Target: "/orders", Want: denied, Decision: miss},
		{Name: "wrong", Method: post, Target: "/orders", Headers: tok(WrongToken), Want: denied, Decision: inv},
		{Name: "right", Method: post, Target: "/orders", Headers: tok(token), Want: ok, Decision: acc},
		{Name: "right GET", Method: get, Target: "/orders", Headers: tok(token), Want: ok, Decision: acc},
		{Name: "header name lower case", Method: post, Target: "/orders", Headers: []Header{{"dapr-api-token", token}}, Want: ok, Decision: acc},
		{Name: "header name upper case", Method: post, Target: "/orders", Headers: []Header{{"DAPR-API-TOKEN", token}}, Want: ok, Decision: acc},
		{Name: "header name mixed case", Method: post, Target: "/orders", Headers: []Header{{"dApR-aPi-ToKeN", token}}, Want: ok, Decision: acc},
		{Name: "two values, second right", Method: post, Target: "/orders", Headers: []Header{{"Dapr-Api-Token", WrongToken}, {"Dapr-Api-Token", token}}, Want: ok, Decision: acc},
		{Name: "two values, first right", Method: post, Target: "/orders", Headers: []Header{{"Dapr-Api-Token", token}, {"Dapr-Api-Token", DaprAPIToken}}, Want: ok, Decision: acc},
		{Name: "two values in two spellings, one right", Method: post, Target: "/orders", Headers: []Header{{"dapr-api-token", WrongToken}, {"Dapr-Api-Token", token}}, Want: ok, Decision: acc},
		{Name: "two values, both wrong", Method: post, Target: "/orders", Headers: []Header{{"Dapr-Api-Token", WrongToken}, {"Dapr-Api-Token", DaprAPIToken}}, Want: denied, Decision: inv},
		{Name: "prefix of the token", Method: post, Target: "/orders", Headers: tok(token[:len(token)-1]), Want: denied, Decision: inv},
		{Name: "token plus one byte", Method: post, Target: "/orders", Headers: tok(token + "A"), Want: denied, Decision: inv},
		{Name: "Bearer token", Method: post, Target: "/orders", Headers: tok("Bearer " + token), Want: denied, Decision: inv},
		{Name: "token case-folded", Method: post, Target: "/orders", Headers: tok(strings.ToLower(token)), Want: denied, Decision: inv},
		{Name: "unicode look-alike", Method: post, Target: "/orders", Headers: tok(lookalike), Want: denied, Decision: inv},
		{Name: "Dapr API token instead of app token", Method: post, Target: "/orders", Headers: tok(DaprAPIToken), Want: denied, Decision: inv},
		{Name: "token split across two headers", Method: post, Target: "/orders", Headers: []Header{{"Dapr-Api-Token", token[:20]}, {"Dapr-Api-Token", token[20:]}}, Want: denied, Decision: inv},
		{Name: "token and garbage in one comma list", Method: post, Target: "/orders", Headers: tok(WrongToken + ", " + token), Want: denied, Decision: inv},
		{Name: "token in Authorization", Method: post, Target: "/orders", Headers: []Header{{"Authorization", "Bearer " + token}}, Want: denied, Decision: miss},
		{Name: "token in query string", Method: post, Target: "/orders?dapr-api-token=" + token, Want: denied, Decision: miss},
		{Name: "empty value", Method: post, Target: "/orders", Headers: tok(""), Want: denied, Decision: miss},
		{Name: "blank value", Method: post, Target: "/orders", Headers: tok("   "), Want: denied, Decision: miss},
		{Name: "spaces around the token", Method: post, Target: "/orders", Headers: tok("  " + token + "  "), Want: ok, Decision: acc},
		{Name: "non-UTF-8 value", Method: post, Target: "/orders", Headers: tok("\xff\xfe" + token), Want: denied, Decision: inv},
		{Name: "NUL after the token", Method: post, Target: "/orders", Headers: tok(token + "\x00"), Want: denied, Decision: inv, Malformed: true},
		{Name: "NUL inside the token", Method: post, Target: "/orders", Headers: tok(token[:10] + "\x00" + token[10:]), Want: denied, Decision: inv, Malformed: true},
		{Name: "control byte in the value", Method: post, Target: "/orders", Headers: tok(token + "\x07"), Want: denied, Decision: inv, Malformed: true},
		{Name: "bare CR in the value", Method: post, Target: "/orders", Headers: tok(token[:10] + "\r" + token[10:]), Want: denied, Decision: inv, Malformed: true},
		{Name: "bare LF splitting the value", Method: post, Target: "/orders", Headers: tok(token[:10] + "\n" + token[10:]), Want: denied, Decision: inv, Malformed: true},
		{Name: "more values than MaxValues, all right", Method: post, Target: "/orders", Headers: fiveRight, Want: denied, Decision: many},
		{Name: "100 header lines", Method: post, Target: "/orders", Headers: hundred, Want: denied, Decision: many},
		{Name: "64 KiB value", Method: post, Target: "/orders", Headers: tok(strings.Repeat("A", 64<<10)), Want: denied, Decision: long},
		{Name: "1 MiB value", Method: post, Target: "/orders", Headers: tok(strings.Repeat("A", 1<<20)), Want: denied, Decision: long, Malformed: true},
		{Name: "token followed by 64 KiB", Method: post, Target: "/orders", Headers: tok(token + strings.Repeat("A", 64<<10)), Want: denied, Decision: long},

		// Only fields of the request's head count: a trailer comes after
		// the body, which the middleware must not wait for (fasthttp
		// merges trailer fields into the headers unless told otherwise).
		{Name: "right token in a trailer", Method: post, Target: "/orders", Trailers: tok(token), Want: denied, Decision: miss},
		{Name: "wrong header, right trailer", Method: post, Target: "/orders", Headers: tok(WrongToken), Trailers: tok(token), Want: denied, Decision: inv},
		{Name: "right header, wrong trailer", Method: post, Target: "/orders", Headers: tok(token), Trailers: tok(WrongToken), Want: ok, Decision: acc},

		// Methods.
		{Name: "OPTIONS without token", Method: http.MethodOptions, Target: "/orders", Want: denied, Decision: miss},
		{Name: "HEAD on a protected route", Method: head, Target: "/orders", Want: denied, Decision: miss},
		{Name: "unknown method", Method: "BREW", Target: "/orders", Want: denied, Decision: miss, Malformed: true},
		{Name: "lower-case get on /healthz", Method: "get", Target: "/healthz", Want: denied, Decision: miss, Malformed: true},

		// Exemptions: exact method and path only.
		{Name: "GET /healthz without token", Method: get, Target: "/healthz", Want: ok, Decision: ex},
		{Name: "HEAD /healthz without token", Method: head, Target: "/healthz", Want: ok, Decision: ex},
		{Name: "GET /healthz with a query", Method: get, Target: "/healthz?probe=1", Want: ok, Decision: ex},
		{Name: "GET /healthz with a wrong token", Method: get, Target: "/healthz", Headers: tok(WrongToken), Want: ok, Decision: ex},
		{Name: "POST /healthz", Method: post, Target: "/healthz", Want: denied, Decision: miss},
		{Name: "trailing slash", Method: get, Target: "/healthz/", Want: denied, Decision: miss},
		{Name: "case-folded path", Method: get, Target: "/Healthz", Want: denied, Decision: miss},
		{Name: "upper-case path", Method: get, Target: "/HEALTHZ", Want: denied, Decision: miss},
		{Name: "double slash", Method: get, Target: "//healthz", Want: denied, Decision: miss},
		{Name: "dot segment", Method: get, Target: "/healthz/../orders", Want: denied, Decision: miss},
		{Name: "leading dot segment", Method: get, Target: "/./healthz", Want: denied, Decision: miss},
		{Name: "percent-encoded letter", Method: get, Target: "/%68ealthz", Want: denied, Decision: miss},
		{Name: "percent-encoded slash", Method: get, Target: "%2Fhealthz", Want: denied, Decision: miss, Malformed: true},
		{Name: "encoded dot segment", Method: get, Target: "/healthz/%2e%2e/orders", Want: denied, Decision: miss},
		{Name: "path parameter", Method: get, Target: "/healthz;x=1", Want: denied, Decision: miss},
		{Name: "control byte after the path", Method: head, Target: "/healthz#\a", Want: denied, Decision: miss, Malformed: true},
		{Name: "prefix of the path", Method: get, Target: "/health", Want: denied, Decision: miss},
		{Name: "path extended", Method: get, Target: "/healthzz", Want: denied, Decision: miss},
		{Name: "default exemptions removed", Method: get, Target: "/healthz", Options: []apptoken.Option{apptoken.WithoutDefaultExemptions()}, Want: denied, Decision: miss},
		{Name: "added exemption", Method: get, Target: "/orders", Options: []apptoken.Option{apptoken.WithExemptions(apptoken.Exemption{Method: get, Path: "/orders"})}, Want: ok, Decision: ex},
		{Name: "added exemption keeps /healthz", Method: get, Target: "/healthz", Options: []apptoken.Option{apptoken.WithExemptions(apptoken.Exemption{Method: get, Path: "/orders"})}, Want: ok, Decision: ex},
		{Name: "only the added exemption", Method: get, Target: "/healthz", Options: []apptoken.Option{apptoken.WithExemptions(apptoken.Exemption{Method: get, Path: "/orders"}), apptoken.WithoutDefaultExemptions()}, Want: denied, Decision: miss},

		// Unrouted paths are checked before the framework's 404.
		{Name: "unrouted path without token", Method: get, Target: "/no/such/route", Want: denied, Decision: miss},
		{Name: "unrouted path with wrong token", Method: post, Target: "/admin", Headers: tok(WrongToken), Want: denied, Decision: inv},
		{Name: "unrouted method without token", Method: http.MethodDelete, Target: "/orders", Want: denied, Decision: miss},

		// Options.
		{Name: "keep header", Method: post, Target: "/orders", Headers: tok(token), Options: []apptoken.Option{apptoken.WithKeepHeader()}, Want: ok, Decision: acc, Seen: 1},
		{Name: "rotation: next token", Method: post, Target: "/orders", Headers: tok(NextToken), Options: []apptoken.Option{apptoken.WithTokens(NextToken)}, Want: ok, Decision: acc},
		{Name: "rotation: old token still", Method: post, Target: "/orders", Headers: tok(token), Options: []apptoken.Option{apptoken.WithTokens(NextToken)}, Want: ok, Decision: acc},
		{Name: "JWT-shaped token", Method: post, Target: "/orders", Headers: tok(JWTToken), Options: []apptoken.Option{apptoken.WithTokens(JWTToken)}, Want: ok, Decision: acc},
		{Name: "JWT-shaped token truncated", Method: post, Target: "/orders", Headers: tok(JWTToken[:len(JWTToken)-1]), Options: []apptoken.Option{apptoken.WithTokens(JWTToken)}, Want: denied, Decision: inv},
	}
}

// lookalikeOf replaces the first of some Latin letters in s by its
// Cyrillic twin.
func lookalikeOf(s string) string {
	for _, r := range []struct{ latin, cyrillic string }{{"o", "\u043e"}, {"e", "\u0435"}, {"a", "\u0430"}, {"c", "\u0441"}} {
		if strings.Contains(s, r.latin) {
			return strings.Replace(s, r.latin, r.cyrillic, 1)
		}
	}
	panic("conformance: no letter to replace in the token")
}

// Allowed is the oracle of fuzz targets: whether a request to a server set
// up as [Run] sets it up (the verifier accepts [Token], default exemptions)
// must be let through, given its method, its path exactly as sent (without
// the query) and the values of its dapr-api-token header. It writes out the
// documented rules independently of the core's code: GET or HEAD on exactly
// /healthz, or at most MaxValues values, none longer than MaxTokenLength,
// one of which equals the token.
func Allowed(method, path string, values []string) bool {
	if (method == http.MethodGet || method == http.MethodHead) && path == "/healthz" {
		return true
	}
	if len(values) > apptoken.MaxValues {
		return false
	}
	match := false
	for _, v := range values {
		if len(v) > apptoken.MaxTokenLength {
			return false
		}
		match = match || v == Token
	}
	return match
}

// Shape is a token shape the adapters' benchmarks measure: a token and a
// wrong value of the same length.
type Shape struct{ Name, Token, Wrong string }

// Shapes are the token shapes of the adapters' BenchmarkMiddleware: what
// `openssl rand -base64 32` gives, and a JWT-shaped token.
var Shapes = []Shape{
	{"43B", Token, WrongToken},
	{"jwt", JWTToken, JWTToken[:len(JWTToken)-1] + "x"},
}

// NewVerifier returns a verifier accepting token, with opts, without the
// default event hook (which would log a JWT-shaped token's expiry), closed
// when tb ends. It is what adapters' tests and benchmarks build on.
func NewVerifier(tb testing.TB, token string, opts ...apptoken.Option) *apptoken.Verifier {
	tb.Helper()
	m := Mode{Name: "plain", Options: []apptoken.Option{apptoken.WithTokens(token)}}
	return m.NewVerifier(tb, opts...)
}

// CheckNetHTTP is the body of a fuzz target for an adapter built on
// net/http. It parses a request from the fuzzed method, target and one or
// two token values the way the net/http server does, serves it with h (the
// framework's router with the adapter in front, every path and method
// routed to [Handler]) and checks it against [Allowed]: 200 and an
// untouched-by-the-token handler when allowed, 401 with the standard
// rejection otherwise, and exactly one decision counted in decisions
// (which the verifier's decision hook increments). Requests net/http
// refuses, or targets not in origin form, are skipped.
func CheckNetHTTP(t *testing.T, h http.Handler, decisions *atomic.Int64, method, target, value, second string) {
	t.Helper()
	raw := method + " " + target + " HTTP/1.1\r\nHost: example.test\r\nDapr-Api-Token: " + value + "\r\n"
	if second != "" {
		raw += "Dapr-Api-Token: " + second + "\r\n"
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
	if err != nil || !strings.HasPrefix(req.RequestURI, "/") {
		return // refused by net/http before any handler, or not origin-form
	}
	path, _, _ := strings.Cut(req.RequestURI, "?")
	want := Allowed(req.Method, path, req.Header.Values(apptoken.HeaderName))

	decisions.Store(0)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if n := decisions.Load(); n != 1 {
		t.Errorf("the verifier decided %d times, want once", n)
	}
	switch {
	case want && rec.Code != http.StatusOK:
		t.Fatalf("%q %q: status %d, want 200; body %q", req.Method, req.RequestURI, rec.Code, rec.Body)
	case want && req.Method != http.MethodHead && rec.Body.String() != SeenBody(0):
		t.Fatalf("%q %q: handler answered %q, want %q", req.Method, req.RequestURI, rec.Body, SeenBody(0))
	case !want && (rec.Code != http.StatusUnauthorized || rec.Body.String() != apptoken.RejectionBody):
		t.Fatalf("%q %q: status %d %q, want 401 and the standard rejection", req.Method, req.RequestURI, rec.Code, rec.Body)
	}
}

// Rejecter says how the adapter under test must answer rejected requests.
type Rejecter int

const (
	// StandardRejection: the adapter's middleware without options.
	StandardRejection Rejecter = iota
	// CustomRejection: with the adapter's WithErrorHandler, given a handler
	// that answers 401 with the body [CustomBody] of the decision, the
	// framework's way, and returns no error.
	CustomRejection
	// SilentRejection: with the adapter's WithErrorHandler, given a handler
	// that writes nothing and returns no error. The adapter must then write
	// the standard rejection, so that a forgetful handler never turns a
	// rejection into the framework's default 200 (or 404).
	SilentRejection
)

// CustomBody is what the handler of [CustomRejection] answers with.
func CustomBody(d apptoken.Decision) string { return "custom " + d.String() }

// StartFunc starts the framework under test with the adapter's middleware
// built on v, answering rejections as r says, in front of [Routes] (each
// served like [Handler]), listening on loopback, and returns the listener's
// host:port. It stops the server with t.Cleanup.
type StartFunc func(t *testing.T, v *apptoken.Verifier, r Rejecter) (addr string)

// Run runs [RunMode] with [Plain].
func Run(t *testing.T, start StartFunc) {
	t.Helper()
	RunMode(t, Plain, start)
}

// RunMode runs every case of m.Cases against servers made by start, then
// the error-handler cases: a custom handler's answer reaches the client
// with the decision it was given, and a handler that writes nothing
// leaves the standard rejection.
func RunMode(t *testing.T, m Mode, start StartFunc) {
	t.Helper()
	for _, c := range m.Cases() {
		t.Run(c.Name, func(t *testing.T) { RunCase(t, m, start, c) })
	}
	t.Run("error handler", func(t *testing.T) { runRejecters(t, m, start) })
}

// RunCase runs one case in mode m: a fresh verifier and server, the
// request, the checks, and a valid request afterwards to show the server
// lives on.
func RunCase(t *testing.T, m Mode, start StartFunc, c Case) {
	t.Helper()
	rec := &recorder{}
	v := m.NewVerifier(t, append([]apptoken.Option{apptoken.WithDecisionHook(rec.add)}, c.Options...)...)
	addr := start(t, v, StandardRejection)

	resp, body, err := SendRequest(addr, c.Method, c.Target, c.Headers, c.Trailers)
	got := rec.take()

	for _, secret := range []string{m.Token, NextToken, JWTToken} {
		if len(body) > 0 && bytes.Contains(body, []byte(secret)) {
			t.Errorf("response body contains an accepted token")
		}
	}
	switch {
	case err != nil && c.Malformed:
		t.Logf("the framework closed the connection without a response: %v", err)
	case err != nil:
		t.Fatalf("request: %v", err)
	case c.Malformed && resp.StatusCode != c.Want:
		if resp.StatusCode < 400 || resp.StatusCode > 499 || resp.StatusCode == http.StatusNotFound {
			t.Errorf("status %d for a malformed request: want %d or the framework's own 4xx (not 404)", resp.StatusCode, c.Want)
		}
		for _, d := range got {
			if d.Allowed() {
				t.Errorf("the framework refused the request with %d, but only after the verifier let it through (%v)", resp.StatusCode, got)
			}
		}
	default:
		checkResponse(t, c, resp, body)
		switch {
		case c.Decision == 0:
		case len(got) != 1:
			t.Errorf("verifier decided %d times (%v), want once", len(got), got)
		case !m.Agrees(c.Decision, got[0]):
			t.Errorf("decision %v, want %v", got[0], c.Decision)
		}
	}

	// The server lives on and still tells right from wrong.
	if resp, body, err := Send(addr, http.MethodPost, "/orders", tok(m.Token)); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("server no longer accepts a valid request: %v %v %q", err, statusOf(resp), body)
	}
	if resp, _, err := Send(addr, http.MethodPost, "/orders", nil); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("server no longer rejects a request without token: %v %v", err, statusOf(resp))
	}
}

// recorder keeps the decisions a verifier's hook reports.
type recorder struct {
	mu sync.Mutex
	ds []apptoken.Decision
}

func (r *recorder) add(d apptoken.Decision, _, _ string) {
	r.mu.Lock()
	r.ds = append(r.ds, d)
	r.mu.Unlock()
}

// take returns the decisions so far and forgets them.
func (r *recorder) take() []apptoken.Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.ds
	r.ds = nil
	return got
}

func runRejecters(t *testing.T, m Mode, start StartFunc) {
	wrong := m.Wrong[0] // what WrongToken, of no shape but a plain token's, gets
	requests := []struct {
		name, method, target string
		headers              []Header
		want                 apptoken.Decision
	}{
		{"missing", http.MethodPost, "/orders", nil, apptoken.Missing},
		{"wrong", http.MethodPost, "/orders", tok(WrongToken), wrong},
		{"unrouted, wrong", http.MethodPost, "/no/route", tok(WrongToken), wrong},
		{"HEAD, missing", http.MethodHead, "/orders", nil, apptoken.Missing},
	}
	for _, r := range []Rejecter{CustomRejection, SilentRejection} {
		rec := &recorder{}
		addr := start(t, m.NewVerifier(t, apptoken.WithDecisionHook(rec.add)), r)
		for _, q := range requests {
			resp, body, err := Send(addr, q.method, q.target, q.headers)
			if err != nil {
				t.Fatalf("rejecter %d, %s: %v", r, q.name, err)
			}
			if got := rec.take(); len(got) != 1 || got[0] != q.want {
				t.Errorf("rejecter %d, %s: decisions %v, want [%v]", r, q.name, got, q.want)
			}
			want := apptoken.RejectionBody
			if r == CustomRejection {
				want = CustomBody(q.want)
			}
			if q.method == http.MethodHead {
				want = ""
			}
			if resp.StatusCode != http.StatusUnauthorized || string(body) != want {
				t.Errorf("rejecter %d, %s: %d %q, want 401 %q", r, q.name, resp.StatusCode, body, want)
			}
			if r == SilentRejection && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("rejecter %d, %s: Cache-Control %q, want no-store", r, q.name, resp.Header.Get("Cache-Control"))
			}
		}
		if resp, body, err := Send(addr, http.MethodPost, "/orders", tok(m.Token)); err != nil || resp.StatusCode != http.StatusOK || string(body) != SeenBody(0) {
			t.Errorf("rejecter %d: valid request: %v %v %q", r, err, statusOf(resp), body)
		}
		if got := rec.take(); len(got) != 1 || got[0] != apptoken.Accepted {
			t.Errorf("rejecter %d: valid request decided %v", r, got)
		}
	}
}

// PanicsOnNil checks that build, which makes the adapter's middleware with
// a nil verifier, panics at once with a message that names the mistake:
// a nil verifier is a programming error, not something to find out from a
// 401 on every request.
func PanicsOnNil(t *testing.T, build func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, _ := r.(string)
		if err, ok := r.(error); ok {
			msg = err.Error()
		}
		if r == nil || !strings.Contains(msg, "nil") || !strings.Contains(msg, "apptoken.New") {
			t.Errorf("building with a nil verifier: recovered %v; want a panic that says the verifier is nil and to use apptoken.New", r)
		}
	}()
	build()
}

func statusOf(r *http.Response) any {
	if r == nil {
		return "no response"
	}
	return r.StatusCode
}

func checkResponse(t *testing.T, c Case, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != c.Want {
		t.Fatalf("status %d, want %d; body %q", resp.StatusCode, c.Want, truncate(body))
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, apptoken.RejectionContentType) {
			t.Errorf("Content-Type %q, want %q", ct, apptoken.RejectionContentType)
		}
		if c.Method != http.MethodHead && string(body) != apptoken.RejectionBody {
			t.Errorf("body %q, want %q", truncate(body), apptoken.RejectionBody)
		}
	case resp.StatusCode == http.StatusOK && c.Method != http.MethodHead:
		if want := SeenBody(c.Seen); string(body) != want {
			t.Errorf("handler answered %q, want %q", truncate(body), want)
		}
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// Send writes one HTTP/1.1 request as raw bytes on a new connection to
// addr and reads the response. Headers are written exactly as given. A
// POST carries a small JSON body.
func Send(addr, method, target string, headers []Header) (*http.Response, []byte, error) {
	return SendRequest(addr, method, target, headers, nil)
}

// SendRequest is [Send] with trailer fields: when trailers are given, the
// body is sent chunked and followed by them.
func SendRequest(addr, method, target string, headers, trailers []Header) (*http.Response, []byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))

	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, addr)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
	}
	reqBody := ""
	if method == http.MethodPost {
		reqBody = `{"id":1}`
	}
	if len(trailers) > 0 {
		fmt.Fprintf(&b, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
		if reqBody != "" {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(reqBody), reqBody)
		}
		b.WriteString("0\r\n")
		for _, h := range trailers {
			fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
		}
		b.WriteString("\r\n")
	} else {
		fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(reqBody), reqBody)
	}

	// Write in the background: a server may answer and close before it has
	// read a large request.
	werr := make(chan error, 1)
	go func() {
		_, err := conn.Write(b.Bytes())
		werr <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		if we := <-werr; we != nil {
			return nil, nil, fmt.Errorf("write: %w; read: %w", we, err)
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, body, err
}

// CheckAllocs checks that an accepted request costs no more allocations
// through with, a router with the adapter's middleware in front of POST
// /orders, than through without, the same router with a middleware that
// only calls the next handler. Both are driven with one reused request
// carrying [Token], and with must take the header off it. It is skipped
// under the race detector, which makes allocation counts meaningless.
func CheckAllocs(t *testing.T, with, without http.Handler) {
	t.Helper()
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	req := httptest.NewRequest(http.MethodPost, "/orders", nil)
	w := discardWriter{h: http.Header{}}
	value := []string{Token}
	run := func(h http.Handler) float64 {
		return testing.AllocsPerRun(200, func() {
			req.Header["Dapr-Api-Token"] = value
			clear(w.h)
			h.ServeHTTP(w, req)
		})
	}
	base, got := run(without), run(with)
	t.Logf("allocations per accepted request: %v with the middleware, %v with a pass-through one", got, base)
	if got > base {
		t.Errorf("the middleware adds %v allocations per accepted request over a pass-through middleware", got-base)
	}
	if req.Header.Values(apptoken.HeaderName) != nil {
		t.Errorf("the token header is still on the accepted request")
	}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header       { return d.h }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

// RunEndToEnd is the body of an adapter's BenchmarkEndToEnd: what users
// feel. It starts two servers on loopback listeners, "bare" (start(b,
// false): the routes alone) and "apptoken" (start(b, true): the adapter's
// middleware in front, accepting [Token]), and times POST /orders with the
// token on each, sent by a real net/http client over one keep-alive
// connection per server, response read whole. Both connections are made
// and warmed before either is timed, so that the one timed first is not
// the one that pays for a cold start. A third sub-benchmark, "paired",
// alternates one request to each server and reports the metric
// apptoken/bare, the ratio of their median times within the same loop,
// free of the machine's drift between two loops (see [PairedEndToEnd]). start
// stops its server with b.Cleanup.
func RunEndToEnd(b *testing.B, start func(b *testing.B, protect bool) (addr string)) {
	type target struct {
		name string
		do   func()
	}
	var targets []target
	for _, c := range []struct {
		name    string
		protect bool
	}{{"bare", false}, {"apptoken", true}} {
		addr := start(b, c.protect)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
		b.Cleanup(client.CloseIdleConnections)
		url := "http://" + addr + "/orders"
		body := strings.NewReader(`{"id":1}`)
		do := func() {
			body.Reset(`{"id":1}`)
			req, err := http.NewRequest(http.MethodPost, url, body)
			if err != nil {
				b.Fatal(err)
			}
			req.Header["Dapr-Api-Token"] = []string{Token}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: status %d, want 200", c.name, resp.StatusCode)
			}
		}
		targets = append(targets, target{c.name, do})
	}
	for range 200 {
		for _, t := range targets {
			t.do()
		}
	}
	for _, t := range targets {
		b.Run(t.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t.do()
			}
		})
	}
	b.Run("paired", func(b *testing.B) { PairedEndToEnd(b, targets[0].do, targets[1].do) })
}

// PairedEndToEnd is the "paired" sub-benchmark of [RunEndToEnd], for
// adapters that make their own requests (gRPC): each iteration calls bare
// and protected once, in turns which goes first, timing each, and the
// benchmark reports apptoken/bare, the ratio of the two medians. Noise
// that drifts over time falls on both alike, and the medians leave out the
// requests that a garbage collection or the scheduler happened to stall.
func PairedEndToEnd(b *testing.B, bare, protected func()) {
	var took [2][]time.Duration
	calls := [2]func(){bare, protected}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for k := range 2 {
			j := (i + k) & 1
			t0 := time.Now()
			calls[j]()
			took[j] = append(took[j], time.Since(t0))
		}
	}
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	b.ReportMetric(med(took[1])/med(took[0]), "apptoken/bare")
}
