package ingest

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A link in a walked folder to a file outside the paths given is rejected
// without being read, and no rejection reason quotes a file that is not
// recognised evidence (it may be a key file or /etc/shadow).
func TestLinksOutsideTheEvidenceAreNotRead(t *testing.T) {
	c := openTestCase(t)
	const canary = "canary-5f1e-secret"
	outside := t.TempDir()
	secretText := filepath.Join(outside, "shadow")
	secretJSON := filepath.Join(outside, "token.json")
	os.WriteFile(secretText, []byte("root:"+canary+":19000:0:99999:7:::\n"), 0o600)
	os.WriteFile(secretJSON, []byte(`{"`+canary+`": "`+canary+`"}`), 0o600)
	os.Mkdir(filepath.Join(outside, "folder"), 0o755)

	dir := copyTree(t, filepath.Join(fixtureDir, "shapes"))
	for name, target := range map[string]string{
		"shadow-link":  secretText,
		"token-link":   secretJSON,
		"folder-link":  filepath.Join(outside, "folder"),
		"z-array-link": filepath.Join(dir, "array.json"), // inside: read
		"missing-link": filepath.Join(outside, "nothing"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skip("no symlinks here:", err)
		}
	}
	// Unrecognised files inside the evidence: rejected, their content not quoted.
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(canary+" is the password\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"`+canary+`": 1}`), 0o644)
	os.WriteFile(filepath.Join(dir, "list.json"), []byte(`[{"`+canary+`": 1}]`), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"a": `+canary+`}`), 0o644)

	outcomes := ingestPaths(t, c, dir)
	for _, name := range []string{"shadow-link", "token-link", "folder-link"} {
		o := outcomeOf(t, outcomes, name)
		if o.Status != StatusRejected || o.Error != "link outside the evidence" {
			t.Errorf("%s: %s %q, want rejected as a link outside the evidence", name, o.Status, o.Error)
		}
	}
	if o := outcomeOf(t, outcomes, "missing-link"); o.Status != StatusRejected {
		t.Errorf("missing-link: %+v, want rejected", o)
	}
	if o := outcomeOf(t, outcomes, "z-array-link"); o.Status != StatusDuplicate {
		t.Errorf("z-array-link: %+v, want read (a duplicate of array.json)", o)
	}
	if o := outcomeOf(t, outcomes, "array.json"); o.Status != StatusLoaded {
		t.Errorf("array.json: %+v", o)
	}
	// Never read: not even hashed.
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where path like '%-link' and status = 'rejected' and (sha256 is not null or bytes <> 0)"); n != 0 {
		t.Errorf("%d links outside the evidence were read", n)
	}
	for _, o := range outcomes {
		if strings.Contains(o.Error, canary) {
			t.Errorf("%s: reason quotes the file: %q", o.Path, o.Error)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where contains(coalesce(error, ''), ?)", canary); n != 0 {
		t.Errorf("%d evidence rows quote a file that is not evidence", n)
	}
	// A file named on the command line is read wherever a link takes it.
	link := filepath.Join(t.TempDir(), "given.json")
	os.Symlink(filepath.Join(dir, "single-event.json"), link)
	if o := outcomeOf(t, ingestPaths(t, c, link), "given.json"); o.Status != StatusResubmitted {
		t.Errorf("a link named on the command line: %+v", o)
	}
}

// An evidence file with an ordinary name is read where it lies, and DuckDB
// reads it under the path given: on Windows the path's backslashes once sent
// every file through a link in the scratch folder, which needs privileges or
// the same drive (under Wine, every CloudTrail file was rejected).
func TestOrdinaryPathsAreReadInPlace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "AWSLogs", "123456789012", "CloudTrail")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "123456789012_CloudTrail_eu-west-1_20261025T0105Z_a1.json.gz")
	body := `{"Records":[{"eventTime":"2026-10-25T01:02:03Z","eventID":"e1","eventSource":"iam.amazonaws.com","eventName":"ListUsers"}]}`
	if err := os.WriteFile(p, gzipBytes(t, []byte(body)), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, ok := readablePath(p, true)
	if !ok {
		t.Fatalf("%s is read through a link, not in place", p)
	}
	c := openTestCase(t)
	var n int
	if err := c.DB.QueryRow("select len(Records) from read_json(?, format = 'unstructured')", abs).Scan(&n); err != nil || n != 1 {
		t.Fatalf("read_json(%s): %d records, %v; want 1", abs, n, err)
	}
	for _, name := range []string{"a[1].json.gz", "it's.json.gz", "a*.json.gz"} {
		if _, ok := readablePath(filepath.Join(dir, name), true); ok {
			t.Errorf("%s is read in place, though DuckDB would take it as a pattern", name)
		}
	}
}

// A gzipped Records file inside a zip is unpacked to a scratch file that
// DuckDB reads through a link named .gz; where a symbolic link is reported
// made but leads nowhere (Wine 8), a hard link takes its place, and the
// file's events load rather than every such file being rejected.
func TestGzippedRecordsInABundleLoad(t *testing.T) {
	body := `{"Records":[{"eventTime":"2026-10-25T01:02:03Z","eventID":"e1","eventSource":"iam.amazonaws.com","eventName":"ListUsers"},` +
		`{"eventTime":"2026-10-25T01:02:04Z","eventID":"e2","eventSource":"iam.amazonaws.com","eventName":"ListRoles"}]}`
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, err := zw.Create("AWSLogs/123456789012/CloudTrail/eu-west-1/123456789012_CloudTrail_eu-west-1_20261025T0105Z_a1.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(gzipBytes(t, []byte(body)))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "trail.zip")
	if err := os.WriteFile(bundle, zbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := openTestCase(t)
	o := outcomeOf(t, ingestPaths(t, c, bundle), "_a1.json.gz")
	if o.Status != StatusLoaded || o.Records != 2 {
		t.Errorf("the gzipped entry: %s, %d records (%s); want loaded, 2", o.Status, o.Records, o.Error)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
}
