package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The case argument forgotten: the first evidence file is not taken for the
// case, and nothing is written.
func TestIngestRefusesEvidenceAsTheCase(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.csv")
	body := "user,arn,user_creation_time\n<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00\n"
	if err := os.WriteFile(report, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "ingest", report, filepath.Join(shapes, "array.json"))
	if code != exitError || !strings.Contains(errOut, report) || !strings.Contains(errOut, "not a DuckDB database") {
		t.Errorf("exit %d, stderr %q: want exit 1 naming %s as not a DuckDB database", code, errOut, report)
	}
	if got, _ := os.ReadFile(report); string(got) != body {
		t.Errorf("the report was changed: %q", got)
	}
}

// A mistyped evidence path is named, and leaves no empty case behind.
func TestIngestOfAMissingPathCreatesNoCase(t *testing.T) {
	dir := t.TempDir()
	for _, verb := range [][]string{{"ingest", filepath.Join(dir, "case.duckdb")}, {"run", "-o", filepath.Join(dir, "case.xlsx")}} {
		missing := filepath.Join(dir, "AWSLogs-typo")
		code, _, errOut := runCLI(t, append(verb, shapes, missing)...)
		if code != exitError || !strings.Contains(errOut, missing) {
			t.Errorf("%s: exit %d, stderr %q: want exit 1 naming %s", verb[0], code, errOut, missing)
		}
		if _, err := os.Stat(filepath.Join(dir, "case.duckdb")); err == nil {
			t.Errorf("%s: a case was created for missing evidence", verb[0])
		}
	}
}

// A bundle cut short (`tar czf s.tgz -C samples/case AWSLogs iam; head -c
// 300000 s.tgz`) is reported, and --strict makes it an error.
func TestIngestStrictFailsOnACutBundle(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	root := "../../samples/case"
	err := filepath.WalkDir(filepath.Join(root, "AWSLogs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		_, err = tw.Write(body)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	cut := filepath.Join(dir, "t.tgz")
	if err := os.WriteFile(cut, buf.Bytes()[:300000], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "ingest", "--strict", filepath.Join(dir, "case.duckdb"), cut)
	if code != exitError || !strings.Contains(errOut, "1 bundle(s) read only in part (--strict)") ||
		!strings.Contains(errOut, cut+": bundle read only in part") || !strings.Contains(out, "partial") {
		t.Errorf("exit %d, want 1 with the cut bundle listed\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestIngestReportsConflictingCopies(t *testing.T) {
	dir := t.TempDir()
	record := `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2026-10-30T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"DeleteTrail","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	files := map[string]string{
		"111122223333_CloudTrail_us-east-1_20261030T1005Z_real0001.json":  record,
		"111122223333_CloudTrail_us-east-1_20261030T1010Z_forged001.json": strings.Replace(record, "DeleteTrail", "DescribeTrails", 1),
	}
	var paths []string
	for name, rec := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`{"Records":[`+rec+`]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	code, stdout, stderr := runCLI(t, append([]string{"ingest", filepath.Join(dir, "case.duckdb")}, paths...)...)
	if code != exitOK || !strings.Contains(stdout, "\n  1 events have conflicting copies (table conflicting_events; finding evidence_conflict)\n") {
		t.Errorf("ingest: exit %d, want the conflict in the summary:\n%s%s", code, stdout, stderr)
	}
}

// Each ingest is logged in the case with the command line that ran it;
// running it again adds no evidence rows, only a run that counts the files
// as re-submitted.
func TestIngestRunsAreLogged(t *testing.T) {
	caseDB := filepath.Join(t.TempDir(), "case.duckdb")
	for range 2 {
		if code, _, errOut := runCLI(t, "ingest", caseDB, shapes); code != exitOK {
			t.Fatal(errOut)
		}
	}
	code, out, errOut := runCLI(t, "query", "--format", "csv", caseDB,
		"select command_line, credtrail_version, files_added, files_resubmitted, (select count(*) from evidence_files) as rows from ingest_runs order by run_id")
	want := "command_line,credtrail_version,files_added,files_resubmitted,rows\n" +
		"credtrail ingest " + caseDB + " " + shapes + "," + version + ",8,0,8\n" +
		"credtrail ingest " + caseDB + " " + shapes + "," + version + ",0,8,8\n"
	if code != exitOK || out != want {
		t.Errorf("ingest_runs:\n%s\nwant:\n%s%s", out, want, errOut)
	}
}

// Ingesting nothing of a known kind (an empty folder, a folder of notes) is
// a warning, on stderr and in the summary, not a silent success.
func TestIngestOfNothingRecognisedWarns(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	notes := filepath.Join(dir, "notes")
	for _, d := range []string{empty, notes} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(notes, "README.md"), []byte("# case notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{empty, notes} {
		code, out, errOut := runCLI(t, "ingest", filepath.Join(dir, filepath.Base(path)+".duckdb"), path)
		if code != exitOK || !strings.Contains(errOut, "warning: no evidence recognised") || !strings.Contains(out, "no file of a known kind") {
			t.Errorf("%s: exit %d, want 0 with a warning\nstdout: %s\nstderr: %s", path, code, out, errOut)
		}
	}
	// Real evidence, and a bundle of it given again (not unpacked again),
	// are no cause for the warning.
	bundle := filepath.Join(dir, "shapes.tgz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	body, err := os.ReadFile(filepath.Join(shapes, "array.json"))
	if err != nil {
		t.Fatal(err)
	}
	tw.WriteHeader(&tar.Header{Name: "array.json", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write(body)
	tw.Close()
	zw.Close()
	if err := os.WriteFile(bundle, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{shapes, bundle, bundle} {
		if _, _, errOut := runCLI(t, "ingest", filepath.Join(dir, "real.duckdb"), path); strings.Contains(errOut, "no evidence recognised") {
			t.Errorf("%s: warned on real evidence: %s", path, errOut)
		}
	}
}

// A bundle's records are those of its entries: ingest's summary counts them
// once, not once for the entries and again for the bundle.
func TestIngestCountsABundlesRecordsOnce(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"array.json", "single-event.json"} { // 2 and 1 records
		body, err := os.ReadFile(filepath.Join(shapes, name))
		if err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Name: "logs/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	tw.Close()
	bundle := filepath.Join(dir, "logs.tar")
	if err := os.WriteFile(bundle, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "ingest", filepath.Join(dir, "case.duckdb"), bundle)
	if code != exitOK || !strings.Contains(out, "records read this run: 3 (0 already in the case)") || !strings.Contains(out, "case: 3 files, 3 events") {
		t.Errorf("exit %d, want the bundle's 3 records counted once:\n%s%s", code, out, errOut)
	}
}
