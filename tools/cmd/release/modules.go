package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// prefix is the path every module of the repository starts with.
const prefix = "github.com/apptoken-go/apptoken/"

// mod is one module of the repository.
type mod struct {
	Dir  string // relative to the root, slash-separated: "core", "adapters/gin"
	Path string // its module path
}

// published reports whether m is released for users: everything but the
// examples, the end-to-end suite and the repository's own tools.
func (m mod) published() bool {
	first, _, _ := strings.Cut(m.Dir, "/")
	return first != "examples" && first != "e2e" && first != "tools"
}

// command reports whether m is a command (cmd/...): users install it with
// `go install path@version` rather than require it.
func (m mod) command() bool { return strings.HasPrefix(m.Dir, "cmd/") }

// Tag is the tag the Go command looks for to find m at version.
func (m mod) Tag(version string) string { return m.Dir + "/" + version }

// modules lists the modules under root (every folder with a go.mod, but
// bin/, out/ and hidden folders), sorted by folder.
func modules(root string) ([]mod, error) {
	var mods []mod
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (rel == "bin" || rel == "out" || rel == "testdata" || strings.HasSuffix(rel, "/testdata") || (rel != "." && strings.HasPrefix(d.Name(), "."))) {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		path := modfile.ModulePath(data)
		dir := filepath.ToSlash(filepath.Dir(rel))
		if path != prefix+dir {
			return fmt.Errorf("%s: module path %q, want %q", rel, path, prefix+dir)
		}
		mods = append(mods, mod{Dir: dir, Path: path})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(mods) == 0 {
		return nil, errors.New("no go.mod below " + root)
	}
	slices.SortFunc(mods, func(a, b mod) int { return strings.Compare(a.Dir, b.Dir) })
	return mods, nil
}

var releaseVersion = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)

// checkVersion accepts a release version: vMAJOR.MINOR.PATCH with an
// optional pre-release, and major 0 or 1 (a higher major would change
// every module path).
func checkVersion(v string) error {
	if !releaseVersion.MatchString(v) || !semver.IsValid(v) {
		return fmt.Errorf("%q is not a release version like v0.1.0", v)
	}
	if m := semver.Major(v); m != "v0" && m != "v1" {
		return fmt.Errorf("%s: a major version above v1 needs /%s module paths", v, m)
	}
	return nil
}

// readVersion returns the version in root/VERSION.
func readVersion(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(data))
	if err := checkVersion(v); err != nil {
		return "", fmt.Errorf("VERSION: %w", err)
	}
	return v, nil
}

// setVersion writes version to root/VERSION and makes every go.mod under
// root require the repository's own modules at it. replace directives,
// which point local development at the work tree, are left as they are:
// they do not change what a consumer resolves.
func setVersion(root, version string) error {
	if err := checkVersion(version); err != nil {
		return err
	}
	mods, err := modules(root)
	if err != nil {
		return err
	}
	for _, m := range mods {
		file := filepath.Join(root, filepath.FromSlash(m.Dir), "go.mod")
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		out, err := requireAt(file, data, version)
		if err != nil {
			return err
		}
		if string(out) != string(data) {
			if err := os.WriteFile(file, out, 0o644); err != nil {
				return err
			}
		}
	}
	return os.WriteFile(filepath.Join(root, "VERSION"), []byte(version+"\n"), 0o644)
}

// requireAt returns the go.mod data with every require of one of the
// repository's modules at version.
func requireAt(name string, data []byte, version string) ([]byte, error) {
	f, err := modfile.Parse(name, data, nil)
	if err != nil {
		return nil, err
	}
	changed := false
	for _, r := range f.Require {
		if strings.HasPrefix(r.Mod.Path, prefix) && r.Mod.Version != version {
			if err := f.AddRequire(r.Mod.Path, version); err != nil {
				return nil, err
			}
			changed = true
		}
	}
	if !changed {
		return data, nil
	}
	f.Cleanup()
	return f.Format()
}

// changelogHas reports whether CHANGELOG.md has a section for version: a
// line "## VERSION", optionally followed by a space and more.
func changelogHas(root, version string) error {
	data, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\r\n")
		if line == "## "+version || strings.HasPrefix(line, "## "+version+" ") {
			return nil
		}
	}
	return fmt.Errorf("CHANGELOG.md has no section \"## %s\": write what the release changes first", version)
}
