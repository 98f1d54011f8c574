package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

// A terminal table is written in blocks whose columns are sized apart: a
// wide value late in a long result does not widen the first rows, which
// shows the rows before it were written out and not held (the timeline of
// a role with millions of events held them all, 2.2 GiB).
func TestTableIsWrittenInBlocks(t *testing.T) {
	ctx := context.Background()
	c, err := ingest.Open(ctx, t.TempDir()+"/case.duckdb", ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.DB.QueryContext(ctx, `select case when i = 2400 then repeat('w', 60) else 'x' end as v, i as n from range(2500) t(i) order by i`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b bytes.Buffer
	if err := report.WriteRows(&b, rows, report.FormatTable); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2501 {
		t.Fatalf("%d lines, want the header and 2,500 rows", len(lines))
	}
	if first := lines[1]; len(first) > 20 {
		t.Errorf("the first row is padded to a value 2,400 rows later: %q", first)
	}
	if wide := lines[2401]; !strings.Contains(wide, strings.Repeat("w", 60)) {
		t.Errorf("row 2,400 lost its value: %q", wide)
	}
}
