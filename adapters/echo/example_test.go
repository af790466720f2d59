package apptokenecho_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	apptokenecho "github.com/apptoken-go/apptoken/adapters/echo"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/labstack/echo/v4"
)

func Example() {
	// In production: apptoken.New(), which reads APP_API_TOKEN.
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	e := echo.New()
	e.Use(apptokenecho.Middleware(v))
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.POST("/orders", func(c echo.Context) error {
		return c.String(http.StatusOK, fmt.Sprintf("order accepted, token header seen: %q", c.Request().Header.Get("dapr-api-token")))
	})
	srv := httptest.NewServer(e)
	defer srv.Close()

	call := func(method, path, token string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("dapr-api-token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(method, path, resp.StatusCode, string(body))
	}
	call("POST", "/orders", "example-token")
	call("POST", "/orders", "wrong")
	call("POST", "/orders", "")
	call("GET", "/healthz", "")
	// Output:
	// POST /orders 200 order accepted, token header seen: ""
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// GET /healthz 200 ok
}

// The rejection answered the application's way, here by echo's
// HTTPErrorHandler. The decision says why, for logs; keep it out of the
// answer, and never answer 2xx or 404 (see apptoken.RejectionStatus).
func ExampleWithErrorHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.Use(apptokenecho.Middleware(v, apptokenecho.WithErrorHandler(func(c echo.Context, d apptoken.Decision) error {
		log.Printf("rejected: %s", d)
		return echo.ErrUnauthorized
	})))
	e.POST("/orders", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/orders", nil))
	fmt.Print(rec.Code, " ", rec.Body)
	// Output: 401 {"message":"Unauthorized"}
}
