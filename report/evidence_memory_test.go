package report_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/report"
)

// A finding whose evidence names tens of thousands of events (a bulk S3
// download) must not exhaust a small memory limit: the Timeline once
// unnested the evidence laterally, copying it once per event id, and ran out
// of memory on a 3M-event case.
func TestTimelineWithHugeEvidenceFitsASmallMemoryLimit(t *testing.T) {
	c := newCase(t)
	ids := make([]string, 30000)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	evidence, err := json.Marshal(map[string]any{"event_ids": ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"set memory_limit = '128MB'", "set threads = 1"} {
		if _, err := c.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		_, err := c.DB.Exec(`insert into findings (finding_id, rule_id, severity, title, evidence)
			values (?, 's3_bulk_download', 'high', 'Bulk download', ?)`, fmt.Sprintf("bulk-%d", i), string(evidence))
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(workbook(t, load(t, c, report.Options{}))) == 0 {
		t.Fatal("empty workbook")
	}
}

// A finding puts at most TimelinePerFinding of its events, the first ones,
// on the Timeline, and the sheet says it is capped and where the rest is;
// an event another finding names stays.
func TestTimelineCapsEventsPerFinding(t *testing.T) {
	c := newCase(t)
	_, err := c.DB.Exec(`insert into findings (finding_id, rule_id, severity, title, evidence)
		values ('f-burst', 'discovery_burst', 'medium', 'Discovery burst',
		        '{"event_ids":["11111111-0000-4000-8000-000000000003","11111111-0000-4000-8000-000000000002","11111111-0000-4000-8000-000000000001"]}')`)
	if err != nil {
		t.Fatal(err)
	}
	timeline := func(per int) (note string, ids []string) {
		f := open(t, workbook(t, load(t, c, report.Options{TimelinePerFinding: per})))
		rows, err := f.GetRows("Timeline")
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[2:] {
			if len(row) > 13 {
				ids = append(ids, row[13])
			}
		}
		return rows[0][0], ids
	}
	note, ids := timeline(2)
	want := []string{"11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000004"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("capped at 2: Timeline events %v, want %v", ids, want)
	}
	if !strings.HasPrefix(note, "CAPPED: each finding shows its first 2 events here; 1 finding(s) have more (up to 3).") || !strings.Contains(note, "--format jsonl --tables") {
		t.Errorf("capped Timeline note %q", note)
	}
	note, ids = timeline(0)
	if len(ids) != 4 || strings.Contains(note, "CAPPED") {
		t.Errorf("default cap: Timeline events %v, note %q; want all 4 events, no cap", ids, note)
	}
}
