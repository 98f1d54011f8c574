package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// A new user validates a downloaded trail archive offline: the sample case
// validates (exit 0), with or without a case; a log file changed after
// delivery makes verify exit 3 and name it.
func TestVerifyCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the sample case")
	}
	const sample = "../../samples/case"
	region := "AWSLogs/o-hjot2hwz7m/927587041124/CloudTrail/us-east-1"
	code, out, errOut := runCLI(t, "verify", filepath.Join(sample, "AWSLogs/o-hjot2hwz7m/927587041124"), filepath.Join(sample, "cloudtrail-public-keys.json"),
		filepath.Join(sample, "cloudtrail-digest-metadata"))
	if code != exitOK || !strings.Contains(out, "digest files: valid 169\n") || !strings.Contains(out, "log files:    valid 168") {
		t.Fatalf("verify PATH...: exit %d\n%s%s", code, out, errOut)
	}

	// run verifies the digests it ingests before analyzing; without the
	// newest digest's head-object export, that one is not verified.
	code, _, errOut = runCLI(t, "run", "-o", filepath.Join(t.TempDir(), "run.xlsx"), filepath.Join(sample, "AWSLogs/o-hjot2hwz7m/927587041124"), filepath.Join(sample, "cloudtrail-public-keys.json"))
	if code != exitOK || !strings.Contains(errOut, "log file validation (credtrail verify):\ndigest files: valid 168 not_verified 1") {
		t.Errorf("run: exit %d\n%s", code, errOut)
	}

	// A copy with one log file changed, ingested into a case.
	dir := t.TempDir()
	var victim string
	err := filepath.Walk(filepath.Join(sample, "AWSLogs/o-hjot2hwz7m/927587041124"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(sample, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if victim == "" && strings.Contains(filepath.ToSlash(rel), region) {
			victim = filepath.Join(dir, rel)
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(zr)
			body = bytes.Replace(body, []byte(`"eventName":"`), []byte(`"eventName":"X`), 1)
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			b = buf.Bytes()
		}
		out := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	caseDB := filepath.Join(t.TempDir(), "case.duckdb")
	if code, _, errOut := runCLI(t, "ingest", caseDB, dir, filepath.Join(sample, "cloudtrail-public-keys.json")); code != exitOK {
		t.Fatalf("ingest: %s", errOut)
	}
	code, out, errOut = runCLI(t, "verify", caseDB)
	if code != exitFindings || !strings.Contains(out, "modified     log_file  "+victim) || !strings.Contains(errOut, "1 file(s) modified or missing") {
		t.Errorf("tampered: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "query", "--format", "csv", caseDB, "select status, count(*) as n from log_validation where kind = 'log_file' group by 1 order by 1")
	if code != exitOK || !strings.Contains(out, "modified,1\n") {
		t.Errorf("log_validation: %s", out)
	}
	// The analysis reports it, and the workbook's Evidence sheet shows it.
	if code, out, errOut := runCLI(t, "analyze", caseDB); code != exitOK || !strings.Contains(out, "log_file_integrity") {
		t.Errorf("analyze after verify: exit %d\n%s%s", code, out, errOut)
	}
	book := filepath.Join(t.TempDir(), "case.xlsx")
	if code, _, errOut := runCLI(t, "report", caseDB, "-o", book); code != exitOK {
		t.Fatalf("report: %s", errOut)
	}
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Evidence")
	f.Close()
	found := false
	for _, r := range rows {
		if len(r) > 15 && r[1] == victim {
			found = strings.HasPrefix(r[15], "modified: SHA-256 of the uncompressed bytes is ")
		}
	}
	if !found {
		t.Errorf("the Evidence sheet does not show %s as modified", victim)
	}
	if code, _, errOut := runCLI(t, "verify", filepath.Join(t.TempDir(), "nope")); code != exitError || !strings.Contains(errOut, "nope") {
		t.Errorf("missing path: exit %d %s", code, errOut)
	}
}
