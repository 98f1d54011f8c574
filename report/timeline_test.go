package report_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

// A timeline workbook holds every event row given, and a Summary whose
// lists are counted from them, with the hop each key came through.
func TestWriteTimeline(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	c, err := ingest.Open(ctx, path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.DB.QueryContext(ctx, `select * from (values
		('2026-10-30 10:00:00+00'::timestamptz, 'e1', '111122223333', 'sts.amazonaws.com', 'AssumeRole', 'sts:AssumeRole', 'us-east-1', '203.0.113.9', 'aws-cli/2', null, 'arn:aws:iam::111122223333:user/m', 'arn:aws:iam::111122223333:user/m', 'AKIAM', 0, null, null, null, '{}', null, 'f.json', 0),
		('2026-10-30 10:05:00+00'::timestamptz, 'e2', '111122223333', 'cloudtrail.amazonaws.com', 'StopLogging', 'cloudtrail:StopLogging', 'us-east-1', '203.0.113.9', '=cmd|calc', 'AccessDenied', 'arn:aws:iam::111122223333:role/r', 'arn:aws:sts::111122223333:assumed-role/r/s', 'ASIAR', 1, 'AKIAM', 'AssumeRole', 'e1', '{}', 'defense_evasion', 'f.json', 1))
		as t(event_time, event_id, account_id, event_source, event_name, iam_action, aws_region, source_ip, user_agent, error_code,
		     principal_arn, identity_arn, access_key_id, hop, via_key, via_call, via_event_id, request_parameters, playbook, evidence_file, record_index)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var buf bytes.Buffer
	if err := report.WriteTimeline(ctx, &buf, "access key AKIAM", []string{"Lead: access key AKIAN created for bob"}, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	events, err := f.GetRows(report.SheetEvents)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 || events[3][4] != "StopLogging" || events[3][14] != "AKIAM" {
		t.Errorf("events sheet: %q", events)
	}
	// The user agent is a text cell, never a formula.
	if formula, _ := f.GetCellFormula(report.SheetEvents, "I4"); formula != "" {
		t.Errorf("user agent became a formula: %q", formula)
	}
	summary, err := f.GetRows(report.SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, r := range summary {
		text = append(text, strings.Join(r, "|"))
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"Timeline of access key AKIAM",
		"Events|2", "Refused or failed|1",
		"Lead: access key AKIAN created for bob",
		"ASIAR|1|1|", "hop 1: minted by AKIAM with AssumeRole",
		"defense evasion: cloudtrail:StopLogging|1|1",
		"2026-10-30 10:00|2",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("summary lacks %q:\n%s", want, all)
		}
	}
}
