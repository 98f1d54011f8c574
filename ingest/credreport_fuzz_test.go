package ingest

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzCredentialReportCSV parses arbitrary CSV text as a credential report.
// It must not panic; a report it accepts is one account's, its rows numbered
// in order, and the same report with CRLF line endings or a trailing line
// break is the same report (same hash, same rows).
func FuzzCredentialReportCSV(f *testing.F) {
	addFuzzSeeds(f, 10, filepath.Join("testdata/credreport", "*.csv"), filepath.Join(fuzzCorpus, "credreport", "*", "*.csv"))
	f.Add([]byte("user,arn\n<root_account>,arn:aws:iam::111122223333:root\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		text := string(body)
		rep, err := parseCredentialReport(text, time.Time{})
		again, err2 := parseCredentialReport(text, time.Time{})
		if (err == nil) != (err2 == nil) {
			t.Fatalf("accepted once and refused once: %v / %v", err, err2)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		if rep.sha256 != again.sha256 || len(rep.rows) != len(again.rows) {
			t.Fatal("the same text parsed twice differs")
		}
		if len(rep.rows) == 0 {
			t.Fatal("accepted a report without rows")
		}
		for i, row := range rep.rows {
			if row.number != i+1 {
				t.Fatalf("row %d numbered %d", i+1, row.number)
			}
			if account, ok := iamARNAccount(row.arn); !ok || account != rep.accountID {
				t.Fatalf("row %d: arn %q is not of the report's account %q", i+1, row.arn, rep.accountID)
			}
			if len(row.columns) != len(row.values) {
				t.Fatalf("row %d: %d columns, %d values", i+1, len(row.columns), len(row.values))
			}
			for _, k := range row.accessKeys {
				if k.slot != 1 && k.slot != 2 {
					t.Fatalf("row %d: access key slot %d", i+1, k.slot)
				}
			}
		}
		crlf := strings.ReplaceAll(normaliseReportCSV(text), "\n", "\r\n") + "\r\n"
		other, err := parseCredentialReport(crlf, time.Time{})
		if err != nil {
			if strings.Contains(text, "\r") || strings.Contains(text, "\"") {
				return // a quoted field's own line breaks change with the endings
			}
			t.Fatalf("accepted with LF line endings, refused with CRLF: %v", err)
		}
		if other.sha256 != rep.sha256 && !strings.Contains(text, "\r") && !strings.Contains(text, "\"") {
			t.Fatalf("line endings changed the report's hash")
		}
	})
}

// FuzzCredentialReportJSON reads arbitrary bodies as the JSON answer of
// get-credential-report, and checks that a CSV wrapped as that answer
// (base64 Content, as the CLI writes it, or plain text, as boto3 dumps do)
// comes out exactly as it went in.
func FuzzCredentialReportJSON(f *testing.F) {
	addFuzzSeeds(f, 10, filepath.Join("testdata/credreport", "*"), filepath.Join(fuzzCorpus, "credreport", "*", "*"))
	f.Add([]byte(`{"Content":"dXNlcixhcm4K","ReportFormat":"text/csv","GeneratedTime":"2026-10-30T10:00:00Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if text, _, _, err := credentialReportCSV(body); err == nil {
			parseCredentialReport(text, time.Time{}) // must not panic
		}

		content := body
		wrapped, _ := json.Marshal(map[string]string{
			"Content": base64.StdEncoding.EncodeToString(content), "ReportFormat": "text/csv",
			"GeneratedTime": "2026-10-30T10:00:00Z",
		})
		text, generated, where, err := credentialReportCSV(wrapped)
		if len(content) == 0 {
			if err == nil {
				t.Fatal("accepted an empty Content")
			}
			return
		}
		if err != nil {
			t.Fatalf("base64 Content refused: %v", err)
		}
		if want := string(trimBOM(content)); text != want {
			t.Fatalf("base64 Content changed: %q, want %q", text, want)
		}
		if !generated.Equal(time.Date(2026, 10, 30, 10, 0, 0, 0, time.UTC)) || where != "Content: " {
			t.Fatalf("GeneratedTime %v, position %q", generated, where)
		}

		// Plain text Content: what boto3 dumps hold.
		plain := strings.TrimPrefix(string(content), "\ufeff")
		if !utf8.ValidString(plain) || !strings.HasPrefix(strings.TrimLeftFunc(plain, unicode.IsSpace), "user,arn") {
			return
		}
		wrapped, _ = json.Marshal(map[string]string{"Content": plain})
		text, _, _, err = credentialReportCSV(wrapped)
		if err != nil || text != plain {
			t.Fatalf("plain Content: %q, %v; want %q", text, err, plain)
		}
	})
}
