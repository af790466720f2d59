package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/semver"
)

// prepare is make release: it checks that version can be released, sets it
// everywhere, commits the change, reports each published module's API
// changes since its previous release, and tags every published module.
func prepare(root, version string) error {
	if err := checkVersion(version); err != nil {
		return err
	}
	if err := changelogHas(root, version); err != nil {
		return err
	}
	if out, err := git(root, "status", "--porcelain"); err != nil {
		return err
	} else if out != "" {
		return fmt.Errorf("the work tree has uncommitted changes; commit or stash them first:\n%s", out)
	}
	mods, err := modules(root)
	if err != nil {
		return err
	}
	var tags []string
	for _, m := range mods {
		if !m.published() {
			continue
		}
		tag := m.Tag(version)
		if _, err := git(root, "rev-parse", "-q", "--verify", "refs/tags/"+tag); err == nil {
			return fmt.Errorf("tag %s exists already", tag)
		}
		tags = append(tags, tag)
	}

	if err := setVersion(root, version); err != nil {
		return err
	}
	if out, _ := git(root, "status", "--porcelain"); out != "" {
		if _, err := git(root, "commit", "-q", "-a", "-m", "release "+version+"\n\nEvery module at "+version+"; see CHANGELOG.md."); err != nil {
			return err
		}
		fmt.Printf("committed: release %s\n", version)
	}

	for _, m := range mods {
		if m.published() {
			if err := reportAPI(root, m, version); err != nil {
				return err
			}
		}
	}

	for _, tag := range tags {
		if _, err := git(root, "tag", "-a", "-m", tag, tag); err != nil {
			return err
		}
	}
	fmt.Printf("\ntagged %d modules at %s:\n  %s\n", len(tags), version, strings.Join(tags, "\n  "))
	fmt.Printf("\nnothing was pushed. To publish: git push origin HEAD %s\n", strings.Join(tags, " "))
	return nil
}

// previousTag returns the highest release tag of m below version, or "".
func previousTag(root string, m mod, version string) (string, error) {
	out, err := git(root, "tag", "--list", m.Dir+"/v*")
	if err != nil {
		return "", err
	}
	best := ""
	for _, tag := range strings.Fields(out) {
		v := strings.TrimPrefix(tag, m.Dir+"/")
		if semver.IsValid(v) && semver.Compare(v, version) < 0 && (best == "" || semver.Compare(v, best) > 0) {
			best = v
		}
	}
	if best == "" {
		return "", nil
	}
	return m.Dir + "/" + best, nil
}

// reportAPI prints the exported API changes of m's packages since its
// previous release, with apidiff (pinned, in ./bin).
func reportAPI(root string, m mod, version string) error {
	prev, err := previousTag(root, m, version)
	if err != nil {
		return err
	}
	if prev == "" {
		fmt.Printf("api %s: first release, nothing to compare with\n", m.Dir)
		return nil
	}
	apidiff, err := filepath.Abs(filepath.Join(root, "bin", "apidiff"))
	if err != nil {
		return err
	}
	old, err := os.MkdirTemp("", "apptoken-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(old)
	if _, err := git(root, "worktree", "add", "-q", "--detach", old, prev); err != nil {
		return err
	}
	defer func() { _, _ = git(root, "worktree", "remove", "--force", old) }()

	pkgs, err := goList(filepath.Join(root, filepath.FromSlash(m.Dir)))
	if err != nil {
		return err
	}
	fmt.Printf("api %s since %s:\n", m.Dir, prev)
	for _, pkg := range pkgs {
		oldData := filepath.Join(old, "old.export")
		newData := filepath.Join(old, "new.export")
		if err := run(filepath.Join(old, filepath.FromSlash(m.Dir)), apidiff, "-w", oldData, pkg); err != nil {
			fmt.Printf("  %s: new package\n", pkg)
			continue
		}
		if err := run(filepath.Join(root, filepath.FromSlash(m.Dir)), apidiff, "-w", newData, pkg); err != nil {
			return err
		}
		out, err := exec.Command(apidiff, oldData, newData).CombinedOutput()
		if err != nil {
			return fmt.Errorf("apidiff %s: %w\n%s", pkg, err, out)
		}
		report := strings.TrimSpace(string(out))
		if report == "" {
			report = "no change"
		}
		fmt.Printf("  %s:\n    %s\n", pkg, strings.ReplaceAll(report, "\n", "\n    "))
	}
	return nil
}

// goList lists the non-internal packages of the module in dir.
func goList(dir string) ([]string, error) {
	cmd := exec.Command("go", "list", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %w", dir, err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.Contains(p, "/internal/") && !strings.HasSuffix(p, "/internal") {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, nil
}

func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// git runs git in root and returns its trimmed standard output.
func git(root string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
