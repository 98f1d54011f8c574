package ingest

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestNamesThatAreNotUTF8 loads files whose names hold bytes that are not
// UTF-8 (possible on disk and in bundles): such a name used to crash the
// process inside DuckDB when it was bound as the evidence path.
func TestNamesThatAreNotUTF8(t *testing.T) {
	c := openTestCase(t)
	dir := t.TempDir()
	ndjson, err := os.ReadFile(filepath.Join(fixtureDir, "shapes", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	records := []byte(`{"Records":[{"eventVersion":"1.08","eventID":"n1","eventTime":"2026-10-30T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","recipientAccountId":"111122223333"}]}`)
	report, err := os.ReadFile("testdata/credreport/report.csv")
	if err != nil {
		t.Fatal(err)
	}
	var tgz bytes.Buffer
	tw := tar.NewWriter(&tgz)
	tw.WriteHeader(&tar.Header{Name: "in\xfftar.ndjson", Mode: 0o644, Size: int64(len(ndjson)), Typeflag: tar.TypeReg})
	tw.Write(ndjson)
	tw.Close()
	files := map[string][]byte{
		"records\xff.json":      records,
		"gz\xc3.json.gz":        gzipBytes(t, records),
		"report\x85.csv":        report,
		"bundle\xfe.tar":        tgz.Bytes(),
		"plain-\xe2\x82.ndjson": ndjson,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outcomes := ingestPaths(t, c, dir)
	want := map[string]string{
		`records\xff.json`:                KindCloudTrail,
		`gz\xc3.json.gz`:                  KindCloudTrail,
		`report\x85.csv`:                  KindCredentialRpt,
		`bundle\xfe.tar`:                  KindBundle,
		`bundle\xfe.tar!in\xfftar.ndjson`: KindCloudTrail,
		`plain-\xe2\x82.ndjson`:           KindCloudTrail,
	}
	if len(outcomes) != len(want) {
		t.Errorf("%d outcomes, want %d: %+v", len(outcomes), len(want), outcomes)
	}
	for name, kind := range want {
		o := outcomeOf(t, outcomes, string(filepath.Separator)+name)
		if o.Kind != kind || o.Status == StatusRejected {
			t.Errorf("%s: %s %s (%s), want %s loaded", name, o.Kind, o.Status, o.Error, kind)
		}
	}
	if n := queryInt(t, c.DB, `select count(*) from evidence_files where path like '%records\xff.json'`); n != 1 {
		t.Errorf("evidence rows naming records\\xff.json: %d, want 1", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from events where event_id = 'n1'"); n != 1 {
		t.Errorf("events of the files with byte names: %d, want 1", n)
	}
}
