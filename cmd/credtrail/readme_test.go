package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/ingest"
)

const readme = "../../README.md"

// The README's links lead to files of the repository.
func TestREADMELinks(t *testing.T) {
	body, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(string(body), -1)
	if len(links) == 0 {
		t.Fatal("no links in the README")
	}
	for _, l := range links {
		target, _, _ := strings.Cut(l[1], "#")
		if strings.Contains(target, "://") {
			continue
		}
		if strings.HasPrefix(target, "..") || filepath.IsAbs(target) {
			t.Errorf("link %s leads outside the repository", l[1])
			continue
		}
		if _, err := os.Stat(filepath.Join("../..", target)); err != nil {
			t.Errorf("link %s: %v", l[1], err)
		}
	}
	if strings.Contains(string(body), "../shared/DESIGN") {
		t.Error("the README points to documents outside the repository")
	}
}

// The README names the columns of evidence_files as the schema does.
func TestREADMEEvidenceColumns(t *testing.T) {
	c, err := ingest.Open(context.Background(), filepath.Join(t.TempDir(), "case.duckdb"), ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.DB.Query("select column_name from information_schema.columns where table_name = 'evidence_files' order by ordinal_position")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, "`"+name+"`")
	}
	body, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(body)), " ")
	want := "Every input becomes a row of `evidence_files` (" + strings.Join(cols, ", ") + ")"
	if !strings.Contains(text, want) {
		t.Errorf("README lacks %q", want)
	}
}

// make test lists the tests that skipped, with their reasons, and keeps the
// exit status of go test: run on a small module with a skip, a skipped
// subtest and a failure.
func TestMakeTestListsSkippedTests(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go on PATH")
	}
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("no awk on PATH")
	}
	script, err := filepath.Abs("../../.ci/test-summary.awk")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module m\n\ngo 1.22\n",
		"a/a_test.go": `package a

import "testing"

func TestCorpus(t *testing.T) { t.Skip("no corpus here") }
func TestSheets(t *testing.T) {
	t.Run("render", func(t *testing.T) { t.Skip("soffice not on PATH") })
	t.Run("cells", func(t *testing.T) { t.Log("fine") })
}
`,
		"b/b_test.go": `package b

import "testing"

func TestWrong(t *testing.T) { t.Errorf("got 1, want 2") }
func TestRight(t *testing.T) { t.Log("quiet") }
`,
	}
	for name, body := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The recipe of make test, on this module.
	cmd := exec.Command("sh", "-c", `{ "$GO" test -count=1 -v ./... 2>&1; echo "go-test-exit $?"; } | awk -f "$SCRIPT"`)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO="+goBin, "SCRIPT="+script, "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit: %v, want 1 (a test failed)", err)
	}
	text := string(out)
	for _, want := range []string{
		"ok  \tm/a\t",
		"b_test.go:5: got 1, want 2\n--- FAIL: TestWrong",
		"FAIL\tm/b\t",
		"skipped 2 test(s)",
		"  TestCorpus: no corpus here\n",
		"  TestSheets/render: soffice not on PATH\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("want %q in\n%s", want, text)
		}
	}
	for _, noise := range []string{"=== RUN", "--- PASS", "fine", "quiet"} {
		if strings.Contains(text, noise) {
			t.Errorf("verbose output %q shown:\n%s", noise, text)
		}
	}
}
