package apptokenecho

import (
	"net/http"
	"sync/atomic"
	"unsafe"

	"github.com/labstack/echo/v4"
)

// echo v4 applies Use middleware anew on every request: ServeHTTP calls
// each MiddlewareFunc with the handler the router found, and the closure a
// middleware returns is a heap allocation per request. When this
// middleware is the innermost of Echo.Use's chain, the handler it is
// given is the route's own, which the router keeps and hands over on every
// request for that route. So the middleware keeps the closure it built
// for each such handler and hands it back instead of building a new one;
// a request then costs echo no allocation for it.
//
// Only the router's handlers are kept: a handler is kept when the closure
// built around it finds, running, that it is the handler the router chose
// for the request (echo.Context.Handler). Handlers made for one request,
// as echo's Pre chain and other middleware make them (some hold the
// request), are never kept, and cost the one allocation every echo
// middleware costs. Neither are the handlers echo makes for an OPTIONS
// request to a path without an OPTIONS route, one per request. (A
// middleware that sets a handler made for one request with
// Context.SetHandler would defeat this; the table's size bounds what it
// could keep.)

// The cache is a table of wrapSlots slots indexed by a hash of the
// handler's address, probing up to wrapProbe neighbouring slots. Entries
// are added, never replaced or removed. A hundred routes per middleware
// all find a place; of three hundred, all but a few. The table takes
// 4 KiB per middleware. A handler that finds no place is wrapped anew on
// each request, as without the cache.
const (
	wrapSlots = 512 // a power of two
	wrapProbe = 8
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
// same captured variables. An entry holds the handler it is keyed on, so
// the address of one cannot be reused by another while it is in the cache.
func funcAddr(f echo.HandlerFunc) uintptr {
	return uintptr(*(*unsafe.Pointer)(unsafe.Pointer(&f))) //nolint:gosec // G103: reads the func value's closure pointer, see above
}

// first is the first slot to probe for a handler at addr: Fibonacci
// hashing, the top bits of the address times 2^64/phi.
func first(addr uintptr) uint64 {
	const shift = 64 - 9 // log2(wrapSlots) == 9
	return (uint64(addr) * 0x9E3779B97F4A7C15) >> shift
}

// lookup returns the closure kept for next, or nil.
func (c *wrapCache) lookup(next echo.HandlerFunc) echo.HandlerFunc {
	addr := funcAddr(next)
	i := first(addr)
	for p := range uint64(wrapProbe) {
		e := c.slots[(i+p)%wrapSlots].Load()
		if e == nil {
			// Slots are filled in probe order and never emptied.
			return nil
		}
		if funcAddr(e.next) == addr {
			return e.wrapped
		}
	}
	return nil
}

// offer keeps build(next) for next when next is the handler the router
// chose for the request c is serving, and there is room for it.
func (c *wrapCache) offer(ctx echo.Context, next echo.HandlerFunc, build func(echo.HandlerFunc) echo.HandlerFunc) {
	addr := funcAddr(next)
	if addr == 0 || funcAddr(ctx.Handler()) != addr || ctx.Request().Method == http.MethodOptions {
		return
	}
	i := first(addr)
	for p := range uint64(wrapProbe) {
		s := &c.slots[(i+p)%wrapSlots]
		e := s.Load()
		if e == nil {
			// If another request fills the slot first, a later one finds
			// that entry or offers again.
			s.CompareAndSwap(nil, &wrapEntry{next: next, wrapped: build(next)})
			return
		}
		if funcAddr(e.next) == addr {
			return
		}
	}
}
