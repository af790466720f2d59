package apptoken_test

// Fuzz targets for the three decisions the core makes on outside input: is
// a presented value an accepted token (FuzzVerify), what tokens do the
// sources yield (FuzzTokenSources), is a request exempt (FuzzExempt). Each
// checks its answers against a model written here from the documented
// rules, not against the core's own helpers, so a property, not just the
// absence of a panic, is asserted for every input.
//
// `go test` runs the seeds in testdata/fuzz/<Target>/; `make fuzz` fuzzes.

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// modelNormalize is the documented rule for a configured token: surrounding
// spaces, tabs, CRs and LFs are trimmed; what remains must be non-empty, at
// most MaxTokenLength bytes, and free of control characters (bytes below
// 0x20, and DEL).
func modelNormalize(s string) (string, bool) {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	t := s[i:j]
	if t == "" || len(t) > apptoken.MaxTokenLength {
		return "", false
	}
	for k := 0; k < len(t); k++ {
		if t[k] < 0x20 || t[k] == 0x7f {
			return "", false
		}
	}
	return t, true
}

// modelDecide is the documented decision on presented values, given the
// accepted (normalised) tokens: more than MaxValues values, or any longer
// than MaxTokenLength, is invalid before anything is compared; no value or
// only empty ones is missing; a value byte-equal to a token is accepted.
// Presented values are not trimmed or otherwise changed.
func modelDecide(values, tokens []string) apptoken.Decision {
	if len(values) > apptoken.MaxValues {
		return apptoken.TooManyValues
	}
	present := false
	for _, v := range values {
		if len(v) > apptoken.MaxTokenLength {
			return apptoken.TooLong
		}
		present = present || v != ""
	}
	if !present {
		return apptoken.Missing
	}
	for _, v := range values {
		if slices.Contains(tokens, v) {
			return apptoken.Accepted
		}
	}
	return apptoken.Mismatch
}

// checkDecisions asserts that every entry point decides values as the
// model does on a route that is not exempt.
func checkDecisions(t *testing.T, v *apptoken.Verifier, values, tokens []string) {
	t.Helper()
	want := modelDecide(values, tokens)
	if got := v.Verify("POST", "/orders", values); got != want {
		t.Fatalf("Verify(%d values) = %v, want %v", len(values), got, want)
	}
	if got := v.VerifyGRPC("/orders.Orders/Create", values); got != want {
		t.Fatalf("VerifyGRPC(%d values) = %v, want %v", len(values), got, want)
	}
	r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/orders"}, Header: http.Header{}}
	if values != nil {
		r.Header[http.CanonicalHeaderKey(apptoken.HeaderName)] = slices.Clone(values)
	}
	if got := v.Admit(r); got != want {
		t.Fatalf("Admit(%d values) = %v, want %v", len(values), got, want)
	}
	if _, kept := r.Header[http.CanonicalHeaderKey(apptoken.HeaderName)]; want.Allowed() && kept {
		t.Fatal("an accepted request keeps its token header")
	}
}

// FuzzVerify fuzzes the configured tokens and the presented values: the
// request is accepted exactly when one of at most MaxValues values, none
// too long, is byte-equal to a configured token after normalisation; New
// fails exactly when a configured token breaks the rules; nothing panics.
//
// n selects how many values are presented (n%6, so up to one more than
// MaxValues) and, with its top bit, whether a second token is configured.
// Bit i of same makes value i a copy of a normalised token, so that
// accepted requests are reached as often as rejected ones. pad lengthens
// tok1 (bit 15) and v1 (bit 14) by its low 13 bits' worth of 'A's, so that
// lengths around MaxTokenLength are reached with small inputs (the fuzzer
// is slow to mutate, and very slow to minimise, kilobyte-long strings).
func FuzzVerify(f *testing.F) {
	f.Add("wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M", "", uint8(1), uint8(1), uint16(0), "", "", "", "", "")
	f.Add("  token-one\n", "token-two", uint8(0x82), uint8(0), uint16(0), "token-one", "token-two", "", "", "")
	f.Fuzz(func(t *testing.T, tok1, tok2 string, n, same uint8, pad uint16, v1, v2, v3, v4, v5 string) {
		tok1 = lengthen(tok1, pad, 0x8000)
		v1 = lengthen(v1, pad, 0x4000)
		configured := []string{tok1}
		if n&0x80 != 0 {
			configured = append(configured, tok2)
		}
		var normalised []string
		valid := true
		for _, c := range configured {
			nt, ok := modelNormalize(c)
			valid = valid && ok
			normalised = append(normalised, nt)
		}
		v, err := apptoken.New(apptoken.WithTokens(configured...), apptoken.WithEventLog(nil))
		if (err == nil) != valid {
			t.Fatalf("New with tokens %q: error %v, but the rules say valid = %v", configured, err, valid)
		}
		if err != nil {
			if v != nil {
				t.Fatal("New returned a verifier with its error")
			}
			if !errors.Is(err, apptoken.ErrNoToken) && !errors.Is(err, apptoken.ErrInvalidToken) {
				t.Fatalf("New: %v is neither ErrNoToken nor ErrInvalidToken", err)
			}
			return
		}
		defer v.Close()

		count := int(n&0x7f) % (apptoken.MaxValues + 2)
		all := []string{v1, v2, v3, v4, v5}
		var values []string
		for i := range count {
			val := all[i]
			if same&(1<<i) != 0 {
				val = normalised[i%len(normalised)]
			}
			values = append(values, val)
		}
		checkDecisions(t, v, values, normalised)
		// The raw configured token is accepted exactly when trimming left
		// it unchanged.
		checkDecisions(t, v, []string{tok1}, normalised)
	})
}

// lengthen appends pad's low 13 bits' worth of 'A's to s when pad has bit.
func lengthen(s string, pad, bit uint16) string {
	if pad&bit == 0 {
		return s
	}
	return s + strings.Repeat("A", int(pad&0x1fff))
}

// modelFile is the documented rule for a token file: at most 1 MiB; one
// token per line (lines end at LF), each normalised like any token; blank
// lines ignored; at least one token; duplicates count once.
func modelFile(data []byte) ([]string, bool) {
	if len(data) > 1<<20 {
		return nil, false
	}
	var toks []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Trim(line, " \t\r\n") == "" {
			continue
		}
		tok, ok := modelNormalize(line)
		if !ok {
			return nil, false
		}
		if !slices.Contains(toks, tok) {
			toks = append(toks, tok)
		}
	}
	return toks, len(toks) > 0
}

// FuzzTokenSources fuzzes the value of an environment variable and the
// content of a token file: New succeeds exactly when the rules allow, for
// each source alone and for both together, and then accepts exactly the
// tokens the rules yield: each of them, and of the fuzzed probe, the raw
// variable and near misses, exactly those that are among them.
//
// pad lengthens the variable (bit 15) and the file's first line (bit 14)
// by its low 13 bits' worth of 'A's, as in FuzzVerify.
func FuzzTokenSources(f *testing.F) {
	const envVar = "APPTOKEN_FUZZ_TOKEN"
	f.Add("wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M\n", []byte("old-token\nnew-token\n"), "new-token", uint16(0))
	f.Add("", []byte(""), "", uint16(0))
	dir := f.TempDir()
	file := filepath.Join(dir, "token")
	f.Fuzz(func(t *testing.T, env string, content []byte, probe string, pad uint16) {
		env = lengthen(env, pad, 0x8000)
		content = []byte(lengthen("", pad, 0x4000) + string(content))
		if strings.ContainsRune(env, 0) {
			env = "" // no environment can hold a NUL; test the file alone
		}
		t.Setenv(envVar, env)
		if err := os.WriteFile(file, content, 0o600); err != nil {
			t.Fatal(err)
		}
		envTok, envOK := modelNormalize(env)
		fileToks, fileOK := modelFile(content)

		check := func(name string, want []string, ok bool, sources ...apptoken.Source) {
			t.Helper()
			v, err := apptoken.New(apptoken.WithSource(sources...), apptoken.WithEventLog(nil))
			if (err == nil) != ok {
				t.Fatalf("%s: New error %v, but the rules say valid = %v", name, err, ok)
			}
			if err != nil {
				return
			}
			defer v.Close()
			candidates := []string{probe, env, "", strings.ToUpper(probe)}
			for _, tok := range want {
				candidates = append(candidates, tok, tok+"x", " "+tok, tok[:len(tok)-1])
			}
			for _, c := range candidates {
				checkDecisions(t, v, []string{c}, want)
			}
		}
		check("env", []string{envTok}, envOK, apptoken.Env(envVar))
		check("file", fileToks, fileOK, apptoken.File(file))
		both := []string{envTok}
		for _, tok := range fileToks {
			if tok != envTok {
				both = append(both, tok)
			}
		}
		check("env and file", both, envOK && fileOK, apptoken.Env(envVar), apptoken.File(file))
	})
}

// The documented rules for exemptions, written independently of the code.
var (
	validMethod     = regexp.MustCompile(`^[A-Z_-]+$`)
	validPath       = regexp.MustCompile(`^/[^\x00-\x20\x7f?#]*$`)
	validFullMethod = regexp.MustCompile(`^/[^/]+/[^/]+$`)
)

func defaultExemptions() []apptoken.Exemption {
	return []apptoken.Exemption{{Method: "GET", Path: "/healthz"}, {Method: "HEAD", Path: "/healthz"}}
}

var defaultGRPCExemptions = []string{
	"/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck",
	"/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions",
	"/dapr.proto.runtime.v1.AppCallback/ListInputBindings",
	"/grpc.health.v1.Health/Check",
	"/grpc.health.v1.Health/Watch",
}

// FuzzExempt fuzzes a request's method and path and one configured
// exemption: a request is exempt exactly when its method and path are
// byte-equal to a configured exemption's (the defaults, GET and HEAD on
// /healthz, plus the fuzzed one when it is valid); a net/http request is
// exempt only on an exempt path as sent or in its canonical encoding, never
// on one that is cleaned, case-folded or otherwise decoded to it; and gRPC
// methods are exempt exactly when listed as gRPC exemptions.
func FuzzExempt(f *testing.F) {
	f.Add("GET", "/healthz", "GET", "/ready")
	f.Add("GET", "/%68ealthz", "POST", "/x")
	f.Fuzz(func(t *testing.T, method, path, exMethod, exPath string) {
		extra := apptoken.Exemption{Method: exMethod, Path: exPath}
		exValid := validMethod.MatchString(exMethod) && validPath.MatchString(exPath)
		exemptions := append(defaultExemptions(), extra)
		v, err := apptoken.New(apptoken.WithTokens("a-token"), apptoken.WithEventLog(nil),
			apptoken.WithExemptions(extra))
		if (err == nil) != exValid {
			t.Fatalf("WithExemptions(%q %q): error %v, but the rules say valid = %v", exMethod, exPath, err, exValid)
		}
		if err != nil {
			if !errors.Is(err, apptoken.ErrInvalidOption) {
				t.Fatalf("invalid exemption: %v is not ErrInvalidOption", err)
			}
			v, err = apptoken.New(apptoken.WithTokens("a-token"), apptoken.WithEventLog(nil))
			if err != nil {
				t.Fatal(err)
			}
			exemptions = defaultExemptions()
		}
		defer v.Close()

		isExempt := func(m, p string) bool {
			return slices.Contains(exemptions, apptoken.Exemption{Method: m, Path: p})
		}
		want := isExempt(method, path)
		for _, values := range [][]string{nil, {"wrong"}} {
			d := v.Verify(method, path, values)
			if (d == apptoken.Exempt) != want {
				t.Fatalf("Verify(%q, %q): %v, exempt should be %v", method, path, d, want)
			}
			if !want && d.Allowed() {
				t.Fatalf("Verify(%q, %q) without the token: %v", method, path, d)
			}
		}

		// net/http: the target as a client sends it, parsed as a server
		// parses it. Admit compares the path as sent, except that a
		// path sent in its canonical percent-encoding is compared decoded,
		// so that the canonical encoding of an exempt path is exempt too.
		// Hence: exempt only if the path sent is an exempt path or its
		// canonical encoding (nothing else gets through), and exempt if it
		// is the canonical encoding, or the exempt path itself when that
		// holds no percent sign.
		if u, err := url.ParseRequestURI(path); err == nil && strings.HasPrefix(path, "/") {
			raw, _, _ := strings.Cut(path, "?")
			mayBe, mustBe := false, false
			for _, e := range exemptions {
				if e.Method != method {
					continue
				}
				canonical := (&url.URL{Path: e.Path}).EscapedPath()
				mayBe = mayBe || raw == e.Path || raw == canonical
				mustBe = mustBe || raw == canonical || (raw == e.Path && !strings.Contains(e.Path, "%"))
			}
			r := &http.Request{Method: method, URL: u, Header: http.Header{}}
			d := v.Admit(r)
			if exempt := d == apptoken.Exempt; exempt && !mayBe || !exempt && mustBe {
				t.Fatalf("Admit(%q %q): %v (may be exempt: %v, must be: %v)", method, path, d, mayBe, mustBe)
			}
		}

		// gRPC: HTTP exemptions never apply; gRPC ones match exactly.
		d := v.VerifyGRPC(path, nil)
		if (d == apptoken.Exempt) != slices.Contains(defaultGRPCExemptions, path) {
			t.Fatalf("VerifyGRPC(%q) = %v", path, d)
		}
		grpcValid := validFullMethod.MatchString(exPath)
		g, err := apptoken.New(apptoken.WithTokens("a-token"), apptoken.WithEventLog(nil), apptoken.WithGRPCExemptions(exPath))
		if (err == nil) != grpcValid {
			t.Fatalf("WithGRPCExemptions(%q): error %v, but the rules say valid = %v", exPath, err, grpcValid)
		}
		if err == nil {
			defer g.Close()
			if d := g.VerifyGRPC(path, nil); (d == apptoken.Exempt) != (path == exPath || slices.Contains(defaultGRPCExemptions, path)) {
				t.Fatalf("VerifyGRPC(%q) with exemption %q: %v", path, exPath, d)
			}
		}
	})
}
