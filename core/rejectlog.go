package apptoken

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// The limits of the rejection log (see WithRejectionLog).
const (
	rejectionLogLimit    = 10
	rejectionLogInterval = time.Minute
	// Method and path come from the caller; a log line quotes at most this
	// many bytes of each.
	maxLoggedMethod = 32
	maxLoggedPath   = 256
)

// WithRejectionLog logs rejected requests to l, at level Warn: one line per
// request, with its method, its path and the [Decision], never a token;
// exempt and accepted requests are not logged. A flood of bad requests
// cannot become a flood of lines: once 10 requests have been logged, the
// following ones are only counted, until a minute has passed since the first
// of them; then one line tells how many were not logged, and the next
// rejection starts a new minute. A flood, however large, thus writes at most
// 11 lines per such minute, and never more than 22 in any 60 seconds.
// Method and path are cut to 32 and 256 bytes.
//
// The summary line is written by a timer when the minute is over, whether or
// not another request comes, or by Close, which writes what is still
// pending; requests rejected after Close are not logged. An accepted request
// costs the log nothing, and a rejected one beyond the limit one atomic add;
// a logged one costs what l costs to write a line, and the first of a minute
// also takes a lock to start the timer. WithRejectionLog(nil) logs nothing,
// which is the default.
func WithRejectionLog(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.rejectionLog = l })
}

// rejectionLog writes at most limit lines per window, a window starting at
// the first rejection after the previous one ended and lasting interval,
// then a summary of the rest. The request path is lock-free: an atomic add,
// and the mutex only to arm the timer at a window's first rejection.
type rejectionLog struct {
	log      *slog.Logger
	limit    int64
	interval time.Duration

	n      atomic.Int64 // rejections in the current window
	closed atomic.Bool

	mu      sync.Mutex // guards what follows, and orders summaries
	timer   *time.Timer
	armed   bool      // a summary is scheduled
	since   time.Time // the window's first rejection
	pending sync.WaitGroup
}

func newRejectionLog(l *slog.Logger, limit int, interval time.Duration) *rejectionLog {
	return &rejectionLog{log: l, limit: int64(limit), interval: interval}
}

// record counts a rejection and logs it while the window's limit allows.
// method and path may share memory with the request; slog keeps nothing
// past the call.
func (r *rejectionLog) record(d Decision, method, path string) {
	if r.closed.Load() {
		return
	}
	k := r.n.Add(1)
	if k == 1 {
		r.arm()
	}
	if k > r.limit {
		return
	}
	r.log.LogAttrs(context.Background(), slog.LevelWarn, "apptoken: request rejected",
		slog.String("method", clip(method, maxLoggedMethod)),
		slog.String("path", clip(path, maxLoggedPath)),
		slog.String("decision", d.String()))
}

// arm schedules the summary of the window that has just started.
func (r *rejectionLog) arm() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() || r.armed {
		return
	}
	r.armed, r.since = true, time.Now()
	r.pending.Add(1)
	if r.timer == nil {
		r.timer = time.AfterFunc(r.interval, r.fire)
	} else {
		r.timer.Reset(r.interval)
	}
}

// fire ends the window: the timer's function.
func (r *rejectionLog) fire() {
	defer r.pending.Done()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return // Close has written the summary
	}
	r.armed = false
	r.summarise()
}

// summarise ends the window and writes how many rejections were not
// logged, if any. r.mu is held.
func (r *rejectionLog) summarise() {
	n := r.n.Swap(0)
	if n <= r.limit {
		return
	}
	r.log.LogAttrs(context.Background(), slog.LevelWarn, "apptoken: rejected requests not logged",
		slog.Int64("not_logged", n-r.limit), slog.Int64("rejected", n), slog.Time("since", r.since))
}

// close writes what is pending and stops the timer, waiting for its
// function if it has already started. It is safe to call more than once,
// concurrently: every call returns once the summary is written.
func (r *rejectionLog) close() {
	r.mu.Lock()
	if !r.closed.Swap(true) {
		if r.armed && r.timer.Stop() {
			r.pending.Done() // its function will not run
		}
		r.summarise()
	}
	r.mu.Unlock()
	r.pending.Wait()
}

// clip returns s cut to at most n bytes, marked when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
