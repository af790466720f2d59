// Package harness starts the example apps and real daprd binaries as
// processes on free loopback ports, waits for them to be ready, and stops
// them again. It is shared by the end-to-end tests and the demo.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultStopTimeout is how long Stop waits after SIGTERM before it sends
// SIGKILL to the process group.
const DefaultStopTimeout = 10 * time.Second

// maxLog is how many bytes of a process's output are kept (the tail).
const maxLog = 4 << 20

// LogBuffer keeps the combined stdout and stderr of a process. It is safe for
// concurrent use.
type LogBuffer struct {
	mu      sync.Mutex
	buf     []byte
	dropped int
}

// Write appends p, dropping the oldest bytes beyond a few MiB.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if over := len(l.buf) - maxLog; over > 0 {
		l.dropped += over
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
	return len(p), nil
}

// String returns the output kept so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dropped > 0 {
		return fmt.Sprintf("[... %d bytes dropped ...]\n%s", l.dropped, l.buf)
	}
	return string(l.buf)
}

// Len is the number of bytes written so far, dropped ones included. Pass it
// to Since to look only at what was written afterwards.
func (l *LogBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped + len(l.buf)
}

// Since returns what was written after the mark returned by Len.
func (l *LogBuffer) Since(mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := mark - l.dropped
	if i < 0 {
		i = 0
	}
	if i > len(l.buf) {
		return ""
	}
	return string(l.buf[i:])
}

// Lines returns the kept lines that contain every one of subs.
func (l *LogBuffer) Lines(subs ...string) []string {
	return grepLines(l.String(), subs...)
}

func grepLines(text string, subs ...string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		ok := line != ""
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// GrepLines returns the lines of text that contain every one of subs.
func GrepLines(text string, subs ...string) []string { return grepLines(text, subs...) }

// Proc is a child process in its own process group.
type Proc struct {
	Name string
	Log  *LogBuffer

	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
}

var live = struct {
	sync.Mutex
	m map[*Proc]struct{}
}{m: map[*Proc]struct{}{}}

// StartProc starts bin with args and exactly the environment env, in its own
// process group, its output captured in Log. If this program dies, the kernel
// kills the child (Linux parent-death signal), so nothing outlives a crashed
// or timed-out test binary.
func StartProc(name, bin string, args, env []string, dir string) (*Proc, error) {
	cmd := exec.Command(bin, args...) //nolint:gosec // starting the given binaries (examples, daprd) is this package's job
	cmd.Env = env
	cmd.Dir = dir
	lb := &LogBuffer{}
	cmd.Stdout = lb
	cmd.Stderr = lb
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: lb, cmd: cmd, done: make(chan struct{})}
	live.Lock()
	live.m[p] = struct{}{}
	live.Unlock()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (and process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is the result of waiting for the process; valid once Done is closed.
func (p *Proc) ExitErr() error { <-p.done; return p.waitErr }

// Stop sends SIGTERM to the process group, waits up to timeout for the
// process to exit, then sends SIGKILL to the group. It is safe to call more
// than once and on a process that has already exited.
func (p *Proc) Stop(timeout time.Duration) {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		if !p.Exited() {
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(timeout):
				_, _ = fmt.Fprintf(p.Log, "\n[harness] %s did not exit %v after SIGTERM; sending SIGKILL\n", p.Name, timeout)
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-p.done
			}
		}
		// Anything left in the group (there should be nothing) goes too.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		live.Lock()
		delete(live.m, p)
		live.Unlock()
	})
}

// StopAll stops every process started by this package that is still
// registered. Used on the way out (TestMain, the demo's signal handler).
func StopAll(timeout time.Duration) {
	live.Lock()
	ps := make([]*Proc, 0, len(live.m))
	for p := range live.m {
		ps = append(ps, p)
	}
	live.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); p.Stop(timeout) }()
	}
	wg.Wait()
}

// errBind marks a start that failed because a port was taken between the
// moment it was reserved and the moment the child bound it.
var errBind = errors.New("port already in use")

func bindFailure(log string) bool {
	return strings.Contains(log, "address already in use")
}

// childEnv is this process's environment without anything that could steer
// an app or daprd (APP_*, DAPR_*, APPTOKEN_*), plus extra ("KEY=value").
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "APP_") || strings.HasPrefix(k, "DAPR_") || strings.HasPrefix(k, "APPTOKEN_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix)
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}
