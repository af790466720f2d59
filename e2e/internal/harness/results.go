package harness

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Recorder collects what each call actually did, per daprd version and app,
// and renders it as a compact table. It is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	rows []Result
}

// Result is one observation.
type Result struct {
	Version string // daprd version, e.g. "v1.18.0"
	App     string // an HTTP app of HTTPApps, "grpc" or "grpc-legacy"
	Call    string // what was done, e.g. "invoke via daprd"
	Outcome string // what happened, e.g. "200, counted"
	OK      bool   // whether it was what the test expects
	// Cell is the outcome as the compatibility table shows it: the same
	// from run to run (no counts, no timings). Empty: Outcome.
	Cell string
}

// Add records an observation.
func (r *Recorder) Add(version, app, call, outcome string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, Result{Version: version, App: app, Call: call, Outcome: outcome, OK: ok})
}

// AddCell records an observation with the text the compatibility table
// shows for it (see Result.Cell).
func (r *Recorder) AddCell(version, app, call, cell, outcome string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, Result{Version: version, App: app, Call: call, Outcome: outcome, OK: ok, Cell: cell})
}

// Len is the number of observations.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.rows)
}

// Group is the column an app's results go in: the HTTP frameworks share one.
func Group(app string) string {
	switch {
	case slices.Contains(HTTPApps, app):
		return "http"
	case app == "grpc-legacy":
		return "grpc+legacy"
	default:
		return app
	}
}

// Table renders the observations as a Markdown table: one row per call, one
// column per daprd version and protocol. When the apps of a column disagree,
// the cell names each app's outcome. An outcome the test did not expect is
// marked "UNEXPECTED".
func (r *Recorder) Table(callOrder []string) string {
	r.mu.Lock()
	rows := slices.Clone(r.rows)
	r.mu.Unlock()
	if len(rows) == 0 {
		return ""
	}

	type col struct{ version, group string }
	var cols []col
	var calls []string
	appsIn := map[col][]string{}
	cell := map[col]map[string]map[string]Result{} // col -> call -> app -> result
	for _, x := range rows {
		c := col{x.Version, Group(x.App)}
		if _, ok := cell[c]; !ok {
			cols = append(cols, c)
			cell[c] = map[string]map[string]Result{}
		}
		if !slices.Contains(appsIn[c], x.App) {
			appsIn[c] = append(appsIn[c], x.App)
		}
		if !slices.Contains(calls, x.Call) {
			calls = append(calls, x.Call)
		}
		if cell[c][x.Call] == nil {
			cell[c][x.Call] = map[string]Result{}
		}
		cell[c][x.Call][x.App] = x
	}
	groupRank := func(g string) int {
		return slices.Index([]string{"http", "grpc", "grpc+legacy"}, g)
	}
	slices.SortStableFunc(cols, func(a, b col) int {
		if a.version != b.version {
			return CompareVersions(a.version, b.version)
		}
		return groupRank(a.group) - groupRank(b.group)
	})
	rank := func(call string) int {
		if i := slices.Index(callOrder, call); i >= 0 {
			return i
		}
		return len(callOrder)
	}
	slices.SortStableFunc(calls, func(a, b string) int { return rank(a) - rank(b) })

	var b strings.Builder
	b.WriteString("| call |")
	groupApps := map[string][]string{}
	var groups []string
	for _, c := range cols {
		apps := appsIn[c]
		slices.SortFunc(apps, func(x, y string) int { return appRank(x) - appRank(y) })
		fmt.Fprintf(&b, " %s %s |", c.version, c.group)
		if !slices.Contains(groups, c.group) {
			groups = append(groups, c.group)
		}
		for _, a := range apps {
			if !slices.Contains(groupApps[c.group], a) {
				groupApps[c.group] = append(groupApps[c.group], a)
			}
		}
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, call := range calls {
		fmt.Fprintf(&b, "| %s |", call)
		for _, c := range cols {
			fmt.Fprintf(&b, " %s |", renderCell(appsIn[c], cell[c][call]))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nColumns: daprd version and app protocol; ")
	for i, g := range groups {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s = %s", g, strings.Join(groupApps[g], ", "))
	}
	b.WriteString(". A cell holds one outcome when every app of its column agrees, else one per app.\n")
	return b.String()
}

func appRank(app string) int {
	if i := slices.Index(HTTPApps, app); i >= 0 {
		return i
	}
	return len(HTTPApps)
}

func renderCell(apps []string, byApp map[string]Result) string {
	if len(byApp) == 0 {
		return "n/a"
	}
	mark := func(x Result) string {
		s := strings.ReplaceAll(x.Outcome, "|", "/")
		if !x.OK {
			s = "UNEXPECTED: " + s
		}
		return s
	}
	same := len(byApp) == len(apps)
	var first *Result
	for _, a := range apps {
		x, ok := byApp[a]
		if !ok {
			continue
		}
		if first == nil {
			first = &x
		} else if x.Outcome != first.Outcome || x.OK != first.OK {
			same = false
		}
	}
	if same {
		return mark(*first)
	}
	var parts []string
	for _, a := range apps {
		if x, ok := byApp[a]; ok {
			parts = append(parts, a+": "+mark(x))
		}
	}
	return strings.Join(parts, "; ")
}

// CompatRow is a row of the compatibility table: one call as the apps of
// one column group (see Group) saw it.
type CompatRow struct {
	Call  string // the call as recorded
	Group string // "http", "grpc" or "grpc+legacy"
	Label string // the row's text in the table's first column
	App   string // the row's text in the second column: the app protocol and options
}

// CompatTable renders the observations as the compatibility table: one row
// per CompatRow, one column per daprd version (in version order). A cell
// shows Result.Cell (or Outcome), once when every app of the group agrees,
// else per app; "UNEXPECTED: " marks what the test did not expect, and
// "not run" a version without an observation of that row.
func (r *Recorder) CompatTable(rows []CompatRow) string {
	r.mu.Lock()
	all := slices.Clone(r.rows)
	r.mu.Unlock()
	if len(all) == 0 {
		return ""
	}
	var versions []string
	for _, x := range all {
		if !slices.Contains(versions, x.Version) {
			versions = append(versions, x.Version)
		}
	}
	slices.SortFunc(versions, CompareVersions)

	var b strings.Builder
	b.WriteString("| call | app |")
	for _, v := range versions {
		fmt.Fprintf(&b, " %s |", v)
	}
	b.WriteString("\n|---|---|")
	for range versions {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s | %s |", row.Label, row.App)
		for _, v := range versions {
			byApp := map[string]Result{}
			var apps []string
			for _, x := range all {
				if x.Version == v && x.Call == row.Call && Group(x.App) == row.Group {
					if x.Cell != "" {
						x.Outcome = x.Cell
					}
					byApp[x.App] = x
					if !slices.Contains(apps, x.App) {
						apps = append(apps, x.App)
					}
				}
			}
			slices.SortFunc(apps, func(x, y string) int { return appRank(x) - appRank(y) })
			cell := "not run"
			if len(apps) > 0 {
				cell = renderCell(apps, byApp)
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// CompareVersions orders daprd versions ("v1.16.0" before "v1.16.5" before
// "v1.18.0"); it compares what it cannot parse as strings, after the others.
func CompareVersions(a, b string) int {
	pa, oka := ParseVersion(a)
	pb, okb := ParseVersion(b)
	switch {
	case oka && okb:
		for i := range pa {
			if pa[i] != pb[i] {
				return pa[i] - pb[i]
			}
		}
		return 0
	case oka:
		return -1
	case okb:
		return 1
	}
	return strings.Compare(a, b)
}

// ParseVersion parses "vMAJOR.MINOR.PATCH".
func ParseVersion(v string) ([3]int, bool) {
	var p [3]int
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) != 3 || !strings.HasPrefix(v, "v") {
		return p, false
	}
	for i, s := range parts {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, false
		}
		p[i] = n
	}
	return p, true
}
