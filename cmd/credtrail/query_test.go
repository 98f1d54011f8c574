package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryStaysInsideTheCase runs each way SQL can reach outside a case
// (other files, other databases, extensions, settings, a second statement)
// and checks it is refused with its reason and leaves nothing on disk, while
// ordinary reading statements still work.
func TestQueryStaysInsideTheCase(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	if code, _, errOut := runCLI(t, "ingest", caseDB, shapes); code != exitOK {
		t.Fatal(errOut)
	}
	secret := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secret, []byte("root:x:0:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := func(name string) string { return filepath.Join(dir, name) }
	refused := []struct {
		name, sql, want string
		creates         string // a path that must not appear
	}{
		{"two statements", "select 1; select 2", "several SQL statements", ""},
		{"a select hiding a copy", "select 1; copy (select * from events) to '" + out("hidden.csv") + "'", "several SQL statements", out("hidden.csv")},
		{"copy to", "copy (select * from events) to '" + out("events.csv") + "'", "> result.csv", out("events.csv")},
		{"copy from", "copy events from '" + secret + "'", "reads only the case", ""},
		{"export", "export database '" + out("export") + "'", "> result.csv", out("export")},
		{"read_text", "select content from read_text('" + secret + "')", "reads only the case", ""},
		{"read_csv", "select * from read_csv('" + secret + "')", "reads only the case", ""},
		{"read_text of /etc/passwd", "select content from read_text('/etc/passwd')", "reads only the case", ""},
		{"glob", "select * from glob('" + dir + "/*')", "reads only the case", ""},
		{"attach", "attach '" + out("other.duckdb") + "' as other", "ATTACH opens another database", out("other.duckdb")},
		{"install", "install httpfs", "INSTALL and LOAD add extensions", ""},
		{"load", "load httpfs", "INSTALL and LOAD add extensions", ""},
		{"set", "set enable_external_access = true", "SET and RESET change the engine's settings", ""},
		{"reset", "reset lock_configuration", "SET and RESET", ""},
		{"pragma that sets", "pragma profile_output = '" + out("profile.txt") + "'", "settings", out("profile.txt")},
		{"empty", "  ", "no SQL statement given", ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "query", caseDB, tc.sql)
			if code != exitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; want %q in stderr:\n%s", code, exitError, tc.want, stderr)
			}
			if strings.Contains(stdout+stderr, "root:x:0:0") {
				t.Errorf("the content of another file reached the output:\n%s%s", stdout, stderr)
			}
			if tc.creates != "" {
				if _, err := os.Stat(tc.creates); err == nil {
					t.Errorf("%s was written", tc.creates)
				}
			}
		})
	}
	allowed := []struct{ name, sql, want string }{
		{"select", "select count(*) as n from events", "9"},
		{"trailing semicolon", "select count(*) as n from events;", "9"},
		{"cte", "with e as (select event_id from events) select count(*) as n from e", "9"},
		{"describe", "describe events", "event_id"},
		{"show tables", "show tables", "evidence_files"},
		{"summarize", "summarize select event_name from events", "event_name"},
		{"explain", "explain select 1", "physical_plan"},
		{"pragma that reads", "pragma table_info('events')", "event_time"},
		{"macro", "select iam_action_of('iam.amazonaws.com', 'CreateUser') as a", "iam:CreateUser"},
		{"semicolon in a string", "select 'a;b' as s", "a;b"},
	}
	for _, tc := range allowed {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "query", caseDB, tc.sql)
			if code != exitOK || !strings.Contains(stdout, tc.want) {
				t.Errorf("exit %d; want %q in\nstdout: %s\nstderr: %s", code, tc.want, stdout, stderr)
			}
		})
	}
}
