package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/credtrail/credtrail/queries"
)

func TestAnalyzeAndRules(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	ev := filepath.Join(dir, "root.json")
	os.WriteFile(ev, []byte(`{"Records":[
{"eventID":"r1","eventTime":"2026-10-30T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333","sourceIPAddress":"198.51.100.88","userAgent":"=cmd|' /C calc'!A0\u001b[2J","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}}]}`), 0o644)
	if code, _, errOut := runCLI(t, "ingest", caseDB, ev); code != exitOK {
		t.Fatal(errOut)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"analyze", []string{"analyze", caseDB}, exitOK, "critical 1,"},
		{"analyze names the rule", []string{"analyze", caseDB}, exitOK, "root_console_login_without_mfa"},
		{"terminal output escapes control characters", []string{"analyze", caseDB}, exitOK, `\u001b[2J`},
		{"analyze records parameters", []string{"query", caseDB, "select value from analysis_parameters where name = 'unused_after_days'"}, exitOK, "90"},
		{"analyze with flags", []string{"analyze", "--key-max-age", "45d", "--trusted-accounts", "444455556666", "--trusted-cidrs", "10.0.0.0/8", "--as-of", "2026-11-01", caseDB}, exitOK, "as of 2026-11-01 00:00:00"},
		{"debug times each rule", []string{"analyze", "--debug", caseDB}, exitOK, `msg="analysis step" step="rule root_console_login_without_mfa" seconds=`},
		{"debug times each shared statement", []string{"analyze", "--debug", caseDB}, exitOK, `msg="analysis statement" of="permission usage" statement="create or replace temp table pu_used as" seconds=`},
		{"re-analyze replaces", []string{"query", caseDB, "select count(*) as n from findings where rule_id = 'root_console_login_without_mfa'"}, exitOK, "1"},
		{"bad duration", []string{"analyze", "--key-max-age", "soon", caseDB}, exitUsage, "--key-max-age"},
		{"bad account", []string{"analyze", "--trusted-accounts", "12", caseDB}, exitUsage, "12-digit"},
		{"bad cidr", []string{"analyze", "--trusted-cidrs", "10.0.0.0/40", caseDB}, exitUsage, "--trusted-cidrs"},
		{"bad time", []string{"analyze", "--since", "yesterday", caseDB}, exitUsage, "--since"},
		{"missing case", []string{"analyze", filepath.Join(dir, "none.duckdb")}, exitError, "no such file"},
		{"rules", []string{"rules"}, exitOK, "root_mfa_not_enabled"},
		{"rules long", []string{"rules", "--long"}, exitOK, "remediation:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", code, tc.code, tc.want, out, errOut)
			}
			if strings.Contains(out, "\x1b") {
				t.Errorf("escape character reached the terminal: %q", out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "none.duckdb")); err == nil {
		t.Error("analyze created a missing case")
	}
}

func TestRulesFitAHundredColumns(t *testing.T) {
	rules, err := queries.Rules()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "rules")
	if code != exitOK {
		t.Fatal(errOut)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line of %d columns: %s", n, l)
		}
	}
	_, long, _ := runCLI(t, "rules", "--long")
	words := strings.Join(strings.Fields(long), " ") // --long wraps its lines
	for _, r := range rules {
		if !strings.Contains(out, "\n"+r.ID+" ") || !strings.Contains(long, r.ID+" ("+r.Severity+")\n    ") ||
			!strings.Contains(words, r.ID+" ("+r.Severity+") "+r.Title+" ") {
			t.Errorf("rule %s missing, or its title cut in --long", r.ID)
		}
	}
	if !strings.Contains(long, "    controls: CIS 1.4, IAM.4\n") || !strings.Contains(long, "    remediation: ") {
		t.Errorf("--long lacks controls or remediation:\n%s", long[:min(len(long), 2000)])
	}
}
