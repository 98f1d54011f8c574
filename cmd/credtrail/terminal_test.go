package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// rawTerminalControl returns the first character of out that a terminal
// would act on or hide: a control character other than the line break, or
// an invisible format character (bidi overrides, zero-width characters).
func rawTerminalControl(out string) (rune, bool) {
	for _, r := range out {
		if r == '\n' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// TestTerminalOutputEscapesEvidence plants terminal escapes, control
// characters and bidi overrides in every kind of evidence string that a
// command prints (event fields, account ids, regions, file names, bundle
// entry names, rejection reasons) and checks no command sends one raw.
func TestTerminalOutputEscapesEvidence(t *testing.T) {
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	if err := os.Mkdir(evidence, 0o755); err != nil {
		t.Fatal(err)
	}
	// JSON escapes: ESC, BEL, CR, C1 CSI, right-to-left override, isolate.
	event := `{"Records":[{"eventVersion":"1.08","eventID":"e1","eventTime":"2026-10-30T10:00:00Z",` +
		`"eventSource":"iam.amazonaws.com","eventName":"Create\u001b[2JUser","eventType":"AwsApiCall",` +
		`"awsRegion":"us-east-1\u202e\u2066","recipientAccountId":"111122223333",` +
		`"sourceIPAddress":"198.51.100.7","userAgent":"\u001b]8;;http://x.test\u0007click\u009b31m\r\u202egnp.exe",` +
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a\u001b[1mlice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE"}}]}`
	files := map[string]string{
		"ev\x1b]0;pwned\x07\u202eil.json": event,
		"bad\x1b[31m\r.json":              `{"Records":[{"eventID":"x","eventTime":"\u001b[5mnever"}]}`,
		// an account id is 12 digits or the file is rejected, its reason quoting the id escaped
		"account.json": `{"Records":[{"eventID":"z","eventTime":"2026-10-30T10:00:00Z","recipientAccountId":"1111\u001b[8m22223333"}]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(evidence, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var bundle bytes.Buffer
	gz := gzip.NewWriter(&bundle)
	tw := tar.NewWriter(gz)
	entry := []byte(`{"Records":[{"eventID":"y","eventTime":"later"}]}`)
	tw.WriteHeader(&tar.Header{Name: "entry\x1b[1m\u202e\u009b\xff.json", Mode: 0o644, Size: int64(len(entry)), Typeflag: tar.TypeReg})
	tw.Write(entry)
	tw.Close()
	gz.Close()
	if err := os.WriteFile(filepath.Join(evidence, "bundle.tgz"), bundle.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	caseDB := filepath.Join(dir, "case.duckdb")
	runs := []struct {
		name string
		args []string
		want string // escaped evidence the output must show
	}{
		{"ingest", []string{"ingest", caseDB, evidence}, `account id "1111\x1b[8m22223333" is not 12 digits`},
		{"query table", []string{"query", caseDB, "select event_name, user_agent, recipient_account_id, aws_region, principal_arn from events"}, `\u009b31m`},
		{"query file names", []string{"query", caseDB, "select regexp_replace(path, '.*/', '') as name, status, error from evidence_files order by path"}, `entry\u001b[1m\u202e\u009b\xff.json`},
		{"query column names", []string{"query", caseDB, "select 1 as \"a\x1b[2Jb\""}, `a\u001b[2Jb`},
		{"query error quoting evidence", []string{"query", caseDB, "select cast(user_agent as integer) from events"}, `\u001b]8`},
		{"analyze", []string{"analyze", caseDB}, "findings"},
	}
	// A name that is not UTF-8 used to crash ingest inside DuckDB.
	if err := os.WriteFile(filepath.Join(evidence, "bytes\xff\x85.json"), []byte(event), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			_, out, errOut := runCLI(t, r.args...)
			for stream, text := range map[string]string{"stdout": out, "stderr": errOut} {
				if c, found := rawTerminalControl(text); found {
					t.Errorf("%s sends %U raw:\n%q", stream, c, text)
				}
			}
			if !strings.Contains(out+errOut, r.want) {
				t.Errorf("want %q (escaped evidence) in\nstdout: %q\nstderr: %q", r.want, out, errOut)
			}
		})
	}
}
