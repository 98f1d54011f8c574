package report

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// SheetEvents is the timeline workbook's sheet of events.
const SheetEvents = "Events"

// timelineColumns are the columns of a timeline's rows (queries.Timeline
// Rows, full form), by name, as the Events sheet shows them.
var timelineColumns = map[string]column{
	"event_time": {"Time (UTC)", 20, kDateTime}, "event_id": {"Event ID", 38, kText}, "account_id": {"Account", 14, kText},
	"event_source": {"Event source", 24, kText}, "event_name": {"Event", 26, kText}, "iam_action": {"IAM action", 30, kText},
	"aws_region": {"Region", 13, kText}, "source_ip": {"Source IP", 16, kText}, "user_agent": {"User agent", 40, kText},
	"error_code": {"Error code", 20, kText}, "principal_arn": {"Principal", 44, kText}, "identity_arn": {"Identity", 50, kText},
	"access_key_id": {"Access key", 22, kText}, "hop": {"Hop", 6, kInt}, "via_key": {"Via key", 22, kText},
	"via_call": {"Via call", 18, kText}, "via_event_id": {"Via event", 38, kText}, "request_parameters": {"Request parameters", 60, kText},
	"playbook": {"Playbook group", 16, kText}, "evidence_file": {"Evidence file", 48, kText}, "record_index": {"Record", 8, kInt},
}

// timelineFacts is the actor at a glance, gathered from its events as they
// are written.
type timelineFacts struct {
	events, errors int64
	first, last    time.Time
	lists          map[string]map[string]*timelineCount // list name → value → counts
	hours          map[time.Time]int64
}

type timelineCount struct {
	events, errors int64
	first, last    time.Time
	via            string
}

// timelineLists are the Summary's lists: the column each counts.
var timelineLists = []struct{ title, column string }{
	{"Access keys (and how each was reached)", "access_key_id"},
	{"Source addresses", "source_ip"},
	{"User agents", "user_agent"},
	{"Regions", "aws_region"},
	{"Services", "event_source"},
	{"Credential-compromise playbook calls", "playbook"},
}

func (t *timelineFacts) add(col map[string]int, vals []any) {
	at, _ := vals[col["event_time"]].(time.Time)
	failed := vals[col["error_code"]] != nil
	t.events++
	if failed {
		t.errors++
	}
	if t.first.IsZero() || at.Before(t.first) {
		t.first = at
	}
	if at.After(t.last) {
		t.last = at
	}
	t.hours[at.UTC().Truncate(time.Hour)]++
	for _, l := range timelineLists {
		value := text(vals[col[l.column]])
		if l.column == "playbook" {
			if value == "" {
				continue
			}
			value = strings.ReplaceAll(value, "_", " ") + ": " + text(vals[col["iam_action"]])
		}
		m := t.lists[l.column]
		c := m[value]
		if c == nil {
			c = &timelineCount{first: at}
			m[value] = c
			if l.column == "access_key_id" {
				if hop := text(vals[col["hop"]]); hop != "0" {
					c.via = fmt.Sprintf("hop %s: minted by %s with %s", hop, text(vals[col["via_key"]]), text(vals[col["via_call"]]))
				} else {
					c.via = "the actor's own"
				}
			}
		}
		c.events++
		if failed {
			c.errors++
		}
		if at.Before(c.first) {
			c.first = at
		}
		if at.After(c.last) {
			c.last = at
		}
	}
}

// WriteTimeline writes an actor's timeline as a workbook of its own: a
// Summary sheet (the actor at a glance and a chart of calls per hour) and
// an Events sheet with every event in time order, from rows (the full form
// of queries.Timeline's Rows). actor describes the filters; notes (leads,
// for instance) are listed under it.
func WriteTimeline(ctx context.Context, w io.Writer, actor string, notes []string, rows RowSource) error {
	t, col, err := timelineTable(rows, SheetEvents, "Every event of the actor in time order (UTC), with the credentials it minted; Hop 0 is the actor's own key.")
	if err != nil {
		return err
	}
	names := make([]string, len(col))
	f := excelize.NewFile()
	defer f.Close()
	b := &book{r: &Report{}, f: f, proof: map[string]int{}}
	if err := b.newStyles(); err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return err
	}
	if _, err := f.NewSheet(SheetEvents); err != nil {
		return err
	}
	facts := &timelineFacts{lists: map[string]map[string]*timelineCount{}, hours: map[time.Time]int64{}}
	for _, l := range timelineLists {
		facts.lists[l.column] = map[string]*timelineCount{}
	}
	limit := int64(ExcelMaxRows - 3)
	var read int64
	err = b.streamRows(ctx, t, -1, limit, func(dst []any) (bool, error) {
		if !rows.Next() {
			return false, rows.Err()
		}
		if err := scanInto(rows, dst); err != nil {
			return false, err
		}
		read++
		facts.add(col, dst)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("sheet %s: %w", SheetEvents, err)
	}
	// Rows past the sheet's limit still count in the summary.
	vals := make([]any, len(names))
	for rows.Next() {
		if err := scanInto(rows, vals); err != nil {
			return err
		}
		facts.add(col, vals)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := b.writeTimelineSummary(actor, notes, facts, limit); err != nil {
		return fmt.Errorf("sheet %s: %w", SheetSummary, err)
	}
	f.SetActiveSheet(0)
	at := facts.last.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Title: "credtrail timeline", Subject: actor, Creator: "credtrail",
		Created: at, Modified: at, Language: "en-US", Category: "Audit evidence"}); err != nil {
		return err
	}
	return writeNormalised(f, w)
}

// timelineTable is the table of a timeline's rows, and its columns by name.
func timelineTable(rows RowSource, sheet, note string) (table, map[string]int, error) {
	names, err := rows.Columns()
	if err != nil {
		return table{}, nil, err
	}
	col := map[string]int{}
	t := table{sheet: sheet, note: note}
	for i, n := range names {
		c, ok := timelineColumns[n]
		if !ok {
			return table{}, nil, fmt.Errorf("timeline: unknown column %q", n)
		}
		col[n] = i
		t.columns = append(t.columns, c)
	}
	for _, need := range []string{"event_time", "event_id", "error_code", "iam_action", "hop", "via_key", "via_call"} {
		if _, ok := col[need]; !ok {
			return table{}, nil, fmt.Errorf("timeline: no column %s", need)
		}
	}
	return t, col, nil
}

// writeActorTimeline writes the case workbook's Actor Timeline sheet and
// notes the row of each event, for the Proof links of Findings.
func (b *book) writeActorTimeline(ctx context.Context) error {
	at := b.r.opts.ActorTimeline
	rows, err := at.Rows(ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	note := "Every event of " + at.Actor + " in time order (UTC), with the credentials it minted (Hop, Via key, Via call); Proof links of findings whose events are here lead here."
	if len(at.Notes) > 0 {
		note += " " + strings.Join(at.Notes, " ")
	}
	t, col, err := timelineTable(rows, SheetActorTimeline, note)
	if err != nil {
		return err
	}
	t.onRow = func(row []any, sheetRow int) {
		if id, ok := row[col["event_id"]].(string); ok {
			if _, seen := b.actorProof[id]; !seen {
				b.actorProof[id] = sheetRow
			}
		}
	}
	return b.streamRows(ctx, t, -1, int64(b.r.maxRows()), nextRow(rows))
}

func (b *book) writeTimelineSummary(actor string, notes []string, facts *timelineFacts, limit int64) error {
	s := &summary{b: b, row: 1}
	if err := b.f.SetSheetProps(SheetSummary, &excelize.SheetPropsOptions{FitToPage: boolPtr(true)}); err != nil {
		return err
	}
	if err := b.f.SetPageLayout(SheetSummary, &excelize.PageLayoutOptions{Orientation: strPtr("landscape"), FitToWidth: intPtr(1), FitToHeight: intPtr(0)}); err != nil {
		return err
	}
	for _, w := range []struct {
		from, to string
		width    float64
	}{{"A", "A", 50}, {"B", "B", 19}, {"C", "C", 10}, {"D", "E", 19}, {"F", "F", 44}} {
		if err := b.f.SetColWidth(SheetSummary, w.from, w.to, w.width); err != nil {
			return err
		}
	}
	s.set(1, s.row, "Timeline of "+actor, b.style.title)
	s.row += 2
	if facts.events == 0 {
		s.set(1, s.row, "No events of this actor in the case.", b.style.note)
		return s.err
	}
	s.line("Events", facts.events)
	s.line("Refused or failed", facts.errors)
	s.line("First seen (UTC)", facts.first)
	s.line("Last seen (UTC)", facts.last)
	if facts.events > limit {
		s.set(1, s.row, fmt.Sprintf("CUT: the Events sheet shows the first %d of %d events; every event is in credtrail timeline --format csv.", limit, facts.events), b.style.cutNote)
		s.row++
	}
	for _, n := range notes {
		s.set(1, s.row, n, b.style.text)
		s.row++
	}
	for _, l := range timelineLists {
		m := facts.lists[l.column]
		if len(m) == 0 {
			continue
		}
		s.title(l.title)
		cols := []string{"Value", "Events", "Refused", "First seen (UTC)", "Last seen (UTC)"}
		if l.column == "access_key_id" {
			cols = append(cols, "Reached through")
		}
		s.header(cols...)
		values := make([]string, 0, len(m))
		for v := range m {
			values = append(values, v)
		}
		sort.Slice(values, func(i, j int) bool {
			a, c := m[values[i]], m[values[j]]
			if !a.first.Equal(c.first) {
				return a.first.Before(c.first)
			}
			return values[i] < values[j]
		})
		for _, v := range values {
			c := m[v]
			if v == "" {
				v = "(none)"
			}
			s.set(1, s.row, v, b.style.text)
			s.set(2, s.row, c.events, b.style.integer)
			s.set(3, s.row, c.errors, b.style.integer)
			s.set(4, s.row, c.first, b.style.dateTime)
			s.set(5, s.row, c.last, b.style.dateTime)
			if c.via != "" {
				s.set(6, s.row, c.via, b.style.text)
			}
			s.row++
		}
	}
	// Calls per hour, and their chart beside the facts.
	s.title("Calls per hour (UTC)")
	s.header("Hour", "Calls")
	s.set(1, s.row-2, "Calls per hour (UTC)", b.style.title)
	first := s.row
	hours := make([]time.Time, 0, len(facts.hours))
	for h := range facts.hours {
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	for _, h := range hours {
		s.set(1, s.row, h.Format("2006-01-02 15:00"), b.style.text)
		s.set(2, s.row, facts.hours[h], b.style.integer)
		s.row++
	}
	if s.err != nil {
		return s.err
	}
	zero := 0.0
	return b.f.AddChart(SheetSummary, fmt.Sprintf("D%d", first-1), &excelize.Chart{
		Type: excelize.Col,
		Series: []excelize.ChartSeries{{
			Name:       fmt.Sprintf("Summary!$B$%d", first-1),
			Categories: fmt.Sprintf("Summary!$A$%d:$A$%d", first, s.row-1),
			Values:     fmt.Sprintf("Summary!$B$%d:$B$%d", first, s.row-1),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"2E75B6"}},
		}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Calls per hour (UTC)"}}},
		Legend:    excelize.ChartLegend{Position: "none"},
		Dimension: excelize.ChartDimension{Width: 640, Height: 300},
		Format:    excelize.GraphicOptions{AltText: "Column chart: the actor's calls per hour", Name: "Calls per hour"},
		YAxis:     excelize.ChartAxis{Minimum: &zero, MajorGridLines: true},
	})
}
