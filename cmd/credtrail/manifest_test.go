package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A second examiner can check the evidence: the manifest is the same bytes
// each time it is printed, with its own hash last; --check finds a file
// that moved (by its hash) and one that changed (by its name).
func TestManifestAndCaseInit(t *testing.T) {
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	if err := os.MkdirAll(evidence, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(shapes)
	if err != nil {
		t.Fatal(err)
	}
	var copied []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(shapes, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(evidence, e.Name())
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		copied = append(copied, p)
	}
	if len(copied) < 3 {
		t.Fatalf("%d fixture files", len(copied))
	}
	caseDB := filepath.Join(dir, "case.duckdb")
	if code, _, errOut := runCLI(t, "case", "init", caseDB, "--name", "ACME 2026-10\tleak", "--examiner", "J. Doe"); code != exitOK {
		t.Fatalf("case init: %s", errOut)
	}
	if code, _, errOut := runCLI(t, "ingest", caseDB, evidence); code != exitOK {
		t.Fatalf("ingest: %s", errOut)
	}
	code, first, errOut := runCLI(t, "manifest", caseDB)
	if code != exitOK {
		t.Fatalf("manifest: %s", errOut)
	}

	_, second, _ := runCLI(t, "manifest", caseDB)
	if first != second {
		t.Errorf("two manifests of one case differ")
	}
	for _, want := range []string{"# case_name: ACME 2026-10\\tleak\n", "# examiner: J. Doe\n", "file_id\tsha256\tbytes", "# sha256 of the manifest above: "} {
		if !strings.Contains(first, want) {
			t.Errorf("manifest lacks %q:\n%s", want, first)
		}
	}
	if n := strings.Count(first, "\tloaded\t"); n != len(copied) {
		t.Errorf("%d loaded lines for %d files:\n%s", n, len(copied), first)
	}
	// Each file names the run that recorded it, and the run says who ran
	// what, when and with which credtrail.
	if n := len(regexp.MustCompile(`\tloaded\t[^\t]+\t1\t`).FindAllString(first, -1)); n != len(copied) {
		t.Errorf("%d loaded lines of run 1 for %d files:\n%s", n, len(copied), first)
	}
	if !regexp.MustCompile(`(?m)^# run 1: \S+ to \S+ by .* on .*, credtrail .*: \d+ file\(s\) added, 0 re-submitted, 0 rejected: .*ingest`).MatchString(first) {
		t.Errorf("manifest lacks run 1:\n%s", first)
	}

	// The report records the hash of what it wrote, in the case and on stderr.
	if code, _, errOut := runCLI(t, "analyze", caseDB); code != exitOK {
		t.Fatalf("analyze: %s", errOut)
	}
	// Analysing changes no evidence: the manifest stays the same bytes.
	if _, after, _ := runCLI(t, "manifest", caseDB); after != first {
		t.Errorf("the manifest changed with analyze:\n%s\nwas\n%s", after, first)
	}
	findings := filepath.Join(dir, "findings.csv")
	code, _, errOut = runCLI(t, "report", caseDB, "-o", findings)
	if code != exitOK {
		t.Fatalf("report: %s", errOut)
	}
	body, err := os.ReadFile(findings)
	if err != nil {
		t.Fatal(err)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(body))
	if !strings.Contains(errOut, "sha256 "+sum+"  "+findings) {
		t.Errorf("report printed no hash of its output:\n%s", errOut)
	}
	if code, out, _ := runCLI(t, "query", "--format", "csv", caseDB, "select sha256, bytes from report_outputs"); code != exitOK || out != fmt.Sprintf("sha256,bytes\n%s,%d\n", sum, len(body)) {
		t.Errorf("report_outputs: %s", out)
	}

	if code, out, _ := runCLI(t, "manifest", caseDB, "--check", evidence); code != exitOK || !strings.Contains(out, "the same, 0 changed, 0 not found") {
		t.Errorf("check of untouched evidence: exit %d\n%s", code, out)
	}
	// One file moved to another folder, one changed in place.
	moved := filepath.Join(dir, "elsewhere", filepath.Base(copied[0]))
	os.MkdirAll(filepath.Dir(moved), 0o755)
	if err := os.Rename(copied[0], moved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copied[1], []byte(`{"Records":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "manifest", caseDB, "--check", evidence, "--check", filepath.Join(dir, "elsewhere"))
	if code != exitFindings || !strings.Contains(out, "changed      "+copied[1]) || !strings.Contains(out, ", 1 changed, 0 not found") ||
		!strings.Contains(errOut, "1 evidence file(s) changed or not found") {
		t.Errorf("check after a change: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := runCLI(t, "case", "init", caseDB); code != exitUsage {
		t.Errorf("case init without flags: exit %d", code)
	}
}
