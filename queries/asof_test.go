package queries_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/queries"
)

// Credential ages of each account are measured at the generation time of
// that account's newest credential report, not at another account's; events
// of an account later than its as-of time are reported.
func TestAsOfPerAccount(t *testing.T) {
	dir := t.TempDir()
	const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
		"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service\n"
	report := func(name, account, generated, rotated string) string {
		csv := header +
			"<root_account>,arn:aws:iam::" + account + ":root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A\n" +
			"ana,arn:aws:iam::" + account + ":user/ana,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true," + rotated + ",N/A,N/A,N/A\n"
		body := `{"Content": "` + base64.StdEncoding.EncodeToString([]byte(csv)) + `", "ReportFormat": "text/csv", "GeneratedTime": "` + generated + `"}`
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	old := report("old.json", "111122223333", "2023-05-01T00:00:00Z", "2023-01-01T00:00:00+00:00")
	recent := report("recent.json", "444455556666", "2026-10-31T00:00:00Z", "2026-10-01T00:00:00+00:00")
	trail := filepath.Join(dir, "trail.json")
	if err := os.WriteFile(trail, []byte(`{"Records":[{"eventID":"later-1","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","recipientAccountId":"111122223333"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c := ingestCase(t, filepath.Join(dir, "case.duckdb"), []string{old, recent, trail})
	sum, err := queries.Run(context.Background(), c.DB, queries.Params{Rules: []string{"access_key_not_rotated"}})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	rows, err := c.DB.Query("select account_id || ': ' || detail from findings order by account_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		rows.Scan(&d)
		details = append(details, d)
	}
	rows.Close()
	want := "111122223333: ana's access key 1 is active and was last rotated 2023-01-01 (120 days before 2023-05-01, maximum 90)"
	if len(details) != 1 || details[0] != want {
		t.Errorf("findings %q, want only %q", details, want)
	}
	warned := false
	for _, w := range sum.Warnings {
		warned = warned || strings.HasPrefix(w, "account 111122223333: 1 events are later than its as-of time 2023-05-01 00:00:00 UTC (credential report)")
	}
	if !warned {
		t.Errorf("no warning of the event after the account's as-of time: %q", sum.Warnings)
	}
	var asOf []string
	rows, err = c.DB.Query("select account_id || ' ' || strftime(as_of, '%Y-%m-%d') || ' ' || source || ' ' || events_after from account_as_of order by account_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		asOf = append(asOf, s)
	}
	rows.Close()
	if got := strings.Join(asOf, "; "); got != "111122223333 2023-05-01 credential report 1; 444455556666 2026-10-31 credential report 0" {
		t.Errorf("account_as_of: %s", got)
	}
}
