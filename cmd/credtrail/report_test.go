package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	if code, _, errOut := runCLI(t, "run", "-o", book, reportFixture); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	for _, p := range []string{book, caseDB} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("run did not write %s: %v", p, err)
		}
	}
	addFindings(t, caseDB)
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
		{"run fails on findings too", []string{"run", "-o", book, "--fail-on", "low", reportFixture}, exitFindings, "3 finding(s) at or above low"},
		{"run keeps the case beside", []string{"run", "--format", "jsonl", "-o", filepath.Join(out, "case.jsonl"), reportFixture}, exitOK, "duplicate"},
		{"bad severity", []string{"report", caseDB, "--fail-on", "severe", "-o", book}, exitUsage, `unknown severity "severe"`},
		{"workbook needs -o", []string{"report", caseDB}, exitUsage, "the workbook needs -o"},
		{"tables need a directory", []string{"report", caseDB, "--format", "csv", "--tables"}, exitUsage, "--tables needs -o"},
		{"fail-on-new needs a baseline", []string{"report", caseDB, "--format", "jsonl", "--fail-on-new"}, exitUsage, "--fail-on-new needs --baseline"},
		{"bad format", []string{"report", caseDB, "--format", "xml"}, exitUsage, `unknown --format "xml"`},
		{"run to stdout needs --case", []string{"run", "--format", "jsonl", reportFixture}, exitUsage, "--case is needed"},
		{"missing baseline", []string{"report", caseDB, "--format", "jsonl", "--baseline", filepath.Join(dir, "none.jsonl")}, exitError, "no such file"},
		{"bad suppressions", []string{"report", caseDB, "--format", "jsonl", "--suppressions", prev}, exitError, "suppressions"},
		{"no case", []string{"report", filepath.Join(dir, "none.duckdb"), "-o", book}, exitError, "no such file"},
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
	// The findings file of a run is JSON lines a later run can use as its baseline.
	body, err := os.ReadFile(filepath.Join(out, "case.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 3 {
		t.Fatalf("case.jsonl has %d lines:\n%s", len(lines), body)
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("not JSON: %s", l)
		}
	}
}
