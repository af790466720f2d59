package apptoken

import (
	"bytes"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) count(substr string) int { return strings.Count(s.String(), substr) }

// rejectionLimits is WithRejectionLog with other limits, for tests.
func rejectionLimits(limit int, interval time.Duration) Option {
	return optionFunc(func(c *config) { c.rejectLimit, c.rejectInterval = limit, interval })
}

func newLimitedLog(t *testing.T, limit int, interval time.Duration) (*Verifier, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	v, err := New(WithTokens("a-token-for-the-rejection-log"), WithEventLog(nil),
		WithRejectionLog(slog.New(slog.NewTextHandler(buf, nil))), rejectionLimits(limit, interval))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v, buf
}

const (
	rejectedLine = `msg="apptoken: request rejected"`
	summaryLine  = `msg="apptoken: rejected requests not logged"`
)

// TestRejectionLogSummaryWithoutFurtherRequests: the summary comes when the
// window ends, though no request follows; the next rejection is logged again.
func TestRejectionLogSummaryWithoutFurtherRequests(t *testing.T) {
	const interval = 50 * time.Millisecond
	v, buf := newLimitedLog(t, 3, interval)
	start := time.Now()
	for range 100 {
		v.Verify("POST", "/orders", nil)
	}
	if n := buf.count(rejectedLine); n != 3 {
		t.Fatalf("%d lines, want 3:\n%s", n, buf)
	}
	deadline := time.Now().Add(5 * time.Second)
	for buf.count(summaryLine) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no summary after 5s:\n%s", buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(start); d < interval {
		t.Errorf("summary after %v, before the window of %v ended", d, interval)
	}
	if !strings.Contains(buf.String(), "not_logged=97 rejected=100") {
		t.Errorf("summary:\n%s", buf)
	}
	v.Verify("POST", "/orders", nil)
	if n := buf.count(rejectedLine); n != 4 {
		t.Errorf("%d lines, want a fourth in the new window:\n%s", n, buf)
	}
	// Under the limit: Close has nothing to summarise.
	_ = v.Close()
	if n := buf.count(summaryLine); n != 1 {
		t.Errorf("%d summaries, want 1:\n%s", n, buf)
	}
}

// TestRejectionLogEveryWindow: a steady flood gives limit lines and one
// summary per window, and every rejection is either logged or counted.
func TestRejectionLogEveryWindow(t *testing.T) {
	const interval = 30 * time.Millisecond
	v, buf := newLimitedLog(t, 2, interval)
	total := 0
	for end := time.Now().Add(10 * interval); time.Now().Before(end); {
		v.Verify("POST", "/orders", []string{"wrong"})
		total++
		time.Sleep(100 * time.Microsecond)
	}
	_ = v.Close()
	out := buf.String()
	lines, summaries := strings.Count(out, rejectedLine), strings.Count(out, summaryLine)
	// The last window may hold too few rejections for a summary.
	if summaries < 2 || lines > 2*(summaries+1) {
		t.Errorf("%d lines and %d summaries, want at most 2 lines per window:\n%s", lines, summaries, out)
	}
	notLogged := 0
	for _, l := range strings.Split(out, "\n") {
		var n int
		if i := strings.Index(l, "not_logged="); i >= 0 {
			if _, err := fmt.Sscan(l[i+len("not_logged="):], &n); err != nil {
				t.Fatal(err)
			}
			notLogged += n
		}
	}
	if lines+notLogged != total {
		t.Errorf("%d logged + %d not logged, want %d rejections", lines, notLogged, total)
	}
}

// TestRejectionLogCloseStopsTimer: Close writes the pending summary at
// once, stops the timer and leaves no goroutine behind.
func TestRejectionLogCloseStopsTimer(t *testing.T) {
	v, buf := newLimitedLog(t, 1, time.Hour)
	for range 5 {
		v.Verify("POST", "/orders", nil)
	}
	start := time.Now()
	_ = v.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if !strings.Contains(buf.String(), "not_logged=4 rejected=5") {
		t.Errorf("no summary from Close:\n%s", buf)
	}
	if v.rejections.timer.Stop() {
		t.Error("the timer was still running after Close")
	}
	buf2 := make([]byte, 1<<20)
	if s := string(buf2[:runtime.Stack(buf2, true)]); strings.Contains(s, "(*rejectionLog).fire") {
		t.Errorf("a timer function runs after Close:\n%s", s)
	}
}

// TestRejectionLogCloseRacesTimer: Close and the timer's end of a window
// meet; exactly one summary is written, whichever wins.
func TestRejectionLogCloseRacesTimer(t *testing.T) {
	for i := range 50 {
		interval := time.Duration(1+i%5) * time.Millisecond
		v, buf := newLimitedLog(t, 1, interval)
		for range 3 {
			v.Verify("POST", "/orders", nil)
		}
		time.Sleep(interval)
		_ = v.Close()
		if n := buf.count(summaryLine); n != 1 {
			t.Fatalf("%d summaries, want 1:\n%s", n, buf)
		}
	}
}
