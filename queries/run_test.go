package queries_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credtrail/credtrail/queries"
)

// The parameters of a run are recorded, defaults filled in from the evidence
// and never from the wall clock; a second run replaces the first.
func TestRunRecordsParameters(t *testing.T) {
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), nil)
	ctx := context.Background()
	if _, err := c.DB.Exec(`insert into findings (finding_id, rule_id, severity, title) values ('old', 'gone', 'low', 'from an earlier run')`); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sum, err := queries.Run(ctx, c.DB, queries.Params{AsOf: asOf, UnusedAfterDays: 45, TrustedAccounts: []string{"444455556666"}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Params.KeyMaxAgeDays != 90 || sum.Params.UnusedAfterDays != 45 || !sum.Params.AsOf.Equal(asOf) {
		t.Errorf("parameters used: %+v", sum.Params)
	}
	if len(sum.Warnings) == 0 {
		t.Error("an empty case gives no warning")
	}
	got := map[string]string{}
	rows, err := c.DB.Query("select name, coalesce(value, 'NULL') from analysis_parameters")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, v string
		rows.Scan(&k, &v)
		got[k] = v
	}
	rows.Close()
	for k, want := range map[string]string{
		"as_of": "2026-11-01T00:00:00Z", "since": "NULL", "key_max_age_days": "90", "unused_after_days": "45",
		"trusted_accounts": `["444455556666"]`, "trusted_cidrs": "NULL", "allowed_regions": "NULL",
	} {
		if got[k] != want {
			t.Errorf("analysis_parameters %s = %q, want %q", k, got[k], want)
		}
	}
	var n int
	if err := c.DB.QueryRow("select count(*) from findings where finding_id = 'old'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the previous run's findings were kept (%d, %v)", n, err)
	}
}

func TestRunRefusesBadParameters(t *testing.T) {
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), nil)
	ctx := context.Background()
	since := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for name, p := range map[string]queries.Params{
		"until before since": {Since: since, Until: since.Add(-time.Hour)},
		"unknown rule":       {Rules: []string{"no_such_rule"}},
	} {
		if _, err := queries.Run(ctx, c.DB, p); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "until") && !strings.Contains(err.Error(), "no rule") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A cancelled run changes nothing: the previous findings stay.
func TestRunCancelledKeepsPreviousFindings(t *testing.T) {
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), nil)
	if _, err := c.DB.Exec(`insert into findings (finding_id, rule_id, severity, title) values ('old', 'kept', 'low', 'from an earlier run')`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := queries.Run(ctx, c.DB, queries.Params{}); err == nil {
		t.Fatal("a cancelled run returned no error")
	}
	var n int
	if err := c.DB.QueryRow("select count(*) from findings where finding_id = 'old'").Scan(&n); err != nil || n != 1 {
		t.Errorf("previous findings after a cancelled run: %d, %v", n, err)
	}
}
