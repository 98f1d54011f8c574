package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

func open(tb testing.TB, b []byte) *excelize.File {
	tb.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

func TestWorkbookSheetsAndHeaders(t *testing.T) {
	f := open(t, workbook(t, load(t, newCase(t), report.Options{})))
	want := []string{"Summary", "Findings", "Root Activity", "Credentials", "Unused Permissions", "Principals", "Policies", "Timeline", "Evidence", "Method"}
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	headers := map[string]string{
		"Findings":      "Severity|Rule|Title|Principal|Resource|Detail|First seen (UTC)|Events|Proof|Last seen (UTC)|Account|Baseline|Suppressed (reason)|Finding ID|Remediation|ATT&CK (tactic, technique)",
		"Root Activity": "Time (UTC)|Account|Event source|Event|Region|Source IP|User agent|MFA used|Console login|Error code|Error message|Read only|Access key|Event ID|Evidence file|Record",
		"Evidence":      "File|Path|Kind|Format|SHA-256|Bytes|Records|Duplicates|Status|Reason / note|Duplicate of file|Account|First event (UTC)|Last event (UTC)|Ingested (UTC)|Integrity (credtrail verify)",
	}
	for sheet, want := range headers {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rows[1], "|"); got != want {
			t.Errorf("%s header\n got %s\nwant %s", sheet, got, want)
		}
		panes, err := f.GetPanes(sheet)
		if err != nil || !panes.Freeze || panes.YSplit != 2 {
			t.Errorf("%s: header not frozen: %+v %v", sheet, panes, err)
		}
	}
	rows, _ := f.GetRows("Unused Permissions")
	if !strings.HasPrefix(rows[0][0], "No user or role") || len(rows) != 2 {
		t.Errorf("Unused Permissions of a case without users and roles: %q", rows)
	}
}

// TestWorkbookPrintLayout: Findings prints its first nine columns (what a
// reader needs) landscape and as wide as the page, the Rule column holds the
// longest rule id, and a long Summary value wraps over two columns instead
// of widening the printed page.
func TestWorkbookPrintLayout(t *testing.T) {
	c := newCase(t)
	if _, err := c.DB.Exec(`
insert into events (event_id, event_time, file_id, record_index, recipient_account_id, key_hash)
select 'layout-' || i, timestamp '2024-03-05 00:00:00', (select min(file_id) from evidence_files), 1000 + i, (100000000000 + i * 7919)::varchar,
       md5_number_lower((100000000000 + i * 7919)::varchar || '/layout-' || i)
from range(40) t(i);
insert into findings (finding_id, rule_id, severity, title) values ('f-long', 'cross_account_trust_without_external_id', 'high', 'Trust')`); err != nil {
		t.Fatal(err)
	}
	f := open(t, workbook(t, load(t, c, report.Options{})))
	areas := map[string]string{}
	for _, n := range f.GetDefinedName() {
		if n.Name == "_xlnm.Print_Area" {
			areas[n.Scope] = n.RefersTo
		}
	}
	// what a reader needs of each wide sheet is printed; the rest stays on the right
	for sheet, want := range map[string]string{"Findings": "$A:$I", "Root Activity": "$A:$J", "Credentials": "$A:$M",
		"Principals": "$A:$I", "Timeline": "$A:$J", "Evidence": "$A:$J"} {
		if got := areas[sheet]; got != "'"+sheet+"'!"+want {
			t.Errorf("%s print area %q, want %s", sheet, got, want)
		}
	}
	layout, err := f.GetPageLayout("Findings")
	if err != nil || layout.Orientation == nil || *layout.Orientation != "landscape" || layout.FitToWidth == nil || *layout.FitToWidth != 1 {
		t.Errorf("Findings page layout %+v %v", layout, err)
	}
	if w, _ := f.GetColWidth("Findings", "B"); w < float64(len("cross_account_trust_without_external_id")) {
		t.Errorf("Rule column %.0f wide, narrower than the longest rule id", w)
	}
	if v, _ := f.GetCellValue("Summary", "A4"); v != "Accounts" {
		t.Fatalf("Summary A4 is %q, not Accounts", v)
	}
	merged, _ := f.GetMergeCells("Summary")
	wrapped := false
	for _, m := range merged {
		if m.GetStartAxis() == "B4" && m.GetEndAxis() == "C4" {
			wrapped = true
		}
	}
	style, _ := f.GetCellStyle("Summary", "B4")
	if st, err := f.GetStyle(style); !wrapped || err != nil || st.Alignment == nil || !st.Alignment.WrapText {
		t.Errorf("the long Accounts value does not wrap over B4:C4 (merged %v)", merged)
	}
	if h, _ := f.GetRowHeight("Summary", 4); h < 30 {
		t.Errorf("Accounts row %.0f high: its wrapped lines are cut", h)
	}
}

// cellAt finds the first cell of a sheet whose formatted value is text.
func cellAt(tb testing.TB, f *excelize.File, sheet, text string) string {
	tb.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		tb.Fatal(err)
	}
	for r, row := range rows {
		for c, v := range row {
			if v == text {
				name, _ := excelize.CoordinatesToCellName(c+1, r+1)
				return name
			}
		}
	}
	tb.Fatalf("%s: no cell %q", sheet, text)
	return ""
}

func TestWorkbookCellTypes(t *testing.T) {
	f := open(t, workbook(t, load(t, newCase(t), report.Options{})))

	// Attacker-controlled text stays text: never a formula, never evaluated.
	for _, sheet := range []string{"Root Activity", "Timeline"} {
		for _, ua := range []string{formulaUA, "@SUM(1+1)*cmd|' /C calc'!A0"} {
			cell := cellAt(t, f, sheet, ua)
			if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
				t.Errorf("%s!%s is a formula: %q", sheet, cell, formula)
			}
			if typ, _ := f.GetCellType(sheet, cell); typ != excelize.CellTypeInlineString {
				t.Errorf("%s!%s type %v, want a string", sheet, cell, typ)
			}
		}
	}
	if formula, _ := f.GetCellFormula("Findings", cellAt(t, f, "Findings", `=HYPERLINK("http://evil")`)); formula != "" {
		t.Errorf("finding detail became a formula %q", formula)
	}

	// Dates are dates: a number with a date format, shown as UTC.
	for _, c := range []struct{ sheet, cell, shown string }{
		{"Root Activity", "A3", "2024-03-04 09:15:00"},
		{"Findings", "G3", "2024-03-04 09:15:00"},
		{"Credentials", "L4", "2023-05-01 12:00:00"},
	} {
		raw, _ := f.GetCellValue(c.sheet, c.cell, excelize.Options{RawCellValue: true})
		shown, _ := f.GetCellValue(c.sheet, c.cell)
		if _, err := fmt.Sscanf(raw, "%g", new(float64)); err != nil || shown != c.shown {
			t.Errorf("%s!%s raw %q shown %q, want a date serial shown %q", c.sheet, c.cell, raw, shown, c.shown)
		}
		if typ, _ := f.GetCellType(c.sheet, c.cell); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber && typ != excelize.CellTypeDate {
			t.Errorf("%s!%s type %v, want a number", c.sheet, c.cell, typ)
		}
	}
	// Counts are numbers.
	for _, c := range []struct{ sheet, cell, raw string }{
		{"Findings", "H3", "1"},
		{"Credentials", "M4", "310"}, // key age in days as of 2024-03-07
		{"Evidence", "F3", "1146"},
	} {
		raw, _ := f.GetCellValue(c.sheet, c.cell, excelize.Options{RawCellValue: true})
		typ, _ := f.GetCellType(c.sheet, c.cell)
		if raw != c.raw || (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) {
			t.Errorf("%s!%s = %q (type %v), want the number %s", c.sheet, c.cell, raw, typ, c.raw)
		}
	}
	// Severity colours.
	style, _ := f.GetCellStyle("Findings", "A3")
	st, err := f.GetStyle(style)
	if err != nil || len(st.Fill.Color) == 0 || st.Fill.Color[0] != "7B1FA2" {
		t.Errorf("critical severity cell style %+v %v", st, err)
	}
}

func TestWorkbookLinksAndCharts(t *testing.T) {
	b := workbook(t, load(t, newCase(t), report.Options{}))
	f := open(t, b)
	for _, c := range []struct{ cell, target string }{
		{"I3", "'Timeline'!A3"},    // critical: root console login, first Timeline row
		{"I4", "'Timeline'!A4"},    // high: root access key
		{"I5", "'Credentials'!A4"}, // medium: alice's key, from the credential report
		{"I6", "'Timeline'!A5"},
	} {
		ok, target, err := f.GetCellHyperLink("Findings", c.cell)
		if err != nil || !ok || target != c.target {
			t.Errorf("Findings!%s link %v %q %v, want %q", c.cell, ok, target, err, c.target)
		}
	}
	rows, _ := f.GetRows("Timeline")
	if rows[2][13] != "11111111-0000-4000-8000-000000000001" {
		t.Errorf("Timeline row 3 is %q, not the root console login", rows[2])
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var charts []string
	for _, e := range zr.File {
		if strings.HasPrefix(e.Name, "xl/charts/chart") {
			rc, _ := e.Open()
			body, _ := io.ReadAll(rc)
			rc.Close()
			charts = append(charts, e.Name+": "+chartTitle(string(body)))
		}
	}
	want := []string{
		"xl/charts/chart1.xml: Findings by severity",
		"xl/charts/chart2.xml: Access-key age (rotation due after 90 days)",
		"xl/charts/chart3.xml: Events per day, root activity marked",
	}
	sort.Strings(charts)
	if strings.Join(charts, "\n") != strings.Join(want, "\n") {
		t.Errorf("charts:\n%s\nwant:\n%s", strings.Join(charts, "\n"), strings.Join(want, "\n"))
	}
	props, err := f.GetDocProps()
	if err != nil || props.Created != "2024-03-07T00:00:00Z" || props.Modified != "2024-03-07T00:00:00Z" || props.Title != "credtrail case report" {
		t.Errorf("document properties %+v %v", props, err)
	}
}

func chartTitle(xml string) string {
	i := strings.Index(xml, "<a:t>")
	if i < 0 {
		return ""
	}
	j := strings.Index(xml[i:], "</a:t>")
	return xml[i+5 : i+j]
}

func TestWorkbookIsDeterministic(t *testing.T) {
	c := newCase(t)
	first := workbook(t, load(t, c, report.Options{}))
	for i := 0; i < 3; i++ {
		if again := workbook(t, load(t, c, report.Options{})); !bytes.Equal(first, again) {
			t.Fatalf("run %d: workbook differs (%d vs %d bytes)", i+2, len(first), len(again))
		}
	}
}

func TestWorkbookRowLimitCut(t *testing.T) {
	r := load(t, newCase(t), report.Options{MaxRows: 2})
	f := open(t, workbook(t, r))
	rows, _ := f.GetRows("Credentials") // 5 rows in the case
	if !strings.HasPrefix(rows[0][0], "CUT: this sheet shows the first 2 of 5 rows") || !strings.Contains(rows[0][0], "--format jsonl --tables") {
		t.Errorf("cut note: %q", rows[0][0])
	}
	if len(rows) != 5 || !strings.HasPrefix(rows[4][0], "CUT here: 3 more rows") {
		t.Errorf("cut sheet has %d rows, last %q", len(rows), rows[len(rows)-1])
	}
	rows, _ = f.GetRows("Root Activity") // 2 rows: not cut
	if strings.HasPrefix(rows[0][0], "CUT") || len(rows) != 4 {
		t.Errorf("Root Activity cut at its own size: %q", rows[0])
	}
	summary, _ := f.GetRows("Summary")
	found := false
	for _, row := range summary {
		if len(row) > 1 && row[0] == "Sheet cut at the row limit" && strings.HasPrefix(row[1], "Credentials: first 2 of 5") {
			found = true
		}
	}
	if !found {
		t.Error("Summary does not list the cut sheet")
	}
}

func TestFindingsJSONLRoundTrip(t *testing.T) {
	r := load(t, newCase(t), report.Options{})
	var buf bytes.Buffer
	if err := r.WriteFindings(&buf, report.FormatJSONL); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), buf.String())
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("line %d is not JSON: %s", i+1, l)
		}
	}
	if !strings.Contains(lines[0], `"evidence":{"event_ids":["11111111-0000-4000-8000-000000000001"]}`) ||
		!strings.Contains(lines[0], `"first_seen":"2024-03-04T09:15:00Z"`) {
		t.Errorf("first line: %s", lines[0])
	}
	back, err := report.ReadFindingsJSONL(&buf)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(r.Findings)
	b, _ := json.Marshal(back)
	if !bytes.Equal(a, b) {
		t.Errorf("round trip differs:\n%s\n%s", a, b)
	}
}

func TestFindingsCSVNeutralisesFormulas(t *testing.T) {
	r := load(t, newCase(t), report.Options{})
	var buf bytes.Buffer
	if err := r.WriteFindings(&buf, report.FormatCSV); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"'=HYPERLINK(""http://evil"")"`) {
		t.Errorf("formula-like detail not neutralised:\n%s", buf.String())
	}
}

func TestBaselineAndSuppressions(t *testing.T) {
	c := newCase(t)
	baseline := []report.Finding{
		{FindingID: "f-root-login", RuleID: "root_console_login_without_mfa", Severity: "critical", Title: "Root signed in to the console without MFA"},
		{FindingID: "f-gone", RuleID: "old_rule", Severity: "high", Title: "Fixed since"},
	}
	suppressions := []report.Suppression{
		{FindingID: "f-root-key", Reason: "break-glass key, ticket SEC-1", Expires: "2024-12-31"},
		{RuleID: "iam_privilege_escalation_denied", Subject: "arn:aws:iam::111122223333:user/ops", Reason: "expired", Expires: "2024-03-01"},
	}
	r := load(t, c, report.Options{BaselinePath: "previous.jsonl", Baseline: baseline, SuppressionsPath: "accepted.json", Suppressions: suppressions})
	status := map[string]string{}
	for _, f := range r.Findings {
		status[f.FindingID] = f.Status
		if f.Suppressed != nil {
			status[f.FindingID] += "+suppressed"
		}
	}
	want := map[string]string{"f-root-login": "unchanged", "f-root-key": "new+suppressed", "f-key-old": "new", "f-denied": "new"}
	if fmt.Sprint(status) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", status, want)
	}
	if len(r.Resolved) != 1 || r.Resolved[0].FindingID != "f-gone" || r.Resolved[0].Status != "resolved" {
		t.Errorf("resolved %+v", r.Resolved)
	}
	for _, c := range []struct {
		severity string
		newOnly  bool
		want     int
	}{
		{"critical", false, 1}, {"high", false, 1}, {"high", true, 0}, {"low", false, 3}, {"low", true, 2}, {"info", false, 3},
	} {
		if got := r.FailCount(c.severity, c.newOnly); got != c.want {
			t.Errorf("FailCount(%s, new only %v) = %d, want %d", c.severity, c.newOnly, got, c.want)
		}
	}
	f := open(t, workbook(t, r))
	sheets := strings.Join(f.GetSheetList(), "|")
	if !strings.HasPrefix(sheets, "Summary|Findings|Suppressed|Resolved|Root Activity") {
		t.Errorf("sheets %s", sheets)
	}
	rows, _ := f.GetRows("Suppressed")
	if len(rows) != 4 || rows[2][0] != "suppressed" || rows[2][10] != "f-root-key" || rows[3][0] != "expired" {
		t.Errorf("Suppressed sheet: %q", rows)
	}
	if ok, target, _ := f.GetCellHyperLink("Suppressed", "K3"); !ok || target != "'Findings'!A4" {
		t.Errorf("suppressed finding links to %q", target)
	}
	rows, _ = f.GetRows("Resolved")
	if len(rows) != 3 || rows[2][8] != "f-gone" {
		t.Errorf("Resolved sheet: %q", rows)
	}
	// Resolved findings are written with their status and skipped when read back as a baseline.
	var buf bytes.Buffer
	if err := r.WriteFindings(&buf, report.FormatJSONL); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"finding_id":"f-gone"`) {
		t.Error("resolved finding not in the JSON lines")
	}
	back, _ := report.ReadFindingsJSONL(&buf)
	if len(back) != 4 {
		t.Errorf("read back %d findings, want the 4 current ones", len(back))
	}
}

func TestSuppressionFileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"no reason":    `{"suppressions":[{"finding_id":"x"}]}`,
		"no subject":   `[{"rule_id":"r","reason":"ok"}]`,
		"bad date":     `[{"finding_id":"x","reason":"ok","expires":"31/12/2024"}]`,
		"unknown key":  `{"suppressions":[],"extra":1}`,
		"both targets": `[{"finding_id":"x","rule_id":"r","subject":"s","reason":"ok"}]`,
	} {
		path := dir + "/" + strings.ReplaceAll(name, " ", "-") + ".json"
		writeFile(t, path, body)
		if _, err := report.ReadSuppressions(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTablesExport(t *testing.T) {
	r := load(t, newCase(t), report.Options{})
	dir := t.TempDir()
	paths, err := r.WriteTables(context.Background(), dir, report.FormatJSONL)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 10 || !strings.HasSuffix(paths[0], "findings.jsonl") {
		t.Errorf("paths %q", paths)
	}
	body := readFile(t, dir+"/events.jsonl")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], `"user_agent":"=cmd|' /C calc'!A0"`) ||
		!strings.Contains(lines[0], `"event_time":"2024-03-04T09:15:00.000000Z"`) ||
		!strings.Contains(lines[3], `"event_id":"11111111-0000-4000-8000-000000000004"`) {
		t.Errorf("events.jsonl:\n%s", body)
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("events.jsonl line %d is not JSON", i+1)
		}
	}
	csvDir := t.TempDir()
	if _, err := r.WriteTables(context.Background(), csvDir, report.FormatCSV); err != nil {
		t.Fatal(err)
	}
	body = readFile(t, csvDir+"/events.csv")
	if !strings.Contains(body, `'=cmd|' /C calc'!A0`) || !strings.Contains(body, `'@SUM(1+1)*cmd|' /C calc'!A0`) || strings.Contains(body, `,=cmd`) {
		t.Errorf("events.csv does not neutralise formulas:\n%s", body)
	}
}

// TestUnusedPermissionsWhenPresent: the sheet reads as a table for people:
// headers in words, lists as text, full principal names in wrapped cells,
// the rows that say something first, and a principal without CloudTrail
// evidence summarised on one row after them instead of a row per pattern.
func TestUnusedPermissionsWhenPresent(t *testing.T) {
	c := newCase(t)
	const idle = "arn:aws:iam::111122223333:role/service-role/a-long-path/AWSReservedSSO_AdministratorAccess_0123456789abcdef"
	_, err := c.DB.Exec(`
insert into permission_usage (account_id, principal_arn, principal_type, level, service, pattern, status, granted, used_actions, calls, last_used, policy_refs, resources) values
  ('111122223333', 'arn:aws:iam::111122223333:user/ops', 'user', 'pattern', 's3', 's3:*', 'used', true, ['s3:GetObject'], 1, '2024-03-05T11:00:00Z', ['arn:aws:iam::aws:policy/AmazonS3FullAccess'], ['*']),
  ('111122223333', 'arn:aws:iam::111122223333:user/ops', 'user', 'service', 's3', null, 'used', true, ['s3:GetObject', 's3:PutObject'], 2, '2024-03-05T11:00:00Z', [], []),
  ('111122223333', 'arn:aws:iam::111122223333:user/ops', 'user', 'service', 'iam', null, 'unused', true, [], 0, null, [], []),
  ('111122223333', '` + idle + `', 'role', 'service', 'ec2', null, 'no_evidence', true, [], 0, null, ['p1'], ['*']),
  ('111122223333', '` + idle + `', 'role', 'service', 's3', null, 'no_evidence', true, [], 0, null, ['p1'], ['*']),
  ('111122223333', '` + idle + `', 'role', 'pattern', 'ec2', 'ec2:*', 'no_evidence', true, [], 0, null, ['p1'], ['*']),
  ('111122223333', '` + idle + `', 'role', 'pattern', 's3', 's3:Get*', 'no_evidence', true, [], 0, null, ['p1'], ['*']),
  ('111122223333', '` + idle + `', 'role', 'pattern', 's3', 's3:List*', 'no_evidence', true, [], 0, null, ['p1'], ['*']);
update analysis_parameters set value = '2024-03-07 00:00:00+00' where name = 'as_of'`)
	if err != nil {
		t.Fatal(err)
	}
	r := load(t, c, report.Options{})
	if got := r.AsOf.Format(time.RFC3339); got != "2024-03-07T00:00:00Z" {
		t.Errorf("as_of in DuckDB's text form read as %s", got)
	}
	f := open(t, workbook(t, r))
	const sheet = "Unused Permissions"
	rows, _ := f.GetRows(sheet)
	if got := strings.Join(rows[1], "|"); got != "Principal|Type|Account|Status|Level|Service|Granted pattern|Used actions|Calls|Refused calls|Last used (UTC)|First used (UTC)|Granted|Only under a condition|Actions granted (catalog)|Regions|Source IPs|Granted by|Resources of the grant" {
		t.Errorf("header %s", got)
	}
	cell := func(row, col int) string {
		if row < len(rows) && col < len(rows[row]) {
			return rows[row][col]
		}
		return ""
	}
	// service rows first (iam before s3), then patterns, then the principal without evidence
	if len(rows) != 6 || cell(2, 5) != "iam" || cell(2, 3) != "unused" || cell(3, 4) != "service" || cell(3, 7) != "s3:GetObject, s3:PutObject" ||
		cell(4, 6) != "s3:*" || cell(4, 10) != "2024-03-05 11:00:00" || cell(4, 18) != "*" || cell(4, 17) != "arn:aws:iam::aws:policy/AmazonS3FullAccess" {
		t.Errorf("rows %q", rows)
	}
	if cell(5, 0) != idle || cell(5, 3) != "no CloudTrail evidence" ||
		cell(5, 6) != "not assessed: no CloudTrail event of this principal in the window; 3 granted pattern(s) in 2 service(s): ec2, s3" {
		t.Errorf("principal without evidence: %q", rows[len(rows)-1])
	}
	// the principal's column wraps, so a long name is shown whole
	style, _ := f.GetCellStyle(sheet, "A6")
	if st, err := f.GetStyle(style); err != nil || st.Alignment == nil || !st.Alignment.WrapText {
		t.Errorf("principal cell does not wrap: %+v %v", st, err)
	}
}

func TestControlsStatus(t *testing.T) {
	c := newCase(t)
	// A second account whose authorization details are not in the case.
	if _, err := c.DB.Exec(`insert into findings (finding_id, rule_id, severity, title) values
  ('f-pp', 'password_policy_not_assessed', 'info', 'Password policy not assessed'),
  ('f-ctx', 'role_trusted_by_service', 'info', 'Role assumable by a service');
insert into rule_coverage values ('role_trusted_by_service', '999988887777', false, ['authorization_details'])`); err != nil {
		t.Fatal(err)
	}
	rules := []report.Rule{
		{ID: "password_policy_not_assessed", Controls: []string{"CIS 1.8"}},
		{ID: "password_policy_min_length", Controls: []string{"CIS 1.8", "IAM.15"}},
		{ID: "role_trusted_by_service", Controls: []string{"IAM.99"}},
		{ID: "root_console_login_without_mfa", Controls: []string{"CIS 1.5"}},
	}
	r := load(t, c, report.Options{Rules: rules})
	var verdicts []string
	for _, cs := range r.Controls() {
		verdicts = append(verdicts, cs.Control+" "+cs.AccountID+" "+cs.Status+" "+strings.Join(cs.MissingInputs, ","))
	}
	want := []string{
		// failing in 111122223333; 999988887777 has nothing from which the rule could judge it
		"CIS 1.5 111122223333 fail ", "CIS 1.5 999988887777 not assessed ",
		"CIS 1.8 111122223333 not assessed password_policy", "CIS 1.8 999988887777 not assessed ",
		"IAM.15 111122223333 not assessed password_policy", "IAM.15 999988887777 not assessed ",
		"IAM.99 111122223333 pass ", "IAM.99 999988887777 not assessed authorization_details",
	}
	if got := strings.Join(verdicts, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("controls:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	f := open(t, workbook(t, r))
	rows, _ := f.GetRows("Summary")
	var table []string
	for _, row := range rows {
		if len(row) >= 3 && (strings.HasPrefix(row[0], "CIS ") || strings.HasPrefix(row[0], "IAM.")) {
			table = append(table, strings.Join(row[:3], " | "))
		}
	}
	wantTable := []string{
		"CIS 1.5 | fail | 111122223333: failing: root_console_login_without_mfa",
		"CIS 1.5 | not assessed | 999988887777: not assessed by root_console_login_without_mfa",
		"CIS 1.8 | not assessed | 111122223333: no password policy export",
		"CIS 1.8 | not assessed | 999988887777: not assessed by password_policy_min_length, password_policy_not_assessed",
		"IAM.15 | not assessed | 111122223333: no password policy export",
		"IAM.15 | not assessed | 999988887777: not assessed by password_policy_min_length",
		"IAM.99 | pass | 111122223333: checked by role_trusted_by_service",
		"IAM.99 | not assessed | 999988887777: no authorization details",
	}
	if got := strings.Join(table, "\n"); got != strings.Join(wantTable, "\n") {
		t.Errorf("Summary controls:\n%s\nwant:\n%s", got, strings.Join(wantTable, "\n"))
	}
	// Before any analysis, nothing is assessed.
	bare := newCase(t)
	if _, err := bare.DB.Exec(`delete from analysis_parameters; delete from findings`); err != nil {
		t.Fatal(err)
	}
	f = open(t, workbook(t, load(t, bare, report.Options{Rules: rules})))
	rows, _ = f.GetRows("Summary")
	notAnalysed := false
	for _, r := range rows {
		if len(r) >= 2 && strings.HasPrefix(r[0], "CIS 1.5") {
			t.Errorf("CIS 1.5 before analysis: %q", r[1])
		}
		notAnalysed = notAnalysed || len(r) > 0 && strings.HasPrefix(r[0], "Not assessed: the case has not been analysed")
	}
	if !notAnalysed {
		t.Error("the Summary of a case never analysed does not say its controls are not assessed")
	}
}

// Key ages are measured at the account's own as-of time, which the Summary
// shows with the events that are later than it.
func TestAccountAsOf(t *testing.T) {
	c := newCase(t)
	if _, err := c.DB.Exec(`insert into account_as_of values ('111122223333', '2024-01-07T00:00:00Z', 'credential report', 3)`); err != nil {
		t.Fatal(err)
	}
	f := open(t, workbook(t, load(t, c, report.Options{})))
	if raw, _ := f.GetCellValue("Credentials", "M4", excelize.Options{RawCellValue: true}); raw != "250" { // 310 days at 2024-03-07
		t.Errorf("Credentials!M4 key age %q, want 250 days as of the account's 2024-01-07", raw)
	}
	rows, _ := f.GetRows("Summary")
	found := false
	for _, r := range rows {
		if len(r) >= 2 && r[0] == "As of for account 111122223333" {
			found = true
			if want := "2024-01-07 00:00:00 UTC (credential report); 3 CloudTrail events of the account are later than this: its credential ages do not reflect them"; r[1] != want {
				t.Errorf("Summary %q, want %q", r[1], want)
			}
		}
	}
	if !found {
		t.Error("the Summary does not show the account's as-of time")
	}
}

// TestWorkbookIncidentByTactic: the incident findings (rules with ATT&CK
// techniques) are grouped by tactic in kill-chain order, whatever their
// severity, each under its rule's first tactic and linked to its Findings
// row; posture findings are not on the sheet.
func TestWorkbookIncidentByTactic(t *testing.T) {
	r := load(t, newCase(t), report.Options{Rules: []report.Rule{
		{ID: "iam_privilege_escalation_denied", Attack: "Privilege Escalation T1098.003; Defense Evasion T1562.001"},
		{ID: "root_console_login_without_mfa", Attack: "Initial Access T1078.004"},
		{ID: "root_access_key_created", Attack: "Persistence T1098.001"},
		{ID: "access_key_not_rotated"},
	}})
	f := open(t, workbook(t, r))
	rows, err := f.GetRows(report.SheetIncident)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[1], "|"); got != "Tactic|First seen (UTC)|Severity|Rule|Title|Principal|Detail|Events|ATT&CK (tactic, technique)|Finding" {
		t.Errorf("header %s", got)
	}
	var got []string
	for _, row := range rows[2:] {
		got = append(got, row[0]+" "+row[3])
	}
	want := []string{"Initial Access root_console_login_without_mfa", "Persistence root_access_key_created", "Privilege Escalation iam_privilege_escalation_denied"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rows %q, want %q", got, want)
	}
	// the finding cell links to the finding's row on Findings
	findings, _ := f.GetRows("Findings")
	for i, row := range rows[2:] {
		cell := fmt.Sprintf("J%d", i+3)
		ok, target, err := f.GetCellHyperLink(report.SheetIncident, cell)
		if !ok || err != nil {
			t.Errorf("%s: no link (%v)", cell, err)
			continue
		}
		var n int
		if _, err := fmt.Sscanf(target, "'Findings'!A%d", &n); err != nil || n < 3 || n > len(findings) || findings[n-1][1] != row[3] {
			t.Errorf("%s links to %s, not to the finding of %s", cell, target, row[3])
		}
	}
}

// A file rejected by one run and loaded by the next is counted on the Summary
// as loaded, and apart, not as a rejected file: the auditor reads that every
// file of the case loaded.
func TestSummaryCountsARetriedFileAsLoaded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	evidence := "../ingest/testdata/cloudtrail/AWSLogs"
	c, err := ingest.Open(ctx, path, ingest.Options{MemoryLimit: "8MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Ingest(ctx, []string{evidence}, ingest.IngestOptions{})
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range first {
		if o.Status != ingest.StatusRejected {
			t.Fatalf("%s: %s with an 8MB memory limit, want rejected (the test needs a failing first run)", o.Path, o.Status)
		}
	}
	c, err = ingest.Open(ctx, path, ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Ingest(ctx, []string{evidence}, ingest.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	f := open(t, workbook(t, load(t, c, report.Options{})))
	rows, _ := f.GetRows("Summary")
	got := map[string]string{}
	for _, r := range rows {
		if len(r) >= 2 && strings.HasPrefix(r[0], "Input files") {
			got[r[0]] = r[1]
		}
	}
	n := strconv.Itoa(len(first))
	want := map[string]string{"Input files loaded": n, "Input files duplicate": "0", "Input files rejected": "0",
		"Input files rejected, then loaded by a later run": n}
	if !maps.Equal(got, want) {
		t.Errorf("Summary file counts %v, want %v", got, want)
	}
}
