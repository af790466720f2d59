package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apptoken-go/apptoken/e2e/internal/harness"
)

// The markers around the compatibility table in README.md, as
// scripts/compat.sh writes them.
const (
	compatBegin = "<!-- compat-table:begin (written by make compat from its last run; do not edit) -->"
	compatEnd   = "<!-- compat-table:end -->"
)

// TestCompatTableInREADME: README.md's compatibility table is the one the
// last `make compat` wrote (e2e/testdata/compat.md), byte for byte, and that
// run saw nothing unexpected and ran every cell. It needs no daprd: `make
// test` runs it.
func TestCompatTableInREADME(t *testing.T) {
	root, err := harness.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	last, err := os.ReadFile(filepath.Join(root, "e2e", "testdata", "compat.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := between(readme, compatBegin, compatEnd)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(last)) {
		t.Errorf("README.md's compatibility table differs from e2e/testdata/compat.md, the last `make compat` run's: run `make compat` (never edit the table)\nREADME.md:\n%s\nlast run:\n%s", got, last)
	}
	for _, bad := range []string{"UNEXPECTED", "not run"} {
		if bytes.Contains(last, []byte(bad)) {
			t.Errorf("e2e/testdata/compat.md has %q cells", bad)
		}
	}
	if !strings.HasPrefix(string(last), "| call | app |") {
		t.Errorf("e2e/testdata/compat.md does not start with the table's header")
	}
}

// between returns what lies between the lines begin and end of b, each of
// which must appear exactly once, in that order.
func between(b []byte, begin, end string) ([]byte, error) {
	lines := strings.Split(string(b), "\n")
	bi, ei := -1, -1
	for i, l := range lines {
		switch l {
		case begin:
			if bi >= 0 {
				return nil, errTwice(begin)
			}
			bi = i
		case end:
			if ei >= 0 {
				return nil, errTwice(end)
			}
			ei = i
		}
	}
	if bi < 0 || ei < bi {
		return nil, errMarkers
	}
	return []byte(strings.Join(lines[bi+1:ei], "\n")), nil
}

type markerError string

func (e markerError) Error() string { return string(e) }

const errMarkers = markerError("no compat-table begin marker followed by its end marker")

func errTwice(m string) error { return markerError("the marker " + m + " appears twice") }

// TestLegacyGRPC holds the boundaries the suite checks every daprd it runs
// against: the core's documentation of WithInsecureLegacySidecarGRPC.
func TestLegacyGRPC(t *testing.T) {
	for v, want := range map[string]bool{
		"v1.13.6": true, "v1.14.0": true, "v1.14.4": true,
		"v1.15.0": true, "v1.15.4": true, "v1.15.12": true, "v1.15.13": false,
		"v1.16.0": true, "v1.16.1": true, "v1.16.2": false, "v1.16.5": false,
		"v1.17.0": false, "v1.18.0": false, "v2.0.0": false,
	} {
		if got := legacyGRPC(v); got != want {
			t.Errorf("legacyGRPC(%s) = %v, want %v", v, got, want)
		}
	}
}
