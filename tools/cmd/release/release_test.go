package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"v0.1.0", "v1.2.3", "v0.10.0-rc.1"} {
		if err := checkVersion(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"", "0.1.0", "v0.1", "v01.1.0", "v2.0.0", "v0.1.0+meta", "latest"} {
		if err := checkVersion(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestRequireAt(t *testing.T) {
	in := `module github.com/apptoken-go/apptoken/adapters/gin

go 1.26

require (
	github.com/apptoken-go/apptoken/core v0.0.0
	github.com/gin-gonic/gin v1.12.0
)

replace github.com/apptoken-go/apptoken/core => ../../core
`
	out, err := requireAt("go.mod", []byte(in), "v0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(in, "core v0.0.0", "core v0.2.0", 1)
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// Nothing to change: the same bytes.
	same, err := requireAt("go.mod", out, "v0.2.0")
	if err != nil || string(same) != string(out) {
		t.Errorf("second run changed the file: %v\n%s", err, same)
	}
}

func TestChangelogHas(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "CHANGELOG.md", "# Changelog\n\n## v0.2.0 (2026-12-01)\n\n- x\n\n## v0.1.0\n\n- y\n")
	for _, v := range []string{"v0.2.0", "v0.1.0"} {
		if err := changelogHas(dir, v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"v0.3.0", "v0.1", "v0.2.0-rc.1"} {
		if err := changelogHas(dir, v); err == nil {
			t.Errorf("%s: found", v)
		}
	}
}

func write(t *testing.T, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tree writes a small repository of three modules: a core, an adapter
// requiring it, and an example requiring the adapter.
func tree(t *testing.T) string {
	dir := t.TempDir()
	write(t, dir, "VERSION", "v0.1.0\n")
	write(t, dir, "CHANGELOG.md", "## v0.2.0\n\n## v0.1.0\n")
	write(t, dir, "core/go.mod", "module github.com/apptoken-go/apptoken/core\n\ngo 1.26\n")
	write(t, dir, "core/core.go", "package core\n\nfunc F() {}\n")
	write(t, dir, "adapters/x/go.mod", "module github.com/apptoken-go/apptoken/adapters/x\n\ngo 1.26\n\nrequire github.com/apptoken-go/apptoken/core v0.1.0\n\nreplace github.com/apptoken-go/apptoken/core => ../../core\n")
	write(t, dir, "adapters/x/x.go", "package x\n")
	write(t, dir, "examples/go.mod", "module github.com/apptoken-go/apptoken/examples\n\ngo 1.26\n\nrequire github.com/apptoken-go/apptoken/adapters/x v0.1.0\n")
	write(t, dir, "bin/go.mod", "module junk\n")
	return dir
}

func TestModules(t *testing.T) {
	mods, err := modules(tree(t))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mods {
		got = append(got, m.Dir+"="+map[bool]string{true: "published", false: "internal"}[m.published()])
	}
	if want := "adapters/x=published core=published examples=internal"; strings.Join(got, " ") != want {
		t.Errorf("modules: %v, want %s", got, want)
	}
	if tag := mods[0].Tag("v0.1.0"); tag != "adapters/x/v0.1.0" {
		t.Errorf("tag %q", tag)
	}
}

func TestSetVersion(t *testing.T) {
	dir := tree(t)
	if err := setVersion(dir, "v0.2.0"); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"VERSION":           "v0.2.0\n",
		"adapters/x/go.mod": "require github.com/apptoken-go/apptoken/core v0.2.0\n",
		"examples/go.mod":   "require github.com/apptoken-go/apptoken/adapters/x v0.2.0\n",
	} {
		data, _ := os.ReadFile(filepath.Join(dir, file))
		if !strings.Contains(string(data), want) {
			t.Errorf("%s:\n%s\nwant it to hold %q", file, data, want)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "adapters/x/go.mod")); !strings.Contains(string(data), "replace github.com/apptoken-go/apptoken/core => ../../core") {
		t.Errorf("the replace line went:\n%s", data)
	}
	if err := setVersion(dir, "2.0"); err == nil {
		t.Error("set a version that is not one")
	}
}

// TestPrepare cuts a release of the small tree in a scratch git
// repository: it refuses a version without a changelog section, then
// commits the version change and tags the published modules only.
func TestPrepare(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := tree(t)
	for _, args := range [][]string{
		{"init", "-q"}, {"config", "user.email", "dev@example.com"}, {"config", "user.name", "dev"},
		{"add", "."}, {"commit", "-q", "-m", "start"},
	} {
		if _, err := git(dir, args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := prepare(dir, "v0.3.0"); err == nil || !strings.Contains(err.Error(), "CHANGELOG.md has no section") {
		t.Fatalf("prepare without a changelog section: %v", err)
	}
	if tags, _ := git(dir, "tag"); tags != "" {
		t.Fatalf("tags made by a refused release: %s", tags)
	}
	if err := prepare(dir, "v0.2.0"); err != nil {
		t.Fatal(err)
	}
	tags, _ := git(dir, "tag")
	if want := "adapters/x/v0.2.0\ncore/v0.2.0"; tags != want {
		t.Errorf("tags %q, want %q", tags, want)
	}
	if msg, _ := git(dir, "log", "-1", "--format=%s"); msg != "release v0.2.0" {
		t.Errorf("last commit %q", msg)
	}
	if out, _ := git(dir, "status", "--porcelain"); out != "" {
		t.Errorf("work tree left dirty: %s", out)
	}
	if err := prepare(dir, "v0.2.0"); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("a second release of the same version: %v", err)
	}
}

func TestGoBlocks(t *testing.T) {
	md := "text\n```go\nx := 1\n```\n\n```sh\nmake\n```\n  ```go\ny := 2\nz := 3\n  ```\n"
	got := goBlocks(md)
	if len(got) != 2 || got[0].Line != 3 || got[0].Code != "x := 1\n" || got[1].Line != 10 || got[1].Code != "y := 2\nz := 3\n" {
		t.Errorf("%+v", got)
	}
}

func TestHarness(t *testing.T) {
	src, err := harness(snippet{Code: `import apptokengin "github.com/apptoken-go/apptoken/adapters/gin"

r := gin.New()
r.Use(apptokengin.Middleware(v))
`})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"apptokengin \"github.com/apptoken-go/apptoken/adapters/gin\"",
		"\"github.com/gin-gonic/gin\"",
		"v, err := apptoken.New(",
		"r := gin.New()",
		"_ = r\n",
		"var _ = gin.New",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("harness lacks %q:\n%s", want, src)
		}
	}
	// A snippet that makes its own verifier gets none from the harness.
	src, err = harness(snippet{Code: "v, err := apptoken.New()\nif err != nil {\n\tlog.Fatal(err)\n}\ndefer v.Close()\n"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(src), "apptoken.New(") != 1 {
		t.Errorf("two verifiers:\n%s", src)
	}
	if _, err := harness(snippet{Code: "this is not Go\n"}); err == nil {
		t.Error("prose accepted as a snippet")
	}
}
