package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bin is the apptoken binary TestMain builds: the tests run the command as
// a user does.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "apptoken-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "apptoken")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	code := 1
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building apptoken: %v\n", err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	if examplesDir != "" { // built by the audit tests
		_ = os.RemoveAll(examplesDir)
	}
	os.Exit(code)
}

// result of one run of the binary.
type ran struct {
	stdout, stderr string
	code           int
}

// apptokenCmd runs the binary with args in dir ("" for a new temporary
// folder), stdin as its input.
func apptokenCmd(t *testing.T, dir, stdin string, args ...string) ran {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := ran{stdout: out.String(), stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("apptoken %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// must runs the binary and fails the test unless it exits 0.
func must(t *testing.T, dir, stdin string, args ...string) ran {
	t.Helper()
	r := apptokenCmd(t, dir, stdin, args...)
	if r.code != 0 {
		t.Fatalf("apptoken %s: exit status %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func TestHelp(t *testing.T) {
	r := must(t, "", "", "help")
	for _, c := range commands {
		if !strings.Contains(r.stdout, "  "+c.name+" ") {
			t.Errorf("apptoken help does not list %s:\n%s", c.name, r.stdout)
		}
		for _, args := range [][]string{{c.name, "-h"}, {"help", c.name}} {
			h := apptokenCmd(t, "", "", args...)
			if h.code != 0 || !strings.Contains(h.stderr, "usage: apptoken "+c.name) {
				t.Errorf("apptoken %s: exit %d, want 0 and a usage on stderr:\n%s", strings.Join(args, " "), h.code, h.stderr)
			}
		}
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"help", "frobnicate"}, {"new", "-nosuchflag"}, {"new", "extra"}} {
		if r := apptokenCmd(t, "", "", args...); r.code != 2 {
			t.Errorf("apptoken %q: exit status %d, want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
}
