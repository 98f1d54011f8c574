package report

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Sheet names, in the order an auditor reads them.
const (
	SheetSummary       = "Summary"
	SheetFindings      = "Findings"
	SheetSuppressed    = "Suppressed"
	SheetResolved      = "Resolved"
	SheetRootActivity  = "Root Activity"
	SheetCredentials   = "Credentials"
	SheetUnused        = "Unused Permissions"
	SheetPrincipals    = "Principals"
	SheetPolicies      = "Policies"
	SheetTimeline      = "Timeline"
	SheetActorTimeline = "Actor Timeline"
	SheetEvidence      = "Evidence"
	SheetMethod        = "Method"
)

// book is a workbook being written.
type book struct {
	r     *Report
	f     *excelize.File
	style styles
	// proof maps an event id to its row on the Timeline sheet, for links
	// from Findings; actorProof to its row on the Actor Timeline sheet.
	proof, actorProof map[string]int
	// Rows of the Findings, Credentials and Principals sheets by finding id or ARN.
	findingRow, credentialRow, principalRow map[string]int
	pendingLink                             string // the link of the Findings row being written
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func int64OrNil(n *int64) any {
	if n == nil {
		return nil
	}
	return *n
}

func sortStrings(s []string) { sort.Strings(s) }

type styles struct {
	title, note, cutNote, header, text, wrap, date, dateTime, integer, decimal, boolean, link, label, pass, fail int
	severity                                                                                                     map[string]int
}

// severityColours are the fill colours of each severity (text is white on
// the two darkest).
var severityColours = map[string]string{
	"critical": "7B1FA2",
	"high":     "C62828",
	"medium":   "EF6C00",
	"low":      "F9A825",
	"info":     "1565C0",
}

// WriteWorkbook writes the workbook to w. The same case and options give
// the same bytes.
func (r *Report) WriteWorkbook(ctx context.Context, w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	b := &book{r: r, f: f, proof: map[string]int{}, actorProof: map[string]int{}, findingRow: map[string]int{}, credentialRow: map[string]int{}, principalRow: map[string]int{}}
	if err := b.newStyles(); err != nil {
		return err
	}
	r.cut = nil
	sheets := []struct {
		name  string
		write func(context.Context) error
		when  bool
	}{
		{SheetSummary, nil, true}, // written last: it reports on the others
		{SheetFindings, b.writeFindings, true},
		{SheetIncident, b.writeIncident, len(r.incidentRows()) > 0},
		{SheetSuppressed, b.writeSuppressed, len(r.opts.Suppressions) > 0},
		{SheetResolved, b.writeResolved, r.opts.BaselinePath != ""},
		{SheetRootActivity, b.writeRootActivity, true},
		{SheetCredentials, b.writeCredentials, true},
		{SheetUnused, b.writeUnused, true},
		{SheetPrincipals, b.writePrincipals, true},
		{SheetPolicies, b.writePolicies, true},
		{SheetTimeline, b.writeTimeline, true},
		{SheetActorTimeline, b.writeActorTimeline, r.opts.ActorTimeline != nil},
		{SheetEvidence, b.writeEvidence, true},
		{SheetMethod, b.writeMethod, true},
	}
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return err
	}
	for _, s := range sheets[1:] {
		if !s.when {
			continue
		}
		if _, err := f.NewSheet(s.name); err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
	}
	// Sheets that Findings links into are written before it, and Findings
	// before the sheets that link to it; the tab order stays as above.
	first := map[string]int{SheetTimeline: 1, SheetActorTimeline: 1, SheetCredentials: 2, SheetPrincipals: 3, SheetFindings: 4}
	order := append(sheets[:0:0], sheets[1:]...)
	sort.SliceStable(order, func(i, j int) bool {
		a, c := first[order[i].name], first[order[j].name]
		if a == 0 {
			a = 99
		}
		if c == 0 {
			c = 99
		}
		return a < c
	})
	step, steps := 0, 2 // the sheets, then the Summary and saving the file
	for _, s := range order {
		if s.when {
			steps++
		}
	}
	progress := func(what string) {
		step++
		if r.opts.Progress != nil {
			r.opts.Progress(step, steps, what)
		}
	}
	for _, s := range order {
		if !s.when {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		progress("sheet " + s.name)
		if err := s.write(ctx); err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
	}
	progress("sheet " + SheetSummary)
	if err := b.writeSummary(ctx); err != nil {
		return fmt.Errorf("sheet %s: %w", SheetSummary, err)
	}
	f.SetActiveSheet(0)
	if err := b.setProperties(); err != nil {
		return err
	}
	progress("saving the workbook")
	return writeNormalised(f, w)
}

func (b *book) newStyles() error {
	f := b.f
	var err error
	mk := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	top := &excelize.Alignment{Vertical: "top"}
	b.style.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16, Color: "1F3864"}})
	b.style.note = mk(&excelize.Style{Font: &excelize.Font{Italic: true, Color: "595959"}})
	b.style.cutNote = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "9C0006"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}})
	b.style.header = mk(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F3864"}},
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true},
	})
	b.style.label = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: top})
	b.style.text = mk(&excelize.Style{Alignment: top, NumFmt: 49}) // "@": text
	b.style.wrap = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}, NumFmt: 49})
	dateFmt, dateTimeFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
	b.style.date = mk(&excelize.Style{Alignment: top, CustomNumFmt: &dateFmt})
	b.style.dateTime = mk(&excelize.Style{Alignment: top, CustomNumFmt: &dateTimeFmt})
	b.style.integer = mk(&excelize.Style{Alignment: top, NumFmt: 3}) // #,##0
	b.style.decimal = mk(&excelize.Style{Alignment: top, NumFmt: 4}) // #,##0.00
	b.style.boolean = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "center"}})
	b.style.link = mk(&excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}, Alignment: top})
	b.style.pass = mk(&excelize.Style{Font: &excelize.Font{Color: "006100", Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C6EFCE"}}, Alignment: top})
	b.style.fail = mk(&excelize.Style{Font: &excelize.Font{Color: "9C0006", Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}, Alignment: top})
	b.style.severity = map[string]int{}
	for _, s := range Severities {
		font := &excelize.Font{Bold: true, Color: "FFFFFF"}
		if s == "low" {
			font.Color = "000000"
		}
		b.style.severity[s] = mk(&excelize.Style{
			Font:      font,
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{severityColours[s]}},
			Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "center"},
		})
	}
	return err
}

// setProperties fills the document properties from the as-of time, so two
// runs of the same case carry the same ones.
func (b *book) setProperties() error {
	r := b.r
	asOf := r.AsOf
	if asOf.IsZero() { // no evidence: a fixed date keeps the bytes reproducible
		asOf = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	at := asOf.UTC().Format(time.RFC3339)
	if err := b.f.SetDocProps(&excelize.DocProperties{
		Title:          "credtrail case report",
		Subject:        "AWS identity and access evidence analysis",
		Creator:        "credtrail " + r.opts.Version,
		LastModifiedBy: "credtrail " + r.opts.Version,
		Description:    fmt.Sprintf("Findings and evidence of an AWS identity and access case as of %s (UTC).", at),
		Keywords:       "AWS, IAM, CloudTrail, credential report, audit",
		Category:       "Audit evidence",
		Created:        at,
		Modified:       at,
		Version:        r.opts.Version,
		Language:       "en-US",
	}); err != nil {
		return fmt.Errorf("document properties: %w", err)
	}
	return b.f.SetAppProps(&excelize.AppProperties{Application: "credtrail", Company: ""})
}

// kind says how a column's values are written.
type kind int

const (
	kText     kind = iota // a text cell, whatever it looks like (never a formula)
	kWrap                 // text, wrapped
	kDate                 // a date (UTC)
	kDateTime             // a date and time (UTC)
	kInt                  // a whole number
	kFloat                // a number
	kBool                 // yes / no
	kSeverity             // text coloured by severity
)

type column struct {
	header string
	width  float64
	kind   kind
}

// table is one data sheet: a note row, a header row, then one row per
// result row of query.
type table struct {
	sheet   string
	note    string
	columns []column
	// print, when set, is how many leading columns a printout holds (the
	// print area); 0: every column.
	print int
	query string
	args  []any
	// link, when set, returns a hyperlink location for a cell of the row
	// (column index and location such as 'Timeline'!A12), or col -1 for none.
	link func(row []any) (col int, location string)
	// onRow is called with each row written and its sheet row number.
	onRow func(row []any, sheetRow int)
}

// cellValue converts a scanned value into what the stream writer should write.
func (b *book) cellValue(v any, k kind) excelize.Cell {
	switch k {
	case kDate, kDateTime:
		style := b.style.dateTime
		if k == kDate {
			style = b.style.date
		}
		switch t := v.(type) {
		case time.Time:
			return excelize.Cell{StyleID: style, Value: t.UTC()}
		case nil:
			return excelize.Cell{StyleID: style}
		}
	case kInt, kFloat:
		style := b.style.integer
		if k == kFloat {
			style = b.style.decimal
		}
		switch n := v.(type) {
		case nil:
			return excelize.Cell{StyleID: style}
		case int, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64:
			return excelize.Cell{StyleID: style, Value: n}
		default: // HUGEINT, DECIMAL and the like arrive as *big.Int or a Stringer
			if x, err := strconv.ParseFloat(text(n), 64); err == nil {
				return excelize.Cell{StyleID: style, Value: x}
			}
		}
	case kBool:
		switch x := v.(type) {
		case bool:
			return excelize.Cell{StyleID: b.style.boolean, Value: yesNo(x)}
		case nil:
			return excelize.Cell{StyleID: b.style.boolean}
		}
	case kSeverity:
		s := text(v)
		if id, ok := b.style.severity[s]; ok {
			return excelize.Cell{StyleID: id, Value: s}
		}
	case kWrap:
		if v == nil {
			return excelize.Cell{StyleID: b.style.wrap}
		}
		return excelize.Cell{StyleID: b.style.wrap, Value: cellText(text(v))}
	}
	if v == nil {
		return excelize.Cell{StyleID: b.style.text}
	}
	return excelize.Cell{StyleID: b.style.text, Value: cellText(text(v))}
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// cellText keeps text within Excel's 32,767 characters a cell holds.
func cellText(s string) string {
	const max = excelize.TotalCellChars
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max/2 { // UTF-16 units: at most two per rune
		return s
	}
	return string(r[:max/2-1]) + "…"
}

// writeTable streams a table sheet, cutting it at the row limit with a note.
func (b *book) writeTable(ctx context.Context, t table) error {
	var total int64
	if err := b.r.db.QueryRowContext(ctx, "select count(*) from ("+t.query+")", t.args...).Scan(&total); err != nil {
		return fmt.Errorf("count rows: %w", err)
	}
	limit := int64(b.r.maxRows())
	rows, err := b.r.db.QueryContext(ctx, t.query, t.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return b.streamRows(ctx, t, total, limit, nextRow(rows))
}

// nextRow is a source for streamRows: it scans the next of rows into dst.
func nextRow(rows RowSource) func(dst []any) (bool, error) {
	return func(dst []any) (bool, error) {
		if !rows.Next() {
			return false, rows.Err()
		}
		return true, scanInto(rows, dst)
	}
}

// scanInto scans the current row into dst, a column per element.
func scanInto(rows RowSource, dst []any) error {
	ptrs := make([]any, len(dst))
	for i := range dst {
		ptrs[i] = &dst[i]
	}
	return rows.Scan(ptrs...)
}

// streamRows writes a table sheet from next, which fills a row and reports
// whether there was one.
func (b *book) streamRows(ctx context.Context, t table, total, limit int64, next func([]any) (bool, error)) error {
	// Printed (or converted to PDF): landscape, as wide as the page, header rows on every page.
	if err := b.f.SetSheetProps(t.sheet, &excelize.SheetPropsOptions{FitToPage: boolPtr(true)}); err != nil {
		return err
	}
	if err := b.f.SetPageLayout(t.sheet, &excelize.PageLayoutOptions{Orientation: strPtr("landscape"), FitToWidth: intPtr(1), FitToHeight: intPtr(0)}); err != nil {
		return err
	}
	if err := b.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$1:$2", t.sheet), Scope: t.sheet}); err != nil {
		return err
	}
	if t.print > 0 && t.print < len(t.columns) {
		last, err := excelize.ColumnNumberToName(t.print)
		if err != nil {
			return err
		}
		if err := b.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Area", RefersTo: fmt.Sprintf("'%s'!$A:$%s", t.sheet, last), Scope: t.sheet}); err != nil {
			return err
		}
	}
	sw, err := b.f.NewStreamWriter(t.sheet)
	if err != nil {
		return err
	}
	for i, c := range t.columns {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	cut := total > limit
	note, noteStyle := t.note, b.style.note
	if cut {
		note = fmt.Sprintf("CUT: this sheet shows the first %d of %d rows (a worksheet holds %d). Every row is in the JSON lines output: credtrail report CASE.duckdb --format jsonl --tables -o DIR. %s",
			limit, total, ExcelMaxRows, t.note)
		noteStyle = b.style.cutNote
		b.r.cut = append(b.r.cut, fmt.Sprintf("%s: first %d of %d rows", t.sheet, limit, total))
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: noteStyle, Value: note}}); err != nil {
		return err
	}
	header := make([]any, len(t.columns))
	for i, c := range t.columns {
		header[i] = excelize.Cell{StyleID: b.style.header, Value: c.header}
	}
	if err := sw.SetRow("A2", header, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	type link struct {
		cell, location string
	}
	var links []link
	vals := make([]any, len(t.columns))
	cells := make([]any, len(t.columns))
	row := 3
	var written int64
	for {
		ok, err := next(vals)
		if err != nil {
			return err
		}
		if !ok || written >= limit {
			break
		}
		if written%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for i, c := range t.columns {
			cells[i] = b.cellValue(vals[i], c.kind)
		}
		if t.link != nil && len(links) < excelize.TotalSheetHyperlinks-1 {
			if col, loc := t.link(vals); col >= 0 && loc != "" {
				cell, _ := excelize.CoordinatesToCellName(col+1, row)
				links = append(links, link{cell, loc})
				cv := cells[col].(excelize.Cell)
				cv.StyleID = b.style.link
				cells[col] = cv
			}
		}
		if t.onRow != nil {
			t.onRow(vals, row)
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		var opts []excelize.RowOpts
		if h := rowHeight(t.columns, vals); h > 0 {
			opts = append(opts, excelize.RowOpts{Height: h})
		}
		if err := sw.SetRow(cell, cells, opts...); err != nil {
			return err
		}
		row++
		written++
	}
	if cut {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := sw.SetRow(cell, []any{excelize.Cell{StyleID: b.style.cutNote, Value: fmt.Sprintf("CUT here: %d more rows are in the JSON lines output (--format jsonl --tables).", total-written)}}); err != nil {
			return err
		}
	}
	last := row - 1
	if last < 2 {
		last = 2
	}
	lastCell, _ := excelize.CoordinatesToCellName(len(t.columns), last)
	if err := b.f.AutoFilter(t.sheet, "A2:"+lastCell, nil); err != nil {
		return err
	}
	for _, l := range links {
		if err := b.f.SetCellHyperLink(t.sheet, l.cell, l.location, "Location"); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// rowHeight estimates the height a row of wrapped text needs (neither Excel
// nor LibreOffice fits streamed rows on opening); 0 keeps the default.
func rowHeight(cols []column, vals []any) float64 {
	lines := 1
	for i, c := range cols {
		if c.kind != kWrap || vals[i] == nil {
			continue
		}
		// a little under one character per unit of width: lines break
		// between words, and a short estimate cuts the cell in print
		perLine := int(c.width * 0.95)
		if perLine < 1 {
			perLine = 1
		}
		n := 0
		for _, l := range strings.Split(text(vals[i]), "\n") {
			n += 1 + utf8.RuneCountInString(l)/perLine
		}
		if n > lines {
			lines = n
		}
	}
	if lines == 1 {
		return 0
	}
	return math.Min(15*float64(lines), 300)
}

// sheetRef is a location for an internal hyperlink.
func sheetRef(sheet string, row int) string {
	return fmt.Sprintf("'%s'!A%d", sheet, row)
}

// normaliseZip rewrites a saved workbook so that it does not depend on Go
// map order: excelize v2.11.1 writes the Default entries of
// [Content_Types].xml from a map, and the parts of streamed sheets in map
// order too. Entries are sorted by name ([Content_Types].xml first) and keep
// their (fixed) times; only the content-types part is rewritten.
func normaliseZip(data io.ReaderAt, size int64, w io.Writer) error {
	zr, err := zip.NewReader(data, size)
	if err != nil {
		return fmt.Errorf("reread workbook: %w", err)
	}
	entries := append([]*zip.File(nil), zr.File...)
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i].Name, entries[j].Name
		if (a == "[Content_Types].xml") != (b == "[Content_Types].xml") {
			return a == "[Content_Types].xml"
		}
		return a < b
	})
	zw := zip.NewWriter(w)
	for _, e := range entries {
		if e.Name != "[Content_Types].xml" {
			if err := zw.Copy(e); err != nil {
				return err
			}
			continue
		}
		rc, err := e.Open()
		if err != nil {
			return err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		hdr := e.FileHeader
		out, err := zw.CreateHeader(&hdr)
		if err != nil {
			return err
		}
		if _, err := out.Write(sortContentTypeDefaults(body)); err != nil {
			return err
		}
	}
	return zw.Close()
}

var defaultEntry = regexp.MustCompile(`<Default [^>]*(?:/>|></Default>)`)

// sortContentTypeDefaults sorts the Default elements by extension,
// keeping them where the first one was.
func sortContentTypeDefaults(body []byte) []byte {
	locs := defaultEntry.FindAllIndex(body, -1)
	if len(locs) < 2 {
		return body
	}
	type entry struct {
		ext  string
		text []byte
	}
	entries := make([]entry, len(locs))
	for i, l := range locs {
		el := body[l[0]:l[1]]
		var d struct {
			Extension string `xml:"Extension,attr"`
		}
		_ = xml.Unmarshal(el, &d)
		entries[i] = entry{d.Extension, el}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].ext < entries[j].ext })
	var out bytes.Buffer
	prev := 0
	for i, l := range locs {
		out.Write(body[prev:l[0]])
		out.Write(entries[i].text)
		prev = l[1]
	}
	out.Write(body[prev:])
	return out.Bytes()
}

// queryRows runs a query and returns all rows (for small tables).
func queryRows(ctx context.Context, db *sql.DB, q string, args ...any) ([][]any, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		if err := scanInto(rows, vals); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}
