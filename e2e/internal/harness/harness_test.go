package harness

import (
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFreePortsDistinctAndFree(t *testing.T) {
	a, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range append(a, b...) {
		if seen[p] {
			t.Fatalf("port %d handed out twice: %v %v", p, a, b)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		_ = l.Close()
	}
}

// A process that ignores SIGTERM, with a child of its own, is killed with
// its whole group after the timeout.
func TestStopKillsTheGroup(t *testing.T) {
	p, err := StartProc("stubborn", "/bin/sh", []string{"-c", "trap '' TERM; sleep 60 & echo started; wait"}, os.Environ(), "")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Log.String(), "started") {
		if time.Now().After(deadline) {
			t.Fatal("the shell did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	p.Stop(300 * time.Millisecond)
	if !p.Exited() {
		t.Fatal("still running after Stop")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Stop took %v", d)
	}
	time.Sleep(50 * time.Millisecond)
	if left := liveInGroup(t, p.Pid()); len(left) > 0 {
		t.Fatalf("processes of the group still alive: %v", left)
	}
	if !strings.Contains(p.Log.String(), "SIGKILL") {
		t.Errorf("the log does not say SIGKILL was needed:\n%s", p.Log.String())
	}
	p.Stop(time.Second) // a second Stop is harmless
}

func TestLogBufferSince(t *testing.T) {
	var l LogBuffer
	_, _ = l.Write([]byte("one\n"))
	mark := l.Len()
	_, _ = l.Write([]byte("two rejected\nthree rejected\n"))
	if got := l.Since(mark); got != "two rejected\nthree rejected\n" {
		t.Fatalf("Since = %q", got)
	}
	if n := len(l.Lines("rejected")); n != 2 {
		t.Fatalf("Lines = %d", n)
	}
}

func TestChildEnvDropsTokens(t *testing.T) {
	t.Setenv("APP_API_TOKEN", "x")
	t.Setenv("DAPR_API_TOKEN", "y")
	t.Setenv("APPTOKEN_LEGACY_SIDECAR", "1")
	for _, kv := range childEnv("APP_PORT=1") {
		k, _, _ := strings.Cut(kv, "=")
		if k == "APP_API_TOKEN" || k == "DAPR_API_TOKEN" || k == "APPTOKEN_LEGACY_SIDECAR" {
			t.Fatalf("%s leaked into the child's environment", k)
		}
	}
}

func TestTableGroupsAgreeingApps(t *testing.T) {
	var r Recorder
	for _, app := range HTTPApps {
		r.Add("v1.18.0", app, "invoke", "200", true)
	}
	r.Add("v1.18.0", "gin", "direct", "401", true)
	r.Add("v1.18.0", "chi", "direct", "200", false)
	r.Add("v1.18.0", "grpc", "invoke", "200", true)
	got := r.Table([]string{"invoke", "direct"})
	for _, want := range []string{
		"| call | v1.18.0 http | v1.18.0 grpc |",
		"http = " + strings.Join(HTTPApps, ", ") + "; grpc = grpc.",
		"| invoke | 200 | 200 |",
		"| direct | gin: 401; chi: UNEXPECTED: 200 | n/a |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

// liveInGroup lists the processes of process group pgid that are not
// zombies (a killed child may wait a moment to be reaped by init).
func liveInGroup(t *testing.T, pgid int) []string {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var left []string
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if f[2] == strconv.Itoa(pgid) {
			left = append(left, d.Name()+" "+s[:i+1])
		}
	}
	return left
}

func TestCompareVersions(t *testing.T) {
	in := []string{"v1.18.0", "v1.9.1", "v1.16.5", "v1.16.0", "v1.14.4", "v1.15.13"}
	want := []string{"v1.9.1", "v1.14.4", "v1.15.13", "v1.16.0", "v1.16.5", "v1.18.0"}
	slices.SortFunc(in, CompareVersions)
	if !slices.Equal(in, want) {
		t.Errorf("sorted %v, want %v", in, want)
	}
	for _, bad := range []string{"1.16.0", "v1.16", "v1.16.x", "v1.16.0-rc.1", ""} {
		if _, ok := ParseVersion(bad); ok {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

// The compatibility table: versions as columns in version order, one row per
// (call, group), the stable cell text rather than the outcome, one cell per
// app where a group's apps disagree, and "not run" where a version has no
// observation.
func TestCompatTable(t *testing.T) {
	var r Recorder
	r.AddCell("v1.18.0", "gin", "deliver", "delivered", "delivered, counted 3", true)
	r.AddCell("v1.18.0", "chi", "deliver", "delivered", "delivered, counted 2", true)
	r.AddCell("v1.9.0", "gin", "deliver", "delivered", "delivered, counted 1", true)
	r.AddCell("v1.9.0", "chi", "deliver", "refused", "refused ×4", false)
	r.AddCell("v1.18.0", "grpc", "deliver", "delivered", "x", true)
	r.Add("v1.18.0", "grpc-legacy", "deliver", "delivered, counted 1", true)
	got := r.CompatTable([]CompatRow{
		{Call: "deliver", Group: "http", Label: "delivery", App: "HTTP"},
		{Call: "deliver", Group: "grpc", Label: "delivery", App: "gRPC"},
		{Call: "deliver", Group: "grpc+legacy", Label: "delivery", App: "legacy"},
	})
	want := "| call | app | v1.9.0 | v1.18.0 |\n" +
		"|---|---|---|---|\n" +
		"| delivery | HTTP | gin: delivered; chi: UNEXPECTED: refused | delivered |\n" +
		"| delivery | gRPC | not run | delivered |\n" +
		"| delivery | legacy | not run | delivered, counted 1 |\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
