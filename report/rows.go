// Package report turns a case into what people and machines read: the
// workbook, JSON lines and CSV, and tables in the terminal.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// Row formats accepted by WriteRows.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json" // one JSON object per line
)

// maxTableCell bounds a cell in terminal tables; CSV and JSON are never cut.
const maxTableCell = 80

// tableBlock is how many rows of a table share their column widths.
const tableBlock = 1000

// RowSource is a result the writers read row by row: a *sql.Rows, or a
// timeline read a page at a time (queries.TimelineRows).
type RowSource interface {
	Columns() ([]string, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// WriteRows writes the result of an ad-hoc query in the given format.
func WriteRows(w io.Writer, rows RowSource, format string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var emit func([]any) error
	var finish func() error
	switch format {
	case FormatTable, "":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		header := make([]string, len(cols))
		for i, c := range cols {
			header[i] = TerminalText(strings.Join(strings.Fields(c), " "), maxTableCell)
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		cut, n := 0, 0
		emit = func(vals []any) error {
			cells := make([]string, len(vals))
			for i, v := range vals {
				var wasCut bool
				cells[i], wasCut = tableCell(v)
				if wasCut {
					cut++
				}
			}
			if _, err := fmt.Fprintln(tw, strings.Join(cells, "\t")); err != nil {
				return err
			}
			// tabwriter holds every line until a flush to size the columns:
			// the timeline of a busy role (millions of events) took 2.2 GiB.
			// Columns are sized per block of tableBlock rows instead.
			if n++; n%tableBlock == 0 {
				return tw.Flush()
			}
			return nil
		}
		finish = func() error {
			if err := tw.Flush(); err != nil {
				return err
			}
			if cut > 0 {
				_, err := fmt.Fprintf(w, "%d cell(s) were cut to %d characters (ending in …); use --format csv or json for full values\n", cut, maxTableCell)
				return err
			}
			return nil
		}
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(cols); err != nil {
			return err
		}
		emit = func(vals []any) error {
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = SafeCSVCell(text(v))
			}
			return cw.Write(cells)
		}
		finish = func() error { cw.Flush(); return cw.Error() }
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		emit = func(vals []any) error {
			obj := make(map[string]any, len(vals))
			for i, v := range vals {
				obj[cols[i]] = jsonValue(v)
			}
			return enc.Encode(obj)
		}
		finish = func() error { return nil }
	default:
		return fmt.Errorf("unknown format %q (table, csv or json)", format)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := emit(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return finish()
}

// text renders a value the way a person reads it.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case fmt.Stringer:
		return x.String()
	case map[string]any, []any, map[any]any:
		b, err := json.Marshal(jsonValue(x))
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

// tableCell is a value as one line of at most maxTableCell characters, and
// whether it was cut to fit.
func tableCell(v any) (string, bool) {
	if v == nil {
		return "NULL", false
	}
	s := strings.Join(strings.Fields(text(v)), " ")
	return TerminalText(s, maxTableCell), utf8.RuneCountInString(s) > maxTableCell
}

// jsonValue converts DuckDB values into ones encoding/json can write.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = jsonValue(val)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[k] = jsonValue(val)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = jsonValue(val)
		}
		return out
	default:
		return v
	}
}

// SafeCSVCell neutralises a cell a spreadsheet would run as a formula
// (OWASP CSV injection: leading =, +, -, @, tab or carriage return).
func SafeCSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
