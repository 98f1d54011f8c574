package queries_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credtrail/credtrail/queries"
	"github.com/credtrail/credtrail/report"
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

// cancelAfter is a context cancelled at the after-th time anyone asks
// whether it is: a cancel in the middle of the rules, without a timer. The
// driver asks from more than one goroutine, so the count is locked.
type cancelAfter struct {
	context.Context
	mu           sync.Mutex
	calls, after int
	done         chan struct{}
}

func (c *cancelAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls == c.after {
		close(c.done)
	}
	if c.calls >= c.after {
		return context.Canceled
	}
	return nil
}

func (c *cancelAfter) Done() <-chan struct{} { return c.done }

// An analysis interrupted mid-run leaves the previous findings and a case
// that says its last analysis did not complete: report refuses it until an
// analysis completes.
func TestRunInterruptedIsRecorded(t *testing.T) {
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), []string{filepath.Join("..", "samples", "case", "iam")})
	bg := context.Background()
	if _, err := queries.Run(bg, c.DB, queries.Params{}); err != nil {
		t.Fatal(err)
	}
	if _, err := report.Load(bg, c.DB, report.Options{}); err != nil {
		t.Fatalf("report after a completed analysis: %v", err)
	}
	rules, _ := queries.Rules()
	ctx := &cancelAfter{Context: bg, after: len(rules) / 2, done: make(chan struct{})}
	if _, err := queries.Run(ctx, c.DB, queries.Params{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if ctx.calls < 3 {
		t.Fatalf("cancelled before the analysis started (%d checks)", ctx.calls)
	}
	var findings int
	if err := c.DB.QueryRow("select count(*) from findings").Scan(&findings); err != nil || findings == 0 {
		t.Errorf("findings of the completed analysis after an interrupted one: %d, %v", findings, err)
	}
	if _, err := report.Load(bg, c.DB, report.Options{}); !errors.Is(err, report.ErrAnalysisIncomplete) || !strings.Contains(err.Error(), "run credtrail analyze again") {
		t.Errorf("report after an interrupted analysis: %v", err)
	}
	if _, err := queries.Run(bg, c.DB, queries.Params{}); err != nil {
		t.Fatal(err)
	}
	if _, err := report.Load(bg, c.DB, report.Options{}); err != nil {
		t.Errorf("report after the analysis completed again: %v", err)
	}
}

// The tables rules share are made from the events once per analysis, and
// only when a rule of the analysis reads them: an analysis of some rules
// (--rules) does not pay for the others' tables.
func TestRunMakesOnlyTheSharedTablesItsRulesRead(t *testing.T) {
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), nil)
	c.DB.SetMaxOpenConns(1) // the temp tables live in the one connection
	ctx := context.Background()
	shared := []string{"account_spans", "case_accounts", "console_sign_ins_after_failures"}
	for _, tc := range []struct {
		rules []string
		want  []string
	}{
		{[]string{"access_key_not_rotated"}, nil},
		{[]string{"console_brute_force"}, []string{"console_sign_ins_after_failures"}},
		{[]string{"discovery_burst", "role_trust_opened"}, []string{"account_spans", "case_accounts"}},
		{nil, shared},
	} {
		if _, err := c.DB.Exec("drop table if exists temp.account_spans; drop table if exists temp.case_accounts; drop table if exists temp.console_sign_ins_after_failures"); err != nil {
			t.Fatal(err)
		}
		if _, err := queries.Run(ctx, c.DB, queries.Params{Rules: tc.rules}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, name := range shared {
			var n int
			if err := c.DB.QueryRow("select count(*) from duckdb_tables() where temporary and table_name = ?", name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				got = append(got, name)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("rules %v made %v, want %v", tc.rules, got, tc.want)
		}
	}
}
