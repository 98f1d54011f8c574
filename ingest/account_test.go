package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A CSV re-saved by a spreadsheet turns 528758312345 into 5.28758E+11. Every
// path that reads an account id from content or an ARN rejects such a file,
// naming the damage, and the id never becomes an account.
func TestSpreadsheetDamagedAccountIDsAreRejected(t *testing.T) {
	const damaged = "5.28758E+11"
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	from := func(rel, old string) string {
		b, err := os.ReadFile(filepath.Join("testdata", rel))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s does not name %s", rel, old)
		}
		return strings.ReplaceAll(string(b), old, damaged)
	}
	write("credential-report.csv", from("credreport/report.csv", "111122223333"))
	write("authz.json", from("authz/page-1.json", "222222222222"))
	write("digest.json", from("accountfiles/digest.json", "111122223333"))
	write("password-policy.json", `{"AccountId": "`+damaged+`", "PasswordPolicy": {"MinimumPasswordLength": 14}}`)
	write("trail.json", `{"Records":[
{"eventID":"good-1","eventTime":"2024-08-18T11:48:43Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","recipientAccountId":"528758312345"},
{"eventID":"bad-1","eventTime":"2024-08-18T11:49:43Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","recipientAccountId":"`+damaged+`"}]}`)
	write("event_history.csv", "Event time,Event source,Event name,Event ID,Recipient Account Id\n"+
		"2024-08-18T11:48:43Z,s3.amazonaws.com,ListBuckets,eh-1,528758312345\n"+
		"2024-08-18T11:49:43Z,s3.amazonaws.com,ListBuckets,eh-2,"+damaged+"\n")
	write("short.csv", "Event time,Event source,Event name,Event ID,Recipient Account Id\n"+
		"2024-08-18T11:48:43Z,s3.amazonaws.com,ListBuckets,eh-3,12345678901\n")
	c := openTestCase(t)
	outcomes := ingestPaths(t, c, dir)
	for name, where := range map[string]string{
		"credential-report.csv": "line 2: arn:",
		"authz.json":            "Arn:",
		"digest.json":           "awsAccountId:",
		"password-policy.json":  "AccountId:",
		"trail.json":            "record 1: recipientAccountId:",
		"event_history.csv":     "line 3: Recipient Account Id:",
		"short.csv":             "has 11 digits",
	} {
		o := outcomeOf(t, outcomes, name)
		if o.Status != StatusRejected || !strings.Contains(o.Error, where) || !strings.Contains(o.Error, "spreadsheet") {
			t.Errorf("%s: %s %q, want rejected at %q naming the spreadsheet", name, o.Status, o.Error, where)
		}
	}
	if n := queryInt(t, c.DB, `select count(*) from (
		select recipient_account_id as a from events union all select account_id from credential_reports
		union all select account_id from iam_users union all select account_id from iam_roles
		union all select account_id from password_policy union all select account_id from digests
		union all select account_id from evidence_files) where a is not null and not regexp_full_match(a, '[0-9]{12}')`); n != 0 {
		t.Errorf("%d rows carry an account id that is not 12 digits", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 0 {
		t.Errorf("%d events of rejected files loaded", n)
	}
}

// The corpus holds a console Event-history CSV re-saved by a spreadsheet.
func TestCorpusSpreadsheetDamagedEventHistory(t *testing.T) {
	path := filepath.Join(corpusDir(t), "eventhistory", "gi11rl-CloudGoat", "event_history_e484a0e.csv")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("corpus file absent: %v", err)
	}
	c := openTestCase(t)
	o := outcomeOf(t, ingestPaths(t, c, path), "event_history_e484a0e.csv")
	if o.Status != StatusRejected || !strings.Contains(o.Error, `"5.28758E+11"`) || !strings.Contains(o.Error, "spreadsheet") {
		t.Errorf("%s %q, want rejected naming the spreadsheet damage", o.Status, o.Error)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 0 {
		t.Errorf("%d events loaded from a damaged file", n)
	}
}
