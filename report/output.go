package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Machine formats of the findings (and tables).
const (
	FormatJSONL = "jsonl"
)

// WriteFindings writes the findings, then the resolved ones of the
// baseline (status resolved), as JSON lines or CSV.
func (r *Report) WriteFindings(w io.Writer, format string) error {
	all := append(append([]Finding(nil), r.Findings...), r.Resolved...)
	header := []string{"finding_id", "rule_id", "severity", "account_id", "principal_arn", "resource", "title", "detail",
		"evidence", "first_seen", "last_seen", "event_count", "status", "suppressed_reason", "suppressed_until"}
	return writeRecords(w, format, all, header, func(f *Finding) []string {
		var count, reason, until string
		if f.EventCount != nil {
			count = strconv.FormatInt(*f.EventCount, 10)
		}
		if f.Suppressed != nil {
			reason, until = f.Suppressed.Reason, f.Suppressed.Expires
		}
		return []string{f.FindingID, f.RuleID, f.Severity, f.AccountID, f.PrincipalARN, f.Resource, f.Title, f.Detail,
			string(f.Evidence), timeText(f.FirstSeen), timeText(f.LastSeen), count, f.Status, reason, until}
	})
}

// WriteControls writes the verdict on every control for every account
// (Controls), as JSON lines or CSV; lists are JSON arrays in CSV.
func (r *Report) WriteControls(w io.Writer, format string) error {
	header := []string{"control", "account_id", "status", "missing_inputs", "rules_not_assessed", "failing_rules", "rules"}
	list := func(l []string) string {
		b, _ := json.Marshal(l)
		return string(b)
	}
	return writeRecords(w, format, r.controls, header, func(c *ControlStatus) []string {
		return []string{c.Control, c.AccountID, c.Status, list(c.MissingInputs), list(c.RulesNotAssessed), list(c.FailingRules), list(c.Rules)}
	})
}

// writeRecords writes items as JSON lines, or as CSV: header, then the
// cells record gives for each item, each made safe for a spreadsheet.
func writeRecords[T any](w io.Writer, format string, items []T, header []string, record func(*T) []string) error {
	switch format {
	case FormatJSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for i := range items {
			if err := enc.Encode(&items[i]); err != nil {
				return err
			}
		}
		return nil
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		for i := range items {
			rec := record(&items[i])
			for j := range rec {
				rec[j] = SafeCSVCell(rec[j])
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	default:
		return fmt.Errorf("unknown format %q (jsonl or csv)", format)
	}
}

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// exportTables are the tables --tables writes besides the findings, each in a defined order.
var exportTables = []struct{ name, orderBy string }{
	{"evidence_files", "file_id"},
	{"events", "event_time, event_id, recipient_account_id"},
	{"insights", "event_time, event_id"},
	{"credential_report", "account_id, user_name, arn"},
	{"access_keys", "account_id, user_name, arn, slot"},
	{"iam_users", "arn"},
	{"iam_groups", "arn"},
	{"iam_roles", "arn"},
	{"iam_policies", "arn"},
	{"inline_policies", "policy_ref"},
	{"group_members", "user_arn, group_arn"},
	{"policy_attachments", "principal_arn, policy_ref, via_group_arn nulls first, is_boundary"},
	{"policy_statements", "policy_ref, statement_index"},
	{"role_trust", "role_arn, statement_index, principal_kind, principal_value"},
	{"password_policy", "account_id nulls first, file_id"},
	{"analysis_parameters", "name"},
	{"rule_coverage", "rule_id, account_id"},
	{"permission_usage", "account_id, principal_arn, level desc, service, pattern"},
	{"generated_policies", "principal_arn, incident_activity"},
	{"action_catalog", "service, action, file_id"},
}

// WriteTables writes the findings, the control verdicts (controls.jsonl)
// and the main tables into dir, one file each (findings.jsonl,
// events.jsonl, ...; or .csv), and returns the paths
// written. Tables are written by DuckDB's COPY, out of core: a case of
// millions of events exports with flat memory. Times are RFC 3339 UTC; in
// CSV, text a spreadsheet would run as a formula is neutralised.
func (r *Report) WriteTables(ctx context.Context, dir, format string) ([]string, error) {
	if format != FormatJSONL && format != FormatCSV {
		return nil, fmt.Errorf("unknown format %q (jsonl or csv)", format)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	path := filepath.Join(dir, "findings."+format)
	if err := WriteFileAtomic(path, func(w io.Writer) error { return r.WriteFindings(w, format) }); err != nil {
		return paths, err
	}
	paths = append(paths, path)
	path = filepath.Join(dir, "controls."+format)
	if err := WriteFileAtomic(path, func(w io.Writer) error { return r.WriteControls(w, format) }); err != nil {
		return paths, fmt.Errorf("%s: %w", path, err)
	}
	paths = append(paths, path)
	for _, t := range exportTables {
		if !r.tables[t.name] && t.name != "credential_report" && t.name != "access_keys" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return paths, err
		}
		path := filepath.Join(dir, t.name+"."+format)
		if err := r.copyTable(ctx, t.name, t.orderBy, path, format); err != nil {
			return paths, fmt.Errorf("%s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// copyTable writes one table with COPY into a temporary file renamed into place.
func (r *Report) copyTable(ctx context.Context, table, orderBy, path, format string) error {
	rows, err := queryRows(ctx, r.db, `select column_name, data_type from information_schema.columns
where table_schema = 'main' and table_name = ? order by ordinal_position`, table)
	if err != nil {
		return err
	}
	exprs := make([]string, len(rows))
	for i, row := range rows {
		name, typ := text(row[0]), strings.ToUpper(text(row[1]))
		col := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		switch {
		case strings.HasPrefix(typ, "TIMESTAMP"):
			exprs[i] = fmt.Sprintf(`strftime(%s, '%%Y-%%m-%%dT%%H:%%M:%%S.%%fZ') as %s`, col, col)
		case format == FormatCSV && !isNumeric(typ) && typ != "BOOLEAN" && typ != "DATE":
			// Text, JSON, lists and maps: as text, formula-like cells neutralised (OWASP).
			exprs[i] = fmt.Sprintf(neutraliseSQL, col)
		default:
			exprs[i] = col
		}
	}
	tmp, err := createTemp(filepath.Dir(path), tempPrefix(path))
	if err != nil {
		return outputError(path, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	options := "format json"
	if format == FormatCSV {
		options = "format csv, header true"
	}
	q := fmt.Sprintf("copy (select %s from %s order by %s) to '%s' (%s)",
		strings.Join(exprs, ", "), table, orderBy, strings.ReplaceAll(tmp.Name(), "'", "''"), options)
	if _, err := r.db.ExecContext(ctx, q); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// neutraliseSQL is SafeCSVCell in SQL, for a column %[1]s.
const neutraliseSQL = `case when left(%[1]s::varchar, 1) in ('=', '+', '-', '@', chr(9), chr(13)) then '''' || %[1]s::varchar else %[1]s::varchar end as %[1]s`

func isNumeric(typ string) bool {
	return strings.Contains(typ, "INT") || typ == "DOUBLE" || typ == "FLOAT" || typ == "REAL" || strings.HasPrefix(typ, "DECIMAL")
}

// WriteFileAtomic writes a file through a temporary one beside it, renamed
// into place; its errors name path. Temporary files a killed run left
// beside path are removed first.
func WriteFileAtomic(path string, fill func(io.Writer) error) error {
	tmp, err := createTemp(filepath.Dir(path), tempPrefix(path))
	if err != nil {
		return outputError(path, err)
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return outputError(path, err)
	}
	return nil
}

// WriteFile writes the workbook to path atomically.
func (r *Report) WriteFile(ctx context.Context, path string) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		if err := r.WriteWorkbook(ctx, w); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}
