package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/apptoken-go/apptoken/e2e/internal/harness"
)

// httpAPI talks to an HTTP example app directly (around daprd).
type httpAPI struct {
	addr     string
	appToken string
}

func (h *httpAPI) url(path string) string { return "http://" + h.addr + path }

func (h *httpAPI) stats(ctx context.Context) (counts, error) {
	resp, err := harness.Do(ctx, "GET", h.url("/stats"), nil, harness.TokenHeaders(h.appToken))
	if err != nil {
		return counts{}, err
	}
	if resp.Status != 200 {
		return counts{}, fmt.Errorf("GET /stats: %s", resp)
	}
	var c struct {
		Orders   *int `json:"orders"`
		Events   *int `json:"events"`
		Bindings *int `json:"bindings"`
	}
	if err := json.Unmarshal(resp.Body, &c); err != nil || c.Orders == nil || c.Events == nil || c.Bindings == nil {
		return counts{}, fmt.Errorf("GET /stats: want {\"orders\":N,\"events\":M,\"bindings\":K}, got %s", resp)
	}
	return counts{Orders: *c.Orders, Events: *c.Events, Bindings: *c.Bindings}, nil
}

// checkRejection returns an error if a 401 does not have the library's shape
// or leaks a token.
func (h *httpAPI) checkRejection(resp harness.Response, sent []string) error {
	if resp.Status != 401 {
		return nil
	}
	for _, s := range append([]string{h.appToken}, sent...) {
		if s != "" && strings.Contains(string(resp.Body), s) {
			return fmt.Errorf("the 401 body contains a token it was sent or the app token")
		}
	}
	var e struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if err := json.Unmarshal(resp.Body, &e); err != nil || e.ErrorCode == "" {
		return fmt.Errorf("the 401 body is not Dapr's error shape {errorCode, message}: %s", resp)
	}
	return nil
}

func (h *httpAPI) call(ctx context.Context, method, path string, body []byte, values []string) (string, error) {
	var hdr map[string][]string
	if len(values) > 0 {
		hdr = map[string][]string{harness.TokenHeader: values}
	}
	resp, err := harness.Do(ctx, method, h.url(path), body, hdr)
	if err != nil {
		return "", err
	}
	if err := h.checkRejection(resp, values); err != nil {
		return "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	return strconv.Itoa(resp.Status), nil
}

func (h *httpAPI) direct(ctx context.Context, values ...string) (string, error) {
	return h.call(ctx, "POST", "/orders", []byte(`{"id":"direct"}`), values)
}

func (h *httpAPI) directEvent(ctx context.Context) (string, error) {
	ce := `{"specversion":"1.0","type":"com.dapr.event.sent","source":"e2e","id":"direct-event",` +
		`"datacontenttype":"application/json","pubsubname":"pubsub","topic":"orders","data":{"id":"direct"}}`
	return h.call(ctx, "POST", "/events/orders", []byte(ce), nil)
}

func (h *httpAPI) directSubscribe(ctx context.Context) (string, error) {
	return h.call(ctx, "GET", "/dapr/subscribe", nil, nil)
}

func (h *httpAPI) directBinding(ctx context.Context) (string, error) {
	return h.call(ctx, "POST", "/cron", nil, nil)
}

func (h *httpAPI) directBindingDiscovery(ctx context.Context) (string, error) {
	return h.call(ctx, "OPTIONS", "/cron", nil, nil)
}

func (h *httpAPI) rejections(log, route string) int {
	return countRejections(log, route)
}

func (h *httpAPI) close() {}
