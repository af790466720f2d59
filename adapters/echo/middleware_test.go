package apptokenecho_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"weak"

	apptokenecho "github.com/apptoken-go/apptoken/adapters/echo"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/labstack/echo/v4"
)

// router is the router the tests run: the middleware in front of every
// route of the conformance table.
func router(mw echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.Use(mw)
	for _, rt := range conformance.Routes {
		e.Add(rt.Method, rt.Path, echo.WrapHandler(conformance.Handler()))
	}
	return e
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, v *apptoken.Verifier) string {
		srv := httptest.NewServer(router(apptokenecho.Middleware(v)))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	})
}

func serve(h http.Handler, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set(apptoken.HeaderName, token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestErrorHandler(t *testing.T) {
	var got []apptoken.Decision
	h := router(apptokenecho.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenecho.WithErrorHandler(
		func(c echo.Context, d apptoken.Decision) error {
			got = append(got, d)
			return c.String(http.StatusUnauthorized, "custom "+d.String())
		})))

	for _, c := range []struct {
		path, token string
		want        apptoken.Decision
	}{
		{"/orders", "", apptoken.Decision{Outcome: apptoken.OutcomeMissing, Reason: apptoken.ReasonNoValue}},
		{"/orders", conformance.WrongToken, apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonMismatch}},
		{"/no/route", conformance.WrongToken, apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonMismatch}},
	} {
		got = nil
		rec := serve(h, http.MethodPost, c.path, c.token)
		if rec.Code != http.StatusUnauthorized || rec.Body.String() != "custom "+c.want.String() {
			t.Errorf("%s, token %q: got %d %q, want 401 %q", c.path, c.token, rec.Code, rec.Body, "custom "+c.want.String())
		}
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s, token %q: handler called with %v, want [%v]", c.path, c.token, got, c.want)
		}
	}

	got = nil
	if rec := serve(h, http.MethodPost, "/orders", conformance.Token); rec.Code != http.StatusOK || len(got) != 0 {
		t.Errorf("valid token: got %d, handler called %d times; want 200 and no call", rec.Code, len(got))
	}
}

// An error handler's error goes to echo's HTTPErrorHandler.
func TestErrorHandlerReturnsError(t *testing.T) {
	e := router(apptokenecho.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenecho.WithErrorHandler(
		func(c echo.Context, d apptoken.Decision) error {
			return echo.NewHTTPError(http.StatusUnauthorized, "from the error handler: "+d.Reason.String())
		})))
	var seen error
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		seen = err
		e.DefaultHTTPErrorHandler(err, c)
	}
	rec := serve(e, http.MethodPost, "/orders", "")
	var he *echo.HTTPError
	if !errors.As(seen, &he) || he.Code != http.StatusUnauthorized {
		t.Fatalf("HTTPErrorHandler saw %v, want the handler's 401 error", seen)
	}
	if rec.Code != http.StatusUnauthorized || rec.Body.String() != `{"message":"from the error handler: no_value"}`+"\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body)
	}
}

// An error handler that writes nothing must not turn a rejection into
// net/http's default 200.
func TestErrorHandlerWritingNothing(t *testing.T) {
	for _, h := range []func(echo.Context, apptoken.Decision) error{
		nil,
		func(echo.Context, apptoken.Decision) error { return nil },
	} {
		r := router(apptokenecho.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenecho.WithErrorHandler(h), nil))
		for _, path := range []string{"/orders", "/no/route"} {
			rec := serve(r, http.MethodPost, path, "")
			if rec.Code != apptoken.RejectionStatus || rec.Body.String() != apptoken.RejectionBody {
				t.Errorf("POST %s: got %d %q, want the standard rejection", path, rec.Code, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("POST %s: Cache-Control %q, want no-store", path, cc)
			}
		}
	}
}

func TestNilVerifierRejects(t *testing.T) {
	h := router(apptokenecho.Middleware(nil))
	for _, path := range []string{"/orders", "/healthz", "/no/route"} {
		rec := serve(h, http.MethodGet, path, conformance.Token)
		if rec.Code != http.StatusUnauthorized || rec.Body.String() != apptoken.RejectionBody {
			t.Errorf("GET %s: got %d %q, want 401 and the standard rejection", path, rec.Code, rec.Body)
		}
	}
}

// TestAcceptPathAllocs checks what the middleware costs an accepted
// request in allocations: nothing when it is the innermost middleware
// (echo hands it the same handler for a route on every request, and it
// reuses what it built), and no more than any middleware that wraps the
// next handler when another middleware wraps the handler first.
func TestAcceptPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	v := conformance.NewVerifier(t, conformance.Token)
	ok := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	build := func(mw ...echo.MiddlewareFunc) *echo.Echo {
		e := echo.New()
		e.Use(mw...)
		e.POST("/orders", ok)
		return e
	}
	wrapping := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return next(c) }
	}
	req := httptest.NewRequest(http.MethodPost, "/orders", nil)
	w := discardWriter{h: http.Header{}}
	run := func(h http.Handler) float64 {
		req.Header[apptoken.CanonicalHeaderName] = tokenValue
		h.ServeHTTP(w, req) // the first request keeps the route's handler
		return testing.AllocsPerRun(200, func() {
			req.Header[apptoken.CanonicalHeaderName] = tokenValue
			h.ServeHTTP(w, req)
		})
	}
	none := run(build())
	inner := run(build(apptokenecho.Middleware(v)))
	onePass := run(build(wrapping))
	outer := run(build(apptokenecho.Middleware(v), wrapping))
	t.Logf("allocs per accepted request: %v with none, %v with the middleware alone, %v with a pass-through middleware, %v with the middleware around a pass-through one",
		none, inner, onePass, outer)
	if inner > none {
		t.Errorf("innermost, the middleware adds %v allocations per accepted request", inner-none)
	}
	if outer > 2*onePass {
		t.Errorf("around another middleware, the middleware adds %v allocations per accepted request, more than a pass-through middleware's %v", outer-onePass, onePass)
	}
	if req.Header[apptoken.CanonicalHeaderName] != nil {
		t.Errorf("the token header is still on the request")
	}
}

// TestRoutesAllocs checks that the middleware, innermost, keeps its
// handlers for a hundred routes: requests going round them cost (almost)
// no allocation. Which routes find a place in the middleware's table
// depends on where their handlers sit in memory, so the test allows a
// few to miss.
func TestRoutesAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	const routes = 100
	e := echo.New()
	e.Use(apptokenecho.Middleware(conformance.NewVerifier(t, conformance.Token)))
	reqs := make([]*http.Request, routes)
	for i := range routes {
		path := fmt.Sprintf("/r/%d", i)
		e.POST(path, func(c echo.Context) error { return c.NoContent(http.StatusOK) })
		reqs[i] = httptest.NewRequest(http.MethodPost, path, nil)
	}
	w := discardWriter{h: http.Header{}}
	serveAll := func() {
		for _, req := range reqs {
			req.Header[apptoken.CanonicalHeaderName] = tokenValue
			e.ServeHTTP(w, req)
		}
	}
	serveAll() // the first round keeps the routes' handlers
	perRound := testing.AllocsPerRun(50, serveAll)
	t.Logf("%v allocations per round of %d routes", perRound, routes)
	if perRound > routes/20 {
		t.Errorf("%v allocations per round of %d requests to different routes; want at most %d", perRound, routes, routes/20)
	}
}

// TestPreKeepsNoRequest checks that the middleware, given to echo's Pre,
// does not keep requests alive: there the handler it wraps is made anew
// for each request and holds the request, so the middleware must not
// keep it. Once served, the requests must be garbage (two are allowed to
// linger in a stack slot or a pool).
func TestPreKeepsNoRequest(t *testing.T) {
	const requests = 300
	e := echo.New()
	e.Pre(apptokenecho.Middleware(conformance.NewVerifier(t, conformance.Token)))
	e.POST("/orders", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	w := discardWriter{h: http.Header{}}
	refs := make([]weak.Pointer[http.Request], requests)
	for i := range refs {
		req := httptest.NewRequest(http.MethodPost, "/orders", nil)
		req.Header.Set(apptoken.HeaderName, conformance.Token)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i, rec.Code)
		}
		refs[i] = weak.Make(req)
	}
	e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/orders", nil)) // the last request held by echo's context pool is this one
	runtime.GC()
	runtime.GC()
	alive := 0
	for _, r := range refs {
		if r.Value() != nil {
			alive++
		}
	}
	runtime.KeepAlive(e) // the middleware, and whatever it keeps, stays in use
	t.Logf("%d of %d requests still reachable after GC", alive, requests)
	if alive > 2 {
		t.Errorf("%d of %d requests are kept alive after they were served", alive, requests)
	}
}

// TestManyRoutes sends requests to more routes than the middleware's cache
// of wrapped handlers has slots, in turn and at once, with the middleware
// innermost, around another middleware, on each route and on a group:
// every request must reach its own route's handler, and a request without
// the token none.
func TestManyRoutes(t *testing.T) {
	const routes = 300
	v := conformance.NewVerifier(t, conformance.Token)
	passThrough := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return next(c) }
	}
	for _, chain := range []struct {
		name string
		mw   []echo.MiddlewareFunc
	}{
		{"innermost", []echo.MiddlewareFunc{passThrough, apptokenecho.Middleware(v)}},
		{"outermost", []echo.MiddlewareFunc{apptokenecho.Middleware(v), passThrough}},
		{"route", nil},
		{"group", nil},
	} {
		t.Run(chain.name, func(t *testing.T) {
			e := echo.New()
			e.Use(chain.mw...)
			var routeMW []echo.MiddlewareFunc
			add := e.GET
			switch chain.name {
			case "route":
				routeMW = []echo.MiddlewareFunc{apptokenecho.Middleware(v)}
			case "group":
				add = e.Group("/r", apptokenecho.Middleware(v)).GET
			}
			for i := range routes {
				path := fmt.Sprintf("/r/%d", i)
				if chain.name == "group" {
					path = fmt.Sprintf("/%d", i)
				}
				add(path, func(c echo.Context) error {
					return c.String(http.StatusOK, strconv.Itoa(i))
				}, routeMW...)
			}
			check := func(i int, token string) error {
				rec := serve(e, http.MethodGet, fmt.Sprintf("/r/%d", i), token)
				switch {
				case token == "" && rec.Code != http.StatusUnauthorized:
					return fmt.Errorf("/r/%d without a token: status %d, want 401", i, rec.Code)
				case token != "" && (rec.Code != http.StatusOK || rec.Body.String() != strconv.Itoa(i)):
					return fmt.Errorf("/r/%d: status %d body %q, want 200 %q", i, rec.Code, rec.Body.String(), strconv.Itoa(i))
				}
				return nil
			}
			for round := range 3 {
				for i := range routes {
					token := conformance.Token
					if (i+round)%5 == 0 {
						token = ""
					}
					if err := check(i, token); err != nil {
						t.Fatal(err)
					}
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for g := range 4 {
				wg.Go(func() {
					for i := range routes {
						r := (i*7 + g*31) % routes
						token := conformance.Token
						if (r+g)%3 == 0 {
							token = ""
						}
						if err := check(r, token); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

var tokenValue = []string{conformance.Token}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header       { return d.h }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
