package apptokenchi_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	apptokenchi "github.com/apptoken-go/apptoken/adapters/chi"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/go-chi/chi/v5"
)

func Example() {
	// In production: apptoken.New(), which reads APP_API_TOKEN.
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	r := chi.NewRouter()
	r.Use(apptokenchi.Middleware(v))
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	r.Post("/orders", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "order accepted, token header seen: %q", r.Header.Get("dapr-api-token"))
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
	call("POST", "/orders", "")
	call("GET", "/healthz", "")
	// Output:
	// POST /orders 200 order accepted, token header seen: ""
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
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
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	h := apptokenchi.Middleware(v, apptokenchi.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, d apptoken.Decision) {
		log.Printf("rejected: %s", d)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/orders", nil))
	fmt.Print(rec.Code, " ", rec.Body)
	// Output: 401 unauthorized
}
