package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// summary writes cells of the Summary sheet top to bottom.
type summary struct {
	b   *book
	row int
	err error
}

func (s *summary) cell(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}

// set writes one cell: strings are always text cells, never formulas.
func (s *summary) set(col, row int, v any, style int) {
	if s.err != nil {
		return
	}
	f, c := s.b.f, s.cell(col, row)
	switch x := v.(type) {
	case nil:
	case string:
		s.err = f.SetCellStr(SheetSummary, c, cellText(x))
	case time.Time:
		s.err = f.SetCellValue(SheetSummary, c, x.UTC())
	case int:
		s.err = f.SetCellInt(SheetSummary, c, int64(x))
	case int64:
		s.err = f.SetCellInt(SheetSummary, c, x)
	default:
		s.err = f.SetCellValue(SheetSummary, c, x)
	}
	if s.err == nil && style != 0 {
		s.err = f.SetCellStyle(SheetSummary, c, c, style)
	}
}

// line writes a label and a value on the next row.
func (s *summary) line(label string, v any) {
	st := s.b.style.text
	switch v.(type) {
	case time.Time:
		st = s.b.style.dateTime
	case int, int64:
		st = s.b.style.integer
	}
	s.set(1, s.row, label, s.b.style.label)
	s.set(2, s.row, v, st)
	if text, ok := v.(string); ok && len(text) > summaryValueChars {
		s.wrapValue(len(text))
	}
	s.row++
}

// summaryValueChars is about how many characters of a value fit column B.
const summaryValueChars = 24

// wrapValue lets a long value of the current line wrap over columns B and C
// instead of running on to the right: a printout fit to the page width
// would shrink the whole Summary to keep it.
func (s *summary) wrapValue(chars int) {
	if s.err != nil {
		return
	}
	f, from, to := s.b.f, s.cell(2, s.row), s.cell(3, s.row)
	if s.err = f.MergeCell(SheetSummary, from, to); s.err != nil {
		return
	}
	if s.err = f.SetCellStyle(SheetSummary, from, to, s.b.style.wrap); s.err != nil {
		return
	}
	const perLine = 64 // characters of B and C together
	lines := (chars + perLine - 1) / perLine
	s.err = f.SetRowHeight(SheetSummary, s.row, float64(15*lines))
}

// header writes a table header on the next row.
func (s *summary) header(cols ...string) {
	for i, c := range cols {
		s.set(i+1, s.row, c, s.b.style.header)
	}
	s.row++
}

func (s *summary) title(text string) {
	s.row++
	s.set(1, s.row, text, s.b.style.title)
	s.row++
}

func (b *book) writeSummary(ctx context.Context) error {
	r, f := b.r, b.f
	s := &summary{b: b, row: 1}
	for col, w := range map[string]float64{"A": 34, "B": 24, "C": 44, "D": 3} {
		if err := f.SetColWidth(SheetSummary, col, col, w); err != nil {
			return err
		}
	}
	s.set(1, 1, "credtrail case report", b.style.title)
	if r.evidence {
		s.set(1, 2, fmt.Sprintf("As of %s UTC. Every time in this workbook is UTC. Read on: Findings, then the sheets its Proof column links to.", r.asOfText("2006-01-02 15:04:05")), b.style.note)
	} else {
		s.set(1, 2, "The case holds no evidence: no input file was loaded, so no finding and no control could be assessed.", b.style.note)
	}
	s.row = 4

	facts, err := b.caseFacts(ctx)
	if err != nil {
		return err
	}
	s.line("Accounts", strings.Join(facts.accounts, ", "))
	s.line("Evidence from (UTC)", facts.first)
	s.line("Evidence to (UTC)", facts.last)
	since, okSince := r.timeParam("since")
	until, okUntil := r.timeParam("until")
	if okSince || okUntil {
		s.line("Analysis window from (UTC)", timeIf(since, okSince))
		s.line("Analysis window to (UTC)", timeIf(until, okUntil))
	} else {
		s.line("Analysis window", "not analysed")
	}
	if r.AsOf.IsZero() {
		s.line("As of (UTC)", "no evidence")
	} else {
		s.line("As of (UTC)", r.AsOf)
	}
	accountAsOf, err := queryRows(ctx, b.r.db, `select account_id, strftime(as_of, '%Y-%m-%d %H:%M:%S'), source, events_after
		from account_as_of order by account_id`)
	if err != nil {
		return fmt.Errorf("account as-of: %w", err)
	}
	for _, row := range accountAsOf {
		line := fmt.Sprintf("%s UTC (%s)", row[1], row[2])
		if n, _ := row[3].(int64); n > 0 {
			line += fmt.Sprintf("; %d CloudTrail events of the account are later than this: its credential ages do not reflect them", n)
		}
		s.line("As of for account "+text(row[0]), line)
	}
	s.line("credtrail version", r.opts.Version)
	for _, st := range []string{"loaded", "partial", "duplicate", "rejected", retriedStatus} {
		if n := facts.files[st]; n > 0 || (st != "partial" && st != retriedStatus) {
			s.line("Input files "+st, n)
		}
	}
	s.line("CloudTrail events", facts.events)
	s.line("Credential report users", facts.users)
	s.line("Roles", facts.roles)
	s.line("Findings", len(r.Findings))
	suppressed, news := 0, 0
	for _, fi := range r.Findings {
		if fi.Suppressed != nil {
			suppressed++
		}
		if fi.Status == StatusNew {
			news++
		}
	}
	s.line("Findings suppressed (accepted risk)", suppressed)
	if r.opts.BaselinePath != "" {
		s.line("Findings new since baseline", news)
		s.line("Findings unchanged", len(r.Findings)-news)
		s.line("Findings resolved", len(r.Resolved))
	}
	for _, c := range r.cut {
		s.set(1, s.row, "Sheet cut at the row limit", b.style.cutNote)
		s.set(2, s.row, c, b.style.cutNote)
		s.row++
	}

	// Findings by severity, and its chart.
	s.title("Findings by severity")
	s.header("Severity", "Findings", "Not suppressed")
	sevFirst := s.row
	for _, sev := range Severities {
		n, open := 0, 0
		for _, fi := range r.Findings {
			if fi.Severity == sev {
				n++
				if fi.Suppressed == nil {
					open++
				}
			}
		}
		s.set(1, s.row, sev, b.style.severity[sev])
		s.set(2, s.row, n, b.style.integer)
		s.set(3, s.row, open, b.style.integer)
		s.row++
	}
	// One series per severity, so each bar carries its severity's colour
	// (excelize colours single points only in pie charts).
	sevChart := &excelize.Chart{
		Type:      excelize.Col,
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Findings by severity"}}},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Dimension: excelize.ChartDimension{Width: 520, Height: 280},
		Format:    excelize.GraphicOptions{AltText: "Column chart: number of findings per severity", Name: "Findings by severity"},
		PlotArea:  excelize.ChartPlotArea{ShowVal: true},
		XAxis:     excelize.ChartAxis{Font: axisFont},
		YAxis:     excelize.ChartAxis{Minimum: &zero, MajorGridLines: true, Font: axisFont},
	}
	for i, sev := range Severities {
		sevChart.Series = append(sevChart.Series, excelize.ChartSeries{
			Name:       fmt.Sprintf("Summary!$A$%d", sevFirst+i),
			Categories: fmt.Sprintf("Summary!$B$%d", sevFirst-1),
			Values:     fmt.Sprintf("Summary!$B$%d", sevFirst+i),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{severityColours[sev]}},
		})
	}
	if s.err == nil {
		s.err = f.AddChart(SheetSummary, "E4", sevChart)
	}

	// Access-key ages, and their chart.
	s.title("Active access keys by age (days since rotation)")
	s.header("Age", "Active keys")
	ageFirst := s.row
	for _, a := range facts.keyAges {
		s.set(1, s.row, a.bucket, b.style.text)
		s.set(2, s.row, a.keys, b.style.integer)
		s.row++
	}
	if s.err == nil {
		s.err = f.AddChart(SheetSummary, "E20", &excelize.Chart{
			Type: excelize.Col,
			Series: []excelize.ChartSeries{{
				Name:       fmt.Sprintf("Summary!$B$%d", ageFirst-1),
				Categories: fmt.Sprintf("Summary!$A$%d:$A$%d", ageFirst, s.row-1),
				Values:     fmt.Sprintf("Summary!$B$%d:$B$%d", ageFirst, s.row-1),
				Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"2E75B6"}},
			}},
			Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: fmt.Sprintf("Access-key age (rotation due after %d days)", r.keyMaxAgeDays())}}},
			Legend:    excelize.ChartLegend{Position: "none"},
			Dimension: excelize.ChartDimension{Width: 520, Height: 280},
			Format:    excelize.GraphicOptions{AltText: "Column chart: active access keys by days since rotation", Name: "Access-key age"},
			PlotArea:  excelize.ChartPlotArea{ShowVal: true},
			XAxis:     excelize.ChartAxis{Font: axisFont},
			YAxis:     excelize.ChartAxis{Minimum: &zero, MajorGridLines: true, Font: axisFont},
		})
	}

	// Events per day with root activity, and their chart.
	s.title("CloudTrail events per day (UTC)")
	s.header("Day", "Events", "Root events")
	dayFirst := s.row
	for _, d := range facts.days {
		s.set(1, s.row, d.day, b.style.date)
		s.set(2, s.row, d.events, b.style.integer)
		s.set(3, s.row, d.root, b.style.integer)
		s.row++
	}
	if len(facts.days) == 0 {
		s.set(1, s.row, "No CloudTrail events in the case.", b.style.note)
		s.row++
	} else if s.err == nil {
		dayLast := s.row - 1
		events := &excelize.Chart{
			Type: excelize.Col,
			Series: []excelize.ChartSeries{{
				Name:       fmt.Sprintf("Summary!$B$%d", dayFirst-1),
				Categories: fmt.Sprintf("Summary!$A$%d:$A$%d", dayFirst, dayLast),
				Values:     fmt.Sprintf("Summary!$B$%d:$B$%d", dayFirst, dayLast),
				Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"8FAADC"}},
			}},
			Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Events per day, root activity marked"}}},
			Legend:    excelize.ChartLegend{Position: "bottom"},
			Dimension: excelize.ChartDimension{Width: 520, Height: 300},
			Format:    excelize.GraphicOptions{AltText: "Columns: CloudTrail events per day; line: root events per day", Name: "Events per day"},
			XAxis:     excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: "yyyy-mm-dd"}, Font: axisFont},
			YAxis:     excelize.ChartAxis{Minimum: &zero, MajorGridLines: true, Font: axisFont},
		}
		root := &excelize.Chart{
			Type: excelize.Line,
			Series: []excelize.ChartSeries{{
				Name:       fmt.Sprintf("Summary!$C$%d", dayFirst-1),
				Categories: fmt.Sprintf("Summary!$A$%d:$A$%d", dayFirst, dayLast),
				Values:     fmt.Sprintf("Summary!$C$%d:$C$%d", dayFirst, dayLast),
				Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C00000"}},
				Line:       excelize.LineOptions{Width: 2.25},
				Marker:     excelize.ChartMarker{Symbol: "circle", Size: 6, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C00000"}}},
			}},
			YAxis: excelize.ChartAxis{Secondary: true, Minimum: &zero, Font: axisFont},
		}
		s.err = f.AddChart(SheetSummary, "E36", events, root)
	}
	// Controls last: their rows grow with the rule lists, and the charts
	// beside the tables above are anchored to rows of default height.
	// Controls.
	s.title("Controls (CIS AWS Foundations, AWS Security Hub)")
	switch {
	case !r.ControlCatalog():
		s.set(1, s.row, "Not assessed: no rule catalog was given (credtrail report and run give it). Findings list the rules that fired.", b.style.note)
		s.row++
	case !r.Analysed():
		s.set(1, s.row, "Not assessed: the case has not been analysed (credtrail analyze, or credtrail run).", b.style.note)
		s.row++
	case len(r.accounts) == 0 && facts.files["loaded"] == 0:
		s.set(1, s.row, "Not assessed: the case holds no evidence.", b.style.note)
		s.row++
	case len(r.accounts) == 0:
		s.set(1, s.row, "Not assessed: the analysis judged no account; run credtrail analyze again.", b.style.note)
		s.row++
	default:
		s.set(1, s.row, "A control passes for an account only when the case holds every input its rules need for that account; otherwise it is not assessed, naming what is missing.", b.style.note)
		s.row++
		s.header("Control", "Status", "Accounts, and what is missing or failing")
		for _, g := range groupControls(r.controls, len(r.accounts)) {
			s.set(1, s.row, g.control, b.style.text)
			st := b.style.text
			switch g.status {
			case ControlFail:
				st = b.style.fail
			case ControlPass:
				st = b.style.pass
			}
			s.set(2, s.row, g.status, st)
			s.set(3, s.row, g.text, b.style.wrap)
			if lines := 1 + (len(g.text)-1)/52; lines > 1 && s.err == nil {
				s.err = f.SetRowHeight(SheetSummary, s.row, 15*float64(lines))
			}
			s.row++
		}
	}

	if s.err != nil {
		return s.err
	}
	if err := f.SetPageLayout(SheetSummary, &excelize.PageLayoutOptions{Orientation: strPtr("landscape"), FitToWidth: intPtr(1), FitToHeight: intPtr(0)}); err != nil {
		return err
	}
	return f.SetSheetProps(SheetSummary, &excelize.SheetPropsOptions{FitToPage: boolPtr(true)})
}

// Chart axes: dark labels (the default is a faint grey) and counts from zero.
var (
	axisFont = excelize.Font{Color: "404040", Size: 9}
	zero     = 0.0
)

func strPtr(s string) *string { return &s }
func intPtr(n int) *int       { return &n }
func boolPtr(v bool) *bool    { return &v }

func timeIf(t time.Time, ok bool) any {
	if !ok {
		return "not set"
	}
	return t
}

type caseFacts struct {
	accounts     []string
	first, last  any
	files        map[string]int64 // evidence files by status, and retriedStatus
	events       int64
	users, roles int64
	keyAges      []struct {
		bucket string
		keys   int64
	}
	days []struct {
		day          time.Time
		events, root int64
	}
}

func (b *book) caseFacts(ctx context.Context) (*caseFacts, error) {
	db := b.r.db
	c := &caseFacts{files: map[string]int64{}}
	rows, err := queryRows(ctx, db, `
select distinct a from (
  select recipient_account_id as a from events
  union select account_id from evidence_files
  union select account_id from credential_reports
  union select account_id from iam_users union select account_id from iam_roles
) where a is not null and a <> '' order by a`)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	for _, r := range rows {
		c.accounts = append(c.accounts, text(r[0]))
	}
	var first, last, zero time.Time
	_ = zero
	err = db.QueryRowContext(ctx, `
select coalesce(least((select min(event_time) from events), (select min(first_event) from evidence_files), (select min(generated_at) from credential_reports)), 'epoch'::timestamptz),
       coalesce(greatest((select max(event_time) from events), (select max(last_event) from evidence_files), (select max(generated_at) from credential_reports)), 'epoch'::timestamptz),
       (select count(*) from events), (select count(*) from credential_report), (select count(*) from iam_roles)`).
		Scan(&first, &last, &c.events, &c.users, &c.roles)
	if err != nil {
		return nil, fmt.Errorf("evidence span: %w", err)
	}
	c.first, c.last = any("no evidence"), any("no evidence")
	if first.Unix() != 0 {
		c.first, c.last = first.UTC(), last.UTC()
	}
	// A file rejected by one run (out of memory, say) and loaded by a later
	// one is counted as loaded, and apart, not as rejected.
	rows, err = queryRows(ctx, db, `select case when status = 'rejected' and sha256 in
	           (select sha256 from evidence_files where status in ('loaded', 'partial')) then '`+retriedStatus+`' else status end as s,
	       count(*)
	from evidence_files group by s order by s`)
	if err != nil {
		return nil, fmt.Errorf("evidence files: %w", err)
	}
	for _, r := range rows {
		c.files[text(r[0])] = r[1].(int64)
	}
	rows, err = queryRows(ctx, db, `
with k as (
  select case when last_rotated is null then 6
              when d <= 30 then 1 when d <= 90 then 2 when d <= 180 then 3 when d <= 365 then 4 else 5 end as b
  from (select last_rotated, (epoch(`+accountAsOfSQL+`) - epoch(last_rotated)) / 86400 as d from access_keys k where active)
)
select b, count(*) from k group by b order by b`, b.r.AsOf)
	if err != nil {
		return nil, fmt.Errorf("key ages: %w", err)
	}
	names := []string{"", "0–30", "31–90", "91–180", "181–365", "over 365", "unknown"}
	counts := map[int32]int64{}
	for _, r := range rows {
		counts[r[0].(int32)] = r[1].(int64)
	}
	for i := 1; i <= 6; i++ {
		c.keyAges = append(c.keyAges, struct {
			bucket string
			keys   int64
		}{names[i], counts[int32(i)]})
	}
	rows, err = queryRows(ctx, db, `
select date '1970-01-01' + day_number::integer as day, n, root
from (
    -- the UTC day numbered from the epoch, where event_time::date takes ICU's
    -- calendar for every event (1.5 of report's 26 CPU s at 10M events)
    select epoch_us(event_time) // 86400000000 - (epoch_us(event_time) % 86400000000 < 0)::bigint as day_number, count(*) as n,
           count(*) filter (where identity_type = 'Root' or principal_arn like 'arn:%:iam::%:root') as root
    from events group by 1
)
order by 1`)
	if err != nil {
		return nil, fmt.Errorf("events per day: %w", err)
	}
	for _, r := range rows {
		d, _ := r[0].(time.Time)
		c.days = append(c.days, struct {
			day          time.Time
			events, root int64
		}{d.UTC(), r[1].(int64), r[2].(int64)})
	}
	return c, nil
}

// controlGroup is one row of the Summary's controls table: the accounts
// for which a control has one status for one reason.
type controlGroup struct {
	control, status, text string
}

// groupControls folds the per-account verdicts into rows: one per control
// when every account has the same verdict, else one per verdict.
func groupControls(cs []ControlStatus, accounts int) []controlGroup {
	var out []controlGroup
	type key struct{ control, status, why string }
	var order []key
	members := map[key][]string{}
	for _, c := range cs {
		why := "checked by " + strings.Join(c.Rules, ", ")
		switch c.Status {
		case ControlFail:
			why = "failing: " + strings.Join(c.FailingRules, ", ")
		case ControlNotAssessed:
			why = c.MissingText()
		}
		k := key{c.Control, c.Status, why}
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = append(members[k], c.AccountID)
	}
	for _, k := range order {
		who := "all accounts (" + strings.Join(members[k], ", ") + ")"
		if len(members[k]) < accounts {
			who = strings.Join(members[k], ", ")
		} else if accounts == 1 {
			who = members[k][0]
		}
		text := who
		if k.why != "" {
			text += ": " + k.why
		}
		out = append(out, controlGroup{control: k.control, status: k.status, text: text})
	}
	return out
}

// naturalLess orders "CIS 1.4" before "CIS 1.10" and "IAM.9" before "IAM.10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			na, _ := strconv.Atoi(da)
			nb, _ := strconv.Atoi(db)
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// splitList reads a list written as a DuckDB list, a JSON array or commas.
func splitList(s string) []string {
	s = strings.Trim(strings.TrimSpace(s), "[]")
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.Trim(strings.TrimSpace(p), `"'`)
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// retriedStatus counts the evidence rows of files rejected by one run and
// loaded by a later one.
const retriedStatus = "rejected, then loaded by a later run"
