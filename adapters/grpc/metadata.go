package apptokengrpc

import (
	"context"
	"reflect"
	"strings"
	"sync/atomic"

	apptoken "github.com/apptoken-go/apptoken/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// grpc keeps a call's incoming metadata in its context, as a metadata.MD
// under an unexported key. Its public readers copy: ValueFromIncomingContext
// copies the value slice (one allocation per call) and FromIncomingContext
// the whole map. Taking the token out of what the handler sees costs several
// more (a copy of the map, a new context).
//
// To read without copying, the adapter learns the key once, at start-up,
// through the public API: it hands metadata.ValueFromIncomingContext a
// context whose Value method records the key it is asked for. It then checks
// that the key really behaves as expected, both ways: a context made by
// metadata.NewIncomingContext answers it with that very map, and a context
// answering it with another map changes what FromIncomingContext and
// ValueFromIncomingContext return. If any check fails (a grpc release that
// stores metadata differently), incomingKey stays nil and the adapter uses
// the public API only: correct, just slower. The map read this way is
// grpc's own and shared; it is only ever read, never written.
var incomingKey = discoverIncomingKey()

// keySpy records the keys its Value method is asked for.
type keySpy struct {
	context.Context
	keys []any
}

func (s *keySpy) Value(key any) any {
	s.keys = append(s.keys, key)
	return s.Context.Value(key)
}

// mdOverride answers key with md.
type mdOverride struct {
	context.Context
	key any
	md  metadata.MD
}

func (c mdOverride) Value(key any) any {
	if key == c.key {
		return c.md
	}
	return c.Context.Value(key)
}

func discoverIncomingKey() any {
	spy := &keySpy{Context: context.Background()}
	metadata.ValueFromIncomingContext(spy, apptoken.HeaderName)
	if len(spy.keys) != 1 || !validKey(spy.keys[0]) {
		return nil
	}
	return spy.keys[0]
}

// validKey reports whether key is where grpc keeps incoming metadata, as
// its public functions read and write it.
func validKey(key any) bool {
	if key == nil || !reflect.TypeOf(key).Comparable() {
		return false
	}
	// Reading: the context holds the very map given to NewIncomingContext.
	probe := metadata.MD{apptoken.HeaderName: {"probe"}, "other": {"x"}}
	got, ok := metadata.NewIncomingContext(context.Background(), probe).Value(key).(metadata.MD)
	if !ok || reflect.ValueOf(got).UnsafePointer() != reflect.ValueOf(probe).UnsafePointer() {
		return false
	}
	// Overriding: a context answering the key with another map is what
	// grpc's readers see.
	over := mdOverride{
		Context: metadata.NewIncomingContext(context.Background(), probe),
		key:     key,
		md:      metadata.MD{"other": {"y"}},
	}
	if metadata.ValueFromIncomingContext(over, apptoken.HeaderName) != nil {
		return false
	}
	md, ok := metadata.FromIncomingContext(over)
	return ok && len(md) == 1 && len(md["other"]) == 1 && md["other"][0] == "y"
}

// reader reads the token values of a call and hides them from the handler.
// fast is false when the public API must be used (incomingKey is nil, or
// tests ask for it).
type reader struct{ fast bool }

// values returns every value of the dapr-api-token key, matched as
// metadata.ValueFromIncomingContext matches it (the exact key first, else the
// first key equal under case folding), the map they were found in (fast mode
// only), and whether the key is present at all. In fast mode the slice is
// grpc's own: it must only be read, and not kept.
func (r reader) values(ctx context.Context) (md metadata.MD, vals []string, found bool) {
	if !r.fast {
		vals = metadata.ValueFromIncomingContext(ctx, apptoken.HeaderName)
		return nil, vals, vals != nil
	}
	md, _ = ctx.Value(incomingKey).(metadata.MD)
	if md == nil {
		return nil, nil, false
	}
	if v, ok := md[apptoken.HeaderName]; ok {
		return md, v, true
	}
	for k, v := range md {
		if strings.EqualFold(k, apptoken.HeaderName) {
			return md, v, true
		}
	}
	return md, nil, false
}

// strip returns ctx with the dapr-api-token key removed from its incoming
// metadata. md is what values returned.
func (r reader) strip(ctx context.Context, md metadata.MD) context.Context {
	if r.fast {
		return &strippedCtx{Context: ctx, md: md}
	}
	return stripEagerly(ctx)
}

// stripStream is strip for a server stream: it returns ss wrapped so that
// its Context is ctx without the token. In fast mode the stream and its
// context are one allocation.
func (r reader) stripStream(ss grpc.ServerStream, ctx context.Context, md metadata.MD) grpc.ServerStream {
	if r.fast {
		s := &strippedStream{ServerStream: ss}
		s.ctx.Context, s.ctx.md = ctx, md
		return s
	}
	return &contextStream{ServerStream: ss, ctx: stripEagerly(ctx)}
}

// stripEagerly removes the key with the public API: a copy of the map
// without it, in a new context.
func stripEagerly(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx) // a copy; keys in lower case
	delete(md, apptoken.HeaderName)
	return metadata.NewIncomingContext(ctx, md)
}

// strippedCtx is a context whose incoming metadata is its parent's without
// the dapr-api-token key. The stripped copy is only made when something
// asks for the metadata, so a handler that never reads it pays for one
// small allocation: this struct. The parent's map is never changed.
//
// The copy sits behind an atomic pointer rather than a sync.Once: the
// struct is then 32 bytes instead of 48, on every accepted call. Two
// goroutines asking at once may both build a copy; they are equal, and
// either may win.
type strippedCtx struct {
	context.Context
	md  metadata.MD // the parent's incoming metadata: read only
	out atomic.Pointer[metadata.MD]
}

func (c *strippedCtx) Value(key any) any {
	if key != incomingKey {
		return c.Context.Value(key)
	}
	if out := c.out.Load(); out != nil {
		return *out
	}
	out := make(metadata.MD, len(c.md))
	for k, v := range c.md {
		if !strings.EqualFold(k, apptoken.HeaderName) {
			// The value slices are shared with the parent's map; grpc's
			// readers copy them before handing them out.
			out[k] = v
		}
	}
	c.out.CompareAndSwap(nil, &out)
	return *c.out.Load()
}

// strippedStream is a server stream whose Context is ctx.
type strippedStream struct {
	grpc.ServerStream
	ctx strippedCtx
}

func (s *strippedStream) Context() context.Context { return &s.ctx }

// contextStream is a server stream with another context.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }
