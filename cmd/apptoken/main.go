package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand: its name, a one-line summary for `apptoken
// help`, and the function that parses its flags and runs it.
type command struct {
	name, summary string
	run           func(ctx context.Context, env *env, args []string) error
}

// env is what a command reads and writes besides its flags: standard
// streams, and whether stderr is a terminal (for the audit's progress
// line). Tests give their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stderrIsTTY    bool
}

var commands = []command{
	{"new", "print a random token (32 bytes from crypto/rand, base64url), or write it to a 0600 file", runNew},
	{"keygen", "make an Ed25519 or P-256 key pair as PEM files, and optionally a JWK Set", runKeygen},
	{"mint", "sign a token (a JWT with aud, exp) for the jwt/ module's verifier", runMint},
	{"inspect", "say what a token read from stdin or a file is, never printing it", runInspect},
	{"k8s", "print the Kubernetes Secret and Deployment patch for an app, or a rotation's steps", runK8s},
	{"audit", "probe a running app from outside and report which calls it answers without the token", runAudit},
}

// errUsage marks an error in how the command was called: exit status 2.
var errUsage = errors.New("usage")

// errFindings is returned by audit when a call was answered without a
// valid token: exit status 1, with nothing more to print.
var errFindings = errors.New("findings")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, stderrIsTTY: isTerminal(os.Stderr)}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit status: 0, 1 for a
// failure (or audit findings), 2 for a usage error.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			if c, ok := lookup(rest[0]); ok {
				return exitStatus(e, c.run(ctx, e, []string{"-h"}))
			}
			fmt.Fprintf(e.stderr, "apptoken help: unknown command %q\n", rest[0])
			return 2
		}
		usage(e.stdout)
		return 0
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(e.stderr, "apptoken: unknown command %q\n\n", name)
		usage(e.stderr)
		return 2
	}
	return exitStatus(e, c.run(ctx, e, rest))
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func exitStatus(e *env, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFindings):
		return 1
	case errors.Is(err, errUsage):
		// flag has printed the problem and the usage already, or the
		// message says what is wrong.
		if msg := strings.TrimPrefix(err.Error(), errUsage.Error()); msg != "" {
			fmt.Fprintf(e.stderr, "apptoken%s\n", msg)
		}
		return 2
	default:
		fmt.Fprintf(e.stderr, "apptoken: %v\n", err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, "apptoken: make, sign, deploy and audit Dapr's app API token.\n\nUsage:\n\n  apptoken <command> [flags] [arguments]\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\n`apptoken help <command>` or `apptoken <command> -h` describes a command and its flags.\n")
}

// usageError is an errUsage with a message: "apptoken <cmd>: <msg>".
func usageError(cmd, format string, args ...any) error {
	return fmt.Errorf("%w %s: %s", errUsage, cmd, fmt.Sprintf(format, args...))
}

// newFlagSet returns the flag set of a command, writing its errors and its
// help to e.stderr, with a usage text that starts with synopsis and text.
func newFlagSet(e *env, name, synopsis, text string) *flag.FlagSet {
	fs := flag.NewFlagSet("apptoken "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: apptoken %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(text))
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprint(e.stderr, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args into fs. A bad flag is a usage error (flag has printed
// it); -h is flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// isTerminal reports whether f is a character device (a terminal), which
// is as much as the audit's progress line needs to know.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}
