package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
)

// snippet is one ```go block of a Markdown file.
type snippet struct {
	Line int    // of its first line of code, 1-based
	Code string // as written
}

// readmeSnippets returns the ```go blocks of the Markdown file at path.
func readmeSnippets(path string) ([]snippet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return goBlocks(string(data)), nil
}

// goBlocks returns the ```go fenced blocks of md.
func goBlocks(md string) []snippet {
	var out []snippet
	var cur *snippet
	var code strings.Builder
	n := 0
	for line := range strings.Lines(md) {
		n++
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```go":
			cur = &snippet{Line: n + 1}
			code.Reset()
		case cur != nil && trimmed == "```":
			cur.Code = code.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			code.WriteString(line)
		}
	}
	return out
}

// A framework the harness imports for a snippet that imports its adapter,
// with a symbol of each package that keeps an unused import legal.
type pkg struct{ name, path, symbol string }

var (
	// always imported: the core and what the snippets take for granted.
	basePkgs = []pkg{
		{"apptoken", "github.com/apptoken-go/apptoken/core", "New"},
		{"log", "log", "Fatal"},
		{"slog", "log/slog", "Default"},
		{"http", "net/http", "NewServeMux"},
	}
	// by the adapter's import path.
	frameworkPkgs = map[string][]pkg{
		"github.com/apptoken-go/apptoken/adapters/gin": {{"gin", "github.com/gin-gonic/gin", "New"}},
		"github.com/apptoken-go/apptoken/adapters/echo": {
			{"echo", "github.com/labstack/echo/v4", "New"},
			{"middleware", "github.com/labstack/echo/v4/middleware", "Recover"},
		},
		"github.com/apptoken-go/apptoken/adapters/echov5": {
			{"echo", "github.com/labstack/echo/v5", "New"},
			{"middleware", "github.com/labstack/echo/v5/middleware", "Recover"},
		},
		"github.com/apptoken-go/apptoken/adapters/fiber":   {{"fiber", "github.com/gofiber/fiber/v2", "New"}},
		"github.com/apptoken-go/apptoken/adapters/fiberv3": {{"fiber", "github.com/gofiber/fiber/v3", "New"}},
		"github.com/apptoken-go/apptoken/adapters/chi":     {{"chi", "github.com/go-chi/chi/v5", "NewRouter"}},
		"github.com/apptoken-go/apptoken/adapters/grpc":    {{"grpc", "google.golang.org/grpc", "NewServer"}},
	}
)

// harness completes a snippet into a program, by fixed rules and nothing
// else: its import lines move to the file's import block, next to the core,
// log, net/http and the framework of every adapter it imports; its other
// lines become the body of main, after a verifier v (unless the snippet
// makes its own) and before a use of every name it declares. A snippet
// that is a whole file (it starts with "package") is taken as it is.
func harness(s snippet) ([]byte, error) {
	if strings.HasPrefix(strings.TrimSpace(s.Code), "package ") {
		return []byte(s.Code), nil
	}
	var imports, body []string
	for line := range strings.Lines(s.Code) {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "import ") {
			imports = append(imports, strings.TrimSpace(strings.TrimPrefix(t, "import ")))
			continue
		}
		body = append(body, line)
	}
	code := strings.Join(body, "")

	// What the snippet imports itself, by path.
	own := map[string]bool{}
	for _, spec := range imports {
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p\nimport "+spec, parser.ImportsOnly)
		if err != nil || len(f.Imports) != 1 {
			return nil, fmt.Errorf("import line %q: %w", spec, err)
		}
		path, _ := strconv.Unquote(f.Imports[0].Path.Value)
		own[path] = true
	}
	pkgs := slices.Clone(basePkgs)
	for path := range own {
		pkgs = append(pkgs, frameworkPkgs[path]...)
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return strings.Compare(a.path, b.path) })
	pkgs = slices.CompactFunc(pkgs, func(a, b pkg) bool { return a.path == b.path })

	declared, err := declaredNames(code)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("// Code made by the release check from a snippet of README.md.\n\npackage main\n\nimport (\n")
	for _, spec := range imports {
		fmt.Fprintf(&b, "\t%s\n", spec)
	}
	for _, p := range pkgs {
		if !own[p.path] {
			fmt.Fprintf(&b, "\t%s %q\n", p.name, p.path)
		}
	}
	b.WriteString(")\n\n")
	for _, p := range pkgs {
		if !own[p.path] {
			fmt.Fprintf(&b, "var _ = %s.%s\n", p.name, p.symbol)
		}
	}
	b.WriteString("\n// createOrder stands for the application's handler.\nfunc createOrder(http.ResponseWriter, *http.Request) {}\n\nfunc main() {\n")
	if !slices.Contains(declared, "v") {
		b.WriteString("\tv, err := apptoken.New(apptoken.WithTokens(\"release-check-token\"))\n\tif err != nil {\n\t\tlog.Fatal(err)\n\t}\n\t_ = v\n")
	}
	b.WriteString(code)
	for _, name := range declared {
		fmt.Fprintf(&b, "\t_ = %s\n", name)
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("the snippet is not Go statements: %w\n%s", err, b.Bytes())
	}
	return src, nil
}

// declaredNames returns the names the statements of code declare at their
// top level (:= and var), in order, without _.
func declaredNames(code string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\nfunc f() {\n"+code+"\n}", 0)
	if err != nil {
		return nil, fmt.Errorf("the snippet is not Go statements: %w", err)
	}
	var names []string
	add := func(id *ast.Ident) {
		if id.Name != "_" && !slices.Contains(names, id.Name) {
			names = append(names, id.Name)
		}
	}
	fn, ok := f.Decls[0].(*ast.FuncDecl)
	if !ok {
		return nil, fmt.Errorf("the snippet is not Go statements")
	}
	for _, st := range fn.Body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, e := range st.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						add(id)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := st.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, spec := range g.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok {
						for _, id := range vs.Names {
							add(id)
						}
					}
				}
			}
		}
	}
	return names, nil
}
