package apptoken_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// logBuffer collects log lines; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSuffix(l.b.String(), "\n"), "\n")
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newRejectionLogVerifier(t *testing.T) (*apptoken.Verifier, *logBuffer) {
	t.Helper()
	buf := &logBuffer{}
	v := mustNew(t, apptoken.WithTokens(token), apptoken.WithRejectionLog(slog.New(slog.NewTextHandler(buf, nil))))
	return v, buf
}

// TestRejectionLogFlood: 10,000 bad requests from several goroutines, among
// as many good ones, give 10 lines and, at Close, one summary of the rest.
func TestRejectionLogFlood(t *testing.T) {
	v, buf := newRejectionLogVerifier(t)
	const workers, perWorker = 8, 1250
	bad := [][]string{nil, {other}, {strings.Repeat("x", apptoken.MaxTokenLength+1)}, {"a", "b", "c", "d", "e"}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				v.Verify("POST", "/orders", bad[(w+i)%len(bad)])
				v.Verify("POST", "/orders", []string{token})
				v.Verify("GET", "/healthz", nil)
			}
		})
	}
	wg.Wait()
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	lines := buf.lines()
	t.Logf("%d rejected requests gave %d log lines; the last: %s", workers*perWorker, len(lines), lines[len(lines)-1])
	if len(lines) != 11 {
		t.Fatalf("%d lines, want 10 and a summary:\n%s", len(lines), buf)
	}
	for _, l := range lines[:10] {
		if !strings.Contains(l, `msg="apptoken: request rejected" method=POST path=/orders decision=`) {
			t.Errorf("not a rejection line: %s", l)
		}
	}
	if sum := lines[10]; !strings.Contains(sum, `msg="apptoken: rejected requests not logged" not_logged=9990 rejected=10000 since=`) {
		t.Errorf("summary: %s", sum)
	}
	if strings.Contains(buf.String(), token) || strings.Contains(buf.String(), other) {
		t.Error("a presented value reached the log")
	}
	// Closed: no more lines, and Close again changes nothing.
	v.Verify("POST", "/orders", nil)
	_ = v.Close()
	if n := len(buf.lines()); n != 11 {
		t.Errorf("%d lines after Close, want 11", n)
	}
}

// TestRejectionLogLine: what one line says; long methods and paths are
// cut; gRPC calls are logged with their full method name.
func TestRejectionLogLine(t *testing.T) {
	v, buf := newRejectionLogVerifier(t)
	long := "/" + strings.Repeat("p", 1000)
	v.Verify("POST", "/orders", []string{token})
	v.Verify("GET", "/healthz", nil)
	v.Verify(strings.Repeat("M", 100), long, []string{other})
	v.VerifyGRPC("/orders.Orders/Create", nil)
	lines := buf.lines()
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf)
	}
	want := `level=WARN msg="apptoken: request rejected" method=` + strings.Repeat("M", 32) + `... path=` + long[:256] + `... decision=mismatch`
	if !strings.Contains(lines[0], want) {
		t.Errorf("got  %s\nwant %s", lines[0], want)
	}
	if want := `msg="apptoken: request rejected" method=POST path=/orders.Orders/Create decision=missing`; !strings.Contains(lines[1], want) {
		t.Errorf("got  %s\nwant %s", lines[1], want)
	}
	if strings.Contains(buf.String(), other) {
		t.Error("a presented value reached the log")
	}
}

// TestRejectionLogOff: without the option, or with a nil logger, nothing is
// logged, not even to slog's default logger.
func TestRejectionLogOff(t *testing.T) {
	buf := &logBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, nil)))
	defer slog.SetDefault(prev)
	for _, opts := range [][]apptoken.Option{nil, {apptoken.WithRejectionLog(nil)}} {
		v := mustNew(t, append(opts, apptoken.WithTokens(token))...)
		v.Verify("POST", "/orders", nil)
		_ = v.Close()
	}
	if buf.String() != "" {
		t.Errorf("logged:\n%s", buf)
	}
}

// TestRejectionLogAllocs: the log costs an accepted request nothing, and a
// rejection past the limit no allocation.
func TestRejectionLogAllocs(t *testing.T) {
	v, _ := newRejectionLogVerifier(t)
	good, bad := []string{token}, []string{other}
	for range 20 {
		v.Verify("POST", "/orders", bad)
	}
	for name, values := range map[string][]string{"accepted": good, "rejected, not logged": bad} {
		if n := testing.AllocsPerRun(1000, func() { v.Verify("POST", "/orders", values) }); n != 0 {
			t.Errorf("%s: %v allocations per request", name, n)
		}
	}
}

// A flood of requests without the token: ten lines, then one line for the
// rest, written when the minute is over or, as here, by Close.
func ExampleWithRejectionLog() {
	// Lines without their time, so that the output is the same every run.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "since" {
				return slog.Attr{}
			}
			return a
		},
	}))
	v, err := apptoken.New(apptoken.WithTokens("s3cr3t-token-shared-with-daprd"), apptoken.WithRejectionLog(log))
	if err != nil {
		panic(err)
	}
	for i := range 1000 {
		v.Verify("POST", fmt.Sprintf("/orders/%d", i), []string{"guess"})
	}
	v.Verify("POST", "/orders", []string{"s3cr3t-token-shared-with-daprd"}) // accepted: not logged
	v.Close()
	// Output:
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/0 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/1 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/2 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/3 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/4 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/5 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/6 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/7 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/8 decision=mismatch
	// level=WARN msg="apptoken: request rejected" method=POST path=/orders/9 decision=mismatch
	// level=WARN msg="apptoken: rejected requests not logged" not_logged=990 rejected=1000
}
