package queries_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credtrail/credtrail/queries"
)

// analyseCounting runs the analysis and returns the days it folded into the
// per-day usage aggregate, as its debug log reports them.
func analyseCounting(t *testing.T, db *sql.DB, p queries.Params) int {
	t.Helper()
	var log bytes.Buffer
	p.Log = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := queries.Run(context.Background(), db, p); err != nil {
		t.Fatal(err)
	}
	folded := -1
	for _, l := range strings.Split(log.String(), "\n") {
		var line struct {
			Msg    string
			Folded *int `json:"days_folded"`
		}
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "usage days" && line.Folded != nil {
			folded = *line.Folded
		}
	}
	if folded < 0 {
		t.Fatalf("no \"usage days\" line with days_folded in the debug log:\n%s", log.String())
	}
	return folded
}

// lineDiff lists the lines of a missing from b (-) and of b missing from a (+).
func lineDiff(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	var d strings.Builder
	for _, l := range strings.Split(a+"\n"+b, "\n") {
		switch n := count[l]; {
		case n > 0:
			d.WriteString("- " + l + "\n")
		case n < 0:
			d.WriteString("+ " + l + "\n")
		}
		count[l] = 0
	}
	return d.String()
}

// usageTables dumps what the unused-permissions analysis wrote.
func usageTables(t *testing.T, db *sql.DB) (usage, policies string) {
	t.Helper()
	return queryLines(t, db, `select account_id, principal_arn, principal_type, level, service, pattern, status, granted, conditional,
		    granted_actions, used_actions, calls, denied, first_used, last_used, regions, source_ips, policy_refs, resources
		    from permission_usage order by all`),
		queryLines(t, db, `select principal_arn, account_id, incident_activity, basis, actions, policy::varchar, excluded::varchar
		    from generated_policies order by all`)
}

// doctoredCall reads a successful call of a user from the middle of
// CloudTrail file src and returns a copy refused and moved by shift.
func doctoredCall(t *testing.T, src string, shift time.Duration) (map[string]any, time.Time, bool) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Records []map[string]any }
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Records[len(doc.Records)/2:] {
		id, _ := r["userIdentity"].(map[string]any)
		if id["type"] != "IAMUser" || r["errorCode"] != nil || r["eventName"] == "ConsoleLogin" {
			continue
		}
		at, err := time.Parse(time.RFC3339, r["eventTime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		r["eventTime"] = at.Add(shift).Format(time.RFC3339)
		r["errorCode"] = "AccessDenied"
		r["errorMessage"] = "User is not authorized to perform this operation"
		return r, at, true
	}
	return nil, time.Time{}, false
}

// TestUsageAggregateIncremental: a case built in three ingest runs and
// analysed after each (the last day added after a first analysis, then a
// copy of an earlier call that ingest keeps in place of the one in the
// case) refolds exactly the days that changed, and ends with the
// permission_usage and generated_policies of a fresh case of the same files
// analysed once; a window starting and ending mid-day gives what folding
// the window from events gives.
func TestUsageAggregateIncremental(t *testing.T) {
	dir, _ := sampleCase(t)
	ctx := context.Background()
	var early, late []string
	err := filepath.WalkDir(filepath.Join(dir, "AWSLogs"), func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
			return err
		case strings.Contains(filepath.ToSlash(path), "/2026/11/01/"):
			late = append(late, path)
		default:
			early = append(early, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(late) == 0 {
		t.Fatal("the sample case has no files of 2026-11-01")
	}
	// Copies of two successful calls of users, refused, in a file named as
	// delivered before any other, so that ingest keeps them in place of the
	// copies in the case: one of 2026-10-28 moved two days earlier (its day
	// loses an event, and no new file holds an event of that day), one of
	// 2026-10-29 left on its day (which keeps its count of events).
	tmp := t.TempDir()
	pick := func(day string, shift time.Duration) map[string]any {
		for _, src := range early {
			if strings.Contains(filepath.ToSlash(src), "/CloudTrail/us-east-1/"+day+"/") {
				if r, _, ok := doctoredCall(t, src, shift); ok {
					return r
				}
			}
		}
		t.Fatalf("no successful call of a user on %s in the sample case", day)
		return nil
	}
	moved, kept := pick("2026/10/28", -48*time.Hour), pick("2026/10/29", 0)
	b, err := json.Marshal(map[string]any{"Records": []any{moved, kept}})
	if err != nil {
		t.Fatal(err)
	}
	doctored := filepath.Join(tmp, moved["recipientAccountId"].(string)+"_CloudTrail_us-east-1_20261001T0000Z_doctored.json")
	if err := os.WriteFile(doctored, b, 0o644); err != nil {
		t.Fatal(err)
	}
	from, err := time.Parse(time.RFC3339, kept["eventTime"].(string))
	if err != nil {
		t.Fatal(err)
	}
	iam := filepath.Join(dir, "iam")

	inc := ingestCase(t, filepath.Join(tmp, "inc.duckdb"), append(early, iam))
	var days int
	if err := inc.DB.QueryRowContext(ctx, "select count(distinct event_time::date) from events").Scan(&days); err != nil {
		t.Fatal(err)
	}
	if got := analyseCounting(t, inc.DB, queries.Params{}); got != days {
		t.Errorf("first analysis folded %d days, want every day of the case, %d", got, days)
	}
	// The last day: its files also hold the last minutes of the day before.
	var before int64
	if err := inc.DB.QueryRowContext(ctx, "select coalesce(max(file_id), 0) from evidence_files").Scan(&before); err != nil {
		t.Fatal(err)
	}
	mustIngest(t, inc, late...)
	var lateDays int
	if err := inc.DB.QueryRowContext(ctx, "select count(distinct event_time::date) from events where file_id > ?", before).Scan(&lateDays); err != nil {
		t.Fatal(err)
	}
	if got := analyseCounting(t, inc.DB, queries.Params{}); got != lateDays || lateDays == 0 || lateDays >= days {
		t.Errorf("after adding the last day's files: %d days folded, want the %d days their events are on (of %d)", got, lateDays, days)
	}
	if got := analyseCounting(t, inc.DB, queries.Params{}); got != 0 {
		t.Errorf("again with nothing new: %d days folded, want 0", got)
	}
	// The days of the new copies and the day that lost the moved one.
	mustIngest(t, inc, doctored)
	if got := analyseCounting(t, inc.DB, queries.Params{}); got != 3 {
		t.Errorf("after two copies replaced the ones in the case: %d days folded, want 3", got)
	}

	fresh := ingestCase(t, filepath.Join(tmp, "fresh.duckdb"), []string{filepath.Join(dir, "AWSLogs"), iam, doctored})
	if err := fresh.DB.QueryRowContext(ctx, "select count(distinct event_time::date) from events").Scan(&days); err != nil {
		t.Fatal(err)
	}
	if got := analyseCounting(t, fresh.DB, queries.Params{}); got != days {
		t.Errorf("fresh case: %d days folded, want %d", got, days)
	}
	incUsage, incPolicies := usageTables(t, inc.DB)
	freshUsage, freshPolicies := usageTables(t, fresh.DB)
	if incUsage != freshUsage {
		t.Errorf("permission_usage, incremental (-) and fresh (+):\n%s", lineDiff(incUsage, freshUsage))
	}
	if incPolicies != freshPolicies {
		t.Errorf("generated_policies, incremental (-) and fresh (+):\n%s", lineDiff(incPolicies, freshPolicies))
	}
	if !strings.Contains(incUsage, " 1 ") || !strings.Contains(incPolicies, "finding_id") {
		t.Fatalf("too little to compare:\n%s\n%s", incUsage, incPolicies)
	}

	// A fold by another definition, with tables of another shape, is made again.
	if _, err := inc.DB.Exec(`alter table usage_calls drop column first_call;
		update case_meta set value = 'earlier' where key = 'usage_fold_version'`); err != nil {
		t.Fatal(err)
	}
	if got := analyseCounting(t, inc.DB, queries.Params{}); got != days {
		t.Errorf("after a fold by another definition: %d days folded, want every day, %d", got, days)
	}
	if again, _ := usageTables(t, inc.DB); again != incUsage {
		t.Errorf("permission_usage after folding every day again (-) and before (+):\n%s", lineDiff(again, incUsage))
	}

	// A window from the middle of one day to the middle of another.
	p := queries.Params{Since: from.Add(-30 * time.Hour), Until: from.Add(13*time.Hour + 7*time.Minute)}
	if got := analyseCounting(t, inc.DB, p); got != 0 {
		t.Errorf("windowed analysis folded %d days, want 0", got)
	}
	winUsage, winPolicies := usageTables(t, inc.DB)
	if winUsage == incUsage {
		t.Error("the window changed nothing in permission_usage: the test proves nothing")
	}
	analyseCounting(t, inc.DB, queries.WithoutUsageAggregate(p))
	refUsage, refPolicies := usageTables(t, inc.DB)
	if winUsage != refUsage {
		t.Errorf("permission_usage of a window, from the aggregate (-) and folded from events (+):\n%s", lineDiff(winUsage, refUsage))
	}
	if winPolicies != refPolicies {
		t.Errorf("generated_policies of a window, from the aggregate (-) and folded from events (+):\n%s", lineDiff(winPolicies, refPolicies))
	}
}

// TestUsageTablesOfEarlierCases: analyze creates the per-day usage tables,
// as the schema defines them, in a case written before they existed.
func TestUsageTablesOfEarlierCases(t *testing.T) {
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), nil)
	columns := `select table_name, column_name, data_type, is_nullable from information_schema.columns
		where table_name in ('usage_days', 'usage_calls', 'usage_activity') order by table_name, ordinal_position`
	want := queryLines(t, c.DB, columns)
	if strings.Count(want, "\n") < 15 {
		t.Fatalf("the schema lacks the usage tables:\n%s", want)
	}
	for _, tb := range []string{"usage_days", "usage_calls", "usage_activity"} {
		if _, err := c.DB.Exec("drop table " + tb); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := queries.Run(context.Background(), c.DB, queries.Params{}); err != nil {
		t.Fatal(err)
	}
	if got := queryLines(t, c.DB, columns); got != want {
		t.Errorf("usage tables made by analyze (-) and by the schema (+):\n%s", lineDiff(got, want))
	}
}
