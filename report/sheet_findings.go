package report

import (
	"context"
	"encoding/json"
	"fmt"
)

// findingColumns: what a reader needs first, printed (findingPrintColumns,
// landscape, as wide as the page), and the rest on the right.
var findingColumns = []column{
	{"Severity", 10, kSeverity},
	{"Rule", 16, kWrap},
	{"Title", 30, kWrap},
	{"Principal", 32, kWrap},
	{"Resource", 24, kWrap},
	{"Detail", 56, kWrap},
	{"First seen (UTC)", 20, kDateTime},
	{"Events", 7, kInt},
	{"Proof", 15, kText},
	{"Last seen (UTC)", 20, kDateTime},
	{"Account", 14, kText},
	{"Baseline", 11, kText},
	{"Suppressed (reason)", 24, kWrap},
	{"Finding ID", 34, kText},
	{"Remediation", 50, kWrap},
	{"ATT&CK (tactic, technique)", 30, kWrap},
}

// findingPrintColumns are the leading columns of Findings a printout holds.
const findingPrintColumns = 9

// The indexes of Rule and of Proof, the link to the proving row.
const (
	findingRuleColumn  = 1
	findingProofColumn = 8
)

func (b *book) writeFindings(ctx context.Context) error {
	r := b.r
	note := "One row per finding, most severe first. Times are UTC. Proof links to the first row that proves the finding (Timeline for events, Credentials or Principals otherwise)."
	if len(r.Findings) == 0 {
		note = "No findings in this case. " + analyzedNote(r)
	}
	b.findingRow = map[string]int{}
	remediation, attack := map[string]string{}, map[string]string{}
	for _, rule := range r.opts.Rules {
		remediation[rule.ID] = rule.Remediation
		attack[rule.ID] = rule.Attack
	}
	// the Rule column as wide as the longest rule id, so none breaks mid-word
	columns := append([]column(nil), findingColumns...)
	for _, f := range r.Findings {
		columns[findingRuleColumn].width = max(columns[findingRuleColumn].width, min(float64(len(f.RuleID))+3, 46))
	}
	i := 0
	return b.streamRows(ctx, table{
		sheet:   SheetFindings,
		note:    note,
		columns: columns,
		print:   findingPrintColumns,
		link:    func([]any) (int, string) { return findingProofColumn, b.pendingLink },
	}, int64(len(r.Findings)), int64(r.maxRows()), func(dst []any) (bool, error) {
		if i >= len(r.Findings) {
			return false, nil
		}
		f := &r.Findings[i]
		i++
		suppressed := ""
		if f.Suppressed != nil {
			suppressed = f.Suppressed.Reason
			if f.Suppressed.Expires != "" {
				suppressed += " (until " + f.Suppressed.Expires + ")"
			}
		}
		proofText, loc := b.proofOf(f)
		vals := []any{f.Severity, f.RuleID, f.Title, nilIfEmpty(f.PrincipalARN), nilIfEmpty(f.Resource), nilIfEmpty(f.Detail),
			timeOrNil(f.FirstSeen), int64OrNil(f.EventCount), nilIfEmpty(proofText),
			timeOrNil(f.LastSeen), nilIfEmpty(f.AccountID), f.Status, nilIfEmpty(suppressed), f.FindingID, nilIfEmpty(remediation[f.RuleID]),
			nilIfEmpty(attack[f.RuleID])}
		copy(dst, vals)
		b.findingRow[f.FindingID] = i + 2
		b.pendingLink = loc
		return true, nil
	})
}

// proofOf names the first row proving a finding and its location.
func (b *book) proofOf(f *Finding) (string, string) {
	best := 0
	for _, s := range evidenceStrings(f.Evidence) {
		if row, ok := b.actorProof[s]; ok && (best == 0 || row < best) {
			best = row
		}
	}
	if best > 0 {
		return fmt.Sprintf("Actor Timeline row %d", best), sheetRef(SheetActorTimeline, best)
	}
	for _, s := range evidenceStrings(f.Evidence) {
		if row, ok := b.proof[s]; ok && (best == 0 || row < best) {
			best = row
		}
	}
	if best > 0 {
		return fmt.Sprintf("Timeline row %d", best), sheetRef(SheetTimeline, best)
	}
	for _, s := range append([]string{f.PrincipalARN, f.Resource}, evidenceStrings(f.Evidence)...) {
		if s == "" {
			continue
		}
		if row, ok := b.credentialRow[s]; ok {
			return fmt.Sprintf("Credentials row %d", row), sheetRef(SheetCredentials, row)
		}
		if row, ok := b.principalRow[s]; ok {
			return fmt.Sprintf("Principals row %d", row), sheetRef(SheetPrincipals, row)
		}
	}
	return "", ""
}

// evidenceStrings returns every string in a finding's evidence JSON, in
// order: event IDs, ARNs, report rows, whatever shape the rule wrote.
func evidenceStrings(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sortStrings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		}
	}
	walk(v)
	return out
}

func analyzedNote(r *Report) string {
	if !r.evidence {
		return "The case holds no evidence: no input file was loaded, so nothing could be analysed."
	}
	if len(r.params) == 0 {
		return "The case has not been analysed yet (no analysis parameters): run credtrail analyze, or credtrail run."
	}
	return "The analysis ran and found nothing."
}

func (b *book) writeSuppressed(ctx context.Context) error {
	r := b.r
	type line struct {
		status string
		use    *suppressionUse
		f      *Finding
	}
	var lines []line
	for i := range r.suppressions {
		u := &r.suppressions[i]
		n := 0
		for fi := range r.Findings {
			f := &r.Findings[fi]
			if !u.Expired && u.matches(f) {
				lines = append(lines, line{"suppressed", u, f})
				n++
			}
		}
		if n == 0 {
			status := "matched no finding"
			if u.Expired {
				status = "expired"
			}
			lines = append(lines, line{status, u, nil})
		}
	}
	i := 0
	return b.streamRows(ctx, table{
		sheet: SheetSuppressed,
		note:  fmt.Sprintf("Accepted risks from %s, as of %s UTC. Suppressed findings stay on Findings but do not count for --fail-on. Expired entries suppress nothing.", r.opts.SuppressionsPath, r.asOfText("2006-01-02 15:04")),
		columns: []column{
			{"Status", 18, kText}, {"Reason", 40, kWrap}, {"Expires", 12, kDate},
			{"Entry: finding ID", 22, kText}, {"Entry: rule", 26, kText}, {"Entry: subject", 40, kText},
			{"Severity", 11, kSeverity}, {"Title", 44, kWrap}, {"Principal", 44, kText}, {"Resource", 36, kText}, {"Finding", 22, kText},
		},
		link: func(row []any) (int, string) {
			if id, ok := row[10].(string); ok {
				if n, ok := b.findingRow[id]; ok {
					return 10, sheetRef(SheetFindings, n)
				}
			}
			return -1, ""
		},
	}, int64(len(lines)), int64(r.maxRows()), func(dst []any) (bool, error) {
		if i >= len(lines) {
			return false, nil
		}
		l := lines[i]
		i++
		var expires any
		if l.use.Expires != "" {
			expires, _ = parseTime(l.use.Expires)
		}
		vals := []any{l.status, l.use.Reason, expires, nilIfEmpty(l.use.FindingID), nilIfEmpty(l.use.RuleID), nilIfEmpty(l.use.Subject),
			nil, nil, nil, nil, nil}
		if l.f != nil {
			vals[6], vals[7], vals[8], vals[9], vals[10] = l.f.Severity, l.f.Title, nilIfEmpty(l.f.PrincipalARN), nilIfEmpty(l.f.Resource), l.f.FindingID
		}
		copy(dst, vals)
		return true, nil
	})
}

func (b *book) writeResolved(ctx context.Context) error {
	r := b.r
	i := 0
	note := fmt.Sprintf("Findings of the baseline %s that this run no longer finds.", r.opts.BaselinePath)
	if len(r.Resolved) == 0 {
		note += " None."
	}
	return b.streamRows(ctx, table{
		sheet: SheetResolved,
		note:  note,
		columns: []column{
			{"Severity", 11, kSeverity}, {"Rule", 28, kText}, {"Title", 44, kWrap}, {"Account", 14, kText},
			{"Principal", 44, kText}, {"Resource", 36, kText}, {"First seen (UTC)", 20, kDateTime}, {"Last seen (UTC)", 20, kDateTime}, {"Finding ID", 22, kText},
		},
	}, int64(len(r.Resolved)), int64(r.maxRows()), func(dst []any) (bool, error) {
		if i >= len(r.Resolved) {
			return false, nil
		}
		f := &r.Resolved[i]
		i++
		copy(dst, []any{f.Severity, f.RuleID, f.Title, nilIfEmpty(f.AccountID), nilIfEmpty(f.PrincipalARN), nilIfEmpty(f.Resource),
			timeOrNil(f.FirstSeen), timeOrNil(f.LastSeen), f.FindingID})
		return true, nil
	})
}
