package report

import (
	"context"
	"slices"
	"strings"
)

// SheetIncident holds the incident findings (those of rules with MITRE
// ATT&CK techniques) grouped by tactic, in the order an intrusion unfolds,
// and in time order within each tactic.
const SheetIncident = "Incident by Tactic"

// tacticOrder is the ATT&CK Enterprise tactics in kill-chain order.
var tacticOrder = []string{
	"Reconnaissance", "Resource Development", "Initial Access", "Execution", "Persistence", "Privilege Escalation",
	"Defense Evasion", "Credential Access", "Discovery", "Lateral Movement", "Collection", "Command and Control",
	"Exfiltration", "Impact",
}

// incidentRow is one incident finding under its rule's first tactic.
type incidentRow struct {
	tactic     string
	techniques string
	f          *Finding
}

// incidentRows lists the findings of rules that name ATT&CK techniques,
// grouped by the first tactic the rule names (kill-chain order), then by
// first seen, severity and finding id.
func (r *Report) incidentRows() []incidentRow {
	attack := map[string]string{}
	for _, rule := range r.opts.Rules {
		attack[rule.ID] = rule.Attack
	}
	var rows []incidentRow
	for i := range r.Findings {
		f := &r.Findings[i]
		text := attack[f.RuleID]
		if text == "" {
			continue
		}
		// "Defense Evasion T1562.008, T1562.001; Persistence T1098": the tactic is the text before its first technique
		first, _, _ := strings.Cut(text, ";")
		tactic := strings.TrimSpace(first)
		if i := strings.Index(tactic, " T"); i > 0 {
			tactic = tactic[:i]
		}
		rows = append(rows, incidentRow{tactic: tactic, techniques: text, f: f})
	}
	rank := func(t string) int {
		if i := slices.Index(tacticOrder, t); i >= 0 {
			return i
		}
		return len(tacticOrder)
	}
	slices.SortStableFunc(rows, func(a, b incidentRow) int {
		if c := rank(a.tactic) - rank(b.tactic); c != 0 {
			return c
		}
		if c := strings.Compare(a.tactic, b.tactic); c != 0 {
			return c
		}
		if c := compareTimes(a.f, b.f); c != 0 {
			return c
		}
		if c := SeverityRank(a.f.Severity) - SeverityRank(b.f.Severity); c != 0 {
			return c
		}
		return strings.Compare(a.f.FindingID, b.f.FindingID)
	})
	return rows
}

// compareTimes orders findings by first seen, those without a time last.
func compareTimes(a, b *Finding) int {
	switch {
	case a.FirstSeen == nil && b.FirstSeen == nil:
		return 0
	case a.FirstSeen == nil:
		return 1
	case b.FirstSeen == nil:
		return -1
	}
	return a.FirstSeen.Compare(*b.FirstSeen)
}

func (b *book) writeIncident(ctx context.Context) error {
	r := b.r
	rows := r.incidentRows()
	i := 0
	return b.streamRows(ctx, table{
		sheet: SheetIncident,
		note:  "Incident findings (rules with MITRE ATT&CK techniques) grouped by tactic in the order an intrusion unfolds, oldest first within each tactic. Each finding is listed once, under its rule's first tactic; Finding links to its row on Findings.",
		columns: []column{
			{"Tactic", 18, kText}, {"First seen (UTC)", 20, kDateTime}, {"Severity", 10, kSeverity}, {"Rule", 28, kWrap},
			{"Title", 36, kWrap}, {"Principal", 36, kWrap}, {"Detail", 60, kWrap}, {"Events", 7, kInt},
			{"ATT&CK (tactic, technique)", 30, kWrap}, {"Finding", 34, kText},
		},
		link: func(row []any) (int, string) {
			if id, ok := row[9].(string); ok {
				if n, ok := b.findingRow[id]; ok {
					return 9, sheetRef(SheetFindings, n)
				}
			}
			return -1, ""
		},
	}, int64(len(rows)), int64(r.maxRows()), func(dst []any) (bool, error) {
		if i >= len(rows) {
			return false, nil
		}
		x := rows[i]
		i++
		f := x.f
		copy(dst, []any{x.tactic, timeOrNil(f.FirstSeen), f.Severity, f.RuleID, f.Title, nilIfEmpty(f.PrincipalARN), nilIfEmpty(f.Detail),
			int64OrNil(f.EventCount), x.techniques, f.FindingID})
		return true, nil
	})
}
