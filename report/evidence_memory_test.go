package report_test

import (
	"encoding/json"
	"fmt"
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
