package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// frame is one entry of a finding's trace, as govulncheck writes it. The
// first frame is the vulnerable symbol (or only its package or module, when
// the finding is not at call level).
type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

// message is one value of govulncheck's -format json stream. Only the parts
// used here are decoded; progress and SBOM messages decode to nothing.
type message struct {
	Config *struct {
		GoVersion string `json:"go_version"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

// Vuln is one vulnerability that the code reaches: govulncheck reported at
// least one call-level finding for it.
type Vuln struct {
	ID      string
	Module  string // the module path, or "stdlib" or "toolchain"
	Version string // the version of Module in use
	Fixed   string // the first version that fixes it; empty if none does yet
	Summary string
	Symbols []string // the vulnerable symbols reached, sorted: "pkg.Func", "pkg.Type.Method"
	Reason  string   // why it is accepted (Report.Accepted only)
}

// Report is govulncheck's findings for one module, sorted by kind.
type Report struct {
	GoVersion string // the Go version govulncheck analysed with, e.g. go1.26.8

	// Deps are the reachable vulnerabilities in module dependencies that are
	// not accepted: each one fails the run.
	Deps []Vuln
	// Accepted are the reachable vulnerabilities in module dependencies that
	// are listed as accepted, each with its reason.
	Accepted []Vuln
	// Std are the reachable vulnerabilities in the standard library (or the
	// toolchain): reported, not a failure.
	Std []Vuln
	// Unreached are the IDs of vulnerabilities in code that is imported but
	// not reached (package- or module-level findings only), sorted.
	Unreached []string
	// StdFixedAll is the Go release that fixes every standard-library
	// vulnerability found, reached or not: set only when at least one
	// unreached standard-library vulnerability has a fix.
	StdFixedAll string
}

// Failed says whether the module reaches a vulnerability in a module
// dependency that is not accepted.
func (r *Report) Failed() bool { return len(r.Deps) > 0 }

// Key names an accepted finding: an OSV ID in one module.
type Key struct{ ID, Module string }

// ParseAccepted reads the accepted findings: an entry starts at the beginning
// of a line with "OSV-ID MODULE-PATH why", and its why goes on over the
// following lines that start with a space or a tab; lines starting with # and
// blank lines are skipped. It returns each entry's reason, its lines joined
// with single spaces.
func ParseAccepted(r io.Reader) (map[Key]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	accepted := map[Key]string{}
	var last *Key
	for n, line := range strings.Split(string(data), "\n") {
		n++
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			// A blank line or a comment ends an entry's reason.
			last = nil
		case line[0] == ' ' || line[0] == '\t':
			if last == nil {
				return nil, fmt.Errorf("line %d: continues no entry (an entry starts at the beginning of a line)", n)
			}
			accepted[*last] += " " + strings.Join(strings.Fields(trimmed), " ")
		default:
			f := strings.Fields(trimmed)
			if len(f) < 3 {
				return nil, fmt.Errorf("line %d: want \"OSV-ID MODULE-PATH why\", got %q", n, trimmed)
			}
			k := Key{f[0], f[1]}
			if _, dup := accepted[k]; dup {
				return nil, fmt.Errorf("line %d: %s %s listed twice", n, k.ID, k.Module)
			}
			accepted[k] = strings.Join(f[2:], " ")
			last = &k
		}
	}
	return accepted, nil
}

// isStd says whether a finding's module is Go itself.
func isStd(module string) bool { return module == "stdlib" || module == "toolchain" }

// Read decodes govulncheck's -format json stream and sorts its findings by
// kind, accepted ones apart.
func Read(r io.Reader, accepted map[Key]string) (*Report, error) {
	summaries := map[string]string{}
	type reached struct {
		v       Vuln
		symbols map[string]bool
	}
	called := map[string]*reached{}  // at least one call-level finding
	unreached := map[string]string{} // found at package or module level only: its fixed version
	unreachedStd := map[string]bool{}
	rep := &Report{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		switch {
		case m.Config != nil:
			rep.GoVersion = m.Config.GoVersion
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f, top := m.Finding, m.Finding.Trace[0]
			if top.Function == "" {
				unreached[f.OSV] = f.FixedVersion
				if isStd(top.Module) {
					unreachedStd[f.OSV] = true
				}
				continue
			}
			c := called[f.OSV]
			if c == nil {
				c = &reached{v: Vuln{ID: f.OSV, Module: top.Module, Version: top.Version, Fixed: f.FixedVersion},
					symbols: map[string]bool{}}
				called[f.OSV] = c
			}
			sym := top.Function
			if top.Receiver != "" {
				sym = strings.TrimPrefix(top.Receiver, "*") + "." + sym
			}
			c.symbols[top.Package+"."+sym] = true
		}
	}
	for id := range called {
		delete(unreached, id)
	}

	for _, id := range slices.Sorted(maps.Keys(called)) {
		c := called[id]
		v := c.v
		v.Summary = summaries[id]
		v.Symbols = slices.Sorted(maps.Keys(c.symbols))
		reason := accepted[Key{v.ID, v.Module}]
		switch {
		case isStd(v.Module):
			rep.Std = append(rep.Std, v)
		case reason != "":
			v.Reason = reason
			rep.Accepted = append(rep.Accepted, v)
		default:
			rep.Deps = append(rep.Deps, v)
		}
	}
	rep.Unreached = slices.Sorted(maps.Keys(unreached))
	all := ""
	for id, fixed := range unreached {
		if unreachedStd[id] && fixed != "" && less(all, fixed) {
			all = fixed
		}
	}
	if all != "" {
		for _, v := range rep.Std {
			if less(all, v.Fixed) {
				all = v.Fixed
			}
		}
	}
	rep.StdFixedAll = all
	return rep, nil
}

// less compares versions like v1.26.9 numerically, field by field; an empty
// version is the smallest.
func less(a, b string) bool {
	pa := strings.Split(strings.TrimPrefix(a, "v"), ".")
	pb := strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// goRelease names the Go release of a standard-library fixed version.
func goRelease(v string) string {
	if v == "" {
		return "no fixed release yet"
	}
	return "go" + strings.TrimPrefix(v, "v")
}

func fixedIn(v Vuln) string {
	if v.Fixed == "" {
		return "no fixed version"
	}
	return "fixed in " + v.Fixed
}

// list prints one vulnerability: its ID, where it is fixed, its summary and
// up to three of the symbols reached.
func list(w io.Writer, v Vuln, fix string) {
	syms := v.Symbols
	if len(syms) > 3 {
		syms = append(slices.Clip(syms[:3]), fmt.Sprintf("and %d more", len(syms)-3))
	}
	fmt.Fprintf(w, "    %s  %s  %s\n      reached through %s\n", v.ID, fix, v.Summary, strings.Join(syms, ", "))
}

// Write prints the report. acceptedFrom names where the accepted findings
// are listed.
func (r *Report) Write(w io.Writer, acceptedFrom string) {
	if len(r.Deps) == 0 {
		fmt.Fprintln(w, "  module dependencies: no reachable vulnerability")
	} else {
		fmt.Fprintf(w, "  module dependencies: %d reachable vulnerabilities (FAIL)\n", len(r.Deps))
		for _, v := range r.Deps {
			list(w, v, fmt.Sprintf("%s@%s, %s", v.Module, v.Version, fixedIn(v)))
		}
	}
	if len(r.Accepted) > 0 {
		fmt.Fprintf(w, "  module dependencies, reviewed and accepted (%s): %d\n", acceptedFrom, len(r.Accepted))
		for _, v := range r.Accepted {
			list(w, v, fmt.Sprintf("%s@%s, %s", v.Module, v.Version, fixedIn(v)))
			fmt.Fprintf(w, "      accepted: %s\n", v.Reason)
		}
	}
	if len(r.Std) == 0 {
		fmt.Fprintf(w, "  standard library (%s): no reachable vulnerability\n", r.GoVersion)
	} else {
		need := ""
		for _, v := range r.Std {
			if v.Fixed != "" && less(need, v.Fixed) {
				need = v.Fixed
			}
		}
		fmt.Fprintf(w, "  standard library (%s): %d reachable vulnerabilities, fixed by building with %s or later (not a failure: it is the toolchain's)\n",
			r.GoVersion, len(r.Std), goRelease(need))
		for _, v := range r.Std {
			list(w, v, "fixed in "+goRelease(v.Fixed))
		}
	}
	if len(r.Unreached) > 0 {
		fmt.Fprintf(w, "  imported but not reached (informational): %s\n", strings.Join(r.Unreached, " "))
		if r.StdFixedAll != "" {
			fmt.Fprintf(w, "  every known standard-library vulnerability here, reached or not, is fixed in %s\n", goRelease(r.StdFixedAll))
		}
	}
}
