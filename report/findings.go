package report

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Severities from the most to the least severe; findings sort in this order.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// SeverityRank is 0 for critical up to 4 for info, and -1 for an unknown name.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if strings.EqualFold(s, v) {
			return i
		}
	}
	return -1
}

// Baseline statuses of a finding compared with an earlier run.
const (
	StatusNew       = "new"
	StatusUnchanged = "unchanged"
	StatusResolved  = "resolved"
)

// Finding is one row of the findings table, as written to JSON lines and
// read back as a baseline.
type Finding struct {
	FindingID    string          `json:"finding_id"`
	RuleID       string          `json:"rule_id"`
	Severity     string          `json:"severity"`
	AccountID    string          `json:"account_id,omitempty"`
	PrincipalARN string          `json:"principal_arn,omitempty"`
	Resource     string          `json:"resource,omitempty"`
	Title        string          `json:"title"`
	Detail       string          `json:"detail,omitempty"`
	Evidence     json.RawMessage `json:"evidence,omitempty"`
	FirstSeen    *time.Time      `json:"first_seen,omitempty"`
	LastSeen     *time.Time      `json:"last_seen,omitempty"`
	EventCount   *int64          `json:"event_count,omitempty"`
	// Status is new, unchanged or resolved when a baseline was given.
	Status string `json:"status,omitempty"`
	// Suppressed names the accepted-risk entry that hides the finding from --fail-on.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// subject is what a rule + subject suppression matches.
func (f *Finding) matchesSubject(s string) bool {
	return s != "" && (s == f.PrincipalARN || s == f.Resource || s == f.AccountID)
}

// loadFindings reads the findings table in report order.
func loadFindings(ctx context.Context, db *sql.DB) ([]Finding, error) {
	rows, err := db.QueryContext(ctx, `
select finding_id, rule_id, lower(severity), coalesce(account_id, ''), coalesce(principal_arn, ''),
       coalesce(resource, ''), title, coalesce(detail, ''), evidence::varchar, first_seen, last_seen, event_count
from findings
order by case lower(severity) when 'critical' then 0 when 'high' then 1 when 'medium' then 2 when 'low' then 3 when 'info' then 4 else 5 end,
         rule_id, account_id nulls first, principal_arn nulls first, resource nulls first, finding_id`)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var evidence sql.NullString
		var first, last sql.NullTime
		var count sql.NullInt64
		if err := rows.Scan(&f.FindingID, &f.RuleID, &f.Severity, &f.AccountID, &f.PrincipalARN, &f.Resource,
			&f.Title, &f.Detail, &evidence, &first, &last, &count); err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		if evidence.Valid && evidence.String != "" {
			var buf bytes.Buffer
			if json.Compact(&buf, []byte(evidence.String)) == nil {
				f.Evidence = buf.Bytes()
			}
		}
		if first.Valid {
			t := first.Time.UTC()
			f.FirstSeen = &t
		}
		if last.Valid {
			t := last.Time.UTC()
			f.LastSeen = &t
		}
		if count.Valid {
			n := count.Int64
			f.EventCount = &n
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	return out, nil
}

// ReadFindingsJSONL reads findings written by WriteFindings in the jsonl
// format. Findings marked resolved are skipped: they were not present in
// that run.
func ReadFindingsJSONL(r io.Reader) ([]Finding, error) {
	var out []Finding
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var f Finding
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if f.FindingID == "" {
			return nil, fmt.Errorf("line %d: no finding_id", line)
		}
		if f.Status == StatusResolved {
			continue
		}
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// ReadBaseline reads a findings JSON lines file of an earlier run.
func ReadBaseline(path string) ([]Finding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer f.Close()
	out, err := ReadFindingsJSONL(f)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return out, nil
}

// compareBaseline marks each finding new or unchanged and returns the
// baseline findings that are gone, marked resolved, in report order.
func compareBaseline(findings []Finding, baseline []Finding) []Finding {
	seen := make(map[string]bool, len(findings))
	for _, f := range findings {
		seen[f.FindingID] = true
	}
	before := make(map[string]bool, len(baseline))
	var resolved []Finding
	for _, b := range baseline {
		before[b.FindingID] = true
		if !seen[b.FindingID] {
			b.Status = StatusResolved
			b.Suppressed = nil
			resolved = append(resolved, b)
		}
	}
	for i := range findings {
		if before[findings[i].FindingID] {
			findings[i].Status = StatusUnchanged
		} else {
			findings[i].Status = StatusNew
		}
	}
	sort.SliceStable(resolved, func(i, j int) bool {
		a, b := resolved[i], resolved[j]
		if ra, rb := SeverityRank(a.Severity), SeverityRank(b.Severity); ra != rb {
			return uint(ra) < uint(rb) // unknown severities (-1) last
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.FindingID < b.FindingID
	})
	return resolved
}
