package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// marker is a file that exists only at the repository root.
var marker = filepath.Join("e2e", "testdata", "dapr", "config.yaml")

// FindRoot returns the repository root: the nearest directory at or above
// the working directory that holds e2e/testdata/dapr/config.yaml.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repository root not found: no %s at or above the working directory", marker)
		}
		dir = parent
	}
}

// HTTPApps are the example apps served over HTTP, in the order tables list them.
var HTTPApps = []string{"gin", "echo", "fiber", "chi", "echov5", "fiberv3", "nethttp"}

// GRPCApp is the example app served over gRPC.
const GRPCApp = "grpc"

// BuildExamples builds the named example apps (those of HTTPApps, and
// GRPCApp) into outDir with `go build` and returns the path of each
// binary by name. The HTTP examples live in the module at examples/, the gRPC
// example in its own module at examples/grpc; the go command finds the
// workspace (or, with GOWORK=off, each module's replace directives) itself.
func BuildExamples(root, outDir string, names ...string) (map[string]string, error) {
	paths := map[string]string{}
	var httpPkgs []string
	var grpc bool
	for _, n := range names {
		switch {
		case n == GRPCApp:
			grpc = true
		case slices.Contains(HTTPApps, n):
			httpPkgs = append(httpPkgs, "./"+n)
		default:
			return nil, fmt.Errorf("build: unknown example %q", n)
		}
		paths[n] = filepath.Join(outDir, n)
	}
	if len(httpPkgs) > 0 {
		args := append([]string{"build", "-o", outDir + string(filepath.Separator)}, httpPkgs...)
		if err := goCmd(filepath.Join(root, "examples"), args...); err != nil {
			return nil, err
		}
	}
	if grpc {
		if err := goCmd(filepath.Join(root, "examples", "grpc"), "build", "-o", paths[GRPCApp], "."); err != nil {
			return nil, err
		}
	}
	for n, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("build: %s: no binary at %s", n, p)
		}
	}
	return paths, nil
}

func goCmd(dir string, args ...string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("build: %s does not exist", dir)
	}
	cmd := exec.Command("go", args...) //nolint:gosec // go build of the repository's own example packages
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

// BuildCommand builds the apptoken command (cmd/apptoken, its own module)
// into out.
func BuildCommand(root, out string) error {
	return goCmd(filepath.Join(root, "cmd", "apptoken"), "build", "-o", out, ".")
}
