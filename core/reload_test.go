package apptoken_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// Tokens of the rotation tests. rotValid is in every version of the file.
const (
	rotValid = "valid-throughout-8Qm2Xr5Tz1Wk7Lc3Vb9Ne4Hp6Jd0"
	rotOld   = "old-token-Zk4nT8Qw1Ys6Mc3Vb9Xe2Lp7Ha5Jd0Fo8Ug"
	rotNew   = "new-token-Pq7Rs2Tu9Vw4Xy1Za6Bc3De8Fg5Hi0Jk2Lm"
	rotWrong = "wrong-token-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk"
)

// testInterval is the reload interval of these tests.
const testInterval = 25 * time.Millisecond

// eventLog records the events a verifier reports.
type eventLog struct {
	mu     sync.Mutex
	events []apptoken.Event
}

func (l *eventLog) hook(e apptoken.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) all() []apptoken.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]apptoken.Event(nil), l.events...)
}

func (l *eventLog) count(k apptoken.EventKind) int {
	n := 0
	for _, e := range l.all() {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// wait waits until at least n events of kind k have been reported and
// returns the n-th.
func (l *eventLog) wait(t *testing.T, k apptoken.EventKind, n int) apptoken.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		seen := 0
		for _, e := range l.all() {
			if e.Kind == k {
				seen++
				if seen == n {
					return e
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d %s event(s) within 5s; events: %v", n, k, l.all())
		}
		time.Sleep(time.Millisecond)
	}
}

// newFileVerifier makes a verifier reading path every testInterval, with
// the given extra sources, reporting events to the returned log.
func newFileVerifier(t *testing.T, path string, extra ...apptoken.Option) (*apptoken.Verifier, *eventLog) {
	t.Helper()
	log := &eventLog{}
	v, err := apptoken.New(append([]apptoken.Option{
		apptoken.WithSource(apptoken.File(path)),
		apptoken.WithReloadInterval(testInterval),
		apptoken.WithEventHook(log.hook), apptoken.WithEventLog(nil),
	}, extra...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v, log
}

func accepts(v *apptoken.Verifier, tok string) bool {
	return v.Verify("POST", "/orders", []string{tok}) == apptoken.Accepted
}

// eventually polls cond every millisecond until it holds, and returns how
// long that took, or fails the test after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// stays checks that cond holds at every poll for d.
func stays(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if !cond() {
			t.Fatalf("%s: no longer holds", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func lines(tokens ...string) []byte {
	return []byte(strings.Join(tokens, "\n") + "\n")
}

// A tokenFile is a token file and a way of replacing its content.
type tokenFile struct {
	name  string
	setup func(t *testing.T, dir string) (path string, write func(data []byte))
}

var tokenFiles = []tokenFile{
	{"in-place", inPlaceFile},
	{"rename-over", renameOverFile},
	{"kubelet-symlink-swap", kubeletFile},
}

// inPlaceFile rewrites the file in place: truncated on open, then written,
// the same inode throughout, as an editor or `echo > file` does.
func inPlaceFile(t *testing.T, dir string) (string, func([]byte)) {
	path := filepath.Join(dir, "token")
	return path, func(data []byte) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := f.Write(data); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
}

// renameOverFile writes a temporary file in the same folder and renames it
// over the token file, as `mv` and many editors do.
func renameOverFile(t *testing.T, dir string) (string, func([]byte)) {
	path := filepath.Join(dir, "token")
	return path, func(data []byte) {
		f, err := os.CreateTemp(dir, ".token-*")
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := f.Write(data); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
		if err := os.Rename(f.Name(), path); err != nil {
			t.Error(err)
		}
	}
}

// kubeletFile lays the file out as kubelet does for a secret volume:
// token -> ..data/token, ..data -> ..<timestamp>. A change writes a new
// timestamped folder, points ..data_tmp at it, renames ..data_tmp over
// ..data, then removes the old folder.
func kubeletFile(t *testing.T, dir string) (string, func([]byte)) {
	path := filepath.Join(dir, "token")
	n, current := 0, ""
	return path, func(data []byte) {
		n++
		ts := fmt.Sprintf("..2026_11_27_15_04_%02d.%09d", n, 100000000+n)
		if err := os.Mkdir(filepath.Join(dir, ts), 0o755); err != nil {
			t.Error(err)
			return
		}
		if err := os.WriteFile(filepath.Join(dir, ts, "token"), data, 0o644); err != nil {
			t.Error(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(ts, tmp); err != nil {
			t.Error(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Error(err)
		}
		if current == "" {
			if err := os.Symlink(filepath.Join("..data", "token"), path); err != nil {
				t.Error(err)
			}
		} else if err := os.RemoveAll(filepath.Join(dir, current)); err != nil {
			t.Error(err)
		}
		current = ts
	}
}

// Phases of a rotation, as the controller announces them to the workers.
const (
	phaseOld         int32 = iota // the file holds old; new must be rejected
	phaseAddingNew                // new is being added
	phaseNewAccepted              // new was seen accepted; it must stay so
	phaseRemovingOld              // old is being removed
	phaseOldRejected              // old was seen rejected; it must stay so
)

// TestRotationUnderLoad drives verifications from several goroutines while
// the file goes old -> old+new -> new, by each way of changing a file.
func TestRotationUnderLoad(t *testing.T) {
	for _, tf := range tokenFiles {
		t.Run(tf.name, func(t *testing.T) { testRotation(t, tf) })
	}
}

func testRotation(t *testing.T, tf tokenFile) {
	path, write := tf.setup(t, t.TempDir())
	// rotValid comes last, where a file read half-written would lose it.
	write(lines(rotOld, rotValid))
	v, log := newFileVerifier(t, path)

	// A change must be in force one interval after it is written, plus the
	// pauses that confirm it and a margin for the scheduler, generous
	// because -race and other test processes share the CPUs. That a change
	// takes effect in the first reload that sees it, not a later one, is
	// pinned down by read counts in TestReloadConfirmsChanges.
	limit := testInterval + 3*testInterval/10 + 400*time.Millisecond

	var phase atomic.Int32
	var stop atomic.Bool
	var checks atomic.Int64
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			failures := 0
			fail := func(format string, args ...any) {
				if failures++; failures <= 3 {
					t.Errorf("worker %d: "+format, append([]any{w}, args...)...)
				}
			}
			for i := 0; !stop.Load(); i++ {
				// What must hold after the controller saw a state is
				// checked against the phase read before verifying; what
				// must hold until the controller changes the file, against
				// the phase read after.
				before := phase.Load()
				vals := []string{rotValid}
				if i%2 == 1 {
					vals = []string{rotWrong, rotValid} // two values, as daprd 1.14 sends over gRPC
				}
				if d := v.Verify("POST", "/orders", vals); d != apptoken.Accepted {
					fail("token valid throughout rejected (%v) in phase %d", d, before)
				}
				if accepts(v, rotWrong) {
					fail("wrong token accepted")
				}
				newOK, oldOK := accepts(v, rotNew), accepts(v, rotOld)
				after := phase.Load()
				if after == phaseOld && newOK {
					fail("new token accepted before it was written")
				}
				if before >= phaseNewAccepted && !newOK {
					fail("new token rejected in phase %d, after it was accepted", before)
				}
				if after < phaseRemovingOld && !oldOK {
					fail("old token rejected in phase %d, before its removal", after)
				}
				if before == phaseOldRejected && oldOK {
					fail("old token accepted again after it was rejected")
				}
				checks.Add(1)
				if i%8 == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
	}

	time.Sleep(3 * testInterval)
	phase.Store(phaseAddingNew)
	write(lines(rotOld, rotNew, rotValid))
	addLatency := eventually(t, limit, "new token accepted after it was added", func() bool { return accepts(v, rotNew) })
	phase.Store(phaseNewAccepted)

	time.Sleep(3 * testInterval)
	phase.Store(phaseRemovingOld)
	write(lines(rotNew, rotValid))
	removeLatency := eventually(t, limit, "old token rejected after it was removed", func() bool { return !accepts(v, rotOld) })
	phase.Store(phaseOldRejected)

	time.Sleep(3 * testInterval)
	stop.Store(true)
	wg.Wait()

	if n := checks.Load(); n < 100 {
		t.Errorf("only %d rounds of verification ran", n)
	}
	reloaded := 0
	for _, e := range log.all() {
		if e.Kind == apptoken.EventReloaded {
			reloaded++
		}
		if e.Kind == apptoken.EventReloadFailed {
			// Possible only if the writer was paused between truncating
			// and writing for longer than the reloader's confirming reads.
			t.Logf("reload failure reported during the rotation: %v", e.Err)
		}
	}
	if reloaded < 2 {
		t.Errorf("%d EventReloaded, want at least 2 (one per change): %v", reloaded, log.all())
	}
	t.Logf("%d verification rounds; new accepted after %v, old rejected after %v (interval %v, limit %v)",
		checks.Load(), addLatency.Round(time.Millisecond), removeLatency.Round(time.Millisecond), testInterval, limit)
}

// TestReloadKeepsTokensWhileFileTruncated holds an in-place rewrite between
// its truncation and its write for several intervals: the reloader sees an
// empty file, which is a failure, not a change to "no token".
func TestReloadKeepsTokensWhileFileTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, lines(rotOld, rotValid), 0o600); err != nil {
		t.Fatal(err)
	}
	v, log := newFileVerifier(t, path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	e := log.wait(t, apptoken.EventReloadFailed, 1)
	if !errors.Is(e.Err, apptoken.ErrNoToken) || e.Tokens != 2 {
		t.Errorf("failure event %+v; want ErrNoToken with 2 tokens kept", e)
	}
	if !accepts(v, rotValid) || !accepts(v, rotOld) {
		t.Fatal("a truncated file emptied the accepted tokens")
	}
	if _, err := f.Write(lines(rotNew, rotValid)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	e = log.wait(t, apptoken.EventReloaded, 1)
	if e.Tokens != 2 || !accepts(v, rotNew) || !accepts(v, rotValid) || accepts(v, rotOld) {
		t.Errorf("after the write: event %+v, new %v valid %v old %v", e,
			accepts(v, rotNew), accepts(v, rotValid), accepts(v, rotOld))
	}
}

// TestReloadFailures checks each way a file can go bad at a reload: the
// last good tokens stay, the failure is reported once, and the recovery is
// reported with the tokens then in force.
func TestReloadFailures(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(t *testing.T, path string)
		wantErr error
		wantMsg string
	}{
		{"deleted", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, fs.ErrNotExist, "no such file"},
		{"emptied", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, apptoken.ErrNoToken, "holds no token"},
		{"only blank lines", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("\n  \n\t\r\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, apptoken.ErrNoToken, "holds no token"},
		{"replaced by a directory", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, nil, "not a regular file"},
		{"unreadable", func(t *testing.T, path string) {
			if os.Geteuid() == 0 {
				t.Skip("running as root, which can read a file of mode 000; the directory case covers an unreadable path")
			}
			if err := os.Chmod(path, 0); err != nil {
				t.Fatal(err)
			}
		}, fs.ErrPermission, "permission denied"},
		{"control character in a token", func(t *testing.T, path string) {
			if err := os.WriteFile(path, lines(rotValid, "bad\x01"+rotNew), 0o600); err != nil {
				t.Fatal(err)
			}
		}, apptoken.ErrInvalidToken, "token 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(path, lines(rotOld, rotValid), 0o600); err != nil {
				t.Fatal(err)
			}
			v, log := newFileVerifier(t, path)
			c.breakIt(t, path)

			e := log.wait(t, apptoken.EventReloadFailed, 1)
			if c.wantErr != nil && !errors.Is(e.Err, c.wantErr) {
				t.Errorf("error %v is not %v", e.Err, c.wantErr)
			}
			if msg := e.Err.Error(); !strings.Contains(msg, c.wantMsg) || !strings.Contains(msg, "file "+path) {
				t.Errorf("error %q does not say %q and name the file", msg, c.wantMsg)
			}
			if e.Tokens != 2 {
				t.Errorf("event says %d tokens kept, want 2", e.Tokens)
			}
			checkEventHasNoToken(t, e, rotOld, rotValid, rotNew)
			if !accepts(v, rotOld) || !accepts(v, rotValid) || accepts(v, rotWrong) || accepts(v, rotNew) {
				t.Fatal("the accepted tokens changed after a failed reload")
			}
			// The same failure is not reported again every interval.
			stays(t, 6*testInterval, "a single failure event", func() bool {
				return log.count(apptoken.EventReloadFailed) == 1 && accepts(v, rotOld)
			})

			// Recovery: the file is back, with the rotation's next content.
			_ = os.Chmod(path, 0o600)
			_ = os.Remove(path) // a file, or the empty directory
			if err := os.WriteFile(path, lines(rotNew, rotValid), 0o600); err != nil {
				t.Fatal(err)
			}
			e = log.wait(t, apptoken.EventReloaded, 1)
			if e.Tokens != 2 || e.Err != nil {
				t.Errorf("recovery event %+v", e)
			}
			if !accepts(v, rotNew) || !accepts(v, rotValid) || accepts(v, rotOld) {
				t.Error("the file's new tokens are not in force after recovery")
			}
		})
	}
}

// TestReloadRecoveryWithSameTokens: when the file comes back as it was, the
// recovery is still reported, and a second, different failure is reported too.
func TestReloadRecoveryWithSameTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	good := lines(rotValid)
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	v, log := newFileVerifier(t, path)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	first := log.wait(t, apptoken.EventReloadFailed, 1)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	second := log.wait(t, apptoken.EventReloadFailed, 2)
	if !errors.Is(first.Err, fs.ErrNotExist) || !errors.Is(second.Err, apptoken.ErrNoToken) {
		t.Errorf("failures %v, then %v", first.Err, second.Err)
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	e := log.wait(t, apptoken.EventReloaded, 1)
	if e.Tokens != 1 || !accepts(v, rotValid) {
		t.Errorf("recovery %+v", e)
	}
	// Once recovered and unchanged, nothing more is reported.
	stays(t, 5*testInterval, "quiet after recovery", func() bool { return len(log.all()) == 3 })
}

// TestNewFileErrors: a file that is missing, empty, unreadable or not a
// regular file is an error from New that names the file.
func TestNewFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unreadable := write("unreadable", lines(rotValid), 0)
	cases := []struct {
		name    string
		path    string
		wantErr error
		wantMsg string
	}{
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist, "no such file"},
		{"empty", write("empty", nil, 0o600), apptoken.ErrNoToken, "holds no token"},
		{"blank lines", write("blank", []byte("\n \n\t\n"), 0o600), apptoken.ErrNoToken, "holds no token"},
		{"directory", dir, nil, "not a regular file"},
		{"unreadable", unreadable, fs.ErrPermission, "permission denied"},
		{"control character", write("ctrl", lines(rotValid, "x\x00y"), 0o600), apptoken.ErrInvalidToken, "token 2"},
		{"too large", write("large", []byte(strings.Repeat(rotValid+"\n", 1<<20/len(rotValid)+1)), 0o600), apptoken.ErrInvalidToken, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "unreadable" && os.Geteuid() == 0 {
				t.Skip("running as root, which can read a file of mode 000; the directory case covers an unreadable path")
			}
			n0 := reloaderGoroutines()
			v, err := apptoken.New(apptoken.WithSource(apptoken.File(c.path)), apptoken.WithEventLog(nil))
			if err == nil {
				_ = v.Close()
				t.Fatal("New succeeded")
			}
			if v != nil {
				t.Error("New returned a verifier with its error")
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("error %v is not %v", err, c.wantErr)
			}
			if msg := err.Error(); !strings.Contains(msg, c.wantMsg) || !strings.Contains(msg, "file "+c.path) {
				t.Errorf("error %q does not say %q and name the file", msg, c.wantMsg)
			}
			if strings.Contains(err.Error(), rotValid) {
				t.Errorf("error %q contains a token", err)
			}
			if n := reloaderGoroutines(); n != n0 {
				t.Errorf("a failed New left %d reloader goroutine(s)", n-n0)
			}
		})
	}
}

// TestDefaultSourceFileReloads: APP_API_TOKEN_FILE makes the default
// source a reloaded file, and APP_API_TOKEN is then not read.
func TestDefaultSourceFileReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, lines(rotOld), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("APP_API_TOKEN", rotWrong)
	t.Setenv("APP_API_TOKEN_FILE", path)
	log := &eventLog{}
	v, err := apptoken.New(apptoken.WithReloadInterval(testInterval), apptoken.WithEventHook(log.hook), apptoken.WithEventLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if !accepts(v, rotOld) || accepts(v, rotWrong) {
		t.Fatal("default source with APP_API_TOKEN_FILE set")
	}
	if err := os.WriteFile(path, lines(rotOld, rotNew), 0o600); err != nil {
		t.Fatal(err)
	}
	log.wait(t, apptoken.EventReloaded, 1)
	if !accepts(v, rotNew) || !accepts(v, rotOld) {
		t.Error("token added to APP_API_TOKEN_FILE not accepted")
	}
}

// TestCombinedSources: every source's tokens are accepted at once; a
// reload reads the file again and keeps what the other sources gave in New.
func TestCombinedSources(t *testing.T) {
	const envName = "APPTOKEN_TEST_ROTATION_ENV"
	const envTok, envTok2, staticTok = "env-token-1-Hq3Wm8Zr5Tx2", "env-token-2-Lp9Kd4Vs7Yb1", "static-token-Ce6Nf1Gj8Ru3"
	t.Setenv(envName, envTok)
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, lines(rotOld, staticTok), 0o600); err != nil {
		t.Fatal(err)
	}
	v, log := newFileVerifier(t, path, apptoken.WithSource(apptoken.Env(envName)), apptoken.WithTokens(staticTok))
	for _, tok := range []string{envTok, staticTok, rotOld} {
		if !accepts(v, tok) {
			t.Fatalf("token of a combined source not accepted")
		}
	}

	// The variable changes: environment variables are read once, in New.
	t.Setenv(envName, envTok2)
	// The file goes to the new token, and no longer lists the static one.
	if err := os.WriteFile(path, lines(rotNew), 0o600); err != nil {
		t.Fatal(err)
	}
	e := log.wait(t, apptoken.EventReloaded, 1)
	if e.Tokens != 3 {
		t.Errorf("after the reload, %d tokens, want 3 (env, static, new)", e.Tokens)
	}
	if !accepts(v, rotNew) || accepts(v, rotOld) {
		t.Error("the file's change is not in force")
	}
	if !accepts(v, envTok) || accepts(v, envTok2) {
		t.Error("the environment variable was read again at the reload")
	}
	if !accepts(v, staticTok) {
		t.Error("a static token went away with the file's copy of it")
	}

	// The file goes bad: every token in force stays, env and static included.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	log.wait(t, apptoken.EventReloadFailed, 1)
	for _, tok := range []string{envTok, staticTok, rotNew} {
		if !accepts(v, tok) {
			t.Error("a token was dropped by a failed reload")
		}
	}
	// Even though the variable is now unset, the file's recovery succeeds.
	os.Unsetenv(envName)
	if err := os.WriteFile(path, lines(rotValid), 0o600); err != nil {
		t.Fatal(err)
	}
	log.wait(t, apptoken.EventReloaded, 2)
	if !accepts(v, rotValid) || !accepts(v, envTok) || accepts(v, rotNew) {
		t.Error("after recovery")
	}
}

// TestTwoFiles: two reloaded files, each changed on its own.
func TestTwoFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for p, tok := range map[string]string{a: rotOld, b: rotValid} {
		if err := os.WriteFile(p, lines(tok), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	v, log := newFileVerifier(t, a, apptoken.WithSource(apptoken.File(b)))
	if err := os.WriteFile(a, lines(rotNew), 0o600); err != nil {
		t.Fatal(err)
	}
	log.wait(t, apptoken.EventReloaded, 1)
	if !accepts(v, rotNew) || !accepts(v, rotValid) || accepts(v, rotOld) {
		t.Error("after changing one of two files")
	}
	// One of them breaking keeps both files' last good tokens.
	if err := os.WriteFile(b, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e := log.wait(t, apptoken.EventReloadFailed, 1)
	if !strings.Contains(e.Err.Error(), "file "+b) || !accepts(v, rotValid) || !accepts(v, rotNew) {
		t.Errorf("one file of two broken: %v", e.Err)
	}
}

// scriptedSource answers Tokens with each of its answers in turn, then with
// the last one forever, so the reloader's confirming reads can be driven.
type scriptedSource struct {
	mu      sync.Mutex
	answers [][]string
	reads   int
}

func (s *scriptedSource) String() string { return "scripted source" }
func (s *scriptedSource) Tokens() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := min(s.reads, len(s.answers)-1)
	s.reads++
	if s.answers[i] == nil {
		return nil, errors.New("scripted failure")
	}
	return s.answers[i], nil
}

func (s *scriptedSource) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// TestReloadConfirmsChanges: a reading that is not seen twice in a row
// (a file caught half written, a failure that passes) is neither swapped
// in nor reported.
func TestReloadConfirmsChanges(t *testing.T) {
	full := []string{rotNew, rotValid}
	half := []string{rotNew} // the first line of full, as a half-written file gives it
	// readsAtEvent returns a hook that records the events and how many
	// times src had been read when each was reported.
	readsAtEvent := func(src *scriptedSource, log *eventLog, reads *[]int) func(apptoken.Event) {
		var mu sync.Mutex
		return func(e apptoken.Event) {
			mu.Lock()
			*reads = append(*reads, src.readCount())
			mu.Unlock()
			log.hook(e)
		}
	}
	t.Run("clean change", func(t *testing.T) {
		// New reads once; the first reload reads new, confirms it with a
		// second read, and swaps it in: 3 reads, one reload.
		src := &scriptedSource{answers: [][]string{{rotOld, rotValid}, full}}
		log, reads := &eventLog{}, []int{}
		v := mustNew(t, apptoken.WithSource(apptoken.Reloading(src)), apptoken.WithReloadInterval(testInterval), apptoken.WithEventHook(readsAtEvent(src, log, &reads)), apptoken.WithEventLog(nil))
		log.wait(t, apptoken.EventReloaded, 1)
		if !accepts(v, rotNew) || accepts(v, rotOld) || len(reads) != 1 || reads[0] != 3 {
			t.Errorf("change in force after %v reads, want 3", reads)
		}
	})
	t.Run("half-written then complete", func(t *testing.T) {
		// The first reload reads half, then full, full: 4 reads, one reload.
		src := &scriptedSource{answers: [][]string{{rotOld, rotValid}, half, full}}
		log, reads := &eventLog{}, []int{}
		v := mustNew(t, apptoken.WithSource(apptoken.Reloading(src)), apptoken.WithReloadInterval(testInterval), apptoken.WithEventHook(readsAtEvent(src, log, &reads)), apptoken.WithEventLog(nil))
		var rejected atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for log.count(apptoken.EventReloaded) == 0 {
				if !accepts(v, rotValid) {
					rejected.Add(1)
				}
			}
		}()
		e := log.wait(t, apptoken.EventReloaded, 1)
		<-done
		if e.Tokens != 2 || rejected.Load() != 0 || !accepts(v, rotValid) || !accepts(v, rotNew) {
			t.Errorf("event %+v; valid token rejected %d times", e, rejected.Load())
		}
		if n := log.count(apptoken.EventReloadFailed); n != 0 {
			t.Errorf("%d failures reported", n)
		}
		if len(reads) != 1 || reads[0] != 4 {
			t.Errorf("change in force after %v reads, want 4", reads)
		}
	})
	t.Run("failure confirmed", func(t *testing.T) {
		// A lasting failure is reported in the reload that first sees it.
		src := &scriptedSource{answers: [][]string{full, nil}}
		log, reads := &eventLog{}, []int{}
		mustNew(t, apptoken.WithSource(apptoken.Reloading(src)), apptoken.WithReloadInterval(testInterval), apptoken.WithEventHook(readsAtEvent(src, log, &reads)), apptoken.WithEventLog(nil))
		log.wait(t, apptoken.EventReloadFailed, 1)
		if len(reads) != 1 || reads[0] != 3 {
			t.Errorf("failure reported after %v reads, want 3", reads)
		}
	})
	t.Run("failure that passes", func(t *testing.T) {
		src := &scriptedSource{answers: [][]string{full, nil, full}}
		log := &eventLog{}
		v := mustNew(t, apptoken.WithSource(apptoken.Reloading(src)), apptoken.WithReloadInterval(testInterval), apptoken.WithEventHook(log.hook), apptoken.WithEventLog(nil))
		eventually(t, time.Second, "reads", func() bool { return src.readCount() > 5 })
		if len(log.all()) != 0 || !accepts(v, rotValid) {
			t.Errorf("a failure seen once was reported: %v", log.all())
		}
	})
	t.Run("flapping", func(t *testing.T) {
		// Every read differs from the one before: nothing is ever confirmed.
		answers := [][]string{full}
		for i := range 200 {
			answers = append(answers, [][]string{half, {rotOld}, nil}[i%3])
		}
		src := &scriptedSource{answers: answers}
		log := &eventLog{}
		v := mustNew(t, apptoken.WithSource(apptoken.Reloading(src)), apptoken.WithReloadInterval(testInterval), apptoken.WithEventHook(log.hook), apptoken.WithEventLog(nil))
		eventually(t, 2*time.Second, "reads", func() bool { return src.readCount() > 30 })
		if len(log.all()) != 0 || !accepts(v, rotValid) || accepts(v, rotOld) {
			t.Errorf("an unconfirmed reading acted on: %v", log.all())
		}
	})
}

// reloaderGoroutines counts the goroutines running a verifier's reload loop.
func reloaderGoroutines() int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), "apptoken/core.(*Verifier).reloadLoop(")
}

// waitReloaders waits until exactly want reload loops run.
func waitReloaders(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for n := reloaderGoroutines(); n != want; n = reloaderGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("%d reloader goroutine(s) running, want %d", n, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func writeTokenFile(t *testing.T, tokens ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, lines(tokens...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCloseStopsReloader(t *testing.T) {
	n0 := reloaderGoroutines()
	path := writeTokenFile(t, rotOld)
	// An interval far longer than the test: Close must not wait for a tick.
	v, err := apptoken.New(apptoken.WithSource(apptoken.File(path)), apptoken.WithReloadInterval(time.Hour), apptoken.WithEventLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	waitReloaders(t, n0+1)
	start := time.Now()
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	waitReloaders(t, n0)
	if err := v.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if !accepts(v, rotOld) {
		t.Error("a closed verifier stopped accepting its last tokens")
	}
}

func TestCloseStopsReloading(t *testing.T) {
	n0 := reloaderGoroutines()
	path := writeTokenFile(t, rotOld)
	v, log := newFileVerifier(t, path)
	waitReloaders(t, n0+1)
	// Close from several goroutines at once: all return once it has ended.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := v.Close(); err != nil {
				t.Error(err)
			}
			if n := reloaderGoroutines(); n > n0+1 {
				t.Errorf("%d reloaders", n)
			}
		}()
	}
	wg.Wait()
	waitReloaders(t, n0)
	if err := os.WriteFile(path, lines(rotNew), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * testInterval)
	if accepts(v, rotNew) || !accepts(v, rotOld) || len(log.all()) != 0 {
		t.Error("the file was read again after Close")
	}
}

// fixedSource is a source of the application's own, not made Reloading.
type fixedSource struct{}

func (fixedSource) String() string            { return "fixed source" }
func (fixedSource) Tokens() ([]string, error) { return []string{rotValid}, nil }

func TestNoReloaderWithoutChangingSource(t *testing.T) {
	t.Setenv("APPTOKEN_TEST_ROTATION_ENV", rotOld)
	n0 := reloaderGoroutines()
	for name, opt := range map[string]apptoken.Option{
		"static":        apptoken.WithTokens(rotValid),
		"env":           apptoken.WithSource(apptoken.Env("APPTOKEN_TEST_ROTATION_ENV")),
		"custom source": apptoken.WithSource(fixedSource{}),
	} {
		v, err := apptoken.New(opt, apptoken.WithReloadInterval(testInterval), apptoken.WithEventLog(nil))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		time.Sleep(2 * time.Millisecond)
		if n := reloaderGoroutines(); n != n0 {
			t.Errorf("%s: %d reloader goroutine(s) started", name, n-n0)
		}
		if err := v.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
		if err := v.Close(); err != nil {
			t.Errorf("%s: second Close: %v", name, err)
		}
	}
}

// TestLeakCheckSeesReloader makes sure the leak check can fail: a verifier
// that is not closed is seen.
func TestLeakCheckSeesReloader(t *testing.T) {
	n0 := reloaderGoroutines()
	v, _ := newFileVerifier(t, writeTokenFile(t, rotOld))
	waitReloaders(t, n0+1)
	_ = v.Close()
	waitReloaders(t, n0)
}

// checkEventHasNoToken fails when an event, printed in any way, shows a
// token or a sizeable part of one.
func checkEventHasNoToken(t *testing.T, e apptoken.Event, tokens ...string) {
	t.Helper()
	texts := []string{fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e), e.Kind.String()}
	if e.Err != nil {
		texts = append(texts, e.Err.Error())
	}
	for _, text := range texts {
		for _, tok := range tokens {
			for _, part := range tokenParts(tok) {
				if strings.Contains(text, part) {
					t.Errorf("event text %q contains (part of) a token", text)
				}
			}
		}
	}
}

// tokenParts returns a token and its dot-separated parts of 8 bytes or more.
func tokenParts(tok string) []string {
	parts := []string{tok}
	for _, p := range strings.Split(tok, ".") {
		if len(p) >= 8 && p != tok {
			parts = append(parts, p)
		}
	}
	return parts
}
