package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// user holds the scratch module's program: main.go, and one file per
// published adapter (named after its folder, adapters/gin -> gin.go.txt)
// with the check of that adapter. Another published module may have one too,
// named after its folder (otel -> otel.go.txt). The files end in .txt so
// that they are compiled only in the scratch module, against the released
// modules.
//
//go:embed user
var user embed.FS

// check is make release-check.
func check(root string) error {
	version, err := readVersion(root)
	if err != nil {
		return err
	}
	mods, err := modules(root)
	if err != nil {
		return err
	}
	var published []mod
	for _, m := range mods {
		if m.published() {
			published = append(published, m)
		}
	}
	if out, _ := git(root, "status", "--porcelain", "--", "."); out != "" {
		fmt.Printf("release-check: note: modules are zipped from the last commit; uncommitted changes are not checked:\n%s\n", out)
	}
	tmp, err := os.MkdirTemp("", "apptoken-release-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	proxy := filepath.Join(tmp, "proxy")
	for _, m := range published {
		if err := addToProxy(root, proxy, m, version); err != nil {
			return err
		}
	}
	fmt.Printf("release-check: on-disk proxy with %d modules at %s\n", len(published), version)

	modcache := filepath.Join(tmp, "modcache")
	env, err := userEnv(proxy, modcache)
	if err != nil {
		return err
	}
	// The module cache is read-only; go clean empties it.
	defer func() { _ = goIn(tmp, env, "clean", "-modcache") }()
	scratch := filepath.Join(tmp, "user")
	if err := writeScratch(scratch, published); err != nil {
		return err
	}
	for _, m := range published {
		if m.command() {
			continue // installed below, as a user installs a command
		}
		if err := goIn(scratch, env, "get", m.Path+"@"+version); err != nil {
			return fmt.Errorf("a user cannot go get %s@%s: %w", m.Path, version, err)
		}
		fmt.Printf("release-check: go get %s@%s: ok\n", m.Path, version)
	}
	snippets, err := readmeSnippets(filepath.Join(root, "README.md"))
	if err != nil {
		return err
	}
	for i, s := range snippets {
		dir := filepath.Join(scratch, "readme", fmt.Sprintf("snippet%02d", i+1))
		src, err := harness(s)
		if err != nil {
			return fmt.Errorf("README.md:%d: %w", s.Line, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
			return err
		}
	}
	if err := goIn(scratch, env, "mod", "tidy"); err != nil {
		return err
	}
	for i, s := range snippets {
		if err := goIn(scratch, env, "build", "-o", os.DevNull, fmt.Sprintf("./readme/snippet%02d", i+1)); err != nil {
			return fmt.Errorf("the Go snippet at README.md:%d does not compile against the released modules: %w", s.Line, err)
		}
	}
	fmt.Printf("release-check: %d Go snippets of README.md compile\n", len(snippets))

	cmd := exec.Command("go", "run", ".")
	cmd.Dir, cmd.Env = scratch, env
	out, err := cmd.CombinedOutput()
	fmt.Print(string(out))
	if err != nil {
		return fmt.Errorf("the program built against the released modules failed: %w", err)
	}
	for _, m := range published {
		if m.command() {
			if err := checkCommand(tmp, env, m, version); err != nil {
				return err
			}
		}
	}
	fmt.Printf("release-check: every published module at %s installs and works as a user gets it\n", version)
	return nil
}

// addToProxy writes m at version to the on-disk module proxy dir, in the
// layout the Go command reads with GOPROXY=file://dir: the module zipped
// from the last commit by golang.org/x/mod/zip, which leaves out what the
// Go command leaves out (nested modules, vendor folders, files git does not
// track), its go.mod, its .info and the version list.
func addToProxy(root, proxy string, m mod, version string) error {
	esc, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	dir := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mv := module.Version{Path: m.Path, Version: version}
	var zipped bytes.Buffer
	if err := zip.CreateFromVCS(&zipped, mv, root, "HEAD", m.Dir); err != nil {
		return fmt.Errorf("zip %s: %w", m.Dir, err)
	}
	gomod, err := git(root, "show", "HEAD:"+m.Dir+"/go.mod")
	if err != nil {
		return err
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	for name, data := range map[string][]byte{
		version + ".zip":  zipped.Bytes(),
		version + ".mod":  []byte(gomod + "\n"),
		version + ".info": info,
		"list":            []byte(version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// userEnv is the environment of a user outside the workspace: the on-disk
// proxy first, then the download folder of this machine's module cache
// (itself laid out as a proxy, so that modules already fetched are not
// fetched again), then the usual proxy; no checksum database for the
// repository's modules, which no public one knows yet.
//
// The user's module cache is modcache, a new one: the go command takes a
// module in its cache to be immutable, down to its list of files, so a zip
// cached from an earlier tree at the same version would otherwise answer
// instead of the one just made.
func userEnv(proxy, modcache string) ([]string, error) {
	out, err := exec.Command("go", "env", "GOPROXY", "GOMODCACHE").Output()
	if err != nil {
		return nil, err
	}
	vals := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(vals) != 2 {
		return nil, fmt.Errorf("go env GOPROXY GOMODCACHE: %q", out)
	}
	upstream, cached := vals[0], filepath.Join(vals[1], "cache", "download")
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOWORK", "GOPROXY", "GONOSUMDB", "GOFLAGS", "GOPRIVATE", "GONOPROXY", "GOMODCACHE":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GOWORK=off",
		"GOFLAGS=-mod=mod",
		"GOMODCACHE="+modcache,
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(cached)+","+upstream,
		"GONOSUMDB="+strings.TrimSuffix(prefix, "/"),
	), nil
}

// writeScratch writes the scratch module: its go.mod, main.go, the check
// file of every published adapter and those of other published modules
// that have one.
func writeScratch(dir string, published []mod) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{"go.mod": []byte("module example.com/apptoken-user\n\ngo 1.26\n")}
	main, err := user.ReadFile("user/main.go.txt")
	if err != nil {
		return err
	}
	files["main.go"] = main
	for _, m := range published {
		name, adapter := strings.CutPrefix(m.Dir, "adapters/")
		src, err := user.ReadFile("user/" + name + ".go.txt")
		switch {
		case err == nil:
			files[name+".go"] = src
		case adapter:
			return fmt.Errorf("no release check for %s: write tools/cmd/release/user/%s.go.txt", m.Dir, name)
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// tokenLine is what `apptoken new` prints: 43 base64url characters.
var tokenLine = regexp.MustCompile(`^[A-Za-z0-9_-]{43}\n$`)

// checkCommand installs the command m at version with `go install
// path@version`, as its README tells users to (which refuses a go.mod with
// replace directives), and runs it: `apptoken new` must print a token.
func checkCommand(tmp string, env []string, m mod, version string) error {
	gobin := filepath.Join(tmp, "bin")
	if err := goIn(tmp, append(env, "GOBIN="+gobin), "install", m.Path+"@"+version); err != nil {
		return fmt.Errorf("a user cannot go install %s@%s: %w", m.Path, version, err)
	}
	bin := filepath.Join(gobin, path.Base(m.Dir))
	out, err := exec.Command(bin, "new").Output()
	if err != nil {
		return fmt.Errorf("%s new, installed from %s@%s: %w", path.Base(m.Dir), m.Path, version, err)
	}
	if !tokenLine.Match(out) {
		return fmt.Errorf("%s new, installed from %s@%s, printed %d bytes, not a 43-character base64url token", path.Base(m.Dir), m.Path, version, len(out))
	}
	fmt.Printf("release-check: go install %s@%s: ok, `%s new` prints a 43-character token\n", m.Path, version, path.Base(m.Dir))
	return nil
}

// goIn runs the go command in dir with env, its output shown on failure.
func goIn(dir string, env []string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
