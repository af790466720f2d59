package main

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgreesWithCore reads the core's constants from its source, in this
// repository, and checks that the command's copies are the same.
func TestAgreesWithCore(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "..", "core", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the core's source: %v (%d files)", err, len(files))
	}
	consts := map[string]constant.Value{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
							consts[name.Name] = constant.MakeFromLiteral(lit.Value, lit.Kind, 0)
						}
					}
				}
			}
		}
	}
	for name, ours := range map[string]constant.Value{
		"HeaderName":        constant.MakeString(headerName),
		"DefaultEnvVar":     constant.MakeString(envVar),
		"DefaultFileEnvVar": constant.MakeString(fileEnvVar),
		"MaxTokenLength":    constant.MakeInt64(maxTokenLength),
	} {
		core, ok := consts[name]
		if !ok {
			t.Errorf("the core has no constant %s with a literal value", name)
			continue
		}
		if !constant.Compare(core, token.EQL, ours) {
			t.Errorf("core's %s is %v, the command's %v", name, core, ours)
		}
	}
}

func TestCheckToken(t *testing.T) {
	for tok, ok := range map[string]bool{
		"abc":                          true,
		"":                             false,
		" abc":                         false,
		"a\x00b":                       false,
		"a\x7fb":                       false,
		strings.Repeat("a", 4096):      true,
		strings.Repeat("a", 4097):      false,
		"Bearer abc":                   true,
		"\u00e9t\u00e9 (not ASCII) ok": true,
	} {
		if err := checkToken(tok); (err == nil) != ok {
			t.Errorf("checkToken(%d bytes): %v, want ok=%v", len(tok), err, ok)
		}
	}
}
