package apptokengrpc

import (
	"context"
	"slices"
	"sync"
	"testing"

	apptoken "github.com/apptoken-go/apptoken/core"
	"google.golang.org/grpc/metadata"
)

// TestFastReaderAvailable fails when grpc no longer keeps incoming metadata
// the way the fast reader expects. The interceptors then fall back to the
// public API on their own (correct, at a cost of several allocations per
// call); read grpc's metadata/metadata.go to see what changed.
func TestFastReaderAvailable(t *testing.T) {
	if incomingKey == nil {
		t.Fatal("the incoming-metadata key was not found or failed its checks; the interceptors use the slower public API")
	}
	if !newConfig(nil).reader.fast {
		t.Fatal("interceptors do not use the fast reader")
	}
}

// TestValidKey: the checks that guard the fast reader refuse keys that
// are not grpc's, so a grpc that stored metadata differently would make the
// interceptors fall back rather than read the wrong thing.
func TestValidKey(t *testing.T) {
	if discoverIncomingKey() != incomingKey {
		t.Fatal("discovery is not stable")
	}
	type otherKey struct{}
	for _, k := range []any{nil, otherKey{}, "dapr-api-token", 0, []string{"not comparable"}} {
		if validKey(k) {
			t.Errorf("validKey(%#v) = true", k)
		}
	}
}

func TestValuesMatchPublicAPI(t *testing.T) {
	mds := []metadata.MD{
		nil,
		{},
		{"x": {"1"}},
		{apptoken.HeaderName: {"a", "b"}, "x": {"1"}},
		{apptoken.HeaderName: {}},
		{"Dapr-Api-Token": {"mixed"}, "x": {"1"}},
		{"DAPR-API-TOKEN": {"upper"}},
		{"dapr-api-to\u212aen": {"kelvin sign"}}, // folds to k, as strings.EqualFold does
	}
	for _, md := range mds {
		ctx := context.Background()
		if md != nil {
			ctx = metadata.NewIncomingContext(ctx, md)
		}
		want := metadata.ValueFromIncomingContext(ctx, apptoken.HeaderName)
		for _, r := range []reader{{fast: true}, {fast: false}} {
			_, got, found := r.values(ctx)
			if !slices.Equal(got, want) || found != (want != nil) {
				t.Errorf("%v (fast %v): values %q, found %v; public API %q", md, r.fast, got, found, want)
			}
		}
	}
}

func TestStripLeavesGrpcMetadataAlone(t *testing.T) {
	for _, r := range []reader{{fast: true}, {fast: false}} {
		orig := metadata.MD{apptoken.HeaderName: {"t1", "t2"}, "Dapr-Api-Token": {"t3"}, "x-other": {"1", "2"}}
		snapshot := metadata.Join(orig) // a deep copy
		ctx := metadata.NewIncomingContext(context.Background(), orig)
		md, _, _ := r.values(ctx)
		stripped := r.strip(ctx, md)

		for range 2 { // built once, answered the same every time
			got, _ := metadata.FromIncomingContext(stripped)
			if len(got) != 1 || !slices.Equal(got["x-other"], []string{"1", "2"}) {
				t.Errorf("fast %v: stripped metadata %v", r.fast, got)
			}
			if v := metadata.ValueFromIncomingContext(stripped, apptoken.HeaderName); v != nil {
				t.Errorf("fast %v: token still visible: %q", r.fast, v)
			}
			// What a handler gets is its own: changing it changes nothing.
			got["x-other"][0] = "changed"
			got[apptoken.HeaderName] = []string{"added"}
		}
		if len(orig) != len(snapshot) {
			t.Fatalf("fast %v: grpc's map changed: %v", r.fast, orig)
		}
		for k, v := range snapshot {
			if !slices.Equal(orig[k], v) {
				t.Errorf("fast %v: grpc's map changed at %q: %q", r.fast, k, orig[k])
			}
		}
	}
}

func TestStrippedCtxConcurrentReads(t *testing.T) {
	orig := metadata.MD{apptoken.HeaderName: {"t"}, "x-other": {"1"}}
	ctx := (reader{fast: true}).strip(metadata.NewIncomingContext(context.Background(), orig), orig)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				md, _ := metadata.FromIncomingContext(ctx)
				if len(md) != 1 || len(metadata.ValueFromIncomingContext(ctx, "x-other")) != 1 {
					t.Errorf("concurrent read saw %v", md)
					return
				}
			}
		})
	}
	wg.Wait()
}
