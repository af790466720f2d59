package examples_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// frameworks are the example services, each a main package of this module.
var frameworks = []string{"gin", "echo", "fiber", "chi", "echov5", "fiberv3", "nethttp"}

// binDir holds the binaries TestMain builds.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "apptoken-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, fw := range frameworks {
		args = append(args, "./"+fw)
	}
	build := exec.Command("go", args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	code := 1
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building the examples: %v\n", err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is a running example service.
type proc struct {
	name string
	addr string // host:port it was told to listen on
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// childEnv is this process's environment without the variables the
// services read, plus extra ("KEY=value").
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "APP_API_TOKEN", "APP_API_TOKEN_FILE", "APP_API_TOKEN_KEYS", "APP_API_TOKEN_AUDIENCE", "APP_PORT", "METRICS_PORT":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// run starts the service fw with env as its whole environment. The process
// is killed when the test ends, and its output shown if the test failed.
func run(t *testing.T, fw string, env []string) *proc {
	t.Helper()
	p := &proc{name: fw, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, fw))
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", fw, p.out)
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v", p.name, timeout)
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		return exit.ExitCode()
	default:
		t.Fatalf("%s: %v", p.name, p.err)
		return -1
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("listener address %v is a %T, not a *net.TCPAddr", ln.Addr(), ln.Addr())
	}
	return addr.Port
}

// serve starts the service fw on a free loopback port with the extra
// environment and waits until it answers. It retries with another port if
// the one chosen was taken in the meantime.
func serve(t *testing.T, fw string, extra ...string) *proc {
	t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		port := strconv.Itoa(freePort(t))
		p := run(t, fw, childEnv(append([]string{"APP_PORT=" + port}, extra...)...))
		p.addr = "127.0.0.1:" + port
		switch err := p.ready(15 * time.Second); {
		case err == nil:
			return p
		case p.exited() && strings.Contains(p.out.String(), "address already in use"):
			continue
		default:
			t.Fatalf("%s: %v", fw, err)
		}
	}
	t.Fatalf("%s: no free port after 5 attempts", fw)
	return nil
}

// ready polls GET /healthz until the service answers.
func (p *proc) ready(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			if p.err == nil {
				return errors.New("exited before answering (exit status 0)")
			}
			return fmt.Errorf("exited before answering (%w)", p.err)
		}
		resp, err := client.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %v: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	return p.wait(t, 15*time.Second)
}

var client = &http.Client{Timeout: 5 * time.Second}

type response struct {
	status      int
	contentType string
	body        string
}

// call sends one request; token "" sends no dapr-api-token header.
func (p *proc) call(t *testing.T, method, path, token, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}
