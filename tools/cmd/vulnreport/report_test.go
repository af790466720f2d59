package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Hand-made pieces of a `govulncheck -format json` stream, in the shape
// govulncheck v1.9.0 writes them (one JSON value after another).
const (
	config   = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","db":"file:///db","go_version":"go1.26.8","scan_level":"symbol","scan_mode":"source"}}`
	progress = `{"progress":{"message":"Scanning your code and 42 packages across 3 dependent modules for known vulnerabilities..."}}`
	sbom     = `{"SBOM":{"go_version":"go1.26.8","modules":[{"path":"example.com/app"},{"path":"example.com/dep","version":"v1.2.0"}],"roots":["example.com/app"]}}`

	osvDep = `{"osv":{"schema_version":"1.3.1","id":"GO-2026-0002","modified":"2026-01-02T00:00:00Z","summary":"Parser panics on deep nesting in example.com/dep",
	  "affected":[{"package":{"name":"example.com/dep","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}]}}`
	osvEcho = `{"osv":{"id":"GO-2026-6872","summary":"RealIP trusts X-Forwarded-For in github.com/labstack/echo/v4"}}`
	osvStd1 = `{"osv":{"id":"GO-2026-0100","summary":"Quadratic parsing in net/http"}}`
	osvStd2 = `{"osv":{"id":"GO-2026-0101","summary":"Panic in crypto/x509"}}`
	osvStd3 = `{"osv":{"id":"GO-2026-0102","summary":"Leak in archive/zip"}}`

	// example.com/dep: module level, package level, then two call-level
	// findings (one a method), the second one twice.
	depModule   = `{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.2.3","trace":[{"module":"example.com/dep","version":"v1.2.0"}]}}`
	depPackage  = `{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.2.3","trace":[{"module":"example.com/dep","version":"v1.2.0","package":"example.com/dep/parse"}]}}`
	depFunc     = `{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.2.3","trace":[{"module":"example.com/dep","version":"v1.2.0","package":"example.com/dep/parse","function":"Parse","position":{"filename":"parse.go","line":10}},{"module":"example.com/app","package":"example.com/app","function":"main"}]}}`
	depMethod   = `{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.2.3","trace":[{"module":"example.com/dep","version":"v1.2.0","package":"example.com/dep/parse","function":"Next","receiver":"*Decoder"},{"module":"example.com/app","package":"example.com/app","function":"main"}]}}`
	echoFunc    = `{"finding":{"osv":"GO-2026-6872","trace":[{"module":"github.com/labstack/echo/v4","version":"v4.16.0","package":"github.com/labstack/echo/v4","function":"ServeHTTP","receiver":"*Echo"}]}}`
	std1Func    = `{"finding":{"osv":"GO-2026-0100","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"ReadRequest"}]}}`
	std2Func    = `{"finding":{"osv":"GO-2026-0101","fixed_version":"v1.26.10","trace":[{"module":"toolchain","version":"v1.26.8","package":"crypto/x509","function":"Verify","receiver":"Certificate"}]}}`
	std3Package = `{"finding":{"osv":"GO-2026-0102","fixed_version":"v1.26.11","trace":[{"module":"stdlib","version":"v1.26.8","package":"archive/zip"}]}}`
	noFixFunc   = `{"finding":{"osv":"GO-2026-0103","trace":[{"module":"stdlib","version":"v1.26.8","package":"os","function":"Open"}]}}`
	emptyTrace  = `{"finding":{"osv":"GO-2026-0104","fixed_version":"v1.0.0","trace":[]}}`
)

func stream(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

var echoAccepted = map[Key]string{
	{"GO-2026-6872", "github.com/labstack/echo/v4"}: "no echo v4 release fixes it.",
}

func TestRead(t *testing.T) {
	dep := Vuln{ID: "GO-2026-0002", Module: "example.com/dep", Version: "v1.2.0", Fixed: "v1.2.3",
		Summary: "Parser panics on deep nesting in example.com/dep",
		Symbols: []string{"example.com/dep/parse.Decoder.Next", "example.com/dep/parse.Parse"}}
	echo := Vuln{ID: "GO-2026-6872", Module: "github.com/labstack/echo/v4", Version: "v4.16.0",
		Summary: "RealIP trusts X-Forwarded-For in github.com/labstack/echo/v4",
		Symbols: []string{"github.com/labstack/echo/v4.Echo.ServeHTTP"}}
	echoOK := echo
	echoOK.Reason = "no echo v4 release fixes it."
	std1 := Vuln{ID: "GO-2026-0100", Module: "stdlib", Version: "v1.26.8", Fixed: "v1.26.9",
		Summary: "Quadratic parsing in net/http", Symbols: []string{"net/http.ReadRequest"}}
	std2 := Vuln{ID: "GO-2026-0101", Module: "toolchain", Version: "v1.26.8", Fixed: "v1.26.10",
		Summary: "Panic in crypto/x509", Symbols: []string{"crypto/x509.Certificate.Verify"}}

	tests := []struct {
		name     string
		in       string
		accepted map[Key]string
		want     Report
	}{{
		name: "nothing found",
		in:   stream(config, progress, sbom),
		want: Report{GoVersion: "go1.26.8"},
	}, {
		name: "empty input",
		in:   "",
		want: Report{},
	}, {
		name: "a dependency reached fails, symbols deduplicated and sorted",
		in:   stream(config, osvDep, depModule, depPackage, depFunc, depMethod, depFunc),
		want: Report{GoVersion: "go1.26.8", Deps: []Vuln{dep}},
	}, {
		name: "a dependency imported but not reached is counted only",
		in:   stream(config, osvDep, depModule, depPackage),
		want: Report{GoVersion: "go1.26.8", Unreached: []string{"GO-2026-0002"}},
	}, {
		name: "reached wins over unreached, in either order",
		in:   stream(config, osvDep, depFunc, depModule),
		want: Report{GoVersion: "go1.26.8", Deps: []Vuln{{ID: dep.ID, Module: dep.Module, Version: dep.Version,
			Fixed: dep.Fixed, Summary: dep.Summary, Symbols: []string{"example.com/dep/parse.Parse"}}}},
	}, {
		name:     "an accepted finding does not fail, and keeps its reason",
		in:       stream(config, osvEcho, echoFunc),
		accepted: echoAccepted,
		want:     Report{GoVersion: "go1.26.8", Accepted: []Vuln{echoOK}},
	}, {
		name:     "an acceptance names the module: another module's finding still fails",
		in:       stream(config, osvEcho, echoFunc),
		accepted: map[Key]string{{"GO-2026-6872", "github.com/labstack/echo/v5"}: "only v5"},
		want:     Report{GoVersion: "go1.26.8", Deps: []Vuln{echo}},
	}, {
		name: "standard library (stdlib and toolchain) reached, and one unreached with a later fix",
		in:   stream(config, osvStd1, osvStd2, osvStd3, std2Func, std1Func, std3Package),
		want: Report{GoVersion: "go1.26.8", Std: []Vuln{std1, std2},
			Unreached: []string{"GO-2026-0102"}, StdFixedAll: "v1.26.11"},
	}, {
		name: "a reached standard-library fix later than the unreached ones sets the release for all",
		in:   stream(config, std1Func, std2Func, `{"finding":{"osv":"GO-2026-0105","fixed_version":"v1.26.9","trace":[{"module":"stdlib","package":"io"}]}}`),
		want: Report{GoVersion: "go1.26.8",
			Std: []Vuln{{ID: std1.ID, Module: "stdlib", Version: "v1.26.8", Fixed: "v1.26.9", Symbols: std1.Symbols},
				{ID: std2.ID, Module: "toolchain", Version: "v1.26.8", Fixed: "v1.26.10", Symbols: std2.Symbols}},
			Unreached: []string{"GO-2026-0105"}, StdFixedAll: "v1.26.10"},
	}, {
		name: "a standard-library finding without a fix",
		in:   stream(config, noFixFunc),
		want: Report{GoVersion: "go1.26.8", Std: []Vuln{{ID: "GO-2026-0103", Module: "stdlib", Version: "v1.26.8",
			Symbols: []string{"os.Open"}}}},
	}, {
		name: "a finding without a trace is ignored",
		in:   stream(config, emptyTrace),
		want: Report{GoVersion: "go1.26.8"},
	}, {
		name:     "every kind at once",
		in:       stream(config, progress, osvDep, osvEcho, osvStd1, osvStd3, depFunc, depMethod, echoFunc, std1Func, std3Package, depModule),
		accepted: echoAccepted,
		want: Report{GoVersion: "go1.26.8", Deps: []Vuln{dep}, Accepted: []Vuln{echoOK}, Std: []Vuln{std1},
			Unreached: []string{"GO-2026-0102"}, StdFixedAll: "v1.26.11"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.in), tt.accepted)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
			if got.Failed() != (len(tt.want.Deps) > 0) {
				t.Errorf("Failed() = %v with %d dependency findings", got.Failed(), len(tt.want.Deps))
			}
		})
	}
}

func TestReadMalformed(t *testing.T) {
	for _, in := range []string{
		`{"config":`,
		config + "\nnot json\n",
		`{"finding":{"trace":"not a list"}}`,
	} {
		if _, err := Read(strings.NewReader(in), nil); err == nil {
			t.Errorf("Read(%q): no error", in)
		}
	}
}

func TestLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "v1.26.9", true},
		{"v1.26.9", "", false},
		{"", "", false},
		{"v1.26.9", "v1.26.10", true},
		{"v1.26.10", "v1.26.9", false},
		{"v1.26.9", "v1.26.9", false},
		{"v1.26", "v1.26.1", true},
		{"v1.25.12", "v1.26.0", true},
		{"1.26.1", "v1.26.2", true},
	}
	for _, tt := range tests {
		if got := less(tt.a, tt.b); got != tt.want {
			t.Errorf("less(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseAccepted(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[Key]string
		wantErr string
	}{{
		name: "empty",
		in:   "",
		want: map[Key]string{},
	}, {
		name: "comments and blank lines only",
		in:   "# a comment\n\n   \n# another\n",
		want: map[Key]string{},
	}, {
		name: "one-line entries",
		in:   "GO-1 example.com/a why a\nGO-2 example.com/b  why  b\n",
		want: map[Key]string{{"GO-1", "example.com/a"}: "why a", {"GO-2", "example.com/b"}: "why b"},
	}, {
		name: "a reason over several lines, tabs and spaces, no final newline",
		in:   "# header\nGO-1 example.com/a no release\n\tfixes it;\n    the entry  names\tthe module.\n\nGO-1 example.com/b other",
		want: map[Key]string{
			{"GO-1", "example.com/a"}: "no release fixes it; the entry names the module.",
			{"GO-1", "example.com/b"}: "other",
		},
	}, {
		name: "CRLF line ends",
		in:   "GO-1 example.com/a why\r\n\tmore\r\n",
		want: map[Key]string{{"GO-1", "example.com/a"}: "why more"},
	}, {
		name:    "no reason",
		in:      "GO-1 example.com/a\n",
		wantErr: "line 1: want",
	}, {
		name:    "a continuation with nothing to continue",
		in:      "# header\n\tstray reason\n",
		wantErr: "line 2: continues no entry",
	}, {
		name:    "a continuation after a blank line",
		in:      "GO-1 example.com/a why\n\n\tstray\n",
		wantErr: "line 3: continues no entry",
	}, {
		name:    "listed twice",
		in:      "GO-1 example.com/a why\nGO-1 example.com/a again\n",
		wantErr: "line 2: GO-1 example.com/a listed twice",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAccepted(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAcceptedFile checks the list that make vuln uses.
func TestAcceptedFile(t *testing.T) {
	f, err := os.Open("accepted.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseAccepted(f)
	if err != nil {
		t.Fatal(err)
	}
	for k, why := range got {
		if !strings.HasPrefix(k.ID, "GO-") || !strings.Contains(k.Module, ".") {
			t.Errorf("entry %q %q: want a Go vulnerability ID and a module path", k.ID, k.Module)
		}
		if len(why) < 40 {
			t.Errorf("%s %s: the reason %q says too little", k.ID, k.Module, why)
		}
	}
}

func TestWrite(t *testing.T) {
	rep, err := Read(strings.NewReader(stream(config, osvDep, osvEcho, osvStd1, osvStd2, osvStd3,
		depFunc, depMethod, echoFunc, std1Func, std2Func, std3Package,
		`{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.2.3","trace":[{"module":"example.com/dep","package":"example.com/dep/parse","function":"Scan"}]}}`,
		`{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.2.3","trace":[{"module":"example.com/dep","package":"example.com/dep/parse","function":"Peek","receiver":"Decoder"}]}}`,
		`{"finding":{"osv":"GO-2026-0003","trace":[{"module":"example.com/other","version":"v0.1.0","package":"example.com/other","function":"F"}]}}`,
	)), echoAccepted)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	rep.Write(&b, "accepted.txt")
	want := `  module dependencies: 2 reachable vulnerabilities (FAIL)
    GO-2026-0002  example.com/dep@v1.2.0, fixed in v1.2.3  Parser panics on deep nesting in example.com/dep
      reached through example.com/dep/parse.Decoder.Next, example.com/dep/parse.Decoder.Peek, example.com/dep/parse.Parse, and 1 more
    GO-2026-0003  example.com/other@v0.1.0, no fixed version  
      reached through example.com/other.F
  module dependencies, reviewed and accepted (accepted.txt): 1
    GO-2026-6872  github.com/labstack/echo/v4@v4.16.0, no fixed version  RealIP trusts X-Forwarded-For in github.com/labstack/echo/v4
      reached through github.com/labstack/echo/v4.Echo.ServeHTTP
      accepted: no echo v4 release fixes it.
  standard library (go1.26.8): 2 reachable vulnerabilities, fixed by building with go1.26.10 or later (not a failure: it is the toolchain's)
    GO-2026-0100  fixed in go1.26.9  Quadratic parsing in net/http
      reached through net/http.ReadRequest
    GO-2026-0101  fixed in go1.26.10  Panic in crypto/x509
      reached through crypto/x509.Certificate.Verify
  imported but not reached (informational): GO-2026-0102
  every known standard-library vulnerability here, reached or not, is fixed in go1.26.11
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	clean, err := Read(strings.NewReader(stream(config, osvDep, depPackage)), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	clean.Write(&b, "accepted.txt")
	want = `  module dependencies: no reachable vulnerability
  standard library (go1.26.8): no reachable vulnerability
  imported but not reached (informational): GO-2026-0002
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	acceptedFile := filepath.Join(dir, "accepted.txt")
	if err := os.WriteFile(acceptedFile, []byte("GO-2026-6872 github.com/labstack/echo/v4 reviewed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(badFile, []byte("GO-2026-6872\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		in         string
		wantStatus int
		wantOut    string // a line the output must hold
		wantErr    string // text standard error must hold
	}{
		{"clean", nil, stream(config, std1Func, depPackage), 0, "  standard library (go1.26.8): 1 reachable", ""},
		{"a dependency reached", nil, stream(config, echoFunc), 1, "  module dependencies: 1 reachable vulnerabilities (FAIL)", ""},
		{"accepted", []string{"-accepted", acceptedFile}, stream(config, echoFunc), 0,
			"  module dependencies, reviewed and accepted (" + acceptedFile + "): 1", ""},
		{"accepted, and another dependency reached", []string{"-accepted", acceptedFile}, stream(config, echoFunc, depFunc), 1,
			"      accepted: reviewed", ""},
		{"unreadable input", nil, "{", 4, "", "reading govulncheck's output"},
		{"missing accepted file", []string{"-accepted", filepath.Join(dir, "none.txt")}, "", 2, "", "none.txt"},
		{"malformed accepted file", []string{"-accepted", badFile}, "", 2, "", "bad.txt: line 1"},
		{"unknown flag", []string{"-x"}, "", 2, "", "flag provided but not defined"},
		{"arguments", []string{"GO-1 m why"}, "", 2, "", "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			status := run(tt.args, strings.NewReader(tt.in), &out, &errOut)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d; stderr: %s", status, tt.wantStatus, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output does not hold %q:\n%s", tt.wantOut, out.String())
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr does not hold %q:\n%s", tt.wantErr, errOut.String())
			}
		})
	}
}
