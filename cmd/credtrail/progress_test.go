package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/queries"
)

// asTerminal makes the commands of a test see stderr as a terminal and
// show their status at once.
func asTerminal(t *testing.T) {
	t.Helper()
	term, delay := isTerminal, statusDelay
	isTerminal, statusDelay = func(io.Writer) bool { return true }, 0
	t.Cleanup(func() { isTerminal, statusDelay = term, delay })
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	dir := t.TempDir()
	quiet := []string{"ingest", filepath.Join(dir, "quiet.duckdb"), shapes}
	code, _, stderr := runCLI(t, quiet...)
	if code != exitOK || strings.ContainsAny(stderr, "\r\x1b") || strings.Contains(stderr, "records") {
		t.Errorf("progress on a stderr that is no terminal (exit %d): %q", code, stderr)
	}

	asTerminal(t)
	code, _, stderr = runCLI(t, "ingest", filepath.Join(dir, "case.duckdb"), shapes)
	if code != exitOK {
		t.Fatal(stderr)
	}
	for _, want := range []string{
		"\r\x1b[Kingest: reading ",
		"\r\x1b[Kingest 0% of 6.1 kB, 0 records; loading 8 files, 6.1 kB",
		"\r\x1b[Kingest 100% of 6.1 kB, 10 records",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("want %q in the progress: %q", want, stderr)
		}
	}
	if !strings.HasSuffix(stderr, "\r\x1b[K") {
		t.Errorf("the status line is not cleared at the end: %q", stderr)
	}
	for _, line := range strings.Split(stderr, "\r\x1b[K") {
		if n := len([]rune(line)); n > statusWidth {
			t.Errorf("status of %d columns: %q", n, line)
		}
	}
}

func TestAnalyzeAndReportShowTheirSteps(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	if code, _, errOut := runCLI(t, "ingest", caseDB, reportFixture); code != exitOK {
		t.Fatal(errOut)
	}
	for _, args := range [][]string{{"analyze", caseDB}, {"report", caseDB, "-o", filepath.Join(dir, "quiet.xlsx")}} {
		if _, _, stderr := runCLI(t, args...); strings.ContainsAny(stderr, "\r\x1b") {
			t.Errorf("%s: progress on a stderr that is no terminal: %q", args[0], stderr)
		}
	}

	asTerminal(t)
	_, _, stderr := runCLI(t, "analyze", caseDB)
	rules, _ := queries.Rules()
	steps := fmt.Sprint(len(rules) + 5)
	for _, want := range []string{
		"\r\x1b[Kanalyze: 1 of " + steps + ": policy evaluator",
		"\r\x1b[Kanalyze: 2 of " + steps + ": escalation paths",
		"\r\x1b[Kanalyze: 3 of " + steps + ": permission usage",
		": rule root_console_login_without_mfa",
		"\r\x1b[Kanalyze: " + steps + " of " + steps + ": writing the findings\r\x1b[K",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("analyze: want %q in %q", want, stderr)
		}
	}
	_, _, stderr = runCLI(t, "report", caseDB, "-o", filepath.Join(dir, "case.xlsx"))
	for _, want := range []string{
		"\r\x1b[Kreport: reading the case\r\x1b[K",
		": sheet Findings",
		": sheet Summary",
		": saving the workbook\r\x1b[Kworkbook written to",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("report: want %q in %q", want, stderr)
		}
	}
}
