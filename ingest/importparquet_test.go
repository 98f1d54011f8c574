package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A merged export brings its events' key hashes, but they are computed
// again: an export whose hashes are wrong (here each one plus 1, the
// manifest made to match) must not hide an event from the search for its
// copies, in the merge or in later runs.
func TestMergedExportKeyHashesAreComputedAgain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logFile := recordsFile(t, filepath.Join(dir, "logs", ctName("20240305T1005Z", "aaaa0001")), deleteTrail)

	exported := openTestCase(t)
	ingestPaths(t, exported, logFile)
	export := filepath.Join(dir, "export")
	m, err := exported.ExportParquet(ctx, export, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for ti, tb := range m.Tables {
		if tb.Name != "events" {
			continue
		}
		for fi, f := range tb.Files {
			p := filepath.Join(export, filepath.FromSlash(f.Path))
			wrong := p + ".wrong"
			q := `copy (select * replace (key_hash + 1 as key_hash) from read_parquet('` + strings.ReplaceAll(p, "'", "''") +
				`', hive_partitioning = false)) to '` + strings.ReplaceAll(wrong, "'", "''") + `' (format parquet, compression zstd)`
			if _, err := exported.DB.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(wrong, p); err != nil {
				t.Fatal(err)
			}
			sum, err := hashFile(p)
			if err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			m.Tables[ti].Files[fi].SHA256, m.Tables[ti].Files[fi].Bytes = sum, info.Size()
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("the export has no events file")
	}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(export, ExportManifestName), body, 0o644); err != nil {
		t.Fatal(err)
	}

	// The case already holds the event from another copy of the log file.
	c := openTestCase(t)
	again := recordsFile(t, filepath.Join(dir, "again", ctName("20240305T1005Z", "aaaa0001")), deleteTrail+" ")
	ingestPaths(t, c, again)
	if o := outcomeOf(t, ingestPaths(t, c, export), ExportManifestName); o.Status != StatusLoaded {
		t.Fatalf("export: %+v, want merged", o)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 1 {
		t.Errorf("%d events after the merge, want 1: the exported copy is a duplicate", n)
	}
	// A later run re-delivers it with another event: the copy is a duplicate.
	later := recordsFile(t, filepath.Join(dir, "later", ctName("20240305T1010Z", "bbbb0001")), deleteTrail, otherEvent("e2"))
	if o := ingestPaths(t, c, later)[0]; o.Status != StatusLoaded || o.Duplicates != 1 {
		t.Errorf("later re-delivery: %+v, want loaded with 1 duplicate", o)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 2 {
		t.Errorf("%d events after the re-delivery, want 2 (e1 once, e2)", n)
	}
}
