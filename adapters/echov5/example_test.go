package apptokenechov5_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	apptokenechov5 "github.com/apptoken-go/apptoken/adapters/echov5"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/labstack/echo/v5"
)

// call sends one request to the server at url and prints the answer.
func call(url, method, path, token string) {
	req, err := http.NewRequest(method, url+path, nil)
	if err != nil {
		log.Fatal(err)
	}
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

func Example() {
	// In production: apptoken.New(), which reads APP_API_TOKEN.
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	e := echo.New()
	e.Use(apptokenechov5.Middleware(v))
	e.GET("/healthz", func(c *echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.POST("/orders", func(c *echo.Context) error {
		return c.String(http.StatusOK, fmt.Sprintf("order accepted, token header seen: %q", c.Request().Header.Get("dapr-api-token")))
	})
	srv := httptest.NewServer(e)
	defer srv.Close()

	call(srv.URL, "POST", "/orders", "example-token")
	call(srv.URL, "POST", "/orders", "wrong")
	call(srv.URL, "POST", "/orders", "")
	call(srv.URL, "GET", "/healthz", "")
	call(srv.URL, "GET", "/no/route", "")
	// Output:
	// POST /orders 200 order accepted, token header seen: ""
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// GET /healthz 200 ok
	// GET /no/route 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
}

func ExampleWithErrorHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	e := echo.New()
	e.Use(apptokenechov5.Middleware(v, apptokenechov5.WithErrorHandler(func(c *echo.Context, d apptoken.Decision) error {
		// d says why (missing, mismatch, ...), for logs and metrics: keep
		// it out of the answer, and never answer 2xx or 404 (see
		// apptoken.RejectionStatus). Returning an error, such as
		// echo.ErrUnauthorized, leaves the answer to echo's HTTPErrorHandler.
		fmt.Println("rejected:", d)
		return c.String(http.StatusUnauthorized, "no entry")
	})))
	e.POST("/orders", func(c *echo.Context) error { return c.String(http.StatusOK, "order accepted") })
	srv := httptest.NewServer(e)
	defer srv.Close()

	call(srv.URL, "POST", "/orders", "")
	call(srv.URL, "POST", "/orders", "example-token")
	// Output:
	// rejected: missing
	// POST /orders 401 no entry
	// POST /orders 200 order accepted
}
