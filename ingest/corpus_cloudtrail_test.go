package ingest

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type manifestEntry struct {
	kind    string
	records int64
}

func readManifest(tb testing.TB, corpus string) map[string]manifestEntry {
	tb.Helper()
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	rows, err := r.ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]manifestEntry{}
	for _, row := range rows[1:] {
		n, _ := strconv.ParseInt(row[2], 10, 64)
		out[row[0]] = manifestEntry{kind: row[1], records: n}
	}
	return out
}

func isCloudTrailManifestKind(k string) bool {
	return strings.HasPrefix(k, "gzip:json") || strings.HasPrefix(k, "json") || k == "ndjson" ||
		k == "event-history-csv" || strings.HasPrefix(k, "lookup-events")
}

// TestCorpusCloudTrail ingests the whole corpus and checks every CloudTrail
// file against the manifest's record counts.
func TestCorpusCloudTrail(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus test skipped in -short mode")
	}
	corpus := corpusDir(t)
	manifest := readManifest(t, corpus)
	c := openTestCase(t)
	outcomes, err := c.Ingest(context.Background(), []string{corpus}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]FileOutcome{}
	for _, o := range outcomes {
		rel, _ := filepath.Rel(corpus, o.Path)
		byPath[filepath.ToSlash(rel)] = o
	}
	// Files that are not valid CloudTrail evidence, with the reason they must give.
	knownBad := map[string]string{
		"cloudtrail/suzaku-sample-data/traildiscover.cloud/aws/cloudtrail/CreateApiKey.json":                   "invalid JSON",
		"authz/cloudsplaining/test_files_scanning_test_authorization_file_details_missing_constraints_v2.json": "not CloudTrail events",
		// Semi-synthetic Panther test events: 18 records have no eventTime or a placeholder such as "redacted".
		"cloudtrail/panther/panther_cloudtrail_records.json": "no valid eventTime",
		// An Elastic test event whose recipientAccountId is the placeholder "redacted".
		"cloudtrail/elastic-integrations/test-user-authentication.log": `recipientAccountId: account id "redacted" is not 12 digits`,
		// A console Event-history CSV re-saved by a spreadsheet: 528758312345 became 5.28758E+11.
		"eventhistory/gi11rl-CloudGoat/event_history_e484a0e.csv": "re-saved by a spreadsheet",
	}
	for path, reason := range knownBad {
		o, ok := byPath[path]
		if !ok || o.Status != StatusRejected || !strings.Contains(o.Error, reason) {
			t.Errorf("%s: %+v, want rejected with %q", path, o, reason)
		}
	}
	checked := 0
	for path, m := range manifest {
		if !isCloudTrailManifestKind(m.kind) || knownBad[path] != "" {
			continue
		}
		o, ok := byPath[path]
		if !ok {
			t.Errorf("%s: not ingested", path)
			continue
		}
		if o.Kind != KindCloudTrail || o.Status == StatusRejected || o.Records != m.records {
			t.Errorf("%s: %s %s with %d records (%s), manifest says %s with %d", path, o.Kind, o.Status, o.Records, o.Error, m.kind, m.records)
		}
		checked++
	}
	if checked < 4500 {
		t.Errorf("only %d CloudTrail files checked", checked)
	}

	// SANS-504: 30,477 records of which 6,496 re-deliveries.
	var records, dups int64
	err = c.DB.QueryRow(`select sum(records), sum(duplicates) from evidence_files
		where path like '%/SANS-504-S3-ransomware-lab/%'`).Scan(&records, &dups)
	if err != nil {
		t.Fatal(err)
	}
	if records != 30477 || dups != 6496 {
		t.Errorf("SANS-504: %d records, %d duplicates; want 30477, 6496", records, dups)
	}
	// Its re-deliveries are identical copies: none conflicts.
	if n := queryInt(t, c.DB, `select count(*) from conflicting_events x join evidence_files f using (file_id)
		where f.path like '%/SANS-504-S3-ransomware-lab/%'`); n != 0 {
		t.Errorf("SANS-504: %d conflicting copies, want none", n)
	}
	t.Logf("corpus: %d events with conflicting copies", queryInt(t, c.DB,
		"select count(*) from (select distinct event_id, recipient_account_id from conflicting_events)"))
	// The byte-identical stratus files are duplicates and add no events.
	if n := queryInt(t, c.DB, `select count(*) from evidence_files d join evidence_files o on d.duplicate_of = o.file_id
		where d.status = 'duplicate' and d.path like '%stratus-red-team.cloud%' and d.sha256 = o.sha256`); n < 2 {
		t.Errorf("stratus duplicate files: %d, want at least 2", n)
	}
	if n := queryInt(t, c.DB, `select count(*) from events e join evidence_files f using (file_id) where f.status <> 'loaded'`); n != 0 {
		t.Errorf("%d events point at files that are not loaded", n)
	}
	// Identity types of the whole corpus, with root activity from SANS-504.
	if n := queryInt(t, c.DB, "select count(*) from events where identity_type = 'Root' and principal_arn = 'arn:aws:iam::342082656213:root'"); n == 0 {
		t.Error("no root activity found in SANS-504")
	}
	if n := queryInt(t, c.DB, "select count(*) from events where principal_arn is null and identity_type in ('IAMUser', 'Root')"); n != 0 {
		t.Errorf("%d IAM user or root events without principal_arn", n)
	}
}
