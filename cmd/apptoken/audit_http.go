package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// httpConfig is what an HTTP audit probes.
type httpConfig struct {
	base       *url.URL // scheme and host only
	paths      []string // "-path" values: "[METHOD ]/path"
	bindings   []string
	actorTypes []string
	token      string // "": none; used only for GET /dapr/subscribe
	timeout    time.Duration
}

// auditName is the made-up name the audit uses where a name is needed (an
// actor type and id, a job, a path no app serves).
const auditName = "apptoken-audit"

// maxListed bounds how many routes are taken from /dapr/subscribe.
const maxListed = 50

// parseBaseURL accepts the app's root URL: http or https, a host, no path.
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: want an http:// or https:// URL, such as http://127.0.0.1:3000", s)
	case u.Host == "":
		return nil, fmt.Errorf("%q: no host", s)
	case u.User != nil:
		return nil, fmt.Errorf("%q: no user information, please", s)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return nil, fmt.Errorf("%q: give the app's root URL, without a path or query (use -path for more paths)", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// httpVariants are the ways of (not) presenting a token; wrong is a random
// token no app accepts.
func httpVariants(wrong string) []variant {
	h := headerName
	return []variant{
		{"no token", nil},
		{"empty", [][2]string{{h, ""}}},
		{"wrong", [][2]string{{h, wrong}}},
		{"Bearer", [][2]string{{h, "Bearer " + wrong}}},
		{"Authorization", [][2]string{{"Authorization", "Bearer " + wrong}}},
		{"DAPR-API-TOKEN", [][2]string{{strings.ToUpper(h), wrong}}},
		{"dapr_api_token", [][2]string{{strings.ReplaceAll(h, "-", "_"), wrong}}},
		{"two values", [][2]string{{h, ""}, {h, wrong}}},
	}
}

var noToken = []variant{{"no token", nil}}

// The exempt path, and spellings of it that must not be exempt.
const healthPath = "/healthz"

var healthSpellings = []string{"/healthz/", "/Healthz", "//healthz", "/%68ealthz", "/healthz/../dapr/subscribe", "/healthz/%2e%2e/dapr/subscribe", "/healthz;"}

func auditHTTP(ctx context.Context, c httpConfig, prog *progress) (*report, error) {
	client := &http.Client{
		Timeout: c.timeout,
		// A redirect is an answer: following it could carry the request,
		// and the token read from /dapr/subscribe, elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4, ResponseHeaderTimeout: c.timeout},
	}
	defer client.CloseIdleConnections()
	rep := &report{Target: c.base.String(), Protocol: "http"}

	var extra []target
	for _, p := range c.paths {
		t, err := parsePathFlag(p)
		if err != nil {
			return nil, usageError("audit", "-path %v", err)
		}
		extra = append(extra, t)
	}

	// Discovery: the routes /dapr/subscribe lists, read with the token if
	// one was given (as daprd reads them), else only if the app answers
	// without one; the actor types /dapr/config lists, only if it answers
	// without a token (it is then open anyway).
	routes, note := discoverRoutes(ctx, client, c)
	if note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	actorTypes := slices.Clone(c.actorTypes)
	if len(actorTypes) == 0 {
		if types := discoverActors(ctx, client, c); len(types) > 0 {
			actorTypes = types
			rep.Notes = append(rep.Notes, "actor types read from /dapr/config, which answered without a token: "+strings.Join(types, ", "))
		}
	}

	var targets []target
	add := func(method, path, why string, variants []variant, exempt bool) {
		call := method + " " + path
		if slices.ContainsFunc(targets, func(t target) bool { return t.Call == call }) {
			return
		}
		targets = append(targets, target{Call: call, Why: why, variants: variants, exempt: exempt})
	}
	add(http.MethodGet, "/dapr/subscribe", "Dapr: subscriptions", nil, false)
	add(http.MethodGet, "/dapr/config", "Dapr: actor config", nil, false)
	for _, r := range routes {
		add(http.MethodPost, r, "listed by /dapr/subscribe", nil, false)
	}
	for _, b := range c.bindings {
		p := "/" + url.PathEscape(b)
		add(http.MethodOptions, p, "input binding probe", nil, false)
		add(http.MethodPost, p, "input binding event", nil, false)
	}
	if len(actorTypes) == 0 {
		actorTypes = []string{auditName}
	}
	for _, typ := range actorTypes {
		base := "/actors/" + url.PathEscape(typ) + "/1"
		add(http.MethodPut, base+"/method/audit", "actor method", nil, false)
		add(http.MethodPut, base+"/method/remind/audit", "actor reminder", nil, false)
		add(http.MethodPut, base+"/method/timer/audit", "actor timer", nil, false)
		add(http.MethodDelete, base, "actor deactivation", nil, false)
	}
	add(http.MethodPost, "/job/"+auditName, "Dapr: job trigger", nil, false)
	add(http.MethodGet, "/"+auditName+"/no-such-route", "a path no app serves", nil, false)
	for _, t := range extra {
		add(strings.Fields(t.Call)[0], strings.Fields(t.Call)[1], t.Why, nil, false)
	}
	add(http.MethodGet, healthPath, "exempt: daprd's health probe", noToken, true)
	add(http.MethodHead, healthPath, "exempt: daprd's health probe", noToken, true)
	add(http.MethodPost, healthPath, "exempt path, other method", noToken, false)
	for _, p := range healthSpellings {
		add(http.MethodGet, p, "exempt path, respelled", noToken, false)
	}

	send := func(ctx context.Context, t target, v variant) (string, bool, error) {
		method, path, _ := strings.Cut(t.Call, " ")
		status, _, err := do(ctx, client, c.base, method, path, v.fields)
		if err != nil {
			return "", false, err
		}
		return strconv.Itoa(status), status != http.StatusUnauthorized && status != http.StatusForbidden, nil
	}
	results, err := runTargets(ctx, targets, httpVariants(newToken()), prog, send)
	if err != nil {
		return nil, err
	}
	rep.Results = results
	rep.count()
	return rep, nil
}

// parsePathFlag reads "[METHOD ]/path".
func parsePathFlag(s string) (target, error) {
	method, path := http.MethodGet, s
	if m, p, ok := strings.Cut(s, " "); ok {
		method, path = m, strings.TrimSpace(p)
	}
	if method == "" || strings.IndexFunc(method, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return target{}, fmt.Errorf("%q: the method must be upper-case letters, as in \"POST /orders\"", s)
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#") {
		return target{}, fmt.Errorf("%q: want a path that starts with /, as in \"POST /orders\"", s)
	}
	return target{Call: method + " " + path, Why: "-path"}, nil
}

// do sends one request to base with the raw path (sent exactly as given)
// and the header fields (names exactly as spelled), and returns the status
// and up to 64 KiB of the body.
func do(ctx context.Context, client *http.Client, base *url.URL, method, rawPath string, fields [][2]string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, base.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	// Opaque is sent as the request target byte for byte. One that starts
	// with "//" would be read as a host: send it in absolute form instead.
	req.URL.Opaque = rawPath
	if strings.HasPrefix(rawPath, "//") {
		req.URL.Opaque = "//" + base.Host + rawPath
	}
	for _, f := range fields {
		req.Header[f[0]] = append(req.Header[f[0]], f[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL, which the table shows already
		}
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, body, nil
}

// discoverRoutes returns the routes /dapr/subscribe lists, and a note for
// the report.
func discoverRoutes(ctx context.Context, client *http.Client, c httpConfig) ([]string, string) {
	var fields [][2]string
	if c.token != "" {
		fields = [][2]string{{http.CanonicalHeaderKey(headerName), c.token}}
	}
	status, body, err := do(ctx, client, c.base, http.MethodGet, "/dapr/subscribe", fields)
	switch {
	case err != nil:
		return nil, ""
	case status == http.StatusOK:
	case c.token != "":
		return nil, fmt.Sprintf("GET /dapr/subscribe answered %d to the token given: is it this app's? The routes it lists were not probed", status)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nil, "the routes /dapr/subscribe lists were not probed: give the app's token with -token-file or -token-env to read them"
	default:
		return nil, ""
	}
	routes := subscriptionRoutes(body)
	how := "read with the token given"
	if c.token == "" {
		how = "read WITHOUT a token"
	}
	if len(routes) == 0 {
		return nil, "/dapr/subscribe (" + how + ") lists no routes"
	}
	return routes, fmt.Sprintf("routes from /dapr/subscribe (%s): %s", how, strings.Join(routes, ", "))
}

// subscriptionRoutes reads the routes of a /dapr/subscribe answer: each
// subscription's route, routes.default and routes.rules[].path. Anything
// that is not a plain path on the app is left out.
func subscriptionRoutes(body []byte) []string {
	var subs []struct {
		Route  string `json:"route"`
		Routes struct {
			Default string `json:"default"`
			Rules   []struct {
				Path string `json:"path"`
			} `json:"rules"`
		} `json:"routes"`
	}
	if json.Unmarshal(body, &subs) != nil {
		return nil
	}
	var out []string
	addRoute := func(r string) {
		if r == "" || len(out) >= maxListed {
			return
		}
		if !strings.HasPrefix(r, "/") {
			r = "/" + r
		}
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(r, "//") || strings.ContainsAny(r, " \t\r\n#?") {
			return
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, s := range subs {
		addRoute(s.Route)
		addRoute(s.Routes.Default)
		for _, rule := range s.Routes.Rules {
			addRoute(rule.Path)
		}
	}
	return out
}

// discoverActors returns the actor types /dapr/config lists when it
// answers without a token.
func discoverActors(ctx context.Context, client *http.Client, c httpConfig) []string {
	status, body, err := do(ctx, client, c.base, http.MethodGet, "/dapr/config", nil)
	if err != nil || status != http.StatusOK {
		return nil
	}
	var cfg struct {
		Entities []string `json:"entities"`
	}
	if json.Unmarshal(body, &cfg) != nil {
		return nil
	}
	var types []string
	for _, t := range cfg.Entities {
		if t != "" && len(types) < maxListed && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types
}
