package ingest

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// readFixture reads a file under testdata.
func readFixture(tb testing.TB, rel string) []byte {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// mustLoad loads a body and fails the test on error.
func mustLoad(tb testing.TB, c *Case, load bodyLoader, fileID int64, body []byte) fileStats {
	tb.Helper()
	st, err := loadBody(tb, c, load, fileID, body)
	if err != nil {
		tb.Fatalf("file %d: %v", fileID, err)
	}
	return st
}

// dumpRows runs a query and writes each row as "a | b | …": NULL for NULL,
// times in RFC 3339 UTC, other values as fmt prints them.
func dumpRows(tb testing.TB, db *sql.DB, q string, args ...any) []string {
	tb.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for rows.Next() {
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		fields := make([]string, len(values))
		for i, v := range values {
			switch v := v.(type) {
			case nil:
				fields[i] = "NULL"
			case time.Time:
				fields[i] = v.UTC().Format(time.RFC3339Nano)
			default:
				fields[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(fields, " | "))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func diffLines(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if slices.Equal(got, want) {
		return
	}
	tb.Errorf("%s:\ngot:\n\t%s\nwant:\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
}

const (
	reportRowsQuery = `select row_number, user_name, arn, user_creation_time, password_enabled, password_last_used,
		password_last_used_note, password_last_changed, password_next_rotation, mfa_active,
		cert_1_active, cert_1_last_rotated, cert_2_active, cert_2_last_rotated
		from credential_report_rows order by report_id, row_number`
	accessKeyRowsQuery = `select user_name, slot, active, last_rotated, last_used_date, last_used_note,
		last_used_region, last_used_service
		from access_key_rows order by report_id, user_name, slot`
)

// The rows report.csv gives, whatever form carries it.
var (
	wantReportRows = []string{
		"1 | <root_account> | arn:aws:iam::111122223333:root | 2021-01-05T10:00:00Z | NULL | 2024-02-01T08:00:00Z | NULL | NULL | NULL | true | false | NULL | false | NULL",
		"2 | alice | arn:aws:iam::111122223333:user/alice | 2022-03-08T16:02:25Z | true | NULL | no_information | 2022-03-08T16:02:26Z | NULL | true | false | NULL | false | NULL",
		"3 | bob | arn:aws:iam::111122223333:user/bob | 2023-07-20T08:30:00Z | false | NULL | N/A | NULL | NULL | false | false | NULL | false | NULL",
		"4 | carol | arn:aws:iam::111122223333:user/ops/carol | 2020-06-01T00:00:00Z | true | NULL |  | 2020-06-01T00:00:01Z | 2025-06-01T00:00:01Z | false | true | 2020-06-01T00:00:00Z | false | NULL",
	}
	wantReportKeys = []string{
		"alice | 1 | true | 2023-05-01T12:00:00Z | 2024-03-01T09:15:00Z | NULL | us-east-1 | s3",
		"alice | 2 | false | 2022-01-01T00:00:00Z | NULL | N/A | N/A | N/A", // inactive, but it exists
		"bob | 1 | true | 2024-01-10T00:00:00.5Z | NULL | N/A | N/A | N/A",
	}
)

func TestCredentialReportForms(t *testing.T) {
	tests := []struct {
		fixture       string
		wantGenerated string
		wantSource    string
		wantNote      string
	}{
		{"credreport/report.csv", "2024-03-01T09:15:00Z", "latest timestamp in report",
			"no GeneratedTime: generation time estimated as the latest timestamp in the report (2024-03-01T09:15:00Z)"},
		{"credreport/report-base64.json", "2025-06-02T10:00:00Z", "GeneratedTime", ""},
		{"credreport/report-text.json", "2025-06-02T10:00:00Z", "GeneratedTime", ""},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.fixture), func(t *testing.T) {
			c := openTestCase(t)
			st := mustLoad(t, c, loadCredentialReport, 7, readFixture(t, tt.fixture))
			if st.Records != 4 || st.Duplicates != 0 || st.AccountID != "111122223333" || st.Note != tt.wantNote {
				t.Errorf("stats = %+v", st)
			}
			if got := st.First.Format(time.RFC3339); got != tt.wantGenerated || !st.Last.Equal(st.First) {
				t.Errorf("span = %v – %v, want %s", st.First, st.Last, tt.wantGenerated)
			}
			diffLines(t, "credential_reports", dumpRows(t, c.DB,
				"select report_id, account_id, generated_at, generated_at_source from credential_reports"),
				[]string{"7 | 111122223333 | " + tt.wantGenerated + " | " + tt.wantSource})
			diffLines(t, "credential_report_rows", dumpRows(t, c.DB, reportRowsQuery), wantReportRows)
			diffLines(t, "access_key_rows", dumpRows(t, c.DB, accessKeyRowsQuery), wantReportKeys)
			diffLines(t, "generated_at of the rows", dumpRows(t, c.DB,
				"select distinct report_id, account_id, generated_at, file_id from credential_report_rows"),
				[]string{"7 | 111122223333 | " + tt.wantGenerated + " | 7"})
			// raw keeps every column as written: a special value, and an empty one.
			diffLines(t, "raw", dumpRows(t, c.DB, `select user_name, cardinality(raw),
				map_extract_value(raw, 'password_enabled'), map_extract_value(raw, 'password_last_used'),
				map_extract_value(raw, 'mfa_active')
				from credential_report_rows order by row_number`), []string{
				"<root_account> | 22 | not_supported | 2024-02-01T08:00:00+00:00 | true",
				"alice | 22 | true | no_information | TRUE",
				"bob | 22 | false | N/A | false",
				"carol | 22 | true |  | false",
			})
		})
	}
}

func TestCredentialReportSameReportTwice(t *testing.T) {
	tests := []struct {
		name   string
		first  string
		second string
		note   string
	}{
		{"csv then base64 json", "credreport/report.csv", "credreport/report-base64.json",
			"same report as file 1: its rows are not loaded again; its generation time is now this file's GeneratedTime"},
		{"text json then csv", "credreport/report-text.json", "credreport/report.csv",
			"same report as file 1: its rows are not loaded again"},
		{"base64 json then text json", "credreport/report-base64.json", "credreport/report-text.json",
			"same report as file 1: its rows are not loaded again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTestCase(t)
			mustLoad(t, c, loadCredentialReport, 1, readFixture(t, tt.first))
			st := mustLoad(t, c, loadCredentialReport, 2, readFixture(t, tt.second))
			if st.Records != 4 || st.Duplicates != 4 || st.AccountID != "111122223333" {
				t.Errorf("second file: stats = %+v", st)
			}
			if st.Note != tt.note {
				t.Errorf("second file: note = %q, want %q", st.Note, tt.note)
			}
			// Whichever copy came first, the report was made at its GeneratedTime.
			if !st.First.Equal(time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)) || !st.Last.Equal(st.First) {
				t.Errorf("second file: span = %v – %v", st.First, st.Last)
			}
			diffLines(t, "credential_reports", dumpRows(t, c.DB,
				"select report_id, generated_at, generated_at_source from credential_reports"),
				[]string{"1 | 2025-06-02T10:00:00Z | GeneratedTime"})
			diffLines(t, "credential_report_rows", dumpRows(t, c.DB, reportRowsQuery), wantReportRows)
			diffLines(t, "access_key_rows", dumpRows(t, c.DB, accessKeyRowsQuery), wantReportKeys)
			diffLines(t, "rows' generated_at", dumpRows(t, c.DB,
				"select distinct report_id, generated_at from credential_report_rows"),
				[]string{"1 | 2025-06-02T10:00:00Z"})
		})
	}
}

func TestCredentialReportViewsShowNewest(t *testing.T) {
	files := map[int64]string{
		1: "credreport/report.csv",          // 111122223333, estimated 2024-03-01
		2: "credreport/report-later.json",   // 111122223333, GeneratedTime 2025-09-01
		3: "credreport/subset-govcloud.csv", // 444455556666
		4: "credreport/report-base64.json",  // 111122223333, GeneratedTime 2025-06-02 (report 1 again)
	}
	for _, order := range [][]int64{{1, 2, 3, 4}, {2, 4, 3, 1}, {3, 1, 4, 2}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			c := openTestCase(t)
			for _, id := range order {
				mustLoad(t, c, loadCredentialReport, id, readFixture(t, files[id]))
			}
			if n := queryInt(t, c.DB, "select count(*) from credential_reports"); n != 3 {
				t.Errorf("%d credential reports, want 3", n)
			}
			diffLines(t, "credential_report", dumpRows(t, c.DB,
				"select account_id, generated_at, user_name from credential_report order by account_id, row_number"),
				[]string{
					"111122223333 | 2025-09-01T00:00:00Z | <root_account>",
					"111122223333 | 2025-09-01T00:00:00Z | alice",
					"111122223333 | 2025-09-01T00:00:00Z | bob",
					"111122223333 | 2025-09-01T00:00:00Z | carol",
					"111122223333 | 2025-09-01T00:00:00Z | dave",
					"444455556666 | 2024-11-30T23:59:59Z | eve",
					"444455556666 | 2024-11-30T23:59:59Z | frank",
				})
			diffLines(t, "access_keys", dumpRows(t, c.DB,
				"select account_id, user_name, slot, active, last_rotated, last_used_date, last_used_region from access_keys order by account_id, user_name, slot"),
				[]string{
					"111122223333 | alice | 1 | true | 2023-05-01T12:00:00Z | 2024-03-01T09:15:00Z | us-east-1",
					"111122223333 | alice | 2 | false | 2022-01-01T00:00:00Z | NULL | N/A",
					"111122223333 | bob | 1 | false | 2024-01-10T00:00:00Z | NULL | N/A",
					"111122223333 | bob | 2 | true | 2025-08-01T00:00:00Z | 2025-08-02T11:00:00Z | eu-west-1",
					"444455556666 | eve | 1 | true | 2024-01-01T00:00:00Z | NULL | NULL",
				})
		})
	}
}

func TestCredentialReportSubsetOfColumns(t *testing.T) {
	c := openTestCase(t)
	st := mustLoad(t, c, loadCredentialReport, 1, readFixture(t, "credreport/subset-govcloud.csv"))
	if st.Records != 2 || st.AccountID != "444455556666" {
		t.Errorf("stats = %+v", st)
	}
	diffLines(t, "credential_report_rows", dumpRows(t, c.DB, reportRowsQuery), []string{
		"1 | eve | arn:aws-us-gov:iam::444455556666:user/eve | NULL | NULL | 2024-11-30T23:59:59Z | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL",
		"2 | frank | arn:aws-us-gov:iam::444455556666:user/frank | NULL | NULL | NULL | N/A | NULL | NULL | NULL | NULL | NULL | NULL | NULL",
	})
	// raw holds exactly the columns the file has, in its order, the extra one included.
	diffLines(t, "raw", dumpRows(t, c.DB,
		"select map_keys(raw)::varchar, map_extract_value(raw, 'tool_comment') from credential_report_rows order by row_number"),
		[]string{
			"[arn, user, password_last_used, access_key_1_active, access_key_1_last_rotated, tool_comment] | exported, by hand",
			"[arn, user, password_last_used, access_key_1_active, access_key_1_last_rotated, tool_comment] | ",
		})
	// Columns the report lacks are NULL, not N/A.
	diffLines(t, "access_key_rows", dumpRows(t, c.DB, accessKeyRowsQuery), []string{
		"eve | 1 | true | 2024-01-01T00:00:00Z | NULL | NULL | NULL | NULL",
	})
}

func TestCredentialReportGenerationTime(t *testing.T) {
	const csvText = "user,arn,password_last_used\na,arn:aws:iam::111122223333:user/a,N/A"
	wrapped := func(generated string) []byte {
		return []byte(`{"Content": "` + strings.ReplaceAll(csvText, "\n", `\n`) + `", "GeneratedTime": "` + generated + `"}`)
	}
	t.Run("no time anywhere", func(t *testing.T) {
		c := openTestCase(t)
		st := mustLoad(t, c, loadCredentialReport, 1, []byte(csvText))
		if !st.First.IsZero() || st.Note != "no GeneratedTime and no timestamp in the report: generation time unknown" {
			t.Errorf("stats = %+v", st)
		}
		diffLines(t, "credential_reports", dumpRows(t, c.DB,
			"select generated_at, generated_at_source from credential_reports"),
			[]string{"NULL | latest timestamp in report"})
	})
	t.Run("copies that disagree", func(t *testing.T) {
		c := openTestCase(t)
		mustLoad(t, c, loadCredentialReport, 1, wrapped("2025-01-01T00:00:00Z"))
		st := mustLoad(t, c, loadCredentialReport, 2, wrapped("2025-01-01T04:00:00Z"))
		want := "same report as file 1: its rows are not loaded again; " +
			"GeneratedTime 2025-01-01T04:00:00Z differs from the 2025-01-01T00:00:00Z recorded from file 1, which is kept"
		if st.Duplicates != 1 || st.Note != want {
			t.Errorf("stats = %+v", st)
		}
		diffLines(t, "credential_reports", dumpRows(t, c.DB,
			"select report_id, generated_at, generated_at_source from credential_reports"),
			[]string{"1 | 2025-01-01T00:00:00Z | GeneratedTime"})
	})
}

func TestCredentialReportErrors(t *testing.T) {
	const header = "user,arn,user_creation_time,password_last_used,mfa_active\n"
	root := "<root_account>,arn:aws:iam::111122223333:root,2021-01-05T10:00:00Z,N/A,true\n"
	tests := []struct {
		name string
		body string
		want string
	}{
		{"header without arn", "user,password_enabled\nalice,true", `line 1: header has no arn column (header starts "user,password_enabled")`},
		{"not a report", "name,value\nx,1", `line 1: header has no user or arn column (header starts "name,value")`},
		{"duplicate column", "user,arn,user\n", `line 1: header: column "user" appears twice`},
		{"empty", "", "line 1: empty report, no header"},
		{"header only", header, "line 2: report has a header but no rows"},
		{"bad time names the line", header + root + "a,arn:aws:iam::111122223333:user/a,2021-01-05T10:00:00Z,N/A,false\n" +
			"b,arn:aws:iam::111122223333:user/b,2021-01-05T10:00:00Z,2022-13-01T00:00:00Z,false",
			`line 4: password_last_used: invalid time "2022-13-01T00:00:00Z": month out of range`},
		{"date without time", header + "a,arn:aws:iam::111122223333:user/a,2022-12-01,N/A,false",
			`line 2: user_creation_time: invalid time "2022-12-01"`},
		{"bare number is no report time", header + "a,arn:aws:iam::111122223333:user/a,1453076702,N/A,false",
			`line 2: user_creation_time: invalid time "1453076702"`},
		{"bad boolean", header + root + "a,arn:aws:iam::111122223333:user/a,2021-01-05T10:00:00Z,N/A,yes",
			`line 3: mfa_active: invalid boolean "yes"`},
		{"bad time inside JSON Content", `{"Content": "user,arn,password_last_used\na,arn:aws:iam::111122223333:user/a,later", "GeneratedTime": "2024-01-01T00:00:00Z"}`,
			`Content: line 2: password_last_used: invalid time "later"`},
		{"bad base64", `{"Content": "dXNlcixhcm4*!", "ReportFormat": "text/csv"}`,
			"Content: neither CSV text nor valid base64: illegal base64 data at input byte 11"},
		{"base64 of something else", `{"Content": "aGVsbG8sd29ybGQ=", "ReportFormat": "text/csv"}`,
			`Content: line 1: header has no user or arn column (header starts "hello,world")`},
		{"bad GeneratedTime", `{"Content": "user,arn\n", "GeneratedTime": "yesterday"}`, `GeneratedTime: invalid time "yesterday"`},
		{"no Content", `{"ReportFormat": "text/csv", "GeneratedTime": "2024-01-01T00:00:00Z"}`, "Content: missing"},
		{"Content not a string", "{\n\"Content\": 5}", "line 2: Content: JSON number where a string was expected"},
		{"empty Content", `{"Content": "", "ReportFormat": "text/csv"}`, "Content: empty"},
		{"not CSV", `{"Content": "user,arn\n", "ReportFormat": "application/json"}`, `ReportFormat: "application/json" is not text/csv`},
		{"invalid JSON", "{\"Content\": \"user,arn\n\"", "line 1: invalid JSON: invalid character '\\n' in string literal"},
		{"field count", "user,arn\na,arn:aws:iam::111122223333:user/a\nb\n",
			"line 3: row has a different number of fields than the header's 2: wrong number of fields"},
		{"bad quoting", "user,arn\n\"a,arn:aws:iam::111122223333:user/a\n", `line 2, column 36: extraneous or missing " in quoted-field`},
		{"not an IAM ARN", "user,arn\na,arn:aws:s3:::bucket", `line 2: arn: "arn:aws:s3:::bucket" is not an IAM ARN`},
		{"two accounts", "user,arn\na,arn:aws:iam::111122223333:user/a\nb,arn:aws:iam::222233334444:user/b",
			"line 3: arn: account 222233334444 differs from the report's account 111122223333"},
		{"empty user", "user,arn\n,arn:aws:iam::111122223333:user/a", "line 2: user: empty"},
		{"empty arn", "user,arn\na,", "line 2: arn: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTestCase(t)
			_, err := loadBody(t, c, loadCredentialReport, 1, []byte(tt.body))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %q\nwant %q", err, tt.want)
			}
			if n := queryInt(t, c.DB, "select count(*) from credential_reports"); n != 0 {
				t.Errorf("rejected file left %d credential reports", n)
			}
		})
	}
}

func TestCredentialReportCorpus(t *testing.T) {
	corpusDir(t) // skips the whole test, not only its subtests, without the corpus
	tests := []struct {
		path      string
		records   int64
		account   string
		generated string
		source    string
		keys      int64
	}{
		{"credreport/JakubDziegielewski/credential_report.csv", 5, "278368863034", "2023-01-03T10:27:00Z", "latest timestamp in report", 3},
		{"credreport/cfech/credential-report.csv", 3, "156041403698", "2025-01-29T16:46:14Z", "latest timestamp in report", 0},
		{"credreport/cloudmapper/iam-get-credential-report.json", 3, "123456789012", "2019-05-07T15:40:22Z", "GeneratedTime", 4},
	}
	c := openTestCase(t)
	for i, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			fileID := int64(i + 1)
			st := mustLoad(t, c, loadCredentialReport, fileID, readCorpusFile(t, tt.path))
			if st.Records != tt.records || st.Duplicates != 0 || st.AccountID != tt.account {
				t.Errorf("stats = %+v", st)
			}
			diffLines(t, "credential_reports", dumpRows(t, c.DB,
				"select account_id, generated_at, generated_at_source from credential_reports where report_id = ?", fileID),
				[]string{tt.account + " | " + tt.generated + " | " + tt.source})
			if n := queryInt(t, c.DB, "select count(*) from access_keys where account_id = ?", tt.account); n != tt.keys {
				t.Errorf("%d access keys, want %d", n, tt.keys)
			}
		})
	}
	// The 2025 report's drift (FORMATS.md A1): root has a password, and only
	// password_next_rotation is not_supported.
	diffLines(t, "cfech root", dumpRows(t, c.DB, `select password_enabled, password_last_used_note, password_last_changed,
		password_next_rotation, map_extract_value(raw, 'password_next_rotation')
		from credential_report where account_id = '156041403698' and user_name = '<root_account>'`),
		[]string{"true | no_information | 2025-01-28T17:25:12Z | NULL | not_supported"})
}
