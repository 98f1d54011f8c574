package queries_test

import (
	"context"
	"path/filepath"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
)

// A forged copy brought by a second ingest into a case that already holds
// the real event is found as in one run: the fire fixture's files are
// ingested one run each and give the fixture's findings.
func TestEvidenceConflictAcrossRuns(t *testing.T) {
	ar, err := txtar.ParseFile(filepath.Join("testdata", "evidence_conflict", "fire.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var evidence []txtar.File
	want := ""
	for _, f := range ar.Files {
		if f.Name == "findings" {
			want = string(f.Data)
			continue
		}
		evidence = append(evidence, f)
	}
	if len(evidence) != 2 || want == "" {
		t.Fatalf("fire fixture: %d files, findings %q; want two files and findings", len(evidence), want)
	}
	dir := t.TempDir()
	c := ingestCase(t, filepath.Join(dir, "case.duckdb"), writeEvidence(t, filepath.Join(dir, "run1"), evidence[:1]))
	ctx := context.Background()
	if _, err := queries.Run(ctx, c.DB, queries.Params{Rules: []string{"evidence_conflict"}}); err != nil {
		t.Fatal(err)
	}
	if got := dumpFindings(t, c); got != "" {
		t.Fatalf("one file alone: %s", got)
	}
	if _, err := c.Ingest(ctx, writeEvidence(t, filepath.Join(dir, "run2"), evidence[1:]), ingest.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := queries.Run(ctx, c.DB, queries.Params{Rules: []string{"evidence_conflict"}}); err != nil {
		t.Fatal(err)
	}
	if got := dumpFindings(t, c); got != want {
		t.Errorf("findings after the second run differ\n--- got\n%s--- want\n%s", got, want)
	}
}
