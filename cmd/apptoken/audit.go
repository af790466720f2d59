package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Verdicts of a call (a target with every variant it was sent).
const (
	verdictRejected = "rejected"  // every variant refused: 401 or 403, Unauthenticated or PermissionDenied
	verdictOpen     = "OPEN"      // a variant was answered without a valid token
	verdictExempt   = "exempt"    // answered without a token by design (daprd's health probe, ...)
	verdictNoAnswer = "no answer" // the connection failed or timed out for every variant
)

// target is one call the audit makes: an HTTP method and raw path, or a
// gRPC full method name.
type target struct {
	Call   string `json:"call"` // "GET /dapr/subscribe", "/dapr.proto.runtime.v1.AppCallback/OnInvoke"
	Why    string `json:"why"`  // why it is probed
	exempt bool   // answered without a token by design
	// variants to send; nil: every variant of the protocol
	variants []variant
}

// variant is one way of (not) presenting a token.
type variant struct {
	Name string
	// header fields (HTTP) or metadata (gRPC) to send, in order; the names
	// are sent exactly as spelled here
	fields [][2]string
}

// attempt is one request: a target sent with one variant.
type attempt struct {
	Variant string `json:"variant"`
	Answer  string `json:"answer"` // "401", "200", "Unauthenticated", "no answer: ..."
	open    bool
	failed  bool // no answer
}

// result is a target with what each variant got.
type result struct {
	target
	Verdict  string    `json:"verdict"`
	Attempts []attempt `json:"attempts"`
}

// report is the audit's outcome.
type report struct {
	Target   string   `json:"target"`   // the URL or gRPC address audited
	Protocol string   `json:"protocol"` // "http" or "grpc"
	Open     int      `json:"open"`     // calls answered without a valid token
	Notes    []string `json:"notes,omitempty"`
	Results  []result `json:"results"`
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "audit", "[flags] URL | -grpc ADDR", `
Probes a running app from outside, as an attacker who can reach its port
would, and reports which calls it answers without the right token: Dapr's
callbacks (HTTP: /dapr/subscribe, /dapr/config, the routes /dapr/subscribe
lists, OPTIONS and POST on each -binding, actor and job paths, a path no app
serves; gRPC: the AppCallback methods, with empty messages), and every
-path, each without a token, with an empty one, a wrong one, "Bearer ...",
Authorization, the header name spelled oddly and two values; and the exempt
health path spelled oddly (/healthz/, /Healthz, /%68ealthz, ...).

A call counts as answered when anything but a rejection comes back: over
HTTP any status but 401 and 403 (a 404, 405 or redirect means the request
reached the app's router unchecked: an app protected by apptoken answers 401
for every path it does not serve too), over gRPC any code but
Unauthenticated and PermissionDenied (Unimplemented included). GET and HEAD
/healthz, and the gRPC health and subscription-listing methods daprd calls
without a token, are reported as exempt when they answer.

The audit never sends a valid token, except the one given with -token-file
or -token-env, and only in one GET of URL/dapr/subscribe, to read the routes
it lists. Redirects are not followed. Requests carry no body: an open app
most likely answers 400, but it may still act on the call, so audit a test
instance rather than production.

Prints a table (-json: a JSON document for CI) and exits with status 1 when
any call but the exempt ones was answered without a valid token.

  apptoken audit http://127.0.0.1:3000
  apptoken audit -grpc 127.0.0.1:50051
  APP_API_TOKEN=... apptoken audit -token-env APP_API_TOKEN -binding checkout http://127.0.0.1:3000`)
	grpcAddr := fs.String("grpc", "", "audit the gRPC app at `ADDR` (host:port) instead of an HTTP URL")
	var paths, bindings, actors stringList
	fs.Var(&paths, "path", "also probe `CALL`: \"[METHOD ]/path\" (GET when no method), or with -grpc a full method \"/pkg.Service/Method\" (repeat)")
	fs.Var(&bindings, "binding", "an input binding `NAME`: probe OPTIONS and POST /NAME (repeat)")
	fs.Var(&actors, "actor-type", "an actor `TYPE` the app hosts: probe its actor paths (repeat; default: a made-up type)")
	tokenFile := fs.String("token-file", "", "the app's token, from `FILE`: used only to read the routes /dapr/subscribe lists")
	tokenEnv := fs.String("token-env", "", "the app's token, from the environment variable `NAME`: as -token-file")
	jsonOut := fs.Bool("json", false, "print a JSON document instead of a table")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for each answer")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *grpcAddr == "" && fs.NArg() != 1:
		return usageError("audit", "give the app's URL (http://127.0.0.1:3000) or -grpc ADDR")
	case *grpcAddr != "" && fs.NArg() != 0:
		return usageError("audit", "give either a URL or -grpc ADDR, not both")
	case *grpcAddr != "" && (len(bindings) > 0 || len(actors) > 0 || *tokenFile != "" || *tokenEnv != ""):
		return usageError("audit", "-binding, -actor-type, -token-file and -token-env are for HTTP apps")
	case *tokenFile != "" && *tokenEnv != "":
		return usageError("audit", "-token-file or -token-env, not both")
	case *timeout <= 0:
		return usageError("audit", "-timeout must be positive")
	}
	token := ""
	if *tokenFile != "" {
		var err error
		if token, err = readToken(*tokenFile); err != nil {
			return err
		}
	}
	if *tokenEnv != "" {
		token = strings.TrimSpace(os.Getenv(*tokenEnv))
		if token == "" {
			return fmt.Errorf("-token-env %s: the variable is unset or empty", *tokenEnv)
		}
	}
	prog := newProgress(e)
	var rep *report
	var err error
	if *grpcAddr != "" {
		rep, err = auditGRPC(ctx, grpcConfig{addr: *grpcAddr, methods: paths, timeout: *timeout}, prog)
	} else {
		var u *url.URL
		if u, err = parseBaseURL(fs.Arg(0)); err != nil {
			return usageError("audit", "%v", err)
		}
		rep, err = auditHTTP(ctx, httpConfig{
			base: u, paths: paths, bindings: bindings, actorTypes: actors, token: token, timeout: *timeout,
		}, prog)
	}
	prog.done()
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(e.stdout, rep)
	}
	if rep.Open > 0 {
		return errFindings
	}
	return nil
}

// run sends every target with its variants, four requests at a time, and
// fills in the verdicts. send returns the answer, whether it lets the call
// through, and an error when there was no answer.
func runTargets(ctx context.Context, targets []target, all []variant, prog *progress,
	send func(ctx context.Context, t target, v variant) (answer string, open bool, err error),
) ([]result, error) {
	results := make([]result, len(targets))
	type job struct{ ti, vi int }
	var jobs []job
	for ti, t := range targets {
		vs := t.variants
		if vs == nil {
			vs = all
		}
		results[ti] = result{target: t, Attempts: make([]attempt, len(vs))}
		for vi := range vs {
			jobs = append(jobs, job{ti, vi})
		}
	}
	prog.start(len(jobs))
	ch := make(chan job)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for j := range ch {
				t := targets[j.ti]
				vs := t.variants
				if vs == nil {
					vs = all
				}
				v := vs[j.vi]
				answer, open, err := send(ctx, t, v)
				a := attempt{Variant: v.Name, Answer: answer, open: open}
				if err != nil {
					a = attempt{Variant: v.Name, Answer: "no answer: " + err.Error(), failed: true}
				}
				results[j.ti].Attempts[j.vi] = a // each job writes its own element
				prog.step()
			}
		})
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		ch <- j
	}
	close(ch)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	answered := false
	for i := range results {
		r := &results[i]
		open, failed := false, 0
		for _, a := range r.Attempts {
			open = open || a.open
			if a.failed {
				failed++
			}
		}
		answered = answered || failed < len(r.Attempts)
		switch {
		case open && r.exempt:
			r.Verdict = verdictExempt
		case open:
			r.Verdict = verdictOpen
		case failed == len(r.Attempts):
			r.Verdict = verdictNoAnswer
		default:
			r.Verdict = verdictRejected
		}
	}
	if !answered {
		return nil, fmt.Errorf("no answer to any call: %s", strings.TrimPrefix(results[0].Attempts[0].Answer, "no answer: "))
	}
	return results, nil
}

// count fills in rep.Open.
func (rep *report) count() {
	rep.Open = 0
	for _, r := range rep.Results {
		if r.Verdict == verdictOpen {
			rep.Open++
		}
	}
}

// printReport prints the table: one line per call, with what got through.
func printReport(w io.Writer, rep *report) {
	callW, whyW := len("CALL"), len("WHY")
	for _, r := range rep.Results {
		callW = max(callW, len(r.Call))
		whyW = max(whyW, len(r.Why))
	}
	fmt.Fprintf(w, "apptoken audit %s (%s): %d calls\n\n", rep.Target, rep.Protocol, len(rep.Results))
	fmt.Fprintf(w, "%-*s  %-*s  %-9s  %s\n", callW, "CALL", whyW, "WHY", "RESULT", "ANSWERS")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "%-*s  %-*s  %-9s  %s\n", callW, r.Call, whyW, r.Why, r.Verdict, summarize(r))
	}
	fmt.Fprintln(w)
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if rep.Open == 0 {
		fmt.Fprintln(w, "no call was answered without a valid token (exempt calls answer by design).")
		return
	}
	var open []string
	for _, r := range rep.Results {
		if r.Verdict == verdictOpen {
			open = append(open, r.Call)
		}
	}
	fmt.Fprintf(w, "FAIL: %d calls answered without a valid token: %s\n", rep.Open, strings.Join(open, ", "))
}

// summarize groups a result's answers: "401 x8", or for the variants that
// got through "200: no token, wrong token; 401 x6".
func summarize(r result) string {
	type group struct {
		answer   string
		variants []string
	}
	var groups []*group
	for _, a := range r.Attempts {
		i := slices.IndexFunc(groups, func(g *group) bool { return g.answer == a.Answer })
		if i < 0 {
			groups = append(groups, &group{answer: a.Answer})
			i = len(groups) - 1
		}
		groups[i].variants = append(groups[i].variants, a.Variant)
	}
	var parts []string
	for _, g := range groups {
		if len(r.Attempts) == 1 {
			parts = append(parts, g.answer+" ("+g.variants[0]+")")
			continue
		}
		rejected := g.answer == "401" || g.answer == "403" || g.answer == "Unauthenticated" || g.answer == "PermissionDenied"
		switch {
		case rejected:
			parts = append(parts, fmt.Sprintf("%s x%d", g.answer, len(g.variants)))
		case len(g.variants) == len(r.Attempts):
			parts = append(parts, fmt.Sprintf("%s x%d: every variant", g.answer, len(g.variants)))
		default:
			parts = append(parts, g.answer+": "+strings.Join(g.variants, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// progress is the line on stderr that counts the requests sent, shown only
// when stderr is a terminal.
type progress struct {
	w        io.Writer
	on       bool
	mu       sync.Mutex
	n, total int
	last     time.Time
}

func newProgress(e *env) *progress { return &progress{w: e.stderr, on: e.stderrIsTTY} }

func (p *progress) start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n, p.total = 0, total
}

func (p *progress) step() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if p.on && (time.Since(p.last) > 100*time.Millisecond || p.n == p.total) {
		p.last = time.Now()
		fmt.Fprintf(p.w, "\rapptoken audit: %d/%d requests", p.n, p.total)
	}
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
