package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/ingest"
)

const reportFixture = "../../report/testdata/case/cloudtrail.json"

// addFindings stands in for credtrail analyze until it lands.
func addFindings(t *testing.T, caseDB string) {
	t.Helper()
	ctx := context.Background()
	c, err := ingest.Open(ctx, caseDB, ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.DB.ExecContext(ctx, `
insert into analysis_parameters values ('as_of', '2024-03-07T00:00:00Z');
insert into findings (finding_id, rule_id, severity, account_id, principal_arn, title, evidence) values
  ('f1', 'root_console_login_without_mfa', 'critical', '111122223333', 'arn:aws:iam::111122223333:root', 'Root signed in without MFA', '["11111111-0000-4000-8000-000000000001"]'),
  ('f2', 'root_access_key_created', 'high', '111122223333', 'arn:aws:iam::111122223333:root', 'Root created an access key', '["11111111-0000-4000-8000-000000000002"]'),
  ('f3', 'iam_privilege_escalation_denied', 'low', '111122223333', 'arn:aws:iam::111122223333:user/ops', 'Denied attempt', null)`)
	if err != nil {
		t.Fatal(err)
	}
}

func TestReportAndRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	book := filepath.Join(out, "case.xlsx")
	caseDB := filepath.Join(out, "case.duckdb")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// report is tested on a case with known findings, run on the analysis of the fixture.
	if code, _, errOut := runCLI(t, "ingest", caseDB, reportFixture); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s", code, errOut)
	}
	addFindings(t, caseDB)
	runOut := filepath.Join(dir, "run")
	os.MkdirAll(runOut, 0o755)
	runBook := filepath.Join(runOut, "case.xlsx")
	prev := filepath.Join(dir, "prev.jsonl")
	accepted := filepath.Join(dir, "accepted.json")
	os.WriteFile(accepted, []byte(`{"suppressions":[{"finding_id":"f1","reason":"break-glass drill","expires":"2024-12-31"}]}`), 0o644)

	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"workbook", []string{"report", caseDB, "-o", filepath.Join(dir, "r.xlsx")}, exitOK, "workbook written to"},
		{"jsonl to stdout", []string{"report", caseDB, "--format", "jsonl"}, exitOK, `"finding_id":"f1"`},
		{"jsonl to a file", []string{"report", caseDB, "--format", "jsonl", "-o", prev}, exitOK, ""},
		{"csv", []string{"report", caseDB, "--format", "csv"}, exitOK, "f2,root_access_key_created,high"},
		{"tables", []string{"report", caseDB, "--format", "jsonl", "--tables", "-o", filepath.Join(dir, "tables")}, exitOK, "files written to"},
		{"fail-on high", []string{"report", caseDB, "--format", "jsonl", "--fail-on", "high"}, exitFindings, "2 finding(s) at or above high (--fail-on)"},
		{"fail-on is case-insensitive", []string{"report", caseDB, "--format", "jsonl", "--fail-on", "CRITICAL"}, exitFindings, "1 finding(s) at or above critical"},
		{"suppressed findings do not fail", []string{"report", caseDB, "--format", "jsonl", "--fail-on", "critical", "--suppressions", accepted}, exitOK, `"reason":"break-glass drill"`},
		{"nothing new since the baseline", []string{"report", caseDB, "--format", "jsonl", "--baseline", prev, "--fail-on", "low", "--fail-on-new"}, exitOK, `"status":"unchanged"`},
		{"run", []string{"run", "-o", runBook, reportFixture}, exitOK, "workbook written to " + runBook},
		{"run analyzes", []string{"run", "-o", runBook, "--fail-on", "critical", reportFixture}, exitFindings, "at or above critical (--fail-on)"},
		{"run takes analysis flags", []string{"run", "-o", runBook, "--since", "2024-03-05", "--fail-on", "critical", reportFixture}, exitOK, "workbook written"},
		{"run checks analysis flags first", []string{"run", "-o", runBook, "--key-max-age", "soon", reportFixture}, exitUsage, "--key-max-age"},
		{"run keeps the case beside", []string{"run", "--format", "jsonl", "-o", filepath.Join(runOut, "case.jsonl"), reportFixture}, exitOK, "resubmitted"},
		{"bad severity", []string{"report", caseDB, "--fail-on", "severe", "-o", book}, exitUsage, `unknown severity "severe"`},
		{"workbook needs -o", []string{"report", caseDB}, exitUsage, "the workbook needs -o"},
		{"tables need a directory", []string{"report", caseDB, "--format", "csv", "--tables"}, exitUsage, "--tables needs -o"},
		{"fail-on-new needs a baseline", []string{"report", caseDB, "--format", "jsonl", "--fail-on-new"}, exitUsage, "--fail-on-new needs --baseline"},
		{"bad format", []string{"report", caseDB, "--format", "xml"}, exitUsage, `unknown --format "xml"`},
		{"run to stdout needs --case", []string{"run", "--format", "jsonl", reportFixture}, exitUsage, "--case is needed"},
		{"missing baseline", []string{"report", caseDB, "--format", "jsonl", "--baseline", filepath.Join(dir, "none.jsonl")}, exitError, "no such file"},
		{"bad suppressions", []string{"report", caseDB, "--format", "jsonl", "--suppressions", prev}, exitError, "suppressions"},
		{"no case", []string{"report", filepath.Join(dir, "none.duckdb"), "-o", book}, exitError, "no such file"},
		{"a cut sheet warns", []string{"report", caseDB, "-o", filepath.Join(dir, "cut.xlsx"), "--max-rows", "1"}, exitOK, "warning: sheet cut at the row limit: Findings: first 1 of 3 rows"},
		{"help lists exit codes", []string{"report", "--help"}, exitOK, "3    findings at or above --fail-on"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(runOut, "case.duckdb")); err != nil {
		t.Errorf("run did not keep its case beside the workbook: %v", err)
	}
	// The findings file of a run is JSON lines a later run can use as its baseline.
	body, err := os.ReadFile(filepath.Join(runOut, "case.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) == 0 || !strings.Contains(string(body), `"rule_id":"root_console_login_without_mfa"`) {
		t.Fatalf("case.jsonl of run:\n%s", body)
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("not JSON: %s", l)
		}
	}
}

// reportCase is a case with the report fixture's events and known findings.
func reportCase(t *testing.T) string {
	t.Helper()
	caseDB := filepath.Join(t.TempDir(), "case.duckdb")
	if code, _, errOut := runCLI(t, "ingest", caseDB, reportFixture); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s", code, errOut)
	}
	addFindings(t, caseDB)
	return caseDB
}

func TestReportFormatFromExtension(t *testing.T) {
	caseDB := reportCase(t)
	dir := t.TempDir()
	written := []struct {
		file, args, start string
	}{
		{"out.csv", "", "finding_id,rule_id,severity"},
		{"OUT.CSV", "--format=csv", "finding_id,rule_id,severity"},
		{"out.jsonl", "", `{"finding_id":"f1"`},
		{"out.xlsx", "", "PK\x03\x04"},
	}
	for _, tc := range written {
		t.Run(tc.file, func(t *testing.T) {
			out := filepath.Join(dir, tc.file)
			args := []string{"report", caseDB, "-o", out}
			if tc.args != "" {
				args = append(args, tc.args)
			}
			if code, _, errOut := runCLI(t, args...); code != exitOK {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			body, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(body), tc.start) {
				t.Errorf("%s starts with %q, want %q", tc.file, body[:min(len(body), 40)], tc.start)
			}
		})
	}
	refused := []struct {
		name string
		args []string
		want string
	}{
		{"unknown extension", []string{"-o", filepath.Join(dir, "out.txt")}, "use .xlsx (workbook), .jsonl or .csv"},
		{"no extension", []string{"-o", filepath.Join(dir, "out")}, "the extension names the format"},
		{"json is not json lines", []string{"-o", filepath.Join(dir, "out.json")}, "name the file .jsonl"},
		{"format disagrees", []string{"--format", "jsonl", "-o", filepath.Join(dir, "x.csv")}, "--format jsonl does not match -o"},
		{"run checks it too", nil, "--format xlsx does not match -o"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"report", caseDB}, tc.args...)
			if tc.args == nil {
				args = []string{"run", "--format", "xlsx", "-o", filepath.Join(dir, "run.csv"), reportFixture}
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", code, exitUsage, tc.want, stdout, stderr)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !slices.Contains([]string{"out.csv", "OUT.CSV", "out.jsonl", "out.xlsx"}, e.Name()) {
			t.Errorf("a refused command wrote %s", e.Name())
		}
	}
}

func TestRunListsRejectedFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Records":[{"eventID":"x","eventTime":"never"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	book := filepath.Join(dir, "case.xlsx")
	code, _, stderr := runCLI(t, "run", "-o", book, reportFixture, bad)
	if code != exitOK || !strings.Contains(stderr, "warning: 1 file(s) rejected:\n  "+bad+`: record 0: eventTime: invalid time "never"`) {
		t.Errorf("run: exit %d, want the rejected file with its reason in\n%s", code, stderr)
	}
	strictBook := filepath.Join(dir, "strict.xlsx")
	code, _, stderr = runCLI(t, "run", "--strict", "-o", strictBook, reportFixture, bad)
	if code != exitError || !strings.Contains(stderr, "1 file(s) rejected (--strict); nothing analyzed") || !strings.Contains(stderr, bad+": record 0") {
		t.Errorf("run --strict: exit %d, want 1 and the rejection in\n%s", code, stderr)
	}
	if _, err := os.Stat(strictBook); err == nil {
		t.Error("run --strict wrote a workbook although a file was rejected")
	}
}
