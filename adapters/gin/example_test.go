package apptokengin_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	apptokengin "github.com/apptoken-go/apptoken/adapters/gin"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/gin-gonic/gin"
)

func Example() {
	// In production: apptoken.New(), which reads APP_API_TOKEN.
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	r := gin.New()
	r.RedirectTrailingSlash = false // answer 401, not a redirect, for /orders/
	r.Use(apptokengin.Middleware(v))
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	r.POST("/orders", func(c *gin.Context) {
		c.String(http.StatusOK, "order accepted, token header seen: %q", c.GetHeader("dapr-api-token"))
	})
	srv := httptest.NewServer(r)
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
	call("POST", "/orders/", "")
	call("GET", "/healthz", "")
	// Output:
	// POST /orders 200 order accepted, token header seen: ""
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// POST /orders/ 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// GET /healthz 200 ok
}

// The rejection answered the application's way. The decision says why,
// for logs; keep it out of the answer, and never answer 2xx or 404 (see
// apptoken.RejectionStatus).
func ExampleWithErrorHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	r.Use(apptokengin.Middleware(v, apptokengin.WithErrorHandler(func(c *gin.Context, d apptoken.Decision) {
		log.Printf("rejected: %s", d)
		c.JSON(http.StatusUnauthorized, gin.H{"error": "unauthorized"})
	})))
	r.POST("/orders", func(c *gin.Context) { c.String(http.StatusOK, "ok") })

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/orders", nil))
	fmt.Println(rec.Code, rec.Body)
	// Output: 401 {"error":"unauthorized"}
}
