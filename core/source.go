package apptoken

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// Source yields accepted tokens. The verifier calls Tokens in New and,
// for a source made with [Reloading] (such as a [File]), again every reload
// interval, off the request path.
//
// Tokens returns the source's tokens as they are; the verifier trims
// surrounding whitespace from each, and rejects an empty list, an empty
// token, a control character or a token longer than [MaxTokenLength].
// String describes the source in error messages and events; it must never
// contain a token.
type Source interface {
	Tokens() ([]string, error)
	String() string
}

// Reloading returns src marked as a source whose tokens can change while
// the process runs: the verifier then reads it again every reload interval
// (see [WithReloadInterval]) in a goroutine that [Verifier.Close] stops,
// while the tokens New got from the other sources stay as they were. When
// its answer changes or fails, it is read again a few times in quick
// succession: a change is put in force, and a failure reported, only when
// two reads in a row agree; a failure keeps the last good tokens. A
// verifier with no such source starts no goroutine.
func Reloading(src Source) Source {
	if src == nil {
		return nil
	}
	if r, ok := src.(reloading); ok {
		return r
	}
	return reloading{src}
}

type reloading struct{ Source }

// DefaultSource is the source a verifier uses when no [WithSource] option is
// given. When the environment variable APP_API_TOKEN_FILE is set, it is
// [File] of that path, reloaded when the file changes, for zero-downtime
// rotation; otherwise it is [Env]("APP_API_TOKEN"), the variable daprd
// reads. An APP_API_TOKEN_FILE that is set but empty is not ignored: it is
// an error, as is a missing file.
func DefaultSource() Source {
	if path, ok := os.LookupEnv(DefaultFileEnvVar); ok {
		if strings.Trim(path, space) == "" {
			return errSource{DefaultFileEnvVar, fmt.Errorf("%w: %s is set but empty", ErrNoToken, DefaultFileEnvVar)}
		}
		return Reloading(fileSource{path: path, from: DefaultFileEnvVar})
	}
	return Env(DefaultEnvVar)
}

// errSource stands for a source that could not be made; it fails in New.
type errSource struct {
	name string
	err  error
}

func (e errSource) String() string            { return "environment variable " + e.name }
func (e errSource) Tokens() ([]string, error) { return nil, e.err }

// Env returns a source that reads the token from the environment variable
// name. The variable is read once, when the verifier is made, as daprd
// reads APP_API_TOKEN once at its start. An unset or blank variable is an
// error that names it.
func Env(name string) Source { return envSource(name) }

type envSource string

func (e envSource) String() string { return "environment variable " + string(e) }

func (e envSource) Tokens() ([]string, error) {
	name := string(e)
	if name == "" || strings.ContainsAny(name, "=\x00") {
		return nil, fmt.Errorf("%w: %q is not a valid variable name", ErrInvalidOption, name)
	}
	val, ok := os.LookupEnv(name)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not set", ErrNoToken, name)
	}
	if strings.Trim(val, space) == "" {
		return nil, fmt.Errorf("%w: %s is empty", ErrNoToken, name)
	}
	return []string{val}, nil
}

// staticSource holds the tokens of WithTokens.
type staticSource []string

func (s staticSource) String() string            { return fmt.Sprintf("static list of %d token(s)", len(s)) }
func (s staticSource) Tokens() ([]string, error) { return []string(s), nil }

// maxFileSize bounds what a file source reads: far more than any realistic
// list of tokens, small enough that a wrong path (a log, a device) fails
// fast instead of being read whole.
const maxFileSize = 1 << 20

// File returns a source that reads tokens from the file at path, one per
// line; blank lines and surrounding whitespace are ignored. This is the
// shape of a Kubernetes secret mounted as a volume, a Docker secret, or a
// file an operator edits. It is [Reloading]: the file is read again every
// reload interval, so a token added or removed takes effect without a
// restart, whichever way the file is changed: written in place, renamed
// over, or swapped by kubelet through its ..data symbolic link. The path is
// opened afresh on every read and symbolic links are followed.
//
// A file that is missing, unreadable, not a regular file (a FIFO or a
// device is refused without blocking), larger than 1 MiB or holding no
// token is an error from New. At a reload the same is an
// [EventReloadFailed] and the last good tokens stay in force; so is a
// file caught empty in the middle of being rewritten in place.
func File(path string) Source { return Reloading(fileSource{path: path}) }

// fileSource reads a file; from names the variable that gave the path,
// for the error messages of DefaultSource.
type fileSource struct{ path, from string }

func (f fileSource) String() string {
	if f.from != "" {
		return "file " + f.path + " (named by " + f.from + ")"
	}
	return "file " + f.path
}

func (f fileSource) Tokens() ([]string, error) {
	// Opened without blocking, then checked: opening a FIFO for reading
	// would otherwise wait for a writer, and a FIFO swapped in between a
	// stat and an open would block the reloader (or New) for good.
	file, err := os.OpenFile(f.path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errNotRegular
	}
	data, err := io.ReadAll(io.LimitReader(file, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidToken, maxFileSize)
	}
	var tokens []string
	for line := range bytes.Lines(data) {
		if t := bytes.Trim(line, space); len(t) > 0 {
			tokens = append(tokens, string(t))
		}
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%w: the file holds no token", ErrNoToken)
	}
	return tokens, nil
}

// readSource reads one source and returns its tokens, normalised. An error
// names the source and, for a bad token, its position, never the token.
func readSource(src Source) ([]string, error) {
	toks, err := src.Tokens()
	if err != nil {
		return nil, fmt.Errorf("apptoken: %s: %w", src, err)
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("apptoken: %s: %w", src, ErrNoToken)
	}
	out := make([]string, len(toks))
	for i, t := range toks {
		t, err := normalize(t)
		if err != nil {
			return nil, fmt.Errorf("apptoken: %s: token %d: %w", src, i+1, err)
		}
		out[i] = t
	}
	return out, nil
}

// union returns the tokens of every list, without duplicates, in the order
// the lists give them.
func union(lists [][]string) []string {
	var all []string
	seen := make(map[string]bool)
	for _, toks := range lists {
		for _, t := range toks {
			if !seen[t] {
				seen[t] = true
				all = append(all, t)
			}
		}
	}
	return all
}

// space is what is trimmed around a configured token.
const space = " \t\r\n"

var (
	errControl    = errors.New("contains a control character")
	errNotRegular = errors.New("not a regular file")
)

// normalize trims the spaces, tabs and line ends around a token (what
// HTTP itself strips from a header value) and checks what remains.
func normalize(t string) (string, error) {
	t = strings.Trim(t, space)
	switch {
	case t == "":
		return "", fmt.Errorf("%w: empty token", ErrNoToken)
	case len(t) > MaxTokenLength:
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenLength)
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w: %w", ErrInvalidToken, errControl)
		}
	}
	return t, nil
}

// live reports whether src is read again while the process runs.
func live(src Source) bool {
	_, ok := src.(reloading)
	return ok
}
