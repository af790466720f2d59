package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"
)

// TokenHeader is the header (and gRPC metadata key) that carries both the
// app API token (daprd to app) and the Dapr API token (caller to daprd).
const TokenHeader = "dapr-api-token"

// NewToken returns a random token: 32 bytes from crypto/rand, base64url.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on Linux; panics on its own if it could
	return base64.RawURLEncoding.EncodeToString(b)
}

// Fingerprint describes a token without revealing it: its length and the
// first hex digits of its SHA-256.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return fmt.Sprintf("%d chars, sha256 %s…", len(token), hex.EncodeToString(sum[:4]))
}

// Response is an HTTP response, read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r Response) String() string {
	body := string(r.Body)
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("%d %s", r.Status, body)
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

// Do sends one HTTP request. Every value in headers is sent under its key
// (several values, several header lines).
func Do(ctx context.Context, method, url string, body []byte, headers map[string][]string) (Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// TokenHeaders is a header set carrying token in dapr-api-token, or none
// when token is empty.
func TokenHeaders(token string) map[string][]string {
	if token == "" {
		return nil
	}
	return map[string][]string{TokenHeader: {token}}
}
