package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

const shapes = "../../ingest/testdata/cloudtrail/shapes"

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Records":[{"eventID":"x","eventTime":"never"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"ingest", []string{"ingest", caseDB, shapes}, exitOK, "case: 8 files, 9 events, 1 insights events"},
		{"re-ingest adds nothing", []string{"ingest", caseDB, shapes}, exitOK, "cloudtrail             resubmitted 8"},
		{"rejected file warns", []string{"ingest", caseDB, bad}, exitOK, `record 0: eventTime: invalid time "never"`},
		{"strict makes it an error", []string{"ingest", "--strict", filepath.Join(dir, "other.duckdb"), bad}, exitError, "1 file(s) rejected (--strict)"},
		{"missing path", []string{"ingest", caseDB, filepath.Join(dir, "nope")}, exitError, "no such file or directory"},
		{"unknown flag", []string{"ingest", "--nope", caseDB, shapes}, exitUsage, "unknown flag"},
		{"missing arguments", []string{"ingest", caseDB}, exitUsage, "requires at least 2 arg(s)"},
		{"query", []string{"query", caseDB, "select identity_type, count(*) as n from events group by 1 order by 2 desc, 1"}, exitOK, "IAMUser             2"},
		{"query csv", []string{"query", "--format", "csv", caseDB, "select user_agent from events where event_id = '00000000-0000-4000-8000-000000000050'"}, exitOK, "user_agent\nconsole.amazonaws.com\n"},
		{"query bad format", []string{"query", "--format", "xml", caseDB, "select 1"}, exitUsage, "unknown --format"},
		{"query is read-only", []string{"query", caseDB, "delete from events"}, exitError, "read-only"},
		{"query of no case", []string{"query", filepath.Join(dir, "none.duckdb"), "select 1"}, exitError, "no such file"},
		{"help lists exit codes", []string{"--help"}, exitOK, "130  interrupted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
}

func TestQueryCSVNeutralisesFormulas(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	ev := filepath.Join(dir, "ev.json")
	os.WriteFile(ev, []byte(`{"Records":[{"eventID":"f1","eventTime":"2024-01-01T00:00:00Z","userAgent":"=cmd|' /C calc'!A0"}]}`), 0o644)
	if code, _, errOut := runCLI(t, "ingest", caseDB, ev); code != 0 {
		t.Fatal(errOut)
	}
	_, out, _ := runCLI(t, "query", "--format", "csv", caseDB, "select user_agent from events")
	if !strings.Contains(out, `'=cmd|' /C calc'!A0`) {
		t.Errorf("formula not neutralised: %q", out)
	}
	_, out, _ = runCLI(t, "query", "--format", "json", caseDB, "select user_agent from events")
	if strings.TrimSpace(out) != `{"user_agent":"=cmd|' /C calc'!A0"}` {
		t.Errorf("json output: %q", out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	if code, _, errOut := runCLI(t, "ingest", caseDB, shapes); code != exitOK {
		t.Fatal(errOut)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"unknown command", []string{"anaylze", caseDB}, exitUsage, `unknown command "anaylze"`},
		{"unknown command suggests", []string{"anaylze", caseDB}, exitUsage, "Did you mean this?\n  analyze"},
		{"unknown rule", []string{"analyze", "--rules", "no_such_rule", caseDB}, exitUsage, `--rules: no rule "no_such_rule"`},
		{"since after until", []string{"analyze", "--since", "2024-03-02", "--until", "2024-03-01", caseDB}, exitUsage, "--since 2024-03-02 is after --until 2024-03-01"},
		{"bad memory limit", []string{"analyze", "--memory-limit", "lots", caseDB}, exitUsage, `invalid argument "lots" for "--memory-limit"`},
		{"bad memory limit in run", []string{"run", "--memory-limit", "lots", "-o", filepath.Join(dir, "x.xlsx"), shapes}, exitUsage, `"--memory-limit"`},
		{"unknown region", []string{"analyze", "--allowed-regions", "us-east-1,us-east-99", caseDB}, exitUsage, `--allowed-regions: "us-east-99" is not an AWS region`},
		{"negative threads", []string{"ingest", "--threads", "-3", caseDB, shapes}, exitUsage, `invalid argument "-3" for "--threads"`},
		{"regions of every partition", []string{"analyze", "--allowed-regions", "us-east-1,us-gov-west-1,cn-north-1,us-isob-east-1,eu-isoe-west-1", caseDB}, exitOK, ""},
		{"known rule", []string{"analyze", "--rules", "root_console_login_without_mfa", caseDB}, exitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.duckdb")); err == nil {
		t.Error("run with a bad flag created its case")
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "version")
	_, flagOut, _ := runCLI(t, "--version")
	if code != exitOK || out != flagOut || !strings.HasPrefix(out, "credtrail version ") {
		t.Errorf("version: exit %d, %q (stderr %q); --version: %q", code, out, errOut, flagOut)
	}
}

func TestQueryTableSaysWhenItCut(t *testing.T) {
	caseDB := filepath.Join(t.TempDir(), "case.duckdb")
	if code, _, errOut := runCLI(t, "ingest", caseDB, shapes); code != exitOK {
		t.Fatal(errOut)
	}
	_, out, _ := runCLI(t, "query", caseDB, "select event_id, user_identity from events order by event_id limit 3")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 || lines[4] != "3 cell(s) were cut to 80 characters (ending in …); use --format csv or json for full values" {
		t.Errorf("no note of the cut cells:\n%s", out)
	}
	for _, l := range lines[1:4] {
		if !strings.HasSuffix(l, "…") {
			t.Errorf("cut cell not marked: %s", l)
		}
	}
	_, out, _ = runCLI(t, "query", caseDB, "select event_id from events order by event_id limit 3")
	if strings.Contains(out, "cut") {
		t.Errorf("note without a cut cell:\n%s", out)
	}
	_, out, _ = runCLI(t, "query", "--format", "csv", caseDB, "select user_identity from events order by event_id limit 1")
	if !strings.Contains(out, "ASIAEXAMPLEFED00001") || strings.Contains(out, "…") || strings.Contains(out, "cut") {
		t.Errorf("csv is cut:\n%s", out)
	}
}
