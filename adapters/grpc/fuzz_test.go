package apptokengrpc_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// FuzzUnaryInterceptor calls the unary interceptor with fuzzed metadata
// and method names, and checks that a call is let through exactly when the
// method is an exempt one, or when the dapr-api-token key (matched as grpc
// matches keys, ignoring case) holds the token among at most
// apptoken.MaxValues values of at most apptoken.MaxTokenLength bytes; that
// the handler then never sees the token; and that a rejection is the one
// default error.
//
// Inputs: method (used as is, unless exempt picks one of the default
// exemptions); key (the metadata key, "" for dapr-api-token); v1, v2 (the
// values, repeated to count, 0 to 5); tokenAt (the position the real token
// replaces, if below count).
func FuzzUnaryInterceptor(f *testing.F) {
	v, err := apptoken.New(apptoken.WithTokens(token), apptoken.WithEventLog(nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = v.Close() })
	exemptions := []string{ // the defaults, as documented
		mAppHealth, mListTopics, mListBindings, mHealthCheck, mHealthWatch,
	}
	ic := apptokengrpc.UnaryServerInterceptor(v)

	f.Fuzz(func(t *testing.T, method, key, v1, v2 string, count, tokenAt, exempt uint8) {
		if int(exempt) < len(exemptions) {
			method = exemptions[exempt]
		}
		if key == "" {
			key = headerName
		}
		if strings.ToLower(key) == headerName && !strings.EqualFold(key, headerName) {
			// Such as "dapr-apİ-token": grpc's ValueFromIncomingContext does
			// not match it, its FromIncomingContext lower-cases it into the
			// token's key. grpc's transport only hands on lower-case ASCII
			// keys (HTTP/2 field names), so no call can carry one.
			t.Skip("a key no call can carry")
		}
		n := int(count % (apptoken.MaxValues + 2))
		vals := make([]string, n)
		for i := range vals {
			vals[i] = [2]string{v1, v2}[i%2]
		}
		if int(tokenAt) < n {
			vals[tokenAt] = token
		}

		var counted []string
		if strings.EqualFold(key, headerName) {
			counted = vals
		}
		want := slices.Contains(exemptions, method) ||
			(len(counted) <= apptoken.MaxValues &&
				!slices.ContainsFunc(counted, func(s string) bool { return len(s) > apptoken.MaxTokenLength }) &&
				slices.Contains(counted, token))

		md := metadata.MD{key: slices.Clone(vals)}
		ctx := metadata.NewIncomingContext(context.Background(), md)
		called := false
		_, err := ic(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, _ any) (any, error) {
			called = true
			if got := metadata.ValueFromIncomingContext(ctx, headerName); got != nil {
				t.Errorf("the handler sees %d token values", len(got))
			}
			all, _ := metadata.FromIncomingContext(ctx)
			for k := range all {
				if strings.EqualFold(k, headerName) {
					t.Errorf("the handler sees the key %q", k)
				}
			}
			return nil, nil
		})
		if called != want || (err == nil) != want {
			t.Fatalf("method %q key %q, %d values (token at %d): handler called %v, error %v; want allowed=%v",
				method, key, n, tokenAt, called, err, want)
		}
		if err != nil {
			st, _ := status.FromError(err)
			if st.Message() != apptoken.RejectionGRPCMessage || strings.Contains(err.Error(), token) {
				t.Fatalf("rejection %v", err)
			}
		}
		if !slices.Equal(md[key], vals) || len(md) != 1 {
			t.Fatal("the call's metadata was changed")
		}
	})
}
