package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// tokenBytes is how many random bytes a new token holds: 256 bits, 43
// base64url characters without padding.
const tokenBytes = 32

// newToken returns 32 bytes from crypto/rand, base64url without padding.
// crypto/rand.Read never fails (it crashes the program rather than return
// short on a broken system).
func newToken() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func runNew(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "new", "[-o FILE [-force]]", `
Prints a new random app API token: 32 bytes from crypto/rand, base64url
without padding (43 characters of A-Z a-z 0-9 - _), which fits an HTTP
header, a gRPC metadata value, an environment variable and a Kubernetes
Secret as it is.

On stdout it ends with a newline, which $(...) removes. With -o the token is
written to FILE, created with mode 0600, without a trailing newline (daprd
sends APP_API_TOKEN as it is, and a newline in it breaks every call daprd
makes to the app). An existing FILE is never overwritten without -force.

  export APP_API_TOKEN="$(apptoken new)"
  apptoken new -o orders.token`)
	out := fs.String("o", "", "write the token to `FILE` (mode 0600) instead of stdout")
	force := fs.Bool("force", false, "with -o, replace FILE if it exists")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("new", "unexpected argument %q", fs.Arg(0))
	}
	if *force && *out == "" {
		return usageError("new", "-force needs -o FILE")
	}
	tok := newToken()
	if *out == "" {
		_, err := fmt.Fprintln(e.stdout, tok)
		return err
	}
	if err := writePrivate(*out, []byte(tok), *force); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "apptoken new: wrote a %d-character token to %s (mode 0600)\n", len(tok), *out)
	return nil
}

// writePrivate writes data to a new file named name with mode 0600. It
// refuses an existing file unless replace is set; then it writes a
// temporary file in the same folder and renames it over, so that the old
// file is replaced whole, and with mode 0600 whatever its mode was.
func writePrivate(name string, data []byte, replace bool) error {
	return writeFile(name, data, 0o600, replace)
}

func writeFile(name string, data []byte, mode fs.FileMode, replace bool) error {
	if !replace {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode) //nolint:gosec // G304: the file the user named on the command line, created, never followed if it exists
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists; not overwriting it (-force replaces it)", name)
		}
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			_ = f.Close()
			_ = os.Remove(name)
			return err
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename
	if err := tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
