package apptokenecho

import (
	"sync/atomic"
	"unsafe"

	"github.com/labstack/echo/v4"
)

// echo v4 applies Use middleware anew on every request: ServeHTTP calls
// each MiddlewareFunc with the handler the router found, and the closure a
// middleware returns is a heap allocation per request. When this
// middleware is the innermost of the chain (the last one given to Use, or
// a route's or group's own), the handler it is given is the same func
// value on every request for a route: the router keeps one per route. So
// the middleware remembers the closure it built for each such handler and
// hands it back instead of building a new one; a request then costs echo
// no allocation for it. When something else wraps the handler first, echo
// builds a new handler on every request, the cache never matches, and the
// middleware costs the one allocation every echo middleware costs.

// The cache is a table of wrapSlots entries indexed by a hash of the
// handler's address, probing up to wrapProbe neighbouring slots. Entries
// are added, never replaced or removed, so the table holds the first
// handlers seen, up to wrapSlots; in practice about a hundred routes per
// middleware find a place. A handler that finds none is wrapped anew on
// each request, as without the cache. When the handler is new on every
// request, the table fills once with entries that never match again, and
// from then on costs a few loads per request.
const (
	wrapSlots = 256 // a power of two
	wrapProbe = 4
)

type wrapEntry struct {
	next    echo.HandlerFunc
	wrapped echo.HandlerFunc
}

type wrapCache struct {
	slots [wrapSlots]atomic.Pointer[wrapEntry]
}

// funcAddr is the address of the closure that a func value refers to.
// Two func values with the same address are the same function over the
// same captured variables. The cache holds every handler it keys on, so
// the address of one cannot be reused by another while it is in the cache.
func funcAddr(f echo.HandlerFunc) uintptr {
	return uintptr(*(*unsafe.Pointer)(unsafe.Pointer(&f))) //nolint:gosec // G103: reads the func value's closure pointer, see above
}

// wrap returns build(next), reusing the result built for the same next
// before when there is one.
func (c *wrapCache) wrap(next echo.HandlerFunc, build func(echo.HandlerFunc) echo.HandlerFunc) echo.HandlerFunc {
	addr := funcAddr(next)
	if addr == 0 {
		return build(next)
	}
	// Fibonacci hashing: the top bits of the address times 2^64/phi.
	const shift = 64 - 8 // log2(wrapSlots) == 8
	i := (uint64(addr) * 0x9E3779B97F4A7C15) >> shift
	for p := range uint64(wrapProbe) {
		s := &c.slots[(i+p)%wrapSlots]
		e := s.Load()
		if e == nil {
			// Slots are filled in probe order and never emptied, so next
			// is not further on: add it here. If another request fills
			// the slot first, this one keeps its own handler.
			h := build(next)
			s.CompareAndSwap(nil, &wrapEntry{next: next, wrapped: h})
			return h
		}
		if funcAddr(e.next) == addr {
			return e.wrapped
		}
	}
	return build(next)
}
